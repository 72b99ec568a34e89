import fs from 'node:fs';
import { withWorktreeAdminLock } from '../git/worktree-lock.js';
import os from 'node:os';
import path from 'node:path';
import { GitError, git, gitAsync, gitRun } from '../git/exec.js';
import { processStartTime } from '../hooks/process.js';
import { ownerAlive, readLock, releaseLock, tryLock, updateLock, type LockInfo } from './lock.js';
import type { Registry } from './registry.js';

// the registry (lowdb) loads when first used: importing the pool must not delay the checkout that starts a run
const updateRegistry = async <T>(stateDir: string, change: (data: Registry) => T): Promise<T> => (await import('./registry.js')).updateRegistry(stateDir, change);
const readRegistry = async (stateDir: string): Promise<Registry> => (await import('./registry.js')).readRegistry(stateDir);
import { GIT_LOCATION_ENV_VARS, killGroup, killMarked, ownerMark } from './steps.js';

/** A pool worktree held by this process until release(); setGroup records the running step's process group. */
export interface Workspace {
  slot: number;
  dir: string;
  lockFile: string;
  setGroup(pgid: number | null): void;
  release(): Promise<void>;
}

/** Where the pool lives, what to check out, what untracked build state survives, and how many slots there are. */
export interface AcquireOptions {
  cwd: string;
  commonDir: string;
  stateDir: string;
  commit: string;
  /** the commit's tree, when the caller knows it (recorded in the registry) */
  tree?: string;
  keep: readonly string[];
  concurrency: number;
  onWait?: () => void;
}

/** Why git knows these worktrees are ours (shown by `git worktree list --porcelain`). */
const LOCK_REASON = 'omni-ship verify pool';
/** How often a run waiting for a free slot looks again. */
const SLOT_POLL_MS = 200;

/**
 * The environment for git and for steps in the pool: the caller's, with the user's hooks off (a post-checkout hook
 * must not run on every checkout of the pool, nor a pre-commit hook when a step commits) and omni-ship's own hooks
 * told to stand aside. Variables that point git at another repository are dropped.
 */
export function poolGitEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !GIT_LOCATION_ENV_VARS.includes(k)) env[k] = v;
  // GIT_CONFIG_COUNT may already carry the caller's `-c`-style settings: append after them
  const count = Number(env.GIT_CONFIG_COUNT ?? '0');
  const n = Number.isInteger(count) && count >= 0 ? count : 0;
  env[`GIT_CONFIG_KEY_${n}`] = 'core.hooksPath';
  env[`GIT_CONFIG_VALUE_${n}`] = '/dev/null';
  env.GIT_CONFIG_COUNT = String(n + 1);
  env.OMNI_SHIP_SKIP = '1';
  return env;
}

/** Takes the first free slot (waiting while all are busy), and checks `commit` out there clean. */
export async function acquireWorkspace(opts: AcquireOptions): Promise<Workspace> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error(`verify concurrency must be a positive integer, not ${opts.concurrency}`);
  let waited = false;
  for (;;) {
    for (let slot = 0; slot < opts.concurrency; slot++) {
      const lockFile = slotLock(opts.stateDir, slot);
      const data = { slot, commit: opts.commit };
      if (!tryLock(lockFile, data, { onBreak: killOrphans })) continue;
      try {
        const dir = await prepareSlot(opts, slot);
        return workspace(opts.stateDir, slot, dir, lockFile, data);
      } catch (e) {
        releaseLock(lockFile);
        throw e;
      }
    }
    if (!waited) {
      waited = true;
      opts.onWait?.();
    }
    await new Promise((r) => setTimeout(r, SLOT_POLL_MS));
  }
}

/** Removes slots idle for longer than `olderThanMs`; a slot held by a live run is never touched. */
export async function prunePool(opts: { cwd: string; commonDir: string; stateDir: string; olderThanMs: number; dryRun?: boolean }): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const slot of await knownSlots(opts.stateDir)) {
    const dir = slotDir(opts.stateDir, slot);
    const lockFile = slotLock(opts.stateDir, slot);
    if (opts.dryRun) {
      const owner = readLock(lockFile);
      const busy = owner !== null && ownerAlive(owner);
      (!busy && (await idleFor(opts.stateDir, slot)) > opts.olderThanMs ? removed : kept).push(dir);
      continue;
    }
    if (!tryLock(lockFile, { slot, prune: true }, { onBreak: killOrphans })) {
      kept.push(dir);
      continue;
    }
    try {
      // judged under the slot's lock: a run may have used it since the registry was first read
      if ((await idleFor(opts.stateDir, slot)) <= opts.olderThanMs) {
        kept.push(dir);
        continue;
      }
      await withWorktreeAdminLock(path.resolve(opts.cwd, opts.commonDir), () => removeWorktree(opts.cwd, opts.commonDir, dir));
      await updateRegistry(opts.stateDir, (r) => {
        r.pool = r.pool.filter((p) => p.slot !== slot);
      });
      removed.push(dir);
    } finally {
      releaseLock(lockFile);
    }
  }
  return { removed, kept };
}

function slotDir(stateDir: string, slot: number): string {
  return path.join(stateDir, 'pool', String(slot));
}

function slotLock(stateDir: string, slot: number): string {
  return path.join(stateDir, 'pool', `${slot}.lock`);
}

/** git's environment in the pool: poolGitEnv, with the location variables also removed from what gitRun inherits. */
function gitEnv(): Record<string, string | undefined> {
  return { ...poolGitEnv(), ...Object.fromEntries(GIT_LOCATION_ENV_VARS.map((v) => [v, undefined])) };
}

/**
 * A dead run's slot: kill what its last step left running (kill -9 of omni-ship mid-step orphans the step's
 * process group). Only processes of that group started since the step began, and only on this host.
 */
function killOrphans(stale: LockInfo | null): void {
  if (!stale || stale.host !== os.hostname()) return;
  const { pgid, groupStart } = stale.data;
  if (typeof pgid === 'number') killGroup(pgid, { since: typeof groupStart === 'string' ? groupStart : null });
  // a run killed between a step's start and the record of its group left no pgid: its steps carry its mark
  killMarked(ownerMark(stale.pid, stale.start));
}

function workspace(stateDir: string, slot: number, dir: string, lockFile: string, data: Record<string, unknown>): Workspace {
  let released = false;
  return {
    slot,
    dir,
    lockFile,
    setGroup(pgid) {
      // recorded in the lock, so the next run can kill the group if this process dies mid-step
      updateLock(lockFile, pgid === null ? data : { ...data, pgid, groupStart: processStartTime(pgid) });
    },
    async release() {
      if (released) return;
      released = true;
      try {
        await updateRegistry(stateDir, (r) => {
          const entry = r.pool.find((p) => p.slot === slot);
          if (entry) entry.lastUsed = new Date().toISOString();
        });
      } finally {
        releaseLock(lockFile);
      }
    },
  };
}

/** Brings the slot's worktree to `commit`, clean but for the keep globs; creates or repairs it as needed. */
async function prepareSlot(opts: AcquireOptions, slot: number): Promise<string> {
  const dir = slotDir(opts.stateDir, slot);
  const commonDir = path.resolve(opts.cwd, opts.commonDir);
  const env = gitEnv();
  let created = false;
  const adminDir = healthyAdminDir(dir, commonDir);
  // asynchronous: Node goes on loading the step runner (execa, ~100 ms of compiling) on the other core meanwhile
  if (adminDir === null || (await gitAsync(['checkout', '--detach', '--force', '--quiet', opts.commit], { cwd: dir, env })).exitCode !== 0) {
    // an unknown commit fails here, before a sound worktree is torn down for a checkout that cannot work (checked
    // only now: the caller resolved the commit, so the reuse path spends no process on it)
    git(['rev-parse', '--verify', '--quiet', `${opts.commit}^{commit}`], { cwd: opts.cwd, env });
    // one worktree add or remove at a time (src/git/worktree-lock.ts): two verifies preparing slots at once raced
    await withWorktreeAdminLock(commonDir, () => {
      removeWorktree(opts.cwd, commonDir, dir);
      git(['worktree', 'add', '--detach', '--force', dir, opts.commit], { cwd: opts.cwd, env });
    });
    created = true;
  }
  // locked, so `git worktree prune` (or gc) never drops it while its folder is briefly gone
  const admin = created ? healthyAdminDir(dir, commonDir) : adminDir;
  if (admin === null) throw new Error(`verify pool worktree ${dir} is broken right after git made it`);
  if (!fs.existsSync(path.join(admin, 'locked'))) git(['worktree', 'lock', '--reason', LOCK_REASON, dir], { cwd: opts.cwd, env });
  // -x drops ignored files too, but -e patterns still hold: build state like node_modules survives
  const cleaned = await gitAsync(['clean', '-ffdxq', ...opts.keep.flatMap((k) => ['-e', k])], { cwd: dir, env });
  if (cleaned.exitCode !== 0) throw new GitError(['clean', '-ffdxq'], cleaned.exitCode, cleaned.stderr);
  if (fs.existsSync(path.join(dir, '.gitmodules'))) {
    git(['submodule', 'update', '--init', '--recursive', '--force'], { cwd: dir, env });
    // git clean does not enter submodules: their untracked files would outlive the run otherwise
    git(['submodule', 'foreach', '--quiet', '--recursive', 'git clean -ffdxq'], { cwd: dir, env });
  }
  // after a successful checkout --detach of the commit, HEAD is that commit: no process to ask
  const head = opts.commit;
  const tree = opts.tree ?? (gitRun(['rev-parse', '--verify', '-q', `${opts.commit}^{tree}`], { cwd: opts.cwd, env }).stdout.trim() || null);
  await updateRegistry(opts.stateDir, (r) => {
    const now = new Date().toISOString();
    const i = r.pool.findIndex((p) => p.slot === slot);
    const prev = i >= 0 ? r.pool[i] : undefined;
    const entry = { ...prev, slot, path: dir, commit: head, tree, createdAt: !created && prev ? prev.createdAt : now, lastUsed: now };
    if (i >= 0) r.pool[i] = entry;
    else r.pool.push(entry);
  });
  return dir;
}

/**
 * The worktree's admin dir when `dir` is a sound worktree of this repository, else null: the folder exists, its
 * `.git` file names an admin dir under `<commonDir>/worktrees/` that exists, and git agrees on the common dir.
 */
function healthyAdminDir(dir: string, commonDir: string): string | null {
  try {
    const m = /^gitdir: (.+?)\s*$/.exec(fs.readFileSync(path.join(dir, '.git'), 'utf8'));
    if (!m?.[1]) return null;
    const admin = fs.realpathSync(path.resolve(dir, m[1]));
    const worktrees = fs.realpathSync(path.join(commonDir, 'worktrees'));
    if (path.dirname(admin) !== worktrees || !fs.statSync(admin).isDirectory()) return null;
    // the admin dir must point back at this folder (git's own link), and be this repository's (it is under its
    // worktrees dir): checked on files, no git process on the reuse path
    const back = fs.readFileSync(path.join(admin, 'gitdir'), 'utf8').trim();
    if (!samePath(back, path.join(dir, '.git'))) return null;
    return admin;
  } catch {
    return null; // folder, .git file or admin dir missing
  }
}

/**
 * Removes the worktree at `dir` and git's record of it, whatever state it is in. Admin dirs that point at `dir`
 * are removed by hand: when the `.git` file is garbage git cannot match them, and a locked one would make the next
 * `worktree add` refuse.
 */
function removeWorktree(cwd: string, commonDir: string, dir: string): void {
  const env = gitEnv();
  gitRun(['worktree', 'unlock', dir], { cwd, env });
  gitRun(['worktree', 'remove', '--force', dir], { cwd, env });
  const worktrees = path.join(commonDir, 'worktrees');
  const target = path.join(dir, '.git');
  for (const name of safeReaddir(worktrees)) {
    try {
      const gitdir = fs.readFileSync(path.join(worktrees, name, 'gitdir'), 'utf8').trim();
      if (samePath(gitdir, target)) fs.rmSync(path.join(worktrees, name), { recursive: true, force: true });
    } catch {
      /* not an admin dir */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  gitRun(['worktree', 'prune'], { cwd, env });
}

function samePath(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    return fs.realpathSync(path.dirname(a)) === fs.realpathSync(path.dirname(b)) && path.basename(a) === path.basename(b);
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every slot the registry or the pool folder knows of. */
async function knownSlots(stateDir: string): Promise<number[]> {
  const slots = new Set((await readRegistry(stateDir)).pool.map((p) => p.slot));
  for (const name of safeReaddir(path.join(stateDir, 'pool'))) {
    const m = /^(\d+)(\.lock)?$/.exec(name);
    if (m) slots.add(Number(m[1]));
  }
  return [...slots].sort((a, b) => a - b);
}

/** How long the slot has been idle: since its registry lastUsed, or its folder's mtime if the registry lost it. */
async function idleFor(stateDir: string, slot: number): Promise<number> {
  const entry = (await readRegistry(stateDir)).pool.find((p) => p.slot === slot);
  let last = entry ? Date.parse(entry.lastUsed) : NaN;
  if (!Number.isFinite(last)) {
    try {
      last = fs.statSync(slotDir(stateDir, slot)).mtimeMs;
    } catch {
      last = 0;
    }
  }
  return Date.now() - last;
}
