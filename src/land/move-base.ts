import { isValidBranchName } from '../config/schema.js';
import { GitError, gitAsync, gitRun, type GitResult } from '../git/exec.js';
import { ExitCode, UserError } from '../errors.js';
import { heldLockReason } from '../git/stale-lock.js';
import { LOST_RACE, RemoteDeclinedError, RemoteUnreachableError, firstComplaint, remoteSaid, remoteUrl } from '../notes/sync-errors.js';

/**
 * The outcome of moving the base branch by compare-and-swap (DESIGN.md section 4, step 5).
 * - `moved`: the base now points at `to`.
 * - `lost-race`: someone moved it first; `actual` is the remote's (or the local ref's) value now, when known, or null
 *   when the ref is gone or could not be read. The caller fetches, rebuilds the candidate and retries (bounded).
 * - `refused`: the remote itself refused (protected branch, pre-receive or update hook, permission), in its own words
 *   plus git's reason. Not a race: retrying will not change it.
 */
export type MoveResult =
  | { kind: 'moved' }
  /** `held`: the ref had not moved, but a lock file no killed omni-ship left kept it (what to tell the user) */
  | { kind: 'lost-race'; actual: string | null; held?: string }
  | { kind: 'refused'; reason: string };

/** Throws unless `to` descends from (or is) `from`: land only ever fast-forwards the base, it never forces. */
function requireDescends(cwd: string, from: string, to: string): void {
  const r = gitRun(['merge-base', '--is-ancestor', from, to], { cwd });
  if (r.exitCode === 0) return;
  if (r.exitCode === 1) throw new Error(`refusing to move the base from ${from} to ${to}: ${to} does not descend from ${from} (land never forces)`);
  throw new GitError(['merge-base', '--is-ancestor', from, to], r.exitCode, r.stderr, r.stdout);
}

/** Throws unless `refs/heads/<branch>` is a valid ref name (and so cannot be read as an option or a refspec). */
function requireBranchName(cwd: string, branch: string): string {
  const ref = `refs/heads/${branch}`;
  // git check-ref-format's rules, in process (isValidBranchName): no git process for a name that is fine
  if (!isValidBranchName(branch)) {
    throw new Error(`not a valid branch name: ${JSON.stringify(branch)}`);
  }
  return ref;
}

/** The oid `ref` has on `remote` now; null when it has none or the remote cannot be read. */
function remoteValue(cwd: string, remote: string, ref: string): string | null {
  const r = gitRun(['ls-remote', remote, ref], { cwd, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (r.exitCode !== 0) return null;
  for (const line of r.stdout.split('\n')) {
    const [oid, name] = line.split('\t');
    if (name === ref && oid) return oid;
  }
  return null;
}

/** The local value of `ref`; null when it does not exist. */
function localValue(cwd: string, ref: string): string | null {
  const r = gitRun(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd });
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

/** One `--porcelain` status line of `git push`: `<flag>\t<src>:<dst>\t<summary>`. */
export interface PorcelainLine {
  flag: string;
  summary: string;
  /** the parenthesised reason at the end of the summary, or the summary itself */
  reason: string;
}

/** The porcelain status line for the destination `ref`, if git printed one. */
export function porcelainFor(stdout: string, ref: string): PorcelainLine | undefined {
  for (const line of stdout.split('\n')) {
    const parts = line.split('\t');
    if (parts.length < 3 || parts[0]!.length !== 1) continue;
    const spec = parts[1]!;
    if (spec.slice(spec.lastIndexOf(':') + 1) !== ref) continue;
    const summary = parts.slice(2).join('\t').trim();
    const reason = /\(([^)]*)\)\s*$/.exec(summary)?.[1] ?? summary;
    return { flag: parts[0]!, summary, reason };
  }
  return undefined;
}

/**
 * Moves `branch` on `remote` from `from` to `to`, as one push of that branch alone with an explicit lease on `from`
 * (`--force-with-lease=refs/heads/<branch>:<from>`): a bare lease trusts the remote-tracking ref, which any fetch
 * moves, so it is never used. `to` must descend from `from` (checked first; an Error if not, since land never forces),
 * so the push is a fast-forward; no `--force`, and never `--atomic` with notes (they follow through sync, so an
 * unrelated notes push by another clone cannot fail a land).
 *
 * Returns `moved` (also when the remote already has `to`), `lost-race` when the lease or the remote's own
 * compare-and-swap failed (with the remote's value now), or `refused` when the remote declined for a reason of its
 * own, quoting its `remote:` lines. A remote that cannot be reached at all is a UserError, exit 2, naming its URL.
 * Only the remote moves: the local base ref is the caller's to update (see updateLocalBase).
 */
export function pushBase(cwd: string, remote: string, branch: string, from: string, to: string, descends = false): MoveResult {
  const { ref, args } = pushArgs(cwd, remote, branch, from, to, descends);
  return pushOutcome(cwd, remote, ref, args, gitRun(args, { cwd, env: { GIT_TERMINAL_PROMPT: '0' } }));
}

/** pushBase without waiting: the caller's other work (land writes its notes ahead) goes on while git pushes. */
export async function pushBaseAsync(cwd: string, remote: string, branch: string, from: string, to: string, descends = false): Promise<MoveResult> {
  const { ref, args } = pushArgs(cwd, remote, branch, from, to, descends);
  return pushOutcome(cwd, remote, ref, args, await gitAsync(args, { cwd, env: { GIT_TERMINAL_PROMPT: '0' } }));
}

function pushArgs(cwd: string, remote: string, branch: string, from: string, to: string, descends: boolean): { ref: string; args: string[] } {
  const ref = requireBranchName(cwd, branch);
  // `descends`: the caller built `to` on `from` (land's candidates are), so the check would only repeat it
  if (!descends) requireDescends(cwd, from, to);
  return { ref, args: ['push', '--porcelain', remote, `--force-with-lease=${ref}:${from}`, `${to}:${ref}`] };
}

/** What a push of the base says happened (see pushBase). */
function pushOutcome(cwd: string, remote: string, ref: string, args: string[], pushed: GitResult): MoveResult {
  const status = porcelainFor(pushed.stdout, ref);
  if (!status) {
    // 128 is git's "fatal" before any ref status: no connection, no access, no such repository
    if (pushed.exitCode === 128) {
      const e = new RemoteUnreachableError(remote, remoteUrl(cwd, remote, true), 'push', firstComplaint(pushed.stderr));
      throw new UserError(e.message, ExitCode.usage, `check the URL (git remote get-url --push ${remote}) and your network, then land again`);
    }
    if (pushed.exitCode === 0) throw new GitError(args, 0, pushed.stderr, pushed.stdout); // success without a status line: not git as we know it
    // no status line but a failure: refused before any ref was sent (a local pre-push hook, say)
    const said = remoteSaid(pushed.stderr);
    return { kind: 'refused', reason: new RemoteDeclinedError(remote, ref, firstComplaint(pushed.stderr) || `git push exited ${pushed.exitCode}`, said).message };
  }
  switch (status.flag) {
    case ' ': // fast-forward
    case '*': // new ref
    case '=': // up to date: the remote has `to` already
    case '+': // forced update: cannot happen for a descendant, but the ref is at `to` either way
      return { kind: 'moved' };
    case '!': {
      const remoteRejected = /\[remote rejected\]/.test(status.summary);
      // ours: the lease did not hold (stale info) or the ref moved past us (fetch first, non-fast-forward);
      // the remote's: its own compare-and-swap lost to a concurrent push (cannot lock ref, incorrect old value)
      if (LOST_RACE.test(status.reason) && (!remoteRejected || !/hook declined/.test(status.reason))) {
        return { kind: 'lost-race', actual: remoteValue(cwd, remote, ref) };
      }
      return { kind: 'refused', reason: new RemoteDeclinedError(remote, ref, status.reason, remoteSaid(pushed.stderr)).message };
    }
    default:
      throw new GitError(args, pushed.exitCode, pushed.stderr, pushed.stdout);
  }
}

/**
 * Moves the local `refs/heads/<branch>` from `from` to `to` by compare-and-swap (`git update-ref <ref> <to> <from>`):
 * for a land without a remote, or the local base after a push. `to` must descend from `from` (an Error if not).
 * Returns `moved`, or `lost-race` with the ref's value now (null if it is gone) when it no longer points at `from`.
 *
 * It does not look at worktrees: `update-ref` moves a branch that a worktree has checked out and leaves that worktree
 * with phantom staged changes, so the caller must first find such a worktree (`git worktree list --porcelain`) and
 * fast-forward it there (`git -C <wt> merge --ff-only`) when clean, or refuse when dirty, instead of calling this.
 */
export function updateLocalBase(cwd: string, branch: string, from: string, to: string): MoveResult {
  const ref = requireBranchName(cwd, branch);
  requireDescends(cwd, from, to);
  const args = ['update-ref', '-m', `omni-ship land: ${from.slice(0, 12)} -> ${to.slice(0, 12)}`, ref, to, from];
  const r = gitRun(args, { cwd });
  if (r.exitCode === 0) return { kind: 'moved' };
  const actual = localValue(cwd, ref);
  // the ref moved under us, or another process holds its lock mid-update: either way someone else is moving it
  if (actual !== from || /cannot lock ref/.test(r.stderr)) {
    const held = actual === from ? heldLockReason(r.stderr) : null;
    return held ? { kind: 'lost-race', actual, held } : { kind: 'lost-race', actual };
  }
  throw new GitError(args, r.exitCode, r.stderr, r.stdout);
}
