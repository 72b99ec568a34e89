import type { Config } from '../config.js';
import { gitRun } from '../git/exec.js';
import { trailerClaim, trailerPlaceholder, trailerValues } from '../notes/claim.js';

/** The branch shape of a task commit: fine, or what is wrong with it (a failure of the `shape` step). */
export type ShapeVerdict = { ok: true } | { ok: false; problem: string; missing?: boolean };

/** Whether this repository is a shallow clone (hosted CI checks out one). */
export function isShallow(cwd: string): boolean {
  return gitRun(['rev-parse', '--is-shallow-repository'], { cwd }).stdout.trim() === 'true';
}

/**
 * The predecessors' rule: a task is exactly one commit on top of the base branch, naming this task and no other.
 * A commit without a trailer passes (git runs no commit-msg for a cherry-pick or revert; land adds the trailer).
 * The shape belongs to the commit, never to its tree: it is not recorded as the tree's result. In a shallow clone
 * whose history does not reach the base, the count cannot be known: `missing` says so rather than guess.
 */
export function checkShape(cwd: string, config: Config, task: string, commit: string, baseTip: string, baseName: string): ShapeVerdict {
  const log = gitRun(['log', '-1', `--format=%P%x1f${trailerPlaceholder(config.trailerKey)}`, commit], { cwd });
  if (log.exitCode !== 0) return { ok: false, problem: `cannot read commit ${commit.slice(0, 12)}`, missing: true };
  const [parents, trailers] = log.stdout.replace(/\n$/, '').split('\x1f');
  const claim = trailerClaim(trailerValues(trailers ?? ''), config, config.trailerKey);
  if (claim.kind === 'bad') return { ok: false, problem: `commit ${commit.slice(0, 12)} belongs to no task: ${claim.reason}; amend its message to name ${task} alone` };
  if (claim.kind === 'task' && claim.task !== task) {
    return { ok: false, problem: `commit ${commit.slice(0, 12)} names ${claim.task}, not ${task}; amend its ${config.trailerKey} trailer, or verify ${claim.task}` };
  }
  const parentList = (parents ?? '').split(' ').filter(Boolean);
  if (parentList.length > 1) return { ok: false, problem: `commit ${commit.slice(0, 12)} is a merge; a task is one plain commit on top of ${baseName} (rebase it: git rebase ${baseName})` };
  // a merge base is what "on top of" means: without one (a shallow clone), counting would be a guess
  const mb = gitRun(['merge-base', baseTip, commit], { cwd });
  if (mb.exitCode !== 0) {
    if (isShallow(cwd)) {
      return { ok: false, missing: true, problem: `this shallow clone lacks the history between ${baseName} and ${commit.slice(0, 12)}, so the one-commit rule cannot be checked; fetch it (git fetch --deepen=50 or --unshallow)` };
    }
    return { ok: false, problem: `commit ${commit.slice(0, 12)} shares no history with ${baseName}` };
  }
  const count = Number(gitRun(['rev-list', '--count', `${baseTip}..${commit}`], { cwd }).stdout.trim());
  if (count === 1) return { ok: true };
  if (count === 0) return { ok: false, problem: `commit ${commit.slice(0, 12)} is already on ${baseName}: ${task} has no commit of its own` };
  return { ok: false, problem: `${task} is ${count} commits on top of ${baseName}; a task is one commit: squash them (git rebase -i ${baseName}), or rebase onto ${baseName} if it moved` };
}
