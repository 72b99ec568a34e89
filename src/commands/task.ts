import fs from 'node:fs';
import type { BaseOptions } from '../cli.js';
import { loadConfig, type Config } from '../config.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { requireWorkRepo, stateDir, type WorkRepo } from '../git/repo.js';
import { parseTaskId, tryTaskId } from '../ids.js';
import { gitIdentity, hostId } from '../identity.js';
import { appendAttempt } from '../notes/attempts.js';
import { SCHEMA_VERSION, type TaskEvent } from '../notes/events.js';
import type { CommandOutput } from '../output.js';
import { numberedPrefix, takeNextNumber } from '../pipeline/seq.js';
import { appendTaskEvents, readTaskRecords, type TaskRecord } from '../pipeline/tasks.js';
import { compareTaskIds, loadState } from '../state/tasks.js';

/** A record as the task commands print it: with the state the task is in, and what blocks it. */
export interface TaskItem extends TaskRecord {
  /** the state status gives the task: `open` (a record, no commit yet), `closed` (not landed), `landed`, `in-progress`, … */
  state: string;
  /** not landed, not closed, and every task it depends on landed */
  ready: boolean;
  /** the tasks it depends on that have not landed */
  blockedBy: string[];
}

/** The fields `task add` and `task edit` take. */
export interface TaskFields {
  title?: string;
  description?: string;
  file?: string;
  parent?: string;
  dependsOn?: string[];
  priority?: string;
  namespace?: string;
}

interface Context {
  repo: WorkRepo;
  config: Config;
}

async function context(cwd: string): Promise<Context> {
  const repo = requireWorkRepo(cwd);
  const { config } = await loadConfig(cwd, repo.toplevel);
  return { repo, config };
}

function event(ctx: Context, task: string, op: TaskEvent['op'], fields: Partial<TaskEvent> = {}): TaskEvent {
  return { v: SCHEMA_VERSION, type: 'task', at: new Date().toISOString(), by: gitIdentity(ctx.repo.toplevel), host: hostId(ctx.repo.commonDir), task, op, ...fields };
}

/** The fields given, checked (exit 2 for any bad one); only those given are set. */
function checkedFields(ctx: Context, o: TaskFields, self: string | null): Partial<TaskEvent> {
  const out: Partial<TaskEvent> = {};
  if (o.title !== undefined) {
    const title = o.title.trim();
    if (title === '') throw badInput('the title is empty', 'give --title "what the task is"');
    out.title = title;
  }
  if (o.description !== undefined && o.file !== undefined) throw badInput('give --description or -F, not both');
  if (o.description !== undefined) out.description = o.description;
  if (o.file !== undefined) {
    try {
      out.description = fs.readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
    } catch (e) {
      throw badInput(`cannot read the description from ${o.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (o.parent !== undefined) {
    const parent = o.parent === '' ? null : parseTaskId(o.parent, ctx.config);
    if (parent !== null && parent === self) throw badInput(`${self} cannot be its own parent`);
    out.parent = parent;
  }
  if (o.dependsOn !== undefined) {
    const deps = [...new Set(o.dependsOn.flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean).map((d) => parseTaskId(d, ctx.config)))];
    if (self !== null && deps.includes(self as never)) throw badInput(`${self} cannot depend on itself`);
    out.dependsOn = deps.sort(compareTaskIds);
  }
  if (o.priority !== undefined) {
    if (!/^\d+$/.test(o.priority.trim()) || Number(o.priority) > 1000) throw badInput(`--priority ${JSON.stringify(o.priority)} is not a whole number from 0 to 1000`, 'lower comes first; the default is 2');
    out.priority = Number(o.priority);
  }
  if (o.namespace !== undefined) out.namespace = o.namespace.trim() === '' ? null : o.namespace.trim();
  return out;
}

/** The state, readiness and blockers of each record (one read of the repository's state for all of them). */
async function items(ctx: Context, wanted: readonly TaskRecord[]): Promise<TaskItem[]> {
  const ids = new Set<string>();
  for (const r of wanted) {
    ids.add(r.id);
    for (const d of r.dependsOn) ids.add(d);
  }
  const views = ids.size ? (await loadState(ctx.repo.toplevel, ctx.config, stateDir(ctx.repo), undefined, undefined, { only: new Set(ids) as never })).tasks : new Map();
  // the state status gives (open, closed, landed, …); a dependency nothing names yet is open
  const stateOf = (id: string): string => views.get(id as never)?.state ?? 'open';
  return wanted.map((r) => {
    const state = stateOf(r.id);
    const blockedBy = r.dependsOn.filter((d) => stateOf(d) !== 'landed');
    return { ...r, state, ready: state !== 'landed' && state !== 'closed' && blockedBy.length === 0, blockedBy };
  });
}

function requireRecord(records: Map<string, TaskRecord>, id: string): TaskRecord {
  const r = records.get(id);
  if (!r?.created) throw new UserError(`no task record ${id}`, ExitCode.usage, `omni-ship task add ${id} --title "…" creates one; omni-ship task list lists them`);
  return r;
}

function line(t: TaskItem): string {
  const blocked = t.blockedBy.length ? `  (blocked by ${t.blockedBy.join(', ')})` : '';
  return `${t.id}  ${t.state}  p${t.priority}  ${t.title ?? '(no title)'}${blocked}`;
}

/** `task add`: creates a task's record; with `next`, takes the next free number at the remote first. */
export async function taskAddCommand(opts: BaseOptions & TaskFields & { task?: string; next: boolean }): Promise<CommandOutput<TaskItem>> {
  const ctx = await context(opts.cwd);
  if (opts.next === (opts.task !== undefined)) throw badInput('give a task id or --next, one of them', 'omni-ship task add t-7 --title "…", or omni-ship task add --next --title "…"');
  if (opts.title === undefined) throw badInput('a task needs a title', 'give --title "what the task is"');
  // every field checked before a number is taken: a refusal takes none
  const fields = checkedFields(ctx, opts, opts.task === undefined ? null : parseTaskId(opts.task, ctx.config));
  let { records } = await readTaskRecords(ctx.repo.toplevel);
  let id: string;
  if (opts.task !== undefined) {
    id = parseTaskId(opts.task, ctx.config);
  } else {
    const remote = ctx.config.remote;
    if (!remote) throw badInput('--next takes the next number at the remote, and this repository has none', 'add a remote (git remote add origin …), or name the task yourself');
    const parent = fields.parent ?? null;
    const valid = (candidate: string) => tryTaskId(candidate, ctx.config) === candidate;
    const prefix = parent === null ? numberedPrefix(ctx.config.taskPattern, valid) : `${parent}.`;
    if (prefix === null || !valid(`${prefix}1`)) {
      throw badInput(`taskPattern ${ctx.config.taskPattern} has no numbered ids${parent ? ` under ${parent}` : ''} that --next can make`, 'name the task yourself');
    }
    const used = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)$`);
    let floor = 0;
    for (const known of records.keys()) floor = Math.max(floor, Number(used.exec(known)?.[1] ?? 0));
    id = `${prefix}${takeNextNumber(ctx.repo.toplevel, remote, parent ?? '', floor)}`;
    // killed here, the number is taken and no record names it: it is never given again (numbers are unique, not
    // dense), and the next --next takes the one after
    failpoint('task:number-taken');
    if (fields.dependsOn?.includes(id)) throw badInput(`${id} cannot depend on itself`);
  }
  const existing = records.get(id);
  if (existing?.created) {
    throw new UserError(`${id} has a task record already, "${existing.title ?? ''}" (created by ${existing.created.by} at ${existing.created.at})`, ExitCode.conflict, `omni-ship task edit ${id} changes it`);
  }
  const e = event(ctx, id, 'created', { title: fields.title, description: fields.description ?? null, parent: fields.parent ?? null, dependsOn: fields.dependsOn ?? [], priority: fields.priority ?? null, namespace: fields.namespace ?? null });
  await appendTaskEvents(ctx.repo.toplevel, [e]);
  ({ records } = await readTaskRecords(ctx.repo.toplevel));
  const [item] = await items(ctx, [requireRecord(records, id)]);
  return { data: item!, text: `${id}: task record created: ${item!.title}` };
}

/** `task edit`: changes the fields given. */
export async function taskEditCommand(opts: BaseOptions & TaskFields & { task: string }): Promise<CommandOutput<TaskItem>> {
  const ctx = await context(opts.cwd);
  const id = parseTaskId(opts.task, ctx.config);
  const fields = checkedFields(ctx, opts, id);
  if (Object.keys(fields).length === 0) throw badInput('nothing to change', 'give --title, --description, -F, --parent, --depends-on, --priority or --namespace');
  let { records } = await readTaskRecords(ctx.repo.toplevel);
  requireRecord(records, id);
  await appendTaskEvents(ctx.repo.toplevel, [event(ctx, id, 'edited', fields)]);
  ({ records } = await readTaskRecords(ctx.repo.toplevel));
  const [item] = await items(ctx, [requireRecord(records, id)]);
  return { data: item!, text: `${id}: changed ${Object.keys(fields).join(', ')}` };
}

/** `task comment`, `task close`, `task reopen`: one event on an existing record. */
export async function taskNoteCommand(opts: BaseOptions & { task: string; op: 'commented' | 'closed' | 'reopened'; message?: string }): Promise<CommandOutput<TaskItem>> {
  const ctx = await context(opts.cwd);
  const id = parseTaskId(opts.task, ctx.config);
  if (opts.op === 'commented' && (opts.message === undefined || opts.message.trim() === '')) throw badInput('a comment needs a text', 'give -m "…"');
  let { records } = await readTaskRecords(ctx.repo.toplevel);
  const record = requireRecord(records, id);
  // reopening also resets an open retry circuit (needs-help): the record's, and the current patchset's
  const view = opts.op === 'reopened' ? (await loadState(ctx.repo.toplevel, ctx.config, stateDir(ctx.repo), undefined, undefined, { only: new Set([id]) as never })).tasks.get(id as never) : undefined;
  const patchsetCircuit = view?.circuitOpen && view.head ? view.head : null;
  const circuitOpen = record.circuit.needsHelp || patchsetCircuit !== null;
  // closing a closed task or reopening an open one (whose circuit is closed) changes nothing, and writes nothing
  const noop = (opts.op === 'closed' && record.closed !== null) || (opts.op === 'reopened' && record.closed === null && !circuitOpen);
  if (!noop) {
    if (patchsetCircuit) {
      const e = event(ctx, id, 'reopened');
      await appendAttempt(ctx.repo.toplevel, e, { task: id, commit: patchsetCircuit, role: 'person', outcome: 'reset', error: opts.message ?? null }, e.at);
    }
    await appendTaskEvents(ctx.repo.toplevel, [event(ctx, id, opts.op, opts.message === undefined ? {} : { message: opts.message })]);
    ({ records } = await readTaskRecords(ctx.repo.toplevel));
  }
  const [item] = await items(ctx, [requireRecord(records, id)]);
  const reopenedSaid = record.closed !== null ? 'reopened' : 'retry circuit reset: run works on it again';
  const said = { commented: 'comment recorded', closed: noop ? 'closed already' : 'closed', reopened: noop ? 'open already' : reopenedSaid }[opts.op];
  return { data: item!, text: `${id}: ${said}` };
}

/** `task list`: every record (or the ready ones, or a parent's), by priority then id. */
export async function taskListCommand(opts: BaseOptions & { ready: boolean; parent?: string }): Promise<CommandOutput<{ rule: 'all' | 'ready'; parent: string | null; tasks: TaskItem[] }>> {
  const ctx = await context(opts.cwd);
  const parent = opts.parent === undefined ? null : parseTaskId(opts.parent, ctx.config);
  const { records, bad } = await readTaskRecords(ctx.repo.toplevel);
  const wanted = [...records.values()].filter((r) => r.created && (parent === null || r.parent === parent));
  let list = await items(ctx, wanted);
  if (opts.ready) list = list.filter((t) => t.ready);
  list.sort((a, b) => a.priority - b.priority || compareTaskIds(a.id, b.id));
  const warnings = bad.length ? [`${bad.length} line(s) of the tasks log could not be read and were skipped`] : undefined;
  const none = opts.ready ? 'no task is ready' : 'no task records';
  return { data: { rule: opts.ready ? 'ready' : 'all', parent, tasks: list }, text: list.length ? list.map(line).join('\n') : none, warnings };
}

/** `task show`: one record whole. */
export async function taskShowCommand(opts: BaseOptions & { task: string }): Promise<CommandOutput<TaskItem>> {
  const ctx = await context(opts.cwd);
  const id = parseTaskId(opts.task, ctx.config);
  const { records } = await readTaskRecords(ctx.repo.toplevel);
  const [t] = await items(ctx, [requireRecord(records, id)]);
  const lines = [`${t!.id}: ${t!.title ?? '(no title)'}`, `  state     ${t!.state}${t!.ready ? ' (ready)' : ''}`, `  priority  ${t!.priority}`];
  if (t!.parent) lines.push(`  parent    ${t!.parent}`);
  if (t!.dependsOn.length) lines.push(`  depends   ${t!.dependsOn.join(', ')}${t!.blockedBy.length ? ` (not landed: ${t!.blockedBy.join(', ')})` : ''}`);
  if (t!.namespace) lines.push(`  namespace ${t!.namespace}`);
  lines.push(`  created   ${t!.created!.at} by ${t!.created!.by}`);
  if (t!.closed) lines.push(`  closed    ${t!.closed.at} by ${t!.closed.by}${t!.closed.message ? `: ${t!.closed.message}` : ''}`);
  if (t!.description) lines.push('', ...t!.description.replace(/\n$/, '').split('\n').map((l) => `  ${l}`));
  for (const c of t!.comments) lines.push('', `  ${c.at} ${c.by}:`, ...(c.message ?? '').split('\n').map((l) => `    ${l}`));
  for (const a of t!.attempts) lines.push('', `  attempt ${a.at}${a.role ? ` (${a.role})` : ''}: ${a.message ?? 'no commit'}`);
  return { data: t!, text: lines.join('\n') };
}
