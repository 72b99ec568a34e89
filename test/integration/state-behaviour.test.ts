import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { installedRepo } from '../helpers/hooks.js';
import {
  NOTES,
  commitChange,
  head,
  installHooks,
  jsonOf,
  noteOn,
  omniAsync,
  patchsetEvents,
  keptCommits,
  refValue,
  status,
  taskStatus,
} from '../helpers/state.js';

afterAll(cleanupAll);

async function drained(repo: TestRepo): Promise<void> {
  expect(await waitForDrain(repo)).toBe(true);
}

function show(repo: TestRepo, task: string): any {
  return jsonOf(repo.omni(['show', task, '--json']));
}

/** A committer date in the past: a cherry-pick onto the same parent then makes a different commit. */
const OLD = testEnv({ GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z' });

/** A commit carrying the task's trailer on a new branch from `from`, made without hooks; back on main after. */
function taskBranch(repo: TestRepo, branch: string, task: string, from = 'main'): string {
  repo.git(['switch', '-q', '-c', branch, from]);
  const sha = commitChange(repo, `work on ${task}\n\nTask-Id: ${task}`, { file: `${branch.replace(/\//g, '_')}.txt`, env: OLD });
  repo.git(['switch', '-q', 'main']);
  return sha;
}

/** Every ref with its object, and the omni-ship notes refs: what a refusal must leave exactly as it was. */
function snapshot(repo: TestRepo): { refs: string; notes: Record<string, string | null> } {
  const notes: Record<string, string | null> = {};
  for (const ref of Object.values(NOTES)) notes[ref] = refValue(repo, ref);
  return { refs: repo.git(['for-each-ref', '--format=%(refname) %(objecttype) %(objectname)']), notes };
}

describe('a task branch without a commit of its own', () => {
  it('`git branch t-7` on main: review refuses (exit 2) and writes nothing; status lists t-7 with head null', () => {
    const repo = makeRepo();
    repo.git(['branch', 't-7']);
    const before = snapshot(repo);

    const r = repo.omni(['review', 't-7', '--approve']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/t-7 has no commit of its own/);
    expect(r.stdout).toBe('');
    expect(snapshot(repo)).toEqual(before);
    expect(refValue(repo, NOTES.reviews)).toBeNull();

    const t = taskStatus(repo, 't-7');
    expect(t).toMatchObject({ id: 't-7', head: null, state: 'in-progress', branch: 't-7', review: null, live: [] });
  });

  it("a branch made from another task's tip does not show that task's review, and review refuses on it", () => {
    const repo = makeRepo();
    const t5 = taskBranch(repo, 't-5', 't-5');
    expect(repo.omni(['review', 't-5', '--approve', '-m', 'good']).code).toBe(0);
    expect(taskStatus(repo, 't-5')).toMatchObject({ state: 'approved', head: t5 });

    repo.git(['branch', 't-9', 't-5']);
    // t-9's tip is t-5's commit and carries t-5's trailer
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', 't-9']).trim()).toBe('t-5');
    const t9 = taskStatus(repo, 't-9');
    expect(t9).toMatchObject({ id: 't-9', head: null, review: null, state: 'in-progress', branch: 't-9' });
    // t-5 keeps its own approval
    expect(taskStatus(repo, 't-5')).toMatchObject({ state: 'approved', head: t5, review: { verdict: 'approve', message: 'good' } });

    const before = snapshot(repo);
    const r = repo.omni(['review', 't-9', '--approve']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/t-9 has no commit of its own/);
    expect(snapshot(repo)).toEqual(before);
    expect(noteOn(repo, NOTES.reviews, t5)!.trim().split('\n')).toHaveLength(1);
  });

  it('two branches made from main: neither is approved, and neither can be reviewed', () => {
    const repo = makeRepo();
    repo.git(['branch', 't-7', 'main']);
    repo.git(['branch', 't-8', 'main']);
    for (const id of ['t-7', 't-8']) {
      expect(taskStatus(repo, id)).toMatchObject({ head: null, review: null, state: 'in-progress' });
    }
    const before = snapshot(repo);
    const r = repo.omni(['review', 't-7', '--approve']);
    expect(r.code).toBe(2);
    expect(snapshot(repo)).toEqual(before);
    for (const id of ['t-7', 't-8']) expect(taskStatus(repo, id).state).not.toBe('approved');
    expect(status(repo).counts.approved).toBe(0);
  });

  it('two task branches on one shared commit: a review of one is not a review of the other (keyed by task and commit)', () => {
    const repo = makeRepo();
    // a commit off main without a trailer, on a branch that is not a task branch
    repo.git(['switch', '-q', '-c', 'side']);
    const shared = commitChange(repo, 'shared work', { file: 'side.txt' });
    repo.git(['switch', '-q', 'main']);
    repo.git(['branch', 't-7', 'side']);
    repo.git(['branch', 't-8', 'side']);
    expect(taskStatus(repo, 't-7')).toMatchObject({ head: shared, review: null, state: 'in-progress' });
    expect(taskStatus(repo, 't-8')).toMatchObject({ head: shared, review: null, state: 'in-progress' });

    expect(repo.omni(['review', 't-7', '--approve']).code).toBe(0);
    expect(taskStatus(repo, 't-7')).toMatchObject({ state: 'approved', review: { verdict: 'approve' } });
    expect(noteOn(repo, NOTES.reviews, shared)).toContain('"task":"t-7"');
    expect(taskStatus(repo, 't-8')).toMatchObject({ state: 'in-progress', review: null });
    expect(show(repo, 't-8').reviews).toEqual([]);
    expect(show(repo, 't-7').reviews).toEqual([expect.objectContaining({ task: 't-7', commit: shared, verdict: 'approve' })]);
  });
});

describe('patchset --increment refuses a tip that is not the task’s own commit', () => {
  it('a branch on main: exit 2, no patchset refs and no patchsets note', () => {
    const repo = makeRepo();
    repo.git(['branch', 't-20', 'main']);
    const before = snapshot(repo);
    const r = repo.omni(['patchset', 't-20', '--increment']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/t-20 has no commit of its own/);
    expect(r.stdout).toBe('');
    expect(snapshot(repo)).toEqual(before);
    expect(refValue(repo, 'refs/omni-ship/kept')).toBeNull();
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
  });

  it("a branch made from another task's tip: exit 2 naming that task, nothing written", () => {
    const repo = makeRepo();
    taskBranch(repo, 't-5', 't-5');
    repo.git(['branch', 't-21', 't-5']);
    const before = snapshot(repo);
    const r = repo.omni(['patchset', 't-21', '--increment']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/t-5/);
    expect(r.stderr).toMatch(/t-21/);
    expect(r.stdout).toBe('');
    expect(snapshot(repo)).toEqual(before);
    expect(refValue(repo, 'refs/omni-ship/kept')).toBeNull();
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
  });

  it('a tip whose Task-Id is not a valid id, or names two tasks: exit 2 saying so, nothing written', () => {
    const repo = makeRepo();
    for (const [branch, trailer, why] of [
      ['t-40', 'Task-Id: nope', /'nope' is not a valid task id/],
      ['t-41', 'Task-Id: t-41\nTask-Id: t-2', /names several tasks \(t-41, t-2\)/],
    ] as const) {
      repo.git(['switch', '-q', '-c', branch, 'main']);
      repo.write(`${branch}.txt`, 'x\n');
      repo.git(['add', `${branch}.txt`]);
      repo.git(['commit', '-q', '--no-verify', '-m', 'work', '-m', trailer]);
      const before = snapshot(repo);
      const r = repo.omni(['patchset', branch, '--increment']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toContain(branch);
      expect(r.stdout).toBe('');
      expect(snapshot(repo)).toEqual(before);
    }
    expect(refValue(repo, 'refs/omni-ship/kept')).toBeNull();
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
  });
});

describe('hooks record commits git makes without post-rewrite', () => {
  it('a cherry-pick onto a task branch records the new commit as a patchset of that task', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 'side']);
    const picked = commitChange(repo, 'on a side branch', { file: 'side.txt', env: OLD });
    repo.git(['switch', '-q', '-c', 't-4', 'main']);
    repo.git(['cherry-pick', picked]);
    const made = head(repo);
    expect(made).not.toBe(picked);
    await drained(repo);
    const s = show(repo, 't-4');
    expect(s.patchsetCount).toBe(1);
    expect(s.head).toBe(made);
    expect(s.patchsetHistory).toEqual([expect.objectContaining({ n: 1, commit: made, current: true, branch: 't-4' })]);
    expect(keptCommits(repo)).toEqual(new Set([made]));
  });

  it('a two-commit cherry-pick records both commits', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 'side']);
    const a = commitChange(repo, 'side one', { file: 'a.txt', env: OLD });
    const b = commitChange(repo, 'side two', { file: 'b.txt', env: OLD });
    repo.git(['switch', '-q', '-c', 't-3', 'main']);
    repo.git(['cherry-pick', a, b]);
    const b2 = head(repo);
    const a2 = head(repo, repo.dir, 'HEAD~1');
    expect(new Set([a2, b2, a, b]).size).toBe(4);
    await drained(repo);
    for (const c of [a2, b2]) {
      const note = noteOn(repo, NOTES.patchsets, c);
      expect(note, `no patchset note on ${c}`).not.toBeNull();
      expect(note).toContain('"type":"patchset"');
      expect(note).toContain('"task":"t-3"');
      expect(note).toContain(`"commit":"${c}"`);
    }
    expect(new Set(patchsetEvents(repo, 't-3').map((e) => e.commit))).toEqual(new Set([a2, b2]));
    expect(show(repo, 't-3').patchsetHistory.map((p: { commit: string }) => p.commit)).toEqual([a2, b2]);
  });

  it('`git revert --no-edit` on a task branch records the revert commit', async () => {
    const repo = makeRepo();
    installHooks(repo);
    const baseCommit = commitChange(repo, 'a base change', { file: 'base.txt' });
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['revert', '--no-edit', baseCommit]);
    const reverted = head(repo);
    expect(reverted).not.toBe(baseCommit);
    await drained(repo);
    expect(patchsetEvents(repo, 't-5')).toEqual([expect.objectContaining({ commit: reverted, branch: 't-5' })]);
    const s = show(repo, 't-5');
    expect(s.patchsetCount).toBe(1);
    expect(s.patchsetHistory[0]).toMatchObject({ commit: reverted, current: true });
  });

  it('a rebase of a two-commit task branch records one patchset per rewritten commit, not two', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-2']);
    const one = commitChange(repo, 'task part one', { file: 'one.txt' });
    const two = commitChange(repo, 'task part two', { file: 'two.txt' });
    await drained(repo);
    repo.git(['switch', '-q', 'main']);
    commitChange(repo, 'base moves on', { file: 'base.txt' });
    repo.git(['switch', '-q', 't-2']);
    repo.git(['rebase', '-q', 'main']);
    const two2 = head(repo);
    const one2 = head(repo, repo.dir, 'HEAD~1');
    expect([one2, two2]).not.toContain(one);
    expect([one2, two2]).not.toContain(two);
    await drained(repo);

    for (const [old, now] of [
      [one, one2],
      [two, two2],
    ] as const) {
      const events = patchsetEvents(repo, 't-2').filter((e) => e.commit === now);
      expect(events, `events for ${now}`).toHaveLength(1);
      expect(events[0]).toMatchObject({ via: 'rebase', supersedes: old, branch: 't-2' });
    }
    const history = show(repo, 't-2').patchsetHistory as { commit: string }[];
    expect(history).toHaveLength(4);
    expect(new Set(history.map((p) => p.commit))).toEqual(new Set([one, two, one2, two2]));
    for (const c of [one2, two2]) expect(history.filter((p) => p.commit === c)).toHaveLength(1);
  });
});

describe('a cherry-pick across task branches', () => {
  it("t-1's commit picked onto t-2: t-1 is diverged with both commits live, show marks t-1's branch commit current; t-2 keeps its own commit", async () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const c1 = commitChange(repo, 'the t-1 work', { file: 'one.txt', env: OLD });
    repo.git(['switch', '-q', '-c', 't-2', 'main']);
    const c2 = commitChange(repo, 'the t-2 work', { file: 'two.txt' });
    repo.git(['cherry-pick', c1]);
    const picked = head(repo);
    expect(picked).not.toBe(c1);
    // git copies the message: the picked commit claims t-1
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', picked]).trim()).toBe('t-1');
    await drained(repo);

    const t1 = taskStatus(repo, 't-1');
    expect(t1).toMatchObject({ state: 'diverged', branch: 't-1', head: c1 });
    expect([...t1.live].sort()).toEqual([c1, picked].sort());
    const s1 = show(repo, 't-1');
    expect(s1.patchsetHistory.map((p: any) => [p.commit, p.branch, p.current])).toEqual([
      [c1, 't-1', true],
      [picked, 't-2', false],
    ]);
    const text = repo.omni(['show', 't-1']).stdout;
    expect(text).toMatch(/diverged: /);
    expect(text).toContain(picked.slice(0, 12));

    // t-2's tip is t-1's commit: its own commit is the one below
    const t2 = taskStatus(repo, 't-2');
    expect(t2).toMatchObject({ state: 'in-progress', branch: 't-2', head: c2, live: [c2] });
    expect(show(repo, 't-2').patchsetHistory).toEqual([expect.objectContaining({ commit: c2, current: true })]);
    // a review of t-2 reviews its own commit, and a review of the diverged t-1 is refused
    expect(repo.omni(['review', 't-2', '--approve']).code).toBe(0);
    expect(noteOn(repo, NOTES.reviews, c2)).toContain('"task":"t-2"');
    expect(repo.omni(['review', 't-1', '--approve']).code).toBe(3);
  });

  it('a task without its branch, claimed by two tips: diverged, and its head is the newest of them', async () => {
    const repo = makeRepo();
    const c1 = taskBranch(repo, 't-1', 't-1');
    repo.git(['switch', '-q', '-c', 'wip', 'main']);
    repo.git(['cherry-pick', c1], { env: testEnv({ GIT_COMMITTER_DATE: '2021-01-01T00:00:00Z' }) });
    const picked = head(repo, repo.dir);
    repo.git(['switch', '-q', 'main']);
    repo.git(['branch', '-m', 't-1', 'old-t-1']);
    const t1 = taskStatus(repo, 't-1');
    expect(t1).toMatchObject({ state: 'diverged', head: picked });
    expect([...t1.live].sort()).toEqual([c1, picked].sort());
  });
});

describe('post-merge', () => {
  it('a --no-ff merge on a task branch records the merge commit as a patchset via merge', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 'side']);
    commitChange(repo, 'side work', { file: 'side.txt' });
    repo.git(['switch', '-q', '-c', 't-6', 'main']);
    const own = commitChange(repo, 'task work', { file: 't6.txt' });
    await drained(repo);
    repo.git(['merge', '--no-ff', '-q', '-m', 'merge', 'side']);
    const merge = head(repo);
    expect(repo.git(['rev-list', '--parents', '-n', '1', merge]).trim().split(' ')).toHaveLength(3);
    await drained(repo);
    expect(patchsetEvents(repo, 't-6').find((e) => e.commit === merge)).toMatchObject({ via: 'merge', task: 't-6', branch: 't-6' });
    const s = show(repo, 't-6');
    expect(s.head).toBe(merge);
    expect(s.patchsetHistory).toEqual([
      expect.objectContaining({ commit: own, via: 'commit' }),
      expect.objectContaining({ commit: merge, via: 'merge', current: true }),
    ]);
  });

  it('a fast-forward of a task branch to main records no patchset (the tip is a base commit)', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['branch', 't-10']);
    const newer = commitChange(repo, 'main moves on', { file: 'base.txt' });
    repo.git(['switch', '-q', 't-10']);
    const merged = repo.gitRun(['merge', 'main']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/Fast-forward/);
    expect(head(repo)).toBe(newer);
    await drained(repo);
    expect(patchsetEvents(repo, 't-10')).toEqual([]);
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
    expect(refValue(repo, 'refs/omni-ship/kept')).toBeNull();
    expect(taskStatus(repo, 't-10')).toMatchObject({ head: null, patchsets: 0 });

    // the hooks do run here: the task's own commit after it is recorded
    const own = commitChange(repo, 'own work', { file: 't10.txt' });
    await drained(repo);
    expect(patchsetEvents(repo, 't-10')).toEqual([expect.objectContaining({ commit: own })]);
  });
});

describe('tasks named by a trailer off a task branch', () => {
  it('OMNI_SHIP_TASK=t-9 committing on `wip` makes t-9 with that head on branch wip', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 'wip']);
    const commit = commitChange(repo, 'work for t-9 on wip', { env: testEnv({ OMNI_SHIP_TASK: 't-9' }) });
    await drained(repo);
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', commit]).trim()).toBe('t-9');
    const t = taskStatus(repo, 't-9');
    expect(t).toMatchObject({ id: 't-9', head: commit, branch: 'wip', state: 'in-progress' });
    const r = repo.omni(['show', 't-9']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^t-9\s/);
    expect(show(repo, 't-9')).toMatchObject({ taskId: 't-9', head: commit, branch: 'wip' });
  });
});

describe('a notes ref that points at a blob', () => {
  it('status still works, lists the tasks, and warns naming the ref', () => {
    const repo = makeRepo();
    const sha = taskBranch(repo, 't-1', 't-1');
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: 'x\n' }).trim();
    repo.git(['update-ref', NOTES.verify, blob]);
    const r = repo.omni(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('refs/notes/omni-ship/verify');
    expect(JSON.parse(r.stdout).tasks).toEqual([expect.objectContaining({ id: 't-1', head: sha, state: 'in-progress' })]);
    // left as it was
    expect(refValue(repo, NOTES.verify)).toBe(blob);
  });
});

describe('patchset author', () => {
  it('show gives the commit author when it differs from the committer, in JSON and in text', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-1']);
    repo.write('work.txt', 'by Ada\n');
    repo.git(['add', 'work.txt']);
    repo.git(['commit', '-q', '--author=Ada Author <ada@example.com>', '-m', 'written by Ada']);
    const commit = head(repo);
    await drained(repo);
    const s = show(repo, 't-1');
    expect(s.patchsetHistory).toHaveLength(1);
    expect(s.patchsetHistory[0]).toMatchObject({ commit, author: 'Ada Author <ada@example.com>', by: 'Test Author <author@example.com>' });
    const text = repo.omni(['show', 't-1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Ada Author');
  });
});

describe('status text', () => {
  it('says "no tasks yet" without tasks, and shows the landed commit in a LANDED column', () => {
    const repo = makeRepo();
    const empty = repo.omni(['status']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^no tasks yet/);

    const t1 = taskBranch(repo, 't-1', 't-1');
    taskBranch(repo, 't-2', 't-2');
    repo.git(['cherry-pick', t1]);
    const landed = head(repo);
    expect(landed).not.toBe(t1);
    // landed by hand: no land event gives it a time, so the default listing counts it and --all shows it
    const inFlight = repo.omni(['status']);
    expect(inFlight.stdout).not.toMatch(/^t-1 /m);
    expect(inFlight.stdout).toContain('in-progress 1, landed 1 (all tasks; shown: in flight, and landed by omni-ship in the last 3 days; 1 more landed: --all lists them)');
    const r = repo.omni(['status', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^TASK\s+STATE\s+BRANCH\s+HEAD\s+PS\s+VERIFY\s+REVIEW\s+LANDED\s*$/);
    const row1 = lines.find((l) => l.startsWith('t-1 '));
    expect(row1).toBeDefined();
    expect(row1).toMatch(/\blanded\b/);
    expect(row1!.trim().split(/\s+/).at(-1)).toBe(landed.slice(0, 10));
    const row2 = lines.find((l) => l.startsWith('t-2 '));
    expect(row2!.trim().split(/\s+/).at(-1)).toBe('-');
  });
});

describe('concurrent writes', () => {
  it('20 concurrent reviews all land in the note, and no private ref is left behind', async () => {
    const repo = makeRepo();
    const commit = taskBranch(repo, 't-1', 't-1');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => omniAsync(repo.dir, ['review', 't-1', '--approve', '-m', `review ${i}`])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const lines = noteOn(repo, NOTES.reviews, commit)!.split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(20);
    expect(new Set(lines).size).toBe(20);
    expect(new Set(lines.map((l) => JSON.parse(l).message))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `review ${i}`)));
    expect(repo.git(['for-each-ref', 'refs/omni-ship/tmp/'])).toBe('');
    expect(show(repo, 't-1').reviews).toHaveLength(20);
  }, 300_000);
});

describe('a task landed by fast-forward', () => {
  it('is landed with its own commit as head, though its branch tip is on main; review refuses with exit 1', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-2']);
    const commit = commitChange(repo, 'the work\n\nTask-Id: t-2');
    repo.git(['switch', '-q', 'main']);
    repo.git(['merge', '-q', '--ff-only', 't-2']);
    expect(taskStatus(repo, 't-2')).toMatchObject({ state: 'landed', head: commit, landedCommit: commit, branch: 't-2' });
    const before = repo.git(['for-each-ref']);
    const r = repo.omni(['review', 't-2', '--approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/t-2 has landed already/);
    expect(repo.git(['for-each-ref'])).toBe(before);
  });
});
