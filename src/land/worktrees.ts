import fs from 'node:fs';
import nodePath from 'node:path';
import { gitRun } from '../git/exec.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';

/** The worktrees that have `refs/heads/<branch>` checked out (a missing, prunable one cannot be updated: skipped). */
export function worktreesOn(cwd: string, branch: string, commonDir?: string): WorktreeEntry[] {
  return listWorktrees(cwd, commonDir).filter((w) => w.branch === `refs/heads/${branch}` && !w.bare && !w.prunable);
}


/**
 * What is uncommitted in a worktree (tracked files only: untracked files survive a fast-forward unless it would
 * overwrite them, which `merge --ff-only` refuses by itself). Empty: clean. Also a merge or rebase in progress.
 */
export function uncommitted(path: string): string[] {
  const r = gitRun(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=none'], { cwd: path });
  if (r.exitCode !== 0) return [`(git status failed: ${r.stderr.trim().split('\n')[0]})`];
  const paths = r.stdout.split('\0').filter(Boolean).map((l) => l.slice(3));
  // an operation in progress leaves its marker file in the worktree's git dir (read from the file system: no process)
  const gitDir = worktreeGitDir(path);
  for (const [marker, what] of [['MERGE_HEAD', 'merge'], ['REBASE_HEAD', 'rebase'], ['rebase-merge', 'rebase'], ['rebase-apply', 'rebase'], ['CHERRY_PICK_HEAD', 'cherry-pick'], ['REVERT_HEAD', 'revert']] as const) {
    if (gitDir && fs.existsSync(nodePath.join(gitDir, marker)) && !paths.includes(`(${what} in progress)`)) paths.push(`(${what} in progress)`);
  }
  return paths;
}

/** A worktree's own git dir: its `.git` directory, or where its `.git` file points; null when neither reads. */
function worktreeGitDir(dir: string): string | null {
  const dotGit = nodePath.join(dir, '.git');
  try {
    if (fs.statSync(dotGit).isDirectory()) return dotGit;
    const m = /^gitdir: (.*)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
    return m ? nodePath.resolve(dir, m[1]!.trim()) : null;
  } catch {
    return null;
  }
}

/**
 * Fast-forwards the worktree at `path` (which has the base branch checked out) from `from` to `to`, so its files,
 * index and branch move together: `update-ref` alone would leave it with phantom staged changes. Refuses (returns
 * false) when the branch is no longer at `from`, so it is a compare-and-swap as far as git allows.
 */
export function fastForwardWorktree(path: string, branch: string, from: string, to: string, checked = false): { ok: true } | { ok: false; why: string } {
  // `checked`: the caller read the branch at `from` just now
  const now = checked ? from : gitRun(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: path }).stdout.trim();
  if (now !== from) return { ok: false, why: `${branch} moved in ${path} (now ${now.slice(0, 12) || 'gone'})` };
  // hooks off: a post-merge hook of the user's has no business in an automated fast-forward
  const r = gitRun(['-c', 'core.hooksPath=/dev/null', 'merge', '--ff-only', '--quiet', '--no-stat', to], { cwd: path, env: { OMNI_SHIP_SKIP: '1' } });
  if (r.exitCode !== 0) return { ok: false, why: r.stderr.trim().split('\n')[0] || `git merge --ff-only exited ${r.exitCode}` };
  return { ok: true };
}
