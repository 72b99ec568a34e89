import type { BaseOptions } from '../cli.js';
import { appendTo } from '../collections.js';
import { loadConfig } from '../config.js';
import { badInput } from '../errors.js';
import { requireWorkRepo, stateDir } from '../git/repo.js';
import { parseTaskId } from '../ids.js';
import { colorEnabled, columns, style, type CommandOutput } from '../output.js';
import { readStatusSnapshot, statusKey, writeStatusSnapshot } from '../state/status-cache.js';
import type { VerifyEvent } from '../notes/events.js';
import { readVerifyContext } from '../verify/current.js';
import { STATES, compareTaskIds, loadState, readRefSnapshot, type RepoState, type TaskState, type TaskView } from '../state/tasks.js';

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
}

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
};

/** True when `t` has the shape of a TaskStatusJson (for answers read back from the status cache). */
export function isTaskStatusJson(t: unknown): t is TaskStatusJson {
  return shaped(t, TASK_FIELDS);
}

/** Warnings for what could not be read (note lines, notes refs): skipped, never deleted. */
export function badLineWarnings(state: RepoState): string[] {
  const byRef = new Map<string, RepoState['bad']>();
  for (const b of state.bad) appendTo(byRef, b.ref, b);
  const lines = [...byRef].map(([ref, list]) => `skipped ${list.length} unreadable line(s) in ${ref} (first: note on ${list[0]!.line.object.slice(0, 12)}: ${list[0]!.line.reason})`);
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
export async function statusCommand(opts: BaseOptions & { all?: boolean; state?: string; parent?: string; task?: string }): Promise<CommandOutput<StatusJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  if (opts.state && !(STATES as readonly string[]).includes(opts.state)) {
    throw badInput(`unknown state '${opts.state}'`, `one of: ${STATES.join(', ')}`);
  }
  const parent = opts.parent ? parseTaskId(opts.parent, config) : null;
  const only = opts.task ? parseTaskId(opts.task, config) : null;
  const dir = stateDir(repo);
  // while no ref moved, the answer is the one computed last time (a status polled in a loop)
  const refs = await readRefSnapshot(repo.toplevel);
  const verify = readVerifyContext(repo.toplevel, repo.commonDir, dir, config, refs);
  const key = statusKey(config, `${refs}\0${verify.keyPart}`);
  let snapshot = readStatusSnapshot(dir, key, isTaskStatusJson);
  if (!snapshot) {
    const judged = await verify.load();
    const state = await loadState(repo.toplevel, config, dir, refs, judged.context);
    const tasks = [...state.tasks.values()].sort((a, b) => compareTaskIds(a.id, b.id)).map(taskJson);
    const computed = { base: state.base, spec: judged.context.spec, tasks, warnings: [...badLineWarnings(state), ...(judged.warning ? [judged.warning] : [])] };
    writeStatusSnapshot(dir, key, () => computed);
    snapshot = computed;
  }
  const all = snapshot.tasks;
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const t of all) counts[t.state]++;
  const filtered = !!(opts.state || parent || only);
  const rule: StatusListing['rule'] = filtered ? 'filter' : opts.all ? 'all' : 'in-flight';
  const landedSince = rule === 'in-flight' ? new Date(Date.now() - RECENT_LANDED_DAYS * 86_400_000).toISOString() : null;
  const shown = all.filter(
    (t) =>
      (!opts.state || t.state === opts.state) &&
      (!parent || t.id === parent || t.id.startsWith(`${parent}.`)) &&
      (!only || t.id === only) &&
      // in flight: not landed, or landed recently (by its land event: a landing omni-ship did not record has no time)
      (landedSince === null || t.state !== 'landed' || (t.landing !== null && t.landing.at >= landedSince)),
  );
  const warnings = snapshot.warnings;
  const listing: StatusListing = { rule, landedWithinDays: landedSince === null ? null : RECENT_LANDED_DAYS, hidden: all.length - shown.length };
  const data: StatusJson = { base: snapshot.base, spec: snapshot.spec ?? null, counts, listing, tasks: shown, warnings };
  // --json prints data only: don't lay out a table of 10,000 rows nobody sees
  if (opts.json) return { data, text: '', warnings };
  // colorEnabled: a TTY, and never when NO_COLOR is set (README); isTTY alone ignored NO_COLOR
  const color = !opts.json && colorEnabled();
  const rows = [['TASK', 'STATE', 'BRANCH', 'HEAD', 'PS', 'VERIFY', 'REVIEW', 'LANDED'].map((h) => style('bold', h, color))];
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
    ]);
  }
  const summary = STATES.filter((s) => counts[s] > 0).map((s) => `${s} ${counts[s]}`).join(', ') || 'no tasks yet';
  const scope =
    rule === 'filter'
      ? ` (all tasks; ${shown.length} shown)`
      : rule === 'in-flight' && listing.hidden > 0
        ? ` (all tasks; shown: in flight, and landed by omni-ship in the last ${RECENT_LANDED_DAYS} days; ${listing.hidden} more landed: --all lists them)`
        : '';
  const text = shown.length
    ? `${columns(rows)}\n\n${summary}${scope}`
    : all.length
      ? `${rule === 'filter' ? 'no tasks match' : `nothing in flight, nothing landed in the last ${RECENT_LANDED_DAYS} days`}\n\n${summary} (all tasks${rule === 'in-flight' ? '; --all lists them' : ''})`
      : 'no tasks yet: commit on a task branch (git switch -c t-1) to start one';
  return { data, text, warnings };
}
