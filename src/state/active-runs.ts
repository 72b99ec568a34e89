import fs from 'node:fs';
import path from 'node:path';
import { liveProcessFields, processStartedAt, sameProcessAlive } from '../hooks/process.js';

/**
 * The `omni-ship run` processes working on this clone now, for `status`: each run process keeps one file,
 * `<stateDir>/runs/<pid>.json` (ActiveRunFile), written whole (a temp file renamed into place) whenever its agents
 * change, and removed when it exits. Machine-local, like the rest of the state dir: the pipeline's shared state is in
 * the notes. A run killed outright leaves its file behind; a reader tells it by its pid, which no longer runs.
 *
 * Plain fs only: status reads this on every call, its stored answer's path included, and loads nothing more for it.
 */

/** One agent a run process has working, as its file records it. */
export interface ActiveAgent {
  task: string;
  /** dev or review */
  role: string;
  startedAt: string;
  /** which attempt at the task this is (1 = the first) */
  attempt: number;
  /** what it has cost so far, when the run knows (cents) */
  costCents: number | null;
  /** the agent's pid (its process group's), for the record; a crashed run's agents are found by their mark */
  pid?: number | null;
}

/** The file of one run process. */
export interface ActiveRunFile {
  v: 1;
  pid: number;
  /** "<hostname>/<clone id>" (src/identity.ts hostId) */
  host: string;
  /** the process's start time as /proc gives it (src/hooks/process.ts processStartTime): with the pid, the mark its agents carry */
  start?: string | null;
  startedAt: string;
  agents: ActiveAgent[];
}

/** One agent at work, as `status` shows it. */
export interface ActiveRun {
  task: string;
  role: string;
  startedAt: string;
  elapsedMs: number;
  attempt: number;
  costCents: number | null;
  /** the run process's */
  pid: number;
}

/** The folder of the run files in a state dir. */
export function runsDir(stateDir: string): string {
  return path.join(stateDir, 'runs');
}

const RUN_FILE = /^[1-9]\d*\.json$/;

/**
 * Every agent of every run process alive on this machine, oldest first. A file whose process is gone (a run killed
 * outright), or that is unreadable or not of ActiveRunFile's shape, is skipped, never an error. Read-only: a
 * leftover file is the run's to remove (writeActiveRun / removeActiveRun), not status's.
 */
export function activeRuns(stateDir: string, now = Date.now()): ActiveRun[] {
  const out: ActiveRun[] = [];
  for (const file of readRunFiles(stateDir)) {
    if (!isRunFile(file) || !runProcessAlive(file)) continue;
    for (const a of file.agents) {
      out.push({ task: a.task, role: a.role, startedAt: a.startedAt, elapsedMs: Math.max(0, now - Date.parse(a.startedAt)), attempt: a.attempt, costCents: a.costCents, pid: file.pid });
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
}

/**
 * Every run file in the state dir as it reads, those of dead runs included (the next run recovers them). One that
 * cannot be read or parsed (half-written by a run killed before the rename took) gives its pid, from its name,
 * with no agents; isRunFile tells the whole ones.
 */
export function readRunFiles(stateDir: string): ActiveRunFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir(stateDir));
  } catch {
    return []; // no run ever started here
  }
  const out: ActiveRunFile[] = [];
  for (const name of names) {
    if (!RUN_FILE.test(name)) continue; // a temp file being written, anything else
    let file: unknown = null;
    try {
      file = JSON.parse(fs.readFileSync(path.join(runsDir(stateDir), name), 'utf8'));
    } catch {
      /* below */
    }
    out.push(file !== null && typeof file === 'object' && Number.isInteger((file as ActiveRunFile).pid) && Array.isArray((file as ActiveRunFile).agents) ? (file as ActiveRunFile) : { v: 1, pid: Number(name.slice(0, -5)), start: null, host: '', startedAt: '', agents: [] });
  }
  return out;
}

/** Writes (or replaces) the file of run process `data.pid`: a temp file renamed into place, so a reader never sees half of it. */
export function writeActiveRun(stateDir: string, data: ActiveRunFile): void {
  const dir = runsDir(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${data.pid}.json`);
  // a name RUN_FILE does not match: a reader skips it
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(data)}\n`);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Removes the file of run process `pid` (none there: nothing to do). */
export function removeActiveRun(stateDir: string, pid: number): void {
  fs.rmSync(path.join(runsDir(stateDir), `${pid}.json`), { force: true });
}

const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isAgent(a: unknown): a is ActiveAgent {
  if (typeof a !== 'object' || a === null) return false;
  const o = a as Record<string, unknown>;
  return (
    typeof o.task === 'string' &&
    o.task !== '' &&
    typeof o.role === 'string' &&
    isTime(o.startedAt) &&
    isCount(o.attempt) &&
    (o.costCents === null || (typeof o.costCents === 'number' && Number.isFinite(o.costCents) && o.costCents >= 0))
  );
}

export function isRunFile(f: unknown): f is ActiveRunFile {
  if (typeof f !== 'object' || f === null) return false;
  const o = f as Record<string, unknown>;
  return o.v === 1 && isCount(o.pid) && o.pid > 0 && typeof o.host === 'string' && isTime(o.startedAt) && Array.isArray(o.agents) && o.agents.every(isAgent);
}

/** How far a process's start, as /proc tells it, may lie after the time its run file says it started (clocks, rounding). */
const START_SLACK_MS = 5_000;

/**
 * Whether the run process a file names still runs: the same process when the file has its start time (pid and
 * start time, as its agents' mark); else, where /proc tells when the pid started, one that did not start after the
 * run it is taken for: a pid reused by a later process after a run was killed outright (its file left behind) is
 * no run.
 */
export function runProcessAlive(f: Pick<ActiveRunFile, 'pid' | 'startedAt' | 'start'>): boolean {
  if (f.start) return sameProcessAlive(f.pid, f.start);
  const fields = liveProcessFields(f.pid);
  if (fields === false) return false;
  const started = fields === null ? null : processStartedAt(f.pid);
  return started === null || started <= Date.parse(f.startedAt) + START_SLACK_MS;
}
