import type { Config } from '../config.js';
import { git, gitRun, gitRunBuffer } from '../git/exec.js';
import type { TaskView } from '../state/tasks.js';
import { claimedTask, logFormat, parseLog } from '../state/commits.js';

/** Whether a task branch whose tip is not on the base branch holds only a change that landed there anyway. */
export type CopyVerdict = { landed: true; as: string; detail: string } | { landed: false; detail: string };

/**
 * Judges a branch tip that no base ref contains: it may go only when it is the task's one commit above the base
 * (no other commit of anyone's on the branch) and that very change is on the base: the land recorded this commit
 * as the one it landed, or the base commit carrying the task's trailer has the same patch-id (a cherry-pick, an
 * amend of the message only). A later patchset, a fixup on top, or a different diff keep the branch.
 * `bases` are the base refs' commits that count for this branch; `baseName` names them in messages.
 */
export function judgeLandedCopy(cwd: string, config: Config, task: TaskView, tip: string, bases: readonly string[], baseName: string): CopyVerdict {
  const id = task.id;
  const above = parseLog(git(['log', logFormat(config.trailerKey, true), tip, '--not', ...bases, '--'], { cwd }), config);
  if (above.length !== 1 || above[0]!.sha !== tip) {
    return { landed: false, detail: `${above.length} commits not in ${baseName}; only ${id}'s own commit may be above it` };
  }
  const own = claimedTask(above[0]) === id || task.head === tip || task.patchsets.some((p) => p.commit === tip);
  if (!own) return { landed: false, detail: `its commit ${short(tip)} is not ${id}'s own commit (not its head, a patchset, or a commit whose trailer names it)` };
  if (task.landing && task.landing.commit === tip && onAnyBase(cwd, task.landing.landed, bases)) {
    return { landed: true, as: task.landing.landed, detail: `its commit landed as ${short(task.landing.landed)} on ${baseName}` };
  }
  const landed = task.landedCommit;
  if (!landed || !onAnyBase(cwd, landed, bases)) return { landed: false, detail: `no commit on ${baseName} carries ${id} yet` };
  const ids = patchIds(cwd, [tip, landed]);
  if (ids.get(tip) === undefined || ids.get(tip) !== ids.get(landed)) {
    return { landed: false, detail: `its commit ${short(tip)} differs from the change that landed as ${short(landed)} on ${baseName} (patch-id)` };
  }
  return { landed: true, as: landed, detail: `the same change landed as ${short(landed)} on ${baseName}` };
}

/** Whether `commit` is reachable from one of `bases`. */
function onAnyBase(cwd: string, commit: string, bases: readonly string[]): boolean {
  return bases.some((b) => gitRun(['merge-base', '--is-ancestor', commit, b], { cwd }).exitCode === 0);
}

/**
 * Each commit's stable patch-id (`git patch-id --stable`): the same diff gives the same id whatever the message,
 * the parent or the line numbers. `--binary --full-index` so that two different binary changes never look alike
 * ("Binary files differ" would be all patch-id sees); bytes, not text, since a diff need not be UTF-8. A merge or
 * an empty commit has no diff here, hence no id.
 */
function patchIds(cwd: string, commits: readonly string[]): Map<string, string> {
  const diffs = gitRunBuffer(['diff-tree', '-p', '--binary', '--full-index', '--no-color', '--root', '--stdin'], { cwd, input: `${commits.join('\n')}\n` });
  if (diffs.exitCode !== 0) return new Map();
  const ids = new Map<string, string>();
  for (const line of git(['patch-id', '--stable'], { cwd, input: diffs.stdout }).split('\n')) {
    const [patchId, commit] = line.split(' ');
    if (patchId && commit) ids.set(commit, patchId);
  }
  return ids;
}

/** A commit id shortened for messages. */
export function short(sha: string): string {
  return sha.slice(0, 12);
}
