import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { ExitCode } from '../errors.js';
import { findRepo } from '../git/repo.js';
import type { LandRequest, LandResult, TaskLandOutcome } from '../land/land.js';
import { colorEnabled, style, type CommandOutput } from '../output.js';

/** Options of `omni-ship land` (alias `ship`): the request land takes, as the CLI fills it in. */
export type LandOptions = BaseOptions & Omit<LandRequest, 'gitProgress' | 'onProgress'>;

/**
 * A dry run writes nothing, objects included: git writes the candidates' trees and commits into a scratch object
 * directory that reads the repository's own through GIT_ALTERNATE_OBJECT_DIRECTORIES, removed afterwards.
 */
function quarantineObjects(cwd: string): () => void {
  const repo = findRepo(cwd);
  if (!repo) return () => {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-dry-run-'));
  const saved = { dir: process.env.GIT_OBJECT_DIRECTORY, alt: process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES };
  const own = saved.dir ?? path.join(repo.commonDir, 'objects');
  process.env.GIT_OBJECT_DIRECTORY = dir;
  process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES = [own, saved.alt].filter(Boolean).join(path.delimiter);
  return () => {
    if (saved.dir === undefined) delete process.env.GIT_OBJECT_DIRECTORY;
    else process.env.GIT_OBJECT_DIRECTORY = saved.dir;
    if (saved.alt === undefined) delete process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES;
    else process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES = saved.alt;
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

/** Lands verified tasks on the base branch (see src/land/land.ts); exit 0 when every task landed or had landed. */
export async function landCommand(opts: LandOptions): Promise<CommandOutput<LandResult>> {
  const { landTasks } = await import('../land/land.js');
  const tty = Boolean(process.stderr.isTTY);
  const color = colorEnabled(process.stderr);
  const restore = opts.dryRun ? quarantineObjects(opts.cwd) : () => {};
  let result: LandResult;
  try {
    result = await landTasks({
      cwd: opts.cwd,
      tasks: opts.tasks,
      all: opts.all,
      dryRun: opts.dryRun,
      push: opts.push,
      keepBranch: opts.keepBranch,
      base: opts.base,
      remote: opts.remote,
      batchSize: opts.batchSize,
      requireCached: opts.requireCached,
      gitProgress: tty,
      // each step as it starts, on a TTY only: piped, land is quiet until its answer
      onProgress: tty ? (p) => process.stderr.write(`${style('dim', `${p.task ? `${p.task}: ` : ''}${p.message}`, color)}\n`) : undefined,
    });
  } finally {
    restore();
  }
  const failed = result.tasks.find((t) => t.outcome === 'refused');
  return { data: result, text: landText(result, colorEnabled()), exitCode: failed ? failed.exitCode : ExitCode.ok, warnings: result.warnings };
}

/** One task's line (and its reason and hint). */
function taskLines(t: TaskLandOutcome, r: LandResult, color: boolean): string[] {
  const short = (s: string | null) => (s ? s.slice(0, 12) : '?');
  switch (t.outcome) {
    case 'landed': {
      const batch = t.batchSize && t.batchSize > 1 ? ` in a batch of ${t.batchSize}` : '';
      const v = t.verify ? ` (verify ${t.verify.result}${t.verify.cached ? ', cached' : ''})` : '';
      const lines = [`${style('green', 'landed', color)} ${t.task} as ${short(t.landed)} on ${r.base}${batch}${v}`];
      for (const b of t.branches) lines.push(`  branch ${b.remote ? `${b.remote}/` : ''}${b.branch}: ${b.deleted ? 'deleted' : `kept: ${b.kept}`}`);
      return lines;
    }
    case 'already-landed':
      return [`${t.task} had landed already as ${short(t.landed)}${t.reason === 'recorded' ? ' (its landing is now recorded)' : t.reason ? ` (${t.reason})` : ''}`, ...t.branches.map((b) => `  branch ${b.remote ? `${b.remote}/` : ''}${b.branch}: ${b.deleted ? 'deleted' : `kept: ${b.kept}`}`)];
    case 'would-land':
      return [`would land ${t.task} as ${short(t.landed)}: ${t.reason}${t.verify ? ` (verify: ${t.verify.result === 'none' ? 'would run' : `${t.verify.result}, cached`})` : ''}`];
    case 'refused':
      return [`${style('red', 'refused', color)} ${t.reason}${t.gate ? ` [${t.gate}]` : ''}`, ...(t.hint ? [`  hint: ${t.hint}`] : [])];
  }
}

/** The human answer of `land`. */
function landText(r: LandResult, color: boolean): string {
  const lines = r.tasks.flatMap((t) => taskLines(t, r, color));
  if (r.tasks.length === 0) lines.push('no verified task to land');
  if (r.newTip) lines.push(`${r.base}: ${r.oldTip?.slice(0, 12)} -> ${r.newTip.slice(0, 12)}${r.pushed ? ` on ${r.remote}` : ' (local only)'}`);
  if (r.dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n');
}
