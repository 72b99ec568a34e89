import fs from 'node:fs';
import path from 'node:path';
import { processStartTime, sameProcessAlive } from './process.js';

/** A spool file still incomplete after this long belongs to a hook that died mid-write. */
const STALE_PARTIAL_MS = 60_000;

/** The hooks that hand events to the background process. */
export type SpooledHook = 'post-commit' | 'post-rewrite' | 'post-merge';

/** One event a hook spooled. */
export interface HookEvent {
  hook: SpooledHook;
  /** the work tree the hook ran in */
  worktree: string;
  /** that worktree's git dir */
  gitDir: string;
  /** the commit HEAD pointed at when the hook ran (empty only in lines of old hooks: then `ref` is resolved) */
  commit: string;
  /** the ref HEAD pointed at (empty when detached) */
  ref: string;
  /** post-rewrite: "amend|rebase old:new ..."; post-merge: the squash flag */
  extra: string;
  /** when the hook wrote it (the spool file's mtime, or the time carried by a record kept for a later drain) */
  at: Date;
}

const HOOKS = new Set<string>(['post-commit', 'post-rewrite', 'post-merge']);

/**
 * Parses one line of the first spool format, `1\t<hook>\t<worktree>\t<gitdir>\t<commit>\t<ref>\t<extra>`, which
 * hooks installed by earlier versions still write. It cannot carry a path holding a TAB or a newline; format 2
 * (see parseSpool) can. Returns null for a line of an unknown format version or hook.
 */
export function parseSpoolLine(line: string, at: Date): HookEvent | null {
  const f = line.split('\t');
  if (f[0] !== '1' || !HOOKS.has(f[1] ?? '')) return null;
  return { hook: f[1] as SpooledHook, worktree: f[2] ?? '', gitDir: f[3] ?? '', commit: f[4] ?? '', ref: f[5] ?? '', extra: f[6] ?? '', at };
}

/** Fields of a format 2 record after its version: hook, worktree, git dir, commit, ref, extra, time. */
const V2_FIELDS = 7;

/**
 * Encodes an event as a format 2 record: `2` and seven fields, each ended by a NUL, then a newline. A path never
 * holds a NUL, so any path (TABs, newlines) comes back whole. The time field is empty in what hooks write (the
 * file's mtime is the time); a record kept for a later drain carries its original time in milliseconds.
 */
export function encodeSpoolRecord(e: HookEvent): string {
  return ['2', e.hook, e.worktree, e.gitDir, e.commit, e.ref, e.extra, String(e.at.getTime())].map((f) => `${f}\0`).join('') + '\n';
}

/** What a spool file holds: its events, the records it could not read, and whether its last record is whole. */
export interface ParsedSpool {
  events: HookEvent[];
  skipped: number;
  /** false while a hook may still be writing the last record */
  complete: boolean;
}

/** Parses a spool file's text: format 2 records and format 1 lines, in any mix. */
export function parseSpool(text: string, mtime: Date): ParsedSpool {
  const events: HookEvent[] = [];
  // an empty file is one a hook's `>>` has created and not written yet
  if (text === '') return { events, skipped: 0, complete: false };
  let skipped = 0;
  let pos = 0;
  while (pos < text.length) {
    if (text.startsWith('2\0', pos)) {
      const fields: string[] = [];
      let at = pos + 2;
      for (let i = 0; i < V2_FIELDS; i++) {
        const end = text.indexOf('\0', at);
        if (end < 0) return { events, skipped, complete: false };
        fields.push(text.slice(at, end));
        at = end + 1;
      }
      if (at >= text.length) return { events, skipped, complete: false };
      pos = at + 1;
      const [hook, worktree, gitDir, commit, ref, extra, time] = fields as [string, string, string, string, string, string, string];
      if (text[at] !== '\n') {
        // not a record of this format after all: resynchronise at the next record boundary
        skipped++;
        const next = text.indexOf('\0\n', at);
        pos = next < 0 ? text.length : next + 2;
        continue;
      }
      if (!HOOKS.has(hook)) {
        skipped++;
        continue;
      }
      const ms = Number(time);
      events.push({ hook: hook as SpooledHook, worktree, gitDir, commit, ref, extra, at: time !== '' && Number.isFinite(ms) ? new Date(ms) : mtime });
      continue;
    }
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return { events, skipped, complete: false };
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (!line) continue;
    const event = parseSpoolLine(line, mtime);
    if (event) events.push(event);
    else skipped++;
  }
  return { events, skipped, complete: true };
}

/** The contents of a drain.pid or drain.starting file: a pid and, from this version on, its start time. */
export function readPidFile(file: string): { pid: number; start: string | null } | null {
  try {
    const [pid, start] = fs.readFileSync(file, 'utf8').trim().split(/\s+/);
    const n = Number.parseInt(pid ?? '', 10);
    return Number.isInteger(n) && n > 0 ? { pid: n, start: start || null } : null;
  } catch {
    return null;
  }
}

/**
 * The single-drainer lock: `drain.pid`, created exclusively, holding this process's pid and start time. An owner
 * that is gone (or whose pid another process now has: the start time differs) is taken over.
 */
export function acquireDrainLock(dir: string): boolean {
  const file = path.join(dir, 'drain.pid');
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${me}\n`, { flag: 'wx' });
      // the hook that started this process marked the start; the marker has done its job
      fs.rmSync(path.join(dir, 'drain.starting'), { force: true });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readPidFile(file);
      if (owner?.pid === process.pid) return true;
      if (owner && sameProcessAlive(owner.pid, owner.start)) {
        // another drainer runs: clear the start marker if it names this process, or no hook would start one again
        const marker = path.join(dir, 'drain.starting');
        if (readPidFile(marker)?.pid === process.pid) fs.rmSync(marker, { force: true });
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
  if (readPidFile(file)?.pid === process.pid) fs.rmSync(file, { force: true });
}

/** A spool file this process has claimed: it stays on disk until what its events cause is written to git. */
export interface ClaimedFile {
  /** the claimed file's path; remove it with `finishClaimed` once its events are written */
  file: string;
  /** the name it had before it was claimed */
  base: string;
  /** how many bytes were read */
  size: number;
  events: HookEvent[];
}

/** Names a hook writes (its shell's pid) and names a drainer writes for events it keeps for later. */
const PENDING = /^(\d+|k\.\d+\.\d+\.\d+)$/;
/** A claimed file: `<pending name>.claimed.<pid>-<start time>` (`.claimed.<pid>` from earlier versions). */
const CLAIMED = /^(\d+|k\.\d+\.\d+\.\d+)\.claimed\.(\d+)(?:-(\d+))?$/;

/**
 * Claims every spool file by renaming it to `<name>.claimed.<pid>-<start>`, so no other drainer reads it, and
 * returns the events in them. The files are NOT removed: the caller removes each one (finishClaimed) only after
 * what its events cause is written to git, so a drainer killed at any instant loses nothing. Files claimed by a
 * drainer that is gone (or whose pid another process now has) are claimed again. A file whose last record is not
 * whole is still being written: it is left for the next round. Names in `skip` (events this process kept for a
 * later drain) are left alone.
 */
export function claimSpool(dir: string, skip: ReadonlySet<string> = new Set()): { files: ClaimedFile[]; skipped: number } {
  const spool = path.join(dir, 'spool');
  let names: string[];
  try {
    names = fs.readdirSync(spool);
  } catch {
    return { files: [], skipped: 0 };
  }
  const me = `${process.pid}-${processStartTime(process.pid) ?? '0'}`;
  const files: ClaimedFile[] = [];
  let skipped = 0;
  for (const name of names.sort()) {
    if (name.endsWith('.tmp')) {
      removeIfStale(path.join(spool, name)); // a keepForLater that died before its rename: the claimed original remains
      continue;
    }
    const claimed = CLAIMED.exec(name);
    let base: string;
    if (claimed) {
      base = claimed[1]!;
      const owner = Number(claimed[2]);
      if (owner === process.pid) continue; // ours already, being handled
      if (sameProcessAlive(owner, claimed[3] ?? null)) continue;
    } else if (PENDING.test(name) && !skip.has(name)) base = name;
    else continue;
    const from = path.join(spool, name);
    const to = path.join(spool, `${base}.claimed.${me}`);
    let text: string;
    let mtime: Date;
    try {
      fs.renameSync(from, to);
      text = fs.readFileSync(to, 'utf8');
      mtime = fs.statSync(to).mtime;
    } catch {
      continue; // another drainer took it
    }
    const parsed = parseSpool(text, mtime);
    if (!parsed.complete) {
      // mid-write, or created by the hook's `>>` with its record not written yet (an empty file deleted now would
      // take that record with it): put it back and look again later. One left like that for a minute belongs to a
      // hook that died; only then are its whole records used and the rest dropped.
      if (Date.now() - mtime.getTime() > STALE_PARTIAL_MS) {
        if (text !== '') skipped++;
      } else {
        fs.renameSync(to, path.join(spool, base));
        continue;
      }
    }
    skipped += parsed.skipped;
    files.push({ file: to, base, size: Buffer.byteLength(text), events: parsed.events });
  }
  return { files, skipped };
}

function removeIfStale(file: string): void {
  try {
    if (Date.now() - fs.statSync(file).mtimeMs > STALE_PARTIAL_MS) fs.rmSync(file, { force: true });
  } catch {
    /* gone already */
  }
}

/**
 * Removes a claimed spool file: its events are written to git. A hook that opened the file (`>>`) before it was
 * claimed may have written to it since: a file that grew is put back under its name to be read again (the
 * records already handled write nothing twice).
 */
export function finishClaimed(claimed: Pick<ClaimedFile, 'file' | 'base' | 'size'>): void {
  try {
    if (fs.statSync(claimed.file).size !== claimed.size) {
      fs.renameSync(claimed.file, path.join(path.dirname(claimed.file), claimed.base));
      return;
    }
  } catch {
    return; // gone already
  }
  fs.rmSync(claimed.file, { force: true });
}

let kept = 0;

/**
 * Writes events that could not be handled now to a new spool file, for the next drain, and returns its name (to
 * skip for the rest of this run, so a failing event is not retried in a hot loop). The file is complete before it
 * gets its spool name (written under a name no drainer claims, then renamed), so a crash leaves either the
 * claimed original or the new file, never a half one; with both, the events are handled twice, which writes
 * nothing twice.
 */
export function keepForLater(dir: string, events: readonly HookEvent[]): string {
  const name = `k.${Date.now()}.${process.pid}.${kept++}`;
  const spool = path.join(dir, 'spool');
  const tmp = path.join(spool, `${name}.tmp`);
  fs.writeFileSync(tmp, events.map(encodeSpoolRecord).join(''));
  fs.renameSync(tmp, path.join(spool, name));
  return name;
}
