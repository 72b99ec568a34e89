import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/hooks/process.js';
import { killGroup, runSteps, tailLines, type RunStepsOptions, type Step } from '../../src/verify/steps.js';
import { liveGroupMembers, pidLive } from '../helpers/children.js';
import { cleanupAll, tempDir, waitFor } from '../helpers/repo.js';

afterAll(cleanupAll);

function setup(extra: Partial<RunStepsOptions> = {}) {
  const dir = tempDir();
  const logFile = path.join(dir, 'logs', 'deep', 'run.log');
  const groups: (number | null)[] = [];
  const opts: RunStepsOptions = { cwd: dir, logFile, skipExitCode: 125, defaultTimeoutSec: 120, killGraceMs: 500, onGroup: (g) => groups.push(g), ...extra };
  return { dir, logFile, groups, opts };
}

/** The process groups a run reported (every step's group, then null after it). */
const pgids = (groups: (number | null)[]) => groups.filter((g): g is number => g !== null);

describe('verify steps', () => {
  it('passes when every step exits 0, running them in order in cwd into one log with a header per step', async () => {
    const { dir, logFile, groups, opts } = setup();
    const started: string[] = [];
    const ended: (number | null)[] = [];
    const r = await runSteps(
      [
        { name: 'build', run: 'echo building; echo to-stderr >&2; pwd > where' },
        { name: 'test', run: ['/bin/sh', '-c', 'echo "argv $0 $1"', 'x', 'y z'] },
      ],
      { ...opts, onStepStart: (_, s) => started.push(s.name), onStepEnd: (_, o) => ended.push(o.exitCode) },
    );
    expect(r).toMatchObject({ result: 'pass', step: null, reason: null });
    expect(r.steps.map((s) => [s.name, s.exitCode, s.started, s.timedOut])).toEqual([['build', 0, true, false], ['test', 0, true, false]]);
    expect(started).toEqual(['build', 'test']);
    expect(ended).toEqual([0, 0]);
    expect(fs.readFileSync(path.join(dir, 'where'), 'utf8').trim()).toBe(dir);
    expect(fs.readFileSync(logFile, 'utf8')).toBe(
      '==> build: echo building; echo to-stderr >&2; pwd > where\nbuilding\nto-stderr\n==> test: /bin/sh -c echo "argv $0 $1" x y z\nargv x y z\n',
    );
    expect(groups).toHaveLength(4);
    expect(groups[1]).toBeNull();
    expect(groups[3]).toBeNull();
  });

  it('fails at the first non-zero step, naming it and its code, and runs no later step', async () => {
    const { dir, opts } = setup();
    const r = await runSteps(
      [
        { name: 'lint', run: 'true' },
        { name: 'test', run: 'echo failing; exit 3' },
        { name: 'after', run: 'touch after' },
      ],
      opts,
    );
    expect(r).toMatchObject({ result: 'fail', step: 'test', exitCode: 3, reason: 'step test exited 3' });
    expect(r.steps).toHaveLength(2);
    expect(fs.existsSync(path.join(dir, 'after'))).toBe(false);
  });

  it('skips on the skip code (125 by default, or a configured 2); another code is a failure', async () => {
    const a = setup();
    expect(await runSteps([{ name: 'probe', run: 'exit 125' }], a.opts)).toMatchObject({ result: 'skip', step: 'probe', exitCode: 125, reason: 'step probe exited 125, the skip code' });
    const b = setup({ skipExitCode: 2 });
    expect(await runSteps([{ name: 'ok', run: 'true' }, { name: 'probe', run: 'exit 2' }], b.opts)).toMatchObject({ result: 'skip', step: 'probe', exitCode: 2 });
    expect(await runSteps([{ name: 'probe', run: 'exit 125' }], b.opts)).toMatchObject({ result: 'fail', step: 'probe', exitCode: 125 });
    const c = setup();
    expect(await runSteps([{ name: 'probe', run: 'exit 2' }], c.opts)).toMatchObject({ result: 'fail', exitCode: 2 });
  });

  it('is indeterminate when a step cannot start: exit 127, exit 126, or a spawn error', async () => {
    const { dir, opts } = setup();
    const r127 = await runSteps([{ name: 'missing', run: 'no-such-command-omni-ship' }], opts);
    expect(r127).toMatchObject({ result: 'indeterminate', step: 'missing', exitCode: 127 });
    expect(r127.reason).toMatch(/^could not start step missing/);
    fs.writeFileSync(path.join(dir, 'script.sh'), 'echo hi\n', { mode: 0o644 });
    const r126 = await runSteps([{ name: 'noexec', run: './script.sh' }], opts);
    expect(r126).toMatchObject({ result: 'indeterminate', step: 'noexec', exitCode: 126 });
    const enoent = await runSteps([{ name: 'argv', run: [path.join(dir, 'absent')] }], opts);
    expect(enoent).toMatchObject({ result: 'indeterminate', step: 'argv', exitCode: null });
    expect(enoent.reason).toMatch(/could not start step argv: ENOENT/);
    expect(enoent.steps[0]?.started).toBe(false);
    const eacces = await runSteps([{ name: 'argv', run: [path.join(dir, 'script.sh')] }], opts);
    expect(eacces.reason).toMatch(/could not start step argv: EACCES/);
  });

  it('times out: the whole process group gets SIGTERM, and nothing of it is left', async () => {
    const { groups, opts } = setup();
    const t0 = Date.now();
    const r = await runSteps([{ name: 'slow', run: 'sleep 100 & sleep 100', timeout: 1 }], opts);
    expect(r).toMatchObject({ result: 'indeterminate', step: 'slow', reason: 'step slow timed out after 1 s' });
    expect(r.steps[0]?.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const [pgid] = pgids(groups);
    expect(pgid).toBeGreaterThan(1);
    expect(liveGroupMembers(pgid!)).toEqual([]);
  });

  it('SIGKILLs a group that ignores SIGTERM once the grace period is over', async () => {
    const { groups, opts } = setup({ defaultTimeoutSec: 1, killGraceMs: 300 });
    const r = await runSteps([{ name: 'stubborn', run: "trap '' TERM; sleep 100 & sleep 100" }], opts);
    expect(r).toMatchObject({ result: 'indeterminate', step: 'stubborn' });
    expect(r.steps[0]).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(liveGroupMembers(pgids(groups)[0]!)).toEqual([]);
  });

  it('leaves nothing running when a step backgrounds a process and exits 0', async () => {
    const { dir, groups, opts } = setup();
    const r = await runSteps([{ name: 'server', run: 'sleep 300 & echo $! > bg.pid; exit 0' }], opts);
    expect(r.result).toBe('pass');
    const bg = Number(fs.readFileSync(path.join(dir, 'bg.pid'), 'utf8'));
    expect(await waitFor(() => !pidLive(bg), 5_000)).toBe(true);
    expect(liveGroupMembers(pgids(groups)[0]!)).toEqual([]);
  });

  it('is indeterminate and cancelled when the signal aborts, killing the running group', async () => {
    const { dir, groups, opts } = setup();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const t0 = Date.now();
    const r = await runSteps([{ name: 'long', run: 'sleep 100' }, { name: 'next', run: 'touch next' }], { ...opts, signal: ac.signal });
    expect(r).toMatchObject({ result: 'indeterminate', step: 'long', reason: 'cancelled' });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(fs.existsSync(path.join(dir, 'next'))).toBe(false);
    expect(liveGroupMembers(pgids(groups)[0]!)).toEqual([]);
    expect(await runSteps([{ name: 'never', run: 'touch never' }], { ...opts, signal: ac.signal })).toMatchObject({ result: 'indeterminate', reason: 'cancelled' });
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it("passes the process env, opts.env and the step's env (the step's wins), but not git's location variables", async () => {
    const { logFile, opts } = setup();
    process.env.OMNI_VERIFY_INHERITED = 'from-process';
    process.env.GIT_DIR = '/somewhere/else/.git';
    try {
      const step: Step = { name: 'env', run: 'echo "$OMNI_VERIFY_INHERITED $A $B GIT_DIR=${GIT_DIR-unset}"', env: { B: 'step' } };
      const r = await runSteps([step], { ...opts, env: { A: 'opts', B: 'opts' } });
      expect(r.result).toBe('pass');
    } finally {
      delete process.env.OMNI_VERIFY_INHERITED;
      delete process.env.GIT_DIR;
    }
    expect(fs.readFileSync(logFile, 'utf8')).toContain('from-process opts step GIT_DIR=unset\n');
  });

  it('refuses an empty step list', async () => {
    await expect(runSteps([], setup().opts)).rejects.toThrow(/at least one step/);
  });
});

describe('killGroup', () => {
  it('kills only the members of the group that started at or after `since`', async () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 100 & sleep 100'] /* sh and two sleeps */, { detached: true, stdio: 'ignore' });
    const pgid = child.pid!;
    const start = processStartTime(pgid)!;
    expect(await waitFor(() => liveGroupMembers(pgid).length === 3, 10_000)).toBe(true);
    const exited = new Promise((r) => child.on('exit', r));
    // a group whose members all started before `since` is another group that got the same pgid: untouched
    expect(killGroup(pgid, { since: String(BigInt(start) + 1_000_000n) })).toBe(0);
    expect(liveGroupMembers(pgid)).toHaveLength(3);
    expect(killGroup(pgid, { since: start })).toBe(3);
    await exited;
    expect(await waitFor(() => liveGroupMembers(pgid).length === 0, 10_000)).toBe(true);
  });
});

describe('tailLines', () => {
  it('returns the last lines, reading only the end of a big file', () => {
    const file = path.join(tempDir(), 'log');
    expect(tailLines(file, 5)).toBe('');
    fs.writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(tailLines(file, 3)).toBe('line 9997\nline 9998\nline 9999');
    expect(tailLines(file, 100, 30)).toBe('line 9997\nline 9998\nline 9999'); // a window starting on a line start keeps it
    expect(tailLines(file, 100, 25)).toBe('line 9998\nline 9999'); // a cut first line is dropped
    fs.appendFileSync(file, 'no newline');
    expect(tailLines(file, 2)).toBe('line 9999\nno newline');
  });
});
