import type { Config } from '../config.js';
import type { LandConfig } from '../config/land.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { trailerClaim, trailerPlaceholder, trailerValues } from '../notes/claim.js';
import type { TaskView } from '../state/tasks.js';
import { checkShape } from '../verify/shape.js';

/** The gates, as `land --json` names them. */
export type Gate =
  | 'unknown-task'
  | 'no-commit'
  | 'missing-commit'
  | 'diverged'
  | 'circuit'
  | 'closed'
  | 'trailer'
  | 'shape'
  | 'approval'
  | 'conflict'
  | 'empty'
  | 'verify'
  | 'verify-own-spec'
  | 'skip'
  | 'not-cached'
  | 'push-refused'
  | 'post-verify'
  | 'lost-race';

/** Why a task did not land: the gate, the message, what to do, the exit code. */
export interface Refusal {
  gate: Gate;
  reason: string;
  hint: string | null;
  exitCode: ExitCodeValue;
}

/** A task that passed the gates that need no candidate: what the queue lands. */
export interface Eligible {
  task: string;
  view: TaskView;
  head: string;
  patchset: number | null;
  /** the commit has no trailer (a cherry-pick or revert): the landed commit gets one */
  addTrailer: boolean;
  /** a base tip whose history holds the commit's parent (the shape check proved it), or null */
  parentInHistoryOf: string | null;
}

/** Shorthand for a Refusal. */
export function refusal(gate: Gate, reason: string, hint: string | null, exitCode: ExitCodeValue = ExitCode.refused): Refusal {
  return { gate, reason, hint, exitCode };
}

/**
 * The gates of one task that need no candidate, in the order a user fixes them: the task exists and has one commit
 * of its own, present here, claimed by no other live commit; its retry circuit is closed; its trailer names it
 * alone (none: land adds it); it is exactly one commit on top of the base; it is approved when the team requires it.
 */
export function pregate(cwd: string, config: Config, land: LandConfig, view: TaskView, base: { tip: string; name: string; commonDir: string }): Eligible | Refusal {
  const id = view.id;
  if (!view.head) {
    // a branch whose commit names another task gives this task no head: say what is wrong with that commit
    const tip = view.branch ? gitRun(['log', '-1', `--format=%H%x1f${trailerPlaceholder(config.trailerKey)}`, '--end-of-options', view.branch, `^${base.tip}`, '--'], { cwd }) : null;
    if (tip && tip.exitCode === 0 && tip.stdout.trim()) {
      const [sha = '', field = ''] = tip.stdout.trim().split('\x1f');
      const claim = trailerClaim(trailerValues(field), config, config.trailerKey);
      if (claim.kind === 'bad') return refusal('trailer', `${id}: commit ${sha.slice(0, 12)} on ${view.branch} belongs to no task: ${claim.reason}`, `amend its message to name ${id} alone (${config.trailerKey}: ${id})`);
      if (claim.kind === 'task' && claim.task !== id) return refusal('trailer', `${id}: commit ${sha.slice(0, 12)} on ${view.branch} names ${claim.task}, not ${id}`, `amend its ${config.trailerKey} trailer to ${id}, or land ${claim.task}`);
    }
    return refusal('no-commit', `${id} has no commit of its own: its branch has nothing on top of ${base.name}`, `commit the work on ${view.branch ?? id}, then land`, ExitCode.usage);
  }
  const head = view.head;
  if (view.live.length > 1) {
    return refusal('diverged', `${id} is diverged: ${view.live.map((c) => c.slice(0, 12)).join(' and ')} both claim it`, 'keep one commit (delete or reset the other branch), then land', ExitCode.conflict);
  }
  if (view.state === 'closed') {
    return refusal('closed', `${id} is closed (omni-ship task close): a closed task does not land`, `omni-ship task reopen ${id}, then land`);
  }
  if (view.circuitOpen) {
    return refusal('circuit', `${id}'s retry circuit is open: its attempts on ${head.slice(0, 12)} ended in needs-help`, `fix the task and amend (a new patchset starts a clean slate), or omni-ship task reopen ${id} (resets it)`);
  }
  // one log of the commits on top of the base answers the trailer and the shape (checkShape)
  const shape = checkShape(cwd, config, id, head, base.tip, base.name, base.commonDir);
  if (!shape.ok) {
    if (shape.trailer) return refusal('trailer', `${id}: ${shape.problem}`, `amend its message to name ${id} alone (${config.trailerKey}: ${id})`);
    if (shape.missing && gitRun(['cat-file', '-e', `${head}^{commit}`], { cwd }).exitCode !== 0) {
      return refusal('missing-commit', `${id}'s commit ${head.slice(0, 12)} is not in this clone`, `fetch it (git fetch), then land again`, ExitCode.usage);
    }
    return refusal('shape', `${id}: ${shape.problem}`, null, shape.missing ? ExitCode.usage : ExitCode.refused);
  }
  if (land.requireApproval && view.review?.verdict !== 'approve') {
    const now = view.review ? `its latest review asks for changes (${view.review.by})` : 'it has no review';
    return refusal('approval', `${id}: land.requireApproval is set and ${now} on patchset ${patchsetOf(view, head) ?? '?'} (${head.slice(0, 12)})`, `omni-ship review ${id} --approve`);
  }
  return { task: id, view, head, patchset: patchsetOf(view, head), addTrailer: shape.trailerless, parentInHistoryOf: shape.parentInBase ? base.tip : null };
}

/** The patchset number of `commit` among the task's patchsets, or null. */
export function patchsetOf(view: TaskView, commit: string): number | null {
  return view.patchsets.find((p) => p.commit === commit)?.n ?? null;
}

/** Whether a gate result is a refusal. */
export function isRefusal(x: Eligible | Refusal): x is Refusal {
  return 'gate' in x;
}
