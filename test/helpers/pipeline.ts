import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { followLines, pidLive } from './children.js';
import { binPath, makeRemote, projectRoot, testEnv, wrapRepo, type RunResult, type TestRepo } from './repo.js';

/** Whether a process is alive (and not a zombie). */
export const alive = pidLive;

/** The fake agent (scripts/fake-agent.mjs) as an agent.command argv. */
export const FAKE_AGENT = ['node', path.join(projectRoot, 'scripts', 'fake-agent.mjs'), '{promptFile}', '{taskId}', '{workspace}'];

/** The committed config of a pipeline repository: verify fails while a file `broken` exists; the fake agent. */
export function pipelineConfig(extra: string[] = []): string {
  return [
    'verify:',
    '  steps:',
    '    - name: test',
    '      run: test ! -e broken',
    'agent:',
    `  command: ${JSON.stringify(FAKE_AGENT)}`,
    '  costFrom: cost_cents',
    ...extra,
    '',
  ].join('\n');
}

/** A bare remote and clones of it whose main carries the pipeline config (committed and pushed once). */
export function pipelineRemote(extra: string[] = []): { bare: TestRepo; clone(name?: string): TestRepo } {
  const remote = makeRemote();
  const seed = remote.clone('seed');
  seed.write('.omni-shiprc.yaml', pipelineConfig(extra));
  seed.git(['add', '.omni-shiprc.yaml']);
  seed.git(['commit', '-q', '-m', 'the pipeline config']);
  seed.git(['push', '-q', 'origin', 'main']);
  return { bare: wrapRepo(remote.bare), clone: (name?: string) => remote.clone(name) };
}

/** Adds a task record (checked to succeed). */
export function addTask(repo: TestRepo, id: string, opts: { title?: string; description?: string; dependsOn?: string[]; priority?: number } = {}): void {
  const args = ['task', 'add', id, '--title', opts.title ?? `work on ${id}`];
  if (opts.description !== undefined) args.push('--description', opts.description);
  if (opts.dependsOn?.length) args.push('--depends-on', ...opts.dependsOn);
  if (opts.priority !== undefined) args.push('--priority', String(opts.priority));
  const r = repo.omni(args);
  expect(r.code, r.stderr).toBe(0);
}

/** The events of `run --json` output (one object a line). */
export function runEvents(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** `omni-ship run --json <args>` to its end (synchronously). */
export function runSync(repo: TestRepo, args: string[], env?: NodeJS.ProcessEnv): RunResult & { events: Record<string, any>[] } {
  const r = repo.omni(['run', '--json', ...args], env ? { env: testEnv(env) } : {});
  let events: Record<string, any>[] = [];
  try {
    events = runEvents(r.stdout);
  } catch {
    throw new Error(`run printed something that is not JSON lines (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, events };
}

/** A `run --json` in the background: its events as they come. */
export interface RunChild {
  proc: ChildProcess;
  events: Record<string, any>[];
  stderr(): string;
  waitForEvent(match: (e: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** its exit code (128 + signal when killed) */
  exited: Promise<number>;
}

const children: ChildProcess[] = [];

export function startRun(repo: TestRepo, args: string[], env: NodeJS.ProcessEnv = {}, opts: { ownGroup?: boolean } = {}): RunChild {
  // ownGroup: the run leads a process group of its own, as a service manager or a shell's job control starts it
  const proc = spawn(process.execPath, [binPath, 'run', '--json', ...args], { cwd: repo.dir, env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: !!opts.ownGroup });
  children.push(proc);
  const follow = followLines(proc, (line) => (line.trim() ? (JSON.parse(line) as Record<string, any>) : null));
  const exited = new Promise<number>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2))));
  return { proc, events: follow.items, stderr: follow.stderr, exited, waitForEvent: (match, timeoutMs = 120_000) => follow.waitFor(match, timeoutMs) };
}

/** SIGKILLs every run started by startRun that still runs. */
export function killRuns(): void {
  while (children.length) {
    const p = children.pop()!;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

/** The claims the remote holds, by task. */
export function remoteClaims(bare: TestRepo): string[] {
  return bare
    .git(['for-each-ref', '--format=%(refname)', 'refs/omni-ship/claims/'])
    .split('\n')
    .filter(Boolean)
    .map((r) => r.slice('refs/omni-ship/claims/'.length));
}

/** The subjects on the remote's main, oldest first. */
export function landedSubjects(bare: TestRepo): string[] {
  return bare.git(['log', '--reverse', '--format=%s', 'main']).split('\n').filter(Boolean);
}
