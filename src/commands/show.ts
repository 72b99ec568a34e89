import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { UserError, ExitCode } from '../errors.js';
import { requireWorkRepo, stateDir } from '../git/repo.js';
import { parseTaskId } from '../ids.js';
import { byTime, type AttemptEvent, type ReviewEvent, type VerifyEvent } from '../notes/events.js';
import type { Patchset } from '../notes/fold.js';
import { columns, type CommandOutput } from '../output.js';
import { loadState, readRefSnapshot } from '../state/tasks.js';
import { readVerifyContext } from '../verify/current.js';
import { git } from '../git/exec.js';
import { KEPT_REF, PATCHSET_REF_PREFIX } from '../notes/refs.js';
import { catFileBatch } from '../git/batch.js';
import { badLineWarnings, taskJson, type TaskStatusJson } from './status.js';
import type { TaskRecord } from '../pipeline/tasks.js';

/** The JSON shape of `omni-ship show --json`: a status task's fields (its `record` whole), and the task's history. */
export interface ShowJson extends Omit<TaskStatusJson, 'record'> {
  taskId: string;
  trailer: string;
  patchsetCount: number;
  /**
   * `ref`: the ref that keeps the commit reachable: refs/omni-ship/kept, or the commit's own per-patchset ref an older
   * omni-ship made (refs/omni-ship/patchsets/<task>/<k>) until a write or sync folds it in; null when this clone
   * does not have the commit (recorded on another clone, not synced yet)
   */
  patchsetHistory: (Patchset & { current: boolean; ref: string | null })[];
  /** every verify event on the task's trees; `currentSpec`: recorded under the spec results are judged by now */
  verifyEvents: (VerifyEvent & { currentSpec: boolean })[];
  /** the spec hash results are judged by (null: no steps configured, or the spec cannot be read) */
  spec: string | null;
  reviews: ReviewEvent[];
  attempts: AttemptEvent[];
  /**
   * the task's record (`omni-ship task`: title, description, parent, dependencies, comments), whole, or null: more
   * than status's `record`, whose `closed` is whether it is closed where this one's says when and by whom
   */
  record: TaskRecord | null;
  /** what show also says on stderr (as in status) */
  warnings: string[];
}

/** One task's whole history: patchsets, verify events, reviews, attempts and the landing. */
export async function showCommand(opts: BaseOptions & { task: string }): Promise<CommandOutput<ShowJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const id = parseTaskId(opts.task, config);
  const refs = await readRefSnapshot(repo.toplevel);
  const judged = await readVerifyContext(repo.toplevel, repo.commonDir, stateDir(repo), config, refs).load();
  const state = await loadState(repo.toplevel, config, stateDir(repo), refs, judged.context, { only: new Set([id]) });
  const task = state.tasks.get(id);
  // the record, read with the other logs (a task with only a record is an open task)
  const record = state.records.get(id) ?? null;
  if (!task) throw new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, 'omni-ship status lists the tasks this repository knows');
  const trees = new Set(task.patchsets.map((p) => p.tree));
  const keptBy = new Map<string, string>();
  const listed = git(['for-each-ref', '--format=%(objectname) %(refname)', `${PATCHSET_REF_PREFIX}${id}/`, KEPT_REF], { cwd: repo.toplevel });
  const kept = listed.split('\n').some((line) => line.endsWith(` ${KEPT_REF}`));
  for (const line of listed.split('\n')) {
    const [commit, ref] = line.split(' ');
    if (commit && ref && ref !== KEPT_REF && !keptBy.has(commit)) keptBy.set(commit, ref);
  }
  // the kept ref keeps every patchset commit this clone has: ask git which of the task's it has
  if (kept) {
    const commits = task.patchsets.map((p) => p.commit).filter((c) => !keptBy.has(c));
    for (const o of await catFileBatch(repo.toplevel, commits)) if (o.oid && o.type === 'commit') keptBy.set(o.request, KEPT_REF);
  }
  const verifyEvents = state.events.verify
    .filter((e) => trees.has(e.tree) || e.task === id)
    .sort(byTime)
    .map((e) => ({ ...e, currentSpec: e.spec === judged.context.spec }));
  // reviews and attempts name their task: another task's verdict on a shared commit is not this one's
  const reviews = state.events.review.filter((e) => e.task === id).sort(byTime);
  const attempts = state.events.attempt.filter((e) => e.task === id).sort(byTime);
  const warnings = [...badLineWarnings(state), ...(judged.warning ? [judged.warning] : [])];
  const data: ShowJson = {
    taskId: id,
    trailer: `${config.trailerKey}: ${id}`,
    patchsetCount: task.patchsets.length,
    // status's summary of the record left out: the whole record follows, where show has always had it
    ...withoutRecord(taskJson(task)),
    patchsetHistory: task.patchsets.map((p) => ({ ...p, current: p.commit === task.head, ref: keptBy.get(p.commit) ?? null })),
    verifyEvents,
    spec: judged.context.spec,
    reviews,
    attempts,
    record,
    warnings,
  };
  const lines = [
    `${id}  ${task.state}${task.branch ? `  branch ${task.branch}` : ''}${task.head ? `  head ${task.head.slice(0, 12)}` : ''}`,
    `trailer: ${data.trailer}`,
  ];
  if (record) {
    lines.push(`title: ${record.title ?? '(none)'}${record.closed ? ' (closed)' : ''}`);
    if (record.parent) lines.push(`parent: ${record.parent}`);
    if (record.dependsOn.length) lines.push(`depends on: ${record.dependsOn.join(', ')}`);
  }
  if (task.live.length > 1) lines.push(`diverged: ${task.live.map((c) => c.slice(0, 12)).join(', ')} all claim ${id}`);
  lines.push('', `patchsets (${task.patchsets.length}):`);
  if (task.patchsets.length) {
    lines.push(
      columns(
        task.patchsets.map((p) => [
          `${p.commit === task.head ? '*' : ' '} ${p.n}`,
          p.commit.slice(0, 12),
          p.at,
          p.author && p.author !== p.by ? `${p.author} (committed by ${p.by})` : p.by,
          p.via + (p.supersedes.length ? ` (replaces ${p.supersedes.map((s) => s.slice(0, 12)).join(', ')})` : ''),
          // a commit this clone lacks (recorded elsewhere, not synced yet)
          keptBy.has(p.commit) ? '' : 'not in this clone',
        ]),
      ),
    );
  } else lines.push('  none recorded');
  if (task.verifyingSince) lines.push('', `verifying on this machine since ${task.verifyingSince}`);
  if (verifyEvents.length) {
    lines.push(
      '',
      'verify:',
      ...verifyEvents.map(
        (e) =>
          `  ${e.at} ${e.result}${e.step ? ` in ${e.step}` : ''}${e.summary ? `: ${e.summary}` : ''} (tree ${e.tree.slice(0, 12)}, by ${e.by} on ${e.host}${e.currentSpec ? '' : `, under another spec ${e.spec.slice(0, 12)}`})`,
      ),
    );
  }
  if (reviews.length) lines.push('', 'reviews:', ...reviews.map((e) => `  ${e.at} ${e.verdict} by ${e.by} on ${e.commit.slice(0, 12)}${e.message ? `: ${e.message}` : ''}`));
  if (attempts.length) lines.push('', 'attempts:', ...attempts.map((e) => `  ${e.at} ${e.role} ${e.outcome}${e.error ? `: ${e.error}` : ''}`));
  if (task.landing) lines.push('', `landed: ${task.landing.landed.slice(0, 12)} on ${task.landing.base} at ${task.landing.at} by ${task.landing.by}`);
  if (task.reverted) lines.push('', `reverted: ${task.reverted.landed.slice(0, 12)} by ${task.reverted.revert.slice(0, 12)} on ${task.reverted.base} at ${task.reverted.at} (${task.reverted.reason ?? 'no reason given'})`);
  else if (task.landedCommit) lines.push('', `landed: ${task.landedCommit.slice(0, 12)} is on ${state.base}`);
  return { data, text: lines.join('\n'), warnings };
}

/** A status task's fields without its `record` (show gives the whole record instead). */
function withoutRecord({ record: _summary, ...fields }: TaskStatusJson): Omit<TaskStatusJson, 'record'> {
  return fields;
}
