import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ExitCode, UserError } from '../errors.js';
import { processStartTime } from '../hooks/process.js';
import { loadExeca } from '../verify/load-execa.js';
import { GIT_LOCATION_ENV_VARS, OWNER_ENV, killGroup, ownerMark } from '../verify/steps.js';

/** The placeholders an agent's argv may hold, each replaced inside any argument (never through a shell). */
export interface AgentVars {
  promptFile: string;
  taskId: string;
  workspace: string;
}

const PLACEHOLDER = /\{(promptFile|taskId|workspace)\}/g;

/** `argv` with every `{promptFile}`, `{taskId}` and `{workspace}` replaced in each argument; an unknown `{name}` is left as it is. Throws a UserError (exit 2, from src/errors.ts) for an empty argv or an empty program. */
export function agentArgv(argv: readonly string[], vars: AgentVars): string[] {
  if (argv.length === 0) throw new UserError('the agent command is empty', ExitCode.usage, 'set agent.command in the config to an argv array, e.g. ["claude", "-p", "{promptFile}"]');
  // one pass with a replacer function: a value holding `{taskId}` or `$&` is inserted as it is, never expanded again
  const out = argv.map((arg) => arg.replace(PLACEHOLDER, (_, name: keyof AgentVars) => vars[name]));
  if (out[0] === '' || out[0] === undefined) {
    throw new UserError(`the agent's program is empty (${JSON.stringify(argv[0])})`, ExitCode.usage, 'the first element of agent.command must name the program to run');
  }
  return out;
}

/** How and where runAgent runs one agent. */
export interface AgentRunOptions {
  /** already substituted (agentArgv) */
  argv: readonly string[];
  /** the task's worktree */
  cwd: string;
  /** added to process.env, from which this process's OMNI_SHIP_* and git location variables are removed first */
  env?: Record<string, string>;
  /** 0 = none; on timeout: SIGTERM to the whole process group, then SIGKILL after graceMs */
  timeoutMs: number;
  /** between SIGTERM and SIGKILL on a timeout or abort; 5 s by default */
  graceMs?: number;
  /** stdout and stderr both appended here, as they come (its folder is created) */
  logFile: string;
  /** a field name: the cost (cents) is that number in a JSON object on the last non-empty line of stdout */
  costFrom?: string | null;
  /** Ctrl-C of `run`: stop the agent gracefully and resolve with aborted: true */
  signal?: AbortSignal;
  /** called once the process exists, so the caller can record it and kill a crashed run's agent later */
  onStart?: (info: { pid: number; pgid: number }) => void;
}

/** How one agent run ended. Only one of timedOut and aborted is true: whichever stopped it first. */
export interface AgentResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** could not start (ENOENT, EACCES): the message */
  startError: string | null;
  durationMs: number;
  costCents: number | null;
  /** the last non-empty line of stdout, at most 2,000 characters */
  lastLine: string | null;
  pid: number | null;
  pgid: number | null;
}

const DEFAULT_GRACE_MS = 5000;
/** The longest delay setTimeout honours; a longer one fires at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * After the agent exited and its group was killed, how long stdout may take to reach its end. Past that, a process
 * that left the group (setsid) still holds the pipe, and waiting for it would block the run for as long as it lives.
 */
const STDOUT_DRAIN_MS = 2000;
/** The longest stdout line kept whole for the cost; a longer last line has no readable cost. */
const MAX_LINE_CHARS = 1024 * 1024;
const LAST_LINE_CHARS = 2000;

/**
 * Runs one agent in `cwd` in its own process group (no shell, stdin ignored), its output appended to the log.
 * Nothing of its group outlives the call. The agent's own failure (exit code, signal, timeout, abort, could not
 * start) is in the result; it throws only when the log cannot be written (or when onStart throws).
 */
export async function runAgent(opts: AgentRunOptions): Promise<AgentResult> {
  const [file, ...args] = opts.argv;
  if (!file) throw new Error('runAgent needs an argv with a program (use agentArgv)');
  const graceMs = Math.min(opts.graceMs ?? DEFAULT_GRACE_MS, MAX_TIMER_MS);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, 'a');
  try {
    fs.writeSync(fd, `==> agent: ${opts.argv.join(' ')}\n`);
    const notStarted = (startError: string | null, aborted: boolean): AgentResult => ({
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted,
      startError,
      durationMs: 0,
      costCents: null,
      lastLine: null,
      pid: null,
      pgid: null,
    });
    if (opts.signal?.aborted) {
      fs.writeSync(fd, '==> agent: cancelled before it started\n');
      return notStarted(null, true);
    }
    const { execa } = await loadExeca();
    const t0 = Date.now();
    const child = execa(file, args, {
      cwd: opts.cwd,
      env: agentEnv(opts.env),
      extendEnv: false,
      // stdout through this process, for its last line; stderr straight into the log. execa's types take only
      // the literals 3..9 as a file descriptor in an array; any fd works at runtime
      stdio: ['ignore', 'pipe', fd as 3],
      buffer: false,
      detached: true, // its own process group, so a stop reaches everything it started
      reject: false,
      cleanup: false, // the caller records the pid (onStart) and decides about a crashed run's agent
    });
    const pid = child.pid;
    if (pid === undefined) {
      const r = await child;
      const why = r.cause instanceof Error ? r.cause.message : r.shortMessage || 'could not start';
      fs.writeSync(fd, `==> agent: could not start: ${why}\n`);
      return notStarted(why, false);
    }
    const groupStart = processStartTime(pid);
    const tail = new LastLine();
    let logError: unknown = null;
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let exitedAt: number | null = null;
    let endsLine = true; // whether stdout so far ends with a newline, so the closing line starts on its own
    const timers: NodeJS.Timeout[] = [];
    const stop = () => {
      if (stopping || exitedAt !== null) return;
      stopping = true;
      killGroup(pid, { since: groupStart, signal: 'SIGTERM' });
      timers.push(setTimeout(() => killGroup(pid, { since: groupStart }), graceMs));
    };
    const onAbort = () => {
      if (!stopping && exitedAt === null) aborted = true;
      stop();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (chunk.length > 0) endsLine = chunk[chunk.length - 1] === 0x0a;
      if (logError) return;
      try {
        fs.writeSync(fd, chunk);
      } catch (e) {
        // the log is the run's record: without it the run is of no use, so the agent is stopped and this throws
        logError = e;
        stop();
      }
    });
    child.once('exit', () => {
      exitedAt = Date.now();
      for (const t of timers) clearTimeout(t);
      // `server & exit 0`: the leader is gone, what it started must not keep running
      killGroup(pid, { since: groupStart });
      timers.push(setTimeout(() => child.stdout.destroy(), STDOUT_DRAIN_MS));
    });
    if (opts.timeoutMs > 0) {
      timers.push(
        setTimeout(
          () => {
            if (!stopping && exitedAt === null) timedOut = true;
            stop();
          },
          Math.min(opts.timeoutMs, MAX_TIMER_MS),
        ),
      );
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let startFailure: { error: unknown } | null = null;
    try {
      opts.onStart?.({ pid, pgid: pid });
    } catch (e) {
      startFailure = { error: e };
      killGroup(pid, { since: groupStart });
    }
    const r = await child;
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
    if (startFailure) throw startFailure.error;
    if (logError) throw logError;
    tail.end();
    const durationMs = (exitedAt ?? Date.now()) - t0;
    const exitCode = r.exitCode ?? null;
    const signal = r.signal ?? null;
    const how = timedOut ? `timed out after ${opts.timeoutMs} ms, stopped` : aborted ? 'cancelled, stopped' : 'ended';
    fs.writeSync(fd, `${endsLine ? '' : '\n'}==> agent ${how}: ${signal ? `killed by ${signal}` : `exit ${exitCode}`} after ${(durationMs / 1000).toFixed(1)} s\n`);
    return {
      exitCode,
      signal,
      timedOut,
      aborted,
      startError: null,
      durationMs,
      costCents: opts.costFrom ? tail.cost(opts.costFrom) : null,
      lastLine: tail.last === null ? null : tail.last.slice(0, LAST_LINE_CHARS),
      pid,
      pgid: pid,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** The agent's environment: this process's, without its OMNI_SHIP_* and git location variables, marked as ours, plus `extra`. */
function agentEnv(extra: Record<string, string> | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  // a `run` started from a hook or a verify step carries that context; the agent's own omni-ship calls must not
  for (const k of Object.keys(env)) if (k.startsWith('OMNI_SHIP_')) delete env[k];
  for (const v of GIT_LOCATION_ENV_VARS) delete env[v];
  // what the agent leaves behind outside its group (setsid) can still be found: killMarked(ownerMark(run's pid))
  env[OWNER_ENV] = ownerMark();
  return Object.assign(env, extra);
}

/** Follows a stream's text and keeps its last non-empty line (whole up to MAX_LINE_CHARS). */
class LastLine {
  private readonly decoder = new StringDecoder('utf8');
  private current = '';
  private currentCut = false;
  last: string | null = null;
  private lastCut = false;

  push(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  end(): void {
    this.take(this.decoder.end());
    this.finish();
  }

  /** The number in field `field` of the JSON object on the last line, or null. */
  cost(field: string): number | null {
    if (this.last === null || this.lastCut) return null;
    let value: unknown;
    try {
      value = JSON.parse(this.last);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, field)) return null;
    const cost = (value as Record<string, unknown>)[field];
    return typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : null;
  }

  private take(text: string): void {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      this.append(text.slice(from, nl));
      this.finish();
      from = nl + 1;
    }
    this.append(text.slice(from));
  }

  private append(text: string): void {
    if (this.currentCut || text === '') return;
    const room = MAX_LINE_CHARS - this.current.length;
    if (text.length > room) this.currentCut = true;
    this.current += text.slice(0, room);
  }

  private finish(): void {
    const line = this.current.endsWith('\r') ? this.current.slice(0, -1) : this.current;
    if (line.trim() !== '') {
      this.last = line;
      this.lastCut = this.currentCut;
    }
    this.current = '';
    this.currentCut = false;
  }
}
