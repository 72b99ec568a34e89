import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, loadConfigOrPrevious, type Config } from '../config.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { CatFileSession, type BatchObject } from '../git/batch.js';
import { discoverWorkRepo, requireRepo, stateDir as stateDirOf } from '../git/repo.js';
import { taskIdFromBranch, tryTaskId } from '../ids.js';
import { decodeNote, type BadLine, type OmniEvent, type VerifyEvent } from '../notes/events.js';
import { notePathCandidates, type FoundNote } from '../notes/read.js';
import type { KnownNotes } from '../notes/write.js';
import { NOTES_REFS, baseRefCandidates } from '../notes/refs.js';
import type { BaseTip } from './base.js';
import { CONFIG_FILES } from '../config/files.js';
import type { CommittedConfig, VerifySpec } from './spec.js';
import type { VerifyTarget } from './verify.js';

/** Everything a verify needs, resolved in the order the README gives: the repository, the rev, the base, the spec. */
export interface PreparedVerify {
  cwd: string;
  commonDir: string;
  stateDir: string;
  config: Config;
  target: VerifyTarget;
  base: BaseTip | null;
  spec: VerifySpec;
  /** the verify events on the target's tree, read while preparing (a cache hit needs nothing more) */
  treeEvents: VerifyEvent[];
  /** the verify ref's tip and the tree's note as read then: the first try of the answer's write (null: not a commit ref) */
  known: KnownNotes | null;
}

/** The task HEAD's branch names (read from the HEAD file: no process), or null (detached, the base branch, no task). */
function taskOfHead(gitDir: string, config: Config): string | null {
  try {
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: refs/heads/')) return null;
    const branch = head.slice('ref: refs/heads/'.length);
    return branch === config.baseBranch ? null : taskIdFromBranch(branch, config);
  } catch {
    return null;
  }
}

/** `config` with its remote and base branch set to resolved values (its lazy defaults would each spawn git again). */
export function withResolved(config: Config, values: { remote: string | null; baseBranch: string }): Config {
  return withValues(config, values);
}

/** A copy of `config` with `values` set (its other values, lazy defaults included, as they are). */
export function withValues(config: Config, values: Partial<Config>): Config {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(config)) as Config;
  for (const [key, value] of Object.entries(values)) Object.defineProperty(out, key, { value, enumerable: true });
  return out;
}

/** The tree line of a commit object. */
function treeOf(commit: BatchObject): string | null {
  return commit.content ? (/^tree ([0-9a-f]{40,64})$/m.exec(commit.content.toString('latin1'))?.[1] ?? null) : null;
}

/**
 * Resolves the repository, the target, the base tip and the spec (the base's, the local one, or the commit's own),
 * and reads the target tree's verify note: one `git cat-file --batch` answers the target, both base refs, their
 * config files and the note, so a cached answer costs that process, the repository lookup and the config.
 */
export async function prepareVerify(opts: { cwd: string; target?: string; specFromCommit: boolean; background?: boolean }): Promise<PreparedVerify> {
  // the cache hit's path: the repository found on the file system (no process), the target in cat-file's first
  // round; anything unusual asks git (findRepo), as every other command does
  const repo = discoverWorkRepo(opts.cwd) ?? requireRepo(opts.cwd);
  // outside a work tree, git runs in this worktree's git dir: its HEAD, not the main worktree's (the common dir's)
  const cwd = repo.toplevel ?? repo.gitDir;
  const dir = stateDirOf(repo);
  // HEAD or a full commit id needs no config to be asked for: git starts answering while the config loads
  const guess = ['refs/heads/main', 'refs/heads/master', 'refs/remotes/origin/main', 'refs/remotes/origin/master'];
  const configRequests = (r: string) => CONFIG_FILES.map((name) => `${r}:${name}`);
  const firstRound = (rev: string) => [`${rev}^{commit}`, NOTES_REFS.verify, ...guess.flatMap((r) => [`${r}^{commit}`, ...configRequests(r)])];
  const session = new CatFileSession(cwd);
  const early = opts.target === undefined || /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(opts.target) ? session.ask(firstRound(opts.target ?? 'HEAD')) : null;
  early?.catch(() => {});
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  let config: Config;
  let taskTarget: VerifyTarget | null;
  let rev: string;
  try {
    // in the background, a config that does not load gives the last one that did (as the hooks say), never a lost run
    loaded = opts.background ? await loadConfigOrPrevious(cwd, dir) : await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
    config = loaded.config;
    // a task id means its head commit, which only the task model knows; anything else is a rev cat-file resolves
    taskTarget = opts.target !== undefined && tryTaskId(opts.target, config) ? await (await import('./target.js')).resolveTarget(cwd, config, dir, opts.target) : null;
    rev = taskTarget?.commit ?? opts.target ?? 'HEAD';
    if (/[\n\0]/.test(rev)) throw badInput(`'${rev}' is neither a task id nor a commit here`, 'name a task (t-565), a branch, a tag or a commit id');
  } catch (e) {
    // git must not wait for more questions: an open session would keep this process alive
    session.close();
    throw e;
  }
  // the spec's module (parsers, the hash) compiles while git answers
  const specModule = import('./spec.js');
  specModule.catch(() => {});
  let target: VerifyTarget;
  let base: BaseTip | null = null;
  let baseConfig: CommittedConfig | undefined;
  let treeEvents: VerifyEvent[] = [];
  let known: KnownNotes | null = null;
  try {
    // asked before the base branch is known: git answers while the config's defaults cost their own processes
    // (`git remote`, a for-each-ref); the usual names are asked for on a guess, anything else in a second round
    const perRef = configRequests('').length;
    const asked = early ?? session.ask(firstRound(rev));
    asked.catch(() => {});
    if (loaded.dynamic.length) {
      // the remote and base branch defaults, their two processes side by side with cat-file's answers
      const { dynamicDefaultsAsync } = await import('../config/defaults.js');
      const resolved = await dynamicDefaultsAsync(cwd, loaded.dynamic.includes('remote') ? undefined : config.remote, { commonDir: repo.commonDir, gitDir: repo.gitDir });
      config = withResolved(config, loaded.dynamic.includes('baseBranch') ? resolved : { remote: resolved.remote, baseBranch: config.baseBranch });
    }
    const baseRefs = baseRefCandidates(config);
    let answers: BatchObject[];
    try {
      answers = await asked;
    } catch (e) {
      // git refused what the file system found (safe.directory, a damaged repository): let findRepo say why
      requireRepo(opts.cwd);
      throw e;
    }
    const refAnswers = new Map<string, BatchObject[]>();
    guess.forEach((r, i) => refAnswers.set(r, answers.slice(2 + i * (1 + perRef), 2 + (i + 1) * (1 + perRef))));
    const unguessed = baseRefs.filter((r) => !refAnswers.has(r));
    if (unguessed.length) {
      const more = await session.ask(unguessed.flatMap((r) => [`${r}^{commit}`, ...configRequests(r)]));
      unguessed.forEach((r, i) => refAnswers.set(r, more.slice(i * (1 + perRef), (i + 1) * (1 + perRef))));
    }
    const commit = answers[0]!;
    const tree = commit.type === 'commit' ? treeOf(commit) : null;
    if (!commit.oid || !tree) {
      if (opts.target === undefined) throw badInput('HEAD has no commit yet: nothing to verify', 'commit first, or name a task or a commit');
      throw badInput(`'${opts.target}' is neither a task id nor a commit here`, 'name a task (t-565), a branch, a tag or a commit id');
    }
    target = { commit: commit.oid, tree, task: taskTarget?.task ?? (opts.target === undefined ? taskOfHead(repo.gitDir, config) : null) };
    const found = baseRefs.find((r) => refAnswers.get(r)?.[0]?.type === 'commit');
    if (found) {
      const got = refAnswers.get(found)!;
      base = { tip: got[0]!.oid!, ref: found, name: config.baseBranch };
      baseConfig = (await specModule).committedConfigFrom(got.slice(1));
    }
    const notes = answers[1]!;
    if (!notes.oid) known = { tip: null, notes: new Map([[tree, null]]) };
    if (notes.type === 'commit') {
      const events: OmniEvent[] = [];
      const bad: BadLine[] = [];
      let found: FoundNote | null = null;
      const paths = notePathCandidates(tree);
      (await session.ask(paths.map((p) => `${notes.oid}:${p}`))).forEach((a, i) => {
        if (!a.content || a.type !== 'blob' || found) return;
        found = { text: a.content.toString('utf8'), path: paths[i]! };
        decodeNote(tree, found.text, events, bad);
      });
      treeEvents = events.filter((e): e is VerifyEvent => e.type === 'verify' && e.tree === tree);
      known = { tip: notes.oid, notes: new Map([[tree, found]]) };
    }
  } finally {
    session.close();
  }
  let why: string | null = null;
  if (!base) {
    // a CI checkout: no local base branch and no remote-tracking one; fetch it to read the team's spec
    const fetched = (await import('./base.js')).fetchBaseTip(cwd, config);
    base = fetched.base;
    why = fetched.why;
  }
  const spec = await (await specModule).resolveSpec({
    cwd,
    commonDir: repo.commonDir,
    stateDir: dir,
    baseTip: base?.tip ?? null,
    baseConfig: base && baseConfig !== undefined ? baseConfig : undefined,
    fromCommit: opts.specFromCommit ? target.commit : null,
    runCacheKey: true,
    baseName: config.baseBranch,
  });
  if (!base && spec.source.kind === 'base') {
    throw new UserError(
      `cannot read the team's verify spec: ${why}`,
      ExitCode.usage,
      `fetch the base branch (git fetch ${config.remote ?? '<remote>'} ${config.baseBranch}), set baseBranch, or put the spec in this clone's local config .git/omni-ship.yaml`,
    );
  }
  return { cwd, commonDir: repo.commonDir, stateDir: dir, config, target, base, spec, treeEvents, known };
}
