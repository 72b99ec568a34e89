import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { agentProblem, agentWithDefaults, chosenAgent, type AgentConfig } from '../config/agent.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { pausepoint } from '../pausepoint.js';
import { requireWorkRepo, stateDir as stateDirOf, type WorkRepo } from '../git/repo.js';
import { gitIdentity, hostId } from '../identity.js';
import { parseTaskId } from '../ids.js';
import { refValue } from '../land/base-ref.js';
import { landTasks } from '../land/land.js';
import { committedValues, resolveBaseName } from '../land/settings.js';
import { appendAttempt } from '../notes/attempts.js';
import { byTime, type AttemptEvent } from '../notes/events.js';
import { recordPatchsets } from '../notes/patchsets.js';
import { packageRoot } from '../paths.js';
import { readRunFiles, removeActiveRun, runProcessAlive, writeActiveRun, type ActiveRunFile } from '../state/active-runs.js';
import { circuitOf } from '../state/latest.js';
import { loadState, type RepoState, type TaskView } from '../state/tasks.js';
import { cachedResult } from '../verify/fold.js';
import { prepareVerify, withValues, type PreparedVerify } from '../verify/prepare.js';
import { committedConfig, localConfig } from '../verify/spec.js';
import { killMarked, ownerMark } from '../verify/steps.js';
import { processStartTime } from '../hooks/process.js';
import { agentArgv, runAgent } from './agent-run.js';
import { claimTask, expired, readClaims, releaseClaim, renewClaim, type Claim } from './claims.js';
import { developTask, type DevResult } from './develop.js';
import { reviewPrompt } from './prompt.js';
import { TaskRecordsFollower, appendTaskEvent, type TaskRecord } from './tasks.js';
import { listWorktreeRecords, startWorktree } from './worktrees.js';

/**
 * `omni-ship run`: the pipeline loop. Each pass reads the task records and the tasks' state from git, and starts a
 * worker for each ready task it can claim at the remote (up to `concurrency` at once). A worker takes its task as
 * far as it goes in one claim: the dev agent when the task has no commit or its commit was rejected, verify of the
 * commit, the reviewer when land.requireApproval asks for one, and land. Every outcome is an event in git (a
 * patchset, an attempt, a verify answer, a review, a landing, a cost), so the next pass, on this machine or
 * another, decides from git alone: no state of the loop lives anywhere else.
 *
 * Failed attempts count per patchset (attempt events on the commit) or, before the task has one, on its record;
 * between them the task backs off exponentially from the interval (capped at MAX_BACKOFF_MS). After maxRetries
 * failures, maxIter dev runs or maxCost cents, its circuit opens (needs-help, noted once) until a person resets it.
 */
export interface RunOptions {
  cwd: string;
  concurrency: number;
  intervalMs: number;
  once: boolean;
  untilIdle: boolean;
  dryRun: boolean;
  taskId?: string;
  parent?: string;
  /** 0: unlimited */
  maxRetries: number;
  /** dev runs per task across all its patchsets; 0: unlimited */
  maxIter: number;
  timeoutMs: number;
  /** cents per task; 0: unlimited */
  maxCostCents: number;
  agentName?: string;
  emit: (e: RunEvent) => void;
  /** Ctrl-C: stop claiming, stop the agents, release the claims */
  signal: AbortSignal;
}

/** One line of `run --json`. */
export interface RunEvent {
  event: 'run-started' | 'started' | 'recovered' | 'orphaned-worktree' | 'claimed' | 'committed' | 'verified' | 'reviewed' | 'landed' | 'failed' | 'needs-help' | 'released' | 'would-work' | 'waiting' | 'unreachable' | 'stopping' | 'idle' | 'stopped';
  at: string;
  task?: string;
  [key: string]: unknown;
}

/** What `run` did, its last line. */
export interface RunSummary {
  stopped: 'once' | 'idle' | 'interrupted' | 'dry-run' | 'circuit-open';
  cycles: number;
  landed: string[];
  failedAttempts: number;
  needsHelp: string[];
  costCents: number;
}

/** The longest wait between two attempts of a task. */
export const MAX_BACKOFF_MS = 600_000;

/** How long a claim lasts unless renewed (renewed every third of it while the worker runs). */
function leaseMs(): number {
  const v = Number(process.env.OMNI_SHIP_CLAIM_LEASE_MS);
  return Number.isFinite(v) && v >= 1000 ? v : 10 * 60_000;
}

/** The wait after `failures` failed attempts: the interval doubled each time, at most MAX_BACKOFF_MS. */
export function backoffMs(intervalMs: number, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(MAX_BACKOFF_MS, Math.max(intervalMs, 1) * 2 ** Math.min(failures - 1, 30));
}

/** The agent settings `run` obeys: this clone's local config, else the committed config on the base tip. Never a work tree's. */
export async function trustedAgentSettings(cwd: string, commonDir: string, baseTip: string | null, baseName: string): Promise<{ agent: AgentConfig; source: 'local' | 'base' | 'default' }> {
  const local = await localConfig(commonDir);
  if (local?.values.agent !== undefined) return { agent: agentWithDefaults(local.values.agent), source: 'local' };
  if (baseTip) {
    const values = await committedValues(await committedConfig(cwd, baseTip), `${baseName} (${baseTip.slice(0, 12)})`);
    if (values.agent !== undefined) {
      const problem = agentProblem(values.agent);
      if (problem) throw badInput(`the config on ${baseName} (${baseTip.slice(0, 12)}): 'agent' ${problem}`, `fix it on ${baseName}, or set agent in this clone's local config (.git/omni-ship.yaml)`);
      return { agent: agentWithDefaults(values.agent), source: 'base' };
    }
  }
  return { agent: agentWithDefaults({}), source: 'default' };
}


/** What a pass decided for one task. */
export type Plan =
  | { kind: 'done'; why: 'landed' | 'closed' }
  | { kind: 'blocked'; by: string[] }
  | { kind: 'needs-help'; why: string; record: boolean }
  | { kind: 'open-circuit'; why: string }
  | { kind: 'waiting'; until: number; failures: number }
  | { kind: 'work'; failures: number };

/** Whether the run a file names is this process or another live one (same pid and start time). */
function runAlive(f: ActiveRunFile): boolean {
  return f.pid === process.pid || runProcessAlive(f);
}

const now = () => new Date().toISOString();
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs the pipeline until its stop condition (once, idle, Ctrl-C, an open circuit of --task-id). */
export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const repo = requireWorkRepo(opts.cwd);
  const loaded = await loadConfig(opts.cwd, repo.toplevel);
  const remote = loaded.config.remote;
  if (!remote) throw badInput('run claims tasks at the remote, and this repository has none', 'add one (git remote add origin <url>); for one machine a local bare repository will do (git init --bare ../origin.git)');
  const top = repo.toplevel;
  const dir = stateDirOf(repo);
  const base = await resolveBaseName(top, repo.commonDir, loaded, undefined);
  const baseTip = refValue(top, `refs/remotes/${remote}/${base.name}`) ?? refValue(top, `refs/heads/${base.name}`);
  const trusted = await trustedAgentSettings(top, repo.commonDir, baseTip, base.name);
  const config = withValues(loaded.config, { baseBranch: base.name, agent: trusted.agent });
  const dev = chosenAgent(config.agent, opts.agentName);
  const reviewer = config.agent.commands.review ? { name: 'review', argv: config.agent.commands.review } : dev;
  const only = opts.taskId === undefined ? null : parseTaskId(opts.taskId, config);
  const parent = opts.parent === undefined ? null : parseTaskId(opts.parent, config);
  const by = gitIdentity(top);
  const host = hostId(repo.commonDir);
  const lease = leaseMs();
  const emit = (event: RunEvent['event'], fields: Record<string, unknown> = {}) => opts.emit({ event, at: now(), ...fields });
  const summary: RunSummary = { stopped: 'once', cycles: 0, landed: [], failedAttempts: 0, needsHelp: [], costCents: 0 };
  const ctx: Ctx = { opts, repo, top, dir, config, remote, dev, reviewer, by, host, lease, emit, summary, landing: Promise.resolve(), tasks: new TaskRecordsFollower(top), landed: new Set(), runFile: { v: 1, pid: process.pid, start: processStartTime(process.pid), host, startedAt: now(), agents: [] }, bin: binDir(dir) };
  emit('run-started', { pid: process.pid, agent: dev.name, agentFrom: trusted.source, base: base.name, remote, concurrency: opts.concurrency, dryRun: opts.dryRun });
  if (!opts.dryRun) {
    await recover(ctx);
    writeActiveRun(dir, ctx.runFile);
  }
  const running = new Map<string, Promise<void>>();
  try {
    for (;;) {
      summary.cycles++;
      let pass: Awaited<ReturnType<typeof planPass>>;
      try {
        pass = await planPass(ctx, only, parent, running);
      } catch (e) {
        // bad input stops the run; anything else (git failing for a moment, a damaged file) is said, and the run
        // tries again after the interval, as a service should
        if (e instanceof UserError || opts.once || opts.dryRun || summary.cycles === 1) throw e;
        emit('failed', { step: 'pass', error: (e as Error).message });
        await Promise.race([sleep(opts.intervalMs, opts.signal), ...running.values()]);
        if (opts.signal.aborted) break;
        continue;
      }
      if (opts.dryRun) {
        for (const t of pass.startable.slice(0, opts.concurrency)) emit('would-work', { task: t.id, failures: t.failures });
        for (const [id, p] of pass.plans) if (p.kind === 'waiting') emit('waiting', { task: id, until: new Date(p.until).toISOString(), failures: p.failures });
        summary.stopped = 'dry-run';
        return summary;
      }
      if (only && pass.plans.get(only)?.kind === 'needs-help' && running.size === 0) {
        const p = pass.plans.get(only) as Extract<Plan, { kind: 'needs-help' }>;
        summary.stopped = 'circuit-open';
        throw new UserError(`${only} needs help: ${p.why}`, ExitCode.refused, `a person looks at it, then omni-ship task reopen ${only} gives it its retries again`);
      }
      if (only && pass.plans.get(only)?.kind === 'done' && running.size === 0) {
        // the one task asked for has landed (or was closed): nothing more to wait for
        emit('idle');
        summary.stopped = 'idle';
        break;
      }
      if (opts.signal.aborted) break;
      if (pass.reachable) {
        for (const t of pass.startable) {
          if (running.size >= opts.concurrency || opts.signal.aborted) break;
          if (running.has(t.id)) continue;
          // (for the test of a task another machine lands between this pass and the claim)
          pausepoint('run:planned');
          const claimed = claim(ctx, t.id, pass.claims);
          if (!claimed) continue;
          const job = work(ctx, t.record, claimed, t.failures)
            .catch((e: unknown) => emit('failed', { task: t.id, step: 'run', error: (e as Error).message }))
            .finally(() => running.delete(t.id));
          running.set(t.id, job);
        }
      }
      if (opts.once) {
        await Promise.all(running.values());
        summary.stopped = 'once';
        break;
      }
      const waiting = [...pass.plans.values()].filter((p): p is Extract<Plan, { kind: 'waiting' }> => p.kind === 'waiting');
      // idle: nothing ready, running here or at another machine, or waiting out a backoff
      if (opts.untilIdle && running.size === 0 && pass.startable.length === 0 && waiting.length === 0 && pass.heldElsewhere.length === 0) {
        emit('idle');
        summary.stopped = 'idle';
        break;
      }
      // the next pass: when a worker ends, a backoff runs out, or the interval passes
      const nextWake = Math.min(opts.intervalMs, ...waiting.map((w) => Math.max(0, w.until - Date.now())));
      // (a ready task this pass could not claim is tried again then, not in a loop against the remote)
      await Promise.race([sleep(nextWake, opts.signal), ...running.values()]);
      if (opts.signal.aborted) break;
    }
    if (opts.signal.aborted) {
      emit('stopping', { running: [...running.keys()] });
      await Promise.all(running.values());
      summary.stopped = 'interrupted';
    }
    return summary;
  } finally {
    if (!opts.dryRun) {
      await Promise.allSettled(running.values());
      removeActiveRun(dir, process.pid);
    }
    emit('stopped', { ...summary });
  }
}

interface Ctx {
  opts: RunOptions;
  repo: WorkRepo;
  top: string;
  dir: string;
  config: Config;
  remote: string;
  dev: { name: string; argv: string[] };
  reviewer: { name: string; argv: string[] };
  by: string;
  host: string;
  lease: number;
  emit: (event: RunEvent['event'], fields?: Record<string, unknown>) => void;
  summary: RunSummary;
  /**
   * land and the notes sync run one at a time in this process: both update the same tracking refs (git refuses a
   * ref two of its processes lock at once), and each is a compare-and-swap at the remote anyway
   */
  landing: Promise<unknown>;
  runFile: ActiveRunFile;
  /** the task records, followed: each pass reads what changed since the last */
  tasks: TaskRecordsFollower;
  /** tasks seen landed: settled for good, never read again (a run in a repository of any age reads what is new) */
  landed: Set<string>;
  /** a folder with an `omni-ship` that runs this very build, first on the agents' PATH */
  bin: string;
}

/**
 * Crash recovery, before anything is claimed: a run of this clone that died (its active-run file outlived it) has
 * its agents' processes killed (they carry its mark), and every claim of this clone whose holder is not a live run
 * is released, so its task is ready again. Worktrees of landed, closed or unknown tasks are reported, never removed.
 */
async function recover(ctx: Ctx): Promise<void> {
  const dead = readRunFiles(ctx.dir).filter((f) => !runAlive(f));
  for (const f of dead) {
    const killed = f.start ? killMarked(ownerMark(f.pid, f.start)) : 0;
    removeActiveRun(ctx.dir, f.pid);
    ctx.emit('recovered', { pid: f.pid, killed, tasks: f.agents.map((a) => a.task) });
  }
  const live = new Set(readRunFiles(ctx.dir).filter(runAlive).map((f) => f.pid));
  let claims: Map<string, Claim>;
  try {
    claims = readClaims(ctx.top, ctx.remote);
  } catch (e) {
    ctx.emit('unreachable', { remote: ctx.remote, error: (e as Error).message });
    return;
  }
  for (const c of claims.values()) {
    if (c.host !== ctx.host || live.has(c.pid)) continue;
    if (releaseClaim(ctx.top, ctx.remote, c)) ctx.emit('released', { task: c.task, pid: c.pid, why: 'its run is gone (crashed or killed)' });
  }
  const worktrees = await listWorktreeRecords(ctx.top);
  if (worktrees.length === 0) return;
  await ctx.tasks.refresh();
  const state = await loadState(ctx.top, ctx.config, ctx.dir, undefined, undefined, { only: new Set(worktrees.map((w) => w.task)) as never });
  for (const w of worktrees) {
    const r = ctx.tasks.records.get(w.task);
    const why = !r?.created ? 'the task has no record' : r.closed ? 'the task is closed' : state.tasks.get(w.task as never)?.state === 'landed' ? 'the task has landed' : null;
    if (why) ctx.emit('orphaned-worktree', { task: w.task, path: w.path, dirty: w.dirty, why, hint: `omni-ship worktree release ${w.task} --remove removes it` });
  }
}

/** A folder holding an `omni-ship` script that runs this build, for the agents (the reviewer records its verdict with it). */
function binDir(stateDir: string): string {
  const dir = path.join(stateDir, 'run', 'bin');
  const file = path.join(dir, 'omni-ship');
  const cli = process.argv[1] && fs.existsSync(process.argv[1]) ? process.argv[1] : path.join(packageRoot, 'dist', 'bundle', 'cli.js');
  const text = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} "$@"\n`;
  let old: string | null = null;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch {
    /* first run */
  }
  if (old !== text) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${file}.tmp`, text, { mode: 0o755 });
    fs.renameSync(`${file}.tmp`, file);
  }
  return dir;
}

interface Startable {
  id: string;
  record: TaskRecord;
  failures: number;
}

/** One pass's reading of git: each record's plan, the tasks to start (priority, then id), the remote's claims. */
async function planPass(ctx: Ctx, only: string | null, parent: string | null, running: ReadonlyMap<string, unknown>): Promise<{ plans: Map<string, Plan>; startable: Startable[]; claims: Map<string, Claim>; reachable: boolean; heldElsewhere: string[] }> {
  // other machines' events first: their patchsets, attempts, landings and records (a dry run fetches claims only:
  // a sync may merge and push)
  let reachable = true;
  if (!ctx.opts.dryRun) {
    try {
      const { syncNotes } = await import('../notes/sync.js');
      await exclusive(ctx, () => syncNotes(ctx.top, ctx.remote, false));
    } catch (e) {
      reachable = false;
      ctx.emit('unreachable', { remote: ctx.remote, error: (e as Error).message, hint: 'no task is claimed until it answers' });
    }
  }
  await ctx.tasks.refresh();
  const records = ctx.tasks.records;
  let claims = new Map<string, Claim>();
  if (reachable) {
    try {
      claims = readClaims(ctx.top, ctx.remote);
    } catch (e) {
      reachable = false;
      ctx.emit('unreachable', { remote: ctx.remote, error: (e as Error).message, hint: 'no task is claimed until it answers' });
    }
  }
  const wanted = [...records.values()].filter((r) => r.created && (only === null || r.id === only) && (parent === null || r.parent === parent));
  if (only !== null && wanted.length === 0) throw badInput(`no task record ${only}`, `omni-ship task add ${only} --title "…" creates one`);
  // the views of the tasks that may still need work, and of what they wait for (a landed task is settled)
  const ids = new Set<string>();
  for (const r of wanted) {
    if (ctx.landed.has(r.id) || r.closed) continue;
    ids.add(r.id);
    for (const d of r.dependsOn) if (!ctx.landed.has(d)) ids.add(d);
  }
  const state = ids.size ? await loadState(ctx.top, ctx.config, ctx.dir, undefined, undefined, { only: ids as never }) : null;
  for (const id of ids) if (state?.tasks.get(id as never)?.state === 'landed') ctx.landed.add(id);
  const plans = new Map<string, Plan>();
  const startable: Startable[] = [];
  const heldElsewhere: string[] = [];
  for (const r of [...wanted].sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    let plan = planTask(ctx, r, state, ctx.landed);
    if (plan.kind === 'open-circuit') {
      if (!ctx.opts.dryRun) await openCircuit(ctx, r, state?.tasks.get(r.id as never) ?? null, plan.why);
      plan = { kind: 'needs-help', why: plan.why, record: true };
    }
    plans.set(r.id, plan);
    if (plan.kind !== 'work' || running.has(r.id)) continue;
    const held = claims.get(r.id);
    if (held && !expired(held)) {
      heldElsewhere.push(r.id);
      continue;
    }
    startable.push({ id: r.id, record: r, failures: plan.failures });
  }
  return { plans, startable, claims, reachable, heldElsewhere };
}

/** The attempts of each task in a state read, oldest first: grouped once per read, not filtered once per task. */
const attemptsByTask = new WeakMap<RepoState, Map<string, AttemptEvent[]>>();

/** The attempts recorded on a task's commit (any patchset), oldest first. */
function attemptsOf(state: RepoState | null, task: string): AttemptEvent[] {
  if (!state) return [];
  let byTask = attemptsByTask.get(state);
  if (!byTask) {
    byTask = new Map();
    for (const e of [...state.events.attempt].sort(byTime)) {
      const list = byTask.get(e.task);
      if (list) list.push(e);
      else byTask.set(e.task, [e]);
    }
    attemptsByTask.set(state, byTask);
  }
  return byTask.get(task) ?? [];
}

/** What one task needs now, from its record and its state. */
export function planTask(ctx: Pick<Ctx, 'opts'>, r: TaskRecord, state: RepoState | null, knownLanded: ReadonlySet<string> = new Set()): Plan {
  const view = state?.tasks.get(r.id as never) ?? null;
  const landed = (id: string) => knownLanded.has(id) || state?.tasks.get(id as never)?.state === 'landed';
  if (landed(r.id)) return { kind: 'done', why: 'landed' };
  if (r.closed) return { kind: 'done', why: 'closed' };
  const head = view?.head ?? null;
  const attempts = attemptsOf(state, r.id);
  const onHead = head ? attempts.filter((e) => e.commit === head) : [];
  if (head && view?.circuitOpen) return { kind: 'needs-help', why: onHead.filter((e) => e.outcome === 'needs-help').at(-1)?.error ?? 'its retry circuit is open', record: false };
  if (!head && r.circuit.needsHelp) return { kind: 'needs-help', why: r.circuit.why ?? 'its retry circuit is open', record: true };
  const blockedBy = r.dependsOn.filter((d) => !landed(d));
  if (blockedBy.length) return { kind: 'blocked', by: blockedBy };
  const { opts } = ctx;
  // the circuit of what the task is now: its commit's attempts, else its record's
  const circuit = head ? circuitOf(onHead) : r.circuit;
  const lastFailure = head ? onHead.filter((e) => e.outcome === 'fail').at(-1)?.at ?? null : r.circuit.lastFailureAt;
  if (opts.maxRetries > 0 && circuit.failures >= opts.maxRetries) return { kind: 'open-circuit', why: `${circuit.failures} failed attempt(s) in a row (--max-retries ${opts.maxRetries})` };
  const devRuns = (view?.patchsets.length ?? 0) + attempts.filter((e) => e.role === 'dev' && e.outcome === 'fail').length + r.attempts.length;
  if (opts.maxIter > 0 && devRuns >= opts.maxIter) return { kind: 'open-circuit', why: `${devRuns} dev attempts across its patchsets (--max-iter ${opts.maxIter})` };
  if (opts.maxCostCents > 0 && r.costCents >= opts.maxCostCents) return { kind: 'open-circuit', why: `its agents cost ${r.costCents} cents (--max-cost ${opts.maxCostCents})` };
  if (circuit.failures > 0 && lastFailure) {
    const until = Date.parse(lastFailure) + backoffMs(opts.intervalMs, circuit.failures);
    if (until > Date.now()) return { kind: 'waiting', until, failures: circuit.failures };
  }
  return { kind: 'work', failures: circuit.failures };
}

/** Opens a task's circuit, once: a needs-help attempt on its commit, or a needs-help event on its record. */
async function openCircuit(ctx: Ctx, r: TaskRecord, view: TaskView | null, why: string): Promise<void> {
  if (view?.head) {
    await appendAttempt(ctx.top, ctx, { task: r.id, commit: view.head, role: 'run', outcome: 'needs-help', error: why });
  } else {
    await appendTaskEvent(ctx.top, ctx, r.id, 'needs-help', { message: why });
  }
  ctx.summary.needsHelp.push(r.id);
  ctx.emit('needs-help', { task: r.id, why, hint: `omni-ship task reopen ${r.id} gives it its retries again` });
}

/** Claims a task at the remote; null when another holds it or the remote did not answer. */
function claim(ctx: Ctx, task: string, known: Map<string, Claim>): Claim | null {
  try {
    const r = claimTask(ctx.top, ctx.remote, task, { host: ctx.host, by: ctx.by, role: 'dev', pid: process.pid }, ctx.lease, known);
    if (!r.claimed) return null;
    ctx.emit('claimed', { task, expires: r.claim.expires, ...(r.tookOver ? { tookOverFrom: r.tookOver.host } : {}) });
    failpoint('run:claimed');
    return r.claim;
  } catch (e) {
    ctx.emit('unreachable', { remote: ctx.remote, task, error: (e as Error).message });
    return null;
  }
}

function updateAgents(ctx: Ctx, change: (agents: ActiveRunFile['agents']) => ActiveRunFile['agents']): void {
  ctx.runFile.agents = change(ctx.runFile.agents);
  try {
    writeActiveRun(ctx.dir, ctx.runFile);
  } catch {
    /* status shows less; the run goes on */
  }
}

/**
 * One task in one claim: dev when it needs a (new) commit, then verify, review when asked for, and land. The claim
 * is renewed while it works and released at the end, whatever happened.
 */
async function work(ctx: Ctx, record: TaskRecord, claimed: Claim, failuresBefore: number): Promise<void> {
  const id = record.id;
  let held: Claim | null = claimed;
  const renew = setInterval(() => {
    if (!held) return;
    try {
      held = renewClaim(ctx.top, ctx.remote, held, ctx.lease);
    } catch {
      /* the remote did not answer: tried again at the next renewal, before the lease runs out */
    }
    if (!held) ctx.emit('failed', { task: id, step: 'claim', error: 'the claim was lost (it expired and another machine took it over)' });
  }, Math.max(500, Math.floor(ctx.lease / 3)));
  renew.unref();
  try {
    // what the pass read may be old news: the task may have landed, or failed again, on another machine between
    // the pass and the claim. That machine pushed its notes before it released the claim, so they are at the
    // remote now: read them, and plan again
    await syncQuietly(ctx);
    await ctx.tasks.refresh();
    const now = ctx.tasks.records.get(id) ?? record;
    const state = await loadState(ctx.top, ctx.config, ctx.dir, undefined, undefined, { only: new Set([id, ...now.dependsOn]) as never });
    const plan = planTask(ctx, now, state, ctx.landed);
    if (plan.kind !== 'work') {
      ctx.emit('released', { task: id, why: `nothing to do after all: ${plan.kind === 'done' ? plan.why : plan.kind}` });
      return;
    }
    await steps(ctx, now, failuresBefore, () => held !== null);
  } catch (e) {
    // what stopped the steps themselves (a worktree folder in the way, git failing): a failed attempt like any other,
    // so the task backs off and reaches its breaker instead of being claimed again at once, forever
    await recordStepError(ctx, id, e);
  } finally {
    clearInterval(renew);
    // this machine's events go to the remote before the claim does: whoever claims next reads them
    if (held) await syncQuietly(ctx);
    if (held) {
      try {
        if (releaseClaim(ctx.top, ctx.remote, held)) ctx.emit('released', { task: id });
      } catch (e) {
        ctx.emit('unreachable', { remote: ctx.remote, task: id, error: (e as Error).message, hint: 'the claim expires by itself' });
      }
    }
  }
}

/** A failed attempt for an error that stopped a task's steps: on its commit, or its record before it has one. */
async function recordStepError(ctx: Ctx, id: string, e: unknown): Promise<void> {
  const error = (e as Error)?.message ?? String(e);
  ctx.summary.failedAttempts++;
  ctx.emit('failed', { task: id, step: 'run', error });
  try {
    const { view } = await viewOf(ctx, id);
    if (view?.head) await appendAttempt(ctx.top, ctx, { task: id, commit: view.head, role: 'run', outcome: 'fail', error });
    else await appendTaskEvent(ctx.top, ctx, id, 'attempt', { role: 'run', message: error });
  } catch {
    /* git itself is failing: said above; the claim is released and the next pass tries again */
  }
}

/** Syncs the notes with the remote; a failure is said, and the next pass tries again. */
async function syncQuietly(ctx: Ctx): Promise<boolean> {
  try {
    const { syncNotes } = await import('../notes/sync.js');
    await exclusive(ctx, () => syncNotes(ctx.top, ctx.remote, false));
    return true;
  } catch (e) {
    ctx.emit('unreachable', { remote: ctx.remote, error: (e as Error).message });
    return false;
  }
}

/** The task's view now (one task's state read). */
async function viewOf(ctx: Ctx, id: string): Promise<{ view: TaskView | null; state: RepoState }> {
  const state = await loadState(ctx.top, ctx.config, ctx.dir, undefined, undefined, { only: new Set([id]) as never });
  return { view: state.tasks.get(id as never) ?? null, state };
}

async function steps(ctx: Ctx, record: TaskRecord, failuresBefore: number, stillOurs: () => boolean): Promise<void> {
  const id = record.id;
  const { signal } = ctx.opts;
  let { view, state } = await viewOf(ctx, id);
  // a commit the last run's agent made and that run did not live to record (killed between the two): recorded now
  if (view?.head && !view.patchsets.some((p) => p.commit === view!.head) && view.state !== 'landed') {
    await recordPatchsets(ctx.top, ctx.repo.commonDir, ctx.config, [{ commit: view.head, branch: view.branch, supersedes: view.patchsets.at(-1)?.commit ?? null, via: view.patchsets.length ? 'amend' : 'commit', at: new Date() }]);
    ({ view, state } = await viewOf(ctx, id));
  }
  // the head's verify context (its cached answer, the trusted spec), read once for the rejection and the verify
  let prepared = view?.head ? await prepareHead(ctx, view.head) : null;
  const feedback = view?.head ? rejection(view, attemptsOf(state, id), prepared!) : null;
  if (!view?.head || feedback !== null) {
    const r = await develop(ctx, record, feedback, failuresBefore + 1);
    if (!r || r.outcome !== 'committed' || !stillOurs() || signal.aborted) return;
    ({ view, state } = await viewOf(ctx, id));
    prepared = null;
  }
  if (!view?.head || signal.aborted) return;
  const head = view.head;
  // verify the patchset (the cached answer when there is one)
  const verdict = await verifyHead(ctx, id, prepared ?? (await prepareHead(ctx, head)));
  if (!verdict || signal.aborted) return;
  ctx.emit('verified', { task: id, commit: head, result: verdict.result, cached: verdict.cached, step: verdict.step, summary: verdict.summary });
  if (verdict.result === 'fail' || verdict.result === 'indeterminate') {
    // said by the verified event: recorded for the circuit and the backoff (a failed verify is revised next)
    ctx.summary.failedAttempts++;
    await appendAttempt(ctx.top, ctx, { task: id, commit: head, role: 'verify', outcome: 'fail', error: `verify ${verdict.result === 'fail' ? 'failed' : 'gave no answer'}${verdict.step ? ` in step ${verdict.step}` : ''}: ${verdict.summary}` });
    return;
  }
  if (ctx.config.land.requireApproval && view.review?.verdict !== 'approve') {
    const approved = await review(ctx, record, view);
    if (!approved || signal.aborted || !stillOurs()) return;
  }
  await land(ctx, id, head);
}

/** Why the task's current commit was rejected (feedback for the next dev run), or null when it was not. */
function rejection(view: TaskView, attempts: readonly AttemptEvent[], prepared: PreparedVerify): string | null {
  const head = view.head!;
  const onHead = attempts.filter((e) => e.commit === head && e.outcome === 'fail');
  if (view.review?.verdict === 'request-changes') return `the reviewer (${view.review.by}) asked for changes: ${view.review.message ?? '(no message)'}`;
  const last = onHead.at(-1);
  // a land refusal (conflict, the candidate failed) or a dev run that did not revise it: it needs a new patchset
  const revise = onHead.filter((e) => e.role !== 'dev' && e.role !== 'review').at(-1);
  if (last && (last.role === 'land' || last.role === 'dev') && revise) return revise.error ?? `${revise.role} failed`;
  // the answer already recorded for its tree under the trusted spec (no step runs)
  const cached = cachedResult(prepared.treeEvents, prepared.target.tree, prepared.spec.hash);
  if (cached?.result === 'fail') return `verify failed${cached.step ? ` in step ${cached.step}` : ''}: ${cached.summary ?? ''}`.trim();
  return null;
}

/** What verifying `commit` takes: the trusted spec (the base's, or the local config's) and the answers on its tree. */
function prepareHead(ctx: Ctx, commit: string): Promise<PreparedVerify> {
  return prepareVerify({ cwd: ctx.top, target: commit, specFromCommit: false, background: true });
}

async function develop(ctx: Ctx, record: TaskRecord, feedback: string | null, attempt: number): Promise<DevResult | null> {
  const id = record.id;
  const started = now();
  ctx.emit('started', { task: id, role: 'dev', attempt, agent: ctx.dev.name, ...(feedback ? { feedback } : {}) });
  let result: DevResult;
  try {
    result = await developTask({
      cwd: ctx.top,
      config: ctx.config,
      record,
      argv: ctx.dev.argv,
      timeoutMs: ctx.opts.timeoutMs,
      feedback,
      by: ctx.by,
      signal: ctx.opts.signal,
      env: agentEnv(ctx),
      onStart: ({ pid }) => updateAgents(ctx, (a) => [...a.filter((x) => x.task !== id), { task: id, role: 'dev', startedAt: started, attempt, costCents: record.costCents, pid }]),
    });
  } finally {
    updateAgents(ctx, (a) => a.filter((x) => x.task !== id));
  }
  // (the dev step recorded the cost in the task's record)
  ctx.summary.costCents += result.agent.costCents ?? 0;
  if (result.outcome === 'aborted') return result;
  if (result.outcome === 'committed') {
    ctx.emit('committed', { task: id, commit: result.commit, patchset: result.patchset, durationMs: result.agent.durationMs, costCents: result.agent.costCents, log: result.log });
  } else {
    ctx.summary.failedAttempts++;
    ctx.emit('failed', { task: id, step: 'dev', outcome: result.outcome, error: result.error, log: result.log, costCents: result.agent.costCents });
  }
  return result;
}

/** The agents' extra environment: this build first on PATH (as `omni-ship`). */
function agentEnv(ctx: Ctx): Record<string, string> {
  return { PATH: `${ctx.bin}${path.delimiter}${process.env.PATH ?? ''}` };
}

async function recordCost(ctx: Ctx, task: string, role: string, cents: number | null): Promise<void> {
  if (cents === null || cents <= 0) return;
  ctx.summary.costCents += cents;
  await appendTaskEvent(ctx.top, ctx, task, 'cost', { role, cost: cents });
}

async function verifyHead(ctx: Ctx, task: string, p: PreparedVerify) {
  const { verifyCommit } = await import('../verify/verify.js');
  const shape = p.base ? { baseTip: p.base.tip, baseName: ctx.config.baseBranch } : null;
  try {
    const outcome = await verifyCommit({ cwd: p.cwd, commonDir: p.commonDir, stateDir: p.stateDir, config: p.config, spec: p.spec, target: { ...p.target, task }, shape, treeEvents: p.treeEvents, known: p.known, identity: ctx.by, signal: ctx.opts.signal });
    return outcome.cancelled ? null : outcome;
  } catch (e) {
    // no steps configured, or what else stops verify for every task: said, and the task waits out a backoff
    const error = (e as Error).message;
    ctx.summary.failedAttempts++;
    ctx.emit('failed', { task, step: 'verify', commit: p.target.commit, error });
    await appendAttempt(ctx.top, ctx, { task, commit: p.target.commit, role: 'verify', outcome: 'fail', error });
    return null;
  }
}

/** The reviewer agent on the task's commit; true when it approved. */
async function review(ctx: Ctx, record: TaskRecord, view: TaskView): Promise<boolean> {
  const id = record.id;
  const head = view.head!;
  const wt = await startWorktree(ctx.top, id);
  const dir = path.join(ctx.dir, 'run', id);
  fs.mkdirSync(dir, { recursive: true });
  const stamp = now().replace(/[:.]/g, '-');
  const promptFile = path.join(dir, `review-${stamp}.md`);
  const log = path.join(dir, `review-${stamp}.log`);
  fs.writeFileSync(promptFile, reviewPrompt({ taskId: id, title: record.title, description: record.description, commit: head, patchset: view.patchsets.length, branch: wt.data.branch ?? id, baseBranch: ctx.config.baseBranch, workspace: wt.data.path }));
  const started = now();
  ctx.emit('started', { task: id, role: 'review', attempt: 1, agent: ctx.reviewer.name, commit: head });
  let agent;
  try {
    agent = await runAgent({
      argv: agentArgv(ctx.reviewer.argv, { promptFile, taskId: id, workspace: wt.data.path }),
      cwd: wt.data.path,
      env: agentEnv(ctx),
      timeoutMs: ctx.opts.timeoutMs,
      logFile: log,
      costFrom: ctx.config.agent.costFrom,
      signal: ctx.opts.signal,
      onStart: ({ pid }) => updateAgents(ctx, (a) => [...a.filter((x) => x.task !== id), { task: id, role: 'review', startedAt: started, attempt: 1, costCents: record.costCents, pid }]),
    });
  } finally {
    updateAgents(ctx, (a) => a.filter((x) => x.task !== id));
  }
  await recordCost(ctx, id, 'review', agent.costCents);
  if (agent.aborted) return false;
  const after = (await viewOf(ctx, id)).view;
  const verdict = after?.head === head ? after.review : null;
  ctx.emit('reviewed', { task: id, commit: head, verdict: verdict?.verdict ?? null, by: verdict?.by ?? null, log });
  if (verdict?.verdict === 'approve') return true;
  if (verdict?.verdict === 'request-changes') return false; // the next pass revises it with the reviewer's words
  const error = agent.exitCode === 0 ? 'the reviewer recorded no verdict' : `the reviewer exited ${agent.exitCode ?? agent.signal} without a verdict`;
  ctx.summary.failedAttempts++;
  ctx.emit('failed', { task: id, step: 'review', commit: head, error });
  await appendAttempt(ctx.top, ctx, { task: id, commit: head, role: 'review', outcome: 'fail', error });
  return false;
}

/** Runs `fn` once the land or sync before it in this process is done. */
async function exclusive<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const previous = ctx.landing;
  let done!: () => void;
  ctx.landing = new Promise<void>((resolve) => (done = resolve));
  await previous;
  try {
    return await fn();
  } finally {
    done();
  }
}

async function land(ctx: Ctx, task: string, commit: string): Promise<void> {
  await exclusive(ctx, () => landOne(ctx, task, commit));
}

async function landOne(ctx: Ctx, task: string, commit: string): Promise<void> {
  try {
    const result = await landTasks({ cwd: ctx.top, tasks: [task], all: false, dryRun: false, push: true, keepBranch: false, remote: ctx.remote, requireCached: false });
    const o = result.tasks.find((t) => t.task === task);
    if (o && (o.outcome === 'landed' || o.outcome === 'already-landed')) {
      ctx.summary.landed.push(task);
      ctx.emit('landed', { task, commit, landed: o.landed, base: result.base, patchset: o.patchset });
    } else {
      ctx.summary.failedAttempts++;
      const error = o?.reason ?? 'not landed';
      ctx.emit('failed', { task, step: 'land', commit, gate: o?.gate ?? null, error, conflicts: o?.conflicts ?? [] });
      // land records a conflict and a failed candidate itself (role land: the next dev run revises the commit);
      // any other refusal counts too (role land-gate: tried again after the backoff, the commit kept)
      const recorded = o?.gate === 'conflict' || ((o?.gate === 'verify' || o?.gate === 'verify-own-spec') && o.exitCode === ExitCode.refused);
      if (!recorded) await appendAttempt(ctx.top, ctx, { task, commit, role: 'land-gate', outcome: 'fail', error });
    }
  } catch (e) {
    ctx.summary.failedAttempts++;
    ctx.emit('failed', { task, step: 'land', commit, error: (e as Error).message });
    await appendAttempt(ctx.top, ctx, { task, commit, role: 'land-gate', outcome: 'fail', error: (e as Error).message });
  }
}
