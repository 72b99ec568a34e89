import fs from 'node:fs';
import path from 'node:path';
import { stateDir, type WorkRepo } from '../git/repo.js';
import { configChangedSinceInstall, restoreConfigFile, revertConfig } from './git-config.js';
import { BRANCH_TASK_CACHE, CREATED_SHEBANG, exists, isOurs, withoutBlock, worktreeStateDirs, writeKeepingMode } from './install.js';
import { readManifest, type Manifest } from './manifest.js';

/** One thing uninstall-hooks did, or could not do. */
export interface UninstallStep {
  path: string;
  did: 'removed' | 'restored' | 'removed-block' | 'deleted-created-file' | 'left-alone' | 'config-restored';
  note?: string;
}

/** The result of uninstall-hooks. */
export interface UninstallResult {
  installed: boolean;
  steps: UninstallStep[];
  /** files left alone because someone changed them after install */
  conflicts: string[];
  dryRun: boolean;
}

/** Undoes exactly what install-hooks recorded in its manifest. */
export function uninstallHooks(repo: WorkRepo, opts: { dryRun: boolean }): UninstallResult {
  const dir = stateDir(repo);
  const manifest = readManifest(dir);
  if (!manifest) return { installed: false, steps: [], conflicts: [], dryRun: opts.dryRun };
  const steps: UninstallStep[] = [];
  const conflicts: string[] = [];
  const act = (fn: () => void) => {
    if (!opts.dryRun) fn();
  };
  for (const hook of manifest.hooks) {
    if (hook.mode === 'file') {
      if (exists(hook.path) && !isOurs(hook.path)) {
        conflicts.push(hook.path);
        steps.push({ path: hook.path, did: 'left-alone', note: 'changed since install; not omni-ship’s any more' });
        if (hook.chained && exists(hook.chained)) steps.push({ path: hook.chained, did: 'left-alone', note: `the hook that was at ${hook.path} before omni-ship` });
        continue;
      }
      if (exists(hook.path)) {
        act(() => fs.unlinkSync(hook.path));
        steps.push({ path: hook.path, did: 'removed' });
      }
      if (hook.chained && exists(hook.chained)) {
        act(() => fs.renameSync(hook.chained!, hook.path));
        steps.push({ path: hook.path, did: 'restored', note: `from ${hook.chained}` });
      }
    } else {
      if (exists(hook.path)) {
        const text = fs.readFileSync(hook.path, 'utf8');
        const rest = withoutBlock(text);
        if (hook.written !== undefined && text === hook.written) {
          // untouched since install: give back exactly what was there (or nothing)
          if (hook.created || hook.original === null || hook.original === undefined) {
            act(() => fs.unlinkSync(hook.path));
            steps.push({ path: hook.path, did: 'deleted-created-file' });
          } else {
            const original = hook.original;
            act(() => writeKeepingMode(hook.path, original));
            steps.push({ path: hook.path, did: 'removed-block' });
          }
        } else if (rest === null) {
          steps.push({ path: hook.path, did: 'left-alone', note: 'omni-ship’s block is no longer in it' });
        } else if (hook.created && (rest === CREATED_SHEBANG || rest === '')) {
          act(() => fs.unlinkSync(hook.path));
          steps.push({ path: hook.path, did: 'deleted-created-file' });
        } else {
          act(() => writeKeepingMode(hook.path, rest));
          steps.push({ path: hook.path, did: 'removed-block' });
        }
      }
      if (exists(hook.script)) {
        act(() => fs.unlinkSync(hook.script));
        steps.push({ path: hook.script, did: 'removed' });
      }
    }
  }
  const changedConfig = configChangedSinceInstall(repo, manifest.gitConfig);
  for (const record of manifest.gitConfig) {
    if (changedConfig.includes(record)) {
      steps.push({ path: record.key, did: 'left-alone', note: `git config ${record.key} changed since install-hooks set it` });
      conflicts.push(`git config ${record.key}`);
    } else steps.push({ path: record.key, did: 'config-restored' });
  }
  act(() => {
    restoreConfig(repo, manifest);
    fs.rmSync(path.join(dir, 'install.json'), { force: true });
    removeEmptyDir(path.join(dir, 'chained'));
    removeEmptyDir(path.join(dir, 'hooks'));
    if (manifest.createdHooksDir) removeEmptyDir(manifest.hooksDir);
    removeSettingsCaches(repo);
  });
  return { installed: true, steps, conflicts, dryRun: opts.dryRun };
}

/** Gives the config file back byte for byte when nothing changed it since install, else undoes the recorded keys. */
function restoreConfig(repo: WorkRepo, manifest: Manifest): void {
  if (restoreConfigFile(manifest.configFile)) return;
  revertConfig(repo, manifest.gitConfig);
}

function removeEmptyDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* not empty, or not there */
  }
}

/** Removes the settings caches the hooks keep in every worktree's git dir. */
function removeSettingsCaches(repo: WorkRepo): void {
  for (const dir of worktreeStateDirs(repo)) {
    fs.rmSync(path.join(dir, 'hook-config.sh'), { force: true });
    fs.rmSync(path.join(dir, BRANCH_TASK_CACHE), { force: true });
    removeEmptyDir(dir);
  }
}
