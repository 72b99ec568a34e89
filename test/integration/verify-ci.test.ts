import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshot } from '../helpers/hooks.js';
import { cleanupAll, makeRemote, makeRepo, run, tempDir, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { NOTES, jsonOf, refValue, refsUnder } from '../helpers/state.js';
import { commitVerifyConfig, expectResult, runCounter, taskOnTop, verify, verifyEventsOn } from '../helpers/verify.js';

afterAll(cleanupAll);

const count = (c: { file: string }) => `echo run >> '${c.file}'`;

/**
 * A remote whose main commits a verify config and whose branch t-1 holds one task commit on top of it, pushed from
 * clone `dev`; and a CI runner's checkout of that commit alone: `git init`, one `fetch --depth=1` of the commit,
 * a detached HEAD. No local main and no refs/remotes/origin/main.
 */
function ciCheckout(): { remote: ReturnType<typeof makeRemote>; dev: TestRepo; ci: TestRepo; commit: string; tree: string; runs: ReturnType<typeof runCounter> } {
  const runs = runCounter();
  const remote = makeRemote();
  // a runner fetches the commit it was told to build by id
  run('git', ['config', 'uploadpack.allowAnySHA1InWant', 'true'], { cwd: remote.bare });
  const dev = remote.clone('dev');
  commitVerifyConfig(dev, { steps: [{ name: 'check', run: `${count(runs)}; test -f t-1.txt` }] });
  dev.git(['push', '-q', 'origin', 'main']);
  const { commit, tree } = taskOnTop(dev, 't-1');
  dev.git(['push', '-q', 'origin', 't-1']);
  const ci = wrapRepo(path.join(tempDir('omni-ship-ci-'), 'checkout'));
  fs.mkdirSync(ci.dir);
  ci.git(['init', '-q', '--initial-branch=main']);
  ci.git(['config', 'gc.auto', '0']);
  ci.git(['remote', 'add', 'origin', `file://${remote.bare}`]);
  ci.git(['fetch', '-q', '--depth=1', 'origin', commit]);
  ci.git(['checkout', '-q', '--detach', 'FETCH_HEAD']);
  expect(refsUnder(ci, 'refs/')).toEqual(new Map());
  expect(ci.git(['rev-parse', '--is-shallow-repository']).trim()).toBe('true');
  return { remote, dev, ci, commit, tree, runs };
}

describe("verify in a CI runner's shallow checkout", () => {
  it('fetches the base (staying shallow), runs and passes; sync pushes the answer; a normal clone then takes it from the cache', () => {
    const { remote, ci, commit, tree, runs } = ciCheckout();
    const v = verify(ci, ['HEAD']);
    expectResult(v, 'pass', 0);
    expect(v.json).toMatchObject({ cached: false, commit, tree, task: null, specSource: { kind: 'base', file: '.omni-shiprc.json' } });
    expect(runs.count()).toBe(1);
    // the base came from the remote into its remote-tracking ref, one commit deep
    const mainTip = run('git', ['rev-parse', 'main'], { cwd: remote.bare }).stdout.trim();
    expect(refValue(ci, 'refs/remotes/origin/main')).toBe(mainTip);
    expect(v.json.specSource.commit).toBe(mainTip);
    expect(refValue(ci, 'refs/heads/main')).toBeNull();
    expect(ci.git(['rev-parse', '--is-shallow-repository']).trim()).toBe('true');
    expect(ci.git(['rev-list', '--count', 'refs/remotes/origin/main']).trim()).toBe('1');
    expect(verifyEventsOn(ci, tree)).toEqual([expect.objectContaining({ result: 'pass', commit, host: v.json.recorded.host })]);

    const synced = jsonOf(ci.omni(['sync', '--json']));
    expect(synced.pushed).toEqual(expect.arrayContaining([expect.stringContaining(NOTES.verify)]));
    expect(run('git', ['rev-parse', NOTES.verify], { cwd: remote.bare }).stdout.trim()).toBe(refValue(ci, NOTES.verify));

    const laptop = remote.clone('laptop');
    jsonOf(laptop.omni(['sync', '--json']));
    laptop.git(['switch', '-q', 't-1']);
    const cached = verify(laptop, ['t-1']);
    expectResult(cached, 'pass', 0);
    expect(cached.json).toMatchObject({ cached: true, commit, tree, task: 't-1', spec: v.json.spec });
    expect(cached.json.recorded).toEqual(v.json.recorded);
    expect(cached.json.recorded.host).not.toBe(verify(laptop, ['main']).json.recorded.host);
    // the laptop ran its own main, not t-1
    expect(runs.count()).toBe(2);
  });

  it('a task whose history does not reach the base is indeterminate (75) as step shape, saying what to fetch; fetching it answers', () => {
    const { ci, commit, tree, runs } = ciCheckout();
    // the task's branch, one commit deep: the task is known, but not what lies between it and main
    ci.git(['fetch', '-q', '--depth=1', 'origin', '+refs/heads/t-1:refs/remotes/origin/t-1']);
    const v = verify(ci, ['t-1']);
    expectResult(v, 'indeterminate', 75);
    expect(v.json).toMatchObject({ commit, tree, task: 't-1', step: 'shape', recorded: null, log: null });
    expect(v.json.summary).toContain(`this shallow clone lacks the history between main and ${commit.slice(0, 12)}`);
    expect(v.json.summary).toContain('git fetch --deepen=50 or --unshallow');
    // no step ran, nothing was recorded, and a guess was not made either way
    expect(runs.count()).toBe(0);
    expect(refValue(ci, NOTES.verify)).toBeNull();
    const text = ci.omni(['verify', 't-1']);
    expect(text.code).toBe(75);
    expect(text.stdout).toContain('indeterminate: this shallow clone lacks the history');
    expect(text.stdout).toMatch(/hint: .*git fetch --deepen/);
    // running it again unchanged gives the same answer: the hint says to fetch first
    expect(text.stdout).not.toContain('nothing was cached as a failure');
    // the fetch the summary asks for gives the rule its answer
    ci.git(['fetch', '-q', '--deepen=1', 'origin', '+refs/heads/t-1:refs/remotes/origin/t-1']);
    const after = verify(ci, ['t-1']);
    expectResult(after, 'pass', 0);
    expect(after.json.step).toBeNull();
    expect(runs.count()).toBe(1);
  });

  it('no remote and no base branch: exit 2 saying the spec cannot be read, and nothing runs or is written', () => {
    const runs = runCounter();
    const repo = makeRepo();
    repo.git(['branch', '-m', 'main', 'work']);
    commitVerifyConfig(repo, { steps: [{ name: 'count', run: count(runs) }] });
    const before = snapshot(path.join(repo.dir, '.git'));
    const v = verify(repo, ['HEAD']);
    expect(v.r.code).toBe(2);
    expect(v.r.stdout).toBe('');
    expect(v.r.stderr).toContain("omni-ship: cannot read the team's verify spec: the base branch main is not in this clone and there is no remote to fetch it from");
    expect(v.r.stderr).toMatch(/^hint: .*\.git\/omni-ship\.yaml/m);
    expect(runs.count()).toBe(0);
    expect(refValue(repo, NOTES.verify)).toBeNull();
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });
});
