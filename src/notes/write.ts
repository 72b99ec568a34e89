import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverWorkRepo } from '../git/repo.js';
import { processStartedAt, statFields } from '../hooks/process.js';
import { ExitCode, UserError } from '../errors.js';
import { gitAsync, gitRun } from '../git/exec.js';
import { encodeEvent, type OmniEvent } from './events.js';
import { newNotePath, readSomeNotes, type FoundNote } from './read.js';
import { TMP_REF_PREFIX } from './refs.js';

const ZERO_OID = '0'.repeat(40);

/** Events to append to one object's note. */
export interface NoteAppend {
  object: string;
  events: OmniEvent[];
}

/** Decides whether a new event adds nothing to what the note already holds (then it is not written). */
export type Redundant = (existing: readonly string[], event: OmniEvent) => boolean;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Attempts before a write gives up: 40 writers racing need a few dozen rounds at worst. */
const MAX_ATTEMPTS = 200;

/** A fast-import stream that commits `notes` (tree path → text) on top of `tip` in `ref`. */
export function fastImportInput(ref: string, tip: string | null, notes: Map<string, string>, message: string, merge?: string): Buffer {
  const parts: Buffer[] = [];
  const msg = Buffer.from(message);
  const now = Math.floor(Date.now() / 1000);
  parts.push(Buffer.from(`commit ${ref}\ncommitter omni-ship <omni-ship@localhost> ${now} +0000\ndata ${msg.length}\n`), msg, Buffer.from('\n'));
  if (tip) parts.push(Buffer.from(`from ${tip}\n`));
  if (merge) parts.push(Buffer.from(`merge ${merge}\n`));
  for (const [path, text] of notes) {
    const data = Buffer.from(text);
    parts.push(Buffer.from(`M 100644 inline ${path}\ndata ${data.length}\n`), data, Buffer.from('\n'));
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** Where a CAS commit goes: its parent (default: the expected old tip) and a second parent for a merge. */
export interface CasParents {
  parent?: string;
  merge?: string;
}

/**
 * Commits `notes` (tree path → text) on top of `tip` (null: a new ref) and moves `ref` there only if it still
 * points at `tip`: the commit is written with `git fast-import` to a private ref under refs/omni-ship/tmp/, then
 * one `git update-ref --stdin` transaction moves the real ref from `tip` to it and deletes the private ref. Plain
 * `git notes add` does not check the ref's old value (40 concurrent writers lose all but a few notes while each
 * exits 0). `parents` puts the commit elsewhere (sync builds on the remote's tip, or merges it) while the ref
 * still moves only from `tip`. Returns false when the write lost a race (another writer moved the ref or held its
 * lock, or a pruner took our private ref for a dead writer's): nothing changed; the caller reads and retries.
 * Anything else that stops the move (a ref in the way of the name, a ref pointing elsewhere for good) throws.
 */
export function commitNotesCas(cwd: string, ref: string, tip: string | null, notes: Map<string, string>, message: string, parents: CasParents = {}): boolean {
  const tmp = tmpRefName();
  const input = fastImportInput(tmp, parents.parent ?? tip, notes, message, parents.merge);
  const written = gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input });
  if (written.exitCode !== 0) {
    gitRun(['update-ref', '-d', tmp], { cwd });
    throw new Error(`git fast-import failed writing ${ref}: ${written.stderr.trim().split('\n')[0]}`);
  }
  const moved = gitRun(['update-ref', '--stdin'], { cwd, input: `update ${ref} ${tmp} ${tip ?? ZERO_OID}\ndelete ${tmp}\n` });
  if (moved.exitCode === 0) return true;
  gitRun(['update-ref', '-d', tmp], { cwd });
  // git says the ref moved since we read it (the common lost race: no need to look again)
  if (/is at [0-9a-f]+ but expected|reference already exists/.test(moved.stderr)) return false;
  // a lock file: another git process is moving the ref right now (or crashed holding it: see the give-up message)
  if (/File exists/.test(moved.stderr)) return false;
  // our private ref vanished: a pruner on a host that shares this name and not our pid space took us for dead
  if (/invalid <newvalue>/.test(moved.stderr)) return false;
  // the ref moved since we read it: a lost race. If it did not move, no retry can help: say what git said.
  if ((readRef(cwd, ref)?.oid ?? null) !== tip) return false;
  const complaint = moved.stderr.trim().split('\n')[0]!.replace(/^fatal: /, '');
  // git 2.39: "cannot lock ref '<ref>': '<other>' exists; cannot create '<ref>'"
  const inTheWay = /'([^']+)' exists; cannot create/.exec(complaint)?.[1];
  if (inTheWay) throw refInTheWayError(ref, inTheWay);
  throw new Error(`git update-ref ${ref} failed: ${complaint}`);
}

/**
 * commitNotesCas in one process: `git fast-import` commits on top of `tip` and moves `ref` itself. Its own check
 * is a compare-and-swap for an append: it moves the ref only when the ref's value, read under the ref's lock, is an
 * ancestor of the new commit (builtin fast-import.c update_branch: in_merge_bases, then a ref transaction with
 * that old value). A writer that moved the ref since `tip` was read made a commit that is no ancestor of ours, so
 * the move is refused; nothing is lost. Returns false for a refused move (the caller goes on with the usual loop),
 * and for any other failure too: the usual loop then says what is wrong.
 */
export function commitNotesDirect(cwd: string, ref: string, tip: string | null, notes: Map<string, string>, message: string): boolean {
  const written = gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input: fastImportInput(ref, tip, notes, message) });
  return written.exitCode === 0;
}

/** One ref's commit in a combined first try (commitNotesDirectMany). */
export interface DirectWrite {
  ref: string;
  tip: string | null;
  notes: Map<string, string>;
  message: string;
}

/**
 * commitNotesDirect for several refs in one `git fast-import` (one commit per ref; each ref moves under the same
 * ancestor check, independently of the others). True when every ref moved. False when any did not, or git failed:
 * some may have moved, so the caller goes on with each ref's usual loop, which writes only what is still missing.
 */
export function commitNotesDirectMany(cwd: string, writes: readonly DirectWrite[]): boolean {
  if (writes.length === 0) return true;
  if (new Set(writes.map((w) => w.ref)).size !== writes.length) throw new Error('commitNotesDirectMany: one commit per ref');
  const input = Buffer.concat(writes.map((w) => fastImportInput(w.ref, w.tip, w.notes, w.message)));
  return gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input }).exitCode === 0;
}

/** Commits written by stageNotesCommits, each under a private ref until publishStaged moves its real ref there. */
export interface StagedCommit {
  ref: string;
  /** the tip the commit was built on, which the real ref must still have (null: no ref yet) */
  tip: string | null;
  /** the private ref holding the commit */
  tmp: string;
}

/**
 * Writes the commits of `writes` (one per ref, each on its `tip`) with one `git fast-import`, each to a private ref
 * under refs/omni-ship/tmp/, moving no real ref: the first half of commitNotesCas, done ahead of time (land writes
 * its notes while the base is pushed, and publishes them once the push is through). Null when git failed (nothing
 * staged is left behind then).
 */
export async function stageNotesCommits(cwd: string, writes: readonly DirectWrite[]): Promise<StagedCommit[] | null> {
  const staged = writes.map((w) => ({ ref: w.ref, tip: w.tip, tmp: tmpRefName() }));
  if (staged.length === 0) return staged;
  const input = Buffer.concat(writes.map((w, i) => fastImportInput(staged[i]!.tmp, w.tip, w.notes, w.message)));
  const r = await gitAsync(['fast-import', '--quiet', '--date-format=raw'], { cwd, input });
  if (r.exitCode === 0) return staged;
  discardStaged(cwd, staged);
  return null;
}

/**
 * Moves each staged commit's real ref from the tip it was built on to the commit, all in one `git update-ref --stdin`
 * transaction that also deletes the private refs: every ref moves, or none does (then the private refs are deleted
 * and false is returned: a writer moved a ref meanwhile, and the caller writes through the usual loop).
 */
export function publishStaged(cwd: string, staged: readonly StagedCommit[]): boolean {
  if (staged.length === 0) return true;
  const input = staged.map((c) => `update ${c.ref} ${c.tmp} ${c.tip ?? ZERO_OID}\ndelete ${c.tmp}\n`).join('');
  if (gitRun(['update-ref', '--stdin'], { cwd, input }).exitCode === 0) return true;
  discardStaged(cwd, staged);
  return false;
}

/** Deletes staged commits' private refs (a killed process leaves them to pruneStaleTmpRefs). */
export function discardStaged(cwd: string, staged: readonly StagedCommit[]): void {
  if (staged.length) gitRun(['update-ref', '--stdin'], { cwd, input: staged.map((c) => `delete ${c.tmp}\n`).join('') });
}

/**
 * The first try of appendEvents on what the caller read (`known`): the notes to write on `known.tip` and how many
 * lines they add (0: every event is there already). Null when `known` lacks one of the objects' notes.
 */
export function plannedAppend(appends: readonly NoteAppend[], known: KnownNotes, redundant?: Redundant): { updated: Map<string, string>; count: number } | null {
  const objects = [...new Set(appends.map((a) => a.object))];
  if (!objects.every((o) => known.notes.has(o))) return null;
  return appendedNotes(appends, objects, known.notes, redundant);
}

/** The refusal for a ref whose name another ref blocks (a file where git needs a directory, or the reverse). */
function refInTheWayError(ref: string, other: string): UserError {
  return new UserError(
    `${other} is in the way of ${ref}: git cannot keep both names; nothing was written`,
    ExitCode.usage,
    `look at it (git log -1 ${other}), then move it aside or delete it (git update-ref -d ${other})`,
  );
}

/** What a ref points at: the object id and its type (commit, blob, tree, tag). */
export interface RefTarget {
  oid: string;
  type: string;
}

const REF_FORMAT = '--format=%(refname)%00%(objectname)%00%(objecttype)';

/** Parses for-each-ref output in REF_FORMAT. */
function parseRefs(out: string): Map<string, RefTarget> {
  const refs = new Map<string, RefTarget>();
  for (const line of out.split('\n')) {
    const [name, oid, type] = line.split('\0');
    if (name && oid && type) refs.set(name, { oid, type });
  }
  return refs;
}

/** What `ref` points at, or null when it does not exist (one for-each-ref). */
function readRef(cwd: string, ref: string): RefTarget | null {
  return parseRefs(gitRun(['for-each-ref', REF_FORMAT, ref], { cwd }).stdout).get(ref) ?? null;
}

/**
 * The refusal for a notes ref that points at something other than a commit (`git update-ref <ref> <blob>` by
 * hand): git notes reads nothing else, a compare-and-swap could never move it, and overwriting it could lose what
 * it holds. Bad repository state: exit 2.
 */
export function notACommitError(ref: string, target: RefTarget): UserError {
  const short = target.oid.slice(0, 12);
  return new UserError(
    `${ref} points at a ${target.type} (${short}), not a notes commit; nothing was written`,
    ExitCode.usage,
    `look at it (git cat-file -p ${short}); if it is not worth keeping, delete the ref (git update-ref -d ${ref} ${target.oid}), then run omni-ship sync to get the log back from the remote`,
  );
}

/** Private refs of writes in progress older than this are stale wherever they come from: a write holds one for milliseconds. */
const TMP_STALE_AFTER_MS = 60 * 60 * 1000;

/** This machine's name as one refname component. */
function hostComponent(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '_') || 'unknown';
}

/** A new private ref for one CAS write: refs/omni-ship/tmp/<host>/<pid>-<ms since epoch, base 36>-<random>. */
function tmpRefName(): string {
  return `${TMP_REF_PREFIX}${hostComponent()}/${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Whether process `pid` lives on this machine (EPERM: it does, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a private ref was left by a write that can no longer finish: its writer's pid, on this host, is dead;
 * or (any host, or a name from before the host was in it) it is older than an hour. A pid alone proves nothing
 * across machines sharing a repository, hence the host in the name; a pid reused is told by the process's start
 * (startedBy), and pid namespaces (containers with one hostname) can still fool the pid test, hence the age
 * bound. Pruning a live writer's ref by mistake costs it one retry, never an event: its update-ref transaction then
 * fails whole.
 */
function isStaleTmpRef(name: string, now: number): boolean {
  const rest = name.slice(TMP_REF_PREFIX.length);
  const slash = rest.lastIndexOf('/');
  const host = slash >= 0 ? rest.slice(0, slash) : null;
  const [pidText, timeText] = rest.slice(slash + 1).split('-');
  const pid = Number(pidText);
  const time = parseInt(timeText ?? '', 36);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isFinite(time)) return false; // not a name we make: not ours to judge
  if (now - time > TMP_STALE_AFTER_MS) return true;
  return host === hostComponent() && pid !== process.pid && !(processAlive(pid) && startedBy(pid, time));
}

/**
 * Whether process `pid` (alive) started by `time` (ms since the epoch), where /proc tells (processStartedAt; true
 * where it cannot): a process started later holds a pid its writer had, and is not the writer. Pids wrap around
 * (32,768 by default), so a killed writer's pid is soon another process's. The start read is never later than the
 * true one, and a writer names its ref after it starts: a second's leeway for clocks set meanwhile.
 */
function startedBy(pid: number, time: number): boolean {
  const started = processStartedAt(pid);
  return started === null ? statFields(pid) === null : started <= time + 1000;
}

/** Deletes the stale ones among `tmpRefs` (one update-ref, only when there are some); returns their names. */
export function deleteStaleTmpRefs(cwd: string, tmpRefs: Iterable<string>): string[] {
  const now = Date.now();
  removeStaleTmpLocks(cwd, now);
  const stale = [...tmpRefs].filter((name) => isStaleTmpRef(name, now));
  // no old value: a ref its writer deleted meanwhile is fine to "delete" again and must not fail the others
  if (stale.length) gitRun(['update-ref', '--stdin'], { cwd, input: stale.map((name) => `delete ${name}\n`).join('') });
  return stale;
}

/**
 * Removes the lock files of private refs whose writers were killed while git held them (the ref never made, so no
 * for-each-ref lists it): `refs/omni-ship/tmp/<host>/<pid>-….lock`, stale by the ref's own name (isStaleTmpRef).
 * No other writer ever takes that name, so the lock blocks nothing; removed so that nothing is left behind. Files
 * only (loose refs); a reftable repository keeps no such files.
 */
function removeStaleTmpLocks(cwd: string, now: number): void {
  let common = discoverWorkRepo(cwd)?.commonDir ?? null;
  if (!common) {
    const r = gitRun(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd });
    if (r.exitCode !== 0) return;
    common = r.stdout.trim();
  }
  const root = path.join(common, ...TMP_REF_PREFIX.split('/').filter(Boolean));
  let hosts: string[];
  try {
    hosts = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const host of hosts) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, host));
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.lock') || !isStaleTmpRef(`${TMP_REF_PREFIX}${host}/${name.slice(0, -'.lock'.length)}`, now)) continue;
      try {
        fs.unlinkSync(path.join(root, host, name));
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

/**
 * Deletes private refs (refs/omni-ship/tmp/*) that writes killed between their two steps left behind, so they do
 * not stay forever (see isStaleTmpRef for which count as left behind). One for-each-ref, plus one update-ref when
 * there is something to delete. For the drainer and sync; appendEvents does it on its own read of the ref.
 * Returns the names deleted.
 */
export function pruneStaleTmpRefs(cwd: string): string[] {
  return deleteStaleTmpRefs(cwd, parseRefs(gitRun(['for-each-ref', REF_FORMAT, TMP_REF_PREFIX], { cwd }).stdout).keys());
}

/**
 * The tip of notes ref `ref` among `refs` (a for-each-ref of it): null when there is none yet. Throws when no
 * compare-and-swap could ever move it: it points at a blob (or tree, or tag), or a ref below its name
 * (refs/notes/omni-ship/reviews/x) blocks the name for good.
 */
function notesTipIn(refs: ReadonlyMap<string, RefTarget>, ref: string): string | null {
  const target = refs.get(ref) ?? null;
  if (target && target.type !== 'commit') throw notACommitError(ref, target);
  // for-each-ref matches refs below the name too
  const below = [...refs.keys()].find((name) => name.startsWith(`${ref}/`));
  if (below) throw refInTheWayError(ref, below);
  return target?.oid ?? null;
}

/** The tip of notes ref `ref` before a compare-and-swap write (one for-each-ref): null when there is none yet; see notesTipIn for what throws. */
export function readNotesTip(cwd: string, ref: string): string | null {
  return notesTipIn(parseRefs(gitRun(['for-each-ref', REF_FORMAT, ref], { cwd }).stdout), ref);
}

/** What a caller already read of a notes ref: its tip (null: no ref yet) and the notes of some objects (absent: none). */
export interface KnownNotes {
  tip: string | null;
  notes: Map<string, FoundNote | null>;
}

/** The notes texts that add the missing lines of `appends` to what `existing` holds, and how many lines that is. */
function appendedNotes(
  appends: readonly NoteAppend[],
  objects: readonly string[],
  existing: ReadonlyMap<string, FoundNote | null>,
  redundant?: Redundant,
): { updated: Map<string, string>; count: number } {
  const updated = new Map<string, string>();
  let count = 0;
  for (const object of objects) {
    const found = existing.get(object) ?? null;
    const text = found?.text ?? '';
    const have = text.split('\n').filter((l) => l !== '');
    const added: string[] = [];
    for (const a of appends) {
      if (a.object !== object) continue;
      for (const event of a.events) {
        const line = encodeEvent(event);
        if (have.includes(line) || added.includes(line)) continue;
        if (redundant?.([...have, ...added], event)) continue;
        added.push(line);
      }
    }
    if (added.length === 0) continue;
    count += added.length;
    // keep every existing byte (bad lines included: they are never deleted), then the new lines
    const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    updated.set(found?.path ?? newNotePath(object), `${base}${added.join('\n')}\n`);
  }
  return { updated, count };
}

/**
 * Appends events to notes in `ref`, losing nothing to concurrent writers: each attempt reads the tip, adds the
 * lines that are missing and moves the ref with commitNotesCas; a lost race retries with jitter.
 * Returns how many lines were written (0 when every event was already there).
 */
export async function appendEvents(cwd: string, ref: string, appends: readonly NoteAppend[], redundant?: Redundant, known?: KnownNotes): Promise<number> {
  const objects = [...new Set(appends.map((a) => a.object))];
  if (objects.length === 0) return 0;
  if (known && objects.every((o) => known.notes.has(o))) {
    // a first attempt on what the caller read: the compare-and-swap still checks the tip, so a stale read only
    // costs this attempt, and a fresh one saves reading the ref and its notes again
    const lines = appendedNotes(appends, objects, known.notes, redundant);
    if (lines.updated.size === 0) return 0;
    if (commitNotesDirect(cwd, ref, known.tip, lines.updated, `omni-ship: ${lines.count} event(s)\n`)) return lines.count;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // one for-each-ref reads the tip, its type and, on the first attempt, the private refs killed writes left
    const refs = parseRefs(gitRun(['for-each-ref', REF_FORMAT, ref, ...(attempt === 0 ? [TMP_REF_PREFIX] : [])], { cwd }).stdout);
    const tip = notesTipIn(refs, ref);
    if (attempt === 0) deleteStaleTmpRefs(cwd, [...refs.keys()].filter((name) => name.startsWith(TMP_REF_PREFIX)));
    const existing = tip ? await readSomeNotes(cwd, tip, objects) : new Map<string, FoundNote>();
    const { updated, count } = appendedNotes(appends, objects, existing, redundant);
    if (updated.size === 0) return 0;
    if (commitNotesCas(cwd, ref, tip, updated, `omni-ship: ${count} event(s)\n`)) return count;
    await sleep(2 + Math.random() * Math.min(200, 5 * (attempt + 1)));
  }
  throw new Error(
    `gave up writing ${ref} after ${MAX_ATTEMPTS} attempts: other writers kept moving it, or a lock file stays in the way (${ref}.lock in the git dir, left by a git process that crashed: delete it when no git process runs)`,
  );
}
