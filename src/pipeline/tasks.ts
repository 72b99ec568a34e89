import { nativeSha1 } from '../hash.js';
import { gitRun } from '../git/exec.js';
import type { Recorder } from '../notes/attempts.js';
import { SCHEMA_VERSION, byTime, decodeNote, type BadLine, type EventBase, type OmniEvent, type TaskEvent } from '../notes/events.js';
import { readAllNotes, readChangedNotes, readSomeNotes } from '../notes/read.js';
import { TASKS_REF } from '../notes/refs.js';
import { appendEvents } from '../notes/write.js';

/**
 * Task records: the pipeline's task tracker, kept in git as every other log is. Each task's record is a JSON-lines
 * event log (TaskEvent: created, edited, commented, closed, reopened, an attempt that made no commit) in ONE notes
 * ref, refs/notes/omni-ship/tasks, whatever the number of tasks: `sync` carries it with the other logs under
 * refs/notes/omni-ship/ and merges it by set union, so two clones' edits never conflict.
 *
 * A note hangs on an object; a task has none of its own before its first commit. Its key is the id git would give
 * the blob `omni-ship task <id>\n` (taskObject): the same on every clone, computed, never written (a note may name
 * an object the repository lacks; nothing here asks git for it).
 */

/** The object a task's record is noted on. */
export function taskObject(id: string): string {
  const body = Buffer.from(`omni-ship task ${id}\n`, 'utf8');
  return nativeSha1().update(`blob ${body.length}\0`).update(body).digest('hex');
}

/** One comment, close or attempt in a record, as it was recorded. */
export interface TaskNote {
  at: string;
  by: string;
  message: string | null;
}

/** A task's record: its events folded in time order. */
export interface TaskRecord {
  id: string;
  title: string | null;
  description: string | null;
  parent: string | null;
  dependsOn: string[];
  /** lower comes first; 2 unless set */
  priority: number;
  /** the part of the repository the task touches, when given */
  namespace: string | null;
  created: { at: string; by: string } | null;
  /** the last close, while it stands (a later reopen clears it) */
  closed: TaskNote | null;
  comments: TaskNote[];
  /** attempts that made no commit (those on a commit are in the attempts log, per patchset) */
  attempts: (TaskNote & { role: string | null })[];
  /**
   * the retry circuit of the task before it has a commit: the attempts since the last reset or reopen, and whether
   * `run` opened it (needs-help, with why)
   */
  circuit: { failures: number; needsHelp: boolean; why: string | null; lastFailureAt: string | null };
  /** what its agent runs cost, in cents, on every machine (cost events) */
  costCents: number;
  /** when the record last changed */
  updatedAt: string;
}

export const DEFAULT_PRIORITY = 2;

/**
 * Folds task events (any order: they are sorted by time, then bytes, as every clone sorts them) into records. A
 * `created` sets every field it carries; an `edited` the fields it carries (absent: unchanged). Two clones that
 * created the same id each wrote a `created`: the earlier one is the creation, the later reads as an edit.
 */
export function foldTaskRecords(events: readonly TaskEvent[]): Map<string, TaskRecord> {
  const records = new Map<string, TaskRecord>();
  for (const e of [...events].sort(byTime)) {
    let r = records.get(e.task);
    if (!r) {
      r = { id: e.task, title: null, description: null, parent: null, dependsOn: [], priority: DEFAULT_PRIORITY, namespace: null, created: null, closed: null, comments: [], attempts: [], circuit: { failures: 0, needsHelp: false, why: null, lastFailureAt: null }, costCents: 0, updatedAt: e.at };
      records.set(e.task, r);
    }
    r.updatedAt = e.at;
    switch (e.op) {
      case 'created':
      case 'edited':
        if (e.op === 'created' && !r.created) r.created = { at: e.at, by: e.by };
        if (e.title !== undefined) r.title = e.title;
        if (e.description !== undefined) r.description = e.description;
        if (e.parent !== undefined) r.parent = e.parent;
        if (e.dependsOn !== undefined) r.dependsOn = [...(e.dependsOn ?? [])];
        if (e.priority !== undefined) r.priority = e.priority ?? DEFAULT_PRIORITY;
        if (e.namespace !== undefined) r.namespace = e.namespace;
        break;
      case 'commented':
        r.comments.push({ at: e.at, by: e.by, message: e.message ?? null });
        break;
      case 'closed':
        r.closed = { at: e.at, by: e.by, message: e.message ?? null };
        break;
      case 'reopened':
      case 'reset':
        // a person's reopen or reset closes the circuit: the task gets its retries again
        if (e.op === 'reopened') r.closed = null;
        r.circuit = { failures: 0, needsHelp: false, why: null, lastFailureAt: null };
        break;
      case 'attempt':
        r.attempts.push({ at: e.at, by: e.by, message: e.message ?? null, role: e.role ?? null });
        r.circuit.failures++;
        r.circuit.lastFailureAt = e.at;
        break;
      case 'needs-help':
        r.circuit.needsHelp = true;
        r.circuit.why = e.message ?? null;
        break;
      case 'cost':
        r.costCents += typeof e.cost === 'number' && Number.isFinite(e.cost) && e.cost > 0 ? e.cost : 0;
        break;
    }
  }
  return records;
}

/** Every task record in the repository at `cwd` (one ls-tree and one cat-file of the tasks ref), and the bad lines. */
export async function readTaskRecords(cwd: string): Promise<{ records: Map<string, TaskRecord>; tip: string | null; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  const tip = tasksTip(cwd);
  if (!tip) return { records: new Map(), tip, bad };
  const events: OmniEvent[] = [];
  await readAllNotes(cwd, [{ ref: TASKS_REF, tip }], undefined, (_ref, object, text) => decodeNote(object, text, events, bad));
  const taskEvents = events.filter((e): e is TaskEvent => e.type === 'task');
  // a line of another type, or one noted on another task's key, is not this log's: reported, not folded
  for (const e of events) if (e.type !== 'task') bad.push({ object: '', line: JSON.stringify(e), reason: `a ${e.type} event in the tasks log` });
  return { records: foldTaskRecords(taskEvents), tip, bad };
}

/** One task's record (one cat-file of its note), or null when it has none; `tip`: the tasks ref's commit, if known. */
export async function readTaskRecord(cwd: string, id: string, tip: string | null = tasksTip(cwd)): Promise<TaskRecord | null> {
  if (!tip) return null;
  const object = taskObject(id);
  const note = (await readSomeNotes(cwd, tip, [object])).get(object);
  if (!note) return null;
  const events: OmniEvent[] = [];
  decodeNote(object, note.text, events, []);
  const record = foldTaskRecords(events.filter((e): e is TaskEvent => e.type === 'task' && e.task === id)).get(id);
  return record?.created ? record : null;
}

/** The tasks ref's commit, or null when it does not exist yet. */
export function tasksTip(cwd: string): string | null {
  const r = gitRun(['rev-parse', '-q', '--verify', `${TASKS_REF}^{commit}`], { cwd });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** Appends one event to a task's record, recorded by `who` now (see appendTaskEvents). */
export async function appendTaskEvent(cwd: string, who: Recorder, task: string, op: TaskEvent['op'], fields: Omit<Partial<TaskEvent>, keyof EventBase | 'type' | 'task' | 'op'> = {}): Promise<void> {
  await appendTaskEvents(cwd, [{ v: SCHEMA_VERSION, type: 'task', at: new Date().toISOString(), by: who.by, host: who.host, task, op, ...fields }]);
}

/** Appends events to their tasks' records (compare-and-swap, retried: nothing lost to a concurrent writer). */
export async function appendTaskEvents(cwd: string, events: readonly TaskEvent[]): Promise<number> {
  return appendEvents(
    cwd,
    TASKS_REF,
    events.map((e) => ({ object: taskObject(e.task), events: [e] })),
  );
}

/**
 * The task records as a long-lived process (`omni-ship run`) follows them: read whole once, then, each time the
 * tasks ref moved, brought forward by the notes that changed (one `git diff-tree` and one `cat-file`: what changed,
 * not the log's age), and only the tasks those notes name folded again.
 */
export class TaskRecordsFollower {
  private tip: string | null = null;
  /** each note's task events, by the object it is on */
  private readonly notes = new Map<string, TaskEvent[]>();
  /** the notes that hold events of each task (its own key's, and any other a line was misfiled in) */
  private readonly objectsOf = new Map<string, Set<string>>();
  readonly records = new Map<string, TaskRecord>();

  /** the refresh under way: refreshes run one at a time */
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly cwd: string) {}

  /** Brings the records up to the ref's tip; returns the ids of the tasks whose records changed (all, the first time). */
  refresh(): Promise<Set<string>> {
    const next = this.last.then(() => this.refreshNow());
    this.last = next.catch(() => undefined);
    return next;
  }

  private async refreshNow(): Promise<Set<string>> {
    const tip = tasksTip(this.cwd);
    const changed = new Set<string>();
    if (tip === this.tip) return changed;
    const byObject = new Map<string, string | null>();
    let whole = !this.tip || !tip;
    if (!whole) {
      try {
        await readChangedNotes(
          this.cwd,
          this.tip!,
          tip!,
          (object) => byObject.set(object, null),
          (object, text) => byObject.set(object, text),
        );
      } catch {
        whole = true; // the old tip is gone (the ref rewritten by hand): read whole
      }
    }
    if (whole) {
      byObject.clear();
      for (const object of this.notes.keys()) byObject.set(object, null);
      if (tip) await readAllNotes(this.cwd, [{ ref: TASKS_REF, tip }], undefined, (_ref, object, text) => byObject.set(object, text));
    }
    for (const [object, text] of byObject) {
      for (const e of this.notes.get(object) ?? []) {
        this.objectsOf.get(e.task)?.delete(object);
        changed.add(e.task);
      }
      this.notes.delete(object);
      if (text === null) continue;
      const decoded: OmniEvent[] = [];
      decodeNote(object, text, decoded, []);
      const events = decoded.filter((e): e is TaskEvent => e.type === 'task');
      this.notes.set(object, events);
      for (const e of events) {
        let objects = this.objectsOf.get(e.task);
        if (!objects) this.objectsOf.set(e.task, (objects = new Set()));
        objects.add(object);
        changed.add(e.task);
      }
    }
    for (const id of changed) {
      const events = [...(this.objectsOf.get(id) ?? [])].flatMap((o) => (this.notes.get(o) ?? []).filter((e) => e.task === id));
      const record = foldTaskRecords(events).get(id);
      if (record?.created) this.records.set(id, record);
      else this.records.delete(id);
    }
    this.tip = tip;
    return changed;
  }
}
