import { checksum, randomId } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { gitAsync } from '../git/exec.js';
import { diffTreePairs, objectFromNotePath } from '../notes/read.js';
import { NOTES_REFS } from '../notes/refs.js';
import { buildFingerprint, rememberBuildFingerprint, writeCacheFile } from './build.js';
import { failpoint } from '../failpoint.js';
import { SortedLines, writeSortedLines } from './sorted-lines.js';
import { lookupMemo } from './cache.js';
import { deltaLimit } from './delta-limit.js';
import { claimedTask, logFormat, parseLog } from './commits.js';
import type { ReadFound } from './tasks.js';

/**
 * The default `status` listing, kept from one run to the next so that a run after one change computes the views
 * of the tasks that change touched, not of every task the repository ever landed (DESIGN.md section 6; issue 10).
 *
 * Every task is either *listed* (its view is kept here: not landed, or landed by omni-ship within the window) or
 * *settled* (landed and older, or closed: only its id is kept, in a file of its own per state). A settled task stays
 * landed (or closed) until something names it: a note (a revert, a new patchset, a reopen), a commit on the base, a
 * branch or a commit off the base. So the next run builds views only for the listed tasks, the tasks those changes
 * name, and the tasks a branch names; the counts are the listed tasks' states plus the settled tasks as landed or
 * closed. Machine-local and disposable:
 * anything that does not check out (another build, config or spec, a settled file of another run, notes refs that
 * came or went, a base that was rewritten) makes status compute every task and write the table again.
 */
export interface StatusTable<T> {
  /** the build, config and verify spec the views were computed under */
  key: string;
  /** the notes refs' tips and the base tips the views were computed at */
  notes: Record<string, string>;
  baseTips: string[];
  /** the listed tasks' views, and when each was computed */
  listed: T[];
  /**
   * what every view read besides the notes and the base (ReadFound.branches, and the verify runs in progress), and
   * the listed tasks' head trees: while the first holds, a listed task that nothing since names keeps its view
   */
  inputs?: string | null;
  trees?: Record<string, string>;
  /**
   * The settled ids: the sorted file `id` names (null: none) with the ids added since it was written and those
   * removed from it, and how many there are in all; the landed ones, and the closed ones
   */
  settled: SettledState;
  closed: SettledState;
}

/** How the table records the settled ids (see SettledIds). */
export interface SettledState {
  id: string | null;
  count: number;
  added: string[];
  removed: string[];
}

const TABLE = 'status-table.json';
/** The files of the settled ids: the landed tasks', the closed tasks'. */
const SETTLED = 'status-settled.txt';
const CLOSED = 'status-closed.txt';
/** Changes of the settled ids kept in the table before the settled file is written again with them. */
const SETTLED_DELTA_LIMIT = 2000;

/** The key of what views depend on besides the refs: the build, the config, the spec results are judged by, the replace refs. */
export function tableKey(config: Config, spec: string | null, replaced: string): string {
  return checksum().update(buildFingerprint()).update('\0').update(JSON.stringify(config)).update('\0').update(spec ?? '').update('\0').update(replaced).digest();
}

/**
 * The settled tasks' ids: a sorted file (src/state/sorted-lines.ts), each id found by a binary search of a few
 * reads, plus the ids added since it was written and those removed from it, kept in the table. A run that settles
 * or unsettles a few tasks (a landing on the base by hand, a revert) rewrites only the table; the file is written
 * again, under a new id, when the changes pass SETTLED_DELTA_LIMIT (or there is none yet and they do).
 */
export class SettledIds {
  private readonly added: Set<string>;
  private readonly removed: Set<string>;
  private size: number;
  constructor(
    private readonly file: SortedLines | null,
    private readonly state: SettledState,
    /** the file's name in the state dir (SETTLED, CLOSED) */
    private readonly name: string = SETTLED,
  ) {
    this.added = new Set(state.added);
    this.removed = new Set(state.removed);
    this.size = state.count;
  }

  /** No settled ids (kept in the file `name`: SETTLED by default). */
  static empty(name: string = SETTLED): SettledIds {
    return new SettledIds(null, { id: null, count: 0, added: [], removed: [] }, name);
  }

  /** No closed ids settled (see StatusTable.closed). */
  static emptyClosed(): SettledIds {
    return SettledIds.empty(CLOSED);
  }

  has(id: string): boolean {
    if (this.added.has(id)) return true;
    if (this.removed.has(id)) return false;
    return this.file?.get(id) !== undefined;
  }

  add(id: string): void {
    if (this.has(id)) return;
    // added and the file never share an id; removed holds only ids of the file
    if (!this.removed.delete(id)) this.added.add(id);
    this.size++;
  }

  delete(id: string): void {
    if (!this.has(id)) return;
    if (!this.added.delete(id)) this.removed.add(id);
    this.size--;
  }

  get count(): number {
    return this.size;
  }

  /**
   * What the table records for these ids, writing the settled file first when the changes outgrew the table (the
   * table names the new file's id: a table and a file of two runs never go together).
   */
  save(stateDir: string, limit = deltaLimit(SETTLED_DELTA_LIMIT)): SettledState {
    if (this.added.size + this.removed.size <= limit) {
      return { id: this.state.id, count: this.size, added: [...this.added].sort(), removed: [...this.removed].sort() };
    }
    const id = randomId();
    const ids: [string, string][] = [];
    for (const [k] of this.file?.entries() ?? []) if (!this.removed.has(k)) ids.push([k, '']);
    for (const k of this.added) ids.push([k, '']);
    rememberBuildFingerprint();
    writeSortedLines(path.join(stateDir, this.name), { id }, ids);
    failpoint('status:settled-written');
    return { id, count: ids.length, added: [], removed: [] };
  }

  /** Lets go of the file it reads from. */
  close(): void {
    this.file?.close();
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The table stored for `key` with its settled ids (landed, closed), or null (none, another key, unreadable, not matching). */
export function readStatusTable<T>(stateDir: string | null, key: string, isTask: (t: unknown) => t is T): { table: StatusTable<T>; settled: SettledIds; closed: SettledIds } | null {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return null;
  let table: StatusTable<unknown>;
  try {
    table = JSON.parse(fs.readFileSync(path.join(stateDir, TABLE), 'utf8')) as StatusTable<unknown>;
  } catch {
    return null;
  }
  if (table?.key !== key || typeof table.notes !== 'object' || table.notes === null || !Object.values(table.notes).every((t) => typeof t === 'string')) return null;
  if (!isStrings(table.baseTips) || !Array.isArray(table.listed) || !table.listed.every(isTask)) return null;
  if (!(table.inputs === undefined || table.inputs === null || typeof table.inputs === 'string')) return null;
  if (table.trees !== undefined && (typeof table.trees !== 'object' || table.trees === null || !Object.values(table.trees).every((t) => typeof t === 'string'))) return null;
  const settled = openSettled(stateDir, table.settled, SETTLED);
  if (!settled) return null;
  const closed = openSettled(stateDir, table.closed, CLOSED);
  if (!closed) {
    settled.close();
    return null;
  }
  return { table: table as StatusTable<T>, settled, closed };
}

/** The settled ids the table records as `s`, in the file `name`; null when they do not check out. */
function openSettled(stateDir: string, s: SettledState | undefined, name: string): SettledIds | null {
  if (typeof s !== 'object' || s === null || !(s.id === null || typeof s.id === 'string') || typeof s.count !== 'number' || !isStrings(s.added) || !isStrings(s.removed)) return null;
  if (s.id === null) return s.removed.length === 0 && s.count === s.added.length ? new SettledIds(null, s, name) : null;
  // the file's header names the run that wrote it: a table and a settled file of two runs do not go together
  const file = SortedLines.open(path.join(stateDir, name), lookupMemo(stateDir));
  if (!file || file.header.id !== s.id || s.count !== file.count + s.added.length - s.removed.length) {
    file?.close();
    return null;
  }
  return new SettledIds(file, s, name);
}

/** Writes the table (the settled files first, when they are written again); failures are ignored. */
export function writeStatusTable<T>(stateDir: string | null, table: Omit<StatusTable<T>, 'settled' | 'closed'>, settled: SettledIds, closed: SettledIds): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    writeCacheFile(path.join(stateDir, TABLE), JSON.stringify({ ...table, settled: settled.save(stateDir), closed: closed.save(stateDir) }));
    // what the lookups of the settled ids learned (the notes' lookups were saved with the state cache)
    lookupMemo(stateDir).save();
  } catch {
    /* only a cache */
  }
}


const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The tasks named by the trailers of the commits the base gained since `oldTips`: what the read found when it read
 * from those very tips (the usual case: status read both last time), else one log of its own. Null when the base
 * was rewritten (its old tips are not all in its history) or an old tip is gone.
 */
async function baseTasksSince(cwd: string, config: Config, oldTips: readonly string[], read: ReadFound): Promise<Set<string> | null> {
  const newTips = read.baseTips;
  if (sameSet(oldTips, newTips)) return new Set();
  if (!oldTips.length || !newTips.length) return null;
  if (read.baseSince && sameSet(read.baseSince.from, oldTips)) return new Set(read.baseSince.tasks);
  const log = await gitAsync(['log', logFormat(config.trailerKey, true), ...newTips, ...oldTips.map((t) => `^${t}`), '--'], { cwd });
  if (log.exitCode !== 0) return null;
  const listed = parseLog(log.stdout, config);
  const tasks = new Set<string>();
  for (const c of listed) {
    const task = claimedTask(c);
    if (task) tasks.add(task);
  }
  // a fast-forward: each old tip is a new tip or the parent of a commit listed; else count what the new tips lack
  const parents = new Set(listed.map((c) => c.parent));
  if (!oldTips.every((t) => newTips.includes(t) || parents.has(t))) {
    const lost = await gitAsync(['rev-list', '--count', ...oldTips, ...newTips.map((t) => `^${t}`), '--'], { cwd });
    if (lost.exitCode !== 0 || lost.stdout.trim() !== '0') return null;
  }
  return tasks;
}

/** What changed since a table was computed, as touchedTasks tells it. */
export interface Touched {
  /** the tasks named by the notes that changed and by the trailers of the commits the base gained */
  tasks: Set<string>;
  /** the trees whose verify results changed (a view shows its head tree's, whatever task a result names) */
  trees: Set<string>;
  /** the landed commits named by the land and revert events that changed (a revert is looked up by the landing) */
  landed: Set<string>;
  /** a note was removed from a log besides verify's: what it named is not known any more */
  removed: boolean;
}

/**
 * The tasks whose views may have changed since the table was computed, besides those a branch names (the read
 * gives those): the tasks named by the notes that changed (as the read found them now; which notes changed, the read
 * says when it brought the ref forward from the table's tip, else one diff-tree says), and by the trailers of the
 * commits the base gained; and the trees and landings those notes name. Null when that cannot be told: a notes ref
 * came or went, a tip is gone, the base was rewritten.
 */
export async function touchedTasks(cwd: string, config: Config, table: StatusTable<unknown>, read: ReadFound): Promise<Touched | null> {
  const changed: { ref: string; object: string }[] = [];
  const pairs: { ref: string; from: string; to: string }[] = [];
  for (const ref of Object.values(NOTES_REFS) as string[]) {
    const now = read.notes.get(ref)?.tip;
    const then = table.notes[ref];
    if (now === then) continue;
    if (!now || !then) return null;
    const since = read.notesSince.get(ref);
    if (since?.from === then) for (const object of since.objects) changed.push({ ref, object });
    else pairs.push({ ref, from: then, to: now });
  }
  const [diffs, touched] = await Promise.all([pairs.length ? diffTreePairs(cwd, pairs).catch(() => null) : [], baseTasksSince(cwd, config, table.baseTips, read)]);
  if (!diffs || !touched) return null;
  // a note moved between fan-out levels (deleted here, the same blob added there) did not change
  const blobs = new Map<string, { before: string | null; after: string | null }>();
  for (const c of diffs) {
    const key = `${pairs[c.pair]!.ref}\0${objectFromNotePath(c.path)}`;
    let entry = blobs.get(key);
    if (!entry) blobs.set(key, (entry = { before: null, after: null }));
    if (c.status !== 'A') entry.before ??= c.oldBlob;
    if (c.status !== 'D') entry.after = c.newBlob;
  }
  for (const [key, { before, after }] of blobs) {
    if (before !== null && before === after) continue;
    const [ref, object] = key.split('\0') as [string, string];
    changed.push({ ref, object });
  }
  const trees = new Set<string>();
  const landed = new Set<string>();
  let removed = false;
  for (const { ref, object } of changed) {
    const note = read.notes.get(ref)?.get(object);
    // a verify result is a note on its tree
    if (ref === NOTES_REFS.verify) trees.add(object);
    else if (!note) removed = true;
    for (const e of note?.[0] ?? []) {
      if (typeof e.task === 'string') touched.add(e.task);
      if ((e.type === 'land' || e.type === 'revert') && typeof e.landed === 'string') landed.add(e.landed);
    }
  }
  return { tasks: touched, trees, landed, removed };
}
