import type { BaseOptions } from '../cli.js';
import { ExitCode, badInput } from '../errors.js';
import type { CommandOutput } from '../output.js';
import { colorEnabled, style } from '../output.js';
import { writeOut } from '../report.js';
import type { RunEvent, RunSummary } from '../pipeline/run.js';

/** What stops a run gracefully: Ctrl-C, a service manager's stop, the terminal going away. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** `run`'s options as the command line gives them (strings: checked here). */
export interface RunCommandOptions extends BaseOptions {
  concurrency?: string;
  interval?: string;
  once: boolean;
  untilIdle: boolean;
  dryRun: boolean;
  taskId?: string;
  parent?: string;
  maxRetries?: string;
  maxIter?: string;
  timeout?: string;
  maxCost?: string;
  agent?: string;
}

function whole(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > 1e9) throw badInput(`--${name} ${JSON.stringify(value)} is not a whole number${min > 0 ? ` from ${min}` : ''}`, `e.g. --${name} ${Math.max(fallback, min)}`);
  return Number(value);
}

function seconds(name: string, value: string | undefined, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || n > 1e7) throw badInput(`--${name} ${JSON.stringify(value)} is not a number of seconds${allowZero ? '' : ' above 0'}`, `e.g. --${name} ${fallback}`);
  return Math.round(n * 1000);
}

/** One event as a line of text: the time, the task, what happened. */
function textLine(e: RunEvent, color: boolean): string {
  const time = e.at.slice(11, 19);
  const task = e.task ? `${e.task} ` : '';
  const c = (name: 'green' | 'red' | 'yellow' | 'dim', t: string) => style(name, t, color);
  switch (e.event) {
    case 'run-started':
      return `${time} run started (pid ${e.pid}): agent ${e.agent} (from ${e.agentFrom} config), base ${e.base} at ${e.remote}, ${e.concurrency} at once${e.dryRun ? ', dry run' : ''}`;
    case 'recovered':
      return `${time} ${c('yellow', 'recovered')} after run ${e.pid}, which died: ${e.killed} leftover process(es) killed${(e.tasks as string[]).length ? `; it worked on ${(e.tasks as string[]).join(', ')}` : ''}`;
    case 'orphaned-worktree':
      return `${time} ${task}${c('yellow', 'orphaned worktree')} ${e.path}: ${e.why}${e.dirty ? ' (it has uncommitted changes)' : ''}; ${e.hint}`;
    case 'claimed':
      return `${time} ${task}claimed${e.tookOverFrom ? ` (taken over from ${e.tookOverFrom}, whose claim expired)` : ''}`;
    case 'started':
      return `${time} ${task}${e.role} agent started${e.role === 'dev' ? ` (attempt ${e.attempt})` : ''}${e.feedback ? `: revising: ${String(e.feedback).split('\n')[0]}` : ''}`;
    case 'committed':
      return `${time} ${task}committed ${String(e.commit).slice(0, 12)} (patchset ${e.patchset})${e.costCents !== null && e.costCents !== undefined ? `, cost ${e.costCents}¢` : ''}`;
    case 'verified':
      return `${time} ${task}verify ${e.result === 'pass' ? c('green', 'passed') : e.result === 'fail' ? c('red', 'failed') : String(e.result)}${e.cached ? ' (cached)' : ''}: ${e.summary}`;
    case 'reviewed':
      return `${time} ${task}review: ${e.verdict ?? 'no verdict'}${e.by ? ` by ${e.by}` : ''}`;
    case 'landed':
      return `${time} ${task}${c('green', 'landed')} on ${e.base} as ${String(e.landed ?? '').slice(0, 12)}`;
    case 'failed':
      return `${time} ${task}${c('red', `${e.step} failed`)}: ${e.error}`;
    case 'needs-help':
      return `${time} ${task}${c('red', 'needs help')}: ${e.why}; ${e.hint}`;
    case 'released':
      return `${time} ${task}claim released${e.why ? `: ${e.why}` : ''}`;
    case 'would-work':
      return `${time} ${task}would be claimed and worked on`;
    case 'waiting':
      return `${time} ${task}backing off until ${String(e.until).slice(11, 19)} (${e.failures} failure(s))`;
    case 'unreachable':
      return `${time} ${task}${c('yellow', `cannot reach ${e.remote}`)}: ${e.error}${e.hint ? ` (${e.hint})` : ''}`;
    case 'stopping':
      return `${time} stopping: no more claims; waiting for ${(e.running as string[]).length ? (e.running as string[]).join(', ') : 'nothing'}`;
    case 'idle':
      return `${time} idle: no task is ready, running or backing off`;
    case 'stopped': {
      const s = e as unknown as RunSummary;
      return `${time} run stopped (${s.stopped}) after ${s.cycles} pass(es): ${s.landed.length} landed${s.landed.length ? ` (${s.landed.join(', ')})` : ''}, ${s.failedAttempts} failed attempt(s)${s.needsHelp.length ? `, needs help: ${s.needsHelp.join(', ')}` : ''}${s.costCents ? `, cost ${s.costCents}¢` : ''}`;
    }
  }
}

/**
 * `omni-ship run`: the pipeline loop (src/pipeline/run.ts), its events printed as they happen: a line of text each,
 * or with --json one JSON object per line. Ctrl-C (or SIGTERM) stops claiming, stops the agents gracefully and
 * releases the claims; a second one exits at once (the claims then expire, and the next run recovers).
 */
export async function runCommand(opts: RunCommandOptions): Promise<CommandOutput<RunSummary | null>> {
  const concurrency = whole('concurrency', opts.concurrency, 2, 1);
  const intervalMs = seconds('interval', opts.interval, 20, false);
  const maxRetries = whole('max-retries', opts.maxRetries, 5, 0);
  const maxIter = whole('max-iter', opts.maxIter, 80, 0);
  const timeoutMs = seconds('timeout', opts.timeout, 1800, true);
  const maxCostCents = whole('max-cost', opts.maxCost, 0, 0);
  if (opts.once && opts.untilIdle) throw badInput('give --once or --until-idle, not both');
  const { runPipeline } = await import('../pipeline/run.js');
  const color = !opts.json && colorEnabled();
  const controller = new AbortController();
  let signals = 0;
  const stop = () => {
    signals++;
    if (signals > 1) {
      writeOut(2, 'omni-ship: stopped at once; claims expire by themselves, and the next run recovers\n');
      process.exit(ExitCode.interrupted);
    }
    controller.abort(new Error('interrupted'));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  try {
    const summary = await runPipeline({
      cwd: opts.cwd,
      concurrency,
      intervalMs,
      once: opts.once,
      untilIdle: opts.untilIdle,
      dryRun: opts.dryRun,
      taskId: opts.taskId,
      parent: opts.parent,
      maxRetries,
      maxIter,
      timeoutMs,
      maxCostCents,
      agentName: opts.agent,
      signal: controller.signal,
      emit: (e) => writeOut(1, opts.json ? `${JSON.stringify(e)}\n` : `${textLine(e, color)}\n`),
    });
    // every event, the summary last, is printed already
    return { data: summary, text: '', jsonText: '', exitCode: summary.stopped === 'interrupted' ? ExitCode.interrupted : ExitCode.ok };
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}
