import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { gitAsync } from '../git/exec.js';
import { diffTreePairs, objectFromNotePath } from '../notes/read.js';
import { NOTES_REFS } from '../notes/refs.js';
import { buildFingerprint, rememberBuildFingerprint } from './build.js';
import { failpoint } from '../failpoint.js';
import { claimedTask, logFormat, parseLog } from './commits.js';
import type { ReadFound } from './tasks.js';

/**
 * The default `status` listing, kept from one run to the next so that a run after one change computes the views
 * of the tasks that change touched, not of every task the repository ever landed (DESIGN.md section 6; issue 10).
 *
 * Every task is either *listed* (its view is kept here: not landed, or landed by omni-ship within the window) or
 * *settled* (landed and older: only its id is kept, in a file of its own). A settled task stays landed until
 * something names it: a note (a revert, a new patchset), a commit on the base, a branch or a commit off the base.
 * So the next run builds views only for the listed tasks, the tasks those changes name, and the tasks a branch
 * names; the counts are the listed tasks' states plus the settled tasks as landed. Machine-local and disposable:
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
  /** the id of the settled file this table goes with, and how many ids it holds */
  settled: { id: string; count: number };
}

const TABLE = 'status-table.json';
const SETTLED = 'status-settled.txt';

/** The key of what views depend on besides the refs: the build, the config, the spec results are judged by, the replace refs. */
export function tableKey(config: Config, spec: string | null, replaced: string): string {
  return createHash('sha1').update(buildFingerprint()).update('\0').update(JSON.stringify(config)).update('\0').update(spec ?? '').update('\0').update(replaced).digest('hex');
}

/**
 * The settled tasks' ids, looked up one at a time (a newline-joined text: one search each, no parse). The text is
 * read only when first looked up: a run that names no settled task (most: what changed is in flight) reads none.
 */
export class SettledIds {
  private added = new Set<string>();
  private removed = new Set<string>();
  private loaded: string | null;
  constructor(
    text: string | (() => string),
    private size: number,
    private readonly release: () => void = () => undefined,
  ) {
    this.loaded = typeof text === 'string' ? text : null;
    this.load = typeof text === 'string' ? () => text : text;
  }
  private readonly load: () => string;

  private get text(): string {
    this.loaded ??= this.load();
    return this.loaded;
  }

  has(id: string): boolean {
    if (this.added.has(id)) return true;
    if (this.removed.has(id)) return false;
    return this.text.includes(`\n${id}\n`);
  }

  add(id: string): void {
    if (this.has(id)) return;
    this.removed.delete(id);
    this.added.add(id);
    this.size++;
  }

  delete(id: string): void {
    if (!this.has(id)) return;
    this.added.delete(id);
    this.removed.add(id);
    this.size--;
  }

  get count(): number {
    return this.size;
  }

  get changed(): boolean {
    return this.added.size > 0 || this.removed.size > 0;
  }

  /** The file's text with the changes made. */
  toText(): string {
    if (!this.changed) return this.text;
    // the few removed cut out where they stand, the added appended: no split of 100,000 lines
    let text = this.text;
    for (const id of this.removed) text = text.replace(`\n${id}\n`, '\n');
    return this.added.size ? `${text}${[...this.added].join('\n')}\n` : text;
  }

  /** Lets go of the file it reads from (read or not). */
  close(): void {
    this.release();
  }
}

/** The table stored for `key` with its settled ids, or null (none, another key, unreadable, not matching). */
export function readStatusTable<T>(stateDir: string | null, key: string, isTask: (t: unknown) => t is T): { table: StatusTable<T>; settled: SettledIds } | null {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return null;
  let fd: number | null = null;
  try {
    const table = JSON.parse(fs.readFileSync(path.join(stateDir, TABLE), 'utf8')) as StatusTable<unknown>;
    if (table?.key !== key || typeof table.notes !== 'object' || table.notes === null || !Object.values(table.notes).every((t) => typeof t === 'string')) return null;
    if (!Array.isArray(table.baseTips) || !table.baseTips.every((t) => typeof t === 'string') || !Array.isArray(table.listed) || !table.listed.every(isTask)) return null;
    if (typeof table.settled?.id !== 'string' || typeof table.settled.count !== 'number') return null;
    // the first line is the id of the run that wrote it: a table and a settled file of two runs do not go together.
    // The rest is read (from this very file, whatever is renamed over it since) when first looked up
    fd = fs.openSync(path.join(stateDir, SETTLED), 'r');
    const id = table.settled.id;
    const head = Buffer.alloc(id.length + 1);
    if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head.toString('latin1') !== `${id}\n`) {
      fs.closeSync(fd);
      return null;
    }
    const file = fd;
    let open = true;
    const release = () => {
      if (open) fs.closeSync(file);
      open = false;
    };
    const load = () => {
      const size = fs.fstatSync(file).size;
      const buf = Buffer.alloc(size - id.length);
      const got = fs.readSync(file, buf, 0, buf.length, id.length);
      release();
      if (got !== buf.length) throw new Error('the settled ids file ends early');
      return buf.toString('latin1');
    };
    return { table: table as StatusTable<T>, settled: new SettledIds(load, table.settled.count, release) };
  } catch {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* closed */
      }
    }
    return null;
  }
}

/** Writes the table and, when it changed, the settled ids (first, under a new id); failures are ignored. */
export function writeStatusTable<T>(stateDir: string | null, table: Omit<StatusTable<T>, 'settled'>, settled: SettledIds, previousId: string | null): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    let id = previousId;
    if (id === null || settled.changed) {
      id = createHash('sha1').update(`${process.pid}\0${Date.now()}\0${Math.random()}`).digest('hex');
      writeAtomically(path.join(stateDir, SETTLED), `${id}${settled.toText()}`);
      failpoint('status:settled-written');
    }
    writeAtomically(path.join(stateDir, TABLE), JSON.stringify({ ...table, settled: { id, count: settled.count } }));
  } catch {
    /* only a cache */
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  rememberBuildFingerprint();
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
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

/**
 * The tasks whose views may have changed since the table was computed, besides those a branch names (the read
 * gives those): the tasks named by the notes that changed (as the read found them now; which notes changed, the read
 * says when it brought the ref forward from the table's tip, else one diff-tree says), and by the trailers of the
 * commits the base gained. Null when that cannot be told: a notes ref came or went, a tip is gone, the base was
 * rewritten.
 */
export async function touchedTasks(cwd: string, config: Config, table: StatusTable<unknown>, read: ReadFound): Promise<Set<string> | null> {
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
  for (const { ref, object } of changed) {
    for (const e of read.notes.get(ref)?.get(object)?.[0] ?? []) if (typeof e.task === 'string') touched.add(e.task);
  }
  return touched;
}
