import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, type TestRepo } from '../helpers/repo.js';
import { NOTES, eventsIn, jsonOf, noteOn, notesOf, omniAsync, keptCommits, patchsetEvents, refsUnder } from '../helpers/state.js';

import { sync, taskCommit, twoClones } from '../helpers/sync.js';

afterAll(cleanupAll);


/** Every omni-ship notes ref with its tree and the text of each note. */
function notesSnapshot(repo: TestRepo): Record<string, { tree: string; notes: Record<string, string> }> {
  const out: Record<string, { tree: string; notes: Record<string, string> }> = {};
  for (const ref of refsUnder(repo, 'refs/notes/omni-ship/').keys()) {
    out[ref] = { tree: repo.git(['rev-parse', `${ref}^{tree}`]).trim(), notes: Object.fromEntries(notesOf(repo, ref)) };
  }
  return out;
}

/** No `git notes merge` state anywhere: no NOTES_MERGE_* ref and no such file or directory in the git dir. */
function expectNoNotesMergeState(repo: TestRepo): void {
  expect(repo.git(['for-each-ref', '--format=%(refname)'])).not.toMatch(/NOTES_MERGE/);
  const gitDir = path.join(repo.dir, '.git');
  expect(fs.readdirSync(gitDir).filter((f) => f.startsWith('NOTES_MERGE'))).toEqual([]);
  expect(repo.gitRun(['rev-parse', '-q', '--verify', 'NOTES_MERGE_PARTIAL']).code).not.toBe(0);
}

const KEPT = 'refs/omni-ship/kept';
const fetchPushConfig = (repo: TestRepo) =>
  repo.gitRun(['config', '--get-regexp', '^remote\\.origin\\.(fetch|push)']).stdout;

describe('omni-ship sync', () => {
  it('A, then B, then A: both clones end with the same notes and kept ref, and the config is untouched', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    expect(a.omni(['review', 't-1', '--approve', '-m', 'from A']).code).toBe(0);
    const b2 = await taskCommit(b, 't-2');
    const configA = fs.readFileSync(path.join(a.dir, '.git', 'config'), 'utf8');
    const configB = fs.readFileSync(path.join(b.dir, '.git', 'config'), 'utf8');
    const fetchPushA = fetchPushConfig(a);
    expect(fetchPushA).toMatch(/remote\.origin\.fetch \+refs\/heads\/\*:refs\/remotes\/origin\/\*/);

    const first = sync(a);
    expect(first.pushed).toEqual(expect.arrayContaining([NOTES.patchsets, NOTES.reviews, KEPT]));
    const second = sync(b);
    expect(second.merged).toEqual([NOTES.patchsets]);
    expect(second.updatedLocal).toEqual(expect.arrayContaining([NOTES.reviews, KEPT]));
    const third = sync(a);
    expect(third.pushed).toEqual([]);

    const snapA = notesSnapshot(a);
    expect(Object.keys(snapA).sort()).toEqual([NOTES.patchsets, NOTES.reviews]);
    expect(notesSnapshot(b)).toEqual(snapA);
    // the same notes commits as the remote's, too
    for (const ref of Object.keys(snapA)) {
      expect(refsUnder(a, ref).get(ref)).toBe(refsUnder(bare, ref).get(ref));
      expect(refsUnder(b, ref).get(ref)).toBe(refsUnder(bare, ref).get(ref));
    }
    // each side has the other's events
    for (const repo of [a, b]) {
      expect(patchsetEvents(repo).map((e) => [e.task, e.commit]).sort()).toEqual([
        ['t-1', a1],
        ['t-2', b2],
      ]);
      expect(noteOn(repo, NOTES.reviews, a1)).toContain('"message":"from A"');
    }
    // one kept ref, the same on both clones and the remote, keeps both clones' patchsets: no ref per patchset
    for (const repo of [a, b, bare]) {
      expect(keptCommits(repo)).toEqual(new Set([a1, b2]));
      expect(refsUnder(repo, 'refs/omni-ship/patchsets/')).toEqual(new Map());
    }
    expect(refsUnder(a, KEPT).get(KEPT)).toBe(refsUnder(bare, KEPT).get(KEPT));
    expect(refsUnder(b, KEPT).get(KEPT)).toBe(refsUnder(bare, KEPT).get(KEPT));
    // the commits came along with the refs
    expect(a.gitRun(['cat-file', '-e', `${b2}^{commit}`]).code).toBe(0);
    expect(b.gitRun(['cat-file', '-e', `${a1}^{commit}`]).code).toBe(0);

    for (const repo of [a, b]) expectNoNotesMergeState(repo);
    expect(fs.readFileSync(path.join(a.dir, '.git', 'config'), 'utf8')).toBe(configA);
    expect(fs.readFileSync(path.join(b.dir, '.git', 'config'), 'utf8')).toBe(configB);
    expect(fetchPushConfig(a)).toBe(fetchPushA);
    // nothing shows twice in git log: the fetched copies live outside refs/notes
    expect(refsUnder(a, 'refs/notes/').size).toBe(2);
    // and B's status knows A's review
    expect(jsonOf(b.omni(['show', 't-1', '--json']))).toMatchObject({ patchsetCount: 1, reviews: [expect.objectContaining({ message: 'from A' })] });
  });

  it('keeps a local note that was never pushed when the remote has other notes, and pushes it', async () => {
    const { bare, a, b } = twoClones();
    const b2 = await taskCommit(b, 't-2');
    sync(b);
    const a1 = await taskCommit(a, 't-1');
    expect(a.omni(['review', 't-1', '--request-changes', '-m', 'local only']).code).toBe(0);
    const localReview = noteOn(a, NOTES.reviews, a1);
    const remoteBefore = eventsIn(b, NOTES.patchsets);

    const r = sync(a);
    expect(r.merged).toEqual([NOTES.patchsets]);
    expect(noteOn(a, NOTES.reviews, a1)).toBe(localReview);
    expect(patchsetEvents(a).map((e) => e.commit).sort()).toEqual([a1, b2].sort());
    for (const e of remoteBefore) expect(eventsIn(a, NOTES.patchsets)).toContainEqual(e);
    // the remote now has A's lines as well as its own
    expect(notesOf(bare, NOTES.reviews).get(a1)).toBe(localReview);
    expect([...notesOf(bare, NOTES.patchsets).keys()].sort()).toEqual([a1, b2].sort());
    expectNoNotesMergeState(a);
  });

  it('keeps both commits when both clones recorded a patchset of the same task', async () => {
    const { a, b } = twoClones();
    const fromA = await taskCommit(a, 't-3', 'A takes t-3');
    const fromB = await taskCommit(b, 't-3', 'B takes t-3');
    sync(a);
    sync(b);
    sync(a);
    expect(refsUnder(b, KEPT)).toEqual(refsUnder(a, KEPT));
    expect(keptCommits(a)).toEqual(new Set([fromA, fromB]));
    // a sync with nothing new moves nothing
    const again = sync(b);
    expect(again.pushed).toEqual([]);
    expect(again.updatedLocal).toEqual([]);
    expect(notesSnapshot(b)).toEqual(notesSnapshot(a));
    expect(jsonOf(a.omni(['show', 't-3', '--json'])).patchsetCount).toBe(2);
  });

  it('--dry-run reports what it would do but changes no local notes and pushes nothing', async () => {
    const { bare, a, b } = twoClones();
    await taskCommit(b, 't-2');
    sync(b);
    await taskCommit(a, 't-1');
    expect(a.omni(['review', 't-1', '--approve']).code).toBe(0);
    const localBefore = a.git(['for-each-ref', 'refs/notes', KEPT, 'refs/heads']);
    const remoteBefore = bare.git(['for-each-ref']);

    const r = sync(a, ['--dry-run']);
    expect(r.dryRun).toBe(true);
    expect(r.merged).toEqual([NOTES.patchsets]);
    expect(r.pushed).toEqual(expect.arrayContaining([NOTES.patchsets, NOTES.reviews, KEPT]));
    expect(r.updatedLocal).toEqual(expect.arrayContaining([KEPT]));
    const text = a.omni(['sync', '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^dry run: /);
    expect(text.stdout).toMatch(/would push refs\/notes\/omni-ship\/reviews/);

    expect(a.git(['for-each-ref', 'refs/notes', KEPT, 'refs/heads'])).toBe(localBefore);
    expect(bare.git(['for-each-ref'])).toBe(remoteBefore);
    expectNoNotesMergeState(a);
  });

  it('refuses an unknown remote and a repository without remotes (exit 2), writing nothing', () => {
    const { a } = twoClones();
    const before = a.git(['for-each-ref']);
    const r = a.omni(['sync', 'nosuchremote']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no remote named 'nosuchremote'/);
    expect(r.stderr).toMatch(/origin/);
    expect(a.git(['for-each-ref'])).toBe(before);

    const lonely = makeRepo();
    const none = lonely.omni(['sync']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no remote to sync with/);
    expect(lonely.git(['for-each-ref', 'refs/omni-ship', 'refs/notes'])).toBe('');
  });

  it('two clones syncing at the same moment both succeed and converge', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    expect(a.omni(['review', 't-1', '--approve', '-m', 'A says yes']).code).toBe(0);
    const b2 = await taskCommit(b, 't-2');
    expect(b.omni(['review', 't-2', '--request-changes', '-m', 'B says no']).code).toBe(0);

    const [ra, rb] = await Promise.all([omniAsync(a.dir, ['sync', '--json']), omniAsync(b.dir, ['sync', '--json'])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    // whoever pushed second merged the first one's lines: the remote has everything
    expect([...notesOf(bare, NOTES.patchsets).keys()].sort()).toEqual([a1, b2].sort());
    expect([...notesOf(bare, NOTES.reviews).keys()].sort()).toEqual([a1, b2].sort());

    sync(a);
    sync(b);
    expect(notesSnapshot(a)).toEqual(notesSnapshot(b));
    expect(refsUnder(a, KEPT)).toEqual(refsUnder(b, KEPT));
    expect(keptCommits(a)).toEqual(new Set([a1, b2]));
    for (const repo of [a, b]) expectNoNotesMergeState(repo);
  });
});
