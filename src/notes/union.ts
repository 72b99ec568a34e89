import { catFileStream } from '../git/batch.js';
import { gitAsync } from '../git/exec.js';
import { objectFromNotePath } from './read.js';

/** The union of two notes' lines, sorted and without duplicates: what `git notes merge -s cat_sort_uniq` gives. */
export function unionNote(a: string, b: string): string {
  const lines = [...new Set([...a.split('\n'), ...b.split('\n')].filter((l) => l !== ''))].sort();
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * What it takes to make the set union of two notes commits, from either side: the notes (tree path → text) to
 * write on top of each tip, and how many lines each side lacks. A side that lacks none already holds the union.
 */
export interface UnionPlan {
  /** notes to write on our tip to hold every line of both */
  ontoOurs: Map<string, string>;
  /** notes to write on their tip to hold every line of both */
  ontoTheirs: Map<string, string>;
  /** lines they hold that we lack */
  oursLacks: number;
  /** lines we hold that they lack (deleted or rewritten there, or never sent) */
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
 * tree when the number of notes crosses a threshold, so one note can sit at two paths on the two sides.
 */
export async function planUnion(cwd: string, ours: string, theirs: string): Promise<UnionPlan> {
  const out = await gitAsync(['diff-tree', '-r', '-z', '--no-renames', ours, theirs], { cwd });
  if (out.exitCode !== 0) throw new Error(`git diff-tree ${ours} ${theirs} failed: ${out.stderr.trim()}`);
  // -z records: ":<mode> <mode> <old blob> <new blob> <status>\0<path>\0"
  const fields = out.stdout.split('\0');
  const sides = new Map<string, { ours?: Side; theirs?: Side }>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, , oldBlob, newBlob, status] = fields[i]!.split(' ');
    const path = fields[i + 1]!;
    const object = objectFromNotePath(path);
    if (!NOTE_PATH.test(object)) continue; // not a note: git notes ignores it, so does the union
    const entry = sides.get(object) ?? {};
    if (status !== 'A') entry.ours = { blob: oldBlob!, path };
    if (status !== 'D') entry.theirs = { blob: newBlob!, path };
    sides.set(object, entry);
  }
  const wanted = new Set<string>();
  for (const { ours: o, theirs: t } of sides.values()) {
    if (o && t && o.blob === t.blob) continue; // moved by a re-fan, same text
    if (o) wanted.add(o.blob);
    if (t) wanted.add(t.blob);
  }
  const texts = new Map<string, string>();
  await catFileStream(cwd, [...wanted], (oid, content) => texts.set(oid, content.toString('utf8')));

  const plan: UnionPlan = { ontoOurs: new Map(), ontoTheirs: new Map(), oursLacks: 0, theirsLacks: 0 };
  for (const { ours: o, theirs: t } of sides.values()) {
    if (o && t && o.blob === t.blob) continue;
    const mine = o ? textOf(texts, o.blob) : '';
    const yours = t ? textOf(texts, t.blob) : '';
    const mineLines = new Set(mine.split('\n').filter((l) => l !== ''));
    const yourLines = new Set(yours.split('\n').filter((l) => l !== ''));
    const oursLacks = [...yourLines].filter((l) => !mineLines.has(l)).length;
    const theirsLacks = [...mineLines].filter((l) => !yourLines.has(l)).length;
    plan.oursLacks += oursLacks;
    plan.theirsLacks += theirsLacks;
    if (oursLacks === 0 && theirsLacks === 0) continue;
    const union = unionNote(mine, yours);
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
