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
