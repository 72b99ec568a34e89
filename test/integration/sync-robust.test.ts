import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, tempDir, testEnv, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { NOTES, jsonOf, keptCommits, noteOn, notesOf, refsUnder } from '../helpers/state.js';

const KEPT = 'refs/omni-ship/kept';

import { sync, taskCommit, twoClones } from '../helpers/sync.js';

afterAll(cleanupAll);


function review(repo: TestRepo, task: string, verdict: '--approve' | '--request-changes', message: string): void {
  const r = repo.omni(['review', task, verdict, '-m', message]);
  expect(r.code, r.stderr).toBe(0);
}

/** A new, empty bare repository. */
function emptyBare(): TestRepo {
  const dir = path.join(tempDir('omni-ship-remote-'), 'empty.git');
  const r = wrapRepo(path.dirname(dir));
  r.git(['init', '-q', '--bare', dir]);
  return wrapRepo(dir);
}

/** omni-ship's shared refs (notes logs and kept patchsets) with their object ids. */
function sharedRefs(repo: TestRepo): Map<string, string> {
  return new Map([...refsUnder(repo, 'refs/notes/omni-ship/'), ...refsUnder(repo, KEPT)]);
}

/** Every file under a directory (relative path → bytes), for comparing git's own state files before and after. */
function filesUnder(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, entry.name);
    if (entry.isDirectory()) Object.assign(out, filesUnder(dir, p));
    else out[p] = fs.readFileSync(path.join(dir, p), 'base64');
  }
  return out;
}

describe('omni-ship sync: a remote that changed under us', () => {
  it('pushes every notes log and the kept ref to a new empty remote after the URL changed', async () => {
    const { a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    review(a, 't-1', '--approve', 'from A');
    await taskCommit(b, 't-2');
    sync(b);
    sync(a);
    const local = sharedRefs(a);
    expect([...local.keys()].sort()).toEqual([NOTES.patchsets, NOTES.reviews, KEPT].sort());

    const fresh = emptyBare();
    a.git(['remote', 'set-url', 'origin', fresh.dir]);
    const r = a.omni(['sync']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/already in sync/);
    // the new remote has exactly our refs, and our own refs did not move
    expect(sharedRefs(fresh)).toEqual(local);
    expect(sharedRefs(a)).toEqual(local);
    expect(notesOf(fresh, NOTES.reviews).get(a1)).toContain('"message":"from A"');
    // the tracking refs now mirror the new remote: nothing left to do
    const again = sync(a);
    expect(again).toMatchObject({ pushed: [], merged: [], updatedLocal: [] });
    expect(refsUnder(a, 'refs/omni-ship/remote-notes/origin/')).toEqual(
      new Map([...refsUnder(fresh, 'refs/notes/omni-ship/')].map(([name, oid]) => [name.replace('refs/notes/omni-ship/', 'refs/omni-ship/remote-notes/origin/'), oid])),
    );
  });

  it('restores a notes log and the kept ref deleted on the remote, from a clone with new events and from one without', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    review(a, 't-1', '--approve', 'first look');
    sync(a);
    sync(b);
    sync(a); // both clones' tracking refs now hold the remote's refs
    const before = sharedRefs(bare);
    expect(sharedRefs(a)).toEqual(before);
    expect(sharedRefs(b)).toEqual(before);
    expect(refsUnder(a, 'refs/omni-ship/remote-notes/origin/').get('refs/omni-ship/remote-notes/origin/reviews')).toBe(before.get(NOTES.reviews));

    // someone deletes the reviews log and the kept ref on the remote
    bare.git(['update-ref', '-d', NOTES.reviews]);
    bare.git(['update-ref', '-d', KEPT]);

    // A wrote a new review meanwhile: its sync succeeds and the remote gets A's whole log back
    review(a, 't-1', '--request-changes', 'second look');
    const localA = noteOn(a, NOTES.reviews, a1);
    const ra = a.omni(['sync', '--json']);
    expect(ra.code, ra.stderr).toBe(0);
    expect(JSON.parse(ra.stdout).pushed).toEqual(expect.arrayContaining([NOTES.reviews, KEPT]));
    expect(refsUnder(bare, NOTES.reviews).get(NOTES.reviews)).toBe(refsUnder(a, NOTES.reviews).get(NOTES.reviews));
    expect(noteOn(bare, NOTES.reviews, a1)).toBe(localA);
    expect(localA).toContain('first look');
    expect(localA).toContain('second look');
    expect(keptCommits(bare)).toEqual(new Set([a1]));

    // deleted again; B has no new events and still puts its copy back, keeping its own notes
    bare.git(['update-ref', '-d', NOTES.reviews]);
    bare.git(['update-ref', '-d', KEPT]);
    const rb = b.omni(['sync', '--json']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout).pushed).toEqual(expect.arrayContaining([NOTES.reviews, KEPT]));
    expect(refsUnder(bare, NOTES.reviews).get(NOTES.reviews)).toBe(before.get(NOTES.reviews));
    expect(refsUnder(b, NOTES.reviews).get(NOTES.reviews)).toBe(before.get(NOTES.reviews));
    expect(keptCommits(bare)).toEqual(new Set([a1]));

    // and both clones converge on the union
    sync(a);
    sync(b);
    for (const repo of [a, b, bare]) {
      expect(noteOn(repo, NOTES.reviews, a1)).toBe(localA);
      expect(refsUnder(repo, NOTES.reviews).get(NOTES.reviews)).toBe(refsUnder(a, NOTES.reviews).get(NOTES.reviews));
    }
  });

  it('merges two clones that appended to the same commit’s note offline: both end with both lines', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    sync(a);
    sync(b);
    review(a, 't-1', '--approve', 'A says yes');
    review(b, 't-1', '--request-changes', 'B says no');
    const mineA = noteOn(a, NOTES.reviews, a1)!;
    const mineB = noteOn(b, NOTES.reviews, a1)!;
    expect(mineA).not.toContain('B says no');
    expect(mineB).not.toContain('A says yes');

    sync(a);
    expect(sync(b).merged).toEqual([NOTES.reviews]);
    sync(a);
    const noteA = noteOn(a, NOTES.reviews, a1)!;
    expect(noteOn(b, NOTES.reviews, a1)).toBe(noteA);
    expect(noteOn(bare, NOTES.reviews, a1)).toBe(noteA);
    // exactly the two clones' lines, one each
    expect(noteA.trimEnd().split('\n').sort()).toEqual([...mineA.trimEnd().split('\n'), ...mineB.trimEnd().split('\n')].sort());
    expect(refsUnder(b, NOTES.reviews)).toEqual(refsUnder(a, NOTES.reviews));
    for (const repo of [a, b]) {
      const shown = jsonOf(repo.omni(['show', 't-1', '--json']));
      expect(shown.reviews.map((r: { message: string }) => r.message).sort()).toEqual(['A says yes', 'B says no']);
    }
  });

  it('leaves a notes merge the user has in progress alone, and still syncs', async () => {
    const { bare, a, b } = twoClones();
    await taskCommit(b, 't-2');
    sync(b);
    const a1 = await taskCommit(a, 't-1');
    review(a, 't-1', '--approve', 'from A');
    // the user's own conflicting notes merge, stopped half way
    a.git(['notes', '--ref=x', 'add', '-m', 'base', 'main']);
    a.git(['update-ref', 'refs/notes/y', 'refs/notes/x']);
    a.git(['notes', '--ref=x', 'add', '-f', '-m', 'ours', 'main']);
    a.git(['notes', '--ref=y', 'add', '-f', '-m', 'theirs', 'main']);
    expect(a.gitRun(['notes', '--ref=x', 'merge', 'refs/notes/y']).code).not.toBe(0);
    const gitDir = path.join(a.dir, '.git');
    const mergeState = () =>
      Object.fromEntries(
        fs
          .readdirSync(gitDir)
          .filter((f) => f.startsWith('NOTES_MERGE'))
          .map((f) => [f, fs.statSync(path.join(gitDir, f)).isDirectory() ? filesUnder(path.join(gitDir, f)) : fs.readFileSync(path.join(gitDir, f), 'utf8')]),
      );
    const stateBefore = mergeState();
    expect(Object.keys(stateBefore).sort()).toEqual(['NOTES_MERGE_PARTIAL', 'NOTES_MERGE_REF', 'NOTES_MERGE_WORKTREE']);
    const userRefs = a.git(['for-each-ref', 'refs/notes/x', 'refs/notes/y']);

    const r = sync(a);
    expect(r.merged).toEqual([NOTES.patchsets]);
    expect(mergeState()).toEqual(stateBefore);
    expect(a.git(['for-each-ref', 'refs/notes/x', 'refs/notes/y'])).toBe(userRefs);
    expect(noteOn(bare, NOTES.reviews, a1)).toContain('"message":"from A"');
    expect([...notesOf(bare, NOTES.patchsets).keys()]).toContain(a1);
    // the user can still finish their merge
    expect(a.gitRun(['notes', '--ref=x', 'merge', '--abort']).code).toBe(0);
    expect(noteOn(a, 'refs/notes/x', 'main')).toBe('ours\n');
  });
});

describe('omni-ship sync: a remote that cannot be reached', () => {
  it('exits 2 naming the remote and its URL, and writes nothing', async () => {
    const { a } = twoClones();
    await taskCommit(a, 't-1');
    review(a, 't-1', '--approve', 'from A');
    sync(a);
    review(a, 't-1', '--request-changes', 'not pushed yet');
    const missing = path.join(tempDir('omni-ship-gone-'), 'no-such-remote.git');
    a.git(['remote', 'set-url', 'origin', missing]);
    const before = a.git(['for-each-ref']);

    for (const args of [['sync'], ['sync', '--json'], ['sync', 'origin', '--dry-run']]) {
      const r = a.omni(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/origin/);
      expect(r.stderr).toContain(missing);
      expect(r.stderr).toMatch(/hint: .*git remote get-url origin/);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stdout).toBe('');
      expect(a.git(['for-each-ref'])).toBe(before);
    }
  });

  it('exits 2 naming the push URL when only pushing fails', async () => {
    const { bare, a } = twoClones();
    await taskCommit(a, 't-1');
    const missing = path.join(tempDir('omni-ship-gone-'), 'no-push.git');
    a.git(['config', 'remote.origin.pushurl', missing]);
    const r = a.omni(['sync']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/push/);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).not.toMatch(/lost the race|internal error/);
    expect(bare.git(['for-each-ref', 'refs/notes', 'refs/omni-ship'])).toBe('');
  });
});

describe('omni-ship sync: a remote that refuses the push', () => {
  it('exits 1 at once, quoting the remote, when its own hook declines (no retry, not a lost race)', async () => {
    const { bare, a } = twoClones();
    await taskCommit(a, 't-1');
    const hook = path.join(bare.dir, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho attempt >> "${path.join(bare.dir, 'attempts')}"\necho 'notes are not allowed here' >&2\nexit 1\n`, { mode: 0o755 });
    const r = a.omni(['sync']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/remote 'origin' refused the push/);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stderr).not.toMatch(/lost the race|internal error/);
    // one push, not eight rounds of retries against a rule that will not change
    expect(fs.readFileSync(path.join(bare.dir, 'attempts'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(bare.git(['for-each-ref', 'refs/notes', 'refs/omni-ship'])).toBe('');
  });
});

describe('omni-ship sync: the remote’s own reason', () => {
  it('quotes what the remote’s pre-receive hook printed, exits 1 and leaves the local notes as they were', async () => {
    const { bare, a } = twoClones();
    await taskCommit(a, 't-1');
    review(a, 't-1', '--approve', 'from A');
    const hook = path.join(bare.dir, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho 'no pushes on Fridays' >&2\necho 'ask the release manager'\nexit 1\n`, { mode: 0o755 });
    const local = a.git(['for-each-ref', 'refs/notes', KEPT]);
    for (const args of [['sync'], ['sync', '--json']]) {
      const r = a.omni(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('no pushes on Fridays');
      expect(r.stderr).toContain('ask the release manager');
      expect(r.stderr).toMatch(/remote 'origin' refused the push .*pre-receive hook declined/);
      expect(r.stderr).not.toMatch(/lost the race|internal error/);
      expect(r.stdout).toBe('');
      expect(a.git(['for-each-ref', 'refs/notes', KEPT])).toBe(local);
      expect(bare.git(['for-each-ref', 'refs/notes', 'refs/omni-ship'])).toBe('');
    }
  });
});

describe('omni-ship sync: tracing', () => {
  it('OMNI_SHIP_TRACE_GIT prints the fetch and the push to stderr', async () => {
    const { a } = twoClones();
    await taskCommit(a, 't-1');
    const r = a.omni(['sync'], { env: testEnv({ OMNI_SHIP_TRACE_GIT: '1' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[git\] fetch .*origin/m);
    expect(r.stderr).toMatch(/^\[git\] push .*origin/m);
  });
});
