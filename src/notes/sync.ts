import { gitAsync, gitRun, type GitResult } from '../git/exec.js';
import { DISPLAY_MERGE } from './display.js';
import { startSyncFetch } from './refs.js';
import { DISPLAY_REF, KEPT_REF, NOTES_PREFIX, PATCHSET_REF_PREFIX, remoteDisplayRef, remoteDisplayRefspec, remoteKeptRef, remoteKeptRefspec, remoteNotesPrefix, remotePatchsetPrefix } from './refs.js';
import { buildKeepers, readKeepers, unionOf, type Keeper } from './kept.js';
import { LINE_UNION, planUnion, planUnions, type NoteMerge, type UnionPlan } from './union.js';
import { commitNotesCas, type CasParents, type RefTarget } from './write.js';
import { LOST_RACE, RemoteDeclinedError, RemoteUnreachableError, SyncRaceError, firstComplaint, remoteSaid, remoteUrl } from './sync-errors.js';

export { unionNote } from './union.js';
export { RemoteDeclinedError, RemoteUnreachableError, SyncRaceError } from './sync-errors.js';

const ZERO = '0000000000000000000000000000000000000000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_ROUNDS = 8;

/** What one sync did (or, dry, would do). */
export interface SyncResult {
  remote: string;
  dryRun: boolean;
  /**
   * notes refs merged because both sides held something the other lacked: the logs by set union of lines, the
   * display ref (refs/notes/omni-ship-landed) by whole notes
   */
  merged: string[];
  /** local refs moved to the remote's value (fast-forward or new) */
  updatedLocal: string[];
  /** refs pushed to the remote */
  pushed: string[];
  /**
   * notes refs whose remote copy descends from ours but lacks lines (or display notes) we hold (someone removed or
   * rewrote notes without omni-ship and pushed): we keep ours, build on theirs, and push them back (also in `pushed`)
   */
  restored: string[];
  /** refs left alone because one side is not a commit (e.g. a ref to a blob made by hand), with the reason */
  skipped: { ref: string; reason: string }[];
  /** rounds needed: more than one when another clone pushed between our fetch and push */
  rounds: number;
  /**
   * per-patchset refs (refs/omni-ship/patchsets/…, of omni-ship before the kept ref) found here and on the remote,
   * folded into refs/omni-ship/kept and deleted on both sides
   */
  folded: number;
}

/** The refs under `patterns` with what each points at (one for-each-ref). */
function refMap(cwd: string, patterns: string[]): Map<string, RefTarget> {
  return parseRefMap(gitRun(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...patterns], { cwd }).stdout);
}

/** for-each-ref output in the format `%(refname)%00%(objectname)%00%(objecttype)`, as a map. */
export function parseRefMap(out: string): Map<string, RefTarget> {
  const map = new Map<string, RefTarget>();
  for (const line of out.split('\n')) {
    const [name, oid, type] = line.split('\0');
    if (name && oid && type) map.set(name, { oid, type });
  }
  return map;
}

/**
 * Which of two different commits descends from the other, with one `git rev-list --left-right --count`: the
 * commits only `local` has, and those only `theirs` has (none on one side: the other side descends from it).
 */
async function descent(cwd: string, local: string, theirs: string): Promise<Descent> {
  const r = await gitAsync(['rev-list', '--left-right', '--count', `${local}...${theirs}`, '--'], { cwd });
  const [onlyLocal, onlyTheirs] = r.stdout.trim().split(/\s+/).map(Number);
  if (r.exitCode !== 0 || onlyLocal === undefined || onlyTheirs === undefined) return { remoteDescends: false, localDescends: false };
  return { remoteDescends: onlyLocal === 0, localDescends: onlyLocal > 0 && onlyTheirs === 0 };
}

interface Descent {
  remoteDescends: boolean;
  localDescends: boolean;
}

/** What syncing one notes log decided: the commit the remote should get (if any), and whether a local write lost a race. */
interface LogStep {
  next: string | undefined;
  raced: boolean;
}

/**
 * Brings one notes ref to the union of ours and the remote's, locally, and says what to push. The rule, in every
 * case: afterwards the local ref holds everything it held plus everything the remote has, and the commit pushed
 * holds it all and descends from the remote's tip (so the push is a fast-forward, and the other clones
 * fast-forward to it next time: no loop). A remote tip that descends from ours is not trusted to hold what we
 * hold: someone without omni-ship may have run `git notes remove`/`prune` or rewritten a note and pushed. Only the
 * notes that differ between the two tips are read (planUnion), and `merge` combines two texts of one note (lines
 * of a log, whole display notes). Local writes are compare-and-swaps from `local`: a local writer that moved the
 * ref meanwhile makes the round start again.
 */
async function syncLog(
  cwd: string,
  ref: string,
  local: string | undefined,
  theirs: string | undefined,
  merge: NoteMerge,
  dryRun: boolean,
  result: SyncResult,
  planned?: UnionPlan,
  descended?: Descent,
): Promise<LogStep> {
  // the remote lacks this log (never had it, lost it, or is a new URL): push ours whole, leased on "must not
  // exist"; never delete ours because the remote has none
  if (!theirs) return { next: local, raced: false };
  if (!local) {
    result.updatedLocal.push(ref);
    const raced = !dryRun && gitRun(['update-ref', ref, theirs, ZERO], { cwd }).exitCode !== 0;
    return { next: theirs, raced };
  }
  if (local === theirs) return { next: local, raced: false };
  const { remoteDescends, localDescends } = descended ?? (await descent(cwd, local, theirs));
  const plan = planned ?? (await planUnion(cwd, local, theirs, merge));
  const message = `omni-ship sync: union with ${theirs.slice(0, 12)}\n`;
  if (remoteDescends) {
    if (plan.theirsLacks === 0) {
      // a plain fast-forward: the remote holds every line we do
      result.updatedLocal.push(ref);
      const raced = !dryRun && gitRun(['update-ref', ref, theirs, local], { cwd }).exitCode !== 0;
      return { next: theirs, raced };
    }
    // the remote dropped some of our lines: build on its tip with them put back
    result.restored.push(ref);
    return commitUnion(cwd, ref, local, plan.ontoTheirs, message, { parent: theirs }, dryRun);
  }
  if (localDescends && plan.oursLacks === 0) return { next: local, raced: false }; // ours is ahead: push it
  // diverged, or ours is ahead but dropped some of the remote's lines: a merge (or, when the remote's tip is in
  // our history already, a plain commit) on our tip that adds what we lack
  result.merged.push(ref);
  return commitUnion(cwd, ref, local, plan.ontoOurs, message, localDescends ? {} : { merge: theirs }, dryRun);
}

/** Commits the union locally (a compare-and-swap from `local`), or, dry, pretends to. */
function commitUnion(cwd: string, ref: string, local: string, notes: Map<string, string>, message: string, parents: CasParents, dryRun: boolean): LogStep {
  if (dryRun) return { next: local, raced: false };
  if (!commitNotesCas(cwd, ref, local, notes, message, parents)) return { next: undefined, raced: true };
  return { next: gitRun(['rev-parse', '--verify', ref], { cwd }).stdout.trim(), raced: false };
}

/** What one round decided for the notes logs and the display ref: what to push (with leases), and whether a local write lost a race. */
interface NotesRound {
  leases: string[];
  pushSpecs: string[];
  raced: boolean;
  /** each notes ref synced (not skipped), with the remote's tip it was synced with (null: the remote lacks it) */
  synced: Map<string, string | null>;
}

/**
 * One round of the notes logs and the display ref (see syncLog): every log both sides hold, at different commits, is
 * planned at once (one diff-tree, one cat-file, and which side descends from which, all at the same time). `ahead`:
 * refs known to descend from, and hold all of, the remote's tip given (mergeFetchedNotes made them so): while the
 * tracking ref is still at that tip, the local one is pushed as it is, with nothing read.
 */
async function notesRound(cwd: string, remote: string, refs: Map<string, RefTarget>, dryRun: boolean, result: SyncResult, ahead?: ReadonlyMap<string, string | null>): Promise<NotesRound> {
  const notesTrack = remoteNotesPrefix(remote);
  const displayTrack = remoteDisplayRef(remote);
  const out: NotesRound = { leases: [], pushSpecs: [], raced: false, synced: new Map() };
  const logs = new Set<string>();
  for (const name of refs.keys()) {
    if (name.startsWith(NOTES_PREFIX)) logs.add(name.slice(NOTES_PREFIX.length));
    else if (name.startsWith(notesTrack)) logs.add(name.slice(notesTrack.length));
  }
  const notesRefs: { ref: string; track: string; merge: NoteMerge }[] = [...logs]
    .sort()
    .map((log) => ({ ref: `${NOTES_PREFIX}${log}`, track: `${notesTrack}${log}`, merge: LINE_UNION }));
  // prose: a set union of sorted lines would scramble it, so its notes merge whole (display.ts)
  if (refs.has(DISPLAY_REF) || refs.has(displayTrack)) notesRefs.push({ ref: DISPLAY_REF, track: displayTrack, merge: DISPLAY_MERGE });
  const knownAhead = (ref: string, track: string) => {
    const local = refs.get(ref);
    return local?.type === 'commit' && ahead?.has(ref) === true && (refs.get(track)?.oid ?? null) === ahead.get(ref);
  };
  const toPlan = notesRefs.filter(({ ref, track }) => {
    const local = refs.get(ref);
    const theirs = refs.get(track);
    return local?.type === 'commit' && theirs?.type === 'commit' && local.oid !== theirs.oid && !knownAhead(ref, track);
  });
  const plans = new Map<string, UnionPlan>();
  const descents = new Map<string, Descent>();
  const [planned, descended] = await Promise.all([
    planUnions(cwd, toPlan.map(({ ref, track, merge }) => ({ ours: refs.get(ref)!.oid, theirs: refs.get(track)!.oid, merge }))),
    Promise.all(toPlan.map(({ ref, track }) => descent(cwd, refs.get(ref)!.oid, refs.get(track)!.oid))),
  ]);
  planned.forEach((plan, i) => plans.set(toPlan[i]!.ref, plan));
  descended.forEach((d, i) => descents.set(toPlan[i]!.ref, d));
  for (const { ref, track, merge } of notesRefs) {
    const local = refs.get(ref);
    const theirs = refs.get(track);
    // a ref to a blob (or tree, or tag) is no notes log: never overwrite it, never push it, sync the others
    if (local && local.type !== 'commit') {
      result.skipped.push({ ref, reason: `it points at a ${local.type} (${local.oid.slice(0, 12)}) here, not a notes commit; look at it (git cat-file -p ${local.oid.slice(0, 12)}), then delete it (git update-ref -d ${ref}) to get the remote's log` });
      continue;
    }
    if (theirs && theirs.type !== 'commit') {
      result.skipped.push({ ref, reason: `it points at a ${theirs.type} (${theirs.oid.slice(0, 12)}) on ${remote}, not a notes commit; once whoever pushed it agrees, delete it there (git push ${remote} :${ref}) and sync again` });
      continue;
    }
    const step = knownAhead(ref, track) ? { next: local!.oid, raced: false } : await syncLog(cwd, ref, local?.oid, theirs?.oid, merge, dryRun, result, plans.get(ref), descents.get(ref));
    if (step.raced) out.raced = true;
    out.synced.set(ref, theirs?.oid ?? null);
    if (step.next && step.next !== theirs?.oid) {
      out.leases.push(`--force-with-lease=${ref}:${theirs?.oid ?? ''}`);
      out.pushSpecs.push(`${step.next}:${ref}`);
      result.pushed.push(ref);
    }
  }
  return out;
}

/**
 * The notes half of a sync, without fetching or pushing: after a fetch of syncFetchRefspecs (land's first fetch),
 * brings every local notes log and the display ref to the union with the remote's, locally, so what this clone
 * reads next counts what other clones pushed (a review, an attempt). Returns each ref's remote tip it now descends
 * from and holds all of (null: the remote lacks the ref): the `ahead` that lets the sync after the land push
 * without planning again; and whether any local ref changed. A ref that is not a commit is left alone, as sync
 * does. `refs`: the caller's for-each-ref of mergeRefPatterns (in refMap's form), read just now.
 */
export async function mergeFetchedNotes(cwd: string, remote: string, refs?: Map<string, RefTarget>): Promise<{ ahead: Map<string, string | null>; changed: boolean }> {
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const result: SyncResult = { remote, dryRun: false, merged: [], updatedLocal: [], pushed: [], restored: [], skipped: [], rounds: round, folded: 0 };
    // the caller's read of the refs serves the first round
    const now = round === 1 && refs ? refs : refMap(cwd, mergeRefPatterns(remote));
    const notes = await notesRound(cwd, remote, now, false, result);
    if (!notes.raced) return { ahead: notes.synced, changed: result.merged.length + result.updatedLocal.length + result.restored.length > 0 };
    await sleep(20 + Math.random() * 100 * round);
  }
  throw new SyncRaceError(remote, MAX_ROUNDS);
}

/** The refs mergeFetchedNotes reads: the notes logs and the display ref, here and as fetched from `remote`. */
export function mergeRefPatterns(remote: string): string[] {
  return [NOTES_PREFIX, remoteNotesPrefix(remote), DISPLAY_REF, remoteDisplayRef(remote)];
}

export { syncFetchRefspecs } from './refs.js';

/** How syncNotes is called from land. */
export interface SyncOptions {
  /** the caller fetched syncFetchRefspecs moments ago (see syncNotes) */
  fetched?: boolean;
  /** what mergeFetchedNotes returned: logs known to be ahead of the remote's tips given */
  ahead?: ReadonlyMap<string, string | null>;
  /** called as each push starts: the caller does its own work while git pushes */
  onPushing?: () => void;
  /** the first round's fetch, started by the caller (startSyncFetch) while it loaded this module */
  fetching?: Promise<GitResult>;
}

/**
 * Syncs omni-ship's notes logs, display notes and the kept ref with `remote`: fetch into
 * refs/omni-ship/remote-notes/<remote>/ (and remote-display/, remote-kept/, remote-patchsets/), merge (logs by set union, display
 * notes whole), push with explicit leases (`--force-with-lease=<ref>:<oid>`), and start again with jitter when
 * another clone pushed first. Never edits remote.*.fetch or remote.*.push; never overwrites the remote's lines.
 *
 * `fetched`: the caller fetched syncFetchRefspecs moments ago (land does, in its own fetch): the first round
 * merges and pushes on those tracking refs without fetching again; a lease that no longer holds fetches as usual.
 */
export async function syncNotes(cwd: string, remote: string, dryRun: boolean, opts: SyncOptions = {}): Promise<SyncResult> {
  const notesTrack = remoteNotesPrefix(remote);
  const psTrack = remotePatchsetPrefix(remote);
  const displayTrack = remoteDisplayRef(remote);
  const result: SyncResult = { remote, dryRun, merged: [], updatedLocal: [], pushed: [], restored: [], skipped: [], rounds: 0, folded: 0 };
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    result.rounds = round;
    result.merged = [];
    result.updatedLocal = [];
    result.pushed = [];
    result.restored = [];
    result.skipped = [];
    // --prune makes the tracking refs mirror the remote exactly: a ref the remote lost (deleted, or a new URL)
    // must not keep its old value here, or the lease below would expect it and the push would never go through.
    // With refspecs on the command line, git prunes only their destinations (checked on git 2.39: branches,
    // tags and other refs are left alone, whatever remote.*.prune or fetch.pruneTags say).
    if (round > 1 || !opts.fetched) {
      const fetched = await (round === 1 && opts.fetching ? opts.fetching : startSyncFetch(cwd, remote));
      // 128 is git's "fatal": it could not talk to the remote (a local ref update failing exits 1)
      if (fetched.exitCode === 128) throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, false), 'fetch', firstComplaint(fetched.stderr));
      if (fetched.exitCode !== 0) throw new Error(`git fetch ${remote} failed: ${firstComplaint(fetched.stderr)}`);
    }
    const refs = refMap(cwd, [NOTES_PREFIX, notesTrack, KEPT_REF, remoteKeptRef(remote), PATCHSET_REF_PREFIX, psTrack, DISPLAY_REF, displayTrack]);
    // the first round after the caller's own fetch and merge (mergeFetchedNotes) knows which logs are ahead
    const notes = await notesRound(cwd, remote, refs, dryRun, result, round === 1 && opts.fetched ? opts.ahead : undefined);
    const leases = notes.leases;
    const pushSpecs = notes.pushSpecs;
    if (notes.raced) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }

    // the kept ref (every patchset commit reachable from one ref): the union of ours and the remote's, plus any
    // per-patchset refs an older omni-ship left on either side, folded in and deleted (here, and on the remote in
    // the same atomic push). One that is not a commit (a ref to a blob made by hand) is left alone on both sides.
    const kept = planKept(cwd, remote, refs, dryRun, result);
    leases.push(...kept.leases);
    pushSpecs.push(...kept.pushSpecs);
    if (!dryRun && kept.updates.length && gitRun(['update-ref', '--stdin'], { cwd, input: `${kept.updates.join('\n')}\n` }).exitCode !== 0) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }
    if (dryRun || pushSpecs.length === 0) return result;
    // one atomic push: every notes log, the display ref and every patchset ref move, or none does
    const pushing = gitAsync(['push', '--porcelain', '--atomic', '--no-verify', ...leases, remote, ...pushSpecs], {
      cwd,
      env: { GIT_TERMINAL_PROMPT: '0' },
    });
    opts.onPushing?.();
    const pushed = await pushing;
    if (pushed.exitCode === 0) return result;
    // 128 is git's "fatal" (no connection, no access); a refused ref exits 1 with --porcelain lines
    if (pushed.exitCode === 128) throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, true), 'push', firstComplaint(pushed.stderr));
    // the remote itself said no (a pre-receive hook, a protected ref, no permission): no retry will change that
    const declined = pushed.stdout.split('\n').find((l) => /\[remote rejected\]/.test(l) && !LOST_RACE.test(l));
    if (declined) {
      // porcelain: "!\t<src>:<dst>\t[remote rejected] (<reason>)"; the remote's own words are on stderr
      const [, spec = '', summary = ''] = declined.split('\t');
      const reason = /\((.*)\)\s*$/.exec(summary)?.[1] ?? summary.trim();
      throw new RemoteDeclinedError(remote, spec.slice(spec.lastIndexOf(':') + 1), reason, remoteSaid(pushed.stderr));
    }
    if (LOST_RACE.test(pushed.stdout + pushed.stderr)) {
      await sleep(20 + Math.random() * 150 * round);
      continue;
    }
    throw new Error(`git push ${remote} failed: ${(pushed.stderr || pushed.stdout).trim().split('\n')[0]}`);
  }
  throw new SyncRaceError(remote, MAX_ROUNDS);
}

/** What sync does about the kept ref: local ref updates (update-ref --stdin lines), and push leases and specs. */
interface KeptPlan {
  updates: string[];
  leases: string[];
  pushSpecs: string[];
}

/**
 * The kept ref's part of a sync round (see the call). The new local value keeps what both sides keep: ours when the
 * remote's is in its history, theirs when ours is in theirs, else a keeper joining both; then the per-patchset
 * refs an older omni-ship left (ours, and the remote's as fetched) are kept by one more keeper. `folded` in the
 * result counts those refs.
 */
function planKept(cwd: string, remote: string, refs: Map<string, RefTarget>, dryRun: boolean, result: SyncResult): KeptPlan {
  const plan: KeptPlan = { updates: [], leases: [], pushSpecs: [] };
  const track = remoteKeptRef(remote);
  const psTrack = remotePatchsetPrefix(remote);
  const legacyLocal: { ref: string; oid: string }[] = [];
  const legacyRemote: { ref: string; tracking: string; oid: string }[] = [];
  for (const [name, target] of refs) {
    const local = name.startsWith(PATCHSET_REF_PREFIX);
    if (!local && !name.startsWith(psTrack) && name !== KEPT_REF && name !== track) continue;
    const ref = name === track ? KEPT_REF : local || name === KEPT_REF ? name : `${PATCHSET_REF_PREFIX}${name.slice(psTrack.length)}`;
    if (target.type !== 'commit') {
      result.skipped.push({ ref, reason: `it points at a ${target.type} (${target.oid.slice(0, 12)})${local || name === KEPT_REF ? ' here' : ` on ${remote}`}, not a commit` });
      continue;
    }
    if (local) legacyLocal.push({ ref: name, oid: target.oid });
    else if (name.startsWith(psTrack)) legacyRemote.push({ ref, tracking: name, oid: target.oid });
  }
  // a kept ref that is not a commit (made by hand) is left alone: here, nothing is kept or folded; on the remote,
  // nothing is pushed over it (both in `skipped`)
  if (refs.has(KEPT_REF) && refs.get(KEPT_REF)!.type !== 'commit') return plan;
  const theirsUsable = !refs.has(track) || refs.get(track)!.type === 'commit';
  const commitAt = (name: string) => (refs.get(name)?.type === 'commit' ? refs.get(name)!.oid : null);
  const mineOid = commitAt(KEPT_REF);
  const theirsOid = commitAt(track);
  // the remote's old refs are folded only when the remote's kept ref can take them
  if (!theirsUsable) legacyRemote.length = 0;
  const legacy = [...legacyLocal.map((l) => l.oid), ...legacyRemote.map((l) => l.oid)];
  result.folded = legacyLocal.length + legacyRemote.length;
  if (mineOid === theirsOid && legacy.length === 0) return plan;
  if (dryRun) {
    // what would move, without writing a keeper
    if (theirsOid && mineOid !== theirsOid) result.updatedLocal.push(KEPT_REF);
    if (theirsUsable) result.pushed.push(KEPT_REF);
    return plan;
  }
  const read = readKeepers(cwd, [mineOid, theirsOid].filter((o): o is string => o !== null));
  const keeperAt = (oid: string | null) => (oid ? read.find((k) => k?.oid === oid) ?? null : null);
  const [mine, theirs] = [keeperAt(mineOid), keeperAt(theirsOid)];
  const union = buildKeepers(cwd, unionOf(cwd, mine, theirs), legacy);
  if (!union) return plan;
  if (union.oid !== mineOid) {
    plan.updates.push(`update ${KEPT_REF} ${union.oid} ${mineOid ?? ZERO}`);
    result.updatedLocal.push(KEPT_REF);
  }
  for (const l of legacyLocal) plan.updates.push(`delete ${l.ref} ${l.oid}`);
  for (const l of legacyRemote) plan.updates.push(`delete ${l.tracking} ${l.oid}`);
  if (theirsUsable && union.oid !== theirsOid) {
    plan.leases.push(`--force-with-lease=${KEPT_REF}:${theirsOid ?? ''}`);
    plan.pushSpecs.push(`${union.oid}:${KEPT_REF}`);
    result.pushed.push(KEPT_REF);
  }
  for (const l of legacyRemote) {
    plan.leases.push(`--force-with-lease=${l.ref}:${l.oid}`);
    plan.pushSpecs.push(`:${l.ref}`);
  }
  return plan;
}
