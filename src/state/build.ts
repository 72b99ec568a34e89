import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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
 * unchanged signature is an unchanged build, and costs one stat per file (~3 ms).
 */
export function buildFingerprint(stateDir?: string | null): string {
  if (fingerprint !== null) return fingerprint;
  const root = codeRoot(path.dirname(fileURLToPath(import.meta.url)));
  let files: string[];
  try {
    files = fs
      .readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.join(d.parentPath, d.name))
      .sort();
  } catch {
    // unreadable: never match, so never trust
    return (fingerprint = createHash('sha1').update(String(Math.random())).digest('hex'));
  }
  let signature: string | null = null;
  const store = stateDir && !process.env.OMNI_SHIP_NO_CACHE ? path.join(stateDir, STORE) : null;
  if (store) {
    try {
      const sig = createHash('sha1').update(packageVersion()).update(`\0${root}`);
      for (const file of files) {
        const st = fs.statSync(file, { bigint: true });
        sig.update(`\0${path.relative(root, file)}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0${st.ino}`);
      }
      signature = sig.digest('hex');
      const stored = JSON.parse(fs.readFileSync(store, 'utf8')) as { signature?: unknown; fingerprint?: unknown };
      if (stored?.signature === signature && typeof stored.fingerprint === 'string' && /^[0-9a-f]{40}$/.test(stored.fingerprint)) return (fingerprint = stored.fingerprint);
    } catch {
      /* none yet, or unreadable: hash the contents */
    }
  }
  const hash = createHash('sha1').update(packageVersion());
  try {
    for (const file of files) hash.update(`\0${path.relative(root, file)}\0`).update(fs.readFileSync(file));
  } catch {
    hash.update(String(Math.random()));
    signature = null;
  }
  fingerprint = hash.digest('hex');
  // remembered when a cache keyed by it is written (rememberBuildFingerprint): a command that writes nothing else
  // (a refusal) writes nothing
  pending = store && signature ? { store, signature } : null;
  return fingerprint;
}

let pending: { store: string; signature: string } | null = null;

/** Memos written with the first cache a command writes (rememberBuildFingerprint), never by a command that writes none. */
const afterCacheWrite: (() => void)[] = [];

/** Has `write` run when this process first writes a cache: a command that writes nothing (a refusal) writes no memo either. */
export function writeWithCaches(write: () => void): void {
  afterCacheWrite.push(write);
}

/**
 * Writes a machine-local cache file atomically (a temp file renamed over it: a reader never sees half of it, a kill
 * leaves the old one), the build's fingerprint and the pending memos first (see writeWithCaches).
 */
export function writeCacheFile(file: string, text: string): void {
  rememberBuildFingerprint();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * The directory of the code that runs: the nearest one above this module that holds the entry point (main.js, or
 * main.ts under the tests): dist/bundle/ for the bundle bin/omni-ship.js runs, dist/ for tsc's modules.
 */
function codeRoot(from: string): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'main.js')) || fs.existsSync(path.join(dir, 'main.ts'))) return dir;
  }
  return path.resolve(from, '..');
}

/** Writes the fingerprint computed by this process to the state dir it was asked for (see buildFingerprint), once. */
export function rememberBuildFingerprint(): void {
  for (const write of afterCacheWrite.splice(0)) write();
  if (!pending || fingerprint === null) return;
  const { store, signature } = pending;
  pending = null;
  try {
    fs.mkdirSync(path.dirname(store), { recursive: true });
    const tmp = `${store}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ signature, fingerprint }));
    fs.renameSync(tmp, store);
  } catch {
    /* a read-only repository: hashed again next time */
  }
}
