import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRemote, tempDir, testEnv, waitFor } from '../helpers/repo.js';
import { NOTES, eventsIn, jsonOf, refValue, status } from '../helpers/state.js';
import { alive, commitVerifyConfig, expectResult, runCounter, taskOnTop, verify, verifyEventsOn, verifyRepo } from '../helpers/verify.js';

afterAll(() => cleanupAll());

const count = (c: { file: string }) => `echo run >> '${c.file}'`;

describe('omni-ship verify: answers and exit codes', () => {
  it('no steps configured: exit 2 with a hint, never a pass, and nothing written', () => {
    const repo = verifyRepo({ steps: [] });
    const { tree } = taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expect(v.r.code).toBe(2);
    expect(v.r.stderr).toContain('no verify steps configured');
    expect(v.r.stderr).toContain('hint: add verify.steps');
    expect(v.r.stdout).toBe('');
    expect(refValue(repo, NOTES.verify)).toBeNull();
    expect(verifyEventsOn(repo, tree)).toEqual([]);
  });

  it('pass: runs the steps in order in a private worktree, records the answer on the tree, then answers from the cache', () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'first', run: `${count(runs)}; test -f t-1.txt` }, { name: 'second', run: ['sh', '-c', 'pwd > "$0"', path.join(tempDir(), 'cwd')] }] });
    const { commit, tree } = taskOnTop(repo, 't-1');
    const before = repo.git(['status', '--porcelain=v1', '--ignored']);
    const v = verify(repo, ['t-1']);
    expectResult(v, 'pass', 0);
    expect(v.json).toMatchObject({ cached: false, commit, tree, task: 't-1', step: null, specSource: { kind: 'base', file: '.omni-shiprc.json' } });
    expect(v.json.spec).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(v.json.log, 'utf8')).toContain('==> first');
    expect(runs.count()).toBe(1);
    // the user's work tree is untouched
    expect(repo.git(['status', '--porcelain=v1', '--ignored'])).toBe(before);
    const events = verifyEventsOn(repo, tree);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ result: 'pass', spec: v.json.spec, commit, task: 't-1', specFrom: 'base' });
    expect(events[0]!.by).toBe('Test Author <author@example.com>');
    const again = verify(repo, ['t-1']);
    expectResult(again, 'pass', 0);
    expect(again.json.cached).toBe(true);
    expect(again.json.recorded).toEqual({ by: events[0]!.by, host: events[0]!.host, at: events[0]!.at });
    expect(runs.count()).toBe(1);
    // --force runs again and appends a second answer
    expectResult(verify(repo, ['t-1', '--force']), 'pass', 0);
    expect(runs.count()).toBe(2);
    expect(verifyEventsOn(repo, tree)).toHaveLength(2);
  });

  it('fail: exit 1 naming the step and its exit code; the log holds the output; the text shows the log and a hint', () => {
    const repo = verifyRepo({ steps: [{ name: 'build', run: 'true' }, { name: 'test', run: 'echo boom-output; exit 3' }, { name: 'never', run: 'echo should-not-run' }] });
    const { tree } = taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'fail', 1);
    expect(v.json).toMatchObject({ step: 'test', exitCode: 3, summary: 'step test exited 3' });
    const log = fs.readFileSync(v.json.log, 'utf8');
    expect(log).toContain('boom-output');
    expect(log).not.toContain('should-not-run');
    expect(verifyEventsOn(repo, tree)[0]).toMatchObject({ result: 'fail', step: 'test', exitCode: 3 });
    // shareOutput is off by default: the note holds no output
    expect(verifyEventsOn(repo, tree)[0]!.output).toBeUndefined();
    const text = repo.omni(['verify', 't-1', '--force']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('fail: step test exited 3');
    expect(text.stdout).toContain('log: ');
    expect(text.stdout).toContain('boom-output');
    expect(text.stdout).toContain('hint: fix it and amend');
  });

  it('skip: exit 125 is a skip by default; exit 2 is a failure unless skipExitCode says 2', () => {
    const repo = verifyRepo({ steps: [{ name: 'build', run: 'exit 125' }] });
    taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'skip', 0);
    expect(v.json).toMatchObject({ step: 'build', exitCode: 125 });

    const two = verifyRepo({ steps: [{ name: 'build', run: 'exit 2' }] });
    taskOnTop(two, 't-1');
    expectResult(verify(two, ['t-1']), 'fail', 1);
    two.git(['switch', '-q', 'main']);
    commitVerifyConfig(two, { steps: [{ name: 'build', run: 'exit 2' }], skipExitCode: 2 });
    two.git(['switch', '-q', 't-1']);
    two.git(['rebase', '-q', 'main']);
    expectResult(verify(two, ['t-1']), 'skip', 0);
  });

  it('indeterminate: a timeout kills the whole process tree, exits 75, and is never cached', () => {
    const runs = runCounter();
    const pids = path.join(tempDir(), 'pids');
    const repo = verifyRepo({ steps: [{ name: 'slow', run: `${count(runs)}; sleep 300 & echo $! >> '${pids}'; echo $$ >> '${pids}'; wait`, timeout: 1 }] });
    const { tree } = taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'indeterminate', 75);
    expect(v.json.step).toBe('slow');
    expect(v.json.summary).toMatch(/timed out/);
    const started = fs.readFileSync(pids, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(started.length).toBeGreaterThanOrEqual(2);
    for (const pid of started) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(verifyEventsOn(repo, tree)[0]).toMatchObject({ result: 'indeterminate' });
    // not an answer: the next verify runs again
    expectResult(verify(repo, ['t-1']), 'indeterminate', 75);
    expect(runs.count()).toBe(2);
  });

  it('indeterminate: a step that cannot start (127, a missing program) exits 75', () => {
    const repo = verifyRepo({ steps: [{ name: 'missing', run: 'no-such-program-omni-ship-test' }] });
    taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'indeterminate', 75);
    expect(v.json.exitCode).toBe(127);
    const argv = verifyRepo({ steps: [{ name: 'missing', run: ['/no/such/program'] }] });
    taskOnTop(argv, 't-1');
    expectResult(verify(argv, ['t-1']), 'indeterminate', 75);
  });

  it('a rev verifies without the shape check; an unknown task or rev exits 2 and writes nothing', () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'true' }] });
    const main = repo.git(['rev-parse', 'main']).trim();
    const v = verify(repo, ['main']);
    expectResult(v, 'pass', 0);
    expect(v.json).toMatchObject({ commit: main, task: null });
    const unknown = verify(repo, ['t-404']);
    expect(unknown.r.code).toBe(2);
    expect(unknown.r.stderr).toContain('no task t-404 here');
    const bad = verify(repo, ['no-such-rev']);
    expect(bad.r.code).toBe(2);
    expect(bad.r.stderr).toContain("'no-such-rev' is neither a task id nor a commit");
    expect(eventsIn(repo, NOTES.verify)).toHaveLength(1);
  });
});

describe('omni-ship verify: the cache is keyed by tree and spec', () => {
  it('a reworded amend, and a rebase that changes nothing, hit the cache', () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'count', run: count(runs) }] });
    const first = taskOnTop(repo, 't-1');
    expectResult(verify(repo, ['t-1']), 'pass', 0);
    repo.git(['commit', '-q', '--amend', '-m', 'reworded', '-m', 'Task-Id: t-1']);
    const amended = verify(repo, ['t-1']);
    expectResult(amended, 'pass', 0);
    expect(amended.json.commit).not.toBe(first.commit);
    expect(amended.json.tree).toBe(first.tree);
    expect(amended.json.cached).toBe(true);
    repo.git(['rebase', '-q', '--force-rebase', 'main']);
    const rebased = verify(repo, ['t-1']);
    expect(rebased.json.cached).toBe(true);
    expect(runs.count()).toBe(1);
  });

  it('a second clone after sync takes the answer, showing who recorded it and where', () => {
    const runs = runCounter();
    const remote = makeRemote();
    const a = remote.clone('a');
    commitVerifyConfig(a, { steps: [{ name: 'count', run: count(runs) }] });
    a.git(['push', '-q', 'origin', 'main']);
    taskOnTop(a, 't-1');
    a.git(['push', '-q', 'origin', 't-1']);
    const va = verify(a, ['t-1']);
    expectResult(va, 'pass', 0);
    jsonOf(a.omni(['sync', '--json']));
    const b = remote.clone('b');
    jsonOf(b.omni(['sync', '--json']));
    b.git(['switch', '-q', 't-1']);
    const vb = verify(b, ['t-1']);
    expectResult(vb, 'pass', 0);
    expect(vb.json.cached).toBe(true);
    expect(vb.json.recorded.host).toBe(va.json.recorded.host);
    expect(vb.json.recorded.host).not.toBe(verify(b, ['main']).json.recorded.host);
    expect(runs.count()).toBe(2); // a's t-1, then b's main (another tree); b's t-1 ran nothing
    const t1 = status(b).tasks.find((t) => t.id === 't-1');
    expect(t1.state).toBe('verified');
    expect(t1.verify).toMatchObject({ result: 'pass', host: va.json.recorded.host });
  });

  it('a cacheKey whose output changes verifies again; the same output hits the cache', () => {
    const runs = runCounter();
    const toolchain = path.join(tempDir(), 'toolchain');
    fs.writeFileSync(toolchain, 'v1\n');
    const repo = verifyRepo({ steps: [{ name: 'count', run: count(runs) }], cacheKey: `cat '${toolchain}'` });
    taskOnTop(repo, 't-1');
    const one = verify(repo, ['t-1']);
    expectResult(one, 'pass', 0);
    expect(verify(repo, ['t-1']).json.cached).toBe(true);
    fs.writeFileSync(toolchain, 'v2\n');
    const two = verify(repo, ['t-1']);
    expect(two.json.cached).toBe(false);
    expect(two.json.spec).not.toBe(one.json.spec);
    expect(runs.count()).toBe(2);
  });

  it('a failing cacheKey command exits 2 and writes nothing', () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'true' }], cacheKey: 'exit 4' });
    taskOnTop(repo, 't-1');
    const v = verify(repo, ['t-1']);
    expect(v.r.code).toBe(2);
    expect(v.r.stderr).toContain('verify.cacheKey `exit 4` failed (exit 4)');
    expect(refValue(repo, NOTES.verify)).toBeNull();
  });

  it('shareOutput puts the last lines of a failure into the note', () => {
    const repo = verifyRepo({ steps: [{ name: 'test', run: 'echo secret-line; exit 1' }], shareOutput: true });
    const { tree } = taskOnTop(repo, 't-1');
    expectResult(verify(repo, ['t-1']), 'fail', 1);
    expect(verifyEventsOn(repo, tree)[0]!.output).toContain('secret-line');
  });
});

describe('omni-ship verify: the spec comes from the base branch, never from the commit', () => {
  it('a commit that weakens its own check is still checked by the base spec; --spec-from-commit records under its own hash', () => {
    const repo = verifyRepo({ steps: [{ name: 'test', run: 'test ! -f broken' }] });
    repo.git(['switch', '-q', '-c', 't-1']);
    repo.write('broken', 'x\n');
    repo.write('.omni-shiprc.json', JSON.stringify({ verify: { steps: [{ name: 'test', run: 'exit 0' }] } }));
    repo.git(['add', '-A']);
    repo.git(['commit', '-q', '-m', 'weaken the check', '-m', 'Task-Id: t-1']);
    const base = verify(repo, ['t-1']);
    expectResult(base, 'fail', 1);
    expect(base.json.specSource.kind).toBe('base');
    const own = verify(repo, ['t-1', '--spec-from-commit']);
    expectResult(own, 'pass', 0);
    expect(own.json.specSource).toMatchObject({ kind: 'commit', file: '.omni-shiprc.json' });
    expect(own.json.spec).not.toBe(base.json.spec);
    // status judges by the base's spec: failed, with the other spec's pass shown as such
    const t1 = status(repo).tasks.find((t) => t.id === 't-1');
    expect(t1.state).toBe('failed');
    expect(t1.verify).toMatchObject({ result: 'fail', step: 'test' });
    expect(t1.verifyOtherSpec).toMatchObject({ result: 'pass', spec: own.json.spec });
  });

  it("this clone's local config (.git/omni-ship.yaml) replaces the base's verify", () => {
    const repo = verifyRepo({ steps: [{ name: 'test', run: 'exit 1' }] });
    taskOnTop(repo, 't-1');
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.yaml'), 'verify:\n  steps:\n    - { name: local, run: "true" }\n');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'pass', 0);
    expect(v.json.specSource).toMatchObject({ kind: 'local', file: path.join(repo.dir, '.git', 'omni-ship.yaml') });
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.yaml'), 'trailerKey: Task\n');
    const refused = verify(repo, ['t-1']);
    expect(refused.r.code).toBe(2);
    expect(refused.r.stderr).toContain("the local config sets 'trailerKey'; it may set only verify, land, agent, baseBranch");
  });

  it('a base branch whose config is JavaScript gives no spec: exit 2 saying so, and nothing runs', () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [] });
    repo.git(['rm', '-q', '.omni-shiprc.json']);
    repo.write('.omni-shiprc.cjs', `require('fs').appendFileSync(${JSON.stringify(runs.file)}, 'ran\\n'); module.exports = {};\n`);
    repo.git(['add', '.omni-shiprc.cjs']);
    repo.git(['commit', '-q', '-m', 'js config']);
    const v = verify(repo, ['main']);
    expect(v.r.code).toBe(2);
    expect(v.r.stderr).toContain('is JavaScript: omni-ship never executes a config taken from a ref');
    // the work tree's JS config ran once (a foreground command), the base's copy never
    expect(runs.count()).toBe(1);
  });

  it('a JavaScript config that sets verify is refused, naming the key', () => {
    const repo = verifyRepo({ steps: [] });
    repo.git(['rm', '-q', '.omni-shiprc.json']);
    repo.write('.omni-shiprc.cjs', "module.exports = { verify: { steps: [{ name: 'x', run: 'true' }] } };\n");
    const r = repo.omni(['config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("sets 'verify', which decides what may land; omni-ship reads that only from a data file");
  });

  it('an invalid verify config names the key (exit 2)', () => {
    const repo = verifyRepo({ steps: [{ name: 'a', run: 'true' }, { name: 'a', run: 'true' }] });
    const r = repo.omni(['config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'verify' steps[1].name 'a' is used twice");
    for (const [bad, message] of [
      [{ skipExitCode: 0 }, 'skipExitCode must be an exit code from 1 to 255'],
      [{ skipExitCode: 127 }, 'other than 126 and 127'],
      [{ steps: [{ name: 'x' }] }, 'steps[0].run must be a shell string or an argv list'],
      [{ steps: [{ name: 'x', run: 'true', timeout: -1 }] }, 'steps[0].timeout must be a number of seconds above 0'],
      [{ concurrency: 0 }, 'concurrency must be a whole number from 1 to 64'],
      [{ steps: [], nope: 1 }, "has an unknown key 'nope'"],
    ] as const) {
      repo.write('.omni-shiprc.json', JSON.stringify({ verify: bad }));
      const c = repo.omni(['config']);
      expect(c.code, JSON.stringify(bad)).toBe(2);
      expect(c.stderr).toContain(message);
    }
  });
});

describe('omni-ship verify: the branch shape of a task', () => {
  it('two commits on top of base fail as step shape; no step runs and nothing is recorded', () => {
    const runs = runCounter();
    const repo = verifyRepo({ steps: [{ name: 'count', run: count(runs) }] });
    taskOnTop(repo, 't-1');
    repo.write('more.txt', 'more\n');
    repo.git(['add', 'more.txt']);
    repo.git(['commit', '-q', '-m', 'second', '-m', 'Task-Id: t-1']);
    const v = verify(repo, ['t-1']);
    expectResult(v, 'fail', 1);
    expect(v.json.step).toBe('shape');
    expect(v.json.summary).toContain('t-1 is 2 commits on top of main');
    expect(v.json.recorded).toBeNull();
    expect(runs.count()).toBe(0);
    expect(refValue(repo, NOTES.verify)).toBeNull();
    // the same tree as a rev has no shape to check
    expectResult(verify(repo, ['HEAD']), 'pass', 0);
  });

  it("a commit naming another task fails the shape; one with no trailer passes it", () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'true' }] });
    repo.git(['switch', '-q', '-c', 't-1']);
    repo.write('a', '1\n');
    repo.git(['add', 'a']);
    repo.git(['commit', '-q', '-m', 'x', '-m', 'Task-Id: t-2']);
    const v = verify(repo, [], testEnv());
    expectResult(v, 'fail', 1);
    expect(v.json.summary).toContain('names t-2, not t-1');
    repo.git(['commit', '-q', '--amend', '-m', 'no trailer']);
    expectResult(verify(repo, []), 'pass', 0);
  });
});

describe('omni-ship verify: crash safety', () => {
  it('a verify killed with -9 mid-step blocks nothing: the next run kills its orphans and answers', async () => {
    const pids = path.join(tempDir(), 'pids');
    const repo = verifyRepo({ steps: [{ name: 'slow', run: `echo $$ >> '${pids}'; sleep 300` }] });
    taskOnTop(repo, 't-1');
    const { spawn } = await import('node:child_process');
    const { binPath } = await import('../helpers/repo.js');
    const child = spawn(process.execPath, [binPath, 'verify', 't-1', '--json'], { cwd: repo.dir, env: testEnv(), stdio: 'ignore' });
    expect(await waitFor(() => fs.existsSync(pids) && fs.readFileSync(pids, 'utf8').trim() !== '')).toBe(true);
    const orphan = Number(fs.readFileSync(pids, 'utf8').trim());
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(alive(orphan)).toBe(true); // the step's own process group outlived its parent
    // the next run: a fast step, same tree and spec
    repo.git(['switch', '-q', 'main']);
    commitVerifyConfig(repo, { steps: [{ name: 'slow', run: `echo $$ >> '${pids}'; sleep 300` }], timeout: 5 });
    repo.git(['switch', '-q', 't-1']);
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.yaml'), 'verify:\n  steps:\n    - { name: quick, run: "true" }\n');
    const lockBefore = fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'pool', '0.lock'), 'utf8');
    const v = verify(repo, ['t-1']);
    expectResult(v, 'pass', 0);
    const statNow = fs.existsSync(`/proc/${orphan}/stat`) ? fs.readFileSync(`/proc/${orphan}/stat`, 'utf8') : 'gone';
    expect(await waitFor(() => !alive(orphan), 10_000), `lock before: ${lockBefore}; orphan stat: ${statNow}`).toBe(true);
  });

  it('a checkout killed in a pool worktree (its index.lock left behind) blocks nothing: the next run repairs the worktree and answers', () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'test -f t-1.txt' }] });
    taskOnTop(repo, 't-1');
    expectResult(verify(repo, ['t-1']), 'pass', 0);
    // what `git checkout` killed mid-way leaves: the worktree's index lock
    const admins = fs.readdirSync(path.join(repo.dir, '.git', 'worktrees'));
    expect(admins).toHaveLength(1);
    fs.writeFileSync(path.join(repo.dir, '.git', 'worktrees', admins[0]!, 'index.lock'), '');
    repo.write('t-1.txt', 'changed\n');
    repo.git(['commit', '-q', '-am', 'second tree', '-m', 'Task-Id: t-1']);
    const v = verify(repo, ['HEAD']);
    expectResult(v, 'pass', 0);
    expect(v.json.cached).toBe(false);
  });
});
