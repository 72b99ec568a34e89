import fs from 'node:fs';
import path from 'node:path';
import { processStartTime, sameProcessAlive } from '../hooks/process.js';

/**
 * Ref locks a killed omni-ship left behind.
 *
 * git takes `<ref>.lock` (and `packed-refs.lock`) for each ref it writes, and removes it when it finishes or when it
 * is stopped by a signal it can catch. A SIGKILL (or the OOM killer) between the lock and its rename leaves the file,
 * and every later write of that ref fails with "Unable to create '….lock': File exists" until someone removes it.
 * git itself never does: it cannot tell a crashed writer from a live one.
 *
 * omni-ship can, for its own writers. Each omni-ship process that runs a ref-writing git command first registers
 * itself in `<common dir>/omni-ship/writers/<pid>` (once per process and repository; removed when it exits). A
 * writer later found whose process is gone was killed. A lock is taken as that writer's, and removed, when
 *  - some killed writer was registered before the lock file was made, and
 *  - the lock stays exactly as it is (same file, same time, same size) for STEADY_MS, more than git's own wait for
 *    a busy ref lock (core.filesRefLockTimeout, 100 ms): a live git holds a ref lock for milliseconds.
 * A lock of omni-ship's own refs (refs/notes/omni-ship/, refs/omni-ship/, the display notes ref) older than a minute
 * is stale whoever left it (a git killed before this registry, or one the user ran). Any other lock with no killed
 * omni-ship behind it is left alone, and git's own message stands.
 *
 * The git call that met such a lock is then run again (gitRun, gitAsync), except a push: its remote side is done,
 * and git exits 0 when only the local tracking ref failed, which the caller sets itself. The next process that
 * registers also looks for such locks on refs nobody writes again (see sweepDead), and then forgets the killed
 * writers.
 */

/** A lock of omni-ship's own refs this old is stale whoever left it: git holds a ref lock for milliseconds. */
const OWN_REF_STALE_MS = 60_000;
/** The refs only omni-ship writes (the display ref sits beside refs/notes/omni-ship/, not in it). */
const OWN_REF_PREFIXES = ['refs/notes/omni-ship/', 'refs/omni-ship/', 'refs/notes/omni-ship-landed.lock'];

/** How long a lock must stay unchanged before it is taken as a killed writer's. */
const STEADY_MS = 250;
/** a file system may keep times to the second: a lock made in the second a writer started counts as made after it. */
const CLOCK_SLACK_MS = 1000;

/** git subcommands that take ref locks in the repository they run in. */
const WRITES_REFS = new Set([
  'update-ref', 'fetch', 'push', 'fast-import', 'notes', 'branch', 'tag', 'merge', 'reset', 'commit', 'pull',
  'symbolic-ref', 'pack-refs', 'gc', 'cherry-pick', 'revert', 'rebase', 'checkout', 'switch', 'worktree', 'stash',
]);

const registered = new Map<string, string>();
let report: ((lock: string) => void) | null = null;

/** Tells `fn` of each lock removed (the drainer logs them). */
export function reportRemovedLocks(fn: (lock: string) => void): void {
  report = fn;
}
let exitHook = false;

/** git's subcommand in `args`: the first argument that is not an option of git itself. */
export function subcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '-c' || a === '--git-dir' || a === '--work-tree') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** Whether `args` is a git command that may take ref locks. */
export function writesRefs(args: readonly string[]): boolean {
  return WRITES_REFS.has(subcommand(args) ?? '');
}

/**
 * Registers this process as a ref writer in the repository at `cwd`, once. Called before each ref-writing git
 * command; costs a file write the first time, a map lookup after.
 */
export function registerWriter(cwd: string, gitDirEnv?: string): void {
  const common = commonDirOf(cwd, gitDirEnv ?? process.env.GIT_DIR);
  if (!common || registered.has(common)) return;
  const dir = path.join(common, 'omni-ship', 'writers');
  const file = path.join(dir, String(process.pid));
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ pid: process.pid, start: processStartTime(process.pid), started: Date.now() })}\n`);
  } catch {
    return; // a repository we cannot write to: git's own write will say so
  }
  registered.set(common, file);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const f of registered.values()) fs.rmSync(f, { force: true });
    });
  }
  sweepDead(common, dir);
}

/** The lock files git said it could not create, in the order it said them. */
export function locksIn(stderr: string): string[] {
  const out: string[] = [];
  for (const m of stderr.matchAll(/Unable to create '([^']+\.lock)': File exists/g)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/** What to tell the user when git met a lock file no killed omni-ship left (null: stderr names none). */
export function heldLockReason(stderr: string): string | null {
  const lock = locksIn(stderr)[0];
  return lock ? `its lock file ${lock} exists: another git process is writing it, or one was killed (remove the file if no git is running)` : null;
}

/**
 * Removes the locks git could not create that a killed omni-ship writer left (see the module comment); returns
 * whether it removed any. Synchronous: it waits STEADY_MS with Atomics.wait.
 */
export function clearKilledWritersLocks(stderr: string): boolean {
  return clearLocks(locksIn(stderr), (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms));
}

/** clearKilledWritersLocks, waiting without blocking the event loop. */
export async function clearKilledWritersLocksAsync(stderr: string): Promise<boolean> {
  const locks = locksIn(stderr);
  if (locks.length === 0) return false;
  const seen = locks.map(candidate);
  if (seen.every((s) => s === null)) return false;
  await new Promise((r) => setTimeout(r, STEADY_MS));
  return removeSteady(locks, seen);
}

function clearLocks(locks: string[], wait: (ms: number) => void): boolean {
  if (locks.length === 0) return false;
  const seen = locks.map(candidate);
  if (seen.every((s) => s === null)) return false;
  wait(STEADY_MS);
  return removeSteady(locks, seen);
}

/** A lock's identity, when a killed writer could have made it: null when not (or when it is gone). */
function candidate(lock: string): fs.Stats | null {
  if (!isRefLock(lock)) return null;
  let st: fs.Stats;
  try {
    st = fs.statSync(lock);
  } catch {
    return null;
  }
  const common = commonDirOfLock(lock);
  if (!common) return null;
  if (Date.now() - st.mtimeMs > OWN_REF_STALE_MS && ownRef(path.relative(common, lock))) return st;
  const dead = deadWriters(path.join(common, 'omni-ship', 'writers'));
  return dead.some((d) => d.started - CLOCK_SLACK_MS <= st.mtimeMs) ? st : null;
}

function removeSteady(locks: string[], seen: (fs.Stats | null)[]): boolean {
  let removed = false;
  locks.forEach((lock, i) => {
    const before = seen[i];
    if (!before) return;
    try {
      const now = fs.statSync(lock);
      if (now.ino !== before.ino || now.mtimeMs !== before.mtimeMs || now.size !== before.size) return;
      fs.rmSync(lock);
      removed = true;
      report?.(lock);
    } catch {
      // gone meanwhile: its writer finished, or someone removed it
    }
  });
  return removed;
}

function ownRef(rel: string): boolean {
  const name = rel.split(path.sep).join('/');
  return OWN_REF_PREFIXES.some((p) => name.startsWith(p));
}

/** Only ref locks: `refs/…/<name>.lock` and `packed-refs.lock` (an index.lock guards a work tree's files too). */
function isRefLock(lock: string): boolean {
  return path.basename(lock) === 'packed-refs.lock' || lock.split(path.sep).includes('refs');
}

/** The common git dir a ref lock is in: the directory above its `refs/` (or beside packed-refs.lock). */
function commonDirOfLock(lock: string): string | null {
  if (path.basename(lock) === 'packed-refs.lock') return path.dirname(lock);
  const parts = lock.split(path.sep);
  const i = parts.indexOf('refs');
  if (i <= 0) return null;
  const dir = parts.slice(0, i).join(path.sep) || path.sep;
  // a linked worktree's own refs (refs/bisect, refs/worktree) sit in .git/worktrees/<name>: its common dir holds the registry
  try {
    return fs.realpathSync(path.resolve(dir, fs.readFileSync(path.join(dir, 'commondir'), 'utf8').trim()));
  } catch {
    return dir;
  }
}

interface Writer {
  file: string;
  pid: number;
  /** the process's start time (/proc), so a reused pid is not taken for the writer */
  start: string | null;
  /** when it registered (ms since the epoch) */
  started: number;
}

function writers(dir: string): Writer[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Writer[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const w = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; start?: unknown; started: number };
      if (Number.isInteger(w.pid) && typeof w.started === 'number') out.push({ file, pid: w.pid, start: typeof w.start === 'string' ? w.start : null, started: w.started });
    } catch {
      // half-written by a writer killed while registering: it had not run git yet
    }
  }
  return out;
}

/** The registered writers whose process is gone (a zombie, or a pid reused by another process, counts as gone). */
function deadWriters(dir: string): Writer[] {
  return writers(dir).filter((w) => w.pid !== process.pid && !sameProcessAlive(w.pid, w.start));
}

/**
 * What killed writers left, found before they get in the way: a killed land may have held the lock of a ref the
 * run that finishes its job never writes (a remote-tracking branch it was deleting, and packed-refs.lock), and the
 * user's next fetch would fail on it. With a killed writer registered, every ref lock in the repository (its refs,
 * packed-refs, the linked worktrees' own refs) is judged as one a git command met (candidate, STEADY_MS), and then
 * the killed writers are forgotten: they left nothing else, and make nothing more. With none, this costs the
 * registry's listing, which registering reads anyway.
 */
function sweepDead(common: string, dir: string): void {
  const dead = deadWriters(dir);
  if (dead.length === 0) return;
  try {
    clearLocks(refLocksIn(common), (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms));
  } catch {
    return; // a repository we cannot look through: the locks are judged when met, and the writers kept for then
  }
  for (const w of dead) fs.rmSync(w.file, { force: true });
}

/** Every ref lock file in the common dir `common`: packed-refs.lock, `refs/**\/*.lock`, and the linked worktrees' own. */
function refLocksIn(common: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const d of entries) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.lock')) out.push(p);
    }
  };
  const roots = [common];
  try {
    for (const name of fs.readdirSync(path.join(common, 'worktrees'))) roots.push(path.join(common, 'worktrees', name));
  } catch {
    /* no linked worktree */
  }
  for (const root of roots) {
    if (fs.existsSync(path.join(root, 'packed-refs.lock'))) out.push(path.join(root, 'packed-refs.lock'));
    walk(path.join(root, 'refs'));
  }
  return out;
}

const commonDirs = new Map<string, string | null>();

/** The common git dir of the repository git would find from `cwd`, from the file system (null: not found). */
function commonDirOf(cwd: string, gitDirEnv: string | undefined): string | null {
  const key = `${gitDirEnv ?? ''}\0${cwd}`;
  if (commonDirs.has(key)) return commonDirs.get(key)!;
  const found = findCommonDir(cwd, gitDirEnv);
  commonDirs.set(key, found);
  return found;
}

function findCommonDir(cwd: string, gitDirEnv: string | undefined): string | null {
  const withCommon = (gitDir: string): string => {
    try {
      return fs.realpathSync(path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim()));
    } catch {
      return gitDir;
    }
  };
  const isGitDir = (d: string) => fs.existsSync(path.join(d, 'HEAD')) && (fs.existsSync(path.join(d, 'objects')) || fs.existsSync(path.join(d, 'commondir')));
  try {
    if (gitDirEnv) return withCommon(fs.realpathSync(path.resolve(cwd, gitDirEnv)));
    let dir = fs.realpathSync(cwd);
    for (;;) {
      const dotGit = path.join(dir, '.git');
      if (fs.existsSync(dotGit)) {
        if (fs.statSync(dotGit).isDirectory()) return withCommon(dotGit);
        const m = /^gitdir: ([^\r\n]+)/.exec(fs.readFileSync(dotGit, 'utf8'));
        return m?.[1] ? withCommon(fs.realpathSync(path.resolve(dir, m[1]))) : null;
      }
      if (isGitDir(dir)) return withCommon(dir);
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
  } catch {
    return null;
  }
}
