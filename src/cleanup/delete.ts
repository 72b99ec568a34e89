import { failpoint } from '../failpoint.js';
import { GitError, gitRun } from '../git/exec.js';
import { porcelainFor } from '../land/move-base.js';
import { LOST_RACE, RemoteDeclinedError, RemoteUnreachableError, firstComplaint, remoteSaid, remoteUrl } from '../notes/sync-errors.js';

/** The outcome of deleting one branch by compare-and-swap. */
export type DeleteOutcome = { kind: 'deleted' } | { kind: 'lost-race'; detail: string } | { kind: 'refused'; detail: string };

/**
 * Deletes `refs/heads/<branch>` if it still points at `commit` (`git update-ref -d <ref> <commit>`): a commit made
 * on the branch since it was judged keeps it. Then drops the branch's `branch.<name>.*` config, as
 * `git branch -d` does (none there is fine).
 */
export function deleteLocalBranch(cwd: string, branch: string, commit: string): DeleteOutcome {
  const ref = `refs/heads/${branch}`;
  const args = ['update-ref', '-d', ref, commit];
  const r = gitRun(args, { cwd });
  if (r.exitCode !== 0) {
    const now = gitRun(['rev-parse', '--verify', '--quiet', ref], { cwd });
    const actual = now.exitCode === 0 ? now.stdout.trim() : null;
    // the ref moved under us, or another process holds its lock mid-update: someone else is using it
    if (actual !== commit || /cannot lock ref/.test(r.stderr)) {
      return { kind: 'lost-race', detail: actual ? `${branch} moved to ${actual.slice(0, 12)} meanwhile` : `${branch} was deleted meanwhile` };
    }
    throw new GitError(args, r.exitCode, r.stderr, r.stdout);
  }
  failpoint('cleanup:ref-deleted');
  gitRun(['config', '--remove-section', `branch.${branch}`], { cwd });
  return { kind: 'deleted' };
}

/** The outcome of deleting a remote's branches: each branch's, or none when the remote could not be reached. */
export type RemoteDeleteResult = { kind: 'pushed'; outcomes: Map<string, DeleteOutcome> } | { kind: 'unreachable'; message: string };

/**
 * Deletes branches on `remote` in one push, each with its own explicit lease on the commit it was judged at
 * (`--force-with-lease=refs/heads/<b>:<commit> :refs/heads/<b>`): a branch someone pushed to since our last fetch
 * is not deleted (lost-race). No `--atomic`: each branch stands on its own. git moves the remote-tracking refs of
 * the deleted branches itself. A remote that refuses a deletion (a hook, a protected branch, no permission) gives
 * `refused` quoting its own words; one that cannot be reached at all (exit 128 before any ref status) `unreachable`.
 */
export function deleteRemoteBranches(cwd: string, remote: string, branches: readonly { branch: string; commit: string }[]): RemoteDeleteResult {
  const outcomes = new Map<string, DeleteOutcome>();
  if (!branches.length) return { kind: 'pushed', outcomes };
  const leases = branches.map((b) => `--force-with-lease=refs/heads/${b.branch}:${b.commit}`);
  const specs = branches.map((b) => `:refs/heads/${b.branch}`);
  const args = ['push', '--porcelain', ...leases, remote, ...specs];
  const pushed = gitRun(args, { cwd, env: { GIT_TERMINAL_PROMPT: '0' } });
  const said = remoteSaid(pushed.stderr);
  let anyStatus = false;
  for (const b of branches) {
    const ref = `refs/heads/${b.branch}`;
    const status = porcelainFor(pushed.stdout, ref);
    if (!status) continue;
    anyStatus = true;
    if (status.flag === '-') outcomes.set(b.branch, { kind: 'deleted' });
    else if (status.flag === '!' && LOST_RACE.test(status.reason) && !/hook declined/.test(status.reason)) {
      outcomes.set(b.branch, { kind: 'lost-race', detail: `${remote}/${b.branch} is no longer at ${b.commit.slice(0, 12)} on ${remote} (${status.reason})` });
    } else outcomes.set(b.branch, { kind: 'refused', detail: new RemoteDeclinedError(remote, ref, status.reason, said).message });
  }
  if (!anyStatus) {
    // 128 is git's "fatal" before any ref status: no connection, no access, no such repository
    if (pushed.exitCode === 128) {
      return { kind: 'unreachable', message: new RemoteUnreachableError(remote, remoteUrl(cwd, remote, true), 'push', firstComplaint(pushed.stderr)).message };
    }
    if (pushed.exitCode === 0) throw new GitError(args, 0, pushed.stderr, pushed.stdout); // success without a status line: not git as we know it
  }
  // a failure with no status line for a branch: refused before that ref was sent (a local pre-push hook, say)
  for (const b of branches) {
    if (!outcomes.has(b.branch)) {
      const reason = firstComplaint(pushed.stderr) || `git push exited ${pushed.exitCode}`;
      outcomes.set(b.branch, { kind: 'refused', detail: new RemoteDeclinedError(remote, `refs/heads/${b.branch}`, reason, said).message });
    }
  }
  return { kind: 'pushed', outcomes };
}
