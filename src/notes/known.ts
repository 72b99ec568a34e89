import { catFileBatch } from '../git/batch.js';
import { notePathCandidates, type FoundNote } from './read.js';
import type { KnownNotes } from './write.js';

/**
 * The tips of notes refs and the note each holds on `object` (or on each of several objects), read with one
 * `git cat-file --batch`: what a write needs for its first try (appendEvents' `known`), so a write that nobody
 * races costs one `git fast-import`. A ref that is not a commit gives no entry: the write's usual path then says
 * what is wrong with it.
 */
export async function readKnownNotes(cwd: string, refs: readonly string[], object: string | readonly string[]): Promise<Map<string, KnownNotes>> {
  const objects = typeof object === 'string' ? [object] : [...new Set(object)];
  const paths = objects.map(notePathCandidates);
  const per = 1 + paths.reduce((n, p) => n + p.length, 0);
  const answers = await catFileBatch(cwd, refs.flatMap((ref) => [ref, ...paths.flatMap((ps) => ps.map((p) => `${ref}:${p}`))]));
  const out = new Map<string, KnownNotes>();
  refs.forEach((ref, i) => {
    const [tip, ...notes] = answers.slice(i * per, (i + 1) * per);
    if (!tip?.oid) {
      out.set(ref, { tip: null, notes: new Map(objects.map((o) => [o, null])) });
      return;
    }
    if (tip.type !== 'commit') return;
    const found = new Map<string, FoundNote | null>();
    let at = 0;
    objects.forEach((o, j) => {
      let note: FoundNote | null = null;
      paths[j]!.forEach((p, k) => {
        const a = notes[at + k];
        if (!note && a?.content && a.type === 'blob') note = { text: a.content.toString('utf8'), path: p };
      });
      at += paths[j]!.length;
      found.set(o, note);
    });
    out.set(ref, { tip: tip.oid, notes: found });
  });
  return out;
}
