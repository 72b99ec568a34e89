import { checksum, randomId } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import { trailerSettingsKey } from './trailer-settings.js';
import type { Config } from '../config.js';
import { appendTo } from '../collections.js';
import { gitAsync, type GitResult } from '../git/exec.js';
import { taskIdFromBranch, tryTaskId } from '../ids.js';
import { sideOrder, sortSide, claimedTask, logFormat, looseBaseLog, ownCommit, parseLog, parseSideLog, parseSideLogSides, sideLogFormat, type CommitInfo, type SideCommit } from './commits.js';
import { missingBaseWarning } from './base-warning.js';
import { circuitOf, latestBy, latestByTaskAndCommit } from './latest.js';
import { foldVerify, otherSpecResult, type TreeSpecVerdict } from '../verify/fold.js';
import { byTime, decodeNote, type AttemptEvent, type TaskEvent, type BadLine, type LandEvent, type OmniEvent, type PatchsetEvent, type RevertEvent, type ReviewEvent, type VerifyEvent } from '../notes/events.js';
import { foldPatchsets, supersededCommits, type Patchset } from '../notes/fold.js';
import { readAllNotes, readChangedNotes, readChangedNotesMany } from '../notes/read.js';
import { BASE_CACHE_PART, SIDE_CACHE_PART, DamagedCacheError, LandedIndex, NotesPart, closeStateCache, forgetStateCache, readStateCache, writeStateCache, type SideScan, type StateCache } from './cache.js';
import { DamagedSideIndex, SideIndex, setFreshDepths } from './side-index.js';
import { NOTES_REFS, baseRefCandidates, type NotesLog } from '../notes/refs.js';
import { foldTaskRecords, type TaskRecord } from '../pipeline/tasks.js';

import type { TaskState } from './states.js';
export { STATES, type TaskState } from './states.js';

/** Where one task stands. */
export interface TaskView {
  id: string;
  /** the parent task for a subtask (t-565 for t-565.2), else null */
  parent: string | null;
  state: TaskState;
  branch: string | null;
  /** the task's current commit */
  head: string | null;
  patchsets: Patchset[];
  /** the answer for the head commit's tree under the current spec (the latest pass, fail or skip; else the latest undecided run), or null */
  verify: VerifyEvent | null;
  /** the latest answer for the head's tree under another spec (an old spec, a commit's own): shown as such, never as verified */
  verifyOtherSpec: VerifyEvent | null;
  /** a verify of the head's tree under the current spec running on this machine: since when */
  verifyingSince: string | null;
  /** the latest review of the head commit */
  review: ReviewEvent | null;
  landing: LandEvent | null;
  /** the latest landing that was reverted (land.postVerify failed) and not landed again since, or null */
  reverted: RevertEvent | null;
  /** the commit on the base branch that carries the task's trailer, when it landed */
  landedCommit: string | null;
  /** distinct live commits claiming the task (more than one: diverged) */
  live: string[];
  failedAttempts: number;
  /** the head's tree (whose verify results the view shows), or null */
  tree: string | null;
  /** the task's record (`omni-ship task`), what status shows of it; null when it has none */
  record: TaskRecordSummary | null;
  /** its retry circuit is open (needs-help), whatever else its state says (a closed task's may be too) */
  circuitOpen: boolean;
}

/** What a view carries of a task's record: the fields status shows. */
export interface TaskRecordSummary {
  title: string | null;
  /** the parent the record names (a view's own `parent` is the one its id gives) */
  parent: string | null;
  dependsOn: string[];
  priority: number;
  /** closed and not reopened since */
  closed: boolean;
}

/** Everything read commands need, read with a constant number of git processes. */
export interface RepoState {
  tasks: Map<string, TaskView>;
  events: { patchset: PatchsetEvent[]; review: ReviewEvent[]; verify: VerifyEvent[]; land: LandEvent[]; revert: RevertEvent[]; attempt: AttemptEvent[]; task: TaskEvent[] };
  /** the records (`omni-ship task`) of the tasks viewed that have one, whole */
  records: Map<string, TaskRecord>;
  /** per notes ref with unreadable lines: how many, and the first (of the note on the smallest object id) */
  bad: { ref: string; count: number; first: BadLine }[];
  base: string;
  /** things read commands say on stderr: a notes ref that is not a commit, … */
  warnings: string[];
  /**
   * the first parent of each base commit this read listed (only what an incremental read of the base listed: the
   * commits since the last read), so a caller can tell that one new tip is in another's history without a process
   */
  baseParents: Map<string, string>;
}

/** Natural order for task ids: t-2 before t-10, t-565 before t-565.2. */
export function compareTaskIds(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (i % 2 === 1 && !Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The parent of a subtask id (t-565.2 → t-565), or null. */
export function parentTask(id: string): string | null {
  const dot = id.lastIndexOf('.');
  return dot > 0 ? id.slice(0, dot) : null;
}

import { readRefSnapshot } from './ref-snapshot.js';
export { SNAPSHOT_PATTERNS, readRefSnapshot } from './ref-snapshot.js';

/**
 * What a scan read through `git log` depends on besides the refs it starts from and the trailer key and pattern:
 * the replace refs of the snapshot (replaceKey) and git's trailer settings (trailerSettingsKey, when the state dir
 * is known: without one nothing is cached). A part of every key of what is read so.
 */
export function readingKey(snapshot: string, stateDir: string | null): string {
  return `${replaceKey(snapshot)}${stateDir ? trailerSettingsKey(path.dirname(stateDir)) : ''}`;
}

/**
 * What the replace refs (git replace) are in a ref snapshot, as a part of the keys of what is read through them:
 * git log follows them, so a scan read under other replacements is read again. Empty when there are none.
 */
export function replaceKey(snapshot: string): string {
  const lines = snapshot.split('\n').filter((l) => l.startsWith('refs/replace/'));
  return lines.length ? `\x01${checksum().update(lines.join('\n')).digest()}` : '';
}

/**
 * Reads the state of every task the repository knows, from task branches, Task-Id trailers and notes.
 * Git processes, a constant number whatever the number of tasks (DESIGN.md section 6): for-each-ref (unless the
 * caller read the snapshot), a log of every branch's commits off the base branch, and, unless the machine-local
 * cache holds them for the same tips, a log of the base branch and per notes ref an ls-tree and a streaming cat-file
 * (or a diff-tree and a cat-file of the changes; a whole read again when the cached tip is gone).
 */
/** What judges a task's verify results: the current spec's hash, and the runs in progress on this machine. */
export interface VerifyContext {
  /** the hash of the spec in effect (the base's or the local config's); null: unknown, so nothing counts as verified */
  spec: string | null;
  /** runs in progress here, by tree and spec */
  running: readonly { tree: string; spec: string; startedAt: string }[];
}

/**
 * Which tasks loadState builds a view of (default: every task the repository knows). The repository is read the
 * same either way; a view costs per task, and a repository of any age knows every task it ever landed.
 */
export interface TaskSelection {
  /** only these ids (those the repository knows) */
  only?: ReadonlySet<string>;
  /**
   * only tasks known from something besides a landing: a branch, a commit off the base, a patchset, a review, an
   * attempt, a revert. A task known only from its trailer on the base or its land event is landed, and left out.
   */
  inFlight?: boolean;
  /**
   * decides the ids once the refs, the base and the branches are read (as `only`; null: every task), from what the
   * read found: the tasks named by a branch or by a commit off the base (whose views depend on those), and the
   * notes, looked up by object
   */
  pick?: (read: ReadFound) => Promise<ReadonlySet<string> | null>;
}

/** What a read found, for TaskSelection.pick. */
export interface ReadFound {
  /** the tasks a branch's name, a branch tip's trailer or a commit off the base names */
  presence: ReadonlySet<string>;
  /** each notes ref's notes as read (by ref name) */
  notes: ReadonlyMap<string, NotesPart>;
  landed: LandedIndex;
  /** the base branch's tips (local and remote-tracking) this read was of */
  baseTips: readonly string[];
  /**
   * what the base gained since the tips of the last read (`from`, every tip): the tasks its new commits' trailers
   * name; null when the base was read whole
   */
  baseSince: { from: readonly string[]; tasks: readonly string[] } | null;
  /** per notes ref read incrementally (or found unchanged): the tip it was brought forward from, and the objects whose notes changed */
  notesSince: ReadonlyMap<string, { from: string; objects: readonly string[] }>;
  /**
   * the identity of what views read of the branches and the commits off the base (the same while neither the side
   * scan nor any branch but the base's changed), or null when it cannot be told
   */
  branches: string | null;
}

export async function loadState(cwd: string, config: Config, stateDir: string | null = null, snapshot?: string, verifyContext?: VerifyContext | Promise<VerifyContext>, select: TaskSelection = {}): Promise<RepoState> {
  try {
    return await loadStateOnce(cwd, config, stateDir, snapshot, verifyContext, select);
  } catch (e) {
    if (!(e instanceof DamagedCacheError || e instanceof DamagedSideIndex)) throw e;
    // a cached part whose size and header check out but whose content does not (a hand, a disk): read git whole
    forgetStateCache(stateDir);
    return loadStateOnce(cwd, config, stateDir, snapshot, verifyContext, select);
  }
}

async function loadStateOnce(cwd: string, config: Config, stateDir: string | null, snapshot: string | undefined, verifyContextIn: VerifyContext | Promise<VerifyContext> | undefined, select: TaskSelection): Promise<RepoState> {
  const cache = readStateCache(stateDir, Object.values(NOTES_REFS));
  const refsOut = snapshot ?? (await readRefSnapshot(cwd));
  const refs = new Map<string, string>();
  const warnings: string[] = [];
  for (const line of refsOut.split('\n')) {
    const [name, oid, type] = line.split('\0');
    if (!name || !oid) continue;
    // a notes ref must be a commit (git notes reads nothing else); a hand-made ref to a blob is skipped, not fatal
    if (type !== 'commit') {
      if (name.startsWith('refs/notes/')) warnings.push(`skipped ${name}: it points at a ${type}, not a notes commit`);
      continue;
    }
    refs.set(name, oid);
  }
  const base = config.baseBranch;
  const baseRefs = baseRefCandidates(config).filter((r) => refs.has(r));
  const missingBase = missingBaseWarning(config, baseRefs, refs);
  if (missingBase) warnings.push(missingBase);

  // every branch but the base branch, local and remote-tracking; task branches by the task their name gives (a
  // remote-tracking branch names its task without the remote's name)
  const allTips: BranchTip[] = [];
  const branchTips = new Map<string, BranchTip[]>();
  for (const [name, sha] of refs) {
    const local = name.startsWith('refs/heads/');
    if (!local && !name.startsWith('refs/remotes/')) continue;
    const branch = name.slice(local ? 'refs/heads/'.length : 'refs/remotes/'.length);
    if (!local && (branch.endsWith('/HEAD') || !branch.includes('/'))) continue;
    const short = local ? branch : branch.slice(branch.indexOf('/') + 1);
    if (short === base) continue;
    const tip = { branch, sha, local };
    allTips.push(tip);
    const id = taskIdFromBranch(short, config);
    if (id) appendTo(branchTips, id, tip);
  }
  const tipShas = [...new Set(allTips.map((t) => t.sha))];
  const baseShas = [...new Set(baseRefs.map((r) => refs.get(r)!))];

  const notesTips = (Object.keys(NOTES_REFS) as NotesLog[])
    .map((log) => ({ log, ref: NOTES_REFS[log] as string, tip: refs.get(NOTES_REFS[log]) ?? '' }))
    .filter((n) => n.tip !== '');

  // notes are decoded while cat-file still streams them. A ref whose tip the cache knows is not read at all; one
  // that moved since is read incrementally: only the notes `git diff-tree` says changed
  // per notes ref, each annotated object's decoded events: the cache's own part, looked up in place
  const perObject = new Map<string, NotesPart>();
  // per notes ref read incrementally (or not at all): the tip it was brought forward from, and the objects changed
  const notesSince = new Map<string, { from: string; objects: string[] }>();
  const toRead: { ref: string; tip: string }[] = [];
  const incremental: { ref: string; tip: string; from: string }[] = [];
  for (const n of notesTips) {
    const hit = cache.notes.get(n.ref);
    perObject.set(n.ref, hit ?? NotesPart.fresh(n.tip));
    if (hit?.tip === n.tip) {
      notesSince.set(n.ref, { from: n.tip, objects: [] });
      continue;
    }
    if (hit) incremental.push({ ref: n.ref, tip: n.tip, from: hit.tip });
    else toRead.push(n);
    cache.dirty.add(n.ref);
  }
  const decodeInto = (ref: string, object: string, text: string) => {
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    decodeNote(object, text, events, bad);
    perObject.get(ref)!.set(object, [events, bad]);
  };
  const replaced = readingKey(refsOut, stateDir);
  // the common dir, where objects may be read from their files as git reads them: no replace refs (git replace)
  const looseObjects = stateDir && !replaced.startsWith('\x01') && !process.env.GIT_REPLACE_REF_BASE ? path.dirname(stateDir) : undefined;
  // and commits' parents and trailers too: no grafts, no shallow clone, no trailer settings
  const looseHistory = (): string | undefined =>
    looseObjects && replaced === '' && !process.env.GIT_GRAFT_FILE && !process.env.GIT_SHALLOW_FILE && !['info/grafts', 'shallow'].some((f) => fs.existsSync(path.join(looseObjects, f))) ? looseObjects : undefined;
  const baseKey = `${config.trailerKey}\0${config.taskPattern}${replaced}\0${baseRefs.map((r) => `${r}=${refs.get(r)}`).join('\0')}`;
  const baseHit = cache.base?.key === baseKey ? cache.base : null;
  // the base moved (every land moves it): when the tips the cache was read at are all still in the new history,
  // only the commits since are read (`new ^old`), and a count of old commits the new tips lack checks that premise
  const baseFrom = !baseHit && baseShas.length ? incrementalBase(cache.base, config, replaced) : null;
  // every branch's commits off the base branch, newest first, with their first parents: which task each tip
  // claims, the task branch's own commit below a foreign tip, and commits that carry a trailer naming their task
  // even on a branch that does not (a `wip` branch committed with OMNI_SHIP_TASK=t-9). One walk, from the tips
  // and the base branch of the ref snapshot (the stored status answer is keyed by it), not from whatever the refs
  // hold by the time git runs
  // every ref that moved, brought forward at once (one diff-tree, one cat-file); when that fails, each on its own
  async function readIncremental(): Promise<void> {
    const changes = incremental.map((n) => ({ n, records: perObject.get(n.ref)!, deleted: [] as string[], notes: [] as [string, string][] }));
    try {
      await readChangedNotesMany(
        cwd,
        changes.map((c) => ({ from: c.n.from, to: c.n.tip, onDelete: (object: string) => c.deleted.push(object), onNote: (object: string, text: string) => c.notes.push([object, text]) })),
        looseObjects,
      );
    } catch {
      await Promise.all(changes.map((c) => readOne(c.n, c.records)));
      return;
    }
    // applied only once every ref read: a failure half way leaves nothing half applied
    for (const c of changes) {
      for (const object of c.deleted) c.records.delete(object);
      for (const [object, text] of c.notes) decodeInto(c.n.ref, object, text);
      notesSince.set(c.n.ref, { from: c.n.from, objects: [...c.deleted, ...c.notes.map(([o]) => o)] });
    }
  }
  async function readOne(n: { ref: string; tip: string; from: string }, records: NotesPart): Promise<void> {
    const objects: string[] = [];
    try {
      await readChangedNotes(
        cwd,
        n.from,
        n.tip,
        (object) => {
          objects.push(object);
          records.delete(object);
        },
        (object, text) => {
          objects.push(object);
          decodeInto(n.ref, object, text);
        },
      );
      notesSince.set(n.ref, { from: n.from, objects });
    } catch {
      // the cached tip is gone (the ref was rewritten outside omni-ship and gc pruned the old history) or is
      // no commit: the cache cannot be brought forward, so read the ref whole, as if there were no cache
      records.clear();
      await readAllNotes(cwd, [{ ref: n.ref, tip: n.tip }], undefined, decodeInto);
    }
  }
  // the commits off the base: kept from the last read (src/state/cache.ts SideScan) and brought forward by a log of
  // what is new since its tips (none when no branch moved), less what the base gained; read whole otherwise
  const sideKey = `${config.trailerKey}\0${config.taskPattern}${replaced}`;
  const sideRead = cache.side;
  const sideHit = cache.side?.key === sideKey ? cache.side : null;
  const sideBaseSame = sideHit?.base[0] === baseKey;
  const sideFromOldBase = !!sideHit && !sideBaseSame && !baseHit && !!baseFrom && sideHit.base[0] === cache.base?.key;
  const sideTipsSame = !!sideHit && sideHit.tips.length === tipShas.length && tipShas.every((t) => sideHit.tips.includes(t));
  const sideIncremental = !!sideHit && (sideBaseSame || sideFromOldBase);
  // one tip moved (a commit on a task branch, an amend): one log of both sides of it, what is new and what only the
  // old tip reached (a rev-list of its own otherwise, after the log)
  const movedFrom = sideIncremental && !sideTipsSame ? sideHit!.tips.filter((t) => !tipShas.includes(t)) : [];
  const movedTo = sideIncremental && !sideTipsSame ? tipShas.filter((t) => !sideHit!.tips.includes(t)) : [];
  const swapped = movedFrom.length === 1 && movedTo.length === 1 ? { then: movedFrom[0]!, now: movedTo[0]! } : null;
  const sideWhole = (): Promise<GitResult> => gitAsync(['log', sideLogFormat(config.trailerKey), '--stdin'], { cwd, input: `${[...tipShas, ...baseShas.map((b) => `^${b}`)].join('\n')}\n` });
  // the base moved by a commit or a few (a land): read from their loose objects when they settle it
  const looseBase = baseFrom ? looseHistory() : undefined;
  const baseLoose = baseFrom && looseBase ? looseBaseLog(looseBase, baseShas, new Set([...baseFrom.tips, ...baseKeyShas(cache.base?.key ?? null)]), (task) => baseFrom.landed.get(task), config) : null;
  let [baseLog, sideLog] = await Promise.all([
    baseShas.length && !baseHit && !baseLoose
      ? gitAsync(['log', logFormat(config.trailerKey, !!baseFrom), ...baseShas, ...(baseFrom ? baseFrom.tips.map((t) => `^${t}`) : []), '--'], { cwd })
      : Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }),
    !tipShas.length || (sideIncremental && sideTipsSame)
      ? Promise.resolve({ stdout: '', stderr: '', exitCode: 0 })
      : sideIncremental
        ? swapped
          ? gitAsync(['log', '--left-right', sideLogFormat(config.trailerKey, true), '--stdin'], {
              cwd,
              input: `${[`${swapped.now}...${swapped.then}`, ...tipShas.filter((t) => t !== swapped.now).map((t) => `^${t}`), ...baseShas.map((b) => `^${b}`)].join('\n')}\n`,
            })
          : gitAsync(['log', sideLogFormat(config.trailerKey), '--stdin'], { cwd, input: `${[...tipShas, ...sideHit!.tips.map((t) => `^${t}`), ...baseShas.map((b) => `^${b}`)].join('\n')}\n` })
        : sideWhole(),
    readAllNotes(cwd, toRead, undefined, decodeInto),
    readIncremental(),
  ]);
  let landedByTask: LandedIndex;
  const baseParents = new Map<string, string>();
  // the commits the base gained since the side scan's base (null: it did not move, or was read whole)
  let baseGained: Set<string> | null = null;
  let baseSince: ReadFound['baseSince'] = null;
  const oldBaseKey = cache.base?.key ?? null;
  if (baseHit) {
    baseSince = { from: baseShas, tasks: [] };
    landedByTask = baseHit.landed;
  } else {
    let tips = baseShas;
    const listed = baseLoose ?? (baseFrom && baseLog.exitCode === 0 ? parseLog(baseLog.stdout, config) : []);
    const incrementalOk = !!baseFrom && (baseLoose !== null || baseLog.exitCode === 0) && (await stillInHistory(cwd, baseFrom.tips, baseShas, listed));
    if (baseFrom && !incrementalOk) {
      // the base was rewritten (or an old tip is gone): read it whole
      baseLog = await gitAsync(['log', logFormat(config.trailerKey, false), ...baseShas, '--'], { cwd });
    } else if (baseFrom) {
      // a tip that is the parent of a commit listed is in another tip's history: the next incremental read needs
      // only the others (a local base one land behind the remote's would otherwise cost a count every time)
      const parents = new Set(listed.map((c) => c.parent));
      tips = baseShas.filter((t) => !parents.has(t));
      for (const c of listed) if (c.parent) baseParents.set(c.sha, c.parent);
      baseGained = new Set(listed.map((c) => c.sha));
    }
    // newest first: a task's newest commit on the base wins (what was read before is older than what is new)
    const fresh = new Map<string, string>();
    for (const c of incrementalOk ? listed : parseLog(baseLog.stdout, config)) {
      const task = claimedTask(c);
      if (task && !fresh.has(task)) fresh.set(task, c.sha);
    }
    landedByTask = incrementalOk ? baseFrom!.landed.with(fresh) : LandedIndex.of(fresh);
    if (incrementalOk && oldBaseKey) baseSince = { from: [...new Set(baseKeyShas(oldBaseKey))], tasks: [...fresh.keys()] };
    cache.base = { key: baseKey, landed: landedByTask, tips };
    if (!incrementalOk) cache.baseSum = null;
    cache.dirty.add(BASE_CACHE_PART);
  }
  for (const n of notesTips) {
    const part = perObject.get(n.ref)!;
    part.tip = n.tip;
    cache.notes.set(n.ref, part);
  }
  for (const ref of [...cache.notes.keys()]) {
    if (!notesTips.some((n) => n.ref === ref)) {
      cache.notes.delete(ref);
      cache.dirty.add(ref);
    }
  }
  try {
    return await viewsOf();
  } finally {
    // after the views: they look notes up in the parts (written over after, not under them)
    writeStateCache(stateDir, cache);
    closeStateCache(cache, sideRead);
  }
  async function viewsOf(): Promise<RepoState> {
  // the side scan as the views read it: whole records of every tip and every commit with a trailer (the summary, in
  // sortSide's order), and an index of every commit (first parent, tree, depth) for the rest
  let summary: SideCommit[] = [];
  let index = SideIndex.empty;
  let summaryChanged = true;
  let allChanged = true;
  const tipSet = new Set(tipShas);
  // what the views read of a commit: the tips and the commits with a trailer; no other commit claims a task
  const inSummary = (c: SideCommit) => c.claim.kind !== 'none' || tipSet.has(c.sha);
  const whole = (commits: SideCommit[]) => {
    sortSide(commits);
    summary = commits.filter(inSummary);
    index = SideIndex.of(commits);
  };
  let brought = false;
  if (!tipShas.length) {
    // no branch: nothing off the base (the kept scan, when it is as empty, stands)
    summary = [];
    allChanged = !sideHit || sideHit.index.size > 0;
    summaryChanged = allChanged || !sideTipsSame;
  } else if (sideIncremental && sideLog.exitCode === 0 && (sideBaseSame || baseGained)) {
    brought = await bringSideForward(sideHit!);
  }
  if (tipShas.length && !brought) {
    if (sideIncremental) sideLog = await sideWhole();
    whole(sideLog.exitCode === 0 ? parseSideLog(sideLog.stdout, config) : []);
  }
  if ((!sideHit || !sideBaseSame || !sideTipsSame || (tipShas.length > 0 && !brought)) && sideLog.exitCode === 0) {
    // an index read from the kept file (brought forward: a delta over it) keeps its id; one made whole has none yet
    // a summary or index that changed is another one from now on (its id, written with it, says so to the views' table)
    cache.side = { key: sideKey, base: [baseKey], tips: tipShas, summary, index, id: summaryChanged || allChanged ? randomId() : sideHit?.id, allId: index.delta() !== null ? sideHit?.allId : undefined, summaryChanged, allChanged };
    cache.dirty.add(SIDE_CACHE_PART);
  }
  /**
   * The kept scan brought forward: what is new since its tips (the side log), less what only the tips no branch
   * points at any more reached (one rev-list, when such a tip is no parent of a new commit). False when it cannot be
   * (the base gained commits off it: the depths of what is left may change; a rev-list failed): read whole then.
   */
  async function bringSideForward(kept: SideScan): Promise<boolean> {
    const known = kept.index;
    if (baseGained) for (const sha of baseGained) if (known.has(sha)) return false;
    const sides = swapped ? parseSideLogSides(sideLog.stdout, config) : null;
    const fresh = (sides ? sides.left : parseSideLog(sideLog.stdout, config)).filter((c) => !baseGained?.has(c.sha) && !known.has(c.sha));
    const freshParents = new Set(fresh.flatMap((c) => c.parents));
    const unsure = sides ? [] : kept.tips.filter((t) => !tipSet.has(t) && !freshParents.has(t));
    // what only the old tip reached (the log's right side): no tip reaches it now
    const removed = new Set<string>(sides ? sides.right.filter((sha) => known.has(sha)) : []);
    if (unsure.length) {
      const gone = await gitAsync(['rev-list', '--stdin'], { cwd, input: `${[...unsure, ...tipShas.map((t) => `^${t}`), ...baseShas.map((b) => `^${b}`)].join('\n')}\n` });
      if (gone.exitCode !== 0) return false;
      for (const sha of gone.stdout.split('\n')) if (sha) removed.add(sha);
    }
    // new commits only add children, and what is removed is below no commit kept: the kept depths stand
    setFreshDepths(fresh, known);
    const next = known.with(fresh, removed);
    const bySummary = new Map<string, SideCommit>();
    for (const c of kept.summary) if (!removed.has(c.sha) && inSummary(c)) bySummary.set(c.sha, c);
    for (const c of fresh) if (inSummary(c)) bySummary.set(c.sha, c);
    // a commit that became a tip (a branch made at it): its record from the index (it has no trailer, or the
    // summary would hold it)
    for (const t of tipShas) {
      if (bySummary.has(t)) continue;
      const rec = next.info(t);
      if (rec) bySummary.set(t, { ...rec, parents: rec.parent ? [rec.parent] : [] });
    }
    summary = [...bySummary.values()].sort(sideOrder);
    allChanged = fresh.length > 0 || removed.size > 0;
    summaryChanged = allChanged || !sideTipsSame;
    index = next;
    return true;
  }
  const bySha = new Map<string, SideCommit>();
  // newest first: the first commit seen for a task is its head when no task branch names it
  const trailerHead = new Map<string, CommitInfo>();
  const sideOrderOf = new Map<string, number>();
  summary.forEach((c, i) => {
    bySha.set(c.sha, c);
    sideOrderOf.set(c.sha, i);
    const task = claimedTask(c);
    if (task && !trailerHead.has(task)) trailerHead.set(task, c);
  });
  // a commit off the base: the summary's record, else the index's (no trailer); a tip not in the summary is on the base
  const side = { get: (sha: string): CommitInfo | undefined => bySha.get(sha) ?? (tipSet.has(sha) ? undefined : index.info(sha)) };
  // the branch tips (any branch) each task's trailer claims: each is a live commit of that task
  const claimedTips = new Map<string, string[]>();
  for (const t of allTips) {
    const task = claimedTask(bySha.get(t.sha));
    if (task && !claimedTips.get(task)?.includes(t.sha)) appendTo(claimedTips, task, t.sha);
  }
  const branchAt = new Map<string, string>();
  for (const [name, sha] of refs) {
    if (name.startsWith('refs/heads/') && !branchAt.has(sha)) branchAt.set(sha, name.slice('refs/heads/'.length));
  }

  const bad: RepoState['bad'] = [];
  for (const n of notesTips) {
    const b = perObject.get(n.ref)!.badLines();
    if (b) bad.push({ ref: n.ref, ...b });
  }
  const events = { patchset: [] as PatchsetEvent[], review: [] as ReviewEvent[], verify: [] as VerifyEvent[], land: [] as LandEvent[], revert: [] as RevertEvent[], attempt: [] as AttemptEvent[], task: [] as TaskEvent[] };
  // an event filed in the wrong log is ignored: each log holds its own types (the lands log: land and revert)
  const fits = (e: OmniEvent, log: NotesLog) => e.type === expectedType(log) || (e.type === 'revert' && log === 'lands');
  const presence = new Set<string>([...branchTips.keys(), ...trailerHead.keys(), ...claimedTips.keys()]);
  let picked: ReadonlySet<string> | null = null;
  if (select.pick) {
    // what every view reads besides the notes and the base: the commits off the base (the side scan's id: a new one
    // whenever they change; none when the log failed) and the branches (their names and tips: a branch renamed
    // moves no commit), the base branch's own refs left out
    const baseRefSet = new Set(baseRefs);
    const branches = checksum();
    for (const [name, sha] of refs) if ((name.startsWith('refs/heads/') || name.startsWith('refs/remotes/')) && !baseRefSet.has(name)) branches.update(`${name}\0${sha}\n`);
    const sideId = sideLog.exitCode === 0 ? cache.side?.id ?? null : null;
    picked = await select.pick({ presence, notes: new Map([...perObject].map(([ref, part]) => [ref, part])), landed: landedByTask, baseTips: baseShas, baseSince, notesSince, branches: sideId ? `${sideId} ${branches.digest()}` : null });
  }
  const only = select.only ?? picked ?? undefined;
  // the verify results of one tree, folded: every result when all tasks are read, else looked up per tree
  let verifiesOf: (tree: string) => Map<string, TreeSpecVerdict> | undefined;
  if (!only) {
    for (const n of notesTips) {
      for (const [objectEvents] of perObject.get(n.ref)!.all().values()) {
        for (const e of objectEvents) if (fits(e, n.log)) (events[e.type] as OmniEvent[]).push(e);
      }
    }
    const folded = foldVerify(events.verify);
    verifiesOf = (tree) => folded.get(tree);
  } else {
    // only the events of the tasks asked about: looked up by the keys the parts index (each note read once)
    const landedCommits = new Set<string>();
    for (const id of only) {
      const l = landedByTask.get(id);
      if (l) landedCommits.add(l);
    }
    const keysFor = (log: NotesLog): string[] => [...[...only].map((id) => `t:${id}`), ...(log === 'lands' ? [...landedCommits].map((c) => `r:${c}`) : [])];
    // each note is read once per log; a note looked up again (by another key) adds nothing
    const consumed = new Map<NotesLog, Set<string>>();
    const read = (log: NotesLog, keys: readonly string[], keep: (e: OmniEvent) => boolean) => {
      const part = perObject.get(NOTES_REFS[log]);
      if (!part) return;
      let done = consumed.get(log);
      if (!done) consumed.set(log, (done = new Set()));
      const objects = new Set<string>();
      for (const k of keys) for (const o of part.objectsFor(k)) if (!done.has(o)) objects.add(o);
      for (const o of objects) {
        done.add(o);
        for (const e of part.get(o)?.[0] ?? []) if (fits(e, log) && keep(e)) (events[e.type] as OmniEvent[]).push(e);
      }
    };
    const named = (e: OmniEvent) => e.task !== null && only.has(e.task);
    for (const log of ['patchsets', 'reviews', 'attempts', 'tasks'] as const) read(log, keysFor(log), named);
    // land events first: their landed commits find the reverts of those landings too; a note holds both kinds
    read('lands', keysFor('lands'), () => true);
    for (const e of events.land) if (named(e) && e.landed) landedCommits.add(e.landed);
    read('lands', [...landedCommits].map((c) => `r:${c}`), () => true);
    events.land = events.land.filter(named);
    events.revert = events.revert.filter((e) => named(e) || landedCommits.has(e.landed));
    // verify results: every one of a tree a view asks about (below), whatever task it names; those naming the tasks
    read('verify', keysFor('verify'), () => true);
    const byTree = new Map<string, ReturnType<typeof verifiesOf>>();
    verifiesOf = (tree) => {
      if (!byTree.has(tree)) {
        read('verify', [`v:${tree}`], () => true);
        byTree.set(tree, foldVerify(events.verify.filter((e) => e.tree === tree)).get(tree));
      }
      return byTree.get(tree);
    };
  }

  const patchsets = foldPatchsets(events.patchset);
  // task records, by the task their events name (a record's note is on a computed key, no commit): one that was
  // never created (an edit synced without its creation) is none
  const records = new Map<string, TaskRecord>();
  for (const [id, r] of foldTaskRecords(events.task)) if (r.created) records.set(id, r);
  // a review or an attempt counts for the task it names on that commit: a commit two tasks' branches share is
  // no reason to show one task's verdict on the other
  const reviews = latestByTaskAndCommit(events.review);
  // the verify context may still be being read (status reads it beside the notes and the logs)
  const verifyContext = await verifyContextIn;
  const currentSpec = verifyContext?.spec ?? null;
  const lands = latestBy(events.land, (e) => e.task);
  // a landed commit reverted by land.postVerify no longer counts as the task's landing
  const revertOf = new Map<string, RevertEvent>();
  for (const e of events.revert) {
    const cur = revertOf.get(e.landed);
    if (!cur || byTime(cur, e) < 0) revertOf.set(e.landed, e);
  }
  const attempts = new Map<string, Map<string, AttemptEvent[]>>();
  for (const e of events.attempt) {
    let byCommit = attempts.get(e.task);
    if (!byCommit) attempts.set(e.task, (byCommit = new Map()));
    appendTo(byCommit, e.commit, e);
  }

  const ids = new Set<string>([...branchTips.keys(), ...patchsets.keys(), ...trailerHead.keys()]);
  for (const e of events.review) ids.add(e.task);
  for (const e of events.revert) ids.add(e.task);
  for (const e of events.attempt) ids.add(e.task);
  if (!select.inFlight) {
    // a record alone makes a task known too (open, or closed); not to land --all (inFlight), which has nothing of
    // such a task to land and must not build a view of every record
    for (const id of records.keys()) ids.add(id);
    // the landings of the tasks asked about are looked up, not all of them listed
    if (only) {
      for (const id of only) if (landedByTask.get(id) !== undefined) ids.add(id);
    } else for (const id of landedByTask.all().keys()) ids.add(id);
    for (const e of events.land) ids.add(e.task);
  }
  if (only) for (const id of ids) if (!only.has(id)) ids.delete(id);
  const treeOf = new Map<string, string>();
  for (const list of patchsets.values()) for (const p of list) treeOf.set(p.commit, p.tree);

  const tasks = new Map<string, TaskView>();
  for (const id of ids) {
    if (!tryTaskId(id, config)) continue;
    const tips = branchTips.get(id) ?? [];
    const own = patchsets.get(id) ?? [];
    const superseded = supersededCommits(own);
    const trailerLanded = landedByTask.get(id) ?? null;
    const latestLand = lands.get(id) ?? null;
    // reverted: the newest landing (the newest trailer on the base, else the latest land event) has a revert event
    const newestLanding = trailerLanded ?? latestLand?.landed ?? null;
    const reverted = newestLanding ? revertOf.get(newestLanding) ?? null : null;
    const landedCommit = reverted ? null : trailerLanded;
    // each task branch's own commit (see ownCommit): none when the tip is on the base branch (a branch just made
    // from base) or claims something else and nothing below it names the task
    const ownTips: BranchTip[] = [];
    for (const t of tips) {
      const sha = ownCommit(t.sha, id, side);
      if (sha) ownTips.push({ ...t, sha });
    }
    const localTip = ownTips.find((t) => t.local);
    // live: the commits that claim the task now, neither replaced by another: each task branch's own commit, and
    // every branch tip whose trailer names the task (t-1's commit cherry-picked onto t-2 claims t-1). Without a
    // task branch, the newest commit carrying the trailer too
    const byTrailer = tips.length ? null : trailerHead.get(id)?.sha ?? null;
    const claims = [...ownTips.map((t) => t.sha), ...(claimedTips.get(id) ?? []), ...(byTrailer ? [byTrailer] : [])];
    const live = [...new Set(claims)].filter((sha) => !superseded.has(sha));
    // the head: with a task branch, its own commit (the local branch's first), also when the task is diverged (the
    // other live commits are listed in live); none yet: null, unless the task landed (a branch whose tip landed by
    // fast-forward is on base: its head is the landed commit). Without one (deleted, or never made): the newest live
    // commit, else the newest commit carrying the trailer, else the last patchset, else the commit that landed
    const newestLive = [...live].sort((a, b) => (sideOrderOf.get(a) ?? Infinity) - (sideOrderOf.get(b) ?? Infinity))[0];
    const head = tips.length
      ? localTip?.sha ?? ownTips[0]?.sha ?? landedCommit ?? reverted?.commit ?? null
      : newestLive ?? byTrailer ?? own[own.length - 1]?.commit ?? landedCommit ?? reverted?.commit ?? null;
    const tree = head ? treeOf.get(head) ?? side.get(head)?.tree ?? null : null;
    const bySpec = tree ? verifiesOf(tree) : undefined;
    const under = currentSpec ? bySpec?.get(currentSpec) : undefined;
    const verify = under?.conclusive ?? under?.latest ?? null;
    const verifyOtherSpec = otherSpecResult(bySpec, currentSpec);
    const run = tree && currentSpec ? verifyContext?.running.find((r) => r.tree === tree && r.spec === currentSpec) : undefined;
    const verifyingSince = run && !under?.conclusive ? run.startedAt : null;
    const review = head ? reviews.get(id)?.get(head) ?? null : null;
    const landing = reverted ? null : latestLand;
    const record = records.get(id) ?? null;
    // the circuit of what the task is now: its commit's attempts, else (before its first commit) its record's
    const circuit = head ? circuitOf(attempts.get(id)?.get(head) ?? []) : { failures: record?.circuit.failures ?? 0, needsHelp: record?.circuit.needsHelp ?? false };
    let state: TaskState = 'in-progress';
    if (landing || landedCommit) state = 'landed';
    // closed by a person: out of the pipeline whatever its commits say, until it is reopened (or lands after all)
    else if (record?.closed) state = 'closed';
    else if (circuit.needsHelp) state = 'needs-help';
    else if (live.length > 1) state = 'diverged';
    else if (verify?.result === 'fail') state = 'failed';
    else if (review?.verdict === 'approve') state = 'approved';
    else if (verify?.result === 'pass' || verify?.result === 'skip') state = 'verified';
    else if (verifyingSince) state = 'verifying';
    // known from its record alone: no commit and no branch yet
    else if (record && !head && !tips.length) state = 'open';
    tasks.set(id, {
      id,
      parent: parentTask(id),
      state,
      branch: localTip?.branch ?? ownTips[0]?.branch ?? tips.find((t) => t.local)?.branch ?? tips[0]?.branch ?? (head ? branchAt.get(head) ?? null : null),
      head,
      patchsets: own,
      verify,
      verifyOtherSpec,
      verifyingSince,
      review,
      landing,
      reverted,
      landedCommit,
      live,
      failedAttempts: circuit.failures,
      circuitOpen: circuit.needsHelp,
      tree,
      record: record && { title: record.title, parent: record.parent, dependsOn: [...record.dependsOn], priority: record.priority, closed: record.closed !== null },
    });
  }
  // show lists every verify result of the task's patchsets' trees
  if (only) for (const list of patchsets.values()) for (const p of list) verifiesOf(p.tree);
  for (const id of records.keys()) if (!tasks.has(id)) records.delete(id);
  return { tasks, events, bad, base, warnings, baseParents, records };
  }
}

/**
 * Whether every tip the cached scan was read at is still in the base's history, so `new ^old` listed exactly what is
 * new. Settled without a process when each old tip is a new tip or the parent of a commit just listed (a fast-forward
 * always is); otherwise one `git rev-list --count` of the old commits the new tips lack.
 */
async function stillInHistory(cwd: string, oldTips: readonly string[], newTips: readonly string[], listed: readonly CommitInfo[]): Promise<boolean> {
  const parents = new Set(listed.map((c) => c.parent));
  if (oldTips.every((t) => newTips.includes(t) || parents.has(t))) return true;
  const lost = await gitAsync(['rev-list', '--count', ...oldTips, ...newTips.map((b) => `^${b}`), '--'], { cwd });
  return lost.exitCode === 0 && lost.stdout.trim() === '0';
}

/** The commits a base scan's key names (each `ref=sha` after the settings). */
function baseKeyShas(key: string | null): string[] {
  return key ? key.split('\0').slice(2).map((r) => r.slice(r.lastIndexOf('=') + 1)) : [];
}

/**
 * The cached base scan to bring forward, when it was read with the same trailer settings: its tips (each `ref=sha`
 * in the key) and what it found. Null when there is none, or it was read under other settings.
 */
function incrementalBase(cached: StateCache['base'], config: Config, replaced: string): { tips: string[]; landed: LandedIndex } | null {
  if (!cached) return null;
  const [trailerKey, taskPattern, ...refs] = cached.key.split('\0');
  if (trailerKey !== config.trailerKey || taskPattern !== `${config.taskPattern}${replaced}` || refs.length === 0) return null;
  // the tips that matter (none in another's history), else every tip of the key
  const tips = (cached.tips?.length ? cached.tips : baseKeyShas(cached.key)).filter((t) => /^[0-9a-f]{40,64}$/.test(t));
  return tips.length ? { tips: [...new Set(tips)], landed: cached.landed } : null;
}

/** A branch and the commit it points at. */
interface BranchTip {
  branch: string;
  sha: string;
  local: boolean;
}

const EXPECTED_TYPE = { patchsets: 'patchset', reviews: 'review', verify: 'verify', lands: 'land', attempts: 'attempt', tasks: 'task' } as const;

function expectedType(log: NotesLog): OmniEvent['type'] {
  return EXPECTED_TYPE[log];
}
