import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FAKE_AGENT, addTask, alive, killRuns, landedSubjects, pipelineRemote, remoteClaims, runSync, startRun, type RunChild } from '../helpers/pipeline.js';
import { cleanupAll, waitFor, type TestRepo } from '../helpers/repo.js';
import { eventsIn, refsUnder } from '../helpers/state.js';

afterEach(killRuns);
afterAll(cleanupAll);

const FAST = ['--interval', '0.1'];

function taskEvents(repo: TestRepo, task: string): Record<string, any>[] {
  return eventsIn(repo, 'refs/notes/omni-ship/tasks').filter((e) => e.task === task);
}

/** The run file of a run in the background once it names one agent at work, and that agent's pid. */
async function runningAgent(repo: TestRepo, child: RunChild): Promise<{ runFile: string; agentPid: number }> {
  const runFile = path.join(repo.dir, '.git', 'omni-ship', 'runs', `${child.proc.pid}.json`);
  expect(await waitFor(() => fs.existsSync(runFile) && JSON.parse(fs.readFileSync(runFile, 'utf8')).agents.length === 1)).toBe(true);
  return { runFile, agentPid: JSON.parse(fs.readFileSync(runFile, 'utf8')).agents[0].pid as number };
}

function stateOf(repo: TestRepo): Map<string, string> {
  const r = repo.omni(['task', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return new Map((JSON.parse(r.stdout).tasks as { id: string; state: string }[]).map((t) => [t.id, t.state]));
}

describe('omni-ship run: one full cycle', () => {
  it('takes task records to landed commits: dev agent, verify, land, in dependency order, with revisions and costs', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-2', { title: 'second', description: 'fake-agent: commit', dependsOn: ['t-1'], priority: 0 });
    addTask(a, 't-1', { title: 'first', description: 'fake-agent: break-tests cost=7' });
    addTask(a, 't-3', { title: 'third' });
    const r = runSync(a, ['--until-idle', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const kinds = (task: string) => r.events.filter((e) => e.task === task).map((e) => e.event);
    // t-1's first commit fails verify (its change leaves `broken`); the revision fixes it and lands
    expect(kinds('t-1')).toEqual(expect.arrayContaining(['claimed', 'started', 'committed', 'verified', 'landed', 'released']));
    const t1verdicts = r.events.filter((e) => e.task === 't-1' && e.event === 'verified').map((e) => e.result);
    expect(t1verdicts).toEqual(['fail', 'pass']);
    const revision = r.events.filter((e) => e.task === 't-1' && e.event === 'started' && e.role === 'dev')[1]!;
    expect(revision.feedback).toMatch(/verify failed in step test/);
    // t-2 has the higher priority but depends on t-1: it lands after it
    const order = landedSubjects(remote.bare);
    expect(order.indexOf('t-1: the work')).toBeLessThan(order.indexOf('t-2: the work'));
    expect(order).toContain('t-3: the work');
    expect([...stateOf(a).values()]).toEqual(['landed', 'landed', 'landed']);
    // one patchset per dev run that committed: t-1 has two (the second amends the first)
    const patchsets = eventsIn(a, 'refs/notes/omni-ship/patchsets');
    expect(patchsets.filter((e) => e.task === 't-1')).toHaveLength(2);
    expect(patchsets.filter((e) => e.task === 't-2')).toHaveLength(1);
    // the cost of both t-1 runs, in git
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'cost').map((e) => e.cost)).toEqual([7, 7]);
    const last = r.events.at(-1)!;
    expect(last).toMatchObject({ event: 'stopped', stopped: 'idle', costCents: 14 });
    expect(last.landed.sort()).toEqual(['t-1', 't-2', 't-3']);
    // nothing left behind: no claim at the remote, no active-run file
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(fs.readdirSync(path.join(a.dir, '.git', 'omni-ship', 'runs'))).toEqual([]);
  });

  it('a task needs its reviewer with land.requireApproval: changes requested, revised, approved, landed', async () => {
    const remote = pipelineRemote(['land:', '  requireApproval: true']);
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: commit\nfake-review: request-changes' });
    const r = runSync(a, ['--until-idle', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const reviews = r.events.filter((e) => e.event === 'reviewed').map((e) => e.verdict);
    expect(reviews).toEqual(['request-changes', 'approve']);
    expect(r.events.filter((e) => e.event === 'started' && e.role === 'dev')[1]!.feedback).toMatch(/asked for changes: please say why/);
    expect(r.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
    expect(eventsIn(a, 'refs/notes/omni-ship/reviews').sort((x, y) => x.at.localeCompare(y.at)).map((e) => e.verdict)).toEqual(['request-changes', 'approve']);
  });

  it('--once works one pass and exits; --dry-run claims nothing and writes nothing', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    for (const id of ['t-1', 't-2', 't-3']) addTask(a, id);
    const refsBefore = a.git(['for-each-ref']);
    const dry = runSync(a, ['--dry-run', '--concurrency', '2']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.events.filter((e) => e.event === 'would-work').map((e) => e.task)).toEqual(['t-1', 't-2']);
    expect(a.git(['for-each-ref'])).toBe(refsBefore);
    expect(remoteClaims(remote.bare)).toEqual([]);
    const once = runSync(a, ['--once', '--concurrency', '2', ...FAST]);
    expect(once.code, once.stderr).toBe(0);
    expect(once.events.filter((e) => e.event === 'landed').map((e) => e.task).sort()).toEqual(['t-1', 't-2']);
    expect(stateOf(a).get('t-3')).toBe('open');
    expect(once.events.at(-1)).toMatchObject({ event: 'stopped', stopped: 'once' });
  });

  it("works on tasks that have records only: a branch pushed without one is left alone; --task-id and --parent narrow it", () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    a.git(['switch', '-q', '-c', 't-9']);
    a.write('nine.txt', '9\n');
    a.git(['add', 'nine.txt']);
    a.git(['commit', '-q', '-m', 'nine\n\nTask-Id: t-9']);
    a.git(['switch', '-q', 'main']);
    addTask(a, 't-1');
    addTask(a, 't-2');
    const r = runSync(a, ['--until-idle', '--task-id', 't-2', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === 'claimed').map((e) => e.task)).toEqual(['t-2']);
    expect(landedSubjects(remote.bare)).not.toContain('nine');
    expect(stateOf(a).get('t-1')).toBe('open');
  });
});

describe('omni-ship run: retries, backoff and the circuit breaker', () => {
  it('an agent that fails: attempts on the task record, backing off, then needs-help once; --task-id then exits at once', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: fail' });
    const r = runSync(a, ['--until-idle', '--max-retries', '3', '--interval', '0.3']);
    expect(r.code, r.stderr).toBe(0);
    const starts = r.events.filter((e) => e.event === 'started' && e.role === 'dev').map((e) => Date.parse(e.at));
    expect(starts).toHaveLength(3);
    // exponential: at least the interval, then twice it, between the attempts
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(300);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(600);
    expect(r.events.filter((e) => e.event === 'needs-help')).toEqual([expect.objectContaining({ task: 't-1', why: expect.stringMatching(/3 failed attempt\(s\) in a row \(--max-retries 3\)/) })]);
    const events = taskEvents(a, 't-1');
    expect(events.filter((e) => e.op === 'attempt')).toHaveLength(3);
    expect(events.filter((e) => e.op === 'needs-help')).toHaveLength(1);
    expect(stateOf(a).get('t-1')).toBe('needs-help');
    // the circuit is open: a run for that task says so and exits, writing nothing
    const before = a.git(['for-each-ref']);
    const again = runSync(a, ['--task-id', 't-1', ...FAST]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/t-1 needs help: 3 failed attempt\(s\) in a row/);
    expect(again.events.filter((e) => e.event === 'started' && e.role === 'dev')).toEqual([]);
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'needs-help')).toHaveLength(1);
    expect(a.git(['for-each-ref', 'refs/notes'])).toBe(before.split('\n').filter((l) => l.includes('refs/notes')).join('\n') + '\n');
    // a person resets it (reopen), fixes the task, and it lands
    expect(a.omni(['task', 'edit', 't-1', '--description', 'fake-agent: commit']).code).toBe(0);
    const reopened = a.omni(['task', 'reopen', 't-1']);
    expect(reopened.code, reopened.stderr).toBe(0);
    const fixed = runSync(a, ['--until-idle', '--max-retries', '3', ...FAST]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
  });

  it('failures on a commit count per patchset: a verify failure the agent cannot fix opens the circuit of that patchset', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    // the first commit leaves `broken`, and every revision fails to commit
    addTask(a, 't-1', { description: 'fake-agent: break-tests' });
    const first = runSync(a, ['--once', ...FAST]);
    expect(first.events.find((e) => e.event === 'verified')?.result).toBe('fail');
    expect(a.omni(['task', 'edit', 't-1', '--description', 'fake-agent: no-commit']).code).toBe(0);
    const r = runSync(a, ['--until-idle', '--max-retries', '2', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const head = first.events.find((e) => e.event === 'committed')!.commit as string;
    const attempts = eventsIn(a, 'refs/notes/omni-ship/attempts').filter((e) => e.commit === head);
    expect(attempts.map((e) => `${e.role}:${e.outcome}`)).toEqual(['verify:fail', 'dev:fail', 'run:needs-help']);
    expect(stateOf(a).get('t-1')).toBe('needs-help');
  });

  it('an error that stops the steps (a file where the worktree goes) is a failed attempt too: backoff, then needs-help, no loop', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1');
    fs.mkdirSync(`${a.dir}.worktrees`);
    fs.writeFileSync(`${a.dir}.worktrees/t-1`, 'in the way\n');
    const r = runSync(a, ['--until-idle', '--max-retries', '2', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const failed = r.events.filter((e) => e.event === 'failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ task: 't-1', step: 'run' });
    expect(r.events.filter((e) => e.event === 'claimed')).toHaveLength(2);
    expect(r.events.find((e) => e.event === 'needs-help')?.why).toMatch(/2 failed attempt\(s\) in a row/);
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'attempt').map((e) => e.role)).toEqual(['run', 'run']);
  });

  it("each of the agent's failures is a failed attempt: no commit, two commits, a non-zero exit, a timeout", () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: no-commit' });
    addTask(a, 't-2', { description: 'fake-agent: two-commits' });
    addTask(a, 't-3', { description: 'fake-agent: fail' });
    addTask(a, 't-4', { description: 'fake-agent: hang' });
    const r = runSync(a, ['--once', '--concurrency', '4', '--timeout', '1', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const outcome = (task: string) => r.events.find((e) => e.event === 'failed' && e.task === task)?.outcome;
    expect([outcome('t-1'), outcome('t-2'), outcome('t-3'), outcome('t-4')]).toEqual(['no-commit', 'several-commits', 'agent-failed', 'timed-out']);
    expect(r.events.filter((e) => e.event === 'committed' || e.event === 'landed')).toEqual([]);
    for (const task of ['t-1', 't-2', 't-3', 't-4']) expect(taskEvents(a, task).filter((e) => e.op === 'attempt'), task).toHaveLength(1);
    expect(landedSubjects(remote.bare).filter((x) => x.includes('the work'))).toEqual([]);
  });

  it('--max-iter caps dev runs across patchsets', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: no-commit' });
    const r = runSync(a, ['--until-idle', '--max-retries', '0', '--max-iter', '2', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === 'started' && e.role === 'dev')).toHaveLength(2);
    expect(r.events.find((e) => e.event === 'needs-help')?.why).toMatch(/2 dev attempts across its patchsets \(--max-iter 2\)/);
  });
});

describe('omni-ship run: the cost cap', () => {
  it('stops a task once its agents cost --max-cost cents, counted from git on every machine', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: fail cost=60' });
    const r = runSync(a, ['--until-idle', '--max-retries', '0', '--max-cost', '100', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === 'started' && e.role === 'dev')).toHaveLength(2);
    expect(r.events.find((e) => e.event === 'needs-help')?.why).toMatch(/its agents cost 120 cents \(--max-cost 100\)/);
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'cost').map((e) => e.cost)).toEqual([60, 60]);
    // another clone reads the same costs from the remote: the circuit is open there too
    const b = remote.clone('b');
    const there = runSync(b, ['--task-id', 't-1', '--max-cost', '100', ...FAST]);
    expect(there.code).toBe(1);
    expect(there.stderr).toMatch(/t-1 needs help: its agents cost 120 cents/);
  });
});

describe('omni-ship run: crash recovery and Ctrl-C', () => {
  it('after kill -9 of run, the next run kills its agent, releases its claim and finishes the task', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: hang' });
    const first = startRun(a, [...FAST]);
    await first.waitForEvent((e) => e.event === 'started' && e.role === 'dev');
    const { runFile, agentPid } = await runningAgent(a, first);
    first.proc.kill('SIGKILL');
    await first.exited;
    // the agent lives on (its own process group), and the claim is still at the remote
    expect(alive(agentPid)).toBe(true);
    expect(remoteClaims(remote.bare)).toEqual(['t-1']);
    expect(a.omni(['task', 'edit', 't-1', '--description', 'fake-agent: commit']).code).toBe(0);
    expect(alive(agentPid)).toBe(true);
    const second = runSync(a, ['--until-idle', ...FAST]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.events.find((e) => e.event === 'recovered')).toMatchObject({ pid: first.proc.pid, tasks: ['t-1'] });
    expect(second.events.find((e) => e.event === 'recovered')!.killed).toBeGreaterThanOrEqual(1);
    expect(second.events.find((e) => e.event === 'released' && e.why)?.why).toMatch(/its run is gone/);
    expect(alive(agentPid)).toBe(false);
    expect(second.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(fs.existsSync(runFile)).toBe(false);
  });

  it('killed after the agent committed and before the patchset was recorded: the cost is kept, the next run records the commit and lands it', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: commit cost=5' });
    const crashed = runSync(a, ['--once', ...FAST], { OMNI_SHIP_FAILPOINT: 'develop:agent-done' });
    expect(crashed.code).not.toBe(0);
    expect(eventsIn(a, 'refs/notes/omni-ship/patchsets')).toEqual([]);
    // what the agent cost is in git already: a kill after the agent loses no cost
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'cost').map((e) => e.cost)).toEqual([5]);
    const commit = a.git(['rev-parse', 't-1']).trim();
    const r = runSync(a, ['--until-idle', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    // the agent did not run again: its commit was recorded and landed
    expect(r.events.filter((e) => e.event === 'started' && e.role === 'dev')).toEqual([]);
    expect(eventsIn(a, 'refs/notes/omni-ship/patchsets').map((e) => e.commit)).toEqual([commit]);
    expect(r.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
  });

  it('killed right after it claimed: the claim is released by the next run, which does the task', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1');
    const crashed = runSync(a, ['--once', ...FAST], { OMNI_SHIP_FAILPOINT: 'run:claimed' });
    expect(crashed.code).not.toBe(0);
    expect(remoteClaims(remote.bare)).toEqual(['t-1']);
    const r = runSync(a, ['--until-idle', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
    expect(remoteClaims(remote.bare)).toEqual([]);
  });

  it('Ctrl-C mid-cycle stops the agent, records no attempt, releases the claim, and exits 130', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: hang' });
    addTask(a, 't-2', { description: 'fake-agent: commit sleep=1' });
    const child = startRun(a, ['--concurrency', '1', ...FAST]);
    await child.waitForEvent((e) => e.event === 'started' && e.role === 'dev' && e.task === 't-1');
    const { runFile, agentPid } = await runningAgent(a, child);
    // status shows the agent at work
    const during = a.omni(['status', '--json']);
    expect(JSON.parse(during.stdout).runs).toEqual([expect.objectContaining({ task: 't-1', role: 'dev', attempt: 1, pid: child.proc.pid })]);
    expect(a.omni(['status']).stdout).toMatch(/running\n\s+t-1\s+dev\s+\d+s\s+attempt 1/);
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe(130);
    expect(child.events.some((e) => e.event === 'stopping')).toBe(true);
    expect(child.events.at(-1)).toMatchObject({ event: 'stopped', stopped: 'interrupted' });
    // t-2 was never claimed; t-1 is as it was: no attempt, no claim, no agent, no run file
    expect(child.events.filter((e) => e.event === 'claimed').map((e) => e.task)).toEqual(['t-1']);
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'attempt')).toEqual([]);
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(alive(agentPid)).toBe(false);
    expect(fs.existsSync(runFile)).toBe(false);
    const ready = JSON.parse(a.omni(['task', 'list', '--ready', '--json']).stdout).tasks.map((t: { id: string }) => t.id);
    expect(ready).toEqual(['t-1', 't-2']);
  });
  it('a SIGTERM to the run\'s whole process group stops it as Ctrl-C does: agent stopped, claim released, exit 130', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1', { description: 'fake-agent: hang' });
    const child = startRun(a, [...FAST], {}, { ownGroup: true });
    await child.waitForEvent((e) => e.event === 'started' && e.role === 'dev');
    const { runFile, agentPid } = await runningAgent(a, child);
    process.kill(-child.proc.pid!, 'SIGTERM');
    expect(await child.exited).toBe(130);
    expect(child.events.at(-1)).toMatchObject({ event: 'stopped', stopped: 'interrupted' });
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(alive(agentPid)).toBe(false);
    expect(fs.existsSync(runFile)).toBe(false);
    expect(taskEvents(a, 't-1').filter((e) => e.op === 'attempt')).toEqual([]);
  });
});

describe('omni-ship run: many machines', () => {
  it('two runs on two clones of one remote, 10 tasks: each developed once, all landed', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    for (let i = 1; i <= 10; i++) addTask(a, `t-${i}`, { description: 'fake-agent: commit sleep=0.2' });
    expect(a.omni(['sync']).code).toBe(0);
    expect(b.omni(['sync']).code).toBe(0);
    const ra = startRun(a, ['--until-idle', '--concurrency', '2', ...FAST]);
    const rb = startRun(b, ['--until-idle', '--concurrency', '2', ...FAST]);
    expect(await ra.exited, ra.stderr()).toBe(0);
    expect(await rb.exited, rb.stderr()).toBe(0);
    const devs = [...ra.events, ...rb.events].filter((e) => e.event === 'started' && e.role === 'dev').map((e) => e.task as string);
    expect(devs.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t-${i + 1}`).sort());
    // both machines did some of the work
    expect(ra.events.some((e) => e.event === 'started' && e.role === 'dev')).toBe(true);
    expect(rb.events.some((e) => e.event === 'started' && e.role === 'dev')).toBe(true);
    const subjects = landedSubjects(remote.bare);
    for (let i = 1; i <= 10; i++) expect(subjects.filter((s) => s === `t-${i}: the work`)).toHaveLength(1);
    expect(remoteClaims(remote.bare)).toEqual([]);
    expect(refsUnder(remote.bare, 'refs/omni-ship/claims/').size).toBe(0);
  });

  it('a task another machine lands between the pass and the claim is not developed again', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    addTask(a, 't-1');
    expect(a.omni(['sync']).code).toBe(0);
    // b plans t-1 as ready, then waits just before claiming it
    const pause = path.join(path.dirname(b.dir), 'paused');
    const rb = startRun(b, ['--once', ...FAST], { OMNI_SHIP_PAUSEPOINT: `run:planned=${pause}` });
    expect(await waitFor(() => fs.existsSync(pause))).toBe(true);
    const ra = runSync(a, ['--until-idle', ...FAST]);
    expect(ra.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
    fs.rmSync(pause);
    expect(await rb.exited, rb.stderr()).toBe(0);
    // b claimed it (a had released it), read the remote's notes again, and let it go
    expect(rb.events.find((e) => e.event === 'released' && e.task === 't-1')?.why).toBe('nothing to do after all: landed');
    expect(rb.events.filter((e) => e.event === 'started')).toEqual([]);
    expect(landedSubjects(remote.bare).filter((x) => x === 't-1: the work')).toHaveLength(1);
  });

  it('a claim is renewed while the agent works: another machine cannot take it over, even past the first lease', async () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    addTask(a, 't-1', { description: 'fake-agent: commit sleep=4' });
    expect(a.omni(['sync']).code).toBe(0);
    const lease = { OMNI_SHIP_CLAIM_LEASE_MS: '1500' };
    const ra = startRun(a, ['--until-idle', ...FAST], lease);
    await ra.waitForEvent((e) => e.event === 'started' && e.role === 'dev');
    const first = remote.bare.git(['rev-parse', 'refs/omni-ship/claims/t-1']).trim();
    // past the first lease: the claim has moved on (renewed), and b's attempt finds it held
    await new Promise((r) => setTimeout(r, 2000));
    expect(remote.bare.git(['rev-parse', 'refs/omni-ship/claims/t-1']).trim()).not.toBe(first);
    const rb = runSync(b, ['--once', ...FAST], lease);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.events.filter((e) => e.event === 'claimed' || e.event === 'started' && e.role === 'dev')).toEqual([]);
    expect(await ra.exited, ra.stderr()).toBe(0);
    expect(ra.events.filter((e) => e.event === 'failed')).toEqual([]);
    expect(ra.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
  });

  it('a machine that cannot reach the remote says so and works on nothing', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1');
    a.git(['remote', 'set-url', 'origin', path.join(path.dirname(remote.bare.dir), 'gone.git')]);
    const r = runSync(a, ['--once', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.some((e) => e.event === 'unreachable')).toBe(true);
    expect(r.events.filter((e) => e.event === 'claimed' || e.event === 'started' && e.role === 'dev')).toEqual([]);
  });
});

describe('omni-ship run: trust and bad input', () => {
  it("reads the agent from the base branch's committed config, never from a work tree's", () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1');
    // the checked-out branch's config (a work tree an agent could edit) names another program: not obeyed
    a.git(['switch', '-q', '-c', 'side']);
    a.write('.omni-shiprc.yaml', a.read('.omni-shiprc.yaml').replace(/command: .*/, 'command: ["false"]'));
    a.git(['commit', '-q', '-am', 'an agent of its own']);
    const r = runSync(a, ['--until-idle', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events[0]).toMatchObject({ event: 'run-started', agentFrom: 'base' });
    expect(r.events.some((e) => e.event === 'landed' && e.task === 't-1')).toBe(true);
    // the machine owner's settings (this clone's local config) come before the base's
    fs.writeFileSync(path.join(a.dir, '.git', 'omni-ship.yaml'), `agent:\n  command: ${JSON.stringify(FAKE_AGENT)}\n  commands:\n    other: ["true"]\n`);
    const local = runSync(a, ['--dry-run', '--agent', 'other']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.events[0]).toMatchObject({ event: 'run-started', agentFrom: 'local', agent: 'other' });
  });

  it('refuses bad options, a missing remote and an unknown agent with exit 2, claiming nothing', () => {
    const remote = pipelineRemote();
    const a = remote.clone('a');
    addTask(a, 't-1');
    const cases: [string[], RegExp][] = [
      [['--concurrency', '0'], /--concurrency "0" is not a whole number from 1/],
      [['--interval', 'soon'], /--interval "soon" is not a number of seconds/],
      [['--max-retries', '-1'], /--max-retries "-1" is not a whole number/],
      [['--once', '--until-idle'], /give --once or --until-idle, not both/],
      [['--agent', 'nope', '--once'], /no agent named "nope" in agent.commands/],
      [['--task-id', 'T 1', '--once'], /T 1/],
      [['--task-id', 't-7', '--once'], /no task record t-7/],
    ];
    const refs = a.git(['for-each-ref']);
    for (const [args, message] of cases) {
      const r = a.omni(['run', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(remoteClaims(remote.bare)).toEqual([]);
    }
    expect(a.git(['for-each-ref']).split('\n').filter((l) => !l.includes('refs/omni-ship/remote-') && !l.includes('refs/remotes/')).join('\n')).toBe(
      refs.split('\n').filter((l) => !l.includes('refs/omni-ship/remote-') && !l.includes('refs/remotes/')).join('\n'),
    );
    a.git(['remote', 'remove', 'origin']);
    const none = a.omni(['run', '--once']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/run claims tasks at the remote, and this repository has none/);
  });
});
