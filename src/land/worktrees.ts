import { gitRun } from '../git/exec.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';

/** The worktrees that have `refs/heads/<branch>` checked out (a missing, prunable one cannot be updated: skipped). */
export function worktreesOn(cwd: string, branch: string): WorktreeEntry[] {
  return listWorktrees(cwd).filter((w) => w.branch === `refs/heads/${branch}` && !w.bare && !w.prunable);
}

/**
 * What is uncommitted in a worktree (tracked files only: untracked files survive a fast-forward unless it would
 * overwrite them, which `merge --ff-only` refuses by itself). Empty: clean. Also a merge or rebase in progress.
 */
export function uncommitted(path: string): string[] {
  const r = gitRun(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=none'], { cwd: path });
  if (r.exitCode !== 0) return [`(git status failed: ${r.stderr.trim().split('\n')[0]})`];
  const paths = r.stdout.split('\0').filter(Boolean).map((l) => l.slice(3));
  for (const marker of ['MERGE_HEAD', 'REBASE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD']) {
    if (gitRun(['rev-parse', '--verify', '--quiet', marker], { cwd: path }).exitCode === 0) paths.push(`(${marker.toLowerCase().replace('_head', '')} in progress)`);
  }
  return paths;
}

/**
 * Fast-forwards the worktree at `path` (which has the base branch checked out) from `from` to `to`, so its files,
 * index and branch move together: `update-ref` alone would leave it with phantom staged changes. Refuses (returns
 * false) when the branch is no longer at `from`, so it is a compare-and-swap as far as git allows.
 */
export function fastForwardWorktree(path: string, branch: string, from: string, to: string): { ok: true } | { ok: false; why: string } {
  const now = gitRun(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: path }).stdout.trim();
  if (now !== from) return { ok: false, why: `${branch} moved in ${path} (now ${now.slice(0, 12) || 'gone'})` };
  // hooks off: a post-merge hook of the user's has no business in an automated fast-forward
  const r = gitRun(['-c', 'core.hooksPath=/dev/null', 'merge', '--ff-only', '--quiet', '--no-stat', to], { cwd: path, env: { OMNI_SHIP_SKIP: '1' } });
  if (r.exitCode !== 0) return { ok: false, why: r.stderr.trim().split('\n')[0] || `git merge --ff-only exited ${r.exitCode}` };
  return { ok: true };
}
