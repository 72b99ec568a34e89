import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processStartTime, sameProcessAlive } from '../hooks/process.js';

/** What a lock file holds: its owner (pid + start time name one process for good), its host, when, and caller data. */
export interface LockInfo {
  pid: number;
  start: string | null;
  host: string;
  at: string;
  data: Record<string, unknown>;
}

/** Options of tryLock beyond the lock's data. */
export interface TryLockOptions {
  /** called under the break lock with the dead owner's lock (null if it was garbage) just before it is removed */
  onBreak?(stale: LockInfo | null): void;
}

/** A lock file that is empty or garbage this long is a creator killed between create and write, not one writing. */
const GARBAGE_STALE_MS = 5_000;
/** A break lock is held for a read and an unlink; one this old belongs to a breaker that died. */
const BREAK_STALE_MS = 10_000;
/** A lock of another host (a common dir on NFS) cannot be checked by pid: only this much age makes it dead. */
const OTHER_HOST_STALE_MS = 24 * 60 * 60 * 1000;

const myStart = (): string | null => processStartTime(process.pid);

/** Takes the lock if it is free or its owner is dead; false if a live owner holds it. Never blocks. */
export function tryLock(file: string, data: Record<string, unknown> = {}, opts: TryLockOptions = {}): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // a few rounds: a broken stale lock is retaken at once, and a lock released meanwhile is free again
  for (let round = 0; ; round++) {
    if (create(file, data)) return true;
    if (round === 3) return false;
    const seen = readRaw(file);
    if (seen === undefined) continue; // released between our create and read: try again
    if (!isStale(seen)) return false;
    breakStale(file, opts);
  }
}

/** The lock's owner and data, or null when the file is absent or not (yet) a complete lock. */
export function readLock(file: string): LockInfo | null {
  return readRaw(file)?.info ?? null;
}

/** Replaces the lock's data, atomically (tmp + rename), so a reader never sees half a lock. Throws unless ours. */
export function updateLock(file: string, data: Record<string, unknown>): void {
  const info = readLock(file);
  if (!info || !isMine(info)) throw new Error(`cannot update lock ${file}: this process does not hold it`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...info, data }));
  fs.renameSync(tmp, file);
}

/** Removes the lock if this process holds it; a lock taken over by someone else is left alone. */
export function releaseLock(file: string): void {
  const info = readLock(file);
  if (info && isMine(info)) fs.rmSync(file, { force: true });
}

/** Polls until the lock is ours (true) or timeoutMs passes (false); waits forever without a timeout. */
export async function waitForLock(
  file: string,
  opts: { timeoutMs?: number; pollMs?: number; data?: Record<string, unknown>; onWait?: (owner: LockInfo | null) => void; onBreak?: TryLockOptions['onBreak'] } = {},
): Promise<boolean> {
  const end = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    if (tryLock(file, opts.data, { onBreak: opts.onBreak })) return true;
    if (!told) {
      told = true;
      opts.onWait?.(readLock(file));
    }
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(opts.pollMs ?? 50, end - Date.now()))));
  }
}

/** True while the lock's owner may still hold it: a live process on this host, or a lock of another host under 24 h old. */
export function ownerAlive(info: LockInfo): boolean {
  if (info.host === os.hostname()) return sameProcessAlive(info.pid, info.start);
  const at = Date.parse(info.at);
  return Number.isFinite(at) && Date.now() - at <= OTHER_HOST_STALE_MS;
}

/** A lock file as read: its parsed owner (null if garbage) and its modification time. */
interface RawLock {
  info: LockInfo | null;
  mtimeMs: number;
}

function create(file: string, data: Record<string, unknown>): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    const info: LockInfo = { pid: process.pid, start: myStart(), host: os.hostname(), at: new Date().toISOString(), data };
    fs.writeSync(fd, JSON.stringify(info));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The lock file, or undefined when there is none. */
function readRaw(file: string): RawLock | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { info: null, mtimeMs: Date.now() }; // unreadable now: judge it later, not dead yet
  }
  return { info: parse(text), mtimeMs };
}

function parse(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo> | null;
    if (!v || typeof v !== 'object' || !Number.isInteger(v.pid) || typeof v.host !== 'string' || typeof v.at !== 'string') return null;
    if (v.start !== null && typeof v.start !== 'string') return null;
    const data = v.data && typeof v.data === 'object' && !Array.isArray(v.data) ? v.data : {};
    return { pid: v.pid!, start: v.start, host: v.host, at: v.at, data };
  } catch {
    return null;
  }
}

function isStale(raw: RawLock): boolean {
  if (raw.info) return !ownerAlive(raw.info);
  return Date.now() - raw.mtimeMs > GARBAGE_STALE_MS;
}

function isMine(info: LockInfo): boolean {
  return info.pid === process.pid && info.start === myStart() && info.host === os.hostname();
}

/**
 * Removes a stale lock under `<file>.break`. Two processes that both saw the same dead owner must not let the slower
 * one delete the lock the faster one has taken since: the file is re-read under the break lock and removed only if
 * what it holds now is still stale.
 */
function breakStale(file: string, opts: TryLockOptions): void {
  const breakFile = `${file}.break`;
  if (!create(breakFile, {})) {
    removeStaleBreakLock(breakFile);
    return; // another process is breaking it; the caller's next round sees the outcome
  }
  try {
    const now = readRaw(file);
    if (now && isStale(now)) {
      opts.onBreak?.(now.info);
      fs.rmSync(file, { force: true });
    }
  } finally {
    fs.rmSync(breakFile, { force: true });
  }
}

/** Removes a break lock left by a breaker that died holding it (it is held for milliseconds, so 10 s is dead). */
function removeStaleBreakLock(breakFile: string): void {
  try {
    const st = fs.statSync(breakFile);
    if (Date.now() - st.mtimeMs <= BREAK_STALE_MS) return;
    // the same file (inode and time) we judged, not one a live breaker just made in its place
    const again = fs.statSync(breakFile);
    if (again.ino === st.ino && again.mtimeMs === st.mtimeMs) fs.rmSync(breakFile, { force: true });
  } catch {
    /* gone meanwhile */
  }
}
