import fs from 'node:fs';
import nodePath from 'node:path';
import { gitAsync, gitRun } from '../git/exec.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';

/** The worktrees that have `refs/heads/<branch>` checked out (a missing, prunable one cannot be updated: skipped). */
export function worktreesOn(cwd: string, branch: string, commonDir?: string): WorktreeEntry[] {
  return listWorktrees(cwd, commonDir).filter((w) => w.branch === `refs/heads/${branch}` && !w.bare && !w.prunable);
}


/**
 * What is uncommitted in a worktree (tracked files only: untracked files survive a fast-forward unless it would
 * overwrite them, which `merge --ff-only` refuses by itself). Empty: clean. Also a merge or rebase in progress.
 */
export async function uncommitted(path: string): Promise<string[]> {
  const r = await gitAsync(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=none'], { cwd: path });
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

/** `git merge --ff-only` of `to`, with the user's hooks off: a post-merge hook has no business in an automated fast-forward. */
export function fastForwardArgs(to: string): string[] {
  return ['-c', 'core.hooksPath=/dev/null', 'merge', '--ff-only', '--quiet', '--no-stat', to];
}

/** The environment of fastForwardArgs' git: omni-ship's own hooks off too. */
export const FAST_FORWARD_ENV = { OMNI_SHIP_SKIP: '1' };

/**
 * Fast-forwards the worktree at `path` (which has the base branch checked out, read at `from` by the caller just
 * now) to `to`, so its files, index and branch move together: `update-ref` alone would leave it with phantom staged
 * changes.
 */
export function fastForwardWorktree(path: string, to: string): { ok: true } | { ok: false; why: string } {
  const r = gitRun(fastForwardArgs(to), { cwd: path, env: FAST_FORWARD_ENV });
  if (r.exitCode !== 0) return { ok: false, why: r.stderr.trim().split('\n')[0] || `git merge --ff-only exited ${r.exitCode}` };
  return { ok: true };
}
