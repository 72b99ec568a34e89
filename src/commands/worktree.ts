import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { columns, type CommandOutput } from '../output.js';
import { listWorktreeRecords, releaseWorktree, startWorktree, type ListedWorktree, type ReleaseResult, type StartResult } from '../pipeline/worktrees.js';

/**
 * Creates or reuses the task's worktree (README, "omni-ship worktree"). Prints its path alone on stdout, so
 * `cd "$(omni-ship worktree start t-7)"` works; what happened goes to stderr.
 */
export async function worktreeStartCommand(opts: BaseOptions & { task: string }): Promise<CommandOutput<StartResult>> {
  const { data, notes } = await startWorktree(opts.cwd, opts.task);
  return { data, text: data.path, warnings: notes };
}

/** The worktrees omni-ship made here, each with whether it exists, has uncommitted changes, and its HEAD. */
export async function worktreeListCommand(opts: BaseOptions): Promise<CommandOutput<{ worktrees: ListedWorktree[] }>> {
  const worktrees = await listWorktreeRecords(opts.cwd);
  if (!worktrees.length) return { data: { worktrees }, text: 'no task worktrees (omni-ship worktree start <task> makes one)' };
  const rows = [
    ['TASK', 'BRANCH', 'HEAD', 'STATE', 'PATH'],
    ...worktrees.map((w) => [
      w.task,
      w.checkedOut ?? (w.exists ? '(detached)' : w.branch),
      w.head?.slice(0, 12) ?? '-',
      !w.exists ? 'missing' : w.dirty === null ? 'unreadable' : w.dirty ? 'dirty' : 'clean',
      path.relative(opts.cwd, w.path).startsWith('..') ? w.path : path.relative(opts.cwd, w.path) || '.',
    ]),
  ];
  return { data: { worktrees }, text: columns(rows) };
}

/** Forgets the task's worktree (and with --remove removes it, never one with uncommitted changes); its branch is kept. */
export async function worktreeReleaseCommand(opts: BaseOptions & { task: string; remove: boolean }): Promise<CommandOutput<ReleaseResult>> {
  const { data, notes } = await releaseWorktree(opts.cwd, opts.task, opts.remove);
  const text = data.removed
    ? `${data.task}: removed the worktree ${data.path}; branch ${data.branch} is kept`
    : `${data.task}: released the worktree ${data.path}; the folder and branch ${data.branch} are kept`;
  return { data, text, warnings: notes };
}
