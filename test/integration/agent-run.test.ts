import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { agentArgv, runAgent, type AgentRunOptions, type AgentVars } from '../../src/pipeline/agent-run.js';
import { OWNER_ENV, ownerMark } from '../../src/verify/steps.js';
import { liveGroupMembers, pidLive } from '../helpers/children.js';
import { cleanupAll, tempDir, waitFor } from '../helpers/repo.js';

afterAll(cleanupAll);

/** pids a test must not leave running, whatever it asserted */
const strays: number[] = [];
afterEach(() => {
  while (strays.length) {
    try {
      process.kill(strays.pop()!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** A temp dir (the agent's cwd), a log path in a folder that does not exist yet, and a way to write fake agents. */
function setup() {
  const dir = tempDir('omni-ship-agent-');
  const logFile = path.join(dir, 'logs', 'deep', 'agent.log');
  const agent = (name: string, body: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  };
  const opts = (argv: readonly string[], extra: Partial<AgentRunOptions> = {}): AgentRunOptions => ({ argv, cwd: dir, logFile, timeoutMs: 0, graceMs: 1000, ...extra });
  const log = () => fs.readFileSync(logFile, 'utf8');
  return { dir, logFile, agent, opts, log };
}

/** The pid a fake agent wrote into `file` (waits for it). */
async function pidFrom(file: string): Promise<number> {
  expect(await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('\n'), 30_000)).toBe(true);
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  strays.push(pid);
  return pid;
}

const vars: AgentVars = { promptFile: '/tmp/prompt.md', taskId: 't-7', workspace: '/work/ws' };

describe('agentArgv', () => {
  it('replaces each placeholder inside any argument, several per argument, and leaves an unknown {name} as it is', () => {
    expect(agentArgv(['claude', '-p', '{promptFile}', '--prompt={promptFile}', '{taskId}@{workspace}:{taskId}', '{model}', '{ promptFile }', '{promptfile}'], vars)).toEqual([
      'claude',
      '-p',
      '/tmp/prompt.md',
      '--prompt=/tmp/prompt.md',
      't-7@/work/ws:t-7',
      '{model}',
      '{ promptFile }',
      '{promptfile}',
    ]);
    expect(agentArgv(['{workspace}/bin/agent'], vars)).toEqual(['/work/ws/bin/agent']);
  });

  it('inserts a value as it is: no second expansion of a placeholder inside it, no $& replacement patterns', () => {
    expect(agentArgv(['a', '{taskId}', 'x{promptFile}y'], { promptFile: "$&$1$'{taskId}", taskId: '{workspace}', workspace: 'W' })).toEqual(['a', '{workspace}', "x$&$1$'{taskId}y"]);
  });

  it('does not modify the argv it was given', () => {
    const argv = ['agent', '{taskId}'];
    agentArgv(argv, vars);
    expect(argv).toEqual(['agent', '{taskId}']);
  });

  it('refuses an empty argv and an empty program with a UserError, exit 2', () => {
    for (const [argv, message] of [
      [[], /agent command is empty/],
      [[''], /program is empty/],
      [['{workspace}', 'x'], /program is empty/],
    ] as const) {
      let err: unknown;
      try {
        agentArgv(argv, { ...vars, workspace: '' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).message).toMatch(message);
    }
  });
});

describe('runAgent', () => {
  it('runs an agent that prints and exits 0: in cwd, output appended to the log (its folder created), the last stdout line, pid and pgid', async () => {
    const { dir, logFile, agent, opts, log } = setup();
    expect(fs.existsSync(path.dirname(logFile))).toBe(false);
    const script = agent('ok.sh', 'echo working; echo to-stderr >&2; pwd > where; echo "done: $1"; echo; echo "   "');
    const started: { pid: number; pgid: number }[] = [];
    const r = await runAgent(opts([script, 'first arg'], { onStart: (info) => started.push(info) }));
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, aborted: false, startError: null, costCents: null, lastLine: 'done: first arg' });
    expect(r.pid).toBeGreaterThan(1);
    expect(r.pgid).toBe(r.pid);
    expect(started).toEqual([{ pid: r.pid, pgid: r.pid }]);
    expect(fs.readFileSync(path.join(dir, 'where'), 'utf8').trim()).toBe(dir);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    const text = log();
    expect(text).toContain('working\n');
    expect(text).toContain('to-stderr\n');
    expect(text).toContain('done: first arg\n');
    expect(text.startsWith(`==> agent: ${script} first arg\n`)).toBe(true);
    expect(text).toMatch(/==> agent ended: exit 0 after \d+\.\d s\n$/);
  });

  it('appends to an existing log', async () => {
    const { logFile, agent, opts, log } = setup();
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.writeFileSync(logFile, 'earlier run\n');
    await runAgent(opts([agent('ok.sh', 'echo again')]));
    expect(log().startsWith('earlier run\n==> agent: ')).toBe(true);
    expect(log()).toContain('again\n');
  });

  it('reports a non-zero exit in the result, without throwing', async () => {
    const { agent, opts, log } = setup();
    const r = await runAgent(opts([agent('fail.sh', 'echo "it broke" >&2; echo partial; exit 3')]));
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false, startError: null, lastLine: 'partial' });
    expect(log()).toContain('it broke\n');
    expect(log()).toMatch(/==> agent ended: exit 3 after/);
  });

  it('stops a hanging agent at the timeout: SIGTERM to its whole group (a child too), in about timeoutMs, not the 5 s grace', async () => {
    const { dir, agent, opts, log } = setup();
    const script = agent('hang.sh', 'sleep 300 & echo $! > child.pid; echo hanging; sleep 300');
    let pgid = 0;
    const r = await runAgent(opts([script], { timeoutMs: 700, graceMs: 5000, onStart: (i) => (pgid = i.pgid) }));
    const child = await pidFrom(path.join(dir, 'child.pid'));
    expect(r).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: 'SIGTERM', startError: null, lastLine: 'hanging' });
    expect(r.durationMs).toBeGreaterThanOrEqual(650);
    expect(r.durationMs).toBeLessThan(4500);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(pidLive(child)).toBe(false);
    expect(log()).toMatch(/==> agent timed out after 700 ms, stopped: killed by SIGTERM/);
  });

  it('kills an agent that ignores SIGTERM with SIGKILL after graceMs, its children too', async () => {
    const { dir, agent, opts } = setup();
    // `trap '' TERM` is inherited by what it starts: the background sleep ignores SIGTERM as well
    const script = agent('stubborn.sh', "trap '' TERM\nsleep 300 & echo $! > child.pid\necho ready\nwhile :; do sleep 1; done");
    let pgid = 0;
    const r = await runAgent(opts([script], { timeoutMs: 1000, graceMs: 1500, onStart: (i) => (pgid = i.pgid) }));
    const child = await pidFrom(path.join(dir, 'child.pid'));
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(r.durationMs).toBeGreaterThanOrEqual(2400);
    expect(r.durationMs).toBeLessThan(20_000);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(pidLive(child)).toBe(false);
  });

  it('kills what the agent left running in its group when it exits (a backgrounded server), without waiting for it', async () => {
    const { dir, agent, opts } = setup();
    const script = agent('bg.sh', 'sleep 300 & echo $! > server.pid; echo started');
    let pgid = 0;
    const r = await runAgent(opts([script], { onStart: (i) => (pgid = i.pgid) }));
    const server = await pidFrom(path.join(dir, 'server.pid'));
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, lastLine: 'started' });
    expect(pidLive(server)).toBe(false);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(r.durationMs).toBeLessThan(10_000);
  });

  it('does not wait for a process that left the group (setsid) and holds stdout open', async () => {
    const { dir, agent, opts } = setup();
    // the pid is written after setsid(): once it is there, the process is out of the group (no race with the kill)
    const script = agent('escape.sh', `setsid sh -c 'echo $$ > escaped.pid; exec sleep 120' &\nwhile [ ! -s escaped.pid ]; do sleep 0.05; done\necho bye`);
    const t0 = Date.now();
    const r = await runAgent(opts([script]));
    const escaped = await pidFrom(path.join(dir, 'escaped.pid'));
    expect(r).toMatchObject({ exitCode: 0, lastLine: 'bye' });
    expect(Date.now() - t0).toBeLessThan(30_000);
    // outside the group: not killed by the group kill (the caller's killMarked finds it by the env mark)
    expect(pidLive(escaped)).toBe(true);
    expect(fs.readFileSync(`/proc/${escaped}/environ`, 'latin1').split('\0')).toContain(`${OWNER_ENV}=${ownerMark()}`);
  });

  it('reports a program that cannot start (missing, not executable) as startError, without throwing', async () => {
    const { dir, opts, log } = setup();
    const missing = await runAgent(opts([path.join(dir, 'no-such-agent'), 'x']));
    expect(missing).toMatchObject({ exitCode: null, signal: null, timedOut: false, aborted: false, pid: null, pgid: null, costCents: null, lastLine: null });
    expect(missing.startError).toMatch(/ENOENT/);
    expect(log()).toContain('==> agent: could not start: ');
    const plain = path.join(dir, 'plain.sh');
    fs.writeFileSync(plain, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const noexec = await runAgent(opts([plain]));
    expect(noexec.startError).toMatch(/EACCES/);
    const onPath = await runAgent(opts(['omni-ship-no-such-agent-program'], { costFrom: 'cost', onStart: () => expect.unreachable() }));
    expect(onPath.startError).toMatch(/ENOENT/);
  });

  it('reads the cost from the JSON object on the last non-empty stdout line, only a number in the named field', async () => {
    const { agent, opts } = setup();
    // a default parameter would turn an explicit undefined into 'cost': arguments.length tells them apart
    const run = async (body: string, ...from: [(string | null | undefined)?]) => runAgent(opts([agent('cost.sh', body)], { costFrom: from.length ? from[0] : 'cost' }));
    const ok = await run(`echo '{"cost": 1}'; echo '{"type":"result","cost": 42, "result": "x"}'; echo; echo '  '`);
    expect(ok).toMatchObject({ costCents: 42, lastLine: '{"type":"result","cost": 42, "result": "x"}' });
    expect((await run(`printf '{"cost": 12.5}\\r\\n'`)).costCents).toBe(12.5);
    expect((await run(`printf '{"cost": 7}'`)).costCents).toBe(7); // no final newline
    expect((await run(`echo '{"cost": 42}'; echo 'all done'`)).costCents).toBeNull(); // the last line is not JSON
    expect((await run(`echo '{"cost": "42"}'`)).costCents).toBeNull();
    expect((await run(`echo '{"cost": null}'`)).costCents).toBeNull();
    expect((await run(`echo '{"cost": -1}'`)).costCents).toBeNull();
    expect((await run(`echo '[42]'`)).costCents).toBeNull();
    expect((await run(`echo '{"price": 42}'`)).costCents).toBeNull();
    expect((await run(`echo '{"cost": 42}'`, 'price')).costCents).toBeNull();
    expect((await run(`echo '{"cost": 42}'`, null)).costCents).toBeNull();
    expect((await run(`echo '{"cost": 42}'`, undefined)).costCents).toBeNull();
    // stdout's last line, not stderr's
    const mixed = await run(`echo '{"cost": 3}'; echo '{"cost": 99}' >&2`);
    expect(mixed).toMatchObject({ costCents: 3, lastLine: '{"cost": 3}' });
    // a failing agent's cost still counts
    expect((await run(`echo '{"cost": 5}'; exit 4`)).costCents).toBe(5);
  });

  it('keeps at most 2,000 characters of the last line, and reads the cost of a long one', async () => {
    const { agent, opts } = setup();
    const long = await runAgent(opts([agent('long.sh', `head -c 5000 /dev/zero | tr '\\0' x; echo`)]));
    expect(long.lastLine).toBe('x'.repeat(2000));
    const padded = await runAgent(opts([agent('padded.sh', `printf '{"result":"%s","cost":9}\\n' "$(head -c 100000 /dev/zero | tr '\\0' y)"`)], { costFrom: 'cost' }));
    expect(padded.costCents).toBe(9);
    expect(padded.lastLine).toHaveLength(2000);
  });

  it('stops the agent on abort: SIGTERM to the group, aborted true, nothing of it left', async () => {
    const { dir, agent, opts, log } = setup();
    const script = agent('long-run.sh', 'sleep 300 & echo $! > child.pid; echo ready; sleep 300');
    const ac = new AbortController();
    let pgid = 0;
    const running = runAgent(opts([script], { signal: ac.signal, timeoutMs: 120_000, graceMs: 5000, onStart: (i) => (pgid = i.pgid) }));
    const child = await pidFrom(path.join(dir, 'child.pid'));
    expect(await waitFor(() => fs.existsSync(path.join(dir, 'logs', 'deep', 'agent.log')) && log().includes('ready\n'), 30_000)).toBe(true);
    expect(liveGroupMembers(pgid).length).toBeGreaterThan(0);
    const t0 = Date.now();
    ac.abort();
    const r = await running;
    expect(r).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM', exitCode: null, lastLine: 'ready' });
    expect(Date.now() - t0).toBeLessThan(4500);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(pidLive(child)).toBe(false);
    expect(log()).toMatch(/==> agent cancelled, stopped: killed by SIGTERM/);
  });

  it('does not start the agent when the signal is already aborted', async () => {
    const { dir, agent, opts } = setup();
    const r = await runAgent(opts([agent('never.sh', 'touch ran')], { signal: AbortSignal.abort(), onStart: () => expect.unreachable() }));
    expect(r).toMatchObject({ aborted: true, pid: null, exitCode: null, startError: null });
    expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it('passes each argument as one argv element, never through a shell: `; rm -rf /` and `$(touch x)` run nothing', async () => {
    const { dir, opts } = setup();
    const recorder = path.join(dir, 'record.mjs');
    fs.writeFileSync(recorder, "import fs from 'node:fs';\nfs.writeFileSync('argv.json', JSON.stringify(process.argv.slice(2)));\n");
    const hostile = ['; rm -rf /', '$(touch x)', '`touch y`', '&& touch z', '--prompt={promptFile}', '{taskId}', "' \" \\ | > w"];
    const argv = agentArgv([process.execPath, recorder, ...hostile], { promptFile: '$(touch p)', taskId: 't-1; touch q', workspace: dir });
    const r = await runAgent(opts(argv));
    expect(r).toMatchObject({ exitCode: 0, startError: null });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'argv.json'), 'utf8'))).toEqual(['; rm -rf /', '$(touch x)', '`touch y`', '&& touch z', '--prompt=$(touch p)', 't-1; touch q', "' \" \\ | > w"]);
    for (const f of ['x', 'y', 'z', 'p', 'q', 'w']) expect(fs.existsSync(path.join(dir, f)), f).toBe(false);
  });

  it("keeps this process's git location and OMNI_SHIP_* variables from the agent, passes env, marks it as ours, and ignores stdin", async () => {
    const { dir, agent, opts } = setup();
    const saved = { GIT_DIR: process.env.GIT_DIR, GIT_WORK_TREE: process.env.GIT_WORK_TREE, OMNI_SHIP_TASK: process.env.OMNI_SHIP_TASK, OMNI_SHIP_VERIFY_COMMIT: process.env.OMNI_SHIP_VERIFY_COMMIT, GIT_CONFIG_PARAMETERS: process.env.GIT_CONFIG_PARAMETERS };
    process.env.GIT_DIR = path.join(dir, 'not-this.git');
    process.env.GIT_WORK_TREE = dir;
    process.env.OMNI_SHIP_TASK = 't-leaked';
    process.env.OMNI_SHIP_VERIFY_COMMIT = 'leaked-commit';
    process.env.GIT_CONFIG_PARAMETERS = "'core.quotepath'='false'";
    try {
      const script = agent('env.sh', 'env > env.txt; if read line; then echo "stdin: $line"; else echo "stdin: none"; fi');
      const r = await runAgent(opts([script], { env: { OMNI_SHIP_TASK: 't-7', AGENT_EXTRA: 'yes' } }));
      expect(r).toMatchObject({ exitCode: 0, lastLine: 'stdin: none' });
      const env = fs.readFileSync(path.join(dir, 'env.txt'), 'utf8').split('\n');
      expect(env.filter((l) => l.startsWith('GIT_DIR=') || l.startsWith('GIT_WORK_TREE='))).toEqual([]);
      expect(env.filter((l) => l.startsWith('OMNI_SHIP_')).sort()).toEqual(['OMNI_SHIP_TASK=t-7', `${OWNER_ENV}=${ownerMark()}`].sort());
      expect(env).toContain('AGENT_EXTRA=yes');
      expect(env).toContain(`${OWNER_ENV}=${ownerMark()}`);
      expect(env).toContain("GIT_CONFIG_PARAMETERS='core.quotepath'='false'"); // config, not location: kept
      expect(env.find((l) => l.startsWith('PATH='))).toBe(`PATH=${process.env.PATH}`);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('throws when the log cannot be written, starting nothing', async () => {
    const { dir, agent, opts } = setup();
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const script = agent('never.sh', 'touch ran');
    await expect(runAgent(opts([script], { logFile: path.join(dir, 'a-file', 'agent.log') }))).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it('rethrows what onStart throws, after killing the agent', async () => {
    const { dir, agent, opts } = setup();
    const script = agent('slow.sh', 'sleep 300');
    let pgid = 0;
    await expect(
      runAgent(
        opts([script], {
          onStart: (i) => {
            pgid = i.pgid;
            throw new Error('could not record the agent');
          },
        }),
      ),
    ).rejects.toThrow('could not record the agent');
    expect(pgid).toBeGreaterThan(1);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(true);
  });
});
