import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, type TestRepo } from '../helpers/repo.js';
import { NOTES, jsonOf, noteOn, notesOf, refsUnder, repoWithTask } from '../helpers/state.js';
import { sync, taskCommit, twoClones } from '../helpers/sync.js';

afterAll(cleanupAll);

/** A blob in `repo`'s object store (what `git update-ref <ref> <blob>` by hand points a ref at). */
function blobIn(repo: TestRepo, text: string): string {
  return repo.git(['hash-object', '-w', '--stdin'], { input: text }).trim();
}

function review(repo: TestRepo, task: string, message: string): void {
  const r = repo.omni(['review', task, '--approve', '-m', message]);
  expect(r.code, r.stderr).toBe(0);
}

describe('a notes ref that is not a notes commit', () => {
  it('review refuses at once (exit 2) naming the ref, what it points at and how to fix it, and writes nothing', () => {
    const { repo } = repoWithTask('t-1');
    const targets = { blob: blobIn(repo, 'not a notes commit\n'), tree: repo.git(['rev-parse', 'HEAD^{tree}']).trim() };
    for (const [type, oid] of Object.entries(targets)) {
      repo.git(['update-ref', NOTES.reviews, oid]);
      const before = repo.git(['for-each-ref']);
      for (const json of [[], ['--json']]) {
        const r = repo.omni(['review', 't-1', '--approve', '-m', 'looks good', ...json]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`${NOTES.reviews} points at a ${type} (${oid.slice(0, 12)}), not a notes commit`);
        expect(r.stderr).toContain(`git update-ref -d ${NOTES.reviews}`);
        expect(r.stderr).not.toMatch(/concurrent writers|internal error|gave up/);
        expect(r.stdout).toBe('');
        // nothing written: the ref, every other ref, and no private ref left behind
        expect(repo.git(['for-each-ref'])).toBe(before);
      }
    }
  });

  it('review refuses a ref in the way of the notes ref (refs/notes/omni-ship/reviews/x) at once, exit 2', () => {
    const { repo } = repoWithTask('t-1');
    repo.git(['update-ref', `${NOTES.reviews}/x`, 'HEAD']);
    const before = repo.git(['for-each-ref']);
    const r = repo.omni(['review', 't-1', '--approve']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${NOTES.reviews}/x`);
    expect(r.stderr).not.toMatch(/concurrent writers|internal error|gave up/);
    expect(repo.git(['for-each-ref'])).toBe(before);
  });

  it('sync skips a log the REMOTE keeps as a blob, with a warning, and still syncs the others', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    review(a, 't-1', 'from A');
    sync(a);
    const blob = blobIn(bare, 'oops\n');
    bare.git(['update-ref', NOTES.reviews, blob]);
    const b2 = await taskCommit(b, 't-2');

    for (const args of [['--dry-run'], []]) {
      const r = b.omni(['sync', '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^omni-ship: skipped ${NOTES.reviews}: it points at a blob \\(${blob.slice(0, 12)}\\) on origin, not a notes commit`, 'm'));
      const out = JSON.parse(r.stdout);
      expect(out.skipped).toEqual([{ ref: NOTES.reviews, reason: expect.stringContaining('blob') }]);
      expect(out.pushed).not.toContain(NOTES.reviews);
    }
    // the other logs went both ways; the blob is where it was, and nothing here copied it
    expect([...notesOf(bare, NOTES.patchsets).keys()].sort()).toEqual([a1, b2].sort());
    expect([...notesOf(b, NOTES.patchsets).keys()].sort()).toEqual([a1, b2].sort());
    expect(refsUnder(bare, NOTES.reviews).get(NOTES.reviews)).toBe(blob);
    expect(refsUnder(b, NOTES.reviews).size).toBe(0);
    // A keeps its reviews log and does not overwrite the remote's blob either
    const mine = refsUnder(a, NOTES.reviews).get(NOTES.reviews);
    const ra = a.omni(['sync']);
    expect(ra.code, ra.stderr).toBe(0);
    expect(ra.stderr).toMatch(/skipped refs\/notes\/omni-ship\/reviews/);
    expect(refsUnder(a, NOTES.reviews).get(NOTES.reviews)).toBe(mine);
    expect(refsUnder(bare, NOTES.reviews).get(NOTES.reviews)).toBe(blob);
    expect(noteOn(a, NOTES.reviews, a1)).toContain('from A');
  });

  it('sync skips a log that is a blob HERE, with a warning, never overwrites it, and still syncs the others', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    review(a, 't-1', 'from A');
    sync(a);
    const remoteReviews = refsUnder(bare, NOTES.reviews).get(NOTES.reviews);
    const b2 = await taskCommit(b, 't-2');
    const blob = blobIn(b, 'mine, by hand\n');
    b.git(['update-ref', NOTES.reviews, blob]);

    const r = b.omni(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^omni-ship: skipped ${NOTES.reviews}: it points at a blob \\(${blob.slice(0, 12)}\\) here, not a notes commit`, 'm'));
    expect(jsonOf(r).skipped).toEqual([{ ref: NOTES.reviews, reason: expect.stringContaining('git update-ref -d') }]);
    expect(refsUnder(b, NOTES.reviews).get(NOTES.reviews)).toBe(blob);
    expect(refsUnder(bare, NOTES.reviews).get(NOTES.reviews)).toBe(remoteReviews);
    expect([...notesOf(bare, NOTES.patchsets).keys()].sort()).toEqual([a1, b2].sort());
    expect(refsUnder(b, NOTES.patchsets)).toEqual(refsUnder(bare, NOTES.patchsets));
  });
});
