import fs from 'node:fs';
import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { requireRepo, stateDir as stateDirOf } from '../git/repo.js';
import type { CommandOutput } from '../output.js';
import { findBaseTip } from '../verify/base.js';
import { resolveSpec } from '../verify/spec.js';

/** The JSON shape of `omni-ship verify --prune --json`. */
export interface VerifyPruneJson {
  olderThanDays: number;
  removedWorktrees: string[];
  keptWorktrees: string[];
  removedLogs: string[];
}

/** Log files under `dir` (recursively) last written before `cutoff`. */
function oldFiles(dir: string, cutoff: number): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...oldFiles(p, cutoff));
    else if (e.name.endsWith('.log') && fs.statSync(p).mtimeMs < cutoff) out.push(p);
  }
  return out;
}

/**
 * `omni-ship verify --prune`: removes pool worktrees idle for verify.pruneAfterDays and verify logs older than
 * that (never a worktree or log of a run in progress). Machine-local only: no result in the notes is touched.
 */
export async function verifyPruneCommand(opts: BaseOptions): Promise<CommandOutput<VerifyPruneJson>> {
  const repo = requireRepo(opts.cwd);
  const cwd = repo.toplevel ?? repo.commonDir;
  const dir = stateDirOf(repo);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
  const base = findBaseTip(cwd, config);
  const spec = await resolveSpec({ cwd, commonDir: repo.commonDir, stateDir: dir, baseTip: base?.tip ?? null, runCacheKey: false, baseName: config.baseBranch });
  const days = spec.verify.pruneAfterDays;
  const cutoff = Date.now() - days * 86_400_000;
  const { prunePool } = await import('../verify/pool.js');
  const { updateRegistry } = await import('../verify/registry.js');
  const { runningVerifies } = await import('../verify/running.js');
  const pool = await prunePool({ cwd, commonDir: repo.commonDir, stateDir: dir, olderThanMs: days * 86_400_000 });
  const running = new Set(runningVerifies(dir).map((r) => r.log));
  const removedLogs: string[] = [];
  for (const file of oldFiles(path.join(dir, 'verify', 'logs'), cutoff)) {
    if (running.has(file)) continue;
    fs.rmSync(file, { force: true });
    removedLogs.push(file);
  }
  const gone = new Set(removedLogs);
  await updateRegistry(dir, (r) => {
    r.logs = r.logs.filter((l) => !gone.has(l.file) && fs.existsSync(l.file));
  });
  const data: VerifyPruneJson = { olderThanDays: days, removedWorktrees: pool.removed, keptWorktrees: pool.kept, removedLogs };
  const text = `removed ${pool.removed.length} pool worktree(s) and ${removedLogs.length} log(s) older than ${days} day(s); kept ${pool.kept.length} worktree(s)`;
  return { data, text };
}
