import { catFileBatch } from '../git/batch.js';
import { notePathCandidates, type FoundNote } from './read.js';
import type { KnownNotes } from './write.js';

/**
 * The tips of notes refs and the note each holds on `object`, read with one `git cat-file --batch`: what a write
 * needs for its first try (appendEvents' `known`), so a write that nobody races costs one `git fast-import`. A ref
 * that is not a commit gives no entry: the write's usual path then says what is wrong with it.
 */
export async function readKnownNotes(cwd: string, refs: readonly string[], object: string): Promise<Map<string, KnownNotes>> {
  const paths = notePathCandidates(object);
  const answers = await catFileBatch(cwd, refs.flatMap((ref) => [ref, ...paths.map((p) => `${ref}:${p}`)]));
  const out = new Map<string, KnownNotes>();
  refs.forEach((ref, i) => {
    const [tip, ...notes] = answers.slice(i * (1 + paths.length), (i + 1) * (1 + paths.length));
    if (!tip?.oid) {
      out.set(ref, { tip: null, notes: new Map([[object, null]]) });
      return;
    }
    if (tip.type !== 'commit') return;
    let found: FoundNote | null = null;
    notes.forEach((a, k) => {
      if (!found && a.content && a.type === 'blob') found = { text: a.content.toString('utf8'), path: paths[k]! };
    });
    out.set(ref, { tip: tip.oid, notes: new Map([[object, found]]) });
  });
  return out;
}
