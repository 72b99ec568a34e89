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

/** Every event omni-ship knows. */
export type OmniEvent = PatchsetEvent | ReviewEvent | VerifyEvent | LandEvent | AttemptEvent;

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

/** Each type's fields the folds key on or compare: a line without them as strings is unusable, not a crash. */
const REQUIRED: Record<OmniEvent['type'], readonly string[]> = {
  patchset: ['task', 'commit', 'tree'],
  review: ['task', 'commit', 'verdict'],
  verify: ['tree', 'spec', 'result'],
  land: ['task', 'commit', 'landed'],
  attempt: ['task', 'commit', 'outcome'],
};
const TYPES = new Set(Object.keys(REQUIRED));

/** Why a parsed line is not a usable event, or null when it is one (no object allocated per good line). */
function unusable(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (e.v !== SCHEMA_VERSION) return `unknown schema version ${JSON.stringify(e.v)}`;
  if (typeof e.type !== 'string' || !TYPES.has(e.type)) return `unknown event type ${JSON.stringify(e.type)}`;
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return 'no valid "at" time';
  for (const field of REQUIRED[e.type as OmniEvent['type']]) {
    if (typeof e[field] !== 'string') return `no ${field} (a string) in a ${e.type} event`;
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
