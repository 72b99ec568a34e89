import type { Config } from '../config.js';
import { badInput } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { taskIdFromBranch, tryTaskId } from '../ids.js';
import { unknownTask } from '../messages.js';
import type { VerifyTarget } from './verify.js';

/** The commit and tree of a rev, or null when it names no commit. */
export function commitAndTree(cwd: string, rev: string): { commit: string; tree: string } | null {
  // one process for both; --end-of-options: a rev that starts with "-" is a rev, never an option
  const r = gitRun(['log', '-1', '--no-walk', '--format=%H %T', '--end-of-options', `${rev}^{commit}`, '--'], { cwd });
  const [commit, tree] = r.stdout.trim().split(' ');
  return r.exitCode === 0 && commit && tree ? { commit, tree } : null;
}

/**
 * What `verify [<task|rev>]` means: no argument is HEAD (a task's commit when HEAD is on a task branch); a task id
 * is that task's head commit (its task branch's own commit, as status shows it); anything else is a rev.
 */
export async function resolveTarget(cwd: string, config: Config, stateDir: string, arg: string | undefined): Promise<VerifyTarget> {
  if (arg === undefined) {
    const head = commitAndTree(cwd, 'HEAD');
    if (!head) throw badInput('HEAD has no commit yet: nothing to verify', 'commit first, or name a task or a commit');
    const branch = gitRun(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd }).stdout.trim();
    const task = branch && branch !== config.baseBranch ? taskIdFromBranch(branch, config) : null;
    return { ...head, task };
  }
  const task = tryTaskId(arg, config);
  if (task) {
    const { loadState } = await import('../state/tasks.js');
    const state = await loadState(cwd, config, stateDir);
    const view = state.tasks.get(task);
    if (!view) throw unknownTask(task);
    if (!view.head) throw badInput(`${task} has no commit yet: nothing to verify`, `commit on its branch first (git switch ${view.branch ?? task})`);
    const found = commitAndTree(cwd, view.head);
    if (!found) throw badInput(`${task}'s commit ${view.head.slice(0, 12)} is not in this clone`, 'fetch it (git fetch), then run this again');
    return { ...found, task };
  }
  const found = commitAndTree(cwd, arg);
  if (!found) throw badInput(`'${arg}' is neither a task id nor a commit here`, 'name a task (t-565), a branch, a tag or a commit id');
  return { ...found, task: null };
}
