import { catFileBatch, catFileStream, lsTree, startCatFileStream } from '../git/batch.js';
import { gitAsync } from '../git/exec.js';
import { looseDiffCommits, looseObject } from '../git/loose.js';
import { decodeNote, type BadLine, type OmniEvent } from './events.js';

/** The text of every note in one notes ref, by annotated object id. */
export type NotesTexts = Map<string, string>;

/** A notes tree path (fanned out or not) back to the annotated object's id. */
export function objectFromNotePath(path: string): string {
  return path.replace(/\//g, '');
}

/**
 * Reads every note of several notes commits: per ref, one `git ls-tree -r` then one streaming
 * `git cat-file --batch`, all refs in parallel; a constant number of processes whatever the number of notes or
 * the fanout. `onNote`, if given, sees each note as it arrives (decoding overlaps git's reading) and the texts are
 * then not kept: the maps come back empty.
 */
export async function readAllNotes(
  cwd: string,
  tips: readonly { ref: string; tip: string }[],
  paths?: Map<string, Map<string, string>>,
  onNote?: (ref: string, object: string, text: string) => void,
): Promise<Map<string, NotesTexts>> {
  const result = new Map<string, NotesTexts>(tips.map((t) => [t.ref, new Map()]));
  await Promise.all(
    tips.map(async (t) => {
      const entries = await lsTree(cwd, t.tip);
      const objectsOf = new Map<string, string[]>();
      const pathMap = paths ? new Map<string, string>() : null;
      for (const entry of entries) {
        if (entry.type !== 'blob') continue;
        const object = objectFromNotePath(entry.path);
        pathMap?.set(object, entry.path);
        const list = objectsOf.get(entry.oid);
        if (list) list.push(object);
        else objectsOf.set(entry.oid, [object]);
      }
      if (pathMap) paths?.set(t.ref, pathMap);
      const texts = result.get(t.ref)!;
      await catFileStream(cwd, [...objectsOf.keys()], (oid, content) => {
        const text = content.toString('utf8');
        for (const object of objectsOf.get(oid) ?? []) {
          // a caller that decodes as notes arrive keeps no second copy of 10,000 texts
          if (onNote) onNote(t.ref, object, text);
          else texts.set(object, text);
        }
      });
    }),
  );
  return result;
}

/** Decodes every note of one ref into events (bad lines go to `bad`). */
export function eventsOf(notes: NotesTexts | undefined, bad: BadLine[]): OmniEvent[] {
  const events: OmniEvent[] = [];
  if (!notes) return events;
  for (const [object, text] of notes) decodeNote(object, text, events, bad);
  return events;
}

/** The paths a note for `object` may sit at, for each fanout git uses (none, 2/38, 2/2/36). */
export function notePathCandidates(object: string): string[] {
  return [object, `${object.slice(0, 2)}/${object.slice(2)}`, `${object.slice(0, 2)}/${object.slice(2, 4)}/${object.slice(4)}`];
}

/** A note found in a notes tree: its text and the path it sits at (which depends on the fanout). */
export interface FoundNote {
  text: string;
  path: string;
}

/** Reads the notes of a few objects from one notes commit with one cat-file process. */
export async function readSomeNotes(cwd: string, tip: string, objects: readonly string[]): Promise<Map<string, FoundNote>> {
  const requests: string[] = [];
  for (const object of objects) for (const p of notePathCandidates(object)) requests.push(`${tip}:${p}`);
  const answers = await catFileBatch(cwd, requests);
  const notes = new Map<string, FoundNote>();
  objects.forEach((object, i) => {
    for (let k = 0; k < 3; k++) {
      const a = answers[i * 3 + k];
      if (a?.content && a.type === 'blob') {
        notes.set(object, { text: a.content.toString('utf8'), path: notePathCandidates(object)[k]! });
        break;
      }
    }
  });
  return notes;
}

/**
 * The path a new note goes to. fast-import's `N` command only annotates commits, and verify results annotate
 * trees, so notes are written as plain tree entries; git reads any fanout and normalises it on its next write.
 */
export function newNotePath(object: string): string {
  return `${object.slice(0, 2)}/${object.slice(2)}`;
}

/**
 * Brings a decoded copy of a notes ref from commit `from` to commit `to` by reading only the notes that changed
 * between them (one `git diff-tree`, one `git cat-file --batch`). Every changed or deleted note goes to
 * `onDelete`; the new text of a changed one then goes to `onNote`.
 */
export async function readChangedNotes(
  cwd: string,
  from: string,
  to: string,
  onDelete: (object: string) => void,
  onNote: (object: string, text: string) => void,
): Promise<void> {
  return readChangedNotesMany(cwd, [{ from, to, onDelete, onNote }]);
}

/** One notes ref to bring forward from `from` to `to` (see readChangedNotes). */
export interface ChangedNotesRead {
  from: string;
  to: string;
  onDelete: (object: string) => void;
  onNote: (object: string, text: string) => void;
}

/**
 * readChangedNotes for several refs with one `git diff-tree --stdin` and one `git cat-file --batch` in all (each
 * git process costs more than the few notes a ref gained). A --stdin line "<commit> <parent>" diffs the parent to
 * the commit, and diff-tree prints the commit's id before the records of a pair that differs. Throws when git
 * fails for any of them (a cached tip that is gone): the caller then reads each ref on its own.
 */
export async function readChangedNotesMany(cwd: string, reads: readonly ChangedNotesRead[], commonDir?: string): Promise<void> {
  if (reads.length === 0) return;
  // after a write on this clone (an event appended, a land, a small fetch) the commits, the trees along the changed
  // paths and the new notes are loose objects: read from their files, with no git process, when all of them are
  if (commonDir !== undefined && readChangedNotesLoose(commonDir, reads)) return;
  // the cat-file that reads the changed notes starts beside the diff-tree that names them: its start overlaps the
  // diff instead of following it
  let wanted = new Map<string, { read: ChangedNotesRead; object: string }[]>();
  const notes = startCatFileStream(cwd, (oid, content) => {
    const text = content.toString('utf8');
    for (const { read, object } of wanted.get(oid) ?? []) read.onNote(object, text);
  });
  let diffs: PairChange[];
  try {
    diffs = await diffTreePairs(cwd, reads);
  } catch (e) {
    await notes.read([]).catch(() => undefined);
    throw e;
  }
  const changed = changedNotes(reads, diffs);
  for (const { read, object } of changed.deleted) read.onDelete(object);
  wanted = changed.wanted;
  await notes.read([...wanted.keys()]);
}

/** readChangedNotesMany from loose objects alone; false (having called nothing) when any object it needs is packed. */
function readChangedNotesLoose(commonDir: string, reads: readonly ChangedNotesRead[]): boolean {
  const diffs: PairChange[] = [];
  for (const [pair, r] of reads.entries()) {
    const changes = looseDiffCommits(commonDir, r.from, r.to);
    if (changes === null) return false;
    for (const c of changes) diffs.push({ pair, ...c });
  }
  const { deleted, wanted } = changedNotes(reads, diffs);
  const texts = new Map<string, string>();
  for (const oid of wanted.keys()) {
    const o = looseObject(commonDir, oid);
    if (o?.type !== 'blob') return false;
    texts.set(oid, o.body.toString('utf8'));
  }
  for (const { read, object } of deleted) read.onDelete(object);
  for (const [oid, list] of wanted) for (const { read, object } of list) read.onNote(object, texts.get(oid)!);
  return true;
}

/**
 * From what changed: the notes changed or deleted (each goes to its read's onDelete before any onNote), and per
 * blob, the reads and objects it is now the note of. git moves notes between fan-out levels as a tree grows (ab/cdef… becomes
 * ab/cd/ef…): a deletion and an addition of the same blob for one object is no change, and a move of a subtree of
 * 400 notes must not read 400 notes again.
 */
function changedNotes(reads: readonly ChangedNotesRead[], diffs: readonly PairChange[]): { deleted: { read: ChangedNotesRead; object: string }[]; wanted: Map<string, { read: ChangedNotesRead; object: string }[]> } {
  const byObject = new Map<string, { pair: number; object: string; before: string | null; after: string | null }>();
  for (const d of diffs) {
    const object = objectFromNotePath(d.path);
    const key = `${d.pair}\0${object}`;
    let entry = byObject.get(key);
    if (!entry) byObject.set(key, (entry = { pair: d.pair, object, before: null, after: null }));
    if (d.status !== 'A') entry.before ??= d.oldBlob;
    if (d.status !== 'D') entry.after = d.newBlob;
  }
  const deleted: { read: ChangedNotesRead; object: string }[] = [];
  const wanted = new Map<string, { read: ChangedNotesRead; object: string }[]>();
  for (const { pair, object, before, after } of byObject.values()) {
    if (before !== null && before === after) continue;
    const read = reads[pair]!;
    deleted.push({ read, object });
    if (after === null) continue;
    const list = wanted.get(after);
    if (list) list.push({ read, object });
    else wanted.set(after, [{ read, object }]);
  }
  return { deleted, wanted };
}

/** One changed path of a pair diffTreePairs diffed. */
export interface PairChange {
  /** the index of the pair in the caller's list */
  pair: number;
  oldBlob: string;
  newBlob: string;
  /** A, D, M, … */
  status: string;
  path: string;
}

/**
 * What changed from each pair's `from` to its `to` (two commits), for every pair with one `git diff-tree -r -z
 * --stdin`: a line "<commit> <parent>" diffs the parent to the commit, and diff-tree prints the commit's id before
 * the records of a pair that differs (nothing for one that does not). Throws when git fails for any pair.
 */
export async function diffTreePairs(cwd: string, pairs: readonly { from: string; to: string }[]): Promise<PairChange[]> {
  if (pairs.length === 0) return [];
  const out = await gitAsync(['diff-tree', '-r', '-z', '--no-renames', '--stdin'], { cwd, input: pairs.map((p) => `${p.to} ${p.from}\n`).join('') });
  // a commit it cannot read is an `error:` line, and not always a failed exit
  if (out.exitCode !== 0 || /^(error|fatal):/m.test(out.stderr)) throw new Error(`git diff-tree --stdin failed: ${out.stderr.trim()}`);
  // -z: "<to>\0" before a pair's records, each ":<mode> <mode> <old blob> <new blob> <status>\0<path>\0"
  const fields = out.stdout.split('\0');
  const changes: PairChange[] = [];
  let k = -1;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f === '') continue;
    if (!f.startsWith(':')) {
      const next = pairs.findIndex((p, j) => j > k && p.to === f);
      if (next < 0) throw new Error(`git diff-tree --stdin printed an unexpected line: ${f.slice(0, 80)}`);
      k = next;
      continue;
    }
    const path = fields[++i] ?? '';
    if (k < 0) throw new Error('git diff-tree --stdin printed a record before its commit');
    const [, , oldBlob = '', newBlob = '', status = ''] = f.split(' ');
    changes.push({ pair: k, oldBlob, newBlob, status, path });
  }
  return changes;
}
