import { afterAll, describe, expect, it } from 'vitest';
import { settleDrainers } from '../helpers/hooks.js';
import { PASS, land, landLocal, landRemote, makeTask, outcomeOf, remoteBranch } from '../helpers/land.js';
import { cleanupAll, testEnv, type TestRepo } from '../helpers/repo.js';
import { NOTES, eventsIn, taskStatus } from '../helpers/state.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const rev = (repo: TestRepo, name: string) => repo.git(['rev-parse', name]).trim();
/** A post-land suite that fails when the tree holds a file named `slowbad` (the fast checks do not look for it). */
const POST = { steps: [{ name: 'slow', run: 'test ! -f slowbad' }] };

/** A remote whose base runs POST after each land, and task t-1 (pushed) that passes the fast checks and fails POST. */
function taskThatBreaksPostVerify(): { a: TestRepo; bare: TestRepo; tip0: string; t1: string } {
  const { a, bare } = landRemote({ steps: [PASS] }, { land: { postVerify: POST } });
  const tip0 = rev(a, 'main');
  const t1 = makeTask(a, 't-1', { files: { slowbad: 'x\n' } });
  a.git(['push', '-q', 'origin', 't-1']);
  a.git(['switch', '-q', 'main']);
  return { a, bare, tip0, t1 };
}

describe('land.postVerify: the post-land suite, and the revert when it fails', () => {
  it('a failing post-land suite lands a revert through the same compare-and-swap; the task is not landed, needs help, keeps its branch, and lands again once fixed', () => {
    const { a, bare, tip0, t1 } = taskThatBreaksPostVerify();

    const l = land(a, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(1);
    const o = outcomeOf(l, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'post-verify', exitCode: 1, landed: t1 });
    expect(o.reason).toContain('land.postVerify failed in step slow');
    const revert = o.reverted as string;
    expect(revert).toMatch(/^[0-9a-f]{40}$/);
    // the base holds the landing and then its revert: linear, the tree back to where it was
    expect(remoteBranch(bare, 'main')).toBe(revert);
    expect(bare.git(['rev-list', '--first-parent', `${tip0}..main`]).trim().split('\n')).toEqual([revert, t1]);
    expect(rev(a, `${revert}^{tree}`)).toBe(rev(a, `${tip0}^{tree}`));
    // the revert names no task: it must not read as the task landing again
    expect(a.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', revert]).trim()).toBe('');
    expect(a.git(['log', '-1', '--format=%B', revert])).toContain(`This reverts commit ${t1}.`);
    // events: the landing, its revert, the needs-help attempt; the branch stays for the fix
    const lands = eventsIn(a, NOTES.lands);
    expect(lands.filter((e) => e.type === 'land' && e.task === 't-1')).toHaveLength(1);
    expect(lands.filter((e) => e.type === 'revert')).toEqual([expect.objectContaining({ task: 't-1', landed: t1, revert, base: 'main' })]);
    expect(eventsIn(a, NOTES.attempts)).toEqual([expect.objectContaining({ task: 't-1', commit: t1, role: 'post-verify', outcome: 'needs-help' })]);
    expect(rev(a, 'refs/heads/t-1')).toBe(t1);
    const st = taskStatus(a, 't-1');
    expect(st).toMatchObject({ state: 'needs-help', landing: null, landedCommit: null });
    expect(st.reverted).toMatchObject({ landed: t1, revert });

    // fixed and amended: a new patchset starts a clean slate and lands again
    a.git(['switch', '-q', 't-1']);
    a.git(['rm', '-q', 'slowbad']);
    a.write('t-1.txt', 'fixed\n');
    a.git(['add', 't-1.txt']);
    a.git(['commit', '-q', '--amend', '--no-edit']);
    a.git(['push', '-q', '-f', 'origin', 't-1']);
    a.git(['switch', '-q', 'main']);
    const again = land(a, ['t-1']);
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'landed', reverted: null });
    expect(taskStatus(a, 't-1')).toMatchObject({ state: 'landed', reverted: null });
    expect(remoteBranch(bare, 'main')).toBe(outcomeOf(again, 't-1').landed);
  });

  it('a passing post-land suite changes nothing: the task lands and its branch goes', () => {
    const repo = landLocal({ steps: [PASS] }, { postVerify: POST });
    const t1 = makeTask(repo, 't-1');
    repo.git(['switch', '-q', '--detach']);
    const l = land(repo, ['t-1']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(outcomeOf(l, 't-1')).toMatchObject({ outcome: 'landed', landed: t1, reverted: null });
    expect(rev(repo, 'refs/heads/main')).toBe(t1);
    expect(repo.gitRun(['rev-parse', '--verify', '--quiet', 'refs/heads/t-1']).code).toBe(1);
    expect(eventsIn(repo, NOTES.lands).filter((e) => e.type === 'revert')).toEqual([]);
  });
});

describe('land.postVerify after a land that died before its suite answered', () => {
  it('land again on the landed task runs the suite it never ran, and reverts on failure', () => {
    // the land below runs without a post-land suite, as a land killed after its push would have left it; the
    // local config then turns the suite on, and the next land of the task finishes the job
    const repo = landLocal({ steps: [PASS] });
    const t1 = makeTask(repo, 't-1', { files: { slowbad: 'x\n' } });
    repo.git(['switch', '-q', '--detach']);
    const first = land(repo, ['t-1', '--keep-branch']);
    expect(outcomeOf(first, 't-1')).toMatchObject({ outcome: 'landed', landed: t1 });
    repo.write('.git/omni-ship.yaml', `land:\n  postVerify:\n    steps:\n      - { name: slow, run: "test ! -f slowbad" }\n`);
    const again = land(repo, ['t-1']);
    expect(again.r.code, again.r.stderr).toBe(1);
    const o = outcomeOf(again, 't-1');
    expect(o).toMatchObject({ outcome: 'refused', gate: 'post-verify' });
    expect(rev(repo, 'refs/heads/main')).toBe(o.reverted);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'needs-help' });
    // and once answered, it is not run again: the task is no longer landed, and its circuit refuses it
    const third = land(repo, ['t-1']);
    expect(outcomeOf(third, 't-1')).toMatchObject({ outcome: 'refused', gate: 'circuit' });
    expect(rev(repo, 'refs/heads/main')).toBe(o.reverted);
  });
});

describe('land.postVerify: a land killed while it reverts (OMNI_SHIP_FAILPOINT)', () => {
  for (const [point, when] of [
    ['land:revert-pushed', 'right after it pushed the revert'],
    ['land:needs-help-recorded', 'between the needs-help attempt and the revert event'],
  ] as const) {
    it(`${when}: the next land of the task records the revert; the base stays as the revert left it`, () => {
      const { a, bare, tip0, t1 } = taskThatBreaksPostVerify();
      const killed = land(a, ['t-1'], { env: testEnv({ OMNI_SHIP_FAILPOINT: point }) });
      expect(killed.r.code, killed.r.stderr).toBe(128);
      const revert = remoteBranch(bare, 'main')!;
      expect(bare.git(['rev-list', '--first-parent', `${tip0}..main`]).trim().split('\n')).toEqual([revert, t1]);
      // the revert is on the base, but not recorded: the task still reads landed
      expect(eventsIn(a, NOTES.lands).filter((e) => e.type === 'revert')).toEqual([]);
      expect(taskStatus(a, 't-1').state).toBe('landed');

      const again = land(a, ['t-1']);
      expect(again.r.code, again.r.stderr).toBe(1);
      expect(outcomeOf(again, 't-1')).toMatchObject({ outcome: 'refused', gate: 'post-verify', reverted: revert });
      expect(outcomeOf(again, 't-1').reason).toContain('land.postVerify failed in step slow');
      expect(remoteBranch(bare, 'main')).toBe(revert);
      expect(eventsIn(a, NOTES.lands).filter((e) => e.type === 'revert')).toEqual([expect.objectContaining({ task: 't-1', landed: t1, revert })]);
      expect(eventsIn(a, NOTES.attempts).filter((e) => e.outcome === 'needs-help').length).toBeGreaterThanOrEqual(1);
      expect(taskStatus(a, 't-1')).toMatchObject({ state: 'needs-help', landing: null, landedCommit: null });
      expect(rev(a, 'refs/heads/t-1')).toBe(t1);
      // nothing more to finish: the circuit refuses it until it is fixed
      const third = land(a, ['t-1']);
      expect(outcomeOf(third, 't-1')).toMatchObject({ outcome: 'refused', gate: 'circuit' });
      expect(remoteBranch(bare, 'main')).toBe(revert);
    });
  }
});

describe('land --all', () => {
  it('lands every verified task in id order and leaves the others alone', () => {
    const repo = landLocal({ steps: [{ name: 'no-bad', run: 'test ! -f bad' }] });
    const t2 = makeTask(repo, 't-2');
    const t10 = makeTask(repo, 't-10');
    makeTask(repo, 't-3', { files: { bad: 'x\n' } });
    makeTask(repo, 't-4');
    repo.git(['switch', '-q', 'main']);
    // verified: t-2, t-10 pass, t-3 fails; t-4 is never verified, so --all does not take it
    for (const t of ['t-2', 't-10', 't-3']) repo.omni(['verify', t]);
    const l = land(repo, ['--all']);
    expect(l.r.code, l.r.stderr).toBe(0);
    expect(l.json.tasks.map((t: any) => [t.task, t.outcome])).toEqual([
      ['t-2', 'landed'],
      ['t-10', 'landed'],
    ]);
    const onMain = repo.git(['log', '--format=%(trailers:key=Task-Id,valueonly)', 'main']).split('\n').map((s) => s.trim()).filter(Boolean);
    expect(onMain).toEqual(['t-10', 't-2']);
    expect(outcomeOf(l, 't-2').landed).toBe(t2);
    expect(outcomeOf(l, 't-10').landed).not.toBe(t10);
    expect(taskStatus(repo, 't-3')).toMatchObject({ state: 'failed' });
    expect(taskStatus(repo, 't-4').state).not.toBe('landed');
  });
});
