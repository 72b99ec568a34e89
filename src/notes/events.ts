/**
 * omni-ship's shared state: append-only events, one JSON object per line, in git notes. Lines are never edited or
 * removed; clones merge them as a set union (cat_sort_uniq), so line order means nothing: order by `at`.
 */

/** The schema version this build writes; lines with another version are skipped with a warning. */
export const SCHEMA_VERSION = 1;

/** Fields every event carries. */
export interface EventBase {
  v: 1;
  /** ISO 8601 time the event happened */
  at: string;
  /** the git identity that caused it, "Name <email>" */
  by: string;
  /** the machine and clone that wrote it, "<hostname>/<clone id>" */
  host: string;
}

/** A task commit was seen on a task branch: one patchset. Note on the commit, in the patchsets ref. */
export interface PatchsetEvent extends EventBase {
  type: 'patchset';
  task: string;
  commit: string;
  tree: string;
  /** first parent, or null for a root commit */
  parent: string | null;
  /** the branch the commit was on */
  branch: string | null;
  /** the commit this one replaced (amend, rebase), when git said so */
  supersedes: string | null;
  /** the commit's author, "Name <email>" (`by` is whoever committed it); absent in events written before 0.1.0 */
  author?: string | null;
  via: 'commit' | 'amend' | 'rebase' | 'merge' | 'manual';
}

/** A review verdict on one task commit (one patchset). Note on the commit, in the reviews ref. */
export interface ReviewEvent extends EventBase {
  type: 'review';
  task: string;
  commit: string;
  verdict: 'approve' | 'request-changes';
  message: string | null;
}

/** A verify run's start or result for a tree under a verify spec. Note on the tree, in the verify ref. */
export interface VerifyEvent extends EventBase {
  type: 'verify';
  tree: string;
  spec: string;
  result: 'started' | 'pass' | 'fail' | 'skip' | 'indeterminate';
  commit: string | null;
  task: string | null;
  step: string | null;
  exitCode: number | null;
  summary: string | null;
  /** how long the steps ran, in milliseconds */
  durationMs?: number | null;
  /** the last lines of output, only with verify.shareOutput (output can hold secrets) */
  output?: string | null;
  /** where the spec came from: base, local (this clone's own config) or commit (verify --spec-from-commit) */
  specFrom?: string | null;
}

/** A task commit landed on the base branch. Note on the landed commit, in the lands ref. */
export interface LandEvent extends EventBase {
  type: 'land';
  task: string;
  /** the task commit that was landed */
  commit: string;
  /** the commit that became the base branch tip */
  landed: string;
  base: string;
  /** the task's patchset number that landed, when known */
  patchset?: number | null;
  /** the base tip the landed commit was built on (the ref's old value) */
  oldTip?: string | null;
  /** the base tip after the move (the landed commit, or the top of the batch it landed in) */
  newTip?: string | null;
}

/**
 * A landing undone: land.postVerify failed on the new base tip, and a revert commit landed through the same
 * compare-and-swap. Note on the landed commit, in the lands ref. The task is no longer landed; it can be fixed,
 * verified and landed again (a later land event wins).
 */
export interface RevertEvent extends EventBase {
  type: 'revert';
  task: string;
  /** the task commit that had landed */
  commit: string;
  /** the landed commit that was reverted */
  landed: string;
  /** the revert commit now on the base */
  revert: string;
  base: string;
  /** why: the post-land suite's failing step and summary */
  reason: string | null;
}

/** A failed attempt at a step for one patchset (the retry circuit). Note on the task commit, in the attempts ref. */
export interface AttemptEvent extends EventBase {
  type: 'attempt';
  task: string;
  commit: string;
  role: string;
  outcome: 'fail' | 'needs-help' | 'reset';
  error: string | null;
}

/**
 * One change to a task's record, the pipeline's task tracker (src/pipeline/tasks.ts): created, edited, commented,
 * closed, reopened, an attempt that made no commit (so an agent that never commits still reaches the retry
 * circuit), needs-help (that circuit opened), reset (closed again by a person), or cost (what an agent run cost). Note on the task's own key object (taskObject), in the tasks ref. Fields an op does not set are absent;
 * in an edit, absent means unchanged.
 */
export interface TaskEvent extends EventBase {
  type: 'task';
  task: string;
  op: 'created' | 'edited' | 'commented' | 'closed' | 'reopened' | 'attempt' | 'needs-help' | 'reset' | 'cost';
  title?: string | null;
  description?: string | null;
  parent?: string | null;
  dependsOn?: string[] | null;
  priority?: number | null;
  namespace?: string | null;
  /** a comment's text, a close's reason, an attempt's error */
  message?: string | null;
  /** an attempt's or a cost's role (dev, review, …) */
  role?: string | null;
  /** a cost event's amount: what one agent run cost, in cents (`omni-ship run --max-cost` adds them up) */
  cost?: number | null;
}

/** Every event omni-ship knows. */
export type OmniEvent = PatchsetEvent | ReviewEvent | VerifyEvent | LandEvent | RevertEvent | AttemptEvent | TaskEvent;

/** Encodes an event as one line: keys in a fixed order, so the same event always gives the same bytes. */
export function encodeEvent(event: OmniEvent): string {
  const { v, type, at, by, host, ...rest } = event as OmniEvent & Record<string, unknown>;
  const ordered: Record<string, unknown> = { v, type, at, by, host };
  for (const key of Object.keys(rest).sort()) ordered[key] = (rest as Record<string, unknown>)[key];
  return JSON.stringify(ordered);
}

/** A line that could not be used, kept for the warning. */
export interface BadLine {
  object: string;
  line: string;
  reason: string;
}

/**
 * What each type's fields must hold. `str`: a string; `str?`: a string, null or absent; `num?`: a number, null or
 * absent; `task`/`task?`: a task id as omni-ship writes it (lower case, no white space), so one task is never
 * listed twice under two spellings; `tasks?`: an array of those, null or absent; a list: one of those strings. A line that breaks any of these is unusable
 * (skipped with a warning), never a crash further on.
 */
type FieldKind = 'str' | 'str?' | 'num?' | 'task' | 'task?' | 'tasks?' | readonly string[];
const SCHEMA: Record<OmniEvent['type'], Record<string, FieldKind>> = {
  patchset: {
    task: 'task',
    commit: 'str',
    tree: 'str',
    parent: 'str?',
    branch: 'str?',
    supersedes: 'str?',
    author: 'str?',
    via: ['commit', 'amend', 'rebase', 'merge', 'manual'],
  },
  review: { task: 'task', commit: 'str', verdict: ['approve', 'request-changes'], message: 'str?' },
  verify: {
    tree: 'str',
    spec: 'str',
    result: ['started', 'pass', 'fail', 'skip', 'indeterminate'],
    commit: 'str?',
    task: 'task?',
    step: 'str?',
    exitCode: 'num?',
    summary: 'str?',
    durationMs: 'num?',
    output: 'str?',
    specFrom: 'str?',
  },
  land: { task: 'task', commit: 'str', landed: 'str', base: 'str', patchset: 'num?', oldTip: 'str?', newTip: 'str?' },
  revert: { task: 'task', commit: 'str', landed: 'str', revert: 'str', base: 'str', reason: 'str?' },
  attempt: { task: 'task', commit: 'str', role: 'str', outcome: ['fail', 'needs-help', 'reset'], error: 'str?' },
  task: {
    task: 'task',
    op: ['created', 'edited', 'commented', 'closed', 'reopened', 'attempt', 'needs-help', 'reset', 'cost'],
    title: 'str?',
    description: 'str?',
    parent: 'task?',
    dependsOn: 'tasks?',
    priority: 'num?',
    namespace: 'str?',
    message: 'str?',
    role: 'str?',
    cost: 'num?',
  },
};
const TYPES = new Set(Object.keys(SCHEMA));

function fits(value: unknown, kind: FieldKind): boolean {
  if (typeof kind !== 'string') return typeof value === 'string' && kind.includes(value);
  if (kind === 'tasks?') return value === null || value === undefined || (Array.isArray(value) && value.every((v) => fits(v, 'task')));
  const optional = kind.endsWith('?');
  if (optional && (value === null || value === undefined)) return true;
  if (kind.startsWith('num')) return typeof value === 'number' && Number.isFinite(value);
  if (typeof value !== 'string') return false;
  return kind.startsWith('task') ? value !== '' && value === value.toLowerCase() && !/\s/.test(value) : true;
}

/** SCHEMA as a list of checks per type, each a plain `typeof` test for the common kinds (fits' tests on the kind cost). */
const CHECKS = Object.fromEntries(
  Object.entries(SCHEMA).map(([type, fields]) => [
    type,
    Object.entries(fields).map(([field, kind]): [string, (v: unknown) => boolean] => [
      field,
      kind === 'str' ? (v) => typeof v === 'string' : kind === 'str?' ? (v) => v == null || typeof v === 'string' : (v) => fits(v, kind),
    ]),
  ]),
) as Record<OmniEvent['type'], [string, (v: unknown) => boolean][]>;

/** Why a parsed line is not a usable event, or null when it is one (no object allocated per good line). */
function unusable(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (e.v !== SCHEMA_VERSION) return `unknown schema version ${JSON.stringify(e.v)}`;
  if (typeof e.type !== 'string' || !TYPES.has(e.type)) return `unknown event type ${JSON.stringify(e.type)}`;
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return 'no valid "at" time';
  if (typeof e.by !== 'string' || typeof e.host !== 'string') return 'no "by" and "host" (strings)';
  for (const [field, check] of CHECKS[e.type as OmniEvent['type']]) {
    if (!check(e[field])) return `bad ${field} ${JSON.stringify(e[field]) ?? '(missing)'} in a ${e.type} event`;
  }
  return null;
}


/**
 * Decodes a note's text into events. Blank lines are ignored; a line that does not parse, or has an unknown
 * schema version or type, is reported in `bad` and skipped, never deleted and never fatal.
 */
export function decodeNote(object: string, text: string, events: OmniEvent[], bad: BadLine[]): void {
  // each line on its own: one JSON.parse of all lines joined by commas is no faster on Node 20, and it can pair a
  // garbage line's fragments with its neighbours' (`1,{…}`, `[2`, `3]` still make three elements), taking an
  // event out of a line that is not one. Lines are cut with indexOf, not split+filter: status decodes 30,000 notes
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      bad.push({ object, line, reason: 'not valid JSON' });
      continue;
    }
    const reason = unusable(value);
    if (reason === null) events.push(value as OmniEvent);
    else bad.push({ object, line, reason });
  }
}

/** Sorts events by time, then by their encoding, so every clone folds them in the same order. */
export function byTime<T extends OmniEvent>(a: T, b: T): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  const ea = encodeEvent(a);
  const eb = encodeEvent(b);
  return ea < eb ? -1 : ea > eb ? 1 : 0;
}
