import fs from 'node:fs';
import path from 'node:path';
import { GIT_LOCAL_ENV_VARS } from '../git/exec.js';
import { processStartTime, statFields } from '../hooks/process.js';
import { loadExeca } from './load-execa.js';

/** One configured check: a shell string or an argv, with an optional timeout (seconds) and environment. */
export interface Step {
  name: string;
  run: string | readonly string[];
  timeout?: number;
  env?: Record<string, string>;
}

/** How one step ended; `started` is false when it could not be spawned at all. */
export interface StepOutcome {
  name: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  started: boolean;
  durationMs: number;
}

/** The verdict of a run: indeterminate means the checks could not say yes or no (could not start, killed, cancelled). */
export type StepsVerdict = 'pass' | 'fail' | 'skip' | 'indeterminate';

/** A run's verdict, the step that decided it (null on pass) and every step's outcome. */
export interface StepsResult {
  result: StepsVerdict;
  step: string | null;
  exitCode: number | null;
  reason: string | null;
  durationMs: number;
  steps: StepOutcome[];
}

/** Where and how runSteps runs the steps. */
export interface RunStepsOptions {
  cwd: string;
  logFile: string;
  skipExitCode: number;
  defaultTimeoutSec: number;
  env?: Record<string, string>;
  signal?: AbortSignal;
  killGraceMs?: number;
  onStepStart?(index: number, step: Step): void;
  onStepEnd?(index: number, outcome: StepOutcome): void;
  onGroup?(pgid: number | null): void;
}

/**
 * Variables that point git at a repository, index or object store. A step inherits them from a hook or a
 * script that ran omni-ship, and would then act on the user's repository instead of the pool's worktree:
 * they are not passed on (opts.env or step.env may still set them). Config variables are kept.
 */
export const GIT_LOCATION_ENV_VARS: readonly string[] = GIT_LOCAL_ENV_VARS.filter(
  (v) => !['GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_NO_REPLACE_OBJECTS', 'GIT_REPLACE_REF_BASE'].includes(v),
);

/** Runs the steps in order in `cwd`, each in its own process group, into one log file; the first non-zero decides. */
export async function runSteps(steps: readonly Step[], opts: RunStepsOptions): Promise<StepsResult> {
  if (steps.length === 0) throw new Error('runSteps needs at least one step');
  const t0 = Date.now();
  const outcomes: StepOutcome[] = [];
  const done = (result: StepsVerdict, step: string | null, exitCode: number | null, reason: string | null): StepsResult => ({
    result,
    step,
    exitCode,
    reason,
    durationMs: Date.now() - t0,
    steps: outcomes,
  });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  // the child writes straight into the file: output is complete even if omni-ship dies, and none sits in memory
  const fd = fs.openSync(opts.logFile, 'a');
  try {
    for (const [i, step] of steps.entries()) {
      if (opts.signal?.aborted) return done('indeterminate', null, null, 'cancelled');
      fs.writeSync(fd, `==> ${step.name}: ${typeof step.run === 'string' ? step.run : step.run.join(' ')}\n`);
      opts.onStepStart?.(i, step);
      const { outcome, cancelled, spawnError } = await runStep(step, fd, opts);
      outcomes.push(outcome);
      opts.onStepEnd?.(i, outcome);
      const code = outcome.exitCode;
      if (cancelled) return done('indeterminate', step.name, code, 'cancelled');
      if (spawnError) return done('indeterminate', step.name, null, `could not start step ${step.name}: ${spawnError}`);
      if (outcome.timedOut) return done('indeterminate', step.name, code, `step ${step.name} timed out after ${step.timeout ?? opts.defaultTimeoutSec} s`);
      if (outcome.signal) return done('indeterminate', step.name, null, `step ${step.name} was killed by ${outcome.signal}`);
      if (code === 0) continue;
      if (code === opts.skipExitCode) return done('skip', step.name, code, `step ${step.name} exited ${code}, the skip code`);
      if (code === 126 || code === 127) {
        const why = code === 127 ? 'command not found' : 'not executable';
        return done('indeterminate', step.name, code, `could not start step ${step.name}: exit ${code} (${why})`);
      }
      return done('fail', step.name, code, `step ${step.name} exited ${code}`);
    }
    return done('pass', null, 0, null);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs one step in its own process group; whatever the outcome, nothing of its group outlives it. */
async function runStep(step: Step, fd: number, opts: RunStepsOptions): Promise<{ outcome: StepOutcome; cancelled: boolean; spawnError: string | null }> {
  const { execa } = await loadExeca(); // ~90 ms to load: only when a step really runs, never on a cache hit
  const [file, ...args] = typeof step.run === 'string' ? ['/bin/sh', '-c', step.run] : step.run;
  const env: Record<string, string | undefined> = { ...process.env };
  for (const v of GIT_LOCATION_ENV_VARS) delete env[v];
  Object.assign(env, opts.env, step.env);
  const t0 = Date.now();
  let timedOut = false;
  let cancelled = false;
  const timers: NodeJS.Timeout[] = [];
  const child = execa(file ?? '', args, {
    cwd: opts.cwd,
    env,
    extendEnv: false,
    // execa's types take only the literals 3..9 as a file descriptor in an array; any fd works at runtime
    stdio: ['ignore', fd as 3, fd as 3],
    detached: true, // its own process group, so a timeout or cancel reaches everything it started
    reject: false,
    cleanup: false,
  });
  const pid = child.pid;
  const groupStart = pid === undefined ? null : processStartTime(pid);
  const stop = () => {
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    timers.push(setTimeout(() => signalGroup(pid, 'SIGKILL'), opts.killGraceMs ?? 3000));
  };
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (pid !== undefined) {
    opts.onGroup?.(pid);
    const seconds = step.timeout ?? opts.defaultTimeoutSec;
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, seconds * 1000),
    );
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  }
  const r = await child;
  for (const t of timers) clearTimeout(t);
  opts.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) {
    // `sh -c "server & npm test"`: the leader is gone, what it started must not keep running
    killGroup(pid, { since: groupStart });
    opts.onGroup?.(null);
  }
  const spawnError = pid === undefined || (r.failed && r.exitCode === undefined && r.signal === undefined && r.code) ? (r.code ?? 'spawn failed') : null;
  return {
    outcome: {
      name: step.name,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      timedOut,
      started: spawnError === null,
      durationMs: Date.now() - t0,
    },
    cancelled,
    spawnError,
  };
}

/** Signals a whole process group whose leader we know is ours (it has not been reaped yet). */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Signals every process of group `pgid` that started at or after `since` (a /proc start time), so a pgid reused by
 * an unrelated group later is not hit. Returns how many processes it signalled. Without /proc, signals the group.
 */
export function killGroup(pgid: number, opts: { since?: string | null; signal?: NodeJS.Signals } = {}): number {
  const signal = opts.signal ?? 'SIGKILL';
  if (!Number.isInteger(pgid) || pgid <= 1) return 0;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, signal);
      return 1;
    } catch {
      return 0;
    }
  }
  const since = opts.since != null ? BigInt(opts.since) : null;
  const hit = new Set<number>();
  // a member may fork between the scan and its kill: scan again until a round finds nothing new
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const e of round === 0 ? entries : safeReaddir('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      const pid = Number(e);
      if (hit.has(pid) && signal === 'SIGKILL') continue;
      const f = statFields(pid);
      if (!f || Number(f[2]) !== pgid || f[0] === 'Z' || f[0] === 'X') continue;
      if (since !== null && BigInt(f[19] ?? '0') < since) continue;
      try {
        process.kill(pid, signal);
        hit.add(pid);
        found++;
      } catch {
        /* ESRCH: exited meanwhile; EPERM: not ours to kill */
      }
    }
    if (found === 0 || signal !== 'SIGKILL') break;
  }
  // a SIGKILL is delivered, not done: a member may still run for some milliseconds on a loaded machine (found by a
  // test that looked at once). Wait until every one hit is gone or a zombie, so "killed" means gone for the caller
  // (a pool worktree reused next, a log read): a bounded wait, a process in uninterruptible sleep may take longer
  if (signal === 'SIGKILL' && hit.size > 0) {
    const until = Date.now() + KILL_SETTLE_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while ([...hit].some((pid) => running(pid)) && Date.now() < until) Atomics.wait(pause, 0, 0, 5);
  }
  return hit.size;
}

/** How long killGroup waits for the processes it SIGKILLed to be gone. */
const KILL_SETTLE_MS = 2000;

/** Whether `pid` still runs (not gone, not a zombie). */
function running(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}


/** The last `lines` lines of a log, reading at most `maxBytes` from its end (a log may be gigabytes). */
export function tailLines(file: string, lines: number, maxBytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    // one byte before the window too: it tells whether the window's first line is whole
    const start = Math.max(0, size - maxBytes - 1);
    const buf = Buffer.alloc(size - start);
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    let text = buf.subarray(0, n).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // up to the first newline is a cut line
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return lines <= 0 ? '' : all.slice(-lines).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** The variable every step's processes inherit, naming the omni-ship process that ran them: `<pid>-<start time>`. */
export const OWNER_ENV = 'OMNI_SHIP_VERIFY_OWNER';

/** This process as OWNER_ENV names it. */
export function ownerMark(pid = process.pid, start: string | null = processStartTime(pid)): string {
  return `${pid}-${start ?? '?'}`;
}

/**
 * Kills (SIGKILL) every process of this user whose environment carries `OMNI_SHIP_VERIFY_OWNER=<mark>`: what the
 * steps of a dead run left, even when it died before it could record their process group (a kill -9 between a
 * step's start and that record). A process that cleared its environment escapes this; the group kill catches it.
 */
export function killMarked(mark: string): number {
  const needle = Buffer.from(`\0${OWNER_ENV}=${mark}\0`);
  const first = Buffer.from(`${OWNER_ENV}=${mark}\0`);
  let killed = 0;
  for (const e of safeReaddir('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let env: Buffer;
    try {
      env = fs.readFileSync(`/proc/${e}/environ`);
    } catch {
      continue; // gone, or another user's
    }
    if (!(env.includes(needle) || env.subarray(0, first.length).equals(first))) continue;
    try {
      process.kill(Number(e), 'SIGKILL');
      killed++;
    } catch {
      /* gone meanwhile */
    }
  }
  return killed;
}
