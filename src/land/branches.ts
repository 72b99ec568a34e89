import type { Config } from '../config.js';
import { gitRun } from '../git/exec.js';
import { heldLockReason } from '../git/stale-lock.js';
import { taskIdFromBranch } from '../ids.js';
import { branchesInUse } from '../git/worktrees.js';

/** A task branch land deleted, or kept and why. */
export interface BranchOutcome {
  /** the branch name (without refs/heads/) */
  branch: string;
  /** the remote it was on, or null for a local branch */
  remote: string | null;
  deleted: boolean;
  /** why it was kept: checked out, moved on, --keep-branch, the remote refused */
  kept: string | null;
}

/**
 * Deletes the task's branches after it landed: each local branch whose name gives the task and that still points
 * at a commit of the task that is now in the base (`landedCommits`), unless a worktree has it checked out; with a
 * remote, the same branches there, each by a push with an explicit lease on the value this clone knows, so a
 * branch someone pushed to meanwhile is kept. Local deletes are compare-and-swaps too (`update-ref -d <ref> <old>`).
 */
export function deleteTaskBranches(cwd: string, commonDir: string, config: Config, task: string, commits: ReadonlySet<string>, remote: string | null, push: boolean): BranchOutcome[] {
  const out: BranchOutcome[] = [];
  const listed = gitRun(['for-each-ref', '--format=%(refname)%00%(objectname)', 'refs/heads', ...(remote ? [`refs/remotes/${remote}`] : [])], { cwd }).stdout;
  const inUse = branchesInUse(cwd, commonDir);
  for (const line of listed.split('\n')) {
    const [ref, oid] = line.split('\0');
    if (!ref || !oid) continue;
    const local = ref.startsWith('refs/heads/');
    const branch = local ? ref.slice('refs/heads/'.length) : ref.slice(`refs/remotes/${remote}/`.length);
    if (branch === 'HEAD' || branch === config.baseBranch || taskIdFromBranch(branch, config) !== task) continue;
    if (!commits.has(oid)) {
      out.push({ branch, remote: local ? null : remote, deleted: false, kept: `it points at ${oid.slice(0, 12)}, which is not what landed` });
      continue;
    }
    if (local) {
      const use = inUse.get(ref);
      if (use) {
        out.push({ branch, remote: null, deleted: false, kept: `it is ${use.how === 'checked-out' ? 'checked out' : `being ${use.how === 'rebasing' ? 'rebased' : 'bisected'}`} in ${use.worktree}` });
        continue;
      }
      const r = gitRun(['update-ref', '-m', `omni-ship land: ${task} landed`, '-d', ref, oid], { cwd });
      out.push({ branch, remote: null, deleted: r.exitCode === 0, kept: r.exitCode === 0 ? null : (heldLockReason(r.stderr) ?? `it moved meanwhile (${r.stderr.trim().split('\n')[0]})`) });
      continue;
    }
    if (!push) {
      out.push({ branch, remote, deleted: false, kept: '--no-push: the remote is not changed' });
      continue;
    }
    const r = gitRun(['push', '--porcelain', '--no-verify', `--force-with-lease=refs/heads/${branch}:${oid}`, remote!, `:refs/heads/${branch}`], { cwd, env: { GIT_TERMINAL_PROMPT: '0' } });
    if (r.exitCode === 0) {
      gitRun(['update-ref', '-d', ref, oid], { cwd });
      out.push({ branch, remote, deleted: true, kept: null });
    } else {
      const why = r.stdout.split('\n').find((l) => l.startsWith('!'))?.split('\t')[2] ?? r.stderr.trim().split('\n')[0];
      out.push({ branch, remote, deleted: false, kept: `${remote} refused to delete it: ${why}` });
    }
  }
  return out;
}
