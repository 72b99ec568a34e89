import fs from 'node:fs';
import path from 'node:path';
import type { Low } from 'lowdb';
import { loadRegistryFile } from '../registry-file.js';
import { readLock, releaseLock, waitForLock } from './lock.js';

/** One worktree of the verify pool, as last prepared. */
export interface PoolEntry {
  slot: number;
  path: string;
  commit: string | null;
  tree: string | null;
  createdAt: string;
  lastUsed: string;
}

/** One verify run's log file and outcome (null fields while it runs). */
export interface LogEntry {
  id: string;
  file: string;
  tree: string;
  spec: string;
  commit: string | null;
  task: string | null;
  startedAt: string;
  finishedAt: string | null;
  result: string | null;
  step: string | null;
  exitCode: number | null;
  pid: number;
}

/** The machine-local registry: a cache of what this machine did, never shared and never fatal when damaged. */
export interface Registry {
  version: 1;
  pool: PoolEntry[];
  logs: LogEntry[];
}

/** The registry's file name inside the state folder. */
export const REGISTRY_FILE = 'registry.json';

/** How long an update waits for another process's update before giving up (they take milliseconds). */
const LOCK_TIMEOUT_MS = 120_000;

/** The registry as it is now (empty if missing or damaged); no lock: lowdb replaces the file by rename. */
export async function readRegistry(stateDir: string): Promise<Registry> {
  return (await load(path.join(stateDir, REGISTRY_FILE))).data;
}

/**
 * Reads, changes and writes the registry under `registry.json.lock`. lowdb alone writes `x.tmp` and renames, so two
 * processes' read-modify-write would lose one update; the lock serialises them. Returns what `change` returns.
 */
export async function updateRegistry<T>(stateDir: string, change: (data: Registry) => T): Promise<T> {
  fs.mkdirSync(stateDir, { recursive: true }); // lowdb does not create its folder
  const file = path.join(stateDir, REGISTRY_FILE);
  const lockFile = `${file}.lock`;
  if (!(await waitForLock(lockFile, { timeoutMs: LOCK_TIMEOUT_MS, pollMs: 20 }))) {
    throw new Error(`the verify registry ${file} stayed locked by pid ${readLock(lockFile)?.pid ?? '?'} for ${LOCK_TIMEOUT_MS / 1000} s`);
  }
  try {
    const { db, damaged } = await load(file);
    if (damaged) fs.copyFileSync(file, `${file}.bad`); // kept for a look; the cache starts over
    const result = change(db.data);
    await db.write();
    return result;
  } finally {
    releaseLock(lockFile);
  }
}

function empty(): Registry {
  return { version: 1, pool: [], logs: [] };
}

/** The registry file through lowdb (see loadRegistryFile). */
function load(file: string): Promise<{ db: Low<Registry>; data: Registry; damaged: boolean }> {
  return loadRegistryFile(file, empty, isRegistry);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
const intOrNull = (v: unknown) => v === null || Number.isInteger(v);

function isPoolEntry(v: unknown): boolean {
  return isObject(v) && Number.isInteger(v.slot) && str(v.path) && strOrNull(v.commit) && strOrNull(v.tree) && str(v.createdAt) && str(v.lastUsed);
}

function isLogEntry(v: unknown): boolean {
  return (
    isObject(v) &&
    str(v.id) && str(v.file) && str(v.tree) && str(v.spec) && strOrNull(v.commit) && strOrNull(v.task) && str(v.startedAt) &&
    strOrNull(v.finishedAt) && strOrNull(v.result) && strOrNull(v.step) && intOrNull(v.exitCode) && Number.isInteger(v.pid)
  );
}

/** The known keys have the right shapes; unknown keys (a later version's) are allowed and kept. */
function isRegistry(v: unknown): v is Registry {
  return isObject(v) && v.version === 1 && Array.isArray(v.pool) && Array.isArray(v.logs) && v.pool.every(isPoolEntry) && v.logs.every(isLogEntry);
}
