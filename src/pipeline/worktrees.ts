import path from 'node:path';
import { loadConfig, isValidBranchName, type Config } from '../config.js';
import { isSafeSegment } from '../config/worktree.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { failpoint } from '../failpoint.js';
import { withWorktreeAdminLock } from '../git/worktree-lock.js';
import { findRepo, isInside, requireRepo, requireWorkRepo, stateDir } from '../git/repo.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';
import { parseTaskId, type TaskId } from '../ids.js';
import { refValue } from '../land/base-ref.js';
import { readLock, releaseLock, waitForLock } from '../verify/lock.js';
import { addExcludes, excludeFile, headOf, heldByARef, isDirectory, lexists, linkDirs, readStatus, realPath, samePath, type LinkResult } from './worktree-files.js';
import { readWorktreeRegistry, updateWorktreeRegistry, type WorktreeRecord, type WorktreeStart } from './worktree-registry.js';

/** What `worktree start` did, and where the task's worktree is. */
export interface StartResult {
  task: string;
  path: string;
  /** the branch checked out there (null: a detached HEAD, in the current tree only) */
  branch: string | null;
  /** created: a new worktree; reused: the task's existing one; current: run inside a linked worktree, which is used */
  action: 'created' | 'reused' | 'current';
  /** in omni-ship's registry (made by omni-ship): only such a worktree may be removed by `worktree release --remove` */
  registered: boolean;
  /** the worktree's HEAD commit */
  head: string | null;
  /** the registry entry's start: the commit, where it came from, the ref or patchset (null when not registered) */
  baseCommit: string | null;
  from: WorktreeStart | null;
  fromRef: string | null;
  patchset: number | null;
  createdAt: string | null;
  links: LinkResult[];
}

/** A registered worktree as it is now. */
export interface ListedWorktree extends WorktreeRecord {
  /** its folder exists */
  exists: boolean;
  /** it has uncommitted changes (modified, staged or untracked files, an operation in progress); null when it cannot be read */
  dirty: boolean | null;
  /** its HEAD commit now, null when it cannot be read */
  head: string | null;
  /** the branch checked out there now (null: detached or unreadable) */
  checkedOut: string | null;
}

/** What `worktree release` did. */
export interface ReleaseResult {
  task: string;
  path: string;
  branch: string;
  /** the registry entry was dropped (always true: a refusal throws) */
  released: true;
  /** the worktree was removed (`git worktree remove`; with --remove only) */
  removed: boolean;
}

/** A result plus what to say on stderr. */
export interface Outcome<T> {
  data: T;
  notes: string[];
}

/** How long a start or release of one task waits for another of the same task (a checkout of a big tree takes a while). */
const TASK_LOCK_TIMEOUT_MS = 10 * 60_000;

/** Creates the task's worktree on its branch, or returns the one it has (see README, "omni-ship worktree"). */
export async function startWorktree(cwd: string, rawTask: string): Promise<Outcome<StartResult>> {
  const repo = findRepo(cwd);
  const { config } = await loadConfig(cwd, repo?.toplevel ?? null, repo ? { stateDir: stateDir(repo) } : {});
  const task = parseTaskId(rawTask, config);
  const branch = taskBranch(task);
  if (!repo) {
    // there is no tree of a repository to use, nor a repository to make one of
    throw badInput(`not a git repository: ${cwd}; ${task} has no worktree to start here`, 'run omni-ship worktree start inside the repository (or pass -C <path>)');
  }
  if (repo.isBare || !repo.toplevel) requireWorkRepo(cwd); // throws, saying why
  const top = repo.toplevel!;
  if (repo.gitDir !== repo.commonDir) return currentTree(top, task);
  const dir = stateDir(repo);
  const target = path.join(worktreesRoot(top, config.worktree.dir), branch);
  return withTaskLock(dir, task, async () => {
    const registry = await readWorktreeRegistry(dir);
    const record = registry.worktrees.find((w) => w.task === task) ?? null;
    const trees = listWorktrees(top, repo.commonDir);
    const known = (p: string) => trees.find((w) => samePath(w.path, p));
    if (record && isDirectory(record.path) && known(record.path) && !known(record.path)!.prunable) {
      const data = existing(task, record.path, record.branch, { record, top, head: headOf(record.path) });
      return { data, notes: [`${task}: using its worktree ${record.path} (branch ${record.branch})`] };
    }
    const ref = `refs/heads/${branch}`;
    const onBranch = trees.find((w) => w.branch === ref);
    const notes: string[] = [];
    if (onBranch === trees[0]) {
      throw new UserError(
        `${task}: branch ${branch} is checked out in the main worktree ${onBranch!.path}; a second worktree cannot check it out`,
        ExitCode.conflict,
        `work on ${task} there, or switch that worktree to another branch (git switch ${config.baseBranch}) and start again`,
      );
    }
    if (onBranch && !onBranch.prunable && isDirectory(onBranch.path)) {
      // git's own worktree on the task branch, made by hand: used, never registered (so never removed by omni-ship)
      const data = existing(task, onBranch.path, branch, { record: null, top, head: headOf(onBranch.path) });
      return { data, notes: [`${task}: using the worktree ${onBranch.path} on branch ${branch}; omni-ship did not make it, so worktree release --remove will not remove it`] };
    }
    const gone = onBranch ?? (record ? known(record.path) : undefined);
    if (gone) {
      // git still records a worktree whose folder is gone: only omni-ship's own is cleared (git worktree remove of a
      // missing folder deletes git's record of it, nothing else), so the branch can be checked out again
      if (!record || !samePath(gone.path, record.path)) {
        throw new UserError(
          `${task}: branch ${branch} is checked out in the worktree ${gone.path}, whose folder is gone`,
          ExitCode.conflict,
          `git worktree prune clears git's record of it; then start again`,
        );
      }
      const r = await withWorktreeAdminLock(repo.commonDir, () => gitRun(['worktree', 'remove', gone.path], { cwd: top }));
      if (r.exitCode !== 0) throw new UserError(`${task}: cannot clear git's record of the missing worktree ${gone.path}: ${firstLine(r.stderr)}`, ExitCode.conflict, `git worktree prune clears it`);
      notes.push(`${task}: its worktree ${gone.path} was gone; git's record of it was cleared`);
    }
    if (lexists(target)) {
      throw new UserError(`${task}: ${target} is in the way: it exists but is not ${task}'s worktree`, ExitCode.conflict, 'move it away, or set worktree.dir to another folder');
    }
    const start = await startPoint(top, dir, config, task, branch);
    const entry: WorktreeRecord = {
      task,
      path: target,
      branch,
      createdAt: new Date().toISOString(),
      createdBy: 'omni-ship',
      baseCommit: start.commit,
      from: start.from,
      fromRef: start.ref,
      patchset: start.patchset,
      links: [],
    };
    // registered before it is made: a start killed after git made the worktree leaves one the registry calls
    // omni-ship's (reused, and removable, by the next command); killed before, an entry whose folder does not exist,
    // which the next start makes again and a release forgets
    await updateWorktreeRegistry(dir, (data) => {
      data.worktrees = [...data.worktrees.filter((w) => w.task !== task), entry];
      return { result: null, write: true };
    });
    failpoint('worktree:registered');
    const args = start.from === 'branch' ? ['worktree', 'add', '--quiet', target, branch] : ['worktree', 'add', '--quiet', '--no-track', '-b', branch, target, start.commit];
    const added = await withWorktreeAdminLock(repo.commonDir, () => gitRun(args, { cwd: top }));
    if (added.exitCode !== 0) {
      await updateWorktreeRegistry(dir, (data) => {
        data.worktrees = data.worktrees.filter((w) => w.task !== task);
        return { result: null, write: true };
      });
      throw new UserError(`${task}: git could not make the worktree ${target}: ${firstLine(added.stderr)}`, ExitCode.conflict, 'omni-ship worktree list and git worktree list show what is there');
    }
    failpoint('worktree:added');
    const links = linkDirs(top, target, config.worktree.linkDirs);
    for (const l of links) {
      if (l.status === 'missing') notes.push(`${task}: worktree.linkDirs: ${l.target} does not exist: not linked`);
      if (l.status === 'in-the-way') notes.push(`${task}: worktree.linkDirs: ${path.join(target, l.name)} exists in the checkout: not linked`);
    }
    entry.links = links.filter((l) => l.status === 'linked').map((l) => l.name);
    if (entry.links.length) {
      const exclude = excludeFile(target);
      await updateWorktreeRegistry(dir, (data) => {
        // the exclude file is shared by every worktree (info/ is in the common dir): written under the registry's lock
        addExcludes(exclude, entry.links);
        data.worktrees = [...data.worktrees.filter((w) => w.task !== task), entry];
        return { result: null, write: true };
      });
    }
    const on = start.from === 'branch' ? `its existing branch ${branch}` : `new branch ${branch} from ${start.from === 'patchset' ? `patchset ${start.patchset}` : shortRef(start.ref!)}`;
    notes.push(`${task}: made the worktree ${target} on ${on} (${start.commit.slice(0, 12)})`);
    return { data: { ...existing(task, target, branch, { record: entry, top, head: start.commit }), action: 'created', links }, notes };
  });
}

/** The registered worktrees, each with whether its folder exists, whether it has uncommitted changes, and its HEAD. */
export async function listWorktreeRecords(cwd: string): Promise<ListedWorktree[]> {
  const repo = requireRepo(cwd);
  const { worktrees } = await readWorktreeRegistry(stateDir(repo));
  return worktrees.map((w) => {
    const exists = isDirectory(w.path);
    const s = exists ? readStatus(w.path) : null;
    return { ...w, exists, dirty: s ? s.changes.length > 0 : null, head: s?.head ?? null, checkedOut: s?.branch ?? null };
  });
}

/**
 * Drops the task's registry entry; with `remove`, first removes the worktree with `git worktree remove` (never
 * forced). Refuses, changing nothing, a task with no registered worktree and a worktree with uncommitted changes.
 */
export async function releaseWorktree(cwd: string, rawTask: string, remove: boolean): Promise<Outcome<ReleaseResult>> {
  const repo = requireRepo(cwd);
  const { config } = await loadConfig(cwd, repo.toplevel, { stateDir: stateDir(repo) });
  const task = parseTaskId(rawTask, config);
  const dir = stateDir(repo);
  const gitCwd = repo.toplevel ?? repo.gitDir;
  return withTaskLock(dir, task, async () => {
    const record = (await readWorktreeRegistry(dir)).worktrees.find((w) => w.task === task);
    const trees = listWorktrees(gitCwd, repo.commonDir);
    if (!record) {
      const theirs = trees.slice(1).find((w) => w.branch === `refs/heads/${taskBranch(task)}`);
      if (theirs && remove) {
        throw new UserError(
          `${task}: the worktree ${theirs.path} was not made by omni-ship (it is not in its registry): not removed`,
          ExitCode.refused,
          `remove it yourself if you mean to: git worktree remove ${theirs.path}`,
        );
      }
      throw badInput(`${task}: no worktree of ${task} is registered: nothing to release`, 'omni-ship worktree list shows the registered ones');
    }
    const notes: string[] = [];
    let removed = false;
    if (remove) {
      const tree = trees.find((w) => samePath(w.path, record.path));
      if (!isDirectory(record.path)) {
        // the folder is gone already: what is left is git's record of it (if any) and ours
        if (tree) {
          const r = await withWorktreeAdminLock(repo.commonDir, () => gitRun(['worktree', 'remove', record.path], { cwd: gitCwd }));
          if (r.exitCode !== 0) throw new UserError(`${task}: cannot clear git's record of the missing worktree ${record.path}: ${firstLine(r.stderr)}`, ExitCode.refused);
        }
        notes.push(`${task}: its worktree ${record.path} was gone already`);
      } else {
        refuseRemoval(task, record, tree, trees, cwd);
        const r = await withWorktreeAdminLock(repo.commonDir, () => gitRun(['worktree', 'remove', record.path], { cwd: gitCwd }));
        if (r.exitCode !== 0) {
          throw new UserError(`${task}: git refused to remove the worktree ${record.path}: ${firstLine(r.stderr)}`, ExitCode.refused, 'nothing was changed; see git worktree list');
        }
      }
      removed = true;
    }
    await updateWorktreeRegistry(dir, (data) => {
      data.worktrees = data.worktrees.filter((w) => w.task !== task);
      return { result: null, write: true };
    });
    return { data: { task, path: record.path, branch: record.branch, released: true, removed }, notes };
  });
}

/** Why the registered worktree must not be removed (throws, exit 1), checked before anything changes. */
function refuseRemoval(task: TaskId, record: WorktreeRecord, tree: WorktreeEntry | undefined, trees: WorktreeEntry[], cwd: string): void {
  const no = (why: string, hint: string) => new UserError(`${task}: ${why}: not removed`, ExitCode.refused, hint);
  if (!tree || tree === trees[0]) throw no(`${record.path} is not a linked worktree of this repository`, 'omni-ship worktree release (without --remove) forgets it');
  if (isInside(realPath(cwd), realPath(record.path))) throw no(`you are inside its worktree ${record.path}`, `run it from the main worktree (omni-ship -C ${trees[0]!.path} worktree release ${task} --remove)`);
  const s = readStatus(record.path);
  if (!s) throw no(`git cannot read the worktree ${record.path}`, 'see git worktree list');
  if (s.changes.length) {
    const shown = s.changes.slice(0, 5).join(', ') + (s.changes.length > 5 ? `, … (${s.changes.length} in all)` : '');
    throw no(`the worktree ${record.path} has uncommitted changes (${shown})`, `commit or stash them there first, or release without --remove to keep the worktree`);
  }
  if (s.branch === null && s.head && !heldByARef(record.path, s.head)) {
    // its HEAD's reflog goes with the worktree: a commit made on a detached HEAD would be lost
    throw no(`the worktree ${record.path} has a detached HEAD at ${s.head.slice(0, 12)}, which no branch or tag holds`, 'create a branch there (git switch -c <name>) first');
  }
}

/** The task id as a branch name and a folder name: refused (exit 2) unless both are safe. */
export function taskBranch(task: TaskId): string {
  if (!isSafeSegment(task) || !isValidBranchName(task)) {
    throw badInput(
      `${JSON.stringify(task)} cannot name a worktree: a worktree folder and branch are named after the task, so its id must be letters, digits, '.', '_' and '-' (no '..')`,
      'use a task id such as t-565',
    );
  }
  return task;
}

/** The folder of the task worktrees: worktree.dir (relative to the repository top), else `<top>/../<name>.worktrees`. */
export function worktreesRoot(top: string, dir: string | null): string {
  return dir === null ? path.join(path.dirname(top), `${path.basename(top)}.worktrees`) : path.resolve(top, dir);
}

/** Run inside a linked worktree: that tree is used, as it is. */
function currentTree(top: string, task: TaskId): Outcome<StartResult> {
  const branch = gitRun(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: top });
  const name = branch.exitCode === 0 ? branch.stdout.trim() : null;
  const data: StartResult = { ...existing(task, top, name, { record: null, top, head: headOf(top) }), action: 'current' };
  const other = name === task ? '' : ` (on ${name === null ? 'a detached HEAD' : `branch ${name}`}, not ${task})`;
  return { data, notes: [`already in the linked worktree ${top}${other}: using it; run worktree start from the main worktree to make ${task} one of its own`] };
}

/** A StartResult of an existing worktree, with the registry's fields from `record` when omni-ship made it. */
function existing(task: TaskId, dir: string, branch: string | null, o: { record: WorktreeRecord | null; top: string; head: string | null }): StartResult {
  const r = o.record;
  return {
    task,
    path: dir,
    branch,
    action: 'reused',
    registered: r !== null,
    head: o.head,
    baseCommit: r?.baseCommit ?? null,
    from: r?.from ?? null,
    fromRef: r?.fromRef ?? null,
    patchset: r?.patchset ?? null,
    createdAt: r?.createdAt ?? null,
    links: (r?.links ?? []).map((name) => ({ name, target: path.join(o.top, name), status: 'linked' as const })),
  };
}

/** Where a new worktree starts: the task's branch when it exists, else its latest patchset (unless landed), else the base. */
async function startPoint(
  top: string,
  dir: string,
  config: Config,
  task: TaskId,
  branch: string,
): Promise<{ commit: string; from: WorktreeStart; ref: string | null; patchset: number | null }> {
  const ref = `refs/heads/${branch}`;
  const tip = refValue(top, ref);
  if (tip) return { commit: tip, from: 'branch', ref, patchset: null };
  const { loadState } = await import('../state/tasks.js');
  const view = (await loadState(top, config, dir, undefined, undefined, { only: new Set([task]) })).tasks.get(task);
  // a landed task's patchsets are in the base already: new work on it starts from the base
  const latest = view && view.state !== 'landed' ? view.patchsets.reduce<(typeof view.patchsets)[number] | null>((a, p) => (a && a.n >= p.n ? a : p), null) : null;
  if (latest) {
    if (gitRun(['cat-file', '-e', `${latest.commit}^{commit}`], { cwd: top }).exitCode !== 0) {
      throw badInput(`${task}: its latest patchset ${latest.n} (${latest.commit.slice(0, 12)}) is not in this clone`, `fetch it (omni-ship sync${config.remote ? ` ${config.remote}` : ''}, git fetch), then start again`);
    }
    return { commit: latest.commit, from: 'patchset', ref: null, patchset: latest.n };
  }
  // the remote's view of the base first: what the task will land on
  const candidates = [...(config.remote ? [`refs/remotes/${config.remote}/${config.baseBranch}`] : []), `refs/heads/${config.baseBranch}`];
  for (const c of candidates) {
    const commit = refValue(top, c);
    if (commit) return { commit, from: 'base', ref: c, patchset: null };
  }
  throw badInput(`${task}: the base branch ${config.baseBranch} does not exist here`, config.remote ? `git fetch ${config.remote}, then start again` : 'commit on it first, or set baseBranch');
}

/** Runs `fn` holding the task's start/release lock, so two of one task (never two tasks) wait for each other. */
async function withTaskLock<T>(dir: string, task: TaskId, fn: () => Promise<T>): Promise<T> {
  const file = path.join(dir, `worktree-${task}.lock`);
  if (!(await waitForLock(file, { timeoutMs: TASK_LOCK_TIMEOUT_MS, pollMs: 50 }))) {
    throw new UserError(`${task}: another omni-ship (pid ${readLock(file)?.pid ?? '?'}) is starting or releasing its worktree`, ExitCode.conflict, 'try again when it is done');
  }
  try {
    return await fn();
  } finally {
    releaseLock(file);
  }
}

/** refs/remotes/origin/main as origin/main, for messages. */
function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|remotes)\//, '');
}

/** The first line of git's stderr that says something. */
function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim() !== '' && !l.startsWith('Preparing worktree')) ?? 'no message';
}

