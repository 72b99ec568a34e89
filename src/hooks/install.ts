import fs from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { isInside, stateDir, type WorkRepo } from '../git/repo.js';
import { entryPoint, packageVersion } from '../paths.js';
import { CREATED_SHEBANG, withBlock } from './block.js';
import { blockHint, blockState, ownFileState, reinstallFileHint, scriptHint, sha256, type OwnFileState } from './edits.js';
import {
  applyConfigChanges,
  configBytesBeforeInstall,
  hooksPathOrigin,
  planConfigChanges,
  recordConfigFile,
  type ConfigChange,
} from './git-config.js';
import type { BlockHookRecord, FileHookRecord, Manifest } from './manifest.js';
import { readManifest, writeManifest } from './manifest.js';
import { writeHookSettings } from './settings.js';
import { HOOK_MARKER, HOOK_NAMES, renderBlock, renderHook, type HookName } from './templates.js';

/** One change install-hooks makes; `--dry-run` prints these instead of making them. */
export type InstallAction =
  | { kind: 'move'; from: string; to: string; hook: HookName }
  | { kind: 'write'; path: string; hook: HookName; replaces: 'nothing' | 'omni-ship' }
  | { kind: 'block'; path: string; hook: HookName; created: boolean }
  | { kind: 'config'; change: ConfigChange };

/** Where and how the hooks go. */
export interface HookLayout {
  /** the directory git runs hooks from */
  hooksDir: string;
  /** file: omni-ship's own files in hooksDir; block: a block inside the files of blockDir */
  mode: 'file' | 'block';
  /** where the hook files that get a block live (husky: `.husky`, not `.husky/_`) */
  blockDir: string | null;
  husky: boolean;
}

/** Decides where hooks go, refusing a hooks directory outside the repository. */
export function hookLayout(repo: WorkRepo): HookLayout {
  const hooksDir = repo.hooksDir;
  if (isInside(hooksDir, repo.commonDir) || isInside(hooksDir, repo.gitDir)) {
    return { hooksDir, mode: 'file', blockDir: null, husky: false };
  }
  if (isInside(hooksDir, repo.toplevel)) {
    // husky 9 points core.hooksPath at .husky/_, whose generated shims run .husky/<hook>: write there
    const husky = path.basename(hooksDir) === '_' && path.basename(path.dirname(hooksDir)) === '.husky';
    return { hooksDir, mode: 'block', blockDir: husky ? path.dirname(hooksDir) : hooksDir, husky };
  }
  throw badInput(
    `core.hooksPath is ${hooksDir}, outside this repository; omni-ship only writes hooks inside the repository`,
    `${hooksPathHint(repo.toplevel)}, then run install-hooks again`,
  );
}

/** How to move core.hooksPath into the repository: unsetting it only helps in the scope that sets it. */
function hooksPathHint(cwd: string): string {
  const into = 'point it into this repository (git config core.hooksPath .githooks; a local value wins over the others)';
  const where = hooksPathOrigin(cwd);
  const file = where?.origin.startsWith('file:') ? ` in ${where.origin.slice('file:'.length)}` : '';
  switch (where?.scope) {
    case 'local':
      return `${into} or unset it (git config --unset core.hooksPath)`;
    case 'global':
    case 'system':
    case 'worktree':
      return `it is set in the ${where.scope} config${file}: ${into}, or unset it there (git config --${where.scope} --unset core.hooksPath)`;
    case 'command':
      return 'it is set for this command only (git -c, or GIT_CONFIG_PARAMETERS/GIT_CONFIG_COUNT in the environment): run without it';
    default:
      return `${into}; git config --show-origin --show-scope core.hooksPath says where it is set`;
  }
}

/** Where a foreign hook is kept while omni-ship's runs in its place: beside it, so its relative paths still resolve. */
export function chainedPath(hooksDir: string, name: HookName): string {
  return path.join(hooksDir, `${name}.omni-ship-chained`);
}

/** True when `file` is a hook omni-ship wrote (it carries omni-ship's marker line). */
export function isOurs(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, 512, 0);
      return buf.subarray(0, n).toString('utf8').includes(HOOK_MARKER);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** True when `file` is a regular file (not a symlink) holding exactly `text` with permission bits `mode`. */
function holds(file: string, text: string, mode: number): boolean {
  try {
    const st = fs.lstatSync(file);
    return st.isFile() && (st.mode & 0o7777) === mode && fs.readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}

/** True when something is at `file`, a dangling symlink included. */
export function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** An omni-ship file install-hooks will not overwrite: someone changed it since omni-ship wrote it. */
export interface InstallConflict {
  path: string;
  hook: HookName;
  /** edited: its bytes differ from the hash recorded at install; unrecorded: see OwnFileState */
  why: Exclude<OwnFileState, 'untouched'>;
  /** what to do about it */
  hint: string;
}

/** The result of install-hooks: what it did (or, with dryRun, would do). */
export interface InstallResult {
  hooksDir: string;
  mode: 'file' | 'block';
  husky: boolean;
  /** empty when there are conflicts: install-hooks then changes nothing at all */
  actions: InstallAction[];
  /** hook files that already hold exactly what install would write (a reinstall): left as they are */
  unchanged: string[];
  /** omni-ship files changed since it wrote them: when there is one, nothing is installed (exit 3) */
  conflicts: InstallConflict[];
  dryRun: boolean;
}

/** Installs (or reinstalls) omni-ship's hooks and git config in `repo`; changes nothing when a file it wrote was edited. */
export function installHooks(repo: WorkRepo, loaded: LoadedConfig, opts: { dryRun: boolean; loadedAt: Date }): InstallResult {
  const layout = hookLayout(repo);
  const dir = stateDir(repo);
  const previous = readManifest(dir);
  const node = process.execPath;
  const entry = entryPoint();
  const actions: InstallAction[] = [];
  const unchanged: string[] = [];
  const conflicts: InstallConflict[] = [];
  const records: (FileHookRecord | BlockHookRecord)[] = [];
  const writes: { path: string; text: string; mode: number }[] = [];
  const moves: { from: string; to: string }[] = [];
  const blocks: { path: string; text: string; created: boolean }[] = [];

  for (const name of HOOK_NAMES) {
    if (layout.mode === 'file') {
      const target = path.join(layout.hooksDir, name);
      const slot = chainedPath(layout.hooksDir, name);
      const earlier = previous?.hooks.find((h): h is FileHookRecord => h.name === name && h.mode === 'file');
      let chained = earlier?.chained && exists(earlier.chained) ? earlier.chained : null;
      if (chained && chained !== slot) {
        // an install from before the chained hook was kept beside omni-ship's (in .git/omni-ship/chained/, where
        // its relative paths broke): move it next to the hook again
        if (exists(slot)) throw slotInUse(slot, target);
        moves.push({ from: chained, to: slot });
        actions.push({ kind: 'move', from: chained, to: slot, hook: name });
        chained = slot;
      }
      if (exists(target) && !isOurs(target)) {
        if (chained) {
          throw new UserError(
            `${target} was replaced after omni-ship installed its hook, and the hook that was there first is saved at ${chained}`,
            ExitCode.conflict,
            `move one of them away, then run install-hooks again`,
          );
        }
        if (exists(slot)) throw slotInUse(slot, target);
        chained = slot;
        moves.push({ from: target, to: slot });
        actions.push({ kind: 'move', from: target, to: slot, hook: name });
      }
      const replaces = exists(target) && isOurs(target) ? 'omni-ship' : 'nothing';
      const text = renderHook(name, { node, entry, chained, config: loaded.config, configSource: loaded.file });
      if (replaces === 'omni-ship' && holds(target, text, 0o755)) unchanged.push(target);
      else {
        // the hash says whether omni-ship's file is still what omni-ship wrote (its render depends on the config,
        // the node and entry paths and the version, so comparing with what would be written now cannot tell)
        const state = replaces === 'omni-ship' ? ownFileState(target, earlier?.path === target ? earlier.sha256 : undefined, text) : 'untouched';
        if (state !== 'untouched') conflicts.push({ path: target, hook: name, why: state, hint: reinstallFileHint(target, state, chained, slot) });
        writes.push({ path: target, text, mode: 0o755 });
        actions.push({ kind: 'write', path: target, hook: name, replaces });
      }
      records.push({ name, mode: 'file', path: target, chained, sha256: sha256(text) });
    } else {
      const target = path.join(layout.blockDir!, name);
      const earlier = previous?.hooks.find((h): h is BlockHookRecord => h.name === name && h.mode === 'block' && h.path === target);
      const script = path.join(dir, 'hooks', name);
      const scriptText = renderHook(name, { node, entry, chained: null, config: loaded.config, configSource: loaded.file });
      if (!holds(script, scriptText, 0o755)) {
        const state = exists(script) ? ownFileState(script, earlier?.scriptSha256, scriptText) : 'untouched';
        if (state !== 'untouched') conflicts.push({ path: script, hook: name, why: state, hint: scriptHint(script, target, state, 'install-hooks') });
        writes.push({ path: script, text: scriptText, mode: 0o755 });
      }
      const present = exists(target);
      const created = present ? (earlier?.created ?? false) : true;
      const current = present ? fs.readFileSync(target, 'utf8') : CREATED_SHEBANG;
      const block = renderBlock(name);
      const state = blockState(current, earlier?.written ?? null, block);
      if (state === 'edited' || state === 'unrecorded') conflicts.push({ path: target, hook: name, why: state, hint: blockHint(target, 'install-hooks') });
      const text = withBlock(current, block);
      // the bytes before omni-ship's first block, kept so uninstall can give them back exactly
      const original = earlier ? (earlier.original ?? null) : present ? current : null;
      if (present && text === current) unchanged.push(target);
      else {
        blocks.push({ path: target, text, created: !present });
        actions.push({ kind: 'block', path: target, hook: name, created: !present });
      }
      records.push({ name, mode: 'block', path: target, created, script, original, written: text, scriptSha256: sha256(scriptText) });
    }
  }
  const result = { hooksDir: layout.hooksDir, mode: layout.mode, husky: layout.husky, dryRun: opts.dryRun };
  // all or nothing: a partial install would leave hooks of two versions, or two configs, side by side
  if (conflicts.length) return { ...result, actions: [], unchanged: [], conflicts };

  const configChanges = planConfigChanges(repo, previous?.gitConfig ?? []);
  for (const change of configChanges.changes) actions.push({ kind: 'config', change });

  // husky made its own directories; any other hooks directory install creates, uninstall removes again when empty
  const createdHooksDir = !layout.husky && (previous?.createdHooksDir ?? !exists(layout.hooksDir));
  if (!opts.dryRun) {
    const configBefore = configBytesBeforeInstall(repo, previous);
    for (const m of moves) {
      fs.mkdirSync(path.dirname(m.to), { recursive: true });
      fs.renameSync(m.from, m.to);
    }
    for (const w of writes) writeExecutable(w.path, w.text, w.mode);
    for (const b of blocks) {
      if (b.created) writeExecutable(b.path, b.text, 0o755);
      else writeKeepingMode(b.path, b.text);
    }
    const gitConfig = applyConfigChanges(repo, configChanges);
    const manifest: Manifest = {
      format: 1,
      version: packageVersion(),
      hooksDir: layout.hooksDir,
      createdHooksDir,
      hooks: records,
      gitConfig,
      configFile: recordConfigFile(repo, configBefore),
    };
    writeManifest(dir, manifest);
    writeHookSettings(repo.gitDir, loaded.config, loaded.file, opts.loadedAt);
    // the commit-msg fast path trusts the branch-to-task answer an earlier hook worked out; a new hook may work
    // it out differently
    for (const d of worktreeStateDirs(repo)) fs.rmSync(path.join(d, BRANCH_TASK_CACHE), { force: true });
  }
  return { ...result, actions, unchanged, conflicts };
}

function slotInUse(slot: string, target: string): UserError {
  return new UserError(
    `${slot} is in the way: omni-ship keeps the hook that was at ${target} there, and that file is not one it recorded`,
    ExitCode.conflict,
    `move ${slot} away, then run install-hooks again`,
  );
}

function writeExecutable(file: string, text: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.omni-ship-tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

/** Replaces a file's text and keeps its mode (a hook must stay executable). */
export function writeKeepingMode(file: string, text: string): void {
  const mode = fs.statSync(file).mode & 0o7777;
  const tmp = `${file}.omni-ship-tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

/** The file where commit-msg caches the task it found for a branch (written by hooks/trailer.awk). */
export const BRANCH_TASK_CACHE = 'branch-task.sh';

/** The omni-ship directory of every worktree's git dir, where the hooks keep per-worktree caches. */
export function worktreeStateDirs(repo: Pick<WorkRepo, 'commonDir'>): string[] {
  const dirs = [path.join(repo.commonDir, 'omni-ship')];
  const worktrees = path.join(repo.commonDir, 'worktrees');
  try {
    for (const name of fs.readdirSync(worktrees)) dirs.push(path.join(worktrees, name, 'omni-ship'));
  } catch {
    /* no linked worktrees */
  }
  return dirs;
}
