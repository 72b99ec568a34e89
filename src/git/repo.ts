import fs from 'node:fs';
import path from 'node:path';
import { badInput } from '../errors.js';
import { gitRun } from './exec.js';

/** Where a repository's parts are, all absolute paths. */
export interface Repo {
  /** the directory the command was run from */
  cwd: string;
  /** the worktree root; null in a bare repository */
  toplevel: string | null;
  /** this worktree's git dir (`.git`, or `.git/worktrees/<name>` in a linked worktree) */
  gitDir: string;
  /** the git dir shared by every worktree (holds refs, objects, config, hooks) */
  commonDir: string;
  isBare: boolean;
  /** the hooks directory git really uses (honours core.hooksPath) */
  hooksDir: string;
}

/** Finds the repository that contains cwd, or returns null when cwd is not inside one. */
export function findRepo(cwd: string): Repo | null {
  const asked = [['--git-dir'], ['--git-common-dir'], ['--git-path', 'hooks'], ['--is-bare-repository'], ['--show-toplevel']];
  const r = gitRun(['rev-parse', '--path-format=absolute', ...asked.flat()], { cwd });
  let lines = r.stdout.split('\n');
  // one value a line: a path holding a newline gives more lines than values (--show-toplevel fails outside a work
  // tree, after printing the rest). rev-parse has no -z, so then each value is asked for on its own
  if (lines.length > (r.exitCode === 0 ? asked.length : asked.length - 1) + 1) {
    lines = asked.map((a) => {
      const one = gitRun(['rev-parse', '--path-format=absolute', ...a], { cwd });
      return one.exitCode === 0 ? one.stdout.replace(/\n$/, '') : '';
    });
  }
  const [gitDir, commonDir, hooksDir, bare, toplevel] = lines;
  if (!gitDir || !commonDir || !hooksDir || !bare) {
    if (/not a git repository/i.test(r.stderr)) return null;
    if (/cannot change to|No such file/i.test(r.stderr)) throw badInput(`cannot use ${cwd}: no such directory`);
    if (r.exitCode !== 0) return null;
  }
  const isBare = bare === 'true';
  return {
    cwd,
    toplevel: isBare || !toplevel ? null : toplevel,
    gitDir: gitDir!,
    commonDir: commonDir!,
    isBare,
    hooksDir: hooksDir!,
  };
}

/**
 * The work tree repository around `cwd` found as git finds it, with the file system alone (no process): the
 * nearest directory with a `.git` directory or `.git` file (a linked worktree), its git dir and common dir. Null
 * whenever git could see it otherwise: GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR or a discovery limit set, a bare
 * repository, anything unexpected on the way; the caller then asks git (findRepo). git still has the last word:
 * a repository git refuses (safe.directory) fails the caller's next git command, which falls back the same way.
 */
export function discoverWorkRepo(cwd: string): Pick<Repo, 'cwd' | 'toplevel' | 'gitDir' | 'commonDir'> | null {
  const env = process.env;
  if (env.GIT_DIR || env.GIT_WORK_TREE || env.GIT_COMMON_DIR || env.GIT_CEILING_DIRECTORIES || env.GIT_DISCOVERY_ACROSS_FILESYSTEM) return null;
  // a status asks four times (the ref snapshot, the config and its two defaults): a repository found before holds
  // while the .git entry and the config files it was judged by are the very same files (two stats, not the walk)
  // (cwd the top of the work tree itself, or below it by name: no .git can have come between unseen)
  const known = discovered.get(cwd);
  if (known && known.stamp === discoveryStamp(known.files)) return known.repo;
  const repo = discoverAgain(cwd);
  if (repo?.toplevel && (cwd === repo.toplevel || cwd.startsWith(`${repo.toplevel}${path.sep}`))) {
    const files = [path.join(repo.toplevel, '.git'), path.join(repo.commonDir, 'config'), path.join(repo.gitDir, 'config.worktree')];
    for (let d = cwd; d !== repo.toplevel; d = path.dirname(d)) files.push(path.join(d, '.git'));
    discovered.set(cwd, { repo, files, stamp: discoveryStamp(files) });
  }
  return repo;
}

const discovered = new Map<string, { repo: Pick<Repo, 'cwd' | 'toplevel' | 'gitDir' | 'commonDir'>; files: string[]; stamp: string }>();

/** The identity of files as they are now (a file written again has a new change time; a missing one says so). */
function discoveryStamp(files: readonly string[]): string {
  let stamp = '';
  for (const f of files) {
    try {
      const st = fs.statSync(f, { throwIfNoEntry: false });
      stamp += st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs};` : '-;';
    } catch {
      stamp += '!;'; // a path through what is no directory now (.git made a file)
    }
  }
  return stamp;
}

function discoverAgain(cwd: string): Pick<Repo, 'cwd' | 'toplevel' | 'gitDir' | 'commonDir'> | null {
  let dir: string;
  try {
    dir = fs.realpathSync(cwd);
  } catch {
    return null;
  }
  for (;;) {
    const dotGit = path.join(dir, '.git');
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(dotGit);
    } catch {
      st = null;
    }
    if (st) {
      try {
        let gitDir = dotGit;
        if (st.isFile()) {
          // git reads the whole file as `gitdir: <path>`, dropping only trailing line ends (setup.c read_gitfile_gently)
          const m = /^gitdir: ([^\r\n]+)[\r\n]*$/.exec(fs.readFileSync(dotGit, 'utf8'));
          if (!m?.[1]) return null;
          gitDir = fs.realpathSync(path.resolve(dir, m[1]));
        } else if (!st.isDirectory()) return null;
        if (!fs.statSync(path.join(gitDir, 'HEAD')).isFile()) return null;
        let commonDir = gitDir;
        try {
          commonDir = fs.realpathSync(path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim()));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
        }
        if (!fs.statSync(path.join(commonDir, 'objects')).isDirectory()) return null;
        // a bare repository, or one whose work tree is elsewhere, is git's to judge
        if (setsWorkTreeElsewhere(fs.readFileSync(path.join(commonDir, 'config'), 'utf8'))) return null;
        if (setsWorkTreeElsewhere(readIfExists(path.join(gitDir, 'config.worktree')))) return null;
        return { cwd, toplevel: dir, gitDir, commonDir };
      } catch {
        return null;
      }
    }
    // git takes a directory that is itself a git dir (inside .git, a bare repository) as one with no work tree
    if (looksLikeGitDir(dir)) return null;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Whether `dir` has what git's is_git_directory looks for first: a HEAD beside objects/ or a commondir file. */
function looksLikeGitDir(dir: string): boolean {
  if (!fs.existsSync(path.join(dir, 'HEAD'))) return false;
  return fs.existsSync(path.join(dir, 'objects')) || fs.existsSync(path.join(dir, 'commondir'));
}

/** A file's text, or '' when it does not exist (any other error throws). */
function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/**
 * Whether a config text may set core.worktree, or core.bare to anything but false (git's booleans: `bare`, `yes`,
 * `1`, `on`, …). Keys are matched in any section: a false positive only costs the fast path.
 */
function setsWorkTreeElsewhere(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^\[[^\]]*\]\s*/, '');
    if (!/^(bare|worktree)\b/i.test(line)) continue;
    if (/^bare\s*=\s*(false|no|off|0)\s*([#;].*)?$/i.test(line)) continue;
    return true;
  }
  return false;
}

/** Like findRepo, but a missing repository is a user error (exit 2). */
export function requireRepo(cwd: string): Repo {
  const repo = findRepo(cwd);
  if (!repo) {
    throw badInput(`not a git repository: ${cwd}`, 'run omni-ship inside a repository, or pass -C <path>');
  }
  return repo;
}

/** A repository with a work tree; a bare repository is a user error (exit 2). */
export interface WorkRepo extends Repo {
  toplevel: string;
}

/** Like requireRepo, but also refuses a bare repository, which has no commits of its own to tag. */
export function requireWorkRepo(cwd: string): WorkRepo {
  const repo = requireRepo(cwd);
  if (!repo.isBare && !repo.toplevel) {
    throw badInput(`${cwd} is inside the git directory, not the work tree`, `run omni-ship from the work tree (cd ${path.dirname(repo.commonDir)})`);
  }
  if (repo.isBare || !repo.toplevel) {
    throw badInput(
      `${repo.gitDir} is a bare repository: omni-ship needs a work tree`,
      'run it in a clone of this repository (git clone <bare> <dir>)',
    );
  }
  return repo as WorkRepo;
}

/** The directory where omni-ship keeps machine-local files for this repository. */
export function stateDir(repo: Pick<Repo, 'commonDir'>): string {
  return path.join(repo.commonDir, 'omni-ship');
}

/** True when `child` is `parent` or lies inside it. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
