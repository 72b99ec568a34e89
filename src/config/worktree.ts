import { describe, isObject } from './values.js';

/** The `worktree` settings: where `omni-ship worktree start` puts a task's worktree, and what it links into it. */

/** The validated, defaulted `worktree` object. */
export interface WorktreeConfig {
  /** the folder that holds one worktree per task (relative: to the top of the main work tree); null: `<repo>/../<repo-name>.worktrees` */
  dir: string | null;
  /** folders of the main work tree symlinked into each new worktree (node_modules), relative paths */
  linkDirs: string[];
}

/** The defaults of every `worktree` key. */
export const WORKTREE_DEFAULTS: WorktreeConfig = { dir: null, linkDirs: [] };

/** What each `worktree` key holds, for messages and the README. */
export const WORKTREE_KEYS: Record<keyof WorktreeConfig, string> = {
  dir: 'the folder of the task worktrees, relative to the repository top or absolute (default: <repo>/../<repo-name>.worktrees)',
  linkDirs: 'folders of the main work tree symlinked into each new worktree, e.g. [node_modules] (default [])',
};


/** One path segment omni-ship puts into a file name or a branch name: letters, digits, `.`, `_`, `-`; not `.` or `..`. */
export function isSafeSegment(s: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(s) && !s.includes('..') && s !== '.' && !s.startsWith('-');
}

/** Why `name` cannot be a linked folder (a relative path of safe segments, never into .git), or null. */
export function linkDirProblem(name: string): string | null {
  const parts = name.split('/');
  if (name === '' || parts.some((p) => !isSafeSegment(p))) {
    return `${JSON.stringify(name)} must be a relative path of letters, digits, '.', '_' and '-' separated by '/' (no '..', no leading or trailing '/')`;
  }
  if (parts.some((p) => p.toLowerCase() === '.git')) return `${JSON.stringify(name)} names git's own folder`;
  return null;
}

/** Why `value` is not a valid `worktree` object, or null; names the sub-key. */
export function worktreeProblem(value: unknown): string | null {
  if (!isObject(value)) return `must be an object of worktree settings, not ${describe(value)}`;
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(WORKTREE_DEFAULTS, key)) return `has an unknown key '${key}' (known: ${Object.keys(WORKTREE_DEFAULTS).join(', ')})`;
    if (key === 'dir') {
      if (v === null) continue;
      if (typeof v !== 'string' || v.trim() === '') return `dir must be a folder path or null, not ${describe(v)}`;
      // a line end or NUL cannot be passed to git as a path (and would be a typo anyway)
      if (/[\0\n\r]/.test(v)) return 'dir must not hold a line end or NUL';
    } else if (key === 'linkDirs') {
      if (!Array.isArray(v)) return `linkDirs must be a list of folder names, not ${describe(v)}`;
      for (const item of v) {
        if (typeof item !== 'string') return `linkDirs must hold strings, not ${describe(item)}`;
        const p = linkDirProblem(item);
        if (p) return `linkDirs: ${p}`;
      }
      if (new Set(v).size !== v.length) return 'linkDirs lists a folder twice';
    }
  }
  return null;
}

/** The validated `worktree` object with every missing key defaulted (call worktreeProblem first). */
export function worktreeWithDefaults(value: unknown): WorktreeConfig {
  const v = (isObject(value) ? value : {}) as Partial<WorktreeConfig>;
  return { dir: v.dir ?? null, linkDirs: [...(v.linkDirs ?? [])] };
}
