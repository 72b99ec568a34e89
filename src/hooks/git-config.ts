import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { git, gitRun } from '../git/exec.js';
import type { Repo } from '../git/repo.js';
import { DISPLAY_REF } from '../notes/refs.js';
import type { ConfigFileRecord, ConfigRecord, Manifest } from './manifest.js';

/** A git config value omni-ship wants in the repository's local config. */
export interface WantedConfig {
  key: string;
  value: string;
  /** add: append to a multi-valued key; set: replace */
  how: 'add' | 'set';
  why: string;
}

/**
 * What install-hooks sets. notes.displayRef makes `git log` show the short human-readable note of a landed commit,
 * and only that: the JSON-lines logs stay one `--notes=refs/notes/omni-ship/<log>` away. notes.rewriteRef with
 * cat_sort_uniq makes amend and rebase carry the patchset log to the new commit; reviews and attempts are
 * deliberately not carried, so a new patchset starts with a clean slate (as Gerrit resets votes).
 *
 * A value an earlier version added and this one no longer lists (`notes.displayRef refs/notes/omni-ship/*`, which
 * made `git log` print every JSON line) is taken out by the next install-hooks, as its manifest records it.
 */
export const WANTED_CONFIG: readonly WantedConfig[] = [
  { key: 'notes.displayRef', value: DISPLAY_REF, how: 'add', why: 'git log shows the landed note' },
  // a glob: with a plain name, git warns "notes ref … is invalid" on every amend until the ref exists
  { key: 'notes.rewriteRef', value: 'refs/notes/omni-ship/patchsets*', how: 'add', why: 'amend and rebase carry patchset notes' },
  { key: 'notes.rewriteMode', value: 'cat_sort_uniq', how: 'set', why: 'carried notes merge as a set union' },
];

/** One config change install-hooks makes (printed by --dry-run). */
export interface ConfigChange {
  key: string;
  value: string;
  /** unset: take out a value an earlier install added that this version no longer wants */
  how: 'add' | 'set' | 'unset';
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

/**
 * Works out which wanted values are missing, remembering what each key held before, and which values earlier
 * installs added that this version no longer wants (they go first, so the values recorded as "before" are the
 * user's own).
 */
export function planConfigChanges(repo: Repo, earlier: readonly ConfigRecord[]): ConfigPlan {
  const changes: ConfigChange[] = [];
  const kept: ConfigRecord[] = [];
  const retired = earlier.filter((r) => r.how === 'add' && !WANTED_CONFIG.some((w) => w.how === 'add' && w.key === r.key && w.value === r.value));
  for (const r of retired) {
    const values = localValues(repo, r.key);
    // the user took it out already: nothing to do, and nothing of ours left to record
    if (values.includes(r.value)) changes.push({ key: r.key, value: r.value, how: 'unset', previous: values, newSection: false });
  }
  for (const want of WANTED_CONFIG) {
    const gone = new Set(changes.filter((c) => c.how === 'unset' && c.key === want.key).map((c) => c.value));
    const values = localValues(repo, want.key).filter((v) => !gone.has(v));
    const record = earlier.find((r) => r.key === want.key && r.value === want.value);
    const satisfied = want.how === 'add' ? values.includes(want.value) : values.length === 1 && values[0] === want.value;
    if (satisfied) {
      // set by an earlier install: keep the record so uninstall still undoes it; set by the user: not ours to undo
      if (record) kept.push(record);
      continue;
    }
    // a section an earlier install created stays ours to remove, though the retired value still keeps it alive here
    const inherited = retired.some((r) => r.key === want.key && r.newSection);
    changes.push({ key: want.key, value: want.value, how: want.how, previous: values, newSection: inherited || !sectionExists(repo, want.key) });
  }
  return { changes, kept };
}

/** Applies planned changes; returns every record uninstall needs (a retired value leaves none: it is gone). */
export function applyConfigChanges(repo: Repo, plan: ConfigPlan): ConfigRecord[] {
  const records = [...plan.kept];
  for (const c of plan.changes) {
    if (c.how === 'unset') {
      git(['config', '--local', '--fixed-value', '--unset-all', c.key, c.value], { cwd: repo.commonDir, okCodes: [5] });
      continue;
    }
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

/** The repository's local config file, the one `git config --local` writes. */
export function localConfigFile(repo: Pick<Repo, 'commonDir'>): string {
  return path.join(repo.commonDir, 'config');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readBytes(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The local config file's bytes from before omni-ship's first install, read before this install changes anything:
 * the file as it is when no install recorded a change to it; the earlier install's saved bytes while the file is
 * still exactly what that install left; otherwise null (the file changed between installs, so no byte copy can be
 * given back without losing that change, and uninstall undoes the recorded keys one by one instead).
 */
export function configBytesBeforeInstall(repo: Pick<Repo, 'commonDir'>, previous: Manifest | null): Buffer | null {
  const now = readBytes(localConfigFile(repo));
  // no recorded change (nothing installed, or an uninstall that left only edited hooks behind): nothing of
  // omni-ship's is in the file
  if (!previous || previous.gitConfig.length === 0) return now;
  const earlier = previous.configFile;
  if (!earlier || now === null || sha256(now) !== earlier.after) return null;
  return Buffer.from(earlier.before, 'base64');
}

/** The record of the config file's bytes, taken once install has applied its config changes. */
export function recordConfigFile(repo: Pick<Repo, 'commonDir'>, before: Buffer | null): ConfigFileRecord | undefined {
  const file = localConfigFile(repo);
  const after = before === null ? null : readBytes(file);
  if (before === null || after === null) return undefined;
  return { path: file, before: before.toString('base64'), after: sha256(after) };
}

/**
 * Writes the config file's bytes from before the first install back, if the file is still exactly what the latest
 * install left (so nothing but omni-ship's own lines differ, and they are in the user's own spelling). Returns
 * false, changing nothing, when it is not.
 */
export function restoreConfigFile(record: ConfigFileRecord | undefined): boolean {
  if (!record) return false;
  const now = readBytes(record.path);
  if (now === null || sha256(now) !== record.after) return false;
  // git's own lock file: a git process writing the config at this moment makes this fail rather than be overwritten
  const lock = `${record.path}.lock`;
  const mode = fs.statSync(record.path).mode & 0o7777;
  try {
    fs.writeFileSync(lock, Buffer.from(record.before, 'base64'), { flag: 'wx', mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new UserError(`${lock} exists: another git process is changing the config`, ExitCode.conflict, 'run uninstall-hooks again once it is done');
  }
  fs.chmodSync(lock, mode);
  fs.renameSync(lock, record.path);
  return true;
}

/**
 * Where the effective core.hooksPath comes from, for a hint on how to change it: its scope (`local`, `global`,
 * `system`, `worktree`, `command`) and origin (`file:<path>`, `command line:`), or null when it is not set.
 */
export function hooksPathOrigin(cwd: string): { scope: string; origin: string } | null {
  const r = gitRun(['config', '--show-origin', '--show-scope', '--null', '--get', 'core.hooksPath'], { cwd });
  if (r.exitCode !== 0) return null;
  const [scope, origin] = r.stdout.split('\0');
  return scope ? { scope, origin: origin ?? '' } : null;
}
