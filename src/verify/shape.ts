import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { gitRun } from '../git/exec.js';
import { trailerClaim, trailerPlaceholder, trailerValues } from '../notes/claim.js';

/** The branch shape of a task commit: fine, or what is wrong with it (a failure of the `shape` step). */
export type ShapeVerdict =
  /**
   * `trailerless`: the commit carries no task trailer (land adds it); `parentInBase`: the walk proved the commit's
   * parent is in the base's history (a full clone listed the commit alone)
   */
  | { ok: true; trailerless: boolean; parentInBase: boolean }
  /** `missing`: the history cannot be read (not in this clone, or cut by a shallow clone); `trailer`: the commit's trailer is what is wrong */
  | { ok: false; problem: string; missing?: boolean; trailer?: boolean };

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
export function checkShape(cwd: string, config: Config, task: string, commit: string, baseTip: string, baseName: string, commonDir?: string): ShapeVerdict {
  // one log: the commits on top of the base, newest first, with parents and trailers (the common case needs no more)
  const log = gitRun(['log', `--format=%H%x1f%P%x1f${trailerPlaceholder(config.trailerKey)}%x1e`, `${baseTip}..${commit}`, '--'], { cwd });
  if (log.exitCode !== 0) return { ok: false, problem: `cannot read the history between ${baseName} and ${commit.slice(0, 12)}`, missing: true };
  const records = log.stdout
    .split('\x1e')
    .map((r) => r.replace(/^\n+/, ''))
    .filter(Boolean)
    .map((r) => r.split('\x1f'));
  const short = commit.slice(0, 12);
  if (records.length === 0) return { ok: false, problem: `commit ${short} is already on ${baseName}: ${task} has no commit of its own` };
  const [, parents, trailers] = records[0]!;
  const claim = trailerClaim(trailerValues(trailers ?? ''), config, config.trailerKey);
  if (claim.kind === 'bad') return { ok: false, trailer: true, problem: `commit ${short} belongs to no task: ${claim.reason}; amend its message to name ${task} alone` };
  if (claim.kind === 'task' && claim.task !== task) {
    return { ok: false, trailer: true, problem: `commit ${short} names ${claim.task}, not ${task}; amend its ${config.trailerKey} trailer, or verify ${claim.task}` };
  }
  if ((parents ?? '').split(' ').filter(Boolean).length > 1) return { ok: false, problem: `commit ${short} is a merge; a task is one plain commit on top of ${baseName} (rebase it: git rebase ${baseName})` };
  // in a shallow clone the walk stops at the cut, so a count proves nothing unless the two histories meet; a full
  // clone needs that check only to tell "many commits" from "no shared history"
  const shallow = commonDir ? fs.existsSync(path.join(commonDir, 'shallow')) : isShallow(cwd);
  if (shallow || records.length > 1) {
    if (gitRun(['merge-base', baseTip, commit], { cwd }).exitCode !== 0) {
      if (shallow) {
        return { ok: false, missing: true, problem: `this shallow clone lacks the history between ${baseName} and ${short}, so the one-commit rule cannot be checked; fetch it (git fetch --deepen=50 or --unshallow)` };
      }
      return { ok: false, problem: `commit ${short} shares no history with ${baseName}` };
    }
  }
  if (records.length === 1) return { ok: true, trailerless: claim.kind === 'none', parentInBase: !shallow };
  return { ok: false, problem: `${task} is ${records.length} commits on top of ${baseName}; a task is one commit: squash them (git rebase -i ${baseName}), or rebase onto ${baseName} if it moved` };
}
