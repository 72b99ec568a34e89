import { git, gitRun } from '../git/exec.js';
import type { Repo } from '../git/repo.js';
import type { ConfigRecord } from './manifest.js';

/** A git config value omni-ship wants in the repository's local config. */
export interface WantedConfig {
  key: string;
  value: string;
  /** add: append to a multi-valued key; set: replace */
  how: 'add' | 'set';
  why: string;
}

/**
 * What install-hooks sets. notes.displayRef makes `git log` show omni-ship's notes. notes.rewriteRef with
 * cat_sort_uniq makes amend and rebase carry the patchset log to the new commit; reviews and attempts are
 * deliberately not carried, so a new patchset starts with a clean slate (as Gerrit resets votes).
 */
export const WANTED_CONFIG: readonly WantedConfig[] = [
  { key: 'notes.displayRef', value: 'refs/notes/omni-ship/*', how: 'add', why: 'git log shows omni-ship notes' },
  // a glob: with a plain name, git warns "notes ref … is invalid" on every amend until the ref exists
  { key: 'notes.rewriteRef', value: 'refs/notes/omni-ship/patchsets*', how: 'add', why: 'amend and rebase carry patchset notes' },
  { key: 'notes.rewriteMode', value: 'cat_sort_uniq', how: 'set', why: 'carried notes merge as a set union' },
];

/** One config change install-hooks makes (printed by --dry-run). */
export interface ConfigChange {
  key: string;
  value: string;
  how: 'add' | 'set';
  previous: string[];
  newSection: boolean;
}

/** The planned config changes plus the records of earlier installs that still stand. */
export interface ConfigPlan {
  changes: ConfigChange[];
  kept: ConfigRecord[];
}

function localValues(repo: Repo, key: string): string[] {
  const out = git(['config', '--local', '--null', '--get-all', key], { cwd: repo.commonDir, okCodes: [1] });
  return out.split('\0').filter((v, i, all) => i < all.length - 1 || v !== '');
}

function sectionExists(repo: Repo, key: string): boolean {
  const section = key.slice(0, key.lastIndexOf('.'));
  const r = gitRun(['config', '--local', '--name-only', '--get-regexp', `^${section.replace(/\./g, '\\.')}\\.`], { cwd: repo.commonDir });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** Works out which wanted values are missing, remembering what each key held before. */
export function planConfigChanges(repo: Repo, earlier: readonly ConfigRecord[]): ConfigPlan {
  const changes: ConfigChange[] = [];
  const kept: ConfigRecord[] = [];
  for (const want of WANTED_CONFIG) {
    const values = localValues(repo, want.key);
    const record = earlier.find((r) => r.key === want.key && r.value === want.value);
    const satisfied = want.how === 'add' ? values.includes(want.value) : values.length === 1 && values[0] === want.value;
    if (satisfied) {
      // set by an earlier install: keep the record so uninstall still undoes it; set by the user: not ours to undo
      if (record) kept.push(record);
      continue;
    }
    changes.push({ key: want.key, value: want.value, how: want.how, previous: values, newSection: !sectionExists(repo, want.key) });
  }
  return { changes, kept };
}

/** Applies planned changes; returns every record uninstall needs. */
export function applyConfigChanges(repo: Repo, plan: ConfigPlan): ConfigRecord[] {
  const records = [...plan.kept];
  for (const c of plan.changes) {
    if (c.how === 'add') git(['config', '--local', '--add', c.key, c.value], { cwd: repo.commonDir });
    else git(['config', '--local', '--replace-all', c.key, c.value], { cwd: repo.commonDir });
    records.push({ key: c.key, value: c.value, how: c.how, previous: c.previous, newSection: c.newSection });
  }
  return records;
}

/**
 * The recorded `set` changes whose key the user changed after install (it no longer holds exactly our value):
 * the user's value wins, so uninstall leaves those keys alone. An `add` value the user removed is simply gone.
 */
export function configChangedSinceInstall(repo: Repo, records: readonly ConfigRecord[]): ConfigRecord[] {
  return records.filter((r) => {
    if (r.how !== 'set') return false;
    const now = localValues(repo, r.key);
    return !(now.length === 1 && now[0] === r.value);
  });
}

/**
 * Undoes recorded config changes, newest first, except those the user changed since (configChangedSinceInstall),
 * and drops sections install created once they are empty.
 */
export function revertConfig(repo: Repo, records: readonly ConfigRecord[]): void {
  const changed = new Set(configChangedSinceInstall(repo, records));
  for (const r of [...records].reverse()) {
    if (changed.has(r)) continue;
    if (r.how === 'add') {
      git(['config', '--local', '--fixed-value', '--unset-all', r.key, r.value], { cwd: repo.commonDir, okCodes: [5] });
    } else if (r.previous.length === 1) {
      // replaced where it stands: unset-then-add would move the user's line to the end of the section
      git(['config', '--local', '--replace-all', r.key, r.previous[0]!], { cwd: repo.commonDir });
    } else {
      git(['config', '--local', '--unset-all', r.key], { cwd: repo.commonDir, okCodes: [5] });
      for (const v of r.previous) git(['config', '--local', '--add', r.key, v], { cwd: repo.commonDir });
    }
  }
  for (const r of records) {
    if (!r.newSection || sectionExists(repo, r.key)) continue;
    const section = r.key.slice(0, r.key.lastIndexOf('.'));
    gitRun(['config', '--local', '--remove-section', section], { cwd: repo.commonDir });
  }
}
