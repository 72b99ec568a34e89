import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { readLock, releaseLock, waitForLock } from '../verify/lock.js';

/**
 * One `git worktree add` or `remove` at a time in a repository. git 2.39 does not guard its worktree list against
 * itself: an add reads every `worktrees/<id>/commondir` to see where the branch is checked out, and one another add
 * has just made (its folder there, the file still empty) fails it with "failed to read .git/worktrees/<id>/commondir:
 * Success". omni-ship's own adds and removes (task worktrees, the verify pool) take this lock, in the common dir's
 * omni-ship folder; a dead holder's lock is taken over (src/verify/lock.ts). They take milliseconds; the wait is
 * long only for a checkout of a big tree.
 */
const WAIT_MS = 10 * 60_000;

export async function withWorktreeAdminLock<T>(commonDir: string, fn: () => T | Promise<T>): Promise<T> {
  const dir = path.join(commonDir, 'omni-ship');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'worktree-admin.lock');
  if (!(await waitForLock(file, { timeoutMs: WAIT_MS, pollMs: 20 }))) {
    throw new UserError(`another omni-ship (pid ${readLock(file)?.pid ?? '?'}) has been adding or removing a worktree for ${WAIT_MS / 60_000} minutes`, ExitCode.conflict, `try again; if no omni-ship runs, remove ${file}`);
  }
  try {
    return await fn();
  } finally {
    releaseLock(file);
  }
}
