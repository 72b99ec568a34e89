import { checksum } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import { gitAsync } from '../git/exec.js';
import { mergeRefs, readLooseRefs, readPackedRefs, type LooseRefs } from '../git/refs-fs.js';
import { discoverWorkRepo } from '../git/repo.js';
import { writeCacheFile, writeWithCaches } from './build.js';
import { looseType } from '../git/loose.js';

/** The for-each-ref patterns of readRefSnapshot (a caller reading more refs at once filters its answer by them). */
export const SNAPSHOT_PATTERNS = ['refs/heads', 'refs/remotes', 'refs/notes/omni-ship', 'refs/replace'] as const;

const FORMAT = '--format=%(refname)%00%(objectname)%00%(objecttype)';
/** The last snapshot, in the state dir, under the signature of the files it was read from. */
const MEMO = path.join('omni-ship', 'state-cache', 'refs.txt');

/**
 * Every ref whose value read commands depend on (branches, remote-tracking branches, omni-ship's notes), with its
 * object and type, as `git for-each-ref --format=%(refname)%00%(objectname)%00%(objecttype)` prints them.
 * Everything status derives is a function of this text and the config.
 *
 * Read from git's files when they settle it (src/git/refs-fs.ts), with no process: for-each-ref reads every ref's
 * object for its type (10,000 branches: ~80 ms). The last snapshot is kept, with a checksum of its text, under the
 * signature of the files it was read from: the loose refs' names and contents, and packed-refs' inode, size and
 * times (git writes it anew, under a lock, for every change: a new inode and change time). While they match, it is
 * the answer, packed-refs unread. Else the files are read, each object's type taken from the last snapshot (an
 * object's type never changes), from the object's file when it is loose (src/git/loose.ts), or from one
 * `cat-file --batch-check` of the rest. Anything the files do not settle (a repository found through GIT_DIR, a
 * ref git would warn of, a missing object) is left to for-each-ref.
 */
export async function readRefSnapshot(cwd: string): Promise<string> {
  // a namespace (GIT_NAMESPACE) is git's to apply
  const repo = process.env.GIT_NAMESPACE ? null : discoverWorkRepo(cwd);
  const loose = repo ? readLooseRefs(repo.commonDir, SNAPSHOT_PATTERNS) : undefined;
  if (repo && loose) {
    const text = await fromFiles(cwd, repo.commonDir, loose);
    if (text !== undefined) return text;
  }
  return (await gitAsync(['for-each-ref', FORMAT, ...SNAPSHOT_PATTERNS], { cwd })).stdout;
}

/** The signature of the files a snapshot is read from; null when packed-refs cannot be looked at. */
function signature(commonDir: string, loose: LooseRefs): string | null {
  let packed = 'none';
  try {
    const st = fs.statSync(path.join(commonDir, 'packed-refs'), { bigint: true });
    packed = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  const h = checksum().update(packed);
  for (const m of [loose.objects, loose.symbolic]) for (const name of [...m.keys()].sort()) h.update(`\0${name}\0${m.get(name)}`);
  return h.update(`\0${SNAPSHOT_PATTERNS.join(' ')}`).digest();
}

async function fromFiles(cwd: string, commonDir: string, loose: LooseRefs): Promise<string | undefined> {
  // the signature before packed-refs is read: a file replaced in between is no match next time
  const sig = signature(commonDir, loose);
  if (sig === null) return undefined;
  const memoFile = process.env.OMNI_SHIP_NO_CACHE ? null : path.join(commonDir, MEMO);
  let memo = '';
  if (memoFile) {
    try {
      memo = fs.readFileSync(memoFile, 'utf8');
    } catch {
      /* none yet */
    }
  }
  // the memo's first line: the signature and a checksum of the text below it (a file damaged is no memo, types
  // included)
  const nl = memo.indexOf('\n');
  let known = '';
  const [memoSig, memoSum, extra] = memo.slice(0, Math.max(nl, 0)).split(' ');
  if (nl > 0 && memoSum && extra === undefined) {
    const body = memo.slice(nl + 1);
    if (checksum().update(body).digest() === memoSum) {
      if (memoSig === sig) return body;
      known = body;
    }
  }
  const packed = readPackedRefs(commonDir);
  if (packed === undefined) return undefined;
  const refs = mergeRefs(loose, packed, SNAPSHOT_PATTERNS);
  if (!refs) return undefined;
  const types = new Map<string, string>();
  for (const line of known.split('\n')) {
    const [, oid, type] = line.split('\0');
    if (oid && type) types.set(oid, type);
  }
  const unknown: string[] = [];
  for (const oid of new Set(refs.values())) {
    if (types.has(oid)) continue;
    // a ref just moved points at a loose object, usually: its first bytes say its type
    const type = looseType(commonDir, oid);
    if (type) types.set(oid, type);
    else unknown.push(oid);
  }
  if (unknown.length) {
    const r = await gitAsync(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { cwd, input: `${unknown.join('\n')}\n` });
    if (r.exitCode !== 0) return undefined;
    for (const line of r.stdout.split('\n')) {
      const [oid, type] = line.split(' ');
      if (oid && type && type !== 'missing') types.set(oid, type);
    }
  }
  // ordered by name as for-each-ref orders them (bytewise)
  const names = [...refs.keys()];
  if (names.every((n) => /^[\x00-\x7f]*$/.test(n))) names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  else names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) {
    const oid = refs.get(names[i]!)!;
    const type = types.get(oid);
    // an object this repository lacks: for-each-ref's own error
    if (type === undefined) return undefined;
    lines[i] = `${names[i]}\0${oid}\0${type}\n`;
  }
  const text = lines.join('');
  // kept when the command writes its caches (a refusal writes nothing, this memo included)
  if (memoFile) {
    writeWithCaches(() => {
      try {
        writeCacheFile(memoFile, `${sig} ${checksum().update(text).digest()}\n${text}`);
      } catch {
        /* only a cache */
      }
    });
  }
  return text;
}
