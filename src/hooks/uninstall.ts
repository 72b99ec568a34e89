import fs from 'node:fs';
import path from 'node:path';
import { stateDir, type WorkRepo } from '../git/repo.js';
import { configChangedSinceInstall, restoreConfigFile, revertConfig } from './git-config.js';
import { CREATED_SHEBANG, withoutBlock } from './block.js';
import { blockHint, blockState, changedReason, ownFileState, scriptHint, uninstallFileHint, type OwnFileState } from './edits.js';
import { BRANCH_TASK_CACHE, exists, isOurs, worktreeStateDirs, writeKeepingMode } from './install.js';
import { manifestPath, readManifest, writeManifest, type Manifest } from './manifest.js';
import { renderBlock, type HookName } from './templates.js';

/** One thing uninstall-hooks did, or could not do. */
export interface UninstallStep {
  path: string;
  did: 'removed' | 'restored' | 'removed-block' | 'deleted-created-file' | 'left-alone' | 'config-restored';
  note?: string;
  /** for a file left alone because someone changed it: what to do, and which command to run again */
  hint?: string;
}

/** The result of uninstall-hooks. */
export interface UninstallResult {
  installed: boolean;
  steps: UninstallStep[];
  /** files (and `git config <key>`s) left alone because someone changed them after install */
  conflicts: string[];
  dryRun: boolean;
}

/**
 * What this version would write for a hook: for installs by versions that recorded no hashes, a file counts as
 * omni-ship's only when it holds exactly that. Null when it cannot be worked out (an invalid config).
 */
export type HookRender = (name: HookName, chained: string | null) => string | null;

/**
 * Undoes exactly what install-hooks recorded in its manifest. A file omni-ship wrote that someone changed since is
 * left as it is with what belongs to it (the chained hook, the block's script), and stays in the manifest, so
 * running uninstall-hooks again once the user has dealt with it finishes the job.
 */
export function uninstallHooks(repo: WorkRepo, opts: { dryRun: boolean; render?: HookRender }): UninstallResult {
  const dir = stateDir(repo);
  const manifest = readManifest(dir);
  if (!manifest) return { installed: false, steps: [], conflicts: [], dryRun: opts.dryRun };
  const render: HookRender = opts.render ?? (() => null);
  const steps: UninstallStep[] = [];
  const conflicts: string[] = [];
  const kept: Manifest['hooks'] = [];
  const act = (fn: () => void) => {
    if (!opts.dryRun) fn();
  };
  const leave = (file: string, why: Exclude<OwnFileState, 'untouched'>, hint: string) => {
    conflicts.push(file);
    steps.push({ path: file, did: 'left-alone', note: changedReason(why), hint });
  };
  for (const hook of manifest.hooks) {
    if (hook.mode === 'file') {
      if (exists(hook.path) && !isOurs(hook.path)) {
        conflicts.push(hook.path);
        steps.push({ path: hook.path, did: 'left-alone', note: 'changed since install; not omni-ship’s any more' });
        if (hook.chained && exists(hook.chained)) steps.push({ path: hook.chained, did: 'left-alone', note: `the hook that was at ${hook.path} before omni-ship` });
        continue;
      }
      const state = exists(hook.path) ? ownFileState(hook.path, hook.sha256, hook.sha256 ? null : render(hook.name, hook.chained)) : 'untouched';
      if (state !== 'untouched') {
        const chained = hook.chained && exists(hook.chained) ? hook.chained : null;
        leave(hook.path, state, uninstallFileHint(hook.path, state, chained));
        if (chained) steps.push({ path: chained, did: 'left-alone', note: `the hook that was at ${hook.path} before omni-ship` });
        kept.push(hook);
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
      const text = exists(hook.path) ? fs.readFileSync(hook.path, 'utf8') : null;
      const block = text === null || text === hook.written ? 'untouched' : blockState(text, hook.written ?? null, renderBlock(hook.name));
      const script = exists(hook.script) ? ownFileState(hook.script, hook.scriptSha256, hook.scriptSha256 ? null : render(hook.name, null)) : 'untouched';
      if (block === 'edited' || block === 'unrecorded' || script !== 'untouched') {
        // the block and the script it calls go together: an edited block keeps working until the user takes it out
        if (block === 'edited' || block === 'unrecorded') leave(hook.path, block, blockHint(hook.path, 'uninstall-hooks'));
        if (script !== 'untouched') leave(hook.script, script, scriptHint(hook.script, hook.path, script, 'uninstall-hooks'));
        kept.push(hook);
        continue;
      }
      if (text !== null) {
        const rest = withoutBlock(text);
        if (text === hook.written) {
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
    // what is left stays recorded (the config is done): uninstall-hooks again finishes once the user dealt with it
    if (kept.length) writeManifest(dir, { ...manifest, hooks: kept, gitConfig: [], configFile: undefined });
    else fs.rmSync(manifestPath(dir), { force: true });
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
