import { catFileBatch, lsTree } from '../git/batch.js';
import { decodeNote, type BadLine, type OmniEvent } from './events.js';

/** The text of every note in one notes ref, by annotated object id. */
export type NotesTexts = Map<string, string>;

/** A notes tree path (fanned out or not) back to the annotated object's id. */
export function objectFromNotePath(path: string): string {
  return path.replace(/\//g, '');
}

/**
 * Reads every note of several notes commits: one `git ls-tree -r` per ref (run in parallel) and one
 * `git cat-file --batch` for all the blobs, whatever the number of notes or the fanout.
 */
export async function readAllNotes(
  cwd: string,
  tips: readonly { ref: string; tip: string }[],
  paths?: Map<string, Map<string, string>>,
): Promise<Map<string, NotesTexts>> {
  const listings = await Promise.all(tips.map((t) => lsTree(cwd, t.tip)));
  const wanted: { ref: string; object: string; blob: string }[] = [];
  tips.forEach((t, i) => {
    for (const entry of listings[i]!) {
      if (entry.type === 'blob') wanted.push({ ref: t.ref, object: objectFromNotePath(entry.path), blob: entry.oid });
    }
  });
  const blobs = await catFileBatch(cwd, [...new Set(wanted.map((w) => w.blob))]);
  const text = new Map(blobs.map((b) => [b.request, b.content?.toString('utf8') ?? '']));
  const result = new Map<string, NotesTexts>(tips.map((t) => [t.ref, new Map()]));
  for (const w of wanted) result.get(w.ref)!.set(w.object, text.get(w.blob) ?? '');
  if (paths) {
    tips.forEach((t, i) => {
      const map = new Map<string, string>();
      for (const entry of listings[i]!) if (entry.type === 'blob') map.set(objectFromNotePath(entry.path), entry.path);
      paths.set(t.ref, map);
    });
  }
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
