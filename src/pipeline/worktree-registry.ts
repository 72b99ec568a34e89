import fs from 'node:fs';
import path from 'node:path';
import type { Low } from 'lowdb';
import { loadRegistryFile } from '../registry-file.js';
import { readLock, releaseLock, waitForLock } from '../verify/lock.js';

/** Where a task worktree's first commit came from. */
export type WorktreeStart = 'base' | 'patchset' | 'branch';

/** One task worktree omni-ship made: the registry entry that lets `worktree release --remove` remove it. */
export interface WorktreeRecord {
  task: string;
  /** the worktree's directory, absolute */
  path: string;
  /** the branch checked out there (short name) */
  branch: string;
  createdAt: string;
  /** always "omni-ship": a worktree in the registry is one this tool made, so one this tool may remove */
  createdBy: 'omni-ship';
  /** the commit the worktree started from */
  baseCommit: string;
  /** the base branch, the task's latest patchset, or its existing branch */
  from: WorktreeStart;
  /** the ref baseCommit was read from (refs/remotes/origin/main, refs/heads/t-7), null for a patchset */
  fromRef: string | null;
  /** the patchset number, when from is "patchset" */
  patchset: number | null;
  /** the folders symlinked from the main work tree (worktree.linkDirs that existed there) */
  links: string[];
}

/** The machine-local registry of task worktrees: one file per clone, in the common git dir's omni-ship folder. */
export interface WorktreeRegistry {
  version: 1;
  worktrees: WorktreeRecord[];
}

/** The registry's file name inside the state folder (beside the verify registry, not in it: different lifetimes). */
export const WORKTREES_FILE = 'worktrees.json';

/** How long a registry update waits for another process's update (they take milliseconds). */
const LOCK_TIMEOUT_MS = 120_000;

/** The registry as it is now (empty if missing or damaged); no lock: lowdb replaces the file by rename. */
export async function readWorktreeRegistry(stateDir: string): Promise<WorktreeRegistry> {
  return (await load(path.join(stateDir, WORKTREES_FILE))).data;
}

/**
 * Reads, changes and writes the registry under `worktrees.json.lock` (the verify registry's lock, src/verify/lock.ts):
 * two processes' read-modify-write would otherwise lose one update. `change` says whether to write (a refusal writes nothing).
 */
export async function updateWorktreeRegistry<T>(stateDir: string, change: (data: WorktreeRegistry) => { result: T; write: boolean }): Promise<T> {
  fs.mkdirSync(stateDir, { recursive: true }); // lowdb does not create its folder
  const file = path.join(stateDir, WORKTREES_FILE);
  const lockFile = `${file}.lock`;
  if (!(await waitForLock(lockFile, { timeoutMs: LOCK_TIMEOUT_MS, pollMs: 20 }))) {
    throw new Error(`the worktree registry ${file} stayed locked by pid ${readLock(lockFile)?.pid ?? '?'} for ${LOCK_TIMEOUT_MS / 1000} s`);
  }
  try {
    const { db, damaged } = await load(file);
    const { result, write } = change(db.data);
    if (write) {
      // kept for a look; the registry starts over (its worktrees then count as not made by omni-ship: never removed)
      if (damaged) fs.copyFileSync(file, `${file}.bad`);
      await db.write();
    }
    return result;
  } finally {
    releaseLock(lockFile);
  }
}

function empty(): WorktreeRegistry {
  return { version: 1, worktrees: [] };
}

/** The registry file through lowdb (see loadRegistryFile). */
function load(file: string): Promise<{ db: Low<WorktreeRegistry>; data: WorktreeRegistry; damaged: boolean }> {
  return loadRegistryFile(file, empty, isRegistry);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';

function isRecord(v: unknown): boolean {
  return (
    isObject(v) &&
    str(v.task) && str(v.path) && str(v.branch) && str(v.createdAt) && v.createdBy === 'omni-ship' && str(v.baseCommit) &&
    (v.from === 'base' || v.from === 'patchset' || v.from === 'branch') && strOrNull(v.fromRef) &&
    (v.patchset === null || Number.isInteger(v.patchset)) && Array.isArray(v.links) && v.links.every(str)
  );
}

/** The known keys have the right shapes; unknown keys (a later version's) are allowed and kept. */
function isRegistry(v: unknown): v is WorktreeRegistry {
  return isObject(v) && v.version === 1 && Array.isArray(v.worktrees) && v.worktrees.every(isRecord);
}
