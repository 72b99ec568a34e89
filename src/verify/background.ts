import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { entryPoint } from '../paths.js';
import { processStartTime } from '../hooks/process.js';

/**
 * The newest verify wanted for each task, one small file per task. A background verify runs only while its commit
 * is the one named there: a burst of 20 amends writes it 20 times, and every run but the newest gives up (before
 * its steps start, or by killing them), so the steps run at most twice, not 20 times.
 */
export interface TaskRequest {
  commit: string;
  pid: number;
  start: string | null;
  at: string;
  /** false when the tree's answer was cached and no run was started: `logs --follow` then has nothing to wait for */
  pending?: boolean;
}

/** The file that names the newest verify wanted for `task`. */
export function taskRequestFile(stateDir: string, task: string): string {
  return path.join(stateDir, 'verify', 'tasks', `${task}.json`);
}

/** Records `commit` as the verify wanted for `task` (atomically: a reader sees the old or the new, never half). */
export function requestTaskVerify(stateDir: string, task: string, commit: string, pending = true): void {
  const file = taskRequestFile(stateDir, task);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const request: TaskRequest = { commit, pid: process.pid, start: processStartTime(process.pid), at: new Date().toISOString(), pending };
  fs.writeFileSync(tmp, JSON.stringify(request));
  fs.renameSync(tmp, file);
}

/** The newest verify wanted for `task`, or null. */
export function taskRequest(stateDir: string, task: string): TaskRequest | null {
  try {
    const r = JSON.parse(fs.readFileSync(taskRequestFile(stateDir, task), 'utf8')) as Partial<TaskRequest>;
    if (typeof r.commit !== 'string' || typeof r.at !== 'string') return null;
    return { commit: r.commit, pid: Number(r.pid), start: typeof r.start === 'string' ? r.start : null, at: r.at, pending: r.pending !== false };
  } catch {
    return null;
  }
}

/** The commit of the newest verify wanted for `task`, or null. */
export function wantedCommit(stateDir: string, task: string): string | null {
  return taskRequest(stateDir, task)?.commit ?? null;
}

/**
 * Starts `omni-ship hook verify <commit> [--task <task>]` detached from the caller (its own session, output to
 * verify/background.log), and returns at once. The hook form never executes an untrusted JavaScript config.
 */
export function spawnBackgroundVerify(cwd: string, stateDir: string, commit: string, task: string | null, flags: { force?: boolean; specFromCommit?: boolean } = {}): number | null {
  const log = path.join(stateDir, 'verify', 'background.log');
  fs.mkdirSync(path.dirname(log), { recursive: true });
  const fd = fs.openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [
      entryPoint(),
      'hook',
      'verify',
      commit,
      ...(task ? ['--task', task] : []),
      ...(flags.force ? ['--force'] : []),
      ...(flags.specFromCommit ? ['--spec-from-commit'] : []),
    ], {
      cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.unref();
    return child.pid ?? null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An AbortSignal that fires once `task`'s wanted commit is no longer `commit` (a newer patchset came), checked
 * every `everyMs`. `stop()` ends the watch.
 */
export function supersededSignal(stateDir: string, task: string, commit: string, everyMs = 200): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const timer = setInterval(() => {
    const wanted = wantedCommit(stateDir, task);
    if (wanted !== null && wanted !== commit) controller.abort(new Error(`a newer patchset of ${task} (${wanted.slice(0, 12)}) replaced it`));
  }, everyMs);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

/** A patchset the drainer just recorded. */
export interface NewPatchset {
  task: string;
  commit: string;
  tree: string;
}

/**
 * After the drainer recorded patchsets: with verify.onCommit and steps in the spec, names each task's newest
 * patchset as the verify wanted for it, and starts a background verify for it unless its tree already has an answer
 * under the spec. Reads the spec as verify does (the base's or the local config), but never runs the cacheKey
 * command here: its last recorded output stands in, and the background verify runs it. Returns a line per task for
 * the hooks log.
 */
export async function verifyNewPatchsets(cwd: string, commonDir: string, stateDir: string, config: import('../config.js').Config, patchsets: readonly NewPatchset[]): Promise<string[]> {
  if (patchsets.length === 0) return [];
  const { findBaseTip } = await import('./base.js');
  const { resolveSpec } = await import('./spec.js');
  const { cachedResult } = await import('./fold.js');
  const { treeVerifyEvents } = await import('./verify.js');
  const base = findBaseTip(cwd, config);
  const spec = await resolveSpec({ cwd, commonDir, stateDir, baseTip: base?.tip ?? null, runCacheKey: false, baseName: config.baseBranch });
  if (!spec.verify.onCommit || spec.verify.steps.length === 0) return [];
  const newest = new Map<string, NewPatchset>();
  for (const p of patchsets) newest.set(p.task, p);
  const lines: string[] = [];
  for (const p of newest.values()) {
    const known = spec.verify.cacheKey === null || spec.cacheKeyOutput !== null;
    const hit = known ? cachedResult(await treeVerifyEvents(cwd, p.tree), p.tree, spec.hash) : null;
    // written on a hit too: it tells an older run of the task to stop; `pending` says whether a run follows
    requestTaskVerify(stateDir, p.task, p.commit, !hit);
    if (hit) {
      lines.push(`verify ${p.task} ${p.commit.slice(0, 12)}: ${hit.result} already recorded for its tree`);
      continue;
    }
    const pid = spawnBackgroundVerify(cwd, stateDir, p.commit, p.task);
    lines.push(`verify ${p.task} ${p.commit.slice(0, 12)}: started in the background (pid ${pid ?? '?'})`);
  }
  return lines;
}
