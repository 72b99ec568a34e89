import { catFileStream } from '../git/batch.js';
import { diffTreePairs, objectFromNotePath } from './read.js';

/** The union of two notes' lines, sorted and without duplicates: what `git notes merge -s cat_sort_uniq` gives. */
export function unionNote(a: string, b: string): string {
  const lines = [...new Set([...a.split('\n'), ...b.split('\n')].filter((l) => l !== ''))].sort();
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The distinct non-empty lines of a note. */
function lineSet(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l !== ''));
}

/**
 * How the two sides' texts of one object's note merge. `union(a, b)` must hold everything of both (so
 * `lacking(union, a)` and `lacking(union, b)` are 0) and must not depend on the order of its arguments (so two
 * clones merging at once make the same note); `lacking` counts what one side lacks of the other (0: nothing).
 */
export interface NoteMerge {
  /** how many units (lines, paragraphs) of `other` `have` lacks */
  lacking(have: string, other: string): number;
  /** a note holding every unit of both */
  union(a: string, b: string): string;
}

/** The JSON-lines logs merge as a set of lines (cat_sort_uniq): line order means nothing there. */
export const LINE_UNION: NoteMerge = {
  lacking(have, other) {
    const mine = lineSet(have);
    return [...lineSet(other)].filter((l) => !mine.has(l)).length;
  },
  union: unionNote,
};

/**
 * What it takes to make the union of two notes commits, from either side: the notes (tree path → text) to write
 * on top of each tip, and how many units (lines of a log) each side lacks. A side that lacks none already holds
 * the union.
 */
export interface UnionPlan {
  /** notes to write on our tip to hold everything of both */
  ontoOurs: Map<string, string>;
  /** notes to write on their tip to hold everything of both */
  ontoTheirs: Map<string, string>;
  /** units they hold that we lack */
  oursLacks: number;
  /** units we hold that they lack (deleted or rewritten there, or never sent) */
  theirsLacks: number;
}

interface Side {
  blob: string;
  path: string;
}

const NOTE_PATH = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Plans the union of notes commits `ours` and `theirs`, reading only the notes that differ between them: one
 * `git diff-tree` and one `git cat-file --batch` of the changed blobs, so the cost grows with what changed, not
 * with the log. Notes are matched by annotated object, not by path: git's own notes commands re-fan the whole
 * tree when the number of notes crosses a threshold, so one note can sit at two paths on the two sides. `merge`
 * says how two texts of one note combine: a set of lines for the logs (the default), whole notes for prose.
 */
export async function planUnion(cwd: string, ours: string, theirs: string, merge: NoteMerge = LINE_UNION): Promise<UnionPlan> {
  return (await planUnions(cwd, [{ ours, theirs, merge }]))[0]!;
}

/** One pair of notes commits to plan the union of. */
export interface UnionPair {
  ours: string;
  theirs: string;
  merge?: NoteMerge;
}

/**
 * planUnion for several pairs (the logs one sync moves) with one `git diff-tree --stdin` and one `git cat-file
 * --batch` in all: each git process costs more than the notes it reads. A --stdin line "<commit> <parent>" diffs
 * the parent to the commit, so each pair is written "<theirs> <ours>"; before the records of a pair that differs,
 * diff-tree prints its first id (and nothing for a pair that does not differ).
 */
export async function planUnions(cwd: string, pairs: readonly UnionPair[]): Promise<UnionPlan[]> {
  const sidesOf = pairs.map(() => new Map<string, { ours?: Side; theirs?: Side }>());
  // each pair diffed from ours to theirs
  for (const { pair, oldBlob, newBlob, status, path } of await diffTreePairs(cwd, pairs.map((p) => ({ from: p.ours, to: p.theirs })))) {
    const object = objectFromNotePath(path);
    if (!NOTE_PATH.test(object)) continue; // not a note: git notes ignores it, so does the union
    const sides = sidesOf[pair]!;
    const entry = sides.get(object) ?? {};
    if (status !== 'A') entry.ours = { blob: oldBlob, path };
    if (status !== 'D') entry.theirs = { blob: newBlob, path };
    sides.set(object, entry);
  }
  const wanted = new Set<string>();
  for (const sides of sidesOf) {
    for (const { ours: o, theirs: t } of sides.values()) {
      if (o && t && o.blob === t.blob) continue; // moved by a re-fan, same text
      if (o) wanted.add(o.blob);
      if (t) wanted.add(t.blob);
    }
  }
  const texts = new Map<string, string>();
  if (wanted.size) await catFileStream(cwd, [...wanted], (oid, content) => texts.set(oid, content.toString('utf8')));
  return sidesOf.map((sides, k) => planFrom(sides, texts, pairs[k]!.merge ?? LINE_UNION));
}

/** The union plan of one pair from the notes that differ and their texts. */
function planFrom(sides: Map<string, { ours?: Side; theirs?: Side }>, texts: Map<string, string>, merge: NoteMerge): UnionPlan {
  const plan: UnionPlan = { ontoOurs: new Map(), ontoTheirs: new Map(), oursLacks: 0, theirsLacks: 0 };
  for (const { ours: o, theirs: t } of sides.values()) {
    if (o && t && o.blob === t.blob) continue;
    const mine = o ? textOf(texts, o.blob) : '';
    const yours = t ? textOf(texts, t.blob) : '';
    const oursLacks = merge.lacking(mine, yours);
    const theirsLacks = merge.lacking(yours, mine);
    plan.oursLacks += oursLacks;
    plan.theirsLacks += theirsLacks;
    if (oursLacks === 0 && theirsLacks === 0) continue;
    const union = merge.union(mine, yours);
    // where the note already sits on that side, else where the other side keeps it: never a second path for it
    if (oursLacks) plan.ontoOurs.set(o?.path ?? t!.path, union);
    if (theirsLacks) plan.ontoTheirs.set(t?.path ?? o!.path, union);
  }
  return plan;
}

function textOf(texts: Map<string, string>, blob: string): string {
  const text = texts.get(blob);
  if (text === undefined) throw new Error(`note blob ${blob} is missing from the object store`);
  return text;
}
