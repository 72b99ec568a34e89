import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { recordPatchsets } from '../../src/notes/patchsets.js';
import { cleanupAll, makeRepo, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, head, installHooks, jsonOf, patchsetEvents, keptCommits, refValue, refsUnder } from '../helpers/state.js';

afterAll(cleanupAll);

/** A repository with hooks installed, on a new branch `task`. */
function hookedRepo(task: string): TestRepo {
  const repo = makeRepo();
  installHooks(repo);
  repo.git(['switch', '-q', '-c', task]);
  return repo;
}

async function drained(repo: TestRepo): Promise<void> {
  expect(await waitForDrain(repo)).toBe(true);
}

function show(repo: TestRepo, task: string): any {
  return jsonOf(repo.omni(['show', task, '--json']));
}

describe('patchsets recorded by the hooks', () => {
  it('a commit gives patchset 1; an amend gives patchset 2 that supersedes it, and both stay reachable', async () => {
    const repo = hookedRepo('t-5');
    const first = commitChange(repo, 'first try');
    await drained(repo);
    expect(show(repo, 't-5')).toMatchObject({ patchsetCount: 1, head: first, patchsetHistory: [{ n: 1, commit: first, supersedes: [], current: true }] });

    repo.write('work.txt', 'second try\n');
    repo.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    const second = head(repo);
    expect(second).not.toBe(first);
    await drained(repo);

    const s = show(repo, 't-5');
    expect(s.patchsetCount).toBe(2);
    expect(s.patchsetHistory).toEqual([
      expect.objectContaining({ n: 1, commit: first, supersedes: [], current: false, via: 'commit' }),
      expect.objectContaining({ n: 2, commit: second, supersedes: [first], current: true, via: 'amend' }),
    ]);
    // post-commit and post-rewrite of the amend made one patchset, not two
    expect(new Set(patchsetEvents(repo, 't-5').map((e) => e.commit))).toEqual(new Set([first, second]));
    // both commits are kept reachable by the one kept ref: no ref per patchset
    expect(keptCommits(repo)).toEqual(new Set([first, second]));
    expect(refsUnder(repo, 'refs/omni-ship/patchsets/')).toEqual(new Map());

    // the superseded commit is in no branch and no reflog, yet gc keeps it
    repo.git(['reflog', 'expire', '--expire=now', '--all']);
    repo.git(['gc', '-q', '--prune=now']);
    expect(repo.gitRun(['cat-file', '-e', `${first}^{commit}`]).code).toBe(0);
    expect(show(repo, 't-5').patchsetHistory.map((p: { commit: string }) => p.commit)).toEqual([first, second]);
  });

  it('a no-op amend (same commit id) supersedes nothing: two diverged branches of a task stay diverged', async () => {
    const repo = hookedRepo('t-9');
    // fixed dates: the amend then makes the very same commit, as `git commit --amend --no-edit` in the same second does
    const sameSecond = testEnv({ GIT_COMMITTER_DATE: '2030-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2030-01-01T00:00:00Z' });
    const a = commitChange(repo, 'one way', { file: 'a.txt', env: sameSecond });
    repo.git(['switch', '-q', '-c', 'feat/t-9-x', 'main']);
    const b = commitChange(repo, 'another way', { file: 'b.txt' });
    await drained(repo);
    expect(show(repo, 't-9')).toMatchObject({ state: 'diverged' });

    repo.git(['switch', '-q', 't-9']);
    repo.git(['commit', '-q', '--amend', '--no-edit'], { env: sameSecond });
    expect(head(repo)).toBe(a);
    await drained(repo);
    // git reported the rewrite a -> a; the hook ran (it wrote the amend's post-rewrite to its log)
    expect(repo.read('.git/omni-ship/hooks.log')).toMatch(/post-rewrite/);
    const s = show(repo, 't-9');
    expect(s.state).toBe('diverged');
    expect([...s.live].sort()).toEqual([a, b].sort());
    expect(patchsetEvents(repo, 't-9').filter((e) => e.supersedes === e.commit)).toEqual([]);
    expect(s.patchsetHistory.map((p: { commit: string; supersedes: string[] }) => [p.commit, p.supersedes])).toEqual(
      expect.arrayContaining([[a, []], [b, []]]),
    );
  });

  it('a rebase of a one-commit task branch onto a new base gives exactly one new patchset', async () => {
    const repo = hookedRepo('t-6');
    const before = commitChange(repo, 'task work');
    await drained(repo);
    repo.git(['switch', '-q', 'main']);
    commitChange(repo, 'base moves on', { file: 'base.txt' });
    repo.git(['switch', '-q', 't-6']);
    repo.git(['rebase', '-q', 'main']);
    const after = head(repo);
    expect(after).not.toBe(before);
    await drained(repo);

    const events = patchsetEvents(repo, 't-6');
    expect(events).toHaveLength(2);
    expect(events.find((e) => e.commit === after)).toMatchObject({ supersedes: before, via: 'rebase', branch: 't-6' });
    expect(show(repo, 't-6').patchsetHistory).toEqual([
      expect.objectContaining({ n: 1, commit: before }),
      expect.objectContaining({ n: 2, commit: after, supersedes: [before], current: true }),
    ]);
    expect(keptCommits(repo).has(after)).toBe(true);
  });

  it('records nothing while an interactive rebase is stopped, and one patchset when it finishes', async () => {
    const repo = hookedRepo('t-7');
    const before = commitChange(repo, 'task work');
    repo.git(['switch', '-q', 'main']);
    commitChange(repo, 'base moves on', { file: 'base.txt' });
    repo.git(['switch', '-q', 't-7']);
    await drained(repo);
    const eventsBefore = patchsetEvents(repo);
    expect(eventsBefore).toHaveLength(1);
    const keptBefore = refValue(repo, 'refs/omni-ship/kept');

    // stop at the task commit (`edit`), change it, and look before going on
    repo.git(['rebase', '-q', '-i', 'main'], { env: testEnv({ GIT_SEQUENCE_EDITOR: 'sed -i -e "s/^pick/edit/"' }) });
    expect(repo.gitRun(['rev-parse', '-q', '--verify', 'REBASE_HEAD']).code).toBe(0);
    repo.write('work.txt', 'changed during the rebase\n');
    repo.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    const midway = head(repo);
    await drained(repo);
    expect(patchsetEvents(repo)).toEqual(eventsBefore);
    expect(refValue(repo, 'refs/omni-ship/kept')).toBe(keptBefore);

    repo.git(['rebase', '--continue']);
    const after = head(repo);
    await drained(repo);
    const events = patchsetEvents(repo);
    expect(events).toHaveLength(2);
    const added = events.find((e) => e.commit !== before)!;
    // the amended commit is the result: recorded once, by post-rewrite, as replacing the original
    expect(after).toBe(midway);
    expect(added).toMatchObject({ task: 't-7', commit: after, supersedes: before, via: 'rebase', branch: 't-7' });
  });

  it('commits on a branch that is not a task branch record nothing', async () => {
    const repo = makeRepo();
    installHooks(repo);
    commitChange(repo, 'on main');
    commitChange(repo, 'still on main');
    repo.git(['switch', '-q', '-c', 'feature/login']);
    commitChange(repo, 'a branch without a task');
    await drained(repo);
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
    expect([...refsUnder(repo, 'refs/omni-ship/').keys()]).toEqual([]);
  });

  it('`omni-ship hook post-commit` run by hand records HEAD in the foreground', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-8']);
    const commit = commitChange(repo, 'no hooks here');
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
    const r = repo.omni(['hook', 'post-commit']);
    expect(r.code, r.stderr).toBe(0);
    expect(patchsetEvents(repo)).toEqual([expect.objectContaining({ task: 't-8', commit, via: 'commit' })]);
    expect(keptCommits(repo)).toEqual(new Set([commit]));
    const kept = refValue(repo, 'refs/omni-ship/kept');
    // again: the commit is recorded already, and kept already (no new keeper)
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    expect(refValue(repo, 'refs/omni-ship/kept')).toBe(kept);
    expect(patchsetEvents(repo)).toHaveLength(1);
  });
});

describe('which task a commit is a patchset of', () => {
  /** Commits on a new branch from main without the commit-msg hook (as `git commit --no-verify` does). */
  function commitOn(repo: TestRepo, branch: string, ...paragraphs: string[]): string {
    repo.git(['switch', '-q', '-c', branch, 'main']);
    repo.write(`${branch}.txt`, `${branch}\n`);
    repo.git(['add', `${branch}.txt`]);
    repo.git(['commit', '-q', '--no-verify', ...paragraphs.flatMap((p) => ['-m', p])]);
    return head(repo);
  }

  it('a Task-Id that is not a valid id, empty, or one of two different ids: never a patchset of the branch task, nor its head', async () => {
    const repo = makeRepo();
    installHooks(repo);
    const bad = {
      't-40': commitOn(repo, 't-40', 'work', 'Task-Id: nope'),
      't-41': commitOn(repo, 't-41', 'work', 'Task-Id: t-1\nTask-Id: t-2'),
      't-42': commitOn(repo, 't-42', 'work', 'Task-Id: t-42\nTask-Id: nope'),
      't-43': commitOn(repo, 't-43', 'work', 'Task-Id:'),
    };
    // exactly one distinct valid id, written twice: that task's
    const twice = commitOn(repo, 't-44', 'work', 'Task-Id: T-44\nTask-Id: t-44');
    // another task's id: that task's patchset, not the branch's
    const other = commitOn(repo, 't-45', 'work', 'Task-Id: t-7');
    await drained(repo);
    const events = patchsetEvents(repo);
    expect(events.map((e) => [e.task, e.commit]).sort()).toEqual([['t-44', twice], ['t-7', other]].sort());
    expect(keptCommits(repo)).toEqual(new Set([twice, other]));
    const s = jsonOf(repo.omni(['status', '--json']));
    const byId = new Map(s.tasks.map((t: { id: string }) => [t.id, t]));
    for (const [task, commit] of Object.entries(bad)) {
      expect(byId.get(task), task).toMatchObject({ head: null, live: [], patchsets: 0, state: 'in-progress' });
      expect(s.tasks.filter((t: { head: string | null }) => t.head === commit), task).toEqual([]);
    }
    expect(byId.get('t-44')).toMatchObject({ head: twice, live: [twice], patchsets: 1 });
    expect(byId.get('t-45')).toMatchObject({ head: null, live: [] });
    expect(byId.get('t-7')).toMatchObject({ head: other, live: [other], patchsets: 1, branch: 't-45' });
    // neither id of a commit that names two tasks makes a task
    expect([...byId.keys()].sort()).toEqual(['t-40', 't-41', 't-42', 't-43', 't-44', 't-45', 't-7'].sort());
    // and nothing can be reviewed on those branches: they have no commit of their own
    const r = repo.omni(['review', 't-40', '--approve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t-40 has no commit of its own/);
  });

  it('recordPatchsets says which commits it skipped and why', async () => {
    const repo = makeRepo();
    const commit = commitOn(repo, 't-40', 'work', 'Task-Id: nope');
    const two = commitOn(repo, 't-41', 'work', 'Task-Id: t-1\nTask-Id: t-2');
    const { config } = await loadConfig(repo.dir, repo.dir);
    const commonDir = path.join(repo.dir, '.git');
    const at = new Date();
    const result = await recordPatchsets(repo.dir, commonDir, config, [
      { commit, branch: 't-40', supersedes: null, via: 'commit', at },
      { commit: two, branch: 't-41', supersedes: null, via: 'commit', at },
    ]);
    expect(result.written).toBe(0);
    expect(result.events).toEqual([]);
    expect(result.skipped).toEqual([
      { commit, branch: 't-40', reason: expect.stringMatching(/Task-Id 'nope' is not a valid task id/) },
      { commit: two, branch: 't-41', reason: expect.stringMatching(/names several tasks \(t-1, t-2\)/) },
    ]);
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
  });
});

describe('omni-ship patchset', () => {
  it('reports the count, and --increment records an unrecorded tip once', async () => {
    const repo = hookedRepo('t-5');
    const first = commitChange(repo, 'recorded by the hook');
    await drained(repo);
    expect(jsonOf(repo.omni(['patchset', 't-5', '--json']))).toEqual({ taskId: 't-5', patchsetCount: 1, incremented: false, trailer: 'Task-Id: t-5' });

    // a commit the hooks do not see
    const skipped = commitChange(repo, 'hooks skipped', { env: testEnv({ OMNI_SHIP_SKIP: '1' }) });
    await drained(repo);
    expect(patchsetEvents(repo, 't-5')).toHaveLength(1);

    expect(jsonOf(repo.omni(['patchset', 't-5', '--increment', '--json']))).toEqual({ taskId: 't-5', patchsetCount: 2, incremented: true, trailer: 'Task-Id: t-5' });
    expect(patchsetEvents(repo, 't-5').find((e) => e.commit === skipped)).toMatchObject({ via: 'manual', branch: 't-5' });
    expect(keptCommits(repo).has(skipped)).toBe(true);
    const notesTip = refValue(repo, NOTES.patchsets);

    // idempotent: the same tip again records nothing
    expect(jsonOf(repo.omni(['patchset', 't-5', '--increment', '--json']))).toEqual({ taskId: 't-5', patchsetCount: 2, incremented: false, trailer: 'Task-Id: t-5' });
    expect(refValue(repo, NOTES.patchsets)).toBe(notesTip);
    expect(first).not.toBe(skipped);
  });

  it('takes a task id in any case and answers in lower case', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-12']);
    commitChange(repo, 'work');
    expect(jsonOf(repo.omni(['patchset', 'T-12', '--json']))).toEqual({ taskId: 't-12', patchsetCount: 0, incremented: false, trailer: 'Task-Id: t-12' });
  });

  it('refuses an invalid task id with exit 2 and writes nothing', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    commitChange(repo, 'work');
    for (const bad of ['t-5;rm', 'nope', '']) {
      const r = repo.omni(['patchset', bad, '--increment']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not a valid task id/);
      expect(r.stdout).toBe('');
    }
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
    expect([...refsUnder(repo, 'refs/omni-ship/').keys()]).toEqual([]);
  });

  it('refuses --increment for a task without a branch (exit 2), writing nothing', () => {
    const repo = makeRepo();
    const r = repo.omni(['patchset', 't-40', '--increment']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t-40 has no task branch here/);
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
  });
});
