import { loadConfig, type Config } from '../config.js';
import type { LandConfig } from '../config/land.js';
import { ExitCode, UserError, badInput, type ExitCodeValue } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { shareCatFile } from '../git/batch.js';
import { gitAsync, gitRun } from '../git/exec.js';
import { discoverWorkRepo, requireRepo, stateDir as stateDirOf } from '../git/repo.js';
import { gitIdentityAsync, hostId } from '../identity.js';
import { parseTaskId } from '../ids.js';
import { unknownTask } from '../messages.js';
import { appendAttempt } from '../notes/attempts.js';
import { SCHEMA_VERSION, type LandEvent, type VerifyEvent } from '../notes/events.js';
import { DISPLAY_REF, NOTES_REFS, TMP_REF_PREFIX } from '../notes/refs.js';
import { readKnownNotes } from '../notes/known.js';
import { readSomeNotes } from '../notes/read.js';
import { appendEvents, commitNotesDirectMany, deleteStaleTmpRefs, discardStaged, plannedAppend, publishStaged, stageNotesCommits, type DirectWrite, type NoteAppend, type StagedCommit } from '../notes/write.js';
import type { LandedNoteInfo } from '../notes/display.js';
import { SNAPSHOT_PATTERNS, compareTaskIds, loadState, type TaskView } from '../state/tasks.js';
import { withResolved } from '../verify/prepare.js';
import { resolveSpec, type VerifySpec } from '../verify/spec.js';
import type { VerifyProgress } from '../verify/verify.js';
import { fetchBase, followLocal, isAncestor, moveBase, refValue, trackingRef, type BaseTarget, type KnownAncestry } from './base-ref.js';
import { deleteTaskBranches, type BranchOutcome } from './branches.js';
import { buildCandidate } from './candidate.js';
import { isRefusal, patchsetOf, pregate, refusal, type Eligible, type Gate, type Refusal } from './gates.js';
import { resolveBaseName, resolveLandSettings, type GateSource } from './settings.js';
import { verifyCandidate, type CandidateVerdict, type CandidateVerifyContext } from './verify-candidate.js';
import { uncommitted, worktreesOn } from './worktrees.js';

/** What `land` is asked to do. */
export interface LandRequest {
  cwd: string;
  tasks: string[];
  all: boolean;
  dryRun: boolean;
  /** false: --no-push (land into the local base only) */
  push: boolean;
  keepBranch: boolean;
  base?: string;
  /** --remote; undefined: the configured one */
  remote?: string;
  batchSize?: number;
  requireCached: boolean;
  /** show git's own transfer progress on stderr */
  gitProgress?: boolean;
  onProgress?: (p: LandProgress) => void;
}

/** A step as it starts: the CLI prints it on a TTY, the pipeline logs it. */
export interface LandProgress {
  task: string | null;
  phase: 'fetch' | 'gates' | 'candidate' | 'verify' | 'push' | 'record' | 'retry' | 'sync';
  message: string;
}

/** A verify answer as land reports it. */
export interface LandVerifyJson {
  result: string;
  spec: string;
  cached: boolean;
  step: string | null;
  summary: string;
  by: string | null;
  host: string | null;
  at: string | null;
  log: string | null;
}

/** What happened to one task. */
export interface TaskLandOutcome {
  task: string;
  /** landed now; already landed (the job was finished); would land (--dry-run); refused (see gate) */
  outcome: 'landed' | 'already-landed' | 'would-land' | 'refused';
  gate: Gate | null;
  reason: string | null;
  hint: string | null;
  exitCode: ExitCodeValue;
  /** the task commit */
  commit: string | null;
  patchset: number | null;
  /** the commit on the base that carries the task */
  landed: string | null;
  /** the candidate tree (the whole batch's top tree when landed in a batch) */
  tree: string | null;
  verify: LandVerifyJson | null;
  /** the answer under the task's own spec, when the task changes the spec */
  ownSpecVerify: LandVerifyJson | null;
  /** conflicting paths (gate conflict) */
  conflicts: string[];
  branches: BranchOutcome[];
  /** how many tasks the batch it landed in held (1: alone) */
  batchSize: number | null;
  /** tries it took (more than 1: another clone landed first) */
  attempts: number;
  /** the revert commit that undid the landing (land.postVerify failed), or null */
  reverted: string | null;
}

/** The JSON shape of `omni-ship land --json`. */
export interface LandResult {
  base: string;
  baseSource: GateSource;
  remote: string | null;
  pushed: boolean;
  dryRun: boolean;
  /** the base tip before and after (null when nothing moved) */
  oldTip: string | null;
  newTip: string | null;
  spec: string;
  land: LandConfig;
  landSource: GateSource;
  tasks: TaskLandOutcome[];
  /** notes pushed to the remote afterwards (null: no push was due) */
  notesSynced: boolean | null;
  warnings: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A task in a stack: the candidate commit built for it. */
export interface Stacked {
  item: Eligible;
  commit: string;
  tree: string;
}

/** Everything one land run shares. */
export interface Run {
  req: LandRequest;
  cwd: string;
  commonDir: string;
  stateDir: string;
  config: Config;
  target: BaseTarget;
  land: LandConfig;
  spec: VerifySpec;
  /** the hash of the spec committed on the base (the local config may override `spec`): a task's own spec differs from it when it changes the checks */
  committedHash: string;
  vctx: CandidateVerifyContext;
  by: string;
  host: string;
  /** the base tip to build on now */
  tip: string;
  firstTip: string;
  outcomes: Map<string, TaskLandOutcome>;
  warnings: string[];
  /** events were written (the notes sync pushes them) */
  wrote: boolean;
  /** whether one base commit is known to be in another's history (from the base commits loadState listed) */
  knownAncestor: KnownAncestry;
  /** landed tasks whose branches go once the notes push is under way (deleteLandedBranches) */
  branchesToDelete: { task: string; commits: string[] }[];
  /** this clone's base catching up after the last push, under way (settleFollow awaits it) */
  following: Promise<string | null> | null;
  progress: (task: string | null, phase: LandProgress['phase'], message: string) => void;
}

function blankOutcome(task: string): TaskLandOutcome {
  return { task, outcome: 'refused', gate: null, reason: null, hint: null, exitCode: ExitCode.ok, commit: null, patchset: null, landed: null, tree: null, verify: null, ownSpecVerify: null, conflicts: [], branches: [], batchSize: null, attempts: 0, reverted: null };
}

function verifyJson(v: CandidateVerdict | null): LandVerifyJson | null {
  if (!v) return null;
  if (v.kind === 'none') return { result: 'none', spec: v.spec.hash, cached: false, step: null, summary: v.untrusted ? `only another clone's answer (${v.untrusted.result} by ${v.untrusted.by} on ${v.untrusted.host})` : 'no answer yet', by: null, host: null, at: null, log: null };
  const o = v.outcome;
  return { result: o.result, spec: o.spec, cached: o.cached, step: o.step, summary: o.summary, by: o.event?.by ?? null, host: o.event?.host ?? null, at: o.event?.at ?? null, log: o.log };
}

/**
 * Lands tasks on the base branch, the merge-queue way (DESIGN.md section 4): for each batch, the candidate commits
 * are built without a working tree, the top tree is verified under the base's spec (and the tasks' own when they
 * change it), and only then does the base move, by compare-and-swap. A lost race rebuilds and retries; a failed
 * batch is bisected. Every task ends landed or refused with its reason. Throws a UserError only for what stops the
 * whole run (a bad id, no base branch, a dirty checked-out base, an unreachable remote).
 */
export async function landTasks(req: LandRequest): Promise<LandResult> {
  const cleanup: (() => void)[] = [];
  try {
    return await landTasksWith(req, cleanup);
  } finally {
    for (const c of cleanup) c();
  }
}

async function landTasksWith(req: LandRequest, cleanup: (() => void)[]): Promise<LandResult> {
  if (req.all && req.tasks.length) throw badInput('give task ids or --all, not both');
  if (!req.all && req.tasks.length === 0) throw badInput('name the task(s) to land, or --all', 'omni-ship status lists the verified tasks');
  // found on the file system when it can be (no process); anything unusual asks git
  const repo = discoverWorkRepo(req.cwd) ?? requireRepo(req.cwd);
  const cwd = repo.toplevel ?? repo.commonDir;
  const stateDir = stateDirOf(repo);
  const loaded = await loadConfig(req.cwd, repo.toplevel, { stateDir });
  // every id is checked before anything is read or written
  const named = [...new Set(req.tasks.map((t) => parseTaskId(t, loaded.config)))];
  let remote = loaded.config.remote;
  if (req.remote !== undefined) {
    if (gitRun(['remote', 'get-url', '--', req.remote], { cwd }).exitCode !== 0) throw badInput(`no remote named '${req.remote}' here`, 'git remote -v lists them');
    remote = req.remote;
  }
  const baseSel = await resolveBaseName(cwd, repo.commonDir, loaded, req.base);
  const warnings: string[] = [];
  if (baseSel.ignored) warnings.push(`the config in this work tree names ${baseSel.ignored} as the base branch; land ignores it (a work tree must not choose where tasks land) and uses ${baseSel.name}: pass --base ${baseSel.ignored} or set baseBranch in .git/omni-ship.yaml`);
  const target: BaseTarget = { cwd, commonDir: repo.commonDir, name: baseSel.name, remote, push: !!remote && req.push, progress: !!req.gitProgress };
  const progress = (task: string | null, phase: LandProgress['phase'], message: string) => req.onProgress?.({ task, phase, message });

  // while git fetches, Node compiles what a land that verifies, records and syncs runs next (the verify run's
  // modules, execa and lowdb among them, take tens of ms): the wait for the remote pays for them
  if (target.push && !req.dryRun) preloadLandModules();
  // the config, notes and commits land reads between its steps: one cat-file process for them all
  if (!req.dryRun) cleanup.push(shareCatFile(cwd).close);
  // who lands: asked meanwhile too
  const identity = gitIdentityAsync(cwd);
  identity.catch(() => {});
  let tip = await checkedTip(target, req.dryRun, true, progress);
  // the fetch brought the other clones' notes too: merged into this clone's (a review, an attempt made elsewhere
  // counts here) while the settings are read
  const merging = remote && !req.dryRun ? mergeNotes(cwd, remote) : Promise.resolve({ ahead: undefined, warning: null, snapshot: undefined });
  let settings = await resolveLandSettings(cwd, repo.commonDir, tip, target.name);
  if (settings.committedBase && settings.committedBase !== target.name && baseSel.source === 'default') {
    // the team's committed config (on the default branch) names another base: land there, reading its own config
    target.name = settings.committedBase;
    tip = await checkedTip(target, req.dryRun, false, progress);
    settings = await resolveLandSettings(cwd, repo.commonDir, tip, target.name);
  }
  if (req.dryRun && remote) {
    // a dry run fetches nothing: say when the remote moved since the last fetch (ls-remote writes nothing)
    const said = gitRun(['ls-remote', remote, `refs/heads/${target.name}`], { cwd, env: { GIT_TERMINAL_PROMPT: '0' } });
    const there = said.exitCode === 0 ? said.stdout.split('\t')[0]?.trim() : null;
    if (there && there !== refValue(cwd, trackingRef(target))) warnings.push(`${remote}/${target.name} moved since the last fetch (now ${there.slice(0, 12)}); this dry run judges the base as last fetched: git fetch ${remote}, then run it again`);
  }
  const config = withResolved(loaded.config, { remote, baseBranch: target.name });
  const spec = await resolveSpec({ cwd, commonDir: repo.commonDir, stateDir, baseTip: tip, baseConfig: settings.committed, runCacheKey: !req.dryRun, baseName: target.name });
  if (spec.verify.steps.length === 0) {
    throw new UserError(
      `no verify steps configured on ${target.name}: nothing checks a candidate, so nothing lands`,
      ExitCode.usage,
      "add verify.steps to the committed config on the base branch (omni-ship init shows an example), or to this clone's local config .git/omni-ship.yaml",
    );
  }
  const committedHash = spec.source.kind === 'base' ? spec.hash : (await resolveSpec({ cwd, commonDir: repo.commonDir, stateDir, baseTip: tip, fromCommit: tip, runCacheKey: !req.dryRun, baseName: target.name })).hash;
  const host = hostId(repo.commonDir);
  const by = await identity;
  const run: Run = {
    req,
    cwd,
    commonDir: repo.commonDir,
    stateDir,
    config,
    target,
    land: settings.land,
    spec,
    committedHash,
    vctx: {
      cwd,
      commonDir: repo.commonDir,
      stateDir,
      config,
      host,
      identity: by,
      trustRemote: settings.land.trustRemoteResults,
      requireCached: req.requireCached,
      dryRun: req.dryRun,
      onProgress: (p: VerifyProgress) => progress(null, 'verify', verifyProgressText(p)),
    },
    by,
    host,
    tip,
    firstTip: tip,
    outcomes: new Map(),
    warnings,
    wrote: false,
    following: null,
    knownAncestor: () => false,
    branchesToDelete: [],
    progress,
  };

  progress(null, 'gates', 'reading the tasks');
  const merged = await merging;
  if (merged.warning) warnings.push(merged.warning);
  // a dry run leaves the machine-local caches alone too
  // a view of the tasks named, or, for --all, of those not landed yet: not one of every task ever landed
  const state = await loadState(cwd, config, req.dryRun ? null : stateDir, merged.snapshot, { spec: spec.hash, running: [] }, req.all ? { inFlight: true } : { only: new Set(named) });
  run.knownAncestor = (a, b) => {
    // down the first parents of the base commits listed, a few steps: the local base one land behind the remote's
    let at: string | undefined = b;
    for (let steps = 0; at !== undefined && steps < 64; steps++) {
      if (at === a) return true;
      at = state.baseParents.get(at);
    }
    return false;
  };
  const ids = req.all
    ? [...state.tasks.values()].filter((t) => t.state === 'verified' || t.state === 'approved').map((t) => t.id).sort(compareTaskIds)
    : named;
  const eligible: Eligible[] = [];
  for (const id of ids) {
    const view = state.tasks.get(id);
    const out = blankOutcome(id);
    run.outcomes.set(id, out);
    if (!view) {
      const e = unknownTask(id);
      refuse(out, refusal('unknown-task', e.message, e.hint ?? null, ExitCode.usage));
      continue;
    }
    out.commit = view.head;
    out.patchset = view.head ? patchsetOf(view, view.head) : null;
    if (view.state === 'landed') {
      await finishLanded(run, view, out);
      continue;
    }
    const gated = pregate(cwd, config, run.land, view, { tip: run.tip, name: target.name, commonDir: repo.commonDir });
    if (isRefusal(gated)) refuse(out, gated);
    else eligible.push(gated);
  }

  // --require-cached lands each task alone: a batch's top tree is new, so it can never be cached
  const size = req.requireCached ? 1 : req.batchSize ?? run.land.batchSize;
  for (let i = 0; i < eligible.length; i += size) await landBatch(run, eligible.slice(i, i + size));

  let notesSynced: boolean | null = null;
  // verify answers recorded here travel too: another clone trusting them (land.trustRemoteResults) need not run again
  const verified = [...run.outcomes.values()].some((o) => o.verify && !o.verify.cached && o.verify.result !== 'none');
  if (target.push && !req.dryRun && (run.wrote || verified)) {
    progress(null, 'sync', `pushing omni-ship's notes to ${remote}`);
    // while the local base catches up (a checked-out base's files take a while): they touch different refs
    const deleting: (Error | null)[] = [];
    const synced = (async () => {
      const { syncNotes } = await import('../notes/sync.js');
      // the first fetch brought the notes: push first, fetch only if someone pushed notes since
      // the branches go while the notes are pushed
      await syncNotes(cwd, remote!, false, { fetched: !req.dryRun, ahead: merged.ahead, onPushing: () => deleting.push(deleteLandedBranchesSafely(run)) });
    })();
    synced.catch(() => {});
    await settleFollow(run);
    try {
      await synced;
      notesSynced = true;
    } catch (e) {
      notesSynced = false;
      warnings.push(`the notes were not pushed (${(e as Error).message.split('\n')[0]}); the land itself is done: run omni-ship sync`);
    }
    const failed = deleting.find((e) => e !== null);
    if (failed) throw failed;
  }
  deleteLandedBranches(run);
  await settleFollow(run);
  const moved = run.tip !== run.firstTip;
  return {
    base: target.name,
    baseSource: baseSel.source,
    remote,
    pushed: target.push,
    dryRun: req.dryRun,
    oldTip: moved ? run.firstTip : null,
    newTip: moved ? run.tip : null,
    spec: spec.hash,
    land: run.land,
    landSource: settings.landSource,
    tasks: ids.map((id) => run.outcomes.get(id)!),
    notesSynced,
    warnings,
  };
}

/**
 * The refusal of a base branch checked out in a worktree with uncommitted changes (null: none). Asked while the
 * base is fetched, and thrown before anything else happens.
 */
async function dirtyBase(target: BaseTarget): Promise<UserError | null> {
  for (const wt of worktreesOn(target.cwd, target.name, target.commonDir)) {
    const dirty = await uncommitted(wt.path);
    if (dirty.length === 0) continue;
    const shown = dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? `, and ${dirty.length - 5} more` : '');
    return new UserError(
      `${target.name} is checked out in ${wt.path} with uncommitted changes (${shown}); landing would move it under them, so nothing was changed`,
      ExitCode.usage,
      `commit or stash them there (git -C ${wt.path} stash), or switch that worktree to another branch, then land again`,
    );
  }
  return null;
}

/**
 * mergeFetchedNotes, or why it could not (the land goes on with this clone's notes as they are). One for-each-ref
 * serves the merge and, when the merge changed nothing, loadState too (its ref snapshot).
 */
async function mergeNotes(cwd: string, remote: string): Promise<{ ahead: Map<string, string | null> | undefined; warning: string | null; snapshot: string | undefined }> {
  try {
    const { mergeFetchedNotes, mergeRefPatterns, parseRefMap } = await import('../notes/sync.js');
    const merging = mergeRefPatterns(remote);
    const listed = await gitAsync(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...new Set([...SNAPSHOT_PATTERNS, ...merging, TMP_REF_PREFIX])], { cwd });
    if (listed.exitCode !== 0) throw new Error(`git for-each-ref failed: ${listed.stderr.trim().split('\n')[0]}`);
    const lines = listed.stdout.split('\n').filter(Boolean);
    // private refs of notes writes killed half way (a land killed between staging its notes and publishing them)
    const tmp = lines.filter((l) => l.startsWith(TMP_REF_PREFIX)).map((l) => l.slice(0, l.indexOf('\0')));
    // (and the lock files of such writes killed while git held them: no ref to list, checked on the file system)
    deleteStaleTmpRefs(cwd, tmp);
    const under = (patterns: readonly string[]) => lines.filter((l) => patterns.some((p) => l.startsWith(p.endsWith('/') ? p : `${p}/`) || l.startsWith(`${p}\0`)));
    const merged = await mergeFetchedNotes(cwd, remote, parseRefMap(under(merging).join('\n')));
    const snapshot = merged.changed ? undefined : `${under(SNAPSHOT_PATTERNS).join('\n')}\n`;
    return { ahead: merged.ahead, warning: null, snapshot };
  } catch (e) {
    return { ahead: undefined, warning: `the notes fetched from ${remote} were not merged into this clone's (${(e as Error).message.split('\n')[0]}); the gates read this clone's notes as they were: run omni-ship sync`, snapshot: undefined };
  }
}

/** Starts loading the modules a land that runs verify and pushes needs later; failures show up where they are used. */
function preloadLandModules(): void {
  const loads = [
    import('../verify/pool.js'),
    import('../verify/registry.js'),
    import('../verify/steps.js'),
    import('../verify/load-execa.js').then((m) => m.loadExeca()),
    import('../notes/display.js'),
    import('../notes/sync.js'),
  ];
  for (const l of loads) (l as Promise<unknown>).catch(() => {});
}

/** currentTip, with the check for a dirty checked-out base (dirtyBase) run meanwhile: its refusal comes first. */
async function checkedTip(target: BaseTarget, dryRun: boolean, allBranches: boolean, progress: (t: string | null, p: LandProgress['phase'], m: string) => void): Promise<string> {
  const dirty = dirtyBase(target);
  const tip = currentTip(target, dryRun, allBranches, progress);
  tip.catch(() => {});
  const refusal = await dirty;
  if (refusal) {
    await tip.catch(() => {}); // the fetch's own processes end before the refusal is reported
    throw refusal;
  }
  return tip;
}

/**
 * The base tip to build on. With a remote: fetched (the remote's tip), except that --no-push builds on the local
 * branch when it holds the remote's tip plus only commits omni-ship landed there. Without one: the local branch.
 * --dry-run fetches nothing: it reads the remote-tracking ref as the last fetch left it.
 */
async function currentTip(target: BaseTarget, dryRun: boolean, allBranches: boolean, progress: (t: string | null, p: LandProgress['phase'], m: string) => void): Promise<string> {
  const localRef = `refs/heads/${target.name}`;
  if (!target.remote) {
    const tip = refValue(target.cwd, localRef);
    if (!tip) throw new UserError(`the base branch ${target.name} does not exist here`, ExitCode.usage, `create it (git branch ${target.name}), or name another with --base`);
    return tip;
  }
  let remoteTip: string | null;
  if (dryRun) {
    remoteTip = refValue(target.cwd, trackingRef(target));
    if (!remoteTip) throw new UserError(`the base branch ${target.name} is not known from ${target.remote} here (a dry run fetches nothing)`, ExitCode.usage, `git fetch ${target.remote} ${target.name}, or name another with --base`);
  } else {
    progress(null, 'fetch', `fetching ${target.remote}/${target.name}`);
    remoteTip = await fetchBase(target, allBranches);
  }
  if (target.push) return remoteTip;
  const local = refValue(target.cwd, localRef);
  if (!local || isAncestor(target.cwd, local, remoteTip)) return remoteTip;
  if (isAncestor(target.cwd, remoteTip, local)) {
    const own = gitRun(['log', '--format=%h %s', `${remoteTip}..${local}`, '--'], { cwd: target.cwd }).stdout.trim().split('\n');
    const landedHere = await landedCommits(target.cwd, remoteTip, local);
    if (landedHere) return local;
    throw new UserError(
      `your local ${target.name} has commits ${target.remote} lacks: ${own.slice(0, 5).join('; ')}${own.length > 5 ? ` (and ${own.length - 5} more)` : ''}; --no-push lands only onto what ${target.remote} has`,
      ExitCode.usage,
      `push them (git push ${target.remote} ${target.name}), or move them to a task branch, then land again`,
    );
  }
  throw new UserError(`your local ${target.name} and ${target.remote}/${target.name} have diverged; --no-push lands only onto a local branch that ${target.remote}'s contains`, ExitCode.usage, `bring ${target.name} up to date (git pull --rebase), then land again`);
}

/** Whether every commit in from..to carries a land event (commits an earlier `land --no-push` put there). */
async function landedCommits(cwd: string, from: string, to: string): Promise<boolean> {
  const commits = gitRun(['rev-list', `${from}..${to}`, '--'], { cwd }).stdout.split('\n').filter(Boolean);
  if (commits.length === 0) return true;
  // the lands notes of those commits only: the cost follows them, not the log's age
  const known = await readSomeNotes(cwd, NOTES_REFS.lands, commits);
  return commits.every((c) => known.has(c));
}

/** Marks a task refused by a gate. */
export function refuse(out: TaskLandOutcome, r: Refusal): void {
  out.outcome = 'refused';
  out.gate = r.gate;
  out.reason = r.reason;
  out.hint = r.hint;
  out.exitCode = r.exitCode;
}

/** The one line a verify progress event reads as. */
function verifyProgressText(p: VerifyProgress): string {
  if (p.kind === 'waiting') return p.why;
  if (p.kind === 'step-start') return `verify step ${p.index + 1}/${p.total}: ${p.name}`;
  return `verify step ${p.index + 1}/${p.total}: ${p.name}: ${p.outcome.timedOut ? 'timed out' : `exit ${p.outcome.exitCode ?? p.outcome.signal}`}`;
}

/**
 * A task whose trailer is on the base already (landed, maybe by a land that was killed before it finished): record
 * the land event if it is missing, bring the local base along, and delete the branch, as the land would have.
 */
async function finishLanded(run: Run, view: TaskView, out: TaskLandOutcome): Promise<void> {
  const landed = view.landing?.landed ?? view.landedCommit!;
  out.outcome = 'already-landed';
  out.landed = landed;
  out.commit = view.landing?.commit ?? view.head;
  out.exitCode = ExitCode.ok;
  if (run.req.dryRun) return;
  const { finishRevert, revertOnBase } = await import('./post-verify.js');
  // a land killed after it pushed a revert of this landing (land.postVerify failed), before it recorded it
  const reverted = revertOnBase(run, landed);
  if (reverted) {
    await finishRevert(run, view.id, out.commit ?? landed, landed, reverted);
    return;
  }
  const parent = gitRun(['rev-parse', '--verify', '--quiet', `${landed}^1`], { cwd: run.cwd }).stdout.trim() || null;
  const commit = out.commit ?? landed;
  if (!view.landing && view.landedCommit) {
    await recordLand(run, { task: view.id, commit, patchset: patchsetOf(view, commit), landed, oldTip: parent, newTip: null, verify: null, approvedBy: approverOf(view) });
    out.reason = 'recorded';
  } else if (view.landing && gitRun(['notes', '--ref', DISPLAY_REF, 'list', landed], { cwd: run.cwd }).exitCode !== 0) {
    // the land died between its event and its note: the note, from the event
    const l = view.landing;
    await writeLandedNote(run, { task: view.id, commit: l.commit, patchset: l.patchset ?? null, landed, oldTip: l.oldTip ?? parent, newTip: l.newTip ?? null, verify: null, approvedBy: approverOf(view) }, l);
    run.wrote = true;
  }
  if (run.target.push) {
    await settleFollow(run);
    const note = await followLocal(run.target, run.tip);
    if (note) run.warnings.push(note);
  }
  if (run.land.postVerify) {
    // a land killed after the base moved, before its post-land suite answered: run the suite now
    const { postVerifyPending, runPostVerify } = await import('./post-verify.js');
    const newTip = view.landing?.newTip ?? landed;
    if (await postVerifyPending(run, newTip)) {
      const commit = out.commit ?? landed;
      const item: Eligible = { task: view.id, view, head: commit, patchset: patchsetOf(view, commit), addTrailer: false, parentInHistoryOf: null };
      await runPostVerify(run, [{ item, commit: landed, tree: '' }], newTip);
      if (run.outcomes.get(view.id)!.outcome === 'refused') return;
    }
  }
  if (!run.req.keepBranch) out.branches = deleteTaskBranches(run.cwd, run.commonDir, run.config, view.id, new Set([landed, ...(out.commit ? [out.commit] : [])]), run.target.remote, run.target.push);
}

/** What one land event says, before it is written. */
interface LandRecord {
  task: string;
  commit: string;
  patchset: number | null;
  landed: string;
  oldTip: string | null;
  newTip: string | null;
  verify: VerifyEvent | null;
  /** who approved the patchset that landed, or null */
  approvedBy: string | null;
}

/** The land event a record says. */
function landEvent(run: Run, r: LandRecord): LandEvent {
  return {
    v: SCHEMA_VERSION,
    type: 'land',
    at: new Date().toISOString(),
    by: run.by,
    host: run.host,
    task: r.task,
    commit: r.commit,
    landed: r.landed,
    base: run.target.name,
    patchset: r.patchset,
    oldTip: r.oldTip,
    newTip: r.newTip,
  };
}

/** Appends the land event to the landed commit's note (the lands log), and writes its display note. */
async function recordLand(run: Run, r: LandRecord): Promise<void> {
  await recordLands(run, await landNotes(run, [r]));
}

/** What recording landings writes: each one's land event (its time is the landing's) and display note text. */
interface LandNotes {
  records: readonly LandRecord[];
  appends: NoteAppend[];
  texts: string[];
}

async function landNotes(run: Run, records: readonly LandRecord[]): Promise<LandNotes> {
  const { landedNoteText } = await import('../notes/display.js');
  const events = records.map((r) => landEvent(run, r));
  return {
    records,
    appends: records.map((r, i) => ({ object: r.landed, events: [events[i]!] })),
    texts: records.map((r, i) => landedNoteText(landedNoteInfo(run, r, events[i]!), run.config.trailerKey)),
  };
}

/**
 * The first try of recording landings: both refs' tips and the notes on every landed commit read in one cat-file,
 * and the commits that add the events and display notes (none when all are there). Null when a ref needs the
 * usual loop (it is not a commit, say).
 */
async function plannedLandWrites(run: Run, notes: LandNotes): Promise<DirectWrite[] | null> {
  const { plannedDisplayNote, displayMessage } = await import('../notes/display.js');
  const { records } = notes;
  const known = await readKnownNotes(run.cwd, [NOTES_REFS.lands, DISPLAY_REF], records.map((r) => r.landed));
  const lands = known.get(NOTES_REFS.lands);
  const display = known.get(DISPLAY_REF);
  const planned = lands ? plannedAppend(notes.appends, lands) : null;
  if (!planned || !display) return null;
  const texts = new Map<string, string>();
  for (let i = 0; i < records.length; i++) {
    const note = plannedDisplayNote(records[i]!.landed, notes.texts[i]!, display);
    if (note === undefined) return null;
    if (note) for (const [path, text] of note) texts.set(path, text);
  }
  const writes: DirectWrite[] = [];
  if (planned.count) writes.push({ ref: NOTES_REFS.lands, tip: lands!.tip, notes: planned.updated, message: `omni-ship: ${planned.count} event(s)\n` });
  if (texts.size) writes.push({ ref: DISPLAY_REF, tip: display.tip, notes: texts, message: records.length === 1 ? displayMessage(records[0]!.landed) : `omni-ship: display notes on ${records.length} commits\n` });
  return writes;
}

/** The commits recording landings, written ahead under private refs (while the base is pushed); null: not staged. */
async function stageLandNotes(run: Run, notes: LandNotes): Promise<StagedCommit[] | null> {
  const writes = await plannedLandWrites(run, notes);
  return writes ? stageNotesCommits(run.cwd, writes) : null;
}

/**
 * Records landings: each one's land event (the lands log) and display note, both refs in one step: the commits
 * staged while the base was pushed move in with one update-ref transaction, or else are written with one
 * fast-import; each ref moves only if it is still where it was read. A race, or a ref in a state that needs a look,
 * goes through each ref's usual loop, which writes only what is still missing. A kill before the refs move leaves a
 * landing the next land records (finishLanded), and private refs the next land removes (mergeNotes).
 */
async function recordLands(run: Run, notes: LandNotes, staged?: Promise<StagedCommit[] | null>): Promise<void> {
  if (notes.records.length === 0) return;
  if (staged) {
    const commits = await staged;
    failpoint('land:notes-staged');
    if (commits && publishStaged(run.cwd, commits)) {
      run.wrote = true;
      return;
    }
  } else {
    const writes = await plannedLandWrites(run, notes);
    if (writes && commitNotesDirectMany(run.cwd, writes)) {
      run.wrote = true;
      return;
    }
  }
  const { writeDisplayNote } = await import('../notes/display.js');
  await appendEvents(run.cwd, NOTES_REFS.lands, notes.appends);
  run.wrote = true;
  for (let i = 0; i < notes.records.length; i++) await writeDisplayNote(run.cwd, notes.records[i]!.landed, notes.texts[i]!);
}

/** What the display note of a record says, from its land event (so writing it again after a kill gives the same text). */
function landedNoteInfo(run: Run, r: LandRecord, event: Pick<LandEvent, 'by' | 'host' | 'at'>): LandedNoteInfo {
  const verified = r.verify ? { spec: r.verify.spec, by: r.verify.by, host: r.verify.host, at: r.verify.at } : null;
  return { task: r.task, patchset: r.patchset, commit: r.commit, landed: r.landed, base: run.target.name, baseWas: r.oldTip, verified, approvedBy: r.approvedBy, landedBy: event.by, landedAt: event.at, host: event.host };
}

/**
 * The few lines `git log` shows for a landing (notes.displayRef), as Gerrit's review notes: the JSON log stays one
 * --notes= away. Built from the land event alone, so writing it again after a kill gives the same text (a no-op).
 */
async function writeLandedNote(run: Run, r: LandRecord, event: Pick<LandEvent, 'by' | 'host' | 'at'>): Promise<void> {
  const { landedNoteText, writeDisplayNote } = await import('../notes/display.js');
  await writeDisplayNote(run.cwd, r.landed, landedNoteText(landedNoteInfo(run, r, event), run.config.trailerKey));
}

/** Who approved the task's current patchset, when its latest review approves it. */
function approverOf(view: TaskView): string | null {
  return view.review?.verdict === 'approve' ? view.review.by : null;
}

/** A failed land attempt on the task's commit (its retry circuit counts them). */
async function recordAttempt(run: Run, item: Eligible, error: string): Promise<void> {
  if (run.req.dryRun) return;
  await appendAttempt(run.cwd, run, { task: item.task, commit: item.head, role: 'land', outcome: 'fail', error });
  run.wrote = true;
}

/** Builds the stack of candidates on `tip`; the first task that conflicts or adds nothing is returned instead. */
function buildStack(run: Run, items: readonly Eligible[], tip: string): { stack: Stacked[] } | { failed: Eligible; refusal: Refusal; conflicts: string[] } {
  const stack: Stacked[] = [];
  let parent = tip;
  for (const item of items) {
    // every candidate of the stack descends from `tip`: a parent in its history is in theirs
    const c = buildCandidate({ cwd: run.cwd, base: parent, commit: item.head, task: item.task, trailerKey: run.config.trailerKey, addTrailer: item.addTrailer, recordOrigin: run.land.recordOrigin, parentInBase: item.parentInHistoryOf === tip });
    if (c.kind === 'conflict') {
      const onto = parent === tip ? `${run.target.name} (${tip.slice(0, 12)})` : `${run.target.name} plus ${stack.map((s) => s.item.task).join(', ')}`;
      return { failed: item, conflicts: c.paths, refusal: refusal('conflict', `${item.task} conflicts with ${onto} in ${c.paths.join(', ')}`, `rebase ${item.task} onto ${run.target.name} (git rebase ${run.target.remote ? `${run.target.remote}/` : ''}${run.target.name}), resolve, amend, and land again`, ExitCode.conflict) };
    }
    if (c.kind === 'empty') return { failed: item, conflicts: [], refusal: refusal('empty', `${item.task}: its change is already in ${run.target.name}; landing it would add an empty commit`, `look at git log ${run.target.name}; if the work is there, delete the branch`) };
    stack.push({ item, commit: c.commit, tree: c.tree });
    parent = c.commit;
  }
  return { stack };
}

/** Whether a verdict lets the candidate land. */
function passes(run: Run, v: CandidateVerdict): boolean {
  return v.kind === 'answer' && (v.outcome.result === 'pass' || (v.outcome.result === 'skip' && run.land.allowSkip));
}

/** The refusal a verdict that does not pass gives a single task. */
function verdictRefusal(run: Run, task: string, v: CandidateVerdict, own: boolean): Refusal {
  const gate: Gate = own ? 'verify-own-spec' : 'verify';
  const which = own ? "under the task's own spec (it changes the checks, and must pass them before the base runs them)" : `under ${run.target.name}'s spec`;
  if (v.kind === 'none') {
    const other = v.untrusted ? `; ${v.untrusted.by} on ${v.untrusted.host} recorded ${v.untrusted.result}, but land.trustRemoteResults is false` : '';
    return refusal('not-cached', `${task}: the candidate tree has no answer from this clone ${which}${other}, and --require-cached runs nothing`, `run omni-ship verify ${task} (or land without --require-cached)`);
  }
  const o = v.outcome;
  if (o.result === 'skip') return refusal('skip', `${task}: verify skipped ${which} (${o.summary}); land.allowSkip is false, so an untested tree does not land`, 'make the step run, or set land.allowSkip: true in the committed config', ExitCode.refused);
  if (o.result === 'indeterminate') return refusal(gate, `${task}: verify gave no answer ${which}: ${o.summary}`, `land again to retry${o.log ? `; log: ${o.log}` : ''}`, ExitCode.indeterminate);
  return refusal(gate, `${task}: verify failed ${which}${o.step ? ` in step ${o.step}` : ''}: ${o.summary}`, `${o.log ? `log: ${o.log}; ` : ''}fix and amend, then land again`, ExitCode.refused);
}

/** Verifies a stack's top: under the base's spec, and under the top's own spec when it differs from the committed one. */
async function verifyStack(run: Run, stack: Stacked[]): Promise<{ base: CandidateVerdict; own: CandidateVerdict | null }> {
  const top = stack[stack.length - 1]!;
  const task = stack.length === 1 ? top.item.task : null;
  run.progress(task, 'verify', `verifying ${stack.length === 1 ? top.item.task : `${stack.length} tasks (${stack.map((s) => s.item.task).join(', ')})`} as tree ${top.tree.slice(0, 12)}`);
  // the candidate's own spec is read while the base's verifies: it is needed only when that passes
  const ownSpecRead = resolveSpec({ cwd: run.cwd, commonDir: run.commonDir, stateDir: run.stateDir, baseTip: top.commit, fromCommit: top.commit, runCacheKey: !run.req.dryRun, baseName: run.target.name });
  ownSpecRead.catch(() => {});
  const base = await verifyCandidate(run.vctx, { commit: top.commit, tree: top.tree, task }, run.spec);
  if (!passes(run, base)) return { base, own: null };
  const ownSpec = await ownSpecRead;
  if (ownSpec.hash === run.committedHash || ownSpec.verify.steps.length === 0) return { base, own: null };
  run.progress(task, 'verify', `the candidate changes the verify spec: verifying it under its own spec ${ownSpec.hash.slice(0, 12)} too`);
  return { base, own: await verifyCandidate(run.vctx, { commit: top.commit, tree: top.tree, task }, ownSpec) };
}

/**
 * Lands one batch: one stack of candidates on the base tip, verified once at its top; the base moves once. A task
 * that conflicts (or adds nothing) is refused and the rest go on; a failing batch is bisected (singles when small,
 * else halves, the second half's candidate verified alongside the first when verify.concurrency allows). A lost
 * race fetches, rebuilds and tries again with jitter, up to land.maxAttempts.
 */
async function landBatch(run: Run, batch: Eligible[]): Promise<void> {
  let items = [...batch];
  for (let attempt = 1; items.length > 0; attempt++) {
    const label = items.length === 1 ? items[0]!.task : null;
    run.progress(label, 'candidate', `building ${items.length === 1 ? 'the candidate' : `a stack of ${items.length}`} on ${run.target.name} ${run.tip.slice(0, 12)}`);
    const built = buildStack(run, items, run.tip);
    if ('failed' in built) {
      const out = run.outcomes.get(built.failed.task)!;
      refuse(out, built.refusal);
      out.conflicts = built.conflicts;
      out.attempts = attempt;
      if (built.refusal.gate === 'conflict') await recordAttempt(run, built.failed, `conflict in ${built.conflicts.join(', ')}`);
      items = items.filter((i) => i !== built.failed);
      attempt--;
      continue;
    }
    const stack = built.stack;
    const top = stack[stack.length - 1]!;
    const { base, own } = await verifyStack(run, stack);
    const ok = passes(run, base) && (own === null || passes(run, own));
    for (const s of stack) {
      const out = run.outcomes.get(s.item.task)!;
      out.tree = top.tree;
      out.verify = verifyJson(base);
      out.ownSpecVerify = verifyJson(own);
      out.attempts = attempt;
      out.batchSize = stack.length;
    }
    if (!ok && run.req.dryRun && (base.kind === 'none' || own?.kind === 'none') && (base.kind === 'none' || passes(run, base))) {
      // a dry run runs no verify: the tasks would land if the run they need passes
      if (items.length > 1) {
        for (const item of items) await landBatch(run, [item]);
        return;
      }
      wouldLand(run, stack, top, 'if verify passes (a dry run runs nothing)');
      return;
    }
    if (!ok) {
      if (items.length === 1) {
        const item = items[0]!;
        const failed = own && !passes(run, own) && passes(run, base) ? own : base;
        const r = verdictRefusal(run, item.task, failed, failed === own);
        refuse(run.outcomes.get(item.task)!, r);
        if (failed.kind === 'answer' && failed.outcome.result === 'fail') await recordAttempt(run, item, r.reason);
        return;
      }
      await bisect(run, items);
      return;
    }
    if (run.req.dryRun) {
      wouldLand(run, stack, top, null);
      return;
    }
    run.progress(label, 'push', run.target.push ? `pushing ${run.target.name} to ${run.target.remote} (${run.tip.slice(0, 12)} -> ${top.commit.slice(0, 12)})` : `moving ${run.target.name} (${run.tip.slice(0, 12)} -> ${top.commit.slice(0, 12)})`);
    await settleFollow(run);
    const oldTip = run.tip;
    const notes = await landNotes(run, stack.map((s) => landRecord(s, oldTip, top.commit, base)));
    // with a remote, the notes that record the landing are written (not yet published) while the push goes
    const staged = run.target.push ? stageLandNotes(run, notes) : undefined;
    staged?.catch(() => {});
    const moved = await moveBase(run.target, run.tip, top.commit, run.knownAncestor);
    if (moved.kind !== 'moved' && staged) {
      const commits = await staged.catch(() => null);
      if (commits) discardStaged(run.cwd, commits);
    }
    if (moved.kind === 'moved') {
      failpoint('land:pushed');
      run.tip = top.commit;
      recordLanded(run, stack);
      // the local base catches up while the events are written, the branches deleted and the notes pushed; it is
      // awaited before anything may move the base again (settleFollow)
      run.following = moved.follow ?? null;
      await recordLands(run, notes, staged);
      if (run.land.postVerify) {
        await settleFollow(run);
        await (await import('./post-verify.js')).runPostVerify(run, stack, top.commit);
      }
      // after the post-land suite (a reverted task keeps its branch, to be fixed and amended), and after the notes
      // push has started (deleteLandedBranches)
      for (const s of stack) run.branchesToDelete.push({ task: s.item.task, commits: [s.item.head, s.commit] });
      return;
    }
    if (moved.kind === 'refused') {
      for (const item of items) refuse(run.outcomes.get(item.task)!, refusal('push-refused', moved.reason, `the remote decides who may move ${run.target.name}: ask its admin, or land through the way it allows`));
      return;
    }
    if (attempt >= run.land.maxAttempts) {
      for (const item of items) {
        refuse(
          run.outcomes.get(item.task)!,
          refusal('lost-race', `${item.task}: another clone moved ${run.target.name} first, ${attempt} time(s) in a row`, `land again; with checks that take minutes, a lander that keeps losing can starve (raise land.maxAttempts)`, ExitCode.conflict),
        );
      }
      return;
    }
    run.progress(label, 'retry', `${run.target.name} moved (now ${moved.actual?.slice(0, 12) ?? 'unknown'}): fetching and building again (attempt ${attempt + 1} of ${run.land.maxAttempts})`);
    await sleep(50 + Math.random() * 250 * attempt);
    run.tip = await currentBuildTip(run);
    // the pre-gates judged the old tip: a task that landed meanwhile (by another clone) is done, not landed twice
    items = await dropLandedElsewhere(run, items);
  }
}

/** Deletes the branches of the tasks landed (and still landed: not reverted), unless --keep-branch. */
function deleteLandedBranches(run: Run): void {
  const due = run.branchesToDelete.splice(0);
  if (run.req.keepBranch) return;
  for (const { task, commits } of due) {
    const out = run.outcomes.get(task)!;
    if (out.outcome === 'landed') out.branches = deleteTaskBranches(run.cwd, run.commonDir, run.config, task, new Set(commits), run.target.remote, run.target.push);
  }
}

/** deleteLandedBranches from a callback whose caller must not see its error: the error is returned instead. */
function deleteLandedBranchesSafely(run: Run): Error | null {
  try {
    deleteLandedBranches(run);
    return null;
  } catch (e) {
    return e as Error;
  }
}

/** Waits for this clone's base to finish catching up after the last push; what it says (it could not) is a warning. */
async function settleFollow(run: Run): Promise<void> {
  const following = run.following;
  if (!following) return;
  run.following = null;
  const note = await following;
  if (note) run.warnings.push(note);
}

/** Marks a stack's tasks as what a dry run would land. */
function wouldLand(run: Run, stack: readonly Stacked[], top: Stacked, condition: string | null): void {
  for (const s of stack) {
    const out = run.outcomes.get(s.item.task)!;
    out.outcome = 'would-land';
    out.exitCode = ExitCode.ok;
    out.landed = s.commit;
    out.reason = `would move ${run.target.name} from ${run.tip.slice(0, 12)} to ${top.commit.slice(0, 12)}${run.target.push ? ` on ${run.target.remote}` : ''}${condition ? `, ${condition}` : ''}`;
  }
}

/** The base tip to build on now (fetched again with a remote): after a lost race. */
export function currentBuildTip(run: Run): Promise<string> {
  return currentTip(run.target, false, false, run.progress);
}

/** Tasks of `items` whose trailer reached the base meanwhile (another clone landed them) are reported as landed. */
async function dropLandedElsewhere(run: Run, items: Eligible[]): Promise<Eligible[]> {
  const log = gitRun(['log', `--format=%H%x1f%(trailers:key=${run.config.trailerKey},valueonly,separator=%x1d)`, `${run.firstTip}..${run.tip}`, '--'], { cwd: run.cwd }).stdout;
  const landedBy = new Map<string, string>();
  for (const line of log.split('\n')) {
    const [sha, values] = line.split('\x1f');
    for (const v of (values ?? '').split('\x1d')) if (sha && v.trim()) landedBy.set(v.trim().toLowerCase(), sha);
  }
  const rest: Eligible[] = [];
  for (const item of items) {
    const landed = landedBy.get(item.task);
    if (!landed) {
      rest.push(item);
      continue;
    }
    const out = run.outcomes.get(item.task)!;
    out.outcome = 'already-landed';
    out.landed = landed;
    out.exitCode = ExitCode.ok;
    out.reason = `landed by another clone as ${landed.slice(0, 12)} while this one tried`;
  }
  return rest;
}

/** Splits a failed batch: singles when small (bors does halves; three or fewer cost no more one by one), else halves. */
async function bisect(run: Run, items: Eligible[]): Promise<void> {
  if (items.length <= 3) {
    for (const item of items) await landBatch(run, [item]);
    return;
  }
  const half = Math.ceil(items.length / 2);
  const first = items.slice(0, half);
  const second = items.slice(half);
  // with spare pool worktrees, the second half is verified on the same tip while the first lands: when the first
  // fails, the second's candidate is that very tree, already answered
  const warm = run.spec.verify.concurrency > 1 && !run.req.requireCached ? warmStack(run, second, run.tip) : Promise.resolve();
  await landBatch(run, first);
  await warm;
  await landBatch(run, second);
}

/** Builds and verifies a stack without landing it (its answer is recorded by tree, for the landBatch that follows). */
async function warmStack(run: Run, items: Eligible[], tip: string): Promise<void> {
  try {
    const built = buildStack(run, items, tip);
    if ('stack' in built) await verifyStack(run, built.stack);
  } catch {
    /* only a head start: the real attempt reports any problem */
  }
}

/** After the base moved: each task's outcome (the branch goes once the post-land suite, if any, passed). */
function recordLanded(run: Run, stack: readonly Stacked[]): void {
  for (const s of stack) {
    const out = run.outcomes.get(s.item.task)!;
    out.outcome = 'landed';
    out.exitCode = ExitCode.ok;
    out.landed = s.commit;
    out.gate = null;
    out.reason = null;
    out.hint = null;
  }
  run.progress(stack.length === 1 ? stack[0]!.item.task : null, 'record', `recording the landing of ${stack.map((s) => `${s.item.task} as ${s.commit.slice(0, 12)}`).join(', ')}`);
}

/** The land record of a stacked task that landed. */
function landRecord(s: Stacked, oldTip: string, newTip: string, verdict: CandidateVerdict): LandRecord {
  return { task: s.item.task, commit: s.item.head, patchset: s.item.patchset, landed: s.commit, oldTip, newTip, verify: verdict.kind === 'answer' ? verdict.outcome.event : null, approvedBy: approverOf(s.item.view) };
}
