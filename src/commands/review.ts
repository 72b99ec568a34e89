import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { requireWorkRepo, stateDir } from '../git/repo.js';
import { parseTaskId } from '../ids.js';
import { gitIdentity, hostId } from '../identity.js';
import { SCHEMA_VERSION, type ReviewEvent } from '../notes/events.js';
import { NOTES_REFS } from '../notes/refs.js';
import { appendEvents } from '../notes/write.js';
import type { CommandOutput } from '../output.js';
import { loadState } from '../state/tasks.js';

/** Appends a review verdict to the task's current commit (its current patchset). */
export async function reviewCommand(
  opts: BaseOptions & { task: string; approve: boolean; requestChanges: boolean; message?: string },
): Promise<CommandOutput<ReviewEvent>> {
  if (opts.approve === opts.requestChanges) throw badInput('give exactly one of --approve and --request-changes');
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const id = parseTaskId(opts.task, config);
  const task = (await loadState(repo.toplevel, config, stateDir(repo), undefined, undefined, { only: new Set([id]) })).tasks.get(id);
  if (!task) throw new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, 'omni-ship status lists the tasks');
  if (task.state === 'landed') throw new UserError(`${id} has landed already; there is nothing left to review`, ExitCode.refused);
  if (!task.head) {
    throw new UserError(
      `${id} has no commit of its own to review: branch ${task.branch ?? id} has nothing on top of ${config.baseBranch}`,
      ExitCode.usage,
      `commit the work on ${task.branch ?? id} first`,
    );
  }
  if (task.live.length > 1) {
    throw new UserError(`${id} is diverged: ${task.live.map((c) => c.slice(0, 12)).join(' and ')} both claim it`, ExitCode.conflict, 'keep one branch, then review');
  }
  const event: ReviewEvent = {
    v: SCHEMA_VERSION,
    type: 'review',
    at: new Date().toISOString(),
    by: gitIdentity(repo.toplevel),
    host: hostId(repo.commonDir),
    task: id,
    commit: task.head,
    verdict: opts.approve ? 'approve' : 'request-changes',
    message: opts.message ?? null,
  };
  await appendEvents(repo.toplevel, NOTES_REFS.reviews, [{ object: task.head, events: [event] }]);
  const n = task.patchsets.find((p) => p.commit === task.head)?.n;
  return { data: event, text: `${id}: ${event.verdict} recorded on ${task.head.slice(0, 12)}${n ? ` (patchset ${n})` : ''}` };
}
