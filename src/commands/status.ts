import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { badInput } from '../errors.js';
import { discoverWorkRepo, requireWorkRepo, stateDir } from '../git/repo.js';
import { parseTaskId } from '../ids.js';
import { colorEnabled, columns, style, type CommandOutput } from '../output.js';
import { readStatusAnswer, readStatusSnapshot, statusKey } from '../state/status-cache.js';
import type { VerifyEvent } from '../notes/events.js';
import { readVerifyContext } from '../verify/current.js';
import { buildFingerprint } from '../state/build.js';
import { readRefSnapshot } from '../state/ref-snapshot.js';
import { trailerSettingsKey } from '../state/trailer-settings.js';
import { STATES, type TaskState } from '../state/states.js';
import type { RepoState, TaskRecordSummary, TaskView } from '../state/tasks.js';
import { activeRuns, type ActiveRun } from '../state/active-runs.js';

// The answer a run stores is printed by the next run whose refs and config are the same: that path loads only what
// reads it back (this module's imports); computing one (./status-compute.js) loads the state readers when needed.

/** One task in `omni-ship status --json`. */
export interface TaskStatusJson {
  id: string;
  parent: string | null;
  state: TaskState;
  branch: string | null;
  head: string | null;
  patchsets: number;
  /** the answer for the head's tree under the current spec, and who recorded it where */
  verify: VerifyJsonLine | null;
  /** the latest answer under another spec (an old one, a commit's own): never counted as verified */
  verifyOtherSpec: { result: string; at: string; spec: string } | null;
  /** a verify of the head's tree running on this machine: since when */
  verifyingSince: string | null;
  review: { verdict: string; by: string; at: string; message: string | null } | null;
  landing: { commit: string; landed: string; base: string; at: string; by: string } | null;
  /** the latest landing, undone by a revert after land.postVerify failed (the task is not landed), or null */
  reverted: { landed: string; revert: string; at: string; by: string; reason: string | null } | null;
  landedCommit: string | null;
  live: string[];
  /** what status shows of the task's record (`omni-ship task`): title, parent, dependencies, priority, closed; null without one */
  record: TaskRecordSummary | null;
}

/** A verify result as status and show print it. */
export interface VerifyJsonLine {
  result: string;
  at: string;
  spec: string;
  step: string | null;
  exitCode: number | null;
  summary: string | null;
  by: string;
  host: string;
}

function verifyLine(e: VerifyEvent | null): VerifyJsonLine | null {
  return e ? { result: e.result, at: e.at, spec: e.spec, step: e.step, exitCode: e.exitCode, summary: e.summary, by: e.by, host: e.host } : null;
}

/** Which tasks `status` lists (counts are always of every task). */
export interface StatusListing {
  /**
   * `in-flight` (the default): every task not landed, and those landed in the last `landedWithinDays` days (by
   * their land event's time); `all` (--all): every task; `filter` (--state, --parent, --task): the tasks they
   * select, of every task
   */
  rule: 'in-flight' | 'all' | 'filter';
  /** the in-flight rule's window, else null */
  landedWithinDays: number | null;
  /** how many tasks the rule left out */
  hidden: number;
}

/** How far back the default listing shows landed tasks. */
export const RECENT_LANDED_DAYS = 3;

/** The JSON shape of `omni-ship status --json`. */
export interface StatusJson {
  base: string;
  /** the hash of the verify spec results are judged by (the base's or the local config's); null without steps */
  spec: string | null;
  counts: Record<TaskState, number>;
  listing: StatusListing;
  tasks: TaskStatusJson[];
  /** what status also says on stderr: a base branch that does not exist, unreadable note lines, … */
  warnings: string[];
  /** the agents `omni-ship run` processes on this machine have at work now (of the tasks a filter selects) */
  runs: ActiveRun[];
}

/** StatusJson without the active runs: what a run computes from git, and stores for the next (runs are read afresh). */
export type StatusAnswer = Omit<StatusJson, 'runs'>;

/** The JSON view of one task (shared with `show`). */
export function taskJson(t: TaskView): TaskStatusJson {
  return {
    id: t.id,
    parent: t.parent,
    state: t.state,
    branch: t.branch,
    head: t.head,
    patchsets: t.patchsets.length,
    verify: verifyLine(t.verify),
    verifyOtherSpec: t.verifyOtherSpec ? { result: t.verifyOtherSpec.result, at: t.verifyOtherSpec.at, spec: t.verifyOtherSpec.spec } : null,
    verifyingSince: t.verifyingSince,
    review: t.review ? { verdict: t.review.verdict, by: t.review.by, at: t.review.at, message: t.review.message } : null,
    landing: t.landing ? { commit: t.landing.commit, landed: t.landing.landed, base: t.landing.base, at: t.landing.at, by: t.landing.by } : null,
    reverted: t.reverted ? { landed: t.reverted.landed, revert: t.reverted.revert, at: t.reverted.at, by: t.reverted.by, reason: t.reverted.reason } : null,
    landedCommit: t.landedCommit,
    live: t.live,
    record: t.record && { title: t.record.title, parent: t.record.parent, dependsOn: t.record.dependsOn, priority: t.record.priority, closed: t.record.closed },
  };
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
/** True when `o` is an object whose listed fields pass their checks. */
function shaped(o: unknown, fields: Record<string, (v: unknown) => boolean>): boolean {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  for (const f in fields) if (!fields[f]!((o as Record<string, unknown>)[f])) return false;
  return true;
}
const nullOr = (fields: Record<string, (v: unknown) => boolean>) => (v: unknown) => v === null || shaped(v, fields);
const VERIFY_FIELDS = { result: isStr, at: isStr, spec: isStr, step: strOrNull, exitCode: (v: unknown) => v === null || typeof v === 'number', summary: strOrNull, by: isStr, host: isStr };
const TASK_FIELDS: Record<keyof TaskStatusJson, (v: unknown) => boolean> = {
  id: isStr,
  parent: strOrNull,
  state: (v) => (STATES as readonly unknown[]).includes(v),
  branch: strOrNull,
  head: strOrNull,
  patchsets: (v) => typeof v === 'number',
  verify: nullOr(VERIFY_FIELDS),
  verifyOtherSpec: nullOr({ result: isStr, at: isStr, spec: isStr }),
  verifyingSince: strOrNull,
  review: nullOr({ verdict: isStr, by: isStr, at: isStr, message: strOrNull }),
  landing: nullOr({ commit: isStr, landed: isStr, base: isStr, at: isStr, by: isStr }),
  reverted: nullOr({ landed: isStr, revert: isStr, at: isStr, by: isStr, reason: strOrNull }),
  landedCommit: strOrNull,
  live: (v) => Array.isArray(v) && v.every(isStr),
  record: nullOr({ title: strOrNull, parent: strOrNull, dependsOn: (v) => Array.isArray(v) && v.every(isStr), priority: (v) => typeof v === 'number', closed: (v) => typeof v === 'boolean' }),
};

/** True when `t` has the shape of a TaskStatusJson (for answers read back from the status cache). */
export function isTaskStatusJson(t: unknown): t is TaskStatusJson {
  return shaped(t, TASK_FIELDS);
}

/** Warnings for what could not be read (note lines, notes refs): skipped, never deleted. */
export function badLineWarnings(state: RepoState): string[] {
  const lines = state.bad.map((b) => `skipped ${b.count} unreadable line(s) in ${b.ref} (first: note on ${b.first.object.slice(0, 12)}: ${b.first.reason})`);
  return [...state.warnings, ...lines];
}

const stateColor: Partial<Record<TaskState, 'green' | 'red' | 'yellow' | 'cyan' | 'dim'>> = {
  landed: 'dim',
  verified: 'green',
  approved: 'green',
  failed: 'red',
  'needs-help': 'red',
  diverged: 'yellow',
  verifying: 'cyan',
  closed: 'dim',
};

/** The VERIFY column: the answer (and the failing step), the elapsed time of a run here, or an answer under another spec. */
function verifyCell(t: TaskStatusJson): string {
  if (t.verifyingSince) return `running ${Math.max(0, Math.round((Date.now() - Date.parse(t.verifyingSince)) / 1000))} s`;
  if (t.verify) return t.verify.result === 'fail' && t.verify.step ? `fail: ${t.verify.step}` : t.verify.result;
  if (t.verifyOtherSpec) return `(${t.verifyOtherSpec.result}, other spec)`;
  return '-';
}

/**
 * Lists the tasks in flight (every one not landed, and those landed in the last RECENT_LANDED_DAYS), or every task
 * (--all), or those a filter selects, with their state, branch, head, patchsets, verify result, review and landing;
 * plus counts per state of every task.
 */
export async function statusCommand(
  opts: BaseOptions & { all?: boolean; state?: string; parent?: string; task?: string; /** the ref snapshot, when the caller started reading it (src/main.ts) */ refSnapshot?: Promise<string> },
): Promise<CommandOutput<StatusJson>> {
  // from the file system when it settles it (no process), as sync and land do; else git says
  const found = discoverWorkRepo(opts.cwd);
  const repo = found?.toplevel ? { ...found, toplevel: found.toplevel } : requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  if (opts.state && !(STATES as readonly string[]).includes(opts.state)) {
    throw badInput(`unknown state '${opts.state}'`, `one of: ${STATES.join(', ')}`);
  }
  const parent = opts.parent ? parseTaskId(opts.parent, config) : null;
  const only = opts.task ? parseTaskId(opts.task, config) : null;
  const dir = stateDir(repo);
  const refs = (await opts.refSnapshot?.catch(() => null)) ?? (await readRefSnapshot(repo.toplevel));
  // the build's fingerprint (every cache is keyed by it), remembered in the state dir
  buildFingerprint(dir);
  const verify = readVerifyContext(repo.toplevel, repo.commonDir, dir, config, refs);
  // while no ref moved, the answer is the one computed last time (a status polled in a loop)
  const key = statusKey(config, `${refs}\0${verify.keyPart}\0${trailerSettingsKey(repo.commonDir)}`);
  const filtered = !!(opts.state || parent || only);
  const rule: StatusListing['rule'] = filtered ? 'filter' : opts.all ? 'all' : 'in-flight';
  const now = Date.now();
  // the agents at work now: read afresh every time (a few files, no process), never part of an answer stored
  const runs = activeRuns(dir, now).filter((r) => (!parent || r.task === parent || r.task.startsWith(`${parent}.`)) && (!only || r.task === only));
  let data: StatusAnswer;
  if (rule === 'in-flight') {
    const stored = readStatusAnswer(dir, key, now);
    if (stored !== null) {
      // printed as stored (the runs put at its end): no parse, no layout
      const jsonText = opts.json ? withRuns(stored.text, runs) : null;
      if (jsonText) return { data: null as unknown as StatusJson, jsonText, text: '', warnings: stored.warnings };
      try {
        data = JSON.parse(stored.text.toString('utf8')) as StatusAnswer;
      } catch {
        data = await (await import('./status-compute.js')).inFlightListing(repo.toplevel, config, dir, refs, verify, key, now);
      }
    } else data = await (await import('./status-compute.js')).inFlightListing(repo.toplevel, config, dir, refs, verify, key, now);
  } else {
    let snapshot = readStatusSnapshot(dir, key, isTaskStatusJson);
    if (!snapshot) snapshot = await (await import('./status-compute.js')).everyTask(repo.toplevel, config, dir, refs, verify, key);
    const all = snapshot.tasks;
    const counts = countStates(all, 0, 0);
    const shown = all.filter(
      (t) => (!opts.state || t.state === opts.state) && (!parent || t.id === parent || t.id.startsWith(`${parent}.`)) && (!only || t.id === only),
    );
    data = { base: snapshot.base, spec: snapshot.spec ?? null, counts, listing: { rule, landedWithinDays: null, hidden: all.length - shown.length }, tasks: shown, warnings: snapshot.warnings };
  }
  const { counts, listing, tasks: shown, warnings } = data;
  const all = { length: STATES.reduce((n, s) => n + counts[s], 0) };
  // --json prints data only: don't lay out a table of 10,000 rows nobody sees. The runs last, as withRuns puts them
  if (opts.json) return { data: { ...data, runs }, text: '', warnings };
  const landedSince = rule === 'in-flight' ? new Date(now - RECENT_LANDED_DAYS * 86_400_000).toISOString() : null;
  // colorEnabled: a TTY, and never when NO_COLOR is set (README); isTTY alone ignored NO_COLOR
  const color = !opts.json && colorEnabled();
  // a TITLE column when a task shown has a record
  const titled = shown.some((t) => t.record !== null);
  const rows = [['TASK', 'STATE', 'BRANCH', 'HEAD', 'PS', 'VERIFY', 'REVIEW', 'LANDED', ...(titled ? ['TITLE'] : [])].map((h) => style('bold', h, color))];
  for (const t of shown) {
    const c = stateColor[t.state];
    rows.push([
      t.id,
      c ? style(c, t.state, color) : t.state,
      t.branch ?? '-',
      t.head ? t.head.slice(0, 10) : '-',
      String(t.patchsets),
      verifyCell(t),
      t.review?.verdict ?? '-',
      // the commit that became part of the base branch
      (t.landing?.landed ?? t.landedCommit)?.slice(0, 10) ?? '-',
      ...(titled ? [t.record?.title ?? ''] : []),
    ]);
  }
  if (titled) fitTitles(rows);
  const summary = STATES.filter((s) => counts[s] > 0).map((s) => `${s} ${counts[s]}`).join(', ') || 'no tasks yet';
  // what the in-flight rule left out: older landings, closed tasks
  const moreLanded = counts.landed - shown.filter((t) => t.state === 'landed').length;
  const moreClosed = counts.closed - shown.filter((t) => t.state === 'closed').length;
  const more = [...(moreLanded > 0 ? [`${moreLanded} more landed`] : []), ...(moreClosed > 0 ? [`${moreClosed} closed`] : [])].join(', ');
  const scope =
    rule === 'filter'
      ? ` (all tasks; ${shown.length} shown)`
      : rule === 'in-flight' && landedSince !== null && listing.hidden > 0
        ? ` (all tasks; shown: in flight, and landed by omni-ship in the last ${RECENT_LANDED_DAYS} days; ${more}: --all lists them)`
        : '';
  const tasksText = shown.length
    ? `${columns(rows)}\n\n${summary}${scope}`
    : all.length
      ? `${rule === 'filter' ? 'no tasks match' : `nothing in flight, nothing landed in the last ${RECENT_LANDED_DAYS} days`}\n\n${summary} (all tasks${rule === 'in-flight' ? '; --all lists them' : ''})`
      : 'no tasks yet: commit on a task branch (git switch -c t-1) to start one';
  return { data: { ...data, runs }, text: runs.length ? `${tasksText}\n\n${runsText(runs, color)}` : tasksText, warnings };
}

/** The widest a title is shown when the terminal's width is not known (output to a file or a pipe). */
const TITLE_WIDTH = 60;

/**
 * Cuts the TITLE column (the last) to what is left of the terminal's width after the other columns (at least 20
 * characters), or to TITLE_WIDTH when stdout is no terminal; a cut title ends in `…`. A run of white space (a title
 * with a line break) shows as one space.
 */
function fitTitles(rows: string[][]): void {
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const at = rows[0]!.length - 1;
  let used = 0;
  for (let i = 0; i < at; i++) used += Math.max(...rows.map((r) => visible(r[i]!))) + 2;
  const width = process.stdout.isTTY && process.stdout.columns ? Math.max(20, process.stdout.columns - used) : TITLE_WIDTH;
  for (const row of rows.slice(1)) {
    const title = row[at]!.replace(/\s+/g, ' ').trim();
    row[at] = title.length > width ? `${title.slice(0, width - 1).trimEnd()}…` : title;
  }
}

/** An agent's time at work so far: `45s`, `3m12s`, `2h05m`. */
export function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The `running` section: each agent at work, with its task, role, time so far, attempt and cost so far. */
function runsText(runs: readonly ActiveRun[], color: boolean): string {
  const rows = runs.map((r) => [r.task, r.role, elapsedText(r.elapsedMs), `attempt ${r.attempt}`, r.costCents === null ? '-' : `$${(r.costCents / 100).toFixed(2)}`]);
  const lines = columns(rows).split('\n').map((l) => `  ${l}`);
  return `${style('bold', 'running', color)}\n${lines.join('\n')}`;
}

/**
 * A stored answer (the JSON text of a StatusAnswer, as `JSON.stringify(answer, null, 2)` and a newline wrote it)
 * with `runs` added as its last field: the very text `JSON.stringify({ ...answer, runs }, null, 2)` gives, so an
 * answer read back prints as the computed one does. Null when the text does not end as that writes it.
 */
function withRuns(text: Buffer, runs: readonly ActiveRun[]): Buffer | null {
  // the text ends "\n}\n"
  const end = text.length - 3;
  if (end < 1 || text[end] !== 0x0a || text[end + 1] !== 0x7d || text[end + 2] !== 0x0a) return null;
  // `{\n  "runs": […]\n}` without its braces' lines: the field as it sits, indented, in the whole
  const field = JSON.stringify({ runs }, null, 2).slice(1, -2);
  return Buffer.concat([text.subarray(0, end), Buffer.from(`,${field}\n}\n`)]);
}

/** Counts per state of `tasks`, plus `landed` and `closed` more (the tasks settled as such). */
export function countStates(tasks: readonly TaskStatusJson[], landed: number, closed: number): Record<TaskState, number> {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const t of tasks) counts[t.state]++;
  counts.landed += landed;
  counts.closed += closed;
  return counts;
}
