import fs from 'node:fs';
import path from 'node:path';

/** A spool file still incomplete after this long belongs to a hook that died mid-write. */
const STALE_PARTIAL_MS = 60_000;

/** The hooks that hand events to the background process. */
export type SpooledHook = 'post-commit' | 'post-rewrite' | 'post-merge';

/** One event a hook spooled: one line `1\t<hook>\t<worktree>\t<gitdir>\t<commit>\t<ref>\t<extra>`. */
export interface HookEvent {
  hook: SpooledHook;
  /** the work tree the hook ran in */
  worktree: string;
  /** that worktree's git dir */
  gitDir: string;
  /** the commit HEAD pointed at (empty: resolve `ref`) */
  commit: string;
  /** the ref HEAD pointed at (empty when detached) */
  ref: string;
  /** post-rewrite: "amend|rebase old:new ..."; post-merge: the squash flag */
  extra: string;
  /** when the hook wrote it (the spool file's mtime) */
  at: Date;
}

const HOOKS = new Set<string>(['post-commit', 'post-rewrite', 'post-merge']);

/** Parses one spool line; returns null for a line of an unknown format version or hook. */
export function parseSpoolLine(line: string, at: Date): HookEvent | null {
  const f = line.split('\t');
  if (f[0] !== '1' || !HOOKS.has(f[1] ?? '')) return null;
  return {
    hook: f[1] as SpooledHook,
    worktree: f[2] ?? '',
    gitDir: f[3] ?? '',
    commit: f[4] ?? '',
    ref: f[5] ?? '',
    extra: f[6] ?? '',
    at,
  };
}

/** True for a live process; a zombie (exited, never reaped: some container inits never do) is not alive. */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, so read the state after the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): kill -0 said yes
  }
}

/** The single-drainer lock: a pid file created exclusively; a dead owner's file is taken over. */
export function acquireDrainLock(dir: string): boolean {
  const file = path.join(dir, 'drain.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      // the hook that started this process marked the start; the marker has done its job
      fs.rmSync(path.join(dir, 'drain.starting'), { force: true });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(fs.readFileSync(file, 'utf8').trim() || '0', 10);
      if (owner === process.pid) return true;
      if (alive(owner)) {
        // another drainer runs: clear the start marker if it names this process, or no hook would start one again
        const marker = path.join(dir, 'drain.starting');
        try {
          if (fs.readFileSync(marker, 'utf8').trim() === String(process.pid)) fs.rmSync(marker, { force: true });
        } catch {
          /* no marker */
        }
        return false;
      }
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

/** Releases the lock if this process holds it. */
export function releaseDrainLock(dir: string): void {
  const file = path.join(dir, 'drain.pid');
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
  } catch {
    /* already gone */
  }
}

/**
 * Claims every spool file (by renaming it, so no event is read twice) and returns the events in them.
 * Files claimed by a drainer that died are reclaimed. A line without its final newline is still being written:
 * that file is left for the next round.
 */
export function claimEvents(dir: string): { events: HookEvent[]; skipped: number } {
  const spool = path.join(dir, 'spool');
  let names: string[];
  try {
    names = fs.readdirSync(spool);
  } catch {
    return { events: [], skipped: 0 };
  }
  const events: HookEvent[] = [];
  let skipped = 0;
  for (const name of names.sort()) {
    const claimed = /^(\d+)\.claimed\.(\d+)$/.exec(name);
    if (claimed && alive(Number(claimed[2])) && Number(claimed[2]) !== process.pid) continue;
    if (!claimed && !/^\d+$/.test(name)) continue;
    const from = path.join(spool, name);
    const to = path.join(spool, `${claimed ? claimed[1] : name}.claimed.${process.pid}`);
    let text: string;
    let at: Date;
    try {
      if (from !== to) fs.renameSync(from, to);
      text = fs.readFileSync(to, 'utf8');
      at = fs.statSync(to).mtime;
    } catch {
      continue; // another drainer took it
    }
    if (!text.endsWith('\n')) {
      // mid-write, or created by the hook's `>>` with its line not written yet (an empty file deleted now would
      // take that line with it): put it back and look again later. One left like that for a minute belongs to a
      // hook that died; only then is it dropped.
      if (Date.now() - at.getTime() > STALE_PARTIAL_MS) {
        fs.rmSync(to, { force: true });
        if (text !== '') skipped++;
      } else fs.renameSync(to, path.join(spool, claimed ? claimed[1]! : name));
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      const event = parseSpoolLine(line, at);
      if (event) events.push(event);
      else skipped++;
    }
    fs.rmSync(to, { force: true });
  }
  return { events, skipped };
}
