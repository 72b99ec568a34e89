import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, tempDir, testEnv, waitFor, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, installHooks, jsonOf, noteOn, omniAsync, patchsetEvents, refValue, status } from '../helpers/state.js';
import { alive, expectResult, runCounter, taskOnTop, verify, verifyEventsOn, verifyRepo } from '../helpers/verify.js';

/** Repositories whose hooks or `verify --background` may have left a detached process running. */
const detached: { repo: TestRepo; pids: number[] }[] = [];

/** The pids of the background verifies the drainer said it started (hooks.log), plus those given. */
function backgroundPids(entry: { repo: TestRepo; pids: number[] }): number[] {
  const log = path.join(entry.repo.dir, '.git', 'omni-ship', 'hooks.log');
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  return [...entry.pids, ...[...text.matchAll(/started in the background \(pid (\d+)\)/g)].map((m) => Number(m[1]))];
}

/** Waits until the drainer and every background verify of `repo` have exited (so none outlives its temp dir). */
async function settled(repo: TestRepo): Promise<void> {
  expect(await waitForDrain(repo)).toBe(true);
  const entry = detached.find((d) => d.repo === repo) ?? { repo, pids: [] };
  expect(await waitFor(() => backgroundPids(entry).every((pid) => !alive(pid)), 120_000)).toBe(true);
}

afterAll(async () => {
  for (const d of detached) await waitForDrain(d.repo).catch(() => false);
  await waitFor(() => detached.every((d) => backgroundPids(d).every((pid) => !alive(pid))), 120_000);
  cleanupAll();
});

/** A repository whose main commits this verify config, with omni-ship's hooks installed, on a new branch `task`. */
function hookedRepo(verifyConfig: Record<string, unknown> | null, task = 't-1'): TestRepo {
  const repo = verifyConfig ? verifyRepo(verifyConfig) : verifyRepo({ steps: [] });
  if (!verifyConfig) {
    // no verify key at all on the base branch
    repo.git(['rm', '-q', '.omni-shiprc.json']);
    repo.git(['commit', '-q', '-m', 'no config']);
  }
  installHooks(repo);
  repo.git(['switch', '-q', '-c', task]);
  detached.push({ repo, pids: [] });
  return repo;
}

/** Commits (or amends) a change of `file` on the current branch with the task's trailer; returns commit and tree. */
function commitTask(repo: TestRepo, task: string, content: string, opts: { amend?: boolean; file?: string; env?: NodeJS.ProcessEnv } = {}): { commit: string; tree: string } {
  const file = opts.file ?? 'work.txt';
  repo.write(file, content);
  repo.git(['add', '-A'], { env: opts.env });
  repo.git(['commit', '-q', ...(opts.amend ? ['--amend'] : []), '-m', `work on ${task}`, '-m', `Task-Id: ${task}`], { env: opts.env });
  return { commit: repo.git(['rev-parse', 'HEAD']).trim(), tree: repo.git(['rev-parse', 'HEAD^{tree}']).trim() };
}

/** A short settle time, so the tests do not wait a second per background run (the burst test keeps the default). */
const quick = testEnv({ OMNI_SHIP_VERIFY_SETTLE_MS: '100' });

const count = (c: { file: string }) => `echo run >> '${c.file}'`;
const backgroundLog = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'verify', 'background.log');
const readIf = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background verify after a commit (hooks installed)', () => {
  it('a commit on a task branch is verified in the background; status shows it verifying (with since), then verified', async () => {
    const marker = path.join(tempDir(), 'started');
    const repo = hookedRepo({ steps: [{ name: 'slow', run: `touch '${marker}'; sleep 3` }] });
    const { tree } = commitTask(repo, 't-1', 'one\n', { env: quick });
    expect(await waitFor(() => fs.existsSync(marker))).toBe(true);
    const t1 = status(repo).tasks.find((t) => t.id === 't-1');
    expect(t1.state).toBe('verifying');
    expect(Number.isNaN(Date.parse(t1.verifyingSince))).toBe(false);
    expect(Date.parse(t1.verifyingSince)).toBeLessThanOrEqual(Date.now());
    const text = repo.omni(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^t-1\s+verifying\s.*running \d+ s/m);
    expect(await waitFor(() => verifyEventsOn(repo, tree).length > 0)).toBe(true);
    expect(verifyEventsOn(repo, tree)).toEqual([expect.objectContaining({ result: 'pass', task: 't-1', tree, specFrom: 'base' })]);
    await settled(repo);
    const after = status(repo).tasks.find((t) => t.id === 't-1');
    expect(after).toMatchObject({ state: 'verified', verifyingSince: null, verify: { result: 'pass' } });
    expect(repo.omni(['status']).stdout).toMatch(/^t-1\s+verified\s.*\bpass\b/m);
  });

  it('a newer patchset cancels the running verify: its step dies, nothing is recorded for the old tree, the new tree gets its answer', async () => {
    const pidFile = path.join(tempDir(), 'pid');
    // the first patchset (with the file `slow`) records its pid and sleeps; the second passes at once
    const repo = hookedRepo({ steps: [{ name: 'check', run: `if test -f slow; then echo $$ > '${pidFile}'; exec sleep 30; fi` }] });
    const first = commitTask(repo, 't-1', 'slow\n', { file: 'slow', env: quick });
    expect(await waitFor(() => readIf(pidFile).trim() !== '')).toBe(true);
    const stepPid = Number(readIf(pidFile).trim());
    expect(alive(stepPid)).toBe(true);
    repo.git(['rm', '-q', 'slow'], { env: quick });
    const second = commitTask(repo, 't-1', 'fast\n', { amend: true, env: quick });
    expect(second.tree).not.toBe(first.tree);
    // well before the step's 30 s are up
    expect(await waitFor(() => !alive(stepPid), 15_000)).toBe(true);
    expect(await waitFor(() => verifyEventsOn(repo, second.tree).length > 0)).toBe(true);
    expect(verifyEventsOn(repo, second.tree)).toEqual([expect.objectContaining({ result: 'pass', commit: second.commit })]);
    await settled(repo);
    expect(verifyEventsOn(repo, first.tree)).toEqual([]);
    expect(readIf(backgroundLog(repo))).toMatch(new RegExp(`t-1 ${first.commit.slice(0, 12)} tree ${first.tree.slice(0, 12)}: cancelled: a newer patchset of t-1 \\(${second.commit.slice(0, 12)}\\) replaced it$`, 'm'));
    // this machine's registry keeps the cancelled run's log, marked as such
    expect(jsonOf(repo.omni(['logs', first.commit, '--all', '--json'])).logs).toEqual([expect.objectContaining({ commit: first.commit, result: 'cancelled', running: false })]);
    expect(status(repo).tasks.find((t) => t.id === 't-1')).toMatchObject({ state: 'verified', head: second.commit });
  });

  it('a burst of 20 amends runs the steps at most twice, and the last patchset is verified', async () => {
    const runs = runCounter();
    const repo = hookedRepo({ steps: [{ name: 'count', run: `${count(runs)}; sleep 1` }] });
    let last = commitTask(repo, 't-1', 'amend 0\n');
    for (let i = 1; i < 20; i++) last = commitTask(repo, 't-1', `amend ${i}\n`, { amend: true });
    expect(await waitFor(() => verifyEventsOn(repo, last.tree).length > 0)).toBe(true);
    await settled(repo);
    expect(verifyEventsOn(repo, last.tree)).toEqual([expect.objectContaining({ result: 'pass', commit: last.commit })]);
    expect(runs.count()).toBeGreaterThanOrEqual(1);
    expect(runs.count()).toBeLessThanOrEqual(2);
    expect(patchsetEvents(repo, 't-1').at(-1)).toBeDefined();
    expect(status(repo).tasks.find((t) => t.id === 't-1')).toMatchObject({ state: 'verified', head: last.commit });
  });

  it('verify.onCommit false starts nothing: no run, no note, though the patchset is recorded', async () => {
    const runs = runCounter();
    const repo = hookedRepo({ steps: [{ name: 'count', run: count(runs) }], onCommit: false });
    const { commit } = commitTask(repo, 't-1', 'one\n', { env: quick });
    expect(await waitForDrain(repo)).toBe(true);
    await sleep(3000);
    await settled(repo);
    expect(patchsetEvents(repo, 't-1').map((e) => e.commit)).toEqual([commit]);
    expect(readIf(backgroundLog(repo))).toBe('');
    expect(readIf(path.join(repo.dir, '.git', 'omni-ship', 'hooks.log'))).not.toContain('verify ');
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'verify', 'tasks', 't-1.json'))).toBe(false);
    expect(refValue(repo, NOTES.verify)).toBeNull();
    expect(runs.count()).toBe(0);
    expect(status(repo).tasks.find((t) => t.id === 't-1').state).toBe('in-progress');
  });

  it('a base branch with no verify steps (or no verify config) starts nothing and loses no patchset', async () => {
    for (const config of [{ steps: [] }, null]) {
      const repo = hookedRepo(config);
      const one = commitTask(repo, 't-1', 'one\n', { env: quick });
      const two = commitTask(repo, 't-1', 'two\n', { amend: true, env: quick });
      expect(await waitForDrain(repo)).toBe(true);
      await sleep(1500);
      await settled(repo);
      expect(new Set(patchsetEvents(repo, 't-1').map((e) => e.commit))).toEqual(new Set([one.commit, two.commit]));
      const hooksLog = readIf(path.join(repo.dir, '.git', 'omni-ship', 'hooks.log'));
      expect(hooksLog).not.toMatch(/verify (not started|t-1)/);
      expect(hooksLog).not.toMatch(/error/);
      expect(readIf(backgroundLog(repo))).toBe('');
      expect(refValue(repo, NOTES.verify)).toBeNull();
    }
  });
});

describe('one run per tree and spec on this machine', () => {
  it('two verifies of the same task at once run the steps once; the second takes the first one`s answer', async () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'slow', run: `${count(runs)}; sleep 2` }] });
    const { tree } = taskOnTop(repo, 't-1');
    const [a, b] = await Promise.all([omniAsync(repo.dir, ['verify', 't-1', '--json']), omniAsync(repo.dir, ['verify', 't-1', '--json'])]);
    const answers = [jsonOf(a!), jsonOf(b!)];
    expect(runs.count()).toBe(1);
    expect(answers.map((j) => j.result)).toEqual(['pass', 'pass']);
    const waited = answers.filter((j) => j.coalesced);
    expect(waited).toHaveLength(1);
    expect(waited[0]).toMatchObject({ cached: true, coalesced: true, log: null });
    const ran = answers.find((j) => !j.coalesced)!;
    expect(ran).toMatchObject({ cached: false, coalesced: false });
    expect(waited[0].recorded).toEqual(ran.recorded);
    expect(verifyEventsOn(repo, tree)).toHaveLength(1);
  });
});

describe('omni-ship verify --background', () => {
  it('returns at once with started true; the answer lands in the notes later; again, it prints the cached answer', async () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'slow', run: `${count(runs)}; sleep 2` }] });
    const entry = { repo, pids: [] as number[] };
    detached.push(entry);
    const { commit, tree } = taskOnTop(repo, 't-1');
    const started = verify(repo, ['t-1', '--background']);
    expect(started.r.code, started.r.stderr).toBe(0);
    // returned before the run could have answered
    expect(noteOn(repo, NOTES.verify, tree)).toBeNull();
    expect(started.json).toMatchObject({ started: true, commit, tree, task: 't-1', cached: null });
    expect(started.json.spec).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isInteger(started.json.pid)).toBe(true);
    entry.pids.push(started.json.pid);
    expect(await waitFor(() => verifyEventsOn(repo, tree).length > 0)).toBe(true);
    expect(verifyEventsOn(repo, tree)).toEqual([expect.objectContaining({ result: 'pass', commit, task: 't-1', spec: started.json.spec })]);
    await settled(repo);
    const again = verify(repo, ['t-1', '--background']);
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(again.json).toMatchObject({ started: false, pid: null, commit, tree, cached: { result: 'pass', cached: true, commit, tree } });
    expect(runs.count()).toBe(1);
    const text = repo.omni(['verify', 't-1', '--background']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${commit.slice(0, 12)}: pass (cached)`);
    expect(runs.count()).toBe(1);
  });
});

describe('omni-ship logs', () => {
  it('prints the newest log of a tree; --all --json lists every log newest first with its result', () => {
    const repo = verifyRepo({ steps: [{ name: 'build', run: 'echo hello-from-build' }] });
    const { commit, tree } = taskOnTop(repo, 't-1');
    const pass = verify(repo, ['t-1']);
    expectResult(pass, 'pass', 0);
    const one = repo.omni(['logs', 't-1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('==> build: echo hello-from-build');
    expect(one.stdout).toContain('hello-from-build\n');
    // another spec (this clone's local config) on the same tree: a second log, which fails
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.yaml'), 'verify:\n  steps:\n    - { name: test, run: "echo local-failure; exit 4" }\n');
    const fail = verify(repo, ['t-1']);
    expectResult(fail, 'fail', 1);
    const newest = repo.omni(['logs', 't-1']);
    expect(newest.stdout).toContain('==> test');
    expect(newest.stdout).toContain('local-failure');
    expect(newest.stdout).not.toContain('hello-from-build');
    const all = jsonOf(repo.omni(['logs', 't-1', '--all', '--json']));
    expect(all).toMatchObject({ commit, tree, task: 't-1', content: null });
    expect(all.logs).toEqual([
      expect.objectContaining({ file: fail.json.log, result: 'fail', step: 'test', exitCode: 4, running: false, spec: fail.json.spec }),
      expect.objectContaining({ file: pass.json.log, result: 'pass', step: null, running: false, spec: pass.json.spec }),
    ]);
    expect(all.logs[0].startedAt >= all.logs[1].startedAt).toBe(true);
    const text = repo.omni(['logs', 't-1', '--all']);
    expect(text.stdout.split('\n')[0]).toContain(`fail in test  ${fail.json.log}`);
  });

  it('--follow on a background run prints its output as it comes and exits with its answer (1 for a failure)', async () => {
    const repo = verifyRepo({ steps: [{ name: 'build', run: 'true' }, { name: 'test', run: 'echo follow-start; sleep 2; echo follow-end; exit 1' }] });
    const entry = { repo, pids: [] as number[] };
    detached.push(entry);
    taskOnTop(repo, 't-1');
    const started = verify(repo, ['t-1', '--background']);
    expect(started.json?.started, started.r.stderr).toBe(true);
    entry.pids.push(started.json.pid);
    // started at once, before the background run has made its log: --follow waits for it
    const followed = await omniAsync(repo.dir, ['logs', 't-1', '--follow']);
    expect(followed.code, followed.stderr).toBe(1);
    expect(followed.stdout).toContain('==> test');
    expect(followed.stdout).toMatch(/follow-start\n[^]*follow-end\n/);
    expect(followed.stdout).toContain('omni-ship: verify fail in step test');
    await settled(repo);
    const t1 = status(repo).tasks.find((t) => t.id === 't-1');
    expect(t1).toMatchObject({ state: 'failed', verify: { result: 'fail', step: 'test' } });
    expect(repo.omni(['status']).stdout).toMatch(/^t-1\s+failed\s.*fail: test/m);
    // a finished run: --follow prints it whole and exits with its answer at once
    const done = repo.omni(['logs', 't-1', '--follow']);
    expect(done.code).toBe(1);
    expect(done.stdout).toContain('follow-end');
  });

  it('--follow after verify --background --force follows the new run, not the log of the previous one', async () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'test', run: `${count(runs)}; echo "run $(wc -l < '${runs.file}')"; sleep 2; exit 1` }] });
    const entry = { repo, pids: [] as number[] };
    detached.push(entry);
    taskOnTop(repo, 't-1');
    expectResult(verify(repo, ['t-1']), 'fail', 1);
    const started = repo.omni(['verify', 't-1', '--background', '--force']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain('omni-ship logs t-1 --follow shows it');
    entry.pids.push(Number(/pid (\d+)/.exec(started.stdout)?.[1]));
    const followed = await omniAsync(repo.dir, ['logs', 't-1', '--follow']);
    expect(followed.code, followed.stderr).toBe(1);
    expect(followed.stdout).toContain('run 2\n');
    expect(followed.stdout).not.toContain('run 1\n');
    await settled(repo);
    expect(runs.count()).toBe(2);
  });

  it('no log of the target: exit 2 naming it; --follow with --json or --all: exit 2; neither writes anything', () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'true' }] });
    const { tree } = taskOnTop(repo, 't-1');
    const state = path.join(repo.dir, '.git', 'omni-ship');
    // the task-state cache (state-cache/) is what every read command keeps; nothing of verify may appear
    const files = () => (fs.existsSync(state) ? fs.readdirSync(state, { recursive: true }).map(String).filter((f) => !f.startsWith('state-cache')).sort() : []);
    const before = files();
    const none = repo.omni(['logs', 't-1']);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain(`omni-ship: no verify log of t-1 (tree ${tree.slice(0, 12)}) on this machine`);
    expect(none.stderr).toContain('hint: run it: omni-ship verify t-1');
    for (const flags of [['--follow', '--json'], ['-f', '--all']]) {
      const r = repo.omni(['logs', 't-1', ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain('--follow prints the log as it grows: it takes neither --json nor --all');
    }
    expect(files()).toEqual(before);
    expect(fs.existsSync(path.join(state, 'verify'))).toBe(false);
    expect(refValue(repo, NOTES.verify)).toBeNull();
  });
});

describe('omni-ship verify --prune', () => {
  it('removes idle pool worktrees (git forgets them too) and old logs; --prune with a target is refused and removes nothing', async () => {
    const repo = verifyRepo({ steps: [] });
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.yaml'), 'verify:\n  pruneAfterDays: 0.000001\n  steps:\n    - { name: ok, run: "echo pruned-log" }\n');
    const { tree } = taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'pass', 0);
    const pool = path.join(repo.dir, '.git', 'omni-ship', 'pool', '0');
    expect(fs.existsSync(pool)).toBe(true);
    expect(repo.git(['worktree', 'list', '--porcelain'])).toContain(`worktree ${pool}\n`);
    expect(fs.existsSync(v.json.log)).toBe(true);
    await sleep(200); // 0.000001 days is 86 ms

    const refused = verify(repo, ['--prune', 't-1']);
    expect(refused.r.code).toBe(2);
    expect(refused.r.stderr).toContain('omni-ship: --prune takes no target and no other option');
    expect(refused.r.stderr).toContain('hint: omni-ship verify --prune [--json]');
    expect(refused.r.stdout).toBe('');
    expect(fs.existsSync(pool)).toBe(true);
    expect(fs.existsSync(v.json.log)).toBe(true);
    expect(repo.git(['worktree', 'list', '--porcelain'])).toContain(`worktree ${pool}\n`);
    for (const other of ['--force', '--background']) expect(repo.omni(['verify', '--prune', other]).code).toBe(2);
    expect(fs.existsSync(pool)).toBe(true);

    const pruned = jsonOf(repo.omni(['verify', '--prune', '--json']));
    expect(pruned).toEqual({ olderThanDays: 0.000001, removedWorktrees: [pool], keptWorktrees: [], removedLogs: [v.json.log] });
    expect(fs.existsSync(pool)).toBe(false);
    expect(fs.existsSync(v.json.log)).toBe(false);
    expect(repo.git(['worktree', 'list', '--porcelain'])).not.toContain(pool);
    const admin = path.join(repo.dir, '.git', 'worktrees');
    expect(fs.existsSync(admin) ? fs.readdirSync(admin) : []).toEqual([]);
    // the answer in the notes stays; only this machine's copies went
    expect(verifyEventsOn(repo, tree)).toHaveLength(1);
    expect(repo.omni(['logs', 't-1']).code).toBe(2);
    // and the pool comes back when needed
    expectResult(verify(repo, ['t-1', '--force']), 'pass', 0);
    expect(fs.existsSync(pool)).toBe(true);
  });
});

describe('the pool keeps the user out of it', () => {
  it("a step that commits in the pool runs none of the user's hooks; its env has core.hooksPath=/dev/null and OMNI_SHIP_SKIP=1", () => {
    const marker = path.join(tempDir(), 'hook-ran');
    const seen = path.join(tempDir(), 'seen');
    const repo = verifyRepo({ steps: [{ name: 'commits', run: `git commit -q --allow-empty -m x && { echo "skip=$OMNI_SHIP_SKIP"; echo "hooksPath=$(git config core.hooksPath)"; } > '${seen}'` }] });
    const hook = path.join(repo.dir, '.git', 'hooks', 'post-commit');
    fs.writeFileSync(hook, `#!/bin/sh\necho ran >> '${marker}'\n`, { mode: 0o755 });
    taskOnTop(repo, 't-1');
    expect(readIf(marker)).toBe('ran\n'); // taskOnTop's own commit ran the hook: it works
    fs.rmSync(marker);
    expectResult(verify(repo, ['t-1']), 'pass', 0);
    expect(readIf(seen)).toBe('skip=1\nhooksPath=/dev/null\n');
    expect(fs.existsSync(marker)).toBe(false);
    // the user's own commits still run it
    repo.git(['commit', '-q', '--allow-empty', '-m', 'mine']);
    expect(readIf(marker)).toBe('ran\n');
  });
  it("the caller's GIT_CONFIG_COUNT settings reach the steps, with core.hooksPath=/dev/null appended after them", () => {
    const seen = path.join(tempDir(), 'seen');
    const repo = verifyRepo({ steps: [{ name: 'config', run: `{ git config omni.test.first; git config omni.test.second; git config core.hooksPath; } > '${seen}'` }] });
    taskOnTop(repo, 't-1');
    // what a CI runner does for safe.directory or credentials: settings in the environment, not in a file
    const env = testEnv({ GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'omni.test.first', GIT_CONFIG_VALUE_0: 'one', GIT_CONFIG_KEY_1: 'omni.test.second', GIT_CONFIG_VALUE_1: 'two' });
    expectResult(verify(repo, ['t-1'], env), 'pass', 0);
    expect(readIf(seen)).toBe('one\ntwo\n/dev/null\n');
  });
});

describe('progress when stderr is not a terminal', () => {
  it('prints one line per step on stderr as it ends, and the answer on stdout', () => {
    const repo = verifyRepo({ steps: [{ name: 'build', run: 'true' }, { name: 'test', run: 'exit 3' }] });
    taskOnTop(repo, 't-1');
    const r = repo.omni(['verify', 't-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\[1\/2\] build: ok \(\d+\.\d s\)$/m);
    expect(r.stderr).toMatch(/^\[2\/2\] test: exit 3 \(\d+\.\d s\)$/m);
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout).toContain('fail: step test exited 3');
    // --json prints no progress
    const j = verify(repo, ['t-1', '--force']);
    expect(j.r.stderr).not.toContain('[1/2]');
  });
});
