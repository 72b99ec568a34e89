import fs from 'node:fs';
import path from 'node:path';
import { git } from './exec.js';

/** A worktree and the branch it has checked out (null: detached or bare). */
export interface WorktreeEntry {
  path: string;
  branch: string | null;
  head: string | null;
  bare: boolean;
  prunable: boolean;
}

/**
 * The worktrees and their checked-out branches from git's own files, with no process: the main worktree's HEAD in
 * the common dir (whose parent is the work tree when the common dir is a `.git` directory), each linked one's in
 * `worktrees/<id>/HEAD`, its directory in `worktrees/<id>/gitdir`. Null when the layout is anything else (a bare or
 * separated git dir, core.worktree): `git worktree list` answers then. A linked worktree whose directory is gone
 * is marked prunable, as git marks it.
 */
export function worktreesFromFiles(commonDir: string): WorktreeEntry[] | null {
  if (path.basename(commonDir) !== '.git') return null;
  const config = readTrimmed(path.join(commonDir, 'config'));
  if (config === null || /^\s*(bare\s*=\s*true|worktree\s*=)/im.test(config)) return null;
  const entry = (path: string, head: string | null, prunable: boolean): WorktreeEntry => ({
    path,
    branch: head?.startsWith('ref: ') ? head.slice(5) : null,
    head: head && !head.startsWith('ref: ') ? head : null,
    bare: false,
    prunable,
  });
  const out = [entry(path.dirname(commonDir), readTrimmed(path.join(commonDir, 'HEAD')), false)];
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(path.join(commonDir, 'worktrees'));
  } catch {
    ids = [];
  }
  for (const id of ids) {
    const admin = path.join(commonDir, 'worktrees', id);
    const gitdir = readTrimmed(path.join(admin, 'gitdir'));
    if (!gitdir) continue;
    const dir = path.dirname(gitdir);
    out.push(entry(dir, readTrimmed(path.join(admin, 'HEAD')), !fs.existsSync(dir)));
  }
  return out;
}

/**
 * Every worktree of the repository: from git's files when `commonDir` is given and its layout is the usual one
 * (worktreesFromFiles), else from `git worktree list --porcelain -z` (paths may hold any byte but NUL).
 */
export function listWorktrees(cwd: string, commonDir?: string): WorktreeEntry[] {
  const fromFiles = commonDir ? worktreesFromFiles(commonDir) : null;
  if (fromFiles) return fromFiles;
  const out = git(['worktree', 'list', '--porcelain', '-z'], { cwd });
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  for (const field of out.split('\0')) {
    if (field === '') {
      if (cur) entries.push(cur);
      cur = null;
      continue;
    }
    const space = field.indexOf(' ');
    const key = space < 0 ? field : field.slice(0, space);
    const value = space < 0 ? '' : field.slice(space + 1);
    if (key === 'worktree') cur = { path: value, branch: null, head: null, bare: false, prunable: false };
    else if (!cur) continue;
    else if (key === 'branch') cur.branch = value;
    else if (key === 'HEAD') cur.head = value;
    else if (key === 'bare') cur.bare = true;
    else if (key === 'prunable') cur.prunable = true;
  }
  if (cur) entries.push(cur);
  return entries;
}

/** Why a branch is in use by a worktree, as git itself would refuse to delete it (`git branch -d`). */
export interface BranchInUse {
  /** the worktree's directory */
  worktree: string;
  /** checked out, or being rebased or bisected there (then HEAD is detached, but the branch is still that worktree's) */
  how: 'checked-out' | 'rebasing' | 'bisecting';
}

/**
 * Every local branch some worktree of the repository uses, by full ref name (`refs/heads/<b>`): checked out
 * (`git worktree list --porcelain -z`, git >= 2.36; worktrees whose directory is gone, "prunable", count too, as
 * they do for git) or being rebased or bisected, which `worktree list` shows as a detached HEAD (git's own
 * branch.c reads the same files: rebase-merge/head-name, rebase-apply/head-name, BISECT_START).
 */
export function branchesInUse(cwd: string, commonDir: string): Map<string, BranchInUse> {
  const inUse = new Map<string, BranchInUse>();
  for (const w of listWorktrees(cwd, commonDir)) {
    if (w.branch && !inUse.has(w.branch)) inUse.set(w.branch, { worktree: w.path, how: 'checked-out' });
  }
  for (const { gitDir, worktree: dir } of worktreeGitDirs(commonDir)) {
    for (const file of ['rebase-merge/head-name', 'rebase-apply/head-name']) {
      const ref = readTrimmed(path.join(gitDir, file));
      if (ref?.startsWith('refs/heads/') && !inUse.has(ref)) inUse.set(ref, { worktree: dir, how: 'rebasing' });
    }
    // BISECT_START holds the short name of the branch bisect started from (or a commit id)
    const start = readTrimmed(path.join(gitDir, 'BISECT_START'));
    if (start && !inUse.has(`refs/heads/${start}`)) inUse.set(`refs/heads/${start}`, { worktree: dir, how: 'bisecting' });
  }
  return inUse;
}

/** The git dir of each worktree (the main one is the common dir) and the worktree's directory, as far as git records it. */
function worktreeGitDirs(commonDir: string): { gitDir: string; worktree: string }[] {
  const dirs = [{ gitDir: commonDir, worktree: path.dirname(commonDir) }];
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(commonDir, 'worktrees'));
  } catch {
    names = [];
  }
  for (const name of names) {
    const gitDir = path.join(commonDir, 'worktrees', name);
    // `gitdir` holds the path of the worktree's .git file
    const dotGit = readTrimmed(path.join(gitDir, 'gitdir'));
    dirs.push({ gitDir, worktree: dotGit ? path.dirname(dotGit) : gitDir });
  }
  return dirs;
}

/** A small file's content without surrounding white space; null when it cannot be read. */
function readTrimmed(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
