import { checksum, nativeSha1, randomId } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import { replaceCacheFile } from './cache-file.js';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../paths.js';

let fingerprint: string | null = null;

/** The file in a state dir that remembers the fingerprint of the build whose files had a signature (with the read caches). */
const STORE = path.join('state-cache', 'build-fingerprint.json');

/**
 * A hash of the whole build: the package version and every file of the code this module was loaded from (codeRoot,
 * names and bytes), read once per process. Machine-local caches keyed by it are never used by another build: a
 * cache of decoded events by code that packs them otherwise, nor a stored `status` answer by code that derives
 * states otherwise, even of the same version. Hashing only the files thought relevant missed the rest (a build
 * with other status logic printed the old answer). The contents, not sizes and times alone: npm sets every file's
 * time to one fixed date.
 *
 * Hashing ~120 files costs ~18 ms a process. With a state dir, the hash is remembered there under the files'
 * signature (each one's name, size, modification and change times, inode): a file written again has a new change
 * time, whatever its contents and whatever time a tool set (npm, tar, touch cannot set the change time), so an
 * unchanged signature is an unchanged build, and costs one stat per file (~2 ms for the bundle's ~100 files).
 *
 * The bundle's entry (dist/bundle/main.cjs, which holds all of `status` and `sync`) signs itself alone, one stat:
 * the code it runs is in that one file, so caches it trusts under the remembered hash hold for it whatever else
 * changed, and the caches other commands wrote under that hash were written by the build it came with. A process
 * that hashes the contents remembers the hash under both signatures (every file's, and the entry's), so a chunk
 * edited in place is found by the next command run from the chunks, and the `status` after it takes its hash.
 */
export function buildFingerprint(stateDir?: string | null): string {
  if (fingerprint !== null) return fingerprint;
  const here = fileURLToPath(import.meta.url);
  const root = codeRoot(path.dirname(here));
  const kind: SignatureKind = path.basename(here) === 'main.cjs' ? 'entry' : 'all';
  // each file's name (relative to root) and its stat: one readdir per directory, one stat per file (plain numbers:
  // a bigint stat and path.relative per file cost ~5 times as much, and the times keep microseconds; Node 20's
  // recursive readdir costs ~2 ms more than this walk)
  let files: { name: string; st: fs.Stats }[] | null = null;
  const walk = (rel: string, into: { name: string; st: fs.Stats }[]) => {
    for (const name of fs.readdirSync(rel ? path.join(root, rel) : root).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.statSync(path.join(root, r));
      if (st.isDirectory()) walk(r, into);
      else if (st.isFile()) into.push({ name: r, st });
    }
    return into;
  };
  const sign = (k: SignatureKind, signed: { name: string; st: fs.Stats }[]) => {
    let text = `${packageVersion()}\0${root}\0${k}`;
    for (const { name, st } of signed) text += `\0${name}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}`;
    return checksum().update(text).digest();
  };
  const entry = path.join(root, 'main.cjs');
  const store = stateDir && !process.env.OMNI_SHIP_NO_CACHE ? path.join(stateDir, STORE) : null;
  if (store) {
    try {
      const signature = kind === 'entry' ? sign(kind, [{ name: 'main.cjs', st: fs.statSync(entry) }]) : sign(kind, (files = walk('', [])));
      const data = JSON.parse(fs.readFileSync(store, 'utf8')) as { fingerprint?: unknown; signatures?: Record<string, unknown> };
      if (typeof data?.fingerprint === 'string' && /^[0-9a-f]{40}$/.test(data.fingerprint) && data.signatures?.[kind] === signature) return (fingerprint = data.fingerprint);
    } catch {
      /* none yet, or unreadable: hash the contents */
    }
  }
  const hash = nativeSha1().update(packageVersion());
  try {
    files ??= walk('', []);
    for (const { name } of files) hash.update(`\0${name}\0`).update(fs.readFileSync(path.join(root, name)));
  } catch {
    // unreadable: never match, so never trust
    return (fingerprint = randomId());
  }
  fingerprint = hash.digest('hex');
  // remembered when a cache keyed by it is written (rememberBuildFingerprint): a command that writes nothing else
  // (a refusal) writes nothing
  if (store) {
    const main = files.find((f) => f.name === 'main.cjs');
    const signatures = { all: sign('all', files), ...(main ? { entry: sign('entry', [main]) } : {}) };
    pending = { store, text: JSON.stringify({ fingerprint, signatures }) };
  }
  return fingerprint;
}

/** What a signature covers: every file of the build, or the bundle's entry alone. */
type SignatureKind = 'entry' | 'all';

let pending: { store: string; text: string } | null = null;

/** Memos written with the first cache a command writes (rememberBuildFingerprint), never by a command that writes none. */
const afterCacheWrite: (() => void)[] = [];

/** Has `write` run when this process first writes a cache: a command that writes nothing (a refusal) writes no memo either. */
export function writeWithCaches(write: () => void): void {
  afterCacheWrite.push(write);
}

/**
 * Writes a machine-local cache file (a temp file put in its place: a reader never sees half of it; see
 * replaceCacheFile), the build's fingerprint and the pending memos first (see writeWithCaches).
 */
export function writeCacheFile(file: string, text: string): void {
  rememberBuildFingerprint();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  replaceCacheFile(tmp, file);
}

/**
 * The directory of the code that runs: the nearest one above this module that holds the entry point (main.cjs,
 * main.js, or main.ts under the tests): dist/bundle/ for the bundle bin/omni-ship.js runs, dist/ for tsc's modules.
 */
function codeRoot(from: string): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (['main.cjs', 'main.js', 'main.ts'].some((f) => fs.existsSync(path.join(dir, f)))) return dir;
  }
  return path.resolve(from, '..');
}

let wroteCaches = false;

/** Whether this process has written a cache (a command that writes none, a refusal, writes no memo either). */
export function cachesWritten(): boolean {
  return wroteCaches;
}

/** Writes the fingerprint computed by this process to the state dir it was asked for (see buildFingerprint), once. */
export function rememberBuildFingerprint(): void {
  wroteCaches = true;
  for (const write of afterCacheWrite.splice(0)) write();
  if (!pending || fingerprint === null) return;
  const { store, text } = pending;
  pending = null;
  try {
    fs.mkdirSync(path.dirname(store), { recursive: true });
    const tmp = `${store}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    replaceCacheFile(tmp, store);
  } catch {
    /* a read-only repository: hashed again next time */
  }
}
