import type { BaseOptions } from '../cli.js';
import type { Config } from '../config.js';
import { loadConfig } from '../config.js';
import { ExitCode, UserError } from '../errors.js';
import { git } from '../git/exec.js';
import { requireWorkRepo, stateDir } from '../git/repo.js';
import { parseTaskId, taskIdFromBranch, type TaskId } from '../ids.js';
import { trailerClaim, trailerPlaceholder, trailerValues } from '../notes/claim.js';
import { baseCommitsAmong, recordPatchsets } from '../notes/patchsets.js';
import { unknownTask } from '../messages.js';
import type { CommandOutput } from '../output.js';
import { loadState } from '../state/tasks.js';

/** The JSON shape of `omni-ship patchset --json` (the predecessor tracker's interface). */
export interface PatchsetJson {
  taskId: string;
  patchsetCount: number;
  incremented: boolean;
  trailer: string;
}

/** Shows a task's patchset count; with increment, records the task branch's tip as a patchset (idempotently). */
export async function patchsetCommand(opts: BaseOptions & { task: string; increment: boolean }): Promise<CommandOutput<PatchsetJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: stateDir(repo) });
  const id = parseTaskId(opts.task, config);
  let incremented = false;
  if (opts.increment) {
    const branches = git(['for-each-ref', '--format=%(refname:short)%00%(objectname)', 'refs/heads'], { cwd: repo.toplevel })
      .split('\n')
      .map((l) => l.split('\0') as [string, string])
      .filter(([b]) => b && taskIdFromBranch(b, config) === id);
    const current = git(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd: repo.toplevel, okCodes: [1] }).trim();
    const chosen = branches.find(([b]) => b === current) ?? (branches.length === 1 ? branches[0] : undefined);
    if (!chosen) {
      throw new UserError(
        branches.length ? `${id} has several task branches (${branches.map(([b]) => b).join(', ')})` : `${id} has no task branch here`,
        ExitCode.usage,
        branches.length ? 'check out the one to record, then run this again' : `create one: git switch -c ${id}`,
      );
    }
    refuseForeignTip(repo.toplevel, config, id, chosen[0], chosen[1]);
    const { written } = await recordPatchsets(repo.toplevel, repo.commonDir, config, [
      { commit: chosen[1], branch: chosen[0], supersedes: null, via: 'manual', at: new Date() },
    ]);
    incremented = written > 0;
  }
  const task = (await loadState(repo.toplevel, config, stateDir(repo), undefined, undefined, { only: new Set([id]) })).tasks.get(id);
  // as show does: a count of 0 for a task nobody named would read as "known, nothing recorded yet"
  if (!task) throw unknownTask(id);
  const count = task.patchsets.length;
  const data: PatchsetJson = { taskId: id, patchsetCount: count, incremented, trailer: `${config.trailerKey}: ${id}` };
  return { data, text: `${id}: ${count} patchset${count === 1 ? '' : 's'}${opts.increment ? (incremented ? ' (recorded the branch tip)' : ' (the branch tip was recorded already)') : ''}` };
}

/**
 * A task branch's tip is a patchset of the task only when it is the task's own commit: not a commit of the base
 * branch (a branch just made from base has none yet) and not one whose trailer names another task, an invalid id,
 * or several tasks (the rule recordPatchsets and the state model follow).
 */
function refuseForeignTip(cwd: string, config: Config, id: TaskId, branch: string, sha: string): void {
  if (baseCommitsAmong(cwd, config, [sha]).has(sha)) {
    throw new UserError(`${id} has no commit of its own: branch ${branch} has nothing on top of ${config.baseBranch}`, ExitCode.usage, `commit the work on ${branch} first`);
  }
  const field = git(['log', '-1', `--format=${trailerPlaceholder(config.trailerKey)}`, sha, '--'], { cwd }).replace(/\n+$/, '');
  const claim = trailerClaim(trailerValues(field), config, config.trailerKey);
  if (claim.kind === 'bad') {
    throw new UserError(`${branch}'s tip ${sha.slice(0, 12)} is no commit of ${id}: ${claim.reason}`, ExitCode.usage, `commit ${id}'s own work on ${branch} with a ${config.trailerKey}: ${id} trailer`);
  }
  if (claim.kind === 'task' && claim.task !== id) {
    throw new UserError(
      `${branch}'s tip ${sha.slice(0, 12)} belongs to ${claim.task} (its ${config.trailerKey} trailer), not to ${id}`,
      ExitCode.usage,
      `commit ${id}'s own work on ${branch} first`,
    );
  }
}
