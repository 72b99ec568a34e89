import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, testEnv, type TestRepo } from '../helpers/repo.js';
import { NOTES, noteOn, notesOf, refsUnder } from '../helpers/state.js';
import { editRemoteNotes, linesOf, sync, taskCommit, twoClones } from '../helpers/sync.js';

afterAll(cleanupAll);

function review(repo: TestRepo, task: string, verdict: '--approve' | '--request-changes', message: string): void {
  const r = repo.omni(['review', task, verdict, '-m', message]);
  expect(r.code, r.stderr).toBe(0);
}

const tip = (repo: TestRepo, ref: string) => refsUnder(repo, ref).get(ref);
const isAncestor = (repo: TestRepo, a: string, b: string) => repo.gitRun(['merge-base', '--is-ancestor', a, b]).code === 0;

/** Two synced clones whose reviews and patchsets logs hold two tasks, each with two reviews. */
async function syncedPair() {
  const { bare, a, b } = twoClones();
  const c1 = await taskCommit(a, 't-1');
  review(a, 't-1', '--approve', 'one: first');
  review(a, 't-1', '--request-changes', 'one: second');
  const c2 = await taskCommit(a, 't-2');
  review(a, 't-2', '--approve', 'two: first');
  review(a, 't-2', '--request-changes', 'two: second');
  sync(a);
  sync(b);
  const before = { reviews: linesOf(a, NOTES.reviews), patchsets: linesOf(a, NOTES.patchsets) };
  expect(before.reviews.size).toBe(4);
  expect(before.patchsets.size).toBe(2);
  return { bare, a, b, c1, c2, before };
}

/** Every line of `expected` is in `actual`. */
function expectSuperset(actual: Set<string>, expected: Set<string>): void {
  expect([...expected].filter((l) => !actual.has(l))).toEqual([]);
}

// each test drives three clones through several syncs: generous on a loaded two-core machine
describe('omni-ship sync: a remote log that lost lines', { timeout: 600_000 }, () => {
  it('does not adopt a remote that descends from ours but lost notes (git notes remove, prune, a rewritten note): it puts them back', async () => {
    const { bare, a, b, c1, c2, before } = await syncedPair();
    const mineA = { reviews: tip(a, NOTES.reviews)!, patchsets: tip(a, NOTES.patchsets)! };
    // someone without omni-ship removes t-1's review note, rewrites t-2's to one line of their own, and prunes
    // the patchsets log (their clone lacks the task commits, so git notes prune drops every note), then pushes
    const plain = editRemoteNotes(bare, (p) => {
      p.git(['notes', '--ref=omni-ship/reviews', 'remove', c1]);
      p.git(['notes', '--ref=omni-ship/reviews', 'add', '-f', '-m', 'rewritten by hand', c2]);
      p.git(['notes', '--ref=omni-ship/patchsets', 'prune']);
    });
    const lost = { reviews: tip(bare, NOTES.reviews)!, patchsets: tip(bare, NOTES.patchsets)! };
    expect(isAncestor(bare, mineA.reviews, lost.reviews)).toBe(true);
    expect(isAncestor(bare, mineA.patchsets, lost.patchsets)).toBe(true);
    expect(noteOn(bare, NOTES.reviews, c1)).toBeNull();
    expect(notesOf(bare, NOTES.patchsets).size).toBe(0);

    const r = sync(a);
    // A lost nothing, kept the hand-written line too, and the remote has all of it again
    const union = new Set([...before.reviews, `${c2} rewritten by hand`]);
    for (const repo of [a, bare]) {
      expect(linesOf(repo, NOTES.reviews)).toEqual(union);
      expect(linesOf(repo, NOTES.patchsets)).toEqual(before.patchsets);
    }
    expect(r.restored.sort()).toEqual([NOTES.patchsets, NOTES.reviews]);
    expect(r.pushed).toEqual(expect.arrayContaining([NOTES.patchsets, NOTES.reviews]));
    // the result descends from both sides, so the others fast-forward to it: no loop
    for (const log of ['reviews', 'patchsets'] as const) {
      expect(tip(a, NOTES[log])).toBe(tip(bare, NOTES[log]));
      expect(isAncestor(a, lost[log], tip(a, NOTES[log])!)).toBe(true);
      expect(isAncestor(a, mineA[log], tip(a, NOTES[log])!)).toBe(true);
    }
    const rb = sync(b);
    expect(rb).toMatchObject({ merged: [], pushed: [], restored: [] });
    expect(rb.updatedLocal.sort()).toEqual([NOTES.patchsets, NOTES.reviews]);
    expect(linesOf(b, NOTES.reviews)).toEqual(union);
    const rp = sync(plain);
    expect(rp).toMatchObject({ merged: [], pushed: [], restored: [] });
    expect(linesOf(plain, NOTES.patchsets)).toEqual(before.patchsets);
    expect(sync(a)).toMatchObject({ merged: [], pushed: [], restored: [], updatedLocal: [] });
  });

  it('does not push a local log that lost lines the remote has: they come back here first', async () => {
    const { bare, a, c1, before } = await syncedPair();
    const remoteBefore = tip(bare, NOTES.reviews)!;
    // the user removes a note here by hand; the local log now descends from the remote's and lacks its lines
    a.git(['notes', '--ref=omni-ship/reviews', 'remove', c1]);
    expect(isAncestor(a, remoteBefore, tip(a, NOTES.reviews)!)).toBe(true);

    const r = sync(a);
    for (const repo of [a, bare]) expect(linesOf(repo, NOTES.reviews)).toEqual(before.reviews);
    expect(r.merged).toEqual([NOTES.reviews]);
    expect(tip(a, NOTES.reviews)).toBe(tip(bare, NOTES.reviews));
    expect(sync(a)).toMatchObject({ merged: [], pushed: [], restored: [], updatedLocal: [] });
  });

  it('diverged: merges by reading only the notes that differ (no ls-tree), keeping the lines the remote lost', async () => {
    const { bare, a, b, c1, c2, before } = await syncedPair();
    editRemoteNotes(bare, (p) => {
      p.git(['notes', '--ref=omni-ship/reviews', 'remove', c1]);
      p.git(['notes', '--ref=omni-ship/reviews', 'add', '-f', '-m', 'rewritten by hand', c2]);
    });
    review(a, 't-1', '--approve', 'one: third');
    const ra = a.omni(['sync', '--json'], { env: testEnv({ OMNI_SHIP_TRACE_GIT: '1' }) });
    expect(ra.code, ra.stderr).toBe(0);
    expect(JSON.parse(ra.stdout).merged).toEqual([NOTES.reviews]);
    expect(ra.stderr).toMatch(/^\[git\] diff-tree /m);
    expect(ra.stderr).not.toMatch(/^\[git\] ls-tree /m);
    const union = linesOf(a, NOTES.reviews);
    expectSuperset(union, before.reviews);
    expect(union.size).toBe(before.reviews.size + 2);
    expect(linesOf(bare, NOTES.reviews)).toEqual(union);
    expect(sync(b).updatedLocal).toEqual([NOTES.reviews]);
    expect(linesOf(b, NOTES.reviews)).toEqual(union);
  });

  it('--dry-run reports the lines it would put back and writes nothing', async () => {
    const { bare, a, c1 } = await syncedPair();
    editRemoteNotes(bare, (p) => p.git(['notes', '--ref=omni-ship/reviews', 'remove', c1]));
    const local = a.git(['for-each-ref', 'refs/notes', 'refs/omni-ship/kept']);
    const remote = bare.git(['for-each-ref']);
    const r = sync(a, ['--dry-run']);
    expect(r).toMatchObject({ dryRun: true, restored: [NOTES.reviews], updatedLocal: [] });
    expect(r.pushed).toEqual([NOTES.reviews]);
    const text = a.omni(['sync', '--dry-run']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/would restore .*refs\/notes\/omni-ship\/reviews/);
    expect(a.git(['for-each-ref', 'refs/notes', 'refs/omni-ship/kept'])).toBe(local);
    expect(bare.git(['for-each-ref'])).toBe(remote);
  });
});
