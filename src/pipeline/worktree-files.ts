import fs from 'node:fs';
import path from 'node:path';
import { gitRun } from '../git/exec.js';

/** One folder of worktree.linkDirs and what became of it in a new worktree. */
export interface LinkResult {
  name: string;
  /** the folder of the main work tree the link points at */
  target: string;
  /** linked; missing: the main work tree has no such folder; in-the-way: the worktree has that path already */
  status: 'linked' | 'missing' | 'in-the-way';
}

/** Symlinks each folder of linkDirs from the main work tree into the new worktree (absolute targets). */
export function linkDirs(top: string, target: string, names: readonly string[]): LinkResult[] {
  return names.map((name) => {
    const source = path.join(top, name);
    const dest = path.join(target, name);
    if (!isDirectory(source)) return { name, target: source, status: 'missing' };
    if (lexists(dest)) return { name, target: source, status: 'in-the-way' };
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.symlinkSync(source, dest, 'dir');
      return { name, target: source, status: 'linked' };
    } catch {
      return { name, target: source, status: 'in-the-way' }; // a file where a parent folder should be
    }
  });
}

/** The exclude file git reads in `worktree` (git rev-parse --git-path; the common dir's info/exclude in git 2.39). */
export function excludeFile(worktree: string): string {
  const r = gitRun(['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude'], { cwd: worktree });
  if (r.exitCode !== 0) throw new Error(`git rev-parse --git-path info/exclude failed in ${worktree}: ${r.stderr.trim().split('\n')[0]}`);
  return r.stdout.replace(/\n$/, '');
}

/**
 * Adds `/name` for each linked folder to the exclude file, once: a `.gitignore` line `node_modules/` matches only a
 * folder, and a symlink is none, so an agent's `git add -A` would commit the link. Anchored without a trailing
 * slash, the line matches the link (and, in the main worktree, the folder it points at).
 */
export function addExcludes(file: string, names: readonly string[]): void {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const have = new Set(text.split('\n').map((l) => l.trim()));
  const add = names.map((n) => `/${n}`).filter((l) => !have.has(l));
  if (!add.length) return;
  const header = have.has(EXCLUDE_HEADER) ? [] : [EXCLUDE_HEADER];
  const body = `${text}${text && !text.endsWith('\n') ? '\n' : ''}${[...header, ...add].join('\n')}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

/** The comment above the lines addExcludes writes. */
const EXCLUDE_HEADER = '# omni-ship worktree.linkDirs: symlinks in task worktrees';

/** A worktree's HEAD, branch and uncommitted changes (an operation in progress counts, and untracked files unless `untracked` is false); null if git cannot read it. */
export function readStatus(dir: string, untracked = true): { head: string | null; branch: string | null; changes: string[] } | null {
  // --no-optional-locks: a read must not rewrite the worktree's index (git status refreshes it otherwise)
  const r = gitRun(['--no-optional-locks', 'status', '--porcelain=v2', '--branch', '-z', `--untracked-files=${untracked ? 'normal' : 'no'}`], { cwd: dir });
  if (r.exitCode !== 0) return null;
  let head: string | null = null;
  let branch: string | null = null;
  const changes: string[] = [];
  const fields = r.stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.startsWith('# branch.oid ')) head = /^[0-9a-f]{40,64}$/.test(f.slice(13)) ? f.slice(13) : null;
    else if (f.startsWith('# branch.head ')) branch = f.slice(14) === '(detached)' ? null : f.slice(14);
    else if (f.startsWith('1 ') || f.startsWith('u ')) changes.push(f.split(' ').slice(f.startsWith('1 ') ? 8 : 10).join(' '));
    else if (f.startsWith('2 ')) {
      changes.push(f.split(' ').slice(9).join(' '));
      i++; // the rename's original path
    } else if (f.startsWith('? ')) changes.push(f.slice(2));
  }
  const gitDir = gitRun(['rev-parse', '--absolute-git-dir'], { cwd: dir }).stdout.trim();
  for (const [marker, what] of [['MERGE_HEAD', 'merge'], ['rebase-merge', 'rebase'], ['rebase-apply', 'rebase'], ['CHERRY_PICK_HEAD', 'cherry-pick'], ['REVERT_HEAD', 'revert'], ['BISECT_LOG', 'bisect']] as const) {
    if (gitDir && fs.existsSync(path.join(gitDir, marker))) changes.push(`(${what} in progress)`);
  }
  return { head, branch, changes };
}

/** Whether some branch, remote-tracking branch or tag holds `commit` (so removing a worktree loses nothing). */
export function heldByARef(dir: string, commit: string): boolean {
  const r = gitRun(['for-each-ref', '--count=1', '--format=%(refname)', '--contains', commit, 'refs/heads/', 'refs/remotes/', 'refs/tags/'], { cwd: dir });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** The HEAD commit of the worktree at `dir`, or null. */
export function headOf(dir: string): string | null {
  const r = gitRun(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: dir });
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

/** Whether `p` is a folder (following a symlink). */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether anything is at `p`, a dangling symlink included. */
export function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** `p` with symlinks resolved, or just absolute when it does not exist. */
export function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Whether two paths name the same place. */
export function samePath(a: string, b: string): boolean {
  return realPath(a) === realPath(b);
}
