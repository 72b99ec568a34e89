import { afterAll, describe, expect, it } from 'vitest';
import { settleDrainers } from '../helpers/hooks.js';
import { cleanupAll, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { commitChange, jsonOf, keptCommits, refsUnder } from '../helpers/state.js';
import { sync, taskCommit, twoClones } from '../helpers/sync.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const KEPT = 'refs/omni-ship/kept';
const LEGACY = 'refs/omni-ship/patchsets/';

/**
 * A commit that only a per-patchset ref keeps, as an omni-ship from before the kept ref left it: made on a branch
 * that is then deleted, so nothing else reaches it.
 */
function legacyPatchset(repo: TestRepo, task: string, n: number): string {
  repo.git(['switch', '-q', '-c', `tmp-${task}-${n}`, 'main']);
  const sha = commitChange(repo, `${task} patchset ${n}`, { file: `${task}-${n}.txt`, env: testEnv({ OMNI_SHIP_SKIP: '1' }) });
  repo.git(['update-ref', `${LEGACY}${task}/${n}`, sha]);
  repo.git(['switch', '-q', 'main']);
  repo.git(['branch', '-q', '-D', `tmp-${task}-${n}`]);
  return sha;
}

/** Drops every reflog entry and unreachable object: what a kept ref does not keep is gone after this. */
function gcNow(repo: TestRepo): void {
  repo.git(['reflog', 'expire', '--expire=now', '--all']);
  repo.git(['gc', '-q', '--prune=now']);
}

const has = (repo: TestRepo, sha: string) => repo.gitRun(['cat-file', '-e', `${sha}^{commit}`]).code === 0;

describe('the kept ref: every patchset reachable from one ref', () => {
  it('folds the per-patchset refs of two clones and the remote into refs/omni-ship/kept, deletes them everywhere, and loses no commit', async () => {
    const { bare, a, b } = twoClones();
    // A, before the upgrade, pushed its per-patchset refs; B has one of its own it never pushed
    const a1 = legacyPatchset(a, 't-1', 1);
    const a2 = legacyPatchset(a, 't-1', 2);
    const a3 = legacyPatchset(a, 't-2', 1);
    a.git(['push', '-q', 'origin', `${LEGACY}*:${LEGACY}*`]);
    const b1 = legacyPatchset(b, 't-3', 1);
    expect(refsUnder(bare, LEGACY).size).toBe(3);

    // A syncs with the new omni-ship: its refs and the remote's are folded in, and deleted on both
    const ra = sync(a);
    expect(ra.folded).toBe(6); // three here, three on the remote (the same ones)
    expect(ra.pushed).toContain(KEPT);
    for (const repo of [a, bare]) {
      expect(refsUnder(repo, LEGACY)).toEqual(new Map());
      expect(keptCommits(repo)).toEqual(new Set([a1, a2, a3]));
    }
    // the tracking copies of the old refs are gone too
    expect(refsUnder(a, 'refs/omni-ship/remote-patchsets/')).toEqual(new Map());

    // B's own ref, never pushed, joins what the remote keeps
    const rb = sync(b);
    expect(rb.folded).toBe(1);
    for (const repo of [b, bare]) expect(keptCommits(repo)).toEqual(new Set([a1, a2, a3, b1]));
    expect(refsUnder(b, LEGACY)).toEqual(new Map());
    sync(a);
    expect(refsUnder(a, KEPT)).toEqual(refsUnder(bare, KEPT));
    expect(refsUnder(b, KEPT)).toEqual(refsUnder(bare, KEPT));

    // nothing else reaches those commits: gc keeps them everywhere because of the one ref
    for (const repo of [a, b, bare]) {
      gcNow(repo);
      for (const sha of [a1, a2, a3, b1]) expect(has(repo, sha), sha).toBe(true);
      // refs under refs/omni-ship/: the kept ref, and the tracking copies of the remote's few refs
      expect(refsUnder(repo, 'refs/omni-ship/').size).toBeLessThan(10);
    }
  });

  it('a clone not yet upgraded pushes its old refs back: the next sync folds them in again and deletes them', async () => {
    const { bare, a, b } = twoClones();
    const old = legacyPatchset(b, 't-4', 1);
    await taskCommit(a, 't-5');
    sync(a);
    // B plays the old omni-ship: it pushes its per-patchset ref as the old sync did
    b.git(['push', '-q', 'origin', `${LEGACY}t-4/1:${LEGACY}t-4/1`]);
    expect(refsUnder(bare, LEGACY).size).toBe(1);

    const r = sync(a);
    expect(r.folded).toBe(1);
    expect(refsUnder(bare, LEGACY)).toEqual(new Map());
    expect(keptCommits(bare).has(old)).toBe(true);
    expect(keptCommits(a).has(old)).toBe(true);
    gcNow(bare);
    expect(has(bare, old)).toBe(true);
  });

  it('a new patchset folds the old refs of this clone in on the spot, and a sync with nothing new moves nothing', async () => {
    const { bare, a } = twoClones();
    const old = legacyPatchset(a, 't-6', 1);
    const fresh = await taskCommit(a, 't-7');
    expect(refsUnder(a, LEGACY)).toEqual(new Map());
    expect(keptCommits(a)).toEqual(new Set([old, fresh]));
    sync(a);
    const again = sync(a);
    expect(again).toMatchObject({ pushed: [], updatedLocal: [], merged: [], folded: 0 });
    expect(keptCommits(bare)).toEqual(new Set([old, fresh]));
  });

  it('show of a landed task gives every patchset, the superseded one too, kept by refs/omni-ship/kept after gc', async () => {
    const { a } = twoClones();
    const first = await taskCommit(a, 't-8');
    a.write('t-8.txt', 'second try\n');
    a.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    const second = a.git(['rev-parse', 'HEAD']).trim();
    expect(await waitForDrain(a)).toBe(true);
    // the task lands (here by a fast-forward of main, the way a plain merge would), and its branch goes
    a.git(['switch', '-q', 'main']);
    a.git(['merge', '-q', '--ff-only', 't-8']);
    a.git(['branch', '-q', '-D', 't-8']);
    gcNow(a);
    const s = jsonOf(a.omni(['show', 't-8', '--json']));
    expect(s.state).toBe('landed');
    expect(s.patchsetHistory).toEqual([
      expect.objectContaining({ n: 1, commit: first, current: false, ref: KEPT }),
      expect.objectContaining({ n: 2, commit: second, supersedes: [first], current: true, ref: KEPT }),
    ]);
    expect(has(a, first)).toBe(true);
  });
});

describe('a kept ref that is not a commit (made by hand)', () => {
  const blobIn = (repo: TestRepo, text: string) => repo.git(['hash-object', '-w', '--stdin'], { input: text }).trim();

  it('on the remote: sync skips it with a warning, pushes nothing over it, and still syncs the notes', async () => {
    const { bare, a, b } = twoClones();
    const a1 = await taskCommit(a, 't-1');
    sync(a);
    const blob = blobIn(bare, 'oops\n');
    bare.git(['update-ref', KEPT, blob]);
    await taskCommit(b, 't-2');
    const r = b.omni(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`skipped ${KEPT}: it points at a blob \\(${blob.slice(0, 12)}\\) on origin, not a commit`));
    const out = JSON.parse(r.stdout);
    expect(out.pushed).not.toContain(KEPT);
    expect(out.pushed).toContain('refs/notes/omni-ship/patchsets');
    expect(refsUnder(bare, KEPT).get(KEPT)).toBe(blob);
    // B's own kept ref still keeps its commit
    expect(keptCommits(b).size).toBe(1);
    expect(has(b, a1)).toBe(false);
  });

  it('here: sync and new patchsets leave it alone, and the notes still sync', async () => {
    const { bare, a } = twoClones();
    const blob = blobIn(a, 'mine\n');
    a.git(['update-ref', KEPT, blob]);
    const a1 = await taskCommit(a, 't-3');
    expect(refsUnder(a, KEPT).get(KEPT)).toBe(blob);
    const r = a.omni(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`skipped ${KEPT}: it points at a blob \\(${blob.slice(0, 12)}\\) here, not a commit`));
    expect(JSON.parse(r.stdout).pushed).not.toContain(KEPT);
    expect(refsUnder(a, KEPT).get(KEPT)).toBe(blob);
    expect(refsUnder(bare, KEPT).size).toBe(0);
    expect(jsonOf(a.omni(['show', 't-3', '--json'])).patchsetHistory[0].commit).toBe(a1);
  });
});
