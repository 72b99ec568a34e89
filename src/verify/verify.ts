import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ExitCode, UserError } from '../errors.js';
import { catFileBatch } from '../git/batch.js';
import { decodeNote, type BadLine, type OmniEvent, type VerifyEvent } from '../notes/events.js';
import { notePathCandidates } from '../notes/read.js';
import { NOTES_REFS } from '../notes/refs.js';
import type { KnownNotes } from '../notes/write.js';
import { cachedResult } from './fold.js';
import { describeSource, type VerifySpec } from './spec.js';
import type { StepOutcome, StepsResult } from './steps.js';

/** The four answers; `indeterminate` (timeout, signal, could not run) is retried and never cached. */
export type VerifyResult = 'pass' | 'fail' | 'skip' | 'indeterminate';

/** What to verify: a commit and its tree, and the task it is a patchset of (null for a plain rev). */
export interface VerifyTarget {
  commit: string;
  tree: string;
  task: string | null;
}

/** Progress a caller may show: the CLI prints it on a TTY, the pipeline logs it. */
export type VerifyProgress =
  | { kind: 'waiting'; why: string }
  | { kind: 'step-start'; index: number; total: number; name: string }
  | { kind: 'step-end'; index: number; total: number; name: string; outcome: StepOutcome };

/** A verify request: the function `verify` and `land` call. */
export interface VerifyRequest {
  /** the top of a work tree, or the common git dir */
  cwd: string;
  commonDir: string;
  stateDir: string;
  config: Config;
  spec: VerifySpec;
  target: VerifyTarget;
  /** check the branch shape first (a task's commit): the base tip and its name */
  shape?: { baseTip: string; baseName: string } | null;
  /** run even when a result is cached */
  force?: boolean;
  /** the verify events on the target's tree when the caller read them already (prepareVerify does) */
  treeEvents?: VerifyEvent[];
  /** the verify ref's tip and the tree's note as the caller read them: the first try of the write */
  known?: KnownNotes | null;
  /** who runs it, "Name <email>", when the caller knows already (else asked of git while the steps run) */
  identity?: string;
  /** ends a run early (a newer patchset, Ctrl-C): the steps' process groups are killed, nothing is recorded */
  signal?: AbortSignal;
  onProgress?: (p: VerifyProgress) => void;
}

/** What verify answers. */
export interface VerifyOutcome {
  result: VerifyResult;
  /** the answer was in the notes already (no step ran) */
  cached: boolean;
  /** another run of the same tree and spec on this machine was waited for, and its answer taken */
  coalesced: boolean;
  commit: string;
  tree: string;
  task: string | null;
  spec: string;
  /** the failing, skipping or undecided step (`shape` for a broken branch shape), or null */
  step: string | null;
  exitCode: number | null;
  /** one line: why the answer is what it is */
  summary: string;
  durationMs: number | null;
  /** the full log on this machine, or null (a cached answer from elsewhere, a shape failure) */
  log: string | null;
  /** the event that holds the answer (recorded now, or cached), or null when nothing was recorded */
  event: VerifyEvent | null;
  /** the run was cancelled (a newer patchset, a signal): nothing recorded */
  cancelled: boolean;
}

/** The exit code of a verify answer: 0 pass or skip, 1 fail, 75 indeterminate (try again). */
export function exitCodeOf(result: VerifyResult): 0 | 1 | 75 {
  return result === 'pass' || result === 'skip' ? ExitCode.ok : result === 'fail' ? ExitCode.refused : ExitCode.indeterminate;
}

/** The verify events recorded on `tree` (one cat-file process; every fanout git may use). */
export async function treeVerifyEvents(cwd: string, tree: string): Promise<VerifyEvent[]> {
  const answers = await catFileBatch(cwd, notePathCandidates(tree).map((p) => `${NOTES_REFS.verify}:${p}`));
  const events: OmniEvent[] = [];
  const bad: BadLine[] = [];
  for (const a of answers) if (a.content && a.type === 'blob') decodeNote(tree, a.content.toString('utf8'), events, bad);
  return events.filter((e): e is VerifyEvent => e.type === 'verify' && e.tree === tree);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The outcome a cached event gives for `target` under `spec`. */
export function fromCachedEvent(target: VerifyTarget, spec: string, e: VerifyEvent, coalesced = false): VerifyOutcome {
  return {
    result: e.result as VerifyResult,
    cached: true,
    coalesced,
    commit: target.commit,
    tree: target.tree,
    task: target.task,
    spec,
    step: e.step,
    exitCode: e.exitCode,
    summary: e.summary ?? e.result,
    durationMs: e.durationMs ?? null,
    log: null,
    event: e,
    cancelled: false,
  };
}

/** One line for a finished run. */
function summaryOf(r: StepsResult, total: number): string {
  if (r.result === 'pass') return `all ${total} step(s) passed`;
  if (r.reason) return r.reason;
  return `step ${r.step} exited ${r.exitCode}`;
}

/**
 * Verifies one commit's tree under one spec: the answer cached in the notes for that tree and spec if there is one
 * (unless `force`), else the steps run in a pool worktree and the answer is appended to the tree's note. One run per
 * tree and spec on this machine at a time: a second waits for the first and takes its answer. A broken branch
 * shape fails as step `shape` before any step runs, and is not recorded (it belongs to the commit, not the tree).
 * Throws a UserError (exit 2) when the spec has no steps: that is never a pass.
 */
export async function verifyCommit(req: VerifyRequest): Promise<VerifyOutcome> {
  const { spec, target } = req;
  if (spec.verify.steps.length === 0) {
    throw new UserError(
      `no verify steps configured (spec from ${describeSource(spec.source, req.shape?.baseName ?? req.config.baseBranch)}): nothing to check, so nothing passes`,
      ExitCode.usage,
      "add verify.steps to the committed config on the base branch (omni-ship init shows an example), or to this clone's local config .git/omni-ship.yaml",
    );
  }
  const base: Omit<VerifyOutcome, 'result' | 'summary'> = {
    cached: false,
    coalesced: false,
    commit: target.commit,
    tree: target.tree,
    task: target.task,
    spec: spec.hash,
    step: null,
    exitCode: null,
    durationMs: null,
    log: null,
    event: null,
    cancelled: false,
  };
  if (req.shape && target.task) {
    const { checkShape } = await import('./shape.js');
    const shape = checkShape(req.cwd, req.config, target.task, target.commit, req.shape.baseTip, req.shape.baseName, req.commonDir);
    if (!shape.ok) return { ...base, result: shape.missing ? 'indeterminate' : 'fail', step: 'shape', summary: shape.problem };
  }
  if (!req.force) {
    const hit = cachedResult(req.treeEvents ?? (await treeVerifyEvents(req.cwd, target.tree)), target.tree, spec.hash);
    if (hit) return fromCachedEvent(target, spec.hash, hit);
  }
  // a cache hit returned above: what a run needs loads only now
  const { releaseLock, tryLock } = await import('./lock.js');
  const { runLockFile } = await import('./running.js');
  const lockFile = runLockFile(req.stateDir, target.tree, spec.hash);
  const startedAt = new Date().toISOString();
  const logFile = path.join(req.stateDir, 'verify', 'logs', `${startedAt.slice(0, 10)}`, `${target.tree.slice(0, 12)}-${spec.hash.slice(0, 12)}-${Date.now().toString(36)}-${process.pid}.log`);
  const lockData = { tree: target.tree, spec: spec.hash, commit: target.commit, task: target.task, startedAt, log: logFile };
  let coalesced = false;
  while (!tryLock(lockFile, lockData)) {
    if (req.signal?.aborted) return { ...base, result: 'indeterminate', cancelled: true, summary: 'cancelled while waiting for another run' };
    if (!coalesced) req.onProgress?.({ kind: 'waiting', why: `another verify of tree ${target.tree.slice(0, 12)} runs on this machine: waiting for its answer` });
    coalesced = true;
    await sleep(100);
  }
  try {
    if (coalesced && !req.force) {
      // the run we waited for recorded its answer (unless it ended undecided: then this run tries again)
      const hit = cachedResult(await treeVerifyEvents(req.cwd, target.tree), target.tree, spec.hash);
      if (hit) return fromCachedEvent(target, spec.hash, hit, true);
    }
    return await runAndRecord(req, base, logFile);
  } finally {
    releaseLock(lockFile);
  }
}

/** Runs the steps in a pool worktree, writes the log and the registry entry, and records the answer in the notes. */
async function runAndRecord(req: VerifyRequest, base: Omit<VerifyOutcome, 'result' | 'summary'>, logFile: string): Promise<VerifyOutcome> {
  const { spec, target } = req;
  const { acquireWorkspace } = await import('./pool.js');
  const started = Date.now();
  // the checkout starts first; what the run needs next (execa, ~100 ms of compiling; lowdb; the identity) loads
  // while git works on the other core
  const acquiring = acquireWorkspace({
    cwd: req.cwd,
    commonDir: req.commonDir,
    stateDir: req.stateDir,
    commit: target.commit,
    tree: target.tree,
    keep: spec.verify.keep,
    concurrency: spec.verify.concurrency,
    onWait: () => req.onProgress?.({ kind: 'waiting', why: `all ${spec.verify.concurrency} pool worktree(s) are busy: waiting for one` }),
  });
  acquiring.catch(() => {});
  const { loadExeca } = await import('./load-execa.js');
  loadExeca().catch(() => {});
  const { OWNER_ENV, ownerMark, runSteps, tailLines } = await import('./steps.js');
  const { updateRegistry } = await import('./registry.js');
  const logId = path.basename(logFile, '.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  await updateRegistry(req.stateDir, (r) => {
    r.logs.push({ id: logId, file: logFile, tree: target.tree, spec: spec.hash, commit: target.commit, task: target.task, startedAt: new Date().toISOString(), finishedAt: null, result: null, step: null, exitCode: null, pid: process.pid });
  });
  const { gitIdentityAsync, hostId } = await import('../identity.js');
  const { appendEvents } = await import('../notes/write.js');
  // who runs it: asked while the steps run, not after
  const by = req.identity !== undefined ? Promise.resolve(req.identity) : gitIdentityAsync(req.cwd);
  by.catch(() => {});
  let steps: StepsResult;
  let workspace: Awaited<ReturnType<typeof acquireWorkspace>> | null = null;
  try {
    try {
      workspace = await acquiring;
    } catch (e) {
      const why = `could not prepare a worktree: ${(e as Error).message.split('\n')[0]}`;
      fs.appendFileSync(logFile, `omni-ship: ${why}\n`);
      steps = { result: 'indeterminate', step: null, exitCode: null, reason: why, durationMs: Date.now() - started, steps: [] };
    }
    if (workspace) {
      const ws = workspace;
      const { poolGitEnv } = await import('./pool.js');
      const total = spec.verify.steps.length;
      steps = await runSteps(spec.verify.steps.map((s) => ({ ...s, timeout: s.timeout ?? undefined })), {
        cwd: ws.dir,
        logFile,
        skipExitCode: spec.verify.skipExitCode,
        defaultTimeoutSec: spec.verify.timeout,
        // from this process's env, not {}: core.hooksPath must be appended after the caller's GIT_CONFIG_COUNT
        // settings (a CI's safe.directory, credentials), not written over GIT_CONFIG_KEY_0 with the count cut to 1
        env: { ...poolGitEnv(process.env), [OWNER_ENV]: ownerMark(), OMNI_SHIP_VERIFY_COMMIT: target.commit, OMNI_SHIP_VERIFY_TREE: target.tree, ...(target.task ? { OMNI_SHIP_TASK: target.task } : {}) },
        signal: req.signal,
        onGroup: (pgid) => ws.setGroup(pgid),
        onStepStart: (index, step) => req.onProgress?.({ kind: 'step-start', index, total, name: step.name }),
        onStepEnd: (index, outcome) => req.onProgress?.({ kind: 'step-end', index, total, name: outcome.name, outcome }),
      });
    }
  } finally {
    await workspace?.release();
  }
  steps = steps!;
  const durationMs = Date.now() - started;
  const cancelled = !!req.signal?.aborted && steps.result === 'indeterminate';
  const summary = cancelled ? 'cancelled' : summaryOf(steps, spec.verify.steps.length);
  let event: VerifyEvent | null = null;
  if (!cancelled) {
    event = {
      v: 1,
      type: 'verify',
      at: new Date().toISOString(),
      by: await by.catch(() => 'unknown <unknown>'),
      host: hostId(req.commonDir),
      tree: target.tree,
      spec: spec.hash,
      result: steps.result,
      commit: target.commit,
      task: target.task,
      step: steps.step,
      exitCode: steps.exitCode,
      summary,
      durationMs,
      specFrom: spec.source.kind,
      ...(spec.verify.shareOutput && steps.result !== 'pass' ? { output: tailLines(logFile, 20, 4096) } : {}),
    };
    // a pass is written only here, after every step of this run passed
    await appendEvents(req.cwd, NOTES_REFS.verify, [{ object: target.tree, events: [event] }], undefined, req.known ?? undefined);
  }
  await updateRegistry(req.stateDir, (r) => {
    const entry = r.logs.find((l) => l.file === logFile);
    if (entry) Object.assign(entry, { finishedAt: new Date().toISOString(), result: cancelled ? 'cancelled' : steps.result, step: steps.step, exitCode: steps.exitCode });
  });
  return { ...base, result: steps.result, step: steps.step, exitCode: steps.exitCode, summary, durationMs, log: logFile, event, cancelled };
}
