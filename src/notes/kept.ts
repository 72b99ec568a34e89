import { catFileBatchSync } from '../git/batch.js';
import { GitError, gitRun } from '../git/exec.js';
import { KEPT_REF, PATCHSET_REF_PREFIX } from './refs.js';

/**
 * Every patchset commit stays reachable from one ref, `refs/omni-ship/kept`, whatever the number of patchsets (one
 * ref each, as Gerrit's refs/changes, makes every fetch and push of the repository pay for all of history).
 *
 * The ref points at a *keeper*: a commit with the empty tree whose parents are first the keepers before it, then the
 * patchset commits it keeps (at most KEPT_PER_KEEPER each). A write adds a keeper on top of the tip by
 * compare-and-swap; two clones' keepers merge into one whose parents are both tips. Its message carries
 * `Omni-Ship-Keeper: generation <g>, keepers <k>`: g is one more than the largest generation of its keeper parents
 * (so a keeper's ancestors all have smaller ones), k how many leading parents are keepers. Whether one keeper is in
 * another's history is settled by walking keepers only, and only those of a generation above it: the cost follows
 * what changed since they parted, not the repository's age (`git merge-base` would walk every kept commit's history
 * when the answer is no).
 */

/** git's empty tree: every keeper's tree. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ZERO = '0'.repeat(40);
/** Patchset commits per keeper: a commit with thousands of parents is valid but slow for git's history walks. */
export const KEPT_PER_KEEPER = 500;
/** Keepers have an author and committer of their own, so they are the same whoever's clone made them. */
const KEEPER_IDENTITY = {
  GIT_AUTHOR_NAME: 'omni-ship',
  GIT_AUTHOR_EMAIL: 'omni-ship@localhost',
  GIT_COMMITTER_NAME: 'omni-ship',
  GIT_COMMITTER_EMAIL: 'omni-ship@localhost',
};
const TRAILER = /^Omni-Ship-Keeper: generation (\d+), keepers (\d+)$/m;

/** A keeper, or any other commit found at the kept ref (generation 0, no keeper parents: kept itself). */
export interface Keeper {
  oid: string;
  generation: number;
  /** its parents that are keepers */
  keepers: string[];
  /** its other parents: the commits it keeps */
  kept: string[];
  /** false: a commit that is not a keeper (a hand-made ref): kept as a patchset would be */
  isKeeper: boolean;
}

/** Reads commits as keepers (null for an oid that is missing or not a commit). */
export function readKeepers(cwd: string, oids: readonly string[]): (Keeper | null)[] {
  return catFileBatchSync(cwd, oids).map((o) => {
    if (!o.oid || o.type !== 'commit' || !o.content) return null;
    const text = o.content.toString('utf8');
    const end = text.indexOf('\n\n');
    const header = end < 0 ? text : text.slice(0, end);
    const parents = [...header.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
    const m = end < 0 ? null : TRAILER.exec(text.slice(end + 2));
    const treeOk = header.startsWith(`tree ${EMPTY_TREE}\n`);
    if (!m || !treeOk) return { oid: o.oid, generation: 0, keepers: [], kept: [], isKeeper: false };
    return { oid: o.oid, generation: Number(m[1]), keepers: parents.slice(0, Number(m[2])), kept: parents.slice(Number(m[2])), isKeeper: true };
  });
}

function keeperCommit(cwd: string, keepers: readonly Keeper[], kept: readonly string[]): Keeper {
  const generation = Math.max(0, ...keepers.map((k) => k.generation)) + 1;
  const parents = [...keepers.map((k) => k.oid), ...kept];
  const args = ['commit-tree', EMPTY_TREE, ...parents.flatMap((p) => ['-p', p])];
  const what = kept.length ? `keeps ${kept.length} patchset commit${kept.length === 1 ? '' : 's'} reachable` : `joins ${keepers.length} clones' kept patchsets`;
  const message = `omni-ship: ${what}\n\nOmni-Ship-Keeper: generation ${generation}, keepers ${keepers.length}\n`;
  let r = gitRun(args, { cwd, input: message, env: KEEPER_IDENTITY });
  if (r.exitCode !== 0 && /not a valid|bad tree|could not read|Not a valid object/i.test(r.stderr)) {
    // a repository that never stored the empty tree: write it, then again
    gitRun(['hash-object', '-w', '-t', 'tree', '--stdin'], { cwd, input: '' });
    r = gitRun(args, { cwd, input: message, env: KEEPER_IDENTITY });
  }
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  return { oid: r.stdout.trim(), generation, keepers: keepers.map((k) => k.oid), kept: [...kept], isKeeper: true };
}

/**
 * The keeper that keeps `commits` on top of `tip` (tip itself when there are none); a tip that is not a keeper is
 * kept as one more commit. Writes objects only.
 */
export function buildKeepers(cwd: string, tip: Keeper | null, commits: readonly string[]): Keeper | null {
  const unique = [...new Set(commits)].filter((c) => c !== tip?.oid);
  if (unique.length === 0) return tip;
  let cur = tip;
  let rest = unique;
  if (cur && !cur.isKeeper) {
    rest = [cur.oid, ...rest];
    cur = null;
  }
  for (let i = 0; i < rest.length; i += KEPT_PER_KEEPER) cur = keeperCommit(cwd, cur ? [cur] : [], rest.slice(i, i + KEPT_PER_KEEPER));
  return cur;
}

/** One keeper on top of two others (neither in the other's history): what both clones kept. */
export function joinKeepers(cwd: string, a: Keeper, b: Keeper): Keeper {
  const keepers = [a, b].filter((k) => k.isKeeper);
  const kept = [a, b].filter((k) => !k.isKeeper).map((k) => k.oid);
  return keeperCommit(cwd, keepers, kept);
}

/**
 * Whether keeper `a` is `b` or in `b`'s history of keepers. Walks b's keepers down to a's generation only: a
 * keeper's keeper ancestors all have a smaller generation than its own.
 */
export function keeperReaches(cwd: string, b: Keeper, a: Keeper): boolean {
  if (a.oid === b.oid) return true;
  if (!a.isKeeper || !b.isKeeper || a.generation >= b.generation) return false;
  const seen = new Set<string>([b.oid]);
  let frontier: string[] = b.keepers;
  while (frontier.length) {
    const next: string[] = [];
    for (const k of readKeepers(cwd, frontier.filter((o) => !seen.has(o)))) {
      if (!k || !k.isKeeper || seen.has(k.oid)) continue;
      seen.add(k.oid);
      if (k.oid === a.oid) return true;
      if (k.generation <= a.generation) continue;
      next.push(...k.keepers);
    }
    frontier = next;
  }
  return false;
}

/** The keeper two tips keep between them, and whether it is new (null when neither exists). */
export function unionOf(cwd: string, local: Keeper | null, theirs: Keeper | null): Keeper | null {
  if (!local) return theirs;
  if (!theirs || local.oid === theirs.oid) return local;
  if (keeperReaches(cwd, local, theirs)) return local;
  if (keeperReaches(cwd, theirs, local)) return theirs;
  return joinKeepers(cwd, local, theirs);
}

/**
 * Keeps `commits` reachable from the kept ref, by compare-and-swap (again on a race, up to a few times); the
 * per-patchset refs an older omni-ship made here are folded in and deleted in the same transaction. Returns false
 * when every attempt lost a race (50, spread over seconds).
 */
export function keepCommits(cwd: string, commits: readonly string[]): boolean {
  for (let attempt = 0; attempt < 50; attempt++) {
    // another writer moved the ref first: again after a short random wait, so racing writers spread out
    if (attempt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * Math.min(100, 5 * attempt));
    // one read: the kept ref and any per-patchset refs left
    const listed = gitRun(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', KEPT_REF, PATCHSET_REF_PREFIX], { cwd }).stdout;
    let tipOid: string | null = null;
    const legacy: { ref: string; oid: string }[] = [];
    for (const line of listed.split('\n')) {
      const [ref, oid, type] = line.split('\0');
      // a kept ref that is not a commit (made by hand) is left alone: nothing can be kept on it
      if (ref === KEPT_REF && type !== 'commit') return false;
      if (!ref || !oid || type !== 'commit') continue;
      if (ref === KEPT_REF) tipOid = oid;
      else if (ref.startsWith(PATCHSET_REF_PREFIX)) legacy.push({ ref, oid });
    }
    const want = [...commits, ...legacy.map((l) => l.oid)];
    if (want.length === 0) return true;
    const tip = tipOid ? readKeepers(cwd, [tipOid])[0] ?? null : null;
    // a hook run again for the same commit (or a sync that just kept it): the tip keeps it already
    const already = new Set(tip?.kept ?? []);
    const next = buildKeepers(cwd, tip, want.filter((c) => !already.has(c) || legacy.some((l) => l.oid === c)));
    if (!next || next.oid === tipOid) return true;
    const lines = [`update ${KEPT_REF} ${next.oid} ${tipOid ?? ZERO}`, ...legacy.map((l) => `delete ${l.ref} ${l.oid}`)];
    if (gitRun(['update-ref', '--stdin'], { cwd, input: `${lines.join('\n')}\n` }).exitCode === 0) return true;
  }
  return false;
}
