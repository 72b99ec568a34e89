import { gitRun } from '../git/exec.js';

/**
 * What the refs the pipeline moves at the remote by compare-and-swap (the task counter, src/pipeline/seq.ts; the
 * claims, src/pipeline/claims.ts) share: a commit of one small file, the push that lost a race told from one that
 * failed, and the reason git gave.
 */

/** A commit whose tree holds `text` as `file`, on top of `parent`. */
export function singleFileCommit(cwd: string, file: string, text: string, parent: string | null, message: string): string {
  const blob = gitRun(['hash-object', '-w', '--stdin'], { cwd, input: text });
  if (blob.exitCode !== 0) throw new Error(`git hash-object failed: ${blob.stderr.trim()}`);
  const tree = gitRun(['mktree'], { cwd, input: `100644 blob ${blob.stdout.trim()}\t${file}\n` });
  if (tree.exitCode !== 0) throw new Error(`git mktree failed: ${tree.stderr.trim()}`);
  const commit = gitRun(['commit-tree', tree.stdout.trim(), ...(parent ? ['-p', parent] : []), '-m', message], { cwd });
  if (commit.exitCode !== 0) throw new Error(`git commit-tree failed: ${commit.stderr.trim()}`);
  return commit.stdout.trim();
}

/**
 * Whether a push with a lease (or the fetch before it) failed because another writer moved the ref first: the
 * lease failed here, or the remote's own compare-and-swap there, or a tracking ref moved under a fetch.
 */
export function lostRace(said: string): boolean {
  return /stale info|fetch first|non-fast-forward|cannot lock ref|but expected|reference already exists/.test(said);
}

/** The line of git's stderr that says what failed (its first `fatal:`; the advice after it is left out). */
export function gitReason(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  return (lines.find((l) => l.startsWith('fatal: ')) ?? lines[0] ?? 'no answer').replace(/^fatal: /, '');
}

/** The last line git printed (a remote's refusal quotes its reason there). */
export function lastLine(said: string): string {
  return said.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
}

/** A short random wait before another round, longer as rounds go (clones that collided do not collide again). */
export function pause(round: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * Math.min(200, 10 * (round + 1)));
}
