import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { message, settleDrainers, track } from '../helpers/hooks.js';
import {
  NO_BAD,
  PASS,
  advanceMain,
  allRefs,
  cherryPickTree,
  commitInfo,
  countingStep,
  drained,
  expectNothingLanded,
  land,
  landLocal,
  landRemote,
  landSnapshot,
  makeTask,
  objectCounts,
  outcomeOf,
  refusePushes,
  remoteBranch,
} from '../helpers/land.js';
import { omniInGroup } from '../helpers/land-race.js';
import { cleanupAll, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';
import { NOTES, eventsIn, installHooks, noteOn, refValue, taskStatus } from '../helpers/state.js';
import { sync } from '../helpers/sync.js';
import { runCounter, verifyConfigText, verifyEventsOn } from '../helpers/verify.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const rev = (repo: TestRepo, name: string) => repo.git(['rev-parse', name]).trim();
const landEvents = (repo: TestRepo, task?: string) => eventsIn(repo, NOTES.lands).filter((e) => e.type === 'land' && (!task || e.task === task));
const attemptEvents = (repo: TestRepo, task: string) => eventsIn(repo, NOTES.attempts).filter((e) => e.type === 'attempt' && e.task === task);
/** The commits on main after `from`, oldest first, as the bare remote has them. */
const commitsAfter = (repo: TestRepo, from: string, branch = 'main') => repo.git(['rev-list', '--reverse', '--first-parent', `${from}..${branch}`]).split('\n').filter(Boolean);
const pushBranches = (repo: TestRepo, ...branches: string[]) => repo.git(['push', '-q', 'origin', ...branches]);

describe('omni-ship land: the happy path through a remote', () => {
  it('lands a task on the base tip as is, then one whose base moved as a new commit; moves the remote and local main, records, cleans up', async () => {
    const fx = landRemote({ steps: [PASS] }, { hooks: true });
    const { a, bare } = fx;
    const tip0 = rev(a, 'main');
    // the commit-msg hook adds the trailer from the branch name
    const t1 = makeTask(a, 't-1', { trailer: false });
    const other = testEnv({ GIT_AUTHOR_NAME: 'Other Dev', GIT_AUTHOR_EMAIL: 'other@example.com', GIT_AUTHOR_DATE: '1700000000 +0200' });
    const t2 = makeTask(a, 't-2', { trailer: false, subject: 'add the t-2 feature', body: 'with a body line', env: other });
    expect(commitInfo(a, t1).trailers).toEqual(['t-1']);
    expect(commitInfo(a, t2).trailers).toEqual(['t-2']);
    pushBranches(a, 't-1', 't-2');
    a.git(['switch', '-q', 'main']);
    await drained(a);

    // t-1's parent is main's tip: the landed commit is the task commit itself
    const l1 = land(a, ['t-1']);
    expect(l1.r.code, l1.r.stderr).toBe(0);
    const o1 = outcomeOf(l1, 't-1');
    expect(o1).toMatchObject({ outcome: 'landed', gate: null, exitCode: 0, commit: t1, landed: t1, patchset: 1, batchSize: 1, attempts: 1 });
    expect(o1.verify).toMatchObject({ result: 'pass' });
    expect(l1.json).toMatchObject({ base: 'main', remote: 'origin', pushed: true, dryRun: false, oldTip: tip0, newTip: t1, notesSynced: true });
    expect(remoteBranch(bare, 'main')).toBe(t1);
    expect(rev(a, 'refs/heads/main')).toBe(t1);
    expect(rev(a, 'refs/remotes/origin/main')).toBe(t1);
    // main is checked out here and clean: it was fast-forwarded with its files, no phantom staged changes
    expect(a.read('t-1.txt')).toBe('t-1 work\n');
    expect(a.git(['status', '--porcelain=v1'])).toBe('');

    // t-2 was made on the old tip: a new candidate on t-1, with t-2's message, author and trailer
    const l2 = land(a, ['t-2']);
    expect(l2.r.code, l2.r.stderr).toBe(0);
    const o2 = outcomeOf(l2, 't-2');
    expect(o2).toMatchObject({ outcome: 'landed', exitCode: 0, commit: t2, patchset: 1 });
    const landed2 = o2.landed as string;
    expect(landed2).not.toBe(t2);
    expect(l2.json).toMatchObject({ oldTip: t1, newTip: landed2 });
    expect(remoteBranch(bare, 'main')).toBe(landed2);
    expect(rev(a, 'refs/heads/main')).toBe(landed2);
    expect(a.read('t-2.txt')).toBe('t-2 work\n');
    expect(a.git(['status', '--porcelain=v1'])).toBe('');
    const task2 = commitInfo(a, t2);
    const cand = commitInfo(a, landed2);
    expect(cand.parents).toEqual([t1]);
    expect(message(a, landed2)).toBe(message(a, t2));
    expect(cand.author).toBe(task2.author);
    expect(cand.author).toContain('Other Dev <other@example.com>');
    expect(cand.committer).toBe('Test Author <author@example.com>');
    expect(cand.trailers).toEqual(['t-2']);
    expect(cand.tree).toBe(o2.tree);
    expect(cand.tree).toBe(cherryPickTree(a, t1, t2, tempDir()));

    // the land events, each on its landed commit, pushed to the remote with the other notes
    const e1 = landEvents(a, 't-1');
    expect(e1).toHaveLength(1);
    expect(e1[0]).toMatchObject({ task: 't-1', commit: t1, landed: t1, base: 'main', oldTip: tip0, newTip: t1, patchset: 1 });
    const e2 = landEvents(a, 't-2');
    expect(e2).toHaveLength(1);
    expect(e2[0]).toMatchObject({ task: 't-2', commit: t2, landed: landed2, base: 'main', oldTip: t1, newTip: landed2, patchset: 1 });
    expect(noteOn(a, NOTES.lands, t1)).toContain('"task":"t-1"');
    expect(noteOn(a, NOTES.lands, landed2)).toContain('"task":"t-2"');
    expect(refValue(bare, NOTES.lands)).toBe(refValue(a, NOTES.lands));

    // the task branches are gone, here and on the remote
    for (const [l, task] of [[l1, 't-1'], [l2, 't-2']] as const) {
      const branches = outcomeOf(l, task).branches;
      expect(branches).toContainEqual({ branch: task, remote: null, deleted: true, kept: null });
      expect(branches).toContainEqual({ branch: task, remote: 'origin', deleted: true, kept: null });
      expect(refValue(a, `refs/heads/${task}`)).toBeNull();
      expect(refValue(a, `refs/remotes/origin/${task}`)).toBeNull();
      expect(remoteBranch(bare, task)).toBeNull();
    }

    // status agrees
    expect(taskStatus(a, 't-1')).toMatchObject({ state: 'landed', landing: { commit: t1, landed: t1, base: 'main' } });
    expect(taskStatus(a, 't-2')).toMatchObject({ state: 'landed', landing: { commit: t2, landed: landed2, base: 'main' } });
  });
});

describe('omni-ship land: without a remote', () => {
  it('a base checked out in the main worktree and clean is fast-forwarded there: files updated, git status clean', () => {
    const repo = landLocal({ steps: [PASS] });
    const t1 = makeTask(repo, 't-1');
    const tip = advanceMain(repo, { 'other.txt': 'other\n' });
    const l = land(repo, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const o = outcomeOf(l, 't-1');
    expect(o.outcome).toBe('landed');
    expect(l.json).toMatchObject({ remote: null, pushed: false, oldTip: tip, newTip: o.landed });
    expect(o.landed).not.toBe(t1);
    expect(commitInfo(repo, o.landed).parents).toEqual([tip]);
    expect(rev(repo, 'refs/heads/main')).toBe(o.landed);
    expect(repo.git(['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
    expect(repo.read('t-1.txt')).toBe('t-1 work\n');
    expect(repo.read('other.txt')).toBe('other\n');
    expect(repo.git(['status', '--porcelain=v1', '--untracked-files=all'])).toBe('');
    expect(repo.git(['diff', '--cached', '--name-only'])).toBe('');
    expect(landEvents(repo, 't-1')[0]).toMatchObject({ commit: t1, landed: o.landed, oldTip: tip, newTip: o.landed });
    expect(refValue(repo, 'refs/heads/t-1')).toBeNull();
  });

  it('a base checked out nowhere moves with git update-ref; the detached work tree is left alone', () => {
    const repo = landLocal({ steps: [PASS] });
    const tip = rev(repo, 'main');
    const t1 = makeTask(repo, 't-1');
    repo.git(['switch', '-q', '--detach', 'main']);
    const l = land(repo, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(rev(repo, 'refs/heads/main')).toBe(t1);
    expect(repo.git(['reflog', 'show', '-n1', '--format=%gs', 'refs/heads/main'])).toContain('omni-ship land');
    // HEAD stays where it was, with its files and a clean status
    expect(rev(repo, 'HEAD')).toBe(tip);
    expect(fs.existsSync(path.join(repo.dir, 't-1.txt'))).toBe(false);
    expect(repo.git(['status', '--porcelain=v1'])).toBe('');
    expect(landEvents(repo, 't-1')).toHaveLength(1);
  });

  it('a dirty checked-out base is refused with exit 2 before anything changes', () => {
    const runs = runCounter();
    const repo = landLocal({ steps: [countingStep(runs)] });
    makeTask(repo, 't-1');
    repo.git(['switch', '-q', 'main']);
    repo.write('README', 'local edit\n');
    const before = allRefs(repo);
    const l = land(repo, ['t-1']);
    expect(l.r.code).toBe(2);
    expect(l.r.stdout).toBe('');
    expect(l.r.stderr).toContain(`omni-ship: main is checked out in ${repo.dir} with uncommitted changes (README)`);
    expect(l.r.stderr).toMatch(/^hint: commit or stash them there/m);
    expect(allRefs(repo)).toBe(before);
    expect(repo.read('README')).toBe('local edit\n');
    expect(runs.count()).toBe(0);
    expect(refValue(repo, NOTES.lands)).toBeNull();
    expect(refValue(repo, NOTES.verify)).toBeNull();
  });
});

describe('omni-ship land: refusals change nothing', () => {
  /** A remote fixture with branch t-1 made by `make`, pushed, and main checked out again. */
  function withTask(make: (a: TestRepo) => string, verify: Record<string, unknown> = { steps: [PASS] }, land?: Record<string, unknown>) {
    const fx = landRemote(verify, { land });
    const commit = make(fx.a);
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    return { ...fx, commit };
  }

  it('two commits on the task branch: gate shape, exit 1', () => {
    const fx = withTask((a) => {
      makeTask(a, 't-1');
      a.write('more.txt', 'more\n');
      a.git(['add', 'more.txt']);
      a.git(['commit', '-q', '-m', 'more', '-m', 'Task-Id: t-1']);
      return rev(a, 'HEAD');
    });
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'refused', gate: 'shape', exitCode: 1 });
    expect(outcomeOf(l, 't-1').reason).toContain('t-1 is 2 commits on top of main');
    expectNothingLanded(fx, before);
  });

  it('a closed task: gate closed, exit 1; reopened, it lands', () => {
    const fx = withTask((a) => makeTask(a, 't-1'));
    expect(fx.a.omni(['task', 'add', 't-1', '--title', 'the work']).code).toBe(0);
    expect(fx.a.omni(['task', 'close', 't-1', '-m', 'not wanted after all']).code).toBe(0);
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'refused', gate: 'closed', exitCode: 1 });
    expect(outcomeOf(l, 't-1').reason).toContain('t-1 is closed (omni-ship task close): a closed task does not land');
    expectNothingLanded(fx, before);
    expect(fx.a.omni(['task', 'reopen', 't-1']).code).toBe(0);
    expect(outcomeOf(land(fx.a, ['t-1']), 't-1')).toMatchObject({ outcome: 'landed' });
  });

  it('a trailer naming another task: gate trailer, exit 1', () => {
    const fx = withTask((a) => makeTask(a, 't-1', { trailer: 'Task-Id: t-2' }));
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'trailer', exitCode: 1 });
    expect(o.reason).toContain('names t-2, not t-1');
    expectNothingLanded(fx, before);
  });

  it('a trailer naming two tasks: gate trailer, exit 1', () => {
    const fx = withTask((a) => makeTask(a, 't-1', { trailer: 'Task-Id: t-1\nTask-Id: t-2' }));
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'trailer', exitCode: 1 });
    expect(o.reason).toContain('belongs to no task');
    expectNothingLanded(fx, before);
  });

  it('a failed verify: gate verify, exit 1; the answer is in the verify notes and an attempt is recorded', () => {
    const runs = runCounter();
    const fx = withTask((a) => makeTask(a, 't-1', { files: { bad: 'x\n' } }), { steps: [countingStep(runs)] });
    const tree = rev(fx.a, `${fx.commit}^{tree}`);
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'verify', exitCode: 1, landed: null });
    expect(o.reason).toContain("t-1: verify failed under main's spec in step count");
    expect(o.verify).toMatchObject({ result: 'fail', step: 'count' });
    expect(runs.count()).toBe(1);
    expect(verifyEventsOn(fx.a, tree)).toEqual([expect.objectContaining({ result: 'fail', tree })]);
    const attempts = attemptEvents(fx.a, 't-1');
    expect(attempts).toEqual([expect.objectContaining({ task: 't-1', commit: fx.commit, role: 'land', outcome: 'fail' })]);
    expect(noteOn(fx.a, NOTES.attempts, fx.commit)).toContain('"type":"attempt"');
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('an unknown task: exit 2', () => {
    const fx = withTask((a) => makeTask(a, 't-1'));
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-404']);
    expect(l.r.code).toBe(2);
    expect(outcomeOf(l, 't-404')).toMatchObject({ outcome: 'refused', gate: 'unknown-task', exitCode: 2 });
    expect(outcomeOf(l, 't-404').reason).toContain('no task t-404 here');
    expectNothingLanded(fx, before);
  });

  it('a base branch that does not exist: exit 2', () => {
    const fx = withTask((a) => makeTask(a, 't-1'));
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1', '--base', 'nope']);
    expect(l.r.code).toBe(2);
    expect(l.r.stdout).toBe('');
    expect(l.r.stderr).toContain('omni-ship: the base branch nope does not exist on origin');
    expectNothingLanded(fx, before);
  });

  it("a remote that refuses the push: gate push-refused, exit 1, the remote's reason quoted, not retried", () => {
    const runs = runCounter();
    const fx = withTask((a) => makeTask(a, 't-1'), { steps: [countingStep(runs)] });
    const hook = refusePushes(fx.bare, 'policy-bot: main is frozen for the release');
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'push-refused', exitCode: 1, attempts: 1 });
    expect(o.reason).toContain('main is frozen for the release');
    expect(hook.count()).toBe(1);
    expect(runs.count()).toBe(1);
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('a conflict: exit 3, the conflicting paths listed, an attempt recorded', () => {
    const runs = runCounter();
    const fx = withTask(
      (a) => {
        advanceMain(a, { 'shared.txt': 'base\n' });
        return makeTask(a, 't-1', { files: { 'shared.txt': 'task\n', 't-1.txt': 'mine\n' } });
      },
      { steps: [countingStep(runs)] },
    );
    advanceMain(fx.a, { 'shared.txt': 'main\n' });
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(3);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'conflict', exitCode: 3, conflicts: ['shared.txt'] });
    expect(o.reason).toContain('t-1 conflicts with main');
    expect(o.reason).toContain('shared.txt');
    expect(runs.count()).toBe(0);
    const attempts = attemptEvents(fx.a, 't-1');
    expect(attempts).toEqual([expect.objectContaining({ task: 't-1', commit: fx.commit, role: 'land', outcome: 'fail' })]);
    expect(attempts[0]!.error).toContain('shared.txt');
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('bad usage: a bad task id, --all with ids, no ids: exit 2, a message on stderr, nothing on stdout', () => {
    const fx = withTask((a) => makeTask(a, 't-1'));
    const before = landSnapshot(fx);
    const cases: [string[], string][] = [
      [['t-1;rm'], '"t-1;rm" is not a valid task id'],
      [['--all', 't-1'], 'give task ids or --all, not both'],
      [[], 'name the task(s) to land, or --all'],
    ];
    for (const [args, text] of cases) {
      const l = land(fx.a, args);
      expect(l.r.code, args.join(' ')).toBe(2);
      expect(l.r.stdout, args.join(' ')).toBe('');
      expect(l.r.stderr, args.join(' ')).toContain(`omni-ship: ${text}`);
    }
    expectNothingLanded(fx, before);
  });
});

describe('omni-ship land: trailers', () => {
  it('a commit made without the trailer (OMNI_SHIP_SKIP=1, git commit --no-verify) lands with the trailer added', async () => {
    const repo = landLocal({ steps: [PASS] });
    installHooks(repo);
    track(repo);
    const t3 = makeTask(repo, 't-3', { trailer: false, env: testEnv({ OMNI_SHIP_SKIP: '1' }) });
    repo.git(['switch', '-q', '-c', 't-4', 'main']);
    repo.write('t-4.txt', 't-4 work\n');
    repo.git(['add', 't-4.txt']);
    repo.git(['commit', '-q', '--no-verify', '-m', 'work on t-4']);
    const t4 = rev(repo, 'HEAD');
    repo.git(['switch', '-q', 'main']);
    await drained(repo);
    expect(message(repo, t3)).toBe('work on t-3\n');
    expect(message(repo, t4)).toBe('work on t-4\n');

    const l = land(repo, ['t-3', 't-4']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const o3 = outcomeOf(l, 't-3');
    const o4 = outcomeOf(l, 't-4');
    expect(o3.outcome).toBe('landed');
    expect(o4.outcome).toBe('landed');
    expect(o3.landed).not.toBe(t3);
    expect(message(repo, o3.landed)).toBe('work on t-3\n\nTask-Id: t-3\n');
    expect(message(repo, o4.landed)).toBe('work on t-4\n\nTask-Id: t-4\n');
    expect(commitInfo(repo, o3.landed).trailers).toEqual(['t-3']);
    expect(commitInfo(repo, 'main').trailers).toEqual(['t-4']);
    expect(commitsAfter(repo, `${o3.landed}~1`)).toEqual([o3.landed, o4.landed]);
  });
});

describe('omni-ship land: land.* settings from the committed config', () => {
  const SKIP = { name: 'maybe', run: 'exit 125' };

  it('a skipped verify is refused (gate skip) by default', () => {
    const fx = landRemote({ steps: [SKIP] });
    makeTask(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'skip', exitCode: 1 });
    expect(o.reason).toContain('t-1: verify skipped');
    expect(o.reason).toContain('land.allowSkip is false');
    expect(o.verify).toMatchObject({ result: 'skip' });
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('a skipped verify lands with land.allowSkip: true on main', () => {
    const fx = landRemote({ steps: [SKIP] }, { land: { allowSkip: true } });
    const t1 = makeTask(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(l.json).toMatchObject({ landSource: 'base', land: { allowSkip: true } });
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1, verify: { result: 'skip' } });
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
  });

  it('land.requireApproval: refused (gate approval) until the patchset is approved, then lands', () => {
    const fx = landRemote({ steps: [PASS] }, { land: { requireApproval: true } });
    const t1 = makeTask(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    let before = landSnapshot(fx);
    const none = land(fx.a, ['t-1']);
    expect(none.r.code).toBe(1);
    expect(outcomeOf(none, 't-1')).toMatchObject({ outcome: 'refused', gate: 'approval', exitCode: 1 });
    expect(outcomeOf(none, 't-1').reason).toContain('land.requireApproval is set and it has no review');
    expect(outcomeOf(none, 't-1').hint).toContain('omni-ship review t-1 --approve');
    expectNothingLanded(fx, before);

    expect(fx.a.omni(['review', 't-1', '--request-changes', '-m', 'not yet']).code).toBe(0);
    before = landSnapshot(fx);
    const changes = land(fx.a, ['t-1']);
    expect(changes.r.code).toBe(1);
    expect(outcomeOf(changes, 't-1')).toMatchObject({ gate: 'approval' });
    expect(outcomeOf(changes, 't-1').reason).toContain('asks for changes');
    expectNothingLanded(fx, before);

    const approve = fx.a.omni(['review', 't-1', '--approve']);
    expect(approve.code, approve.stderr).toBe(0);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
  });
});

describe('omni-ship land killed after the base moved (OMNI_SHIP_FAILPOINT)', () => {
  const tmpRefs = (repo: TestRepo) => repo.git(['for-each-ref', '--format=%(refname)', 'refs/omni-ship/tmp/']).split('\n').filter(Boolean);
  for (const [point, when] of [
    ['land:pushed', 'right after the push, before anything is recorded'],
    ['land:notes-staged', 'with its notes written under private refs, not yet published'],
  ] as const) {
    it(`${when}: the next land records the landing once, removes what the killed one left, and deletes the branch`, () => {
      const fx = landRemote({ steps: [PASS] });
      const t1 = makeTask(fx.a, 't-1');
      fx.a.git(['switch', '-q', 'main']);
      pushBranches(fx.a, 't-1');
      const killed = land(fx.a, ['t-1'], { env: testEnv({ OMNI_SHIP_FAILPOINT: point }) });
      expect(killed.r.code, killed.r.stderr).toBe(128);
      expect(killed.r.stdout).toBe('');
      expect(remoteBranch(fx.bare, 'main')).toBe(t1);
      expect(landEvents(fx.a, 't-1')).toEqual([]);
      if (point === 'land:notes-staged') expect(tmpRefs(fx.a).length).toBeGreaterThan(0);

      const again = land(fx.a, ['t-1']);
      expect(again.r.code, again.r.stderr).toBe(0);
      expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'already-landed', landed: t1, reason: 'recorded' });
      expect(landEvents(fx.a, 't-1')).toHaveLength(1);
      expect(tmpRefs(fx.a)).toEqual([]);
      expect(fx.a.git(['notes', '--ref', 'refs/notes/omni-ship-landed', 'show', t1])).toMatch(/^Task-Id: t-1$/m);
      expect(fx.a.gitRun(['rev-parse', '-q', '--verify', 'refs/heads/t-1']).code).not.toBe(0);
      expect(remoteBranch(fx.bare, 't-1')).toBeNull();
      // and the remote has the event: the land synced it
      expect(eventsIn(fx.bare, NOTES.lands).filter((e) => e.type === 'land' && e.task === 't-1')).toHaveLength(1);
    });
  }
});

describe('omni-ship land killed inside a ref update (a ref lock left behind)', () => {
  // git removes its lock files when a signal it can catch stops it; a SIGKILL between taking a ref's lock and
  // renaming it into place leaves `<ref>.lock`, and git then refuses every write of that ref. A reference-transaction
  // hook kills the land's whole process group at the moment the named ref's lock is held, as a kill -9 could.
  const refLocksOf = (repo: TestRepo) => {
    const common = repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name.endsWith('.lock')) out.push(path.relative(common, path.join(d, e.name)));
      }
    };
    walk(path.join(common, 'refs'));
    if (fs.existsSync(path.join(common, 'packed-refs.lock'))) out.push('packed-refs.lock');
    return out;
  };
  const killingHook = (repo: TestRepo) => {
    const hooks = repo.git(['rev-parse', '--path-format=absolute', '--git-path', 'hooks']).trim();
    fs.mkdirSync(hooks, { recursive: true });
    const hook = path.join(hooks, 'reference-transaction');
    fs.writeFileSync(
      hook,
      [
        '#!/bin/sh',
        '[ "$1" = prepared ] && [ -n "$KILL_AT_REF" ] || exit 0',
        'while read -r old new ref; do',
        '  if [ "$ref" = "$KILL_AT_REF" ] && [ -e "$KILL_MARK" ]; then rm -f "$KILL_MARK"; kill -KILL 0; fi',
        'done',
        'exit 0',
        '',
      ].join('\n'),
    );
    fs.chmodSync(hook, 0o755);
  };
  for (const [ref, what] of [
    ['refs/heads/main', 'the local base catching up after the push'],
    ['refs/remotes/origin/main', "the push's own update of the tracking ref"],
    ['refs/heads/t-1', "the deletion of the task's branch"],
    [NOTES.lands, 'the landing being recorded'],
  ] as const) {
    it(`killed in ${what}: the next land removes the lock, finishes the job once and leaves no lock`, async () => {
      const fx = landRemote({ steps: [PASS] });
      // origin's receive-pack is a server's: not in the land's process group
      fx.a.git(['config', 'remote.origin.receivepack', 'setsid git-receive-pack']);
      makeTask(fx.a, 't-1');
      // main moves on origin, so the land makes a new commit, and main is not checked out here
      const other = fx.clone('other');
      advanceMain(other, { 'other.txt': 'other\n' });
      fx.a.git(['switch', '-q', '-c', 'desk', 'main']);
      pushBranches(fx.a, 't-1');
      killingHook(fx.a);
      const mark = path.join(tempDir('omni-ship-mark-'), 'kill');
      fs.writeFileSync(mark, '');

      const killed = await omniInGroup(fx.a.dir, ['land', 't-1', '--json'], testEnv({ KILL_AT_REF: ref, KILL_MARK: mark })).done;
      expect(killed.signal, `${killed.code} ${killed.stderr}`).toBe('SIGKILL');
      expect(fs.existsSync(mark), 'the hook fired').toBe(false);
      expect(refLocksOf(fx.a)).toContain(`${ref}.lock`);

      const again = land(fx.a, ['t-1']);
      expect(again.r.code, again.r.stderr).toBe(0);
      const landed = remoteBranch(fx.bare, 'main')!;
      expect(outcomeOf(again, 't-1')).toMatchObject({ landed });
      expect(again.r.stderr).not.toMatch(/lock/);
      expect(refLocksOf(fx.a)).toEqual([]);
      expect(landEvents(fx.a, 't-1').map((e) => e.landed)).toEqual([landed]);
      expect(rev(fx.a, 'refs/heads/main')).toBe(landed);
      expect(rev(fx.a, 'refs/remotes/origin/main')).toBe(landed);
      expect(fx.a.gitRun(['rev-parse', '-q', '--verify', 'refs/heads/t-1']).code).not.toBe(0);
      expect(remoteBranch(fx.bare, 't-1')).toBeNull();
      // and a plain git write of each ref works again
      expect(fx.a.gitRun(['update-ref', 'refs/heads/main', landed]).code).toBe(0);
    });
  }

  it('a lock no killed omni-ship left (a git still at work, for all omni-ship can tell) is left alone, and git says why', () => {
    const fx = landRemote({ steps: [PASS] });
    makeTask(fx.a, 't-1');
    fx.a.git(['switch', '-q', '-c', 'desk', 'main']);
    pushBranches(fx.a, 't-1');
    const lock = path.join(fx.a.dir, '.git', 'refs', 'heads', 't-1.lock');
    fs.writeFileSync(lock, '');
    const before = fx.a.git(['rev-parse', 'refs/heads/t-1']).trim();
    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(fs.existsSync(lock)).toBe(true);
    // it landed; the local branch is kept, and the answer says why, naming the lock file
    expect(outcomeOf(l, 't-1').branches).toContainEqual({ branch: 't-1', remote: null, deleted: false, kept: expect.stringContaining(`${lock} exists`) });
    expect(fx.a.git(['rev-parse', 'refs/heads/t-1']).trim()).toBe(before);
  });
});

describe('omni-ship land: what other clones recorded counts', () => {
  it('an approval made on another clone and synced there lets the land through, with no sync here first', () => {
    const fx = landRemote({ steps: [PASS] }, { land: { requireApproval: true } });
    const t1 = makeTask(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    pushBranches(fx.a, 't-1');
    // the reviewer works in a clone of their own; clone a never syncs before it lands
    const reviewer = fx.clone('reviewer');
    reviewer.git(['fetch', '-q', 'origin']);
    reviewer.git(['branch', '-q', 't-1', 'origin/t-1']);
    const approve = reviewer.omni(['review', 't-1', '--approve', '-m', 'lgtm']);
    expect(approve.code, approve.stderr).toBe(0);
    sync(reviewer);
    expect(refValue(fx.a, NOTES.reviews)).toBeNull();

    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
    // the fetched review is in this clone's log now, and the display note names the reviewer
    expect(refValue(fx.a, NOTES.reviews)).not.toBeNull();
    expect(fx.a.git(['notes', '--ref', 'refs/notes/omni-ship-landed', 'show', t1])).toMatch(/^Approved-By: .+/m);
  });
});

describe("omni-ship land: the base's spec decides, and a task's own spec must pass too", () => {
  it('a task that breaks the check and rewrites the config so it passes is refused under the base spec', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [NO_BAD, countingStep(runs)] });
    makeTask(fx.a, 't-1', { files: { bad: 'x\n', '.omni-shiprc.json': verifyConfigText({ steps: [PASS] }) } });
    fx.a.git(['switch', '-q', 'main']);
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'verify', exitCode: 1 });
    expect(o.reason).toContain("under main's spec in step no-bad");
    expect(o.verify).toMatchObject({ result: 'fail', step: 'no-bad', spec: l.json.spec });
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('a task that adds a failing step is refused with gate verify-own-spec', () => {
    const fx = landRemote({ steps: [NO_BAD] });
    makeTask(fx.a, 't-1', { files: { 't-1.txt': 'x\n', '.omni-shiprc.json': verifyConfigText({ steps: [NO_BAD, { name: 'new-check', run: 'exit 1' }] }) } });
    fx.a.git(['switch', '-q', 'main']);
    const before = landSnapshot(fx, { verifyNotes: false });
    const l = land(fx.a, ['t-1']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'verify-own-spec', exitCode: 1 });
    expect(o.reason).toContain("under the task's own spec");
    expect(o.reason).toContain('new-check');
    expect(o.verify).toMatchObject({ result: 'pass', spec: l.json.spec });
    expect(o.ownSpecVerify).toMatchObject({ result: 'fail', step: 'new-check' });
    expect(o.ownSpecVerify.spec).not.toBe(l.json.spec);
    expectNothingLanded(fx, before, { verifyNotes: false });
  });

  it('a task that adds a passing step lands, having passed both specs', () => {
    const fx = landRemote({ steps: [NO_BAD] });
    const t1 = makeTask(fx.a, 't-1', { files: { '.omni-shiprc.json': verifyConfigText({ steps: [NO_BAD, { name: 'new-check', run: 'test -f t-1.txt' }] }), 't-1.txt': 'x\n' } });
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1, verify: { result: 'pass' }, ownSpecVerify: { result: 'pass' } });
  });
});

describe("omni-ship land: other clones' answers (land.trustRemoteResults)", () => {
  /** Clone A verifies t-1 (on main's tip) and syncs; clone B syncs. */
  function verifiedElsewhere(land?: Record<string, unknown>) {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] }, { land });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    const v = fx.a.omni(['verify', 't-1']);
    expect(v.code, v.stderr).toBe(0);
    expect(runs.count()).toBe(1);
    sync(fx.a);
    const host = verifyEventsOn(fx.a, rev(fx.a, `${t1}^{tree}`))[0]!.host as string;
    const b = fx.clone('b');
    sync(b);
    return { ...fx, b, t1, runs, host };
  }

  it("by default another clone's pass does not count: --require-cached refuses (not-cached) naming it; a plain land runs verify here", () => {
    const fx = verifiedElsewhere();
    const before = landSnapshot({ a: fx.b, bare: fx.bare });
    const l = land(fx.b, ['t-1', '--require-cached']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'not-cached', exitCode: 1 });
    expect(o.reason).toContain(`Test Author <author@example.com> on ${fx.host} recorded pass`);
    expect(o.reason).toContain('land.trustRemoteResults is false');
    expect(fx.runs.count()).toBe(1);
    expectNothingLanded({ a: fx.b, bare: fx.bare }, before);

    const again = land(fx.b, ['t-1']);
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'landed', landed: fx.t1, verify: { result: 'pass', cached: false } });
    expect(fx.runs.count()).toBe(2);
  });

  it("with land.trustRemoteResults: true on main, another clone's pass lands the task with no verify run", () => {
    const fx = verifiedElsewhere({ trustRemoteResults: true });
    const l = land(fx.b, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: fx.t1, verify: { result: 'pass', cached: true, host: fx.host } });
    expect(fx.runs.count()).toBe(1);
    expect(remoteBranch(fx.bare, 'main')).toBe(fx.t1);
  });
});

describe('omni-ship land --require-cached', () => {
  it('refuses a candidate tree with no answer (running nothing), and lands one verified on top of the current base', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1', '--require-cached']);
    expect(l.r.code).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'not-cached', exitCode: 1, verify: { result: 'none' } });
    expect(o.reason).toContain('the candidate tree has no answer from this clone');
    expect(o.reason).toContain('--require-cached runs nothing');
    expect(runs.count()).toBe(0);
    expectNothingLanded(fx, before);

    expect(fx.a.omni(['verify', 't-1']).code).toBe(0);
    expect(runs.count()).toBe(1);
    const ok = land(fx.a, ['t-1', '--require-cached']);
    expect(ok.r.code, ok.r.stderr).toBe(0);
    expect(outcomeOf(ok, 't-1')).toMatchObject({ outcome: 'landed', landed: t1, verify: { result: 'pass', cached: true } });
    expect(runs.count()).toBe(1);
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
  });

  it('an answer for the task on an older base does not count: the candidate on the new base has no answer', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] });
    makeTask(fx.a, 't-1');
    expect(fx.a.omni(['verify', 't-1']).code).toBe(0);
    advanceMain(fx.a, { 'other.txt': 'other\n' });
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1', '--require-cached']);
    expect(l.r.code).toBe(1);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'refused', gate: 'not-cached', exitCode: 1 });
    expect(outcomeOf(l, 't-1').reason).toContain('the candidate tree has no answer from this clone');
    expect(runs.count()).toBe(1);
    expectNothingLanded(fx, before);
  });
});

describe('omni-ship land --dry-run', () => {
  for (const json of [true, false]) {
    it(`says what would happen, exits 0, and writes nothing: no ref, no object, no verify run (${json ? '--json' : 'text'})`, () => {
      const runs = runCounter();
      const fx = landRemote({ steps: [countingStep(runs)] });
      const t1 = makeTask(fx.a, 't-1');
      pushBranches(fx.a, 't-1');
      // main moves on: the candidate is a new commit, which a dry run must not write
      const tip = advanceMain(fx.a, { 'other.txt': 'other\n' });
      const refs = { local: allRefs(fx.a), remote: allRefs(fx.bare) };
      const objects = { local: objectCounts(fx.a), remote: objectCounts(fx.bare) };
      const r = json ? land(fx.a, ['t-1', '--dry-run']).r : fx.a.omni(['land', 't-1', '--dry-run']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      if (json) {
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({ dryRun: true, oldTip: null, newTip: null });
        const o = out.tasks[0];
        expect(o).toMatchObject({ task: 't-1', outcome: 'would-land', exitCode: 0, commit: t1 });
        expect(o.reason).toContain(`would move main from ${tip.slice(0, 12)}`);
      } else {
        expect(r.stdout).toContain('would land t-1');
        expect(r.stdout).toContain('dry run: nothing was written');
      }
      expect(runs.count()).toBe(0);
      expect({ local: allRefs(fx.a), remote: allRefs(fx.bare) }).toEqual(refs);
      expect({ local: objectCounts(fx.a), remote: objectCounts(fx.bare) }).toEqual(objects);
      expect(refValue(fx.a, 'refs/heads/t-1')).toBe(t1);
    });
  }
});

describe('omni-ship land --dry-run with an answer', () => {
  it('a verified task whose landed commit would be new (the trailer added) would land; no ref, object or run is written', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] });
    const t1 = makeTask(fx.a, 't-1', { trailer: false });
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const v = fx.a.omni(['verify', 't-1']);
    expect(v.code, v.stderr).toBe(0);
    expect(runs.count()).toBe(1);
    const refs = { local: allRefs(fx.a), remote: allRefs(fx.bare) };
    const objects = { local: objectCounts(fx.a), remote: objectCounts(fx.bare) };
    const l = land(fx.a, ['t-1', '--dry-run']);
    expect(l.r.code, l.r.stdout + l.r.stderr).toBe(0);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'would-land', exitCode: 0, commit: t1, verify: { result: 'pass', cached: true } });
    expect(o.landed).not.toBe(t1);
    // the would-be commit was written to a scratch object store only
    expect(fx.a.gitRun(['cat-file', '-e', o.landed]).code).not.toBe(0);
    expect(runs.count()).toBe(1);
    expect({ local: allRefs(fx.a), remote: allRefs(fx.bare) }).toEqual(refs);
    expect({ local: objectCounts(fx.a), remote: objectCounts(fx.bare) }).toEqual(objects);
  });
});

describe('omni-ship land --no-push', () => {
  it("lands into the local main only: the remote's main and task branch are unchanged", () => {
    const fx = landRemote({ steps: [PASS] });
    const tip = rev(fx.a, 'main');
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1', '--no-push']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(l.json).toMatchObject({ pushed: false, remote: 'origin' });
    expect(remoteBranch(fx.bare, 'main')).toBe(tip);
    expect(rev(fx.a, 'refs/heads/main')).toBe(t1);
    expect(rev(fx.a, 'refs/remotes/origin/main')).toBe(tip);
    expect(remoteBranch(fx.bare, 't-1')).toBe(t1);
    expect(refValue(fx.bare, NOTES.lands)).toBeNull();
    expect(o.branches).toContainEqual(expect.objectContaining({ branch: 't-1', remote: 'origin', deleted: false }));
    expect(landEvents(fx.a, 't-1')).toHaveLength(1);

    // a second --no-push land builds on what the first put on the local main
    const t2 = makeTask(fx.a, 't-2');
    fx.a.git(['switch', '-q', 'main']);
    const l2 = land(fx.a, ['t-2', '--no-push']);
    expect(l2.r.code, l2.r.stderr).toBe(0);
    expect(outcomeOf(l2, 't-2')).toMatchObject({ outcome: 'landed', landed: t2 });
    expect(remoteBranch(fx.bare, 'main')).toBe(tip);
  });

  it("a local main with an unpushed commit of the user's own is refused naming that commit, exit 2", () => {
    const fx = landRemote({ steps: [PASS] });
    makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    const own = advanceMain(fx.a, { 'mine.txt': 'mine\n' }, 'my own local work', false);
    const before = landSnapshot(fx);
    const l = land(fx.a, ['t-1', '--no-push']);
    expect(l.r.code).toBe(2);
    expect(l.r.stdout).toBe('');
    expect(l.r.stderr).toContain('your local main has commits origin lacks');
    expect(l.r.stderr).toContain(own.slice(0, 7));
    expect(l.r.stderr).toContain('my own local work');
    expectNothingLanded(fx, before);
    expect(rev(fx.a, 'refs/heads/main')).toBe(own);
  });
});

describe('omni-ship land: branches kept', () => {
  it('--keep-branch keeps the task branch, here and on the remote', () => {
    const fx = landRemote({ steps: [PASS] });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1', '--keep-branch']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(o.branches.filter((b: any) => b.deleted)).toEqual([]);
    expect(rev(fx.a, 'refs/heads/t-1')).toBe(t1);
    expect(remoteBranch(fx.bare, 't-1')).toBe(t1);
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
  });

  it('a task branch checked out in a linked worktree is kept, and reported with the reason', () => {
    const fx = landRemote({ steps: [PASS] });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const wt = path.join(tempDir(), 'wt');
    fx.a.git(['worktree', 'add', '-q', wt, 't-1']);
    const l = land(fx.a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(o.branches).toContainEqual({ branch: 't-1', remote: null, deleted: false, kept: expect.stringContaining('checked out') });
    expect(o.branches.find((b: any) => b.remote === null).kept).toContain(wt);
    expect(rev(fx.a, 'refs/heads/t-1')).toBe(t1);
    expect(fx.a.git(['symbolic-ref', 'HEAD'], { cwd: wt }).trim()).toBe('refs/heads/t-1');
  });
});

describe('omni-ship land: the queue', () => {
  it('t-1 t-2 t-3 that all pass: one verify run for the batch, main moves once, a linear stack', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] });
    const tip = rev(fx.a, 'main');
    const commits = ['t-1', 't-2', 't-3'].map((t) => makeTask(fx.a, t));
    pushBranches(fx.a, 't-1', 't-2', 't-3');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1', 't-2', 't-3']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(runs.count()).toBe(1);
    const outs = ['t-1', 't-2', 't-3'].map((t) => outcomeOf(l, t));
    for (const o of outs) expect(o).toMatchObject({ outcome: 'landed', batchSize: 3, exitCode: 0 });
    const landed = outs.map((o) => o.landed as string);
    expect(landed[0]).toBe(commits[0]);
    const top = landed[2]!;
    expect(l.json).toMatchObject({ oldTip: tip, newTip: top });
    expect(remoteBranch(fx.bare, 'main')).toBe(top);
    expect(commitsAfter(fx.bare, tip)).toEqual(landed);
    expect(fx.bare.git(['rev-list', '--count', `${tip}..main`]).trim()).toBe('3');
    landed.forEach((c, i) => expect(commitInfo(fx.bare, c).trailers).toEqual([`t-${i + 1}`]));
    const events = landEvents(fx.a);
    expect(events).toHaveLength(3);
    for (const e of events) expect(e).toMatchObject({ oldTip: tip, newTip: top });
    expect(events.map((e) => e.landed).sort()).toEqual([...landed].sort());
  });

  it('a batch where one task fails its check: the others land, the failing one is refused (bisection)', () => {
    const runs = runCounter();
    const fx = landRemote({ steps: [countingStep(runs)] });
    const tip = rev(fx.a, 'main');
    makeTask(fx.a, 't-1');
    const t2 = makeTask(fx.a, 't-2', { files: { 't-2.txt': 'x\n', bad: 'x\n' } });
    makeTask(fx.a, 't-3');
    pushBranches(fx.a, 't-1', 't-2', 't-3');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1', 't-2', 't-3']);
    expect(l.r.code).toBe(1);
    expect(outcomeOf(l, 't-1').outcome).toBe('landed');
    expect(outcomeOf(l, 't-3').outcome).toBe('landed');
    expect(outcomeOf(l, 't-2')).toMatchObject({ outcome: 'refused', gate: 'verify', exitCode: 1, landed: null });
    expect(outcomeOf(l, 't-2').reason).toContain("t-2: verify failed under main's spec in step count");
    const onMain = commitsAfter(fx.bare, tip);
    expect(onMain).toEqual([outcomeOf(l, 't-1').landed, outcomeOf(l, 't-3').landed]);
    expect(onMain.map((c) => commitInfo(fx.bare, c).trailers[0])).toEqual(['t-1', 't-3']);
    expect(remoteBranch(fx.bare, 't-2')).toBe(t2);
    expect(rev(fx.a, 'refs/heads/t-2')).toBe(t2);
    expect(landEvents(fx.a, 't-2')).toEqual([]);
    expect(landEvents(fx.a).map((e) => e.task).sort()).toEqual(['t-1', 't-3']);
  });
});

describe('omni-ship land: again, and as ship', () => {
  it('landing a landed task again reports already-landed, exit 0, and adds nothing to main', () => {
    const fx = landRemote({ steps: [PASS] });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    expect(land(fx.a, ['t-1']).r.code).toBe(0);
    const main = rev(fx.a, 'main');
    const count = fx.a.git(['rev-list', '--count', 'main']);
    const again = land(fx.a, ['t-1']);
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'already-landed', exitCode: 0, landed: t1 });
    expect(again.json).toMatchObject({ oldTip: null, newTip: null });
    expect(rev(fx.a, 'main')).toBe(main);
    expect(remoteBranch(fx.bare, 'main')).toBe(main);
    expect(fx.a.git(['rev-list', '--count', 'main'])).toBe(count);
    expect(landEvents(fx.a, 't-1')).toHaveLength(1);
  });

  it('omni-ship ship is land', () => {
    const fx = landRemote({ steps: [PASS] });
    const t1 = makeTask(fx.a, 't-1');
    pushBranches(fx.a, 't-1');
    fx.a.git(['switch', '-q', 'main']);
    const l = land(fx.a, ['t-1'], { command: 'ship' });
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1 });
    expect(remoteBranch(fx.bare, 'main')).toBe(t1);
    const text = fx.a.omni(['ship', 't-1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('t-1 had landed already');
  });
});
