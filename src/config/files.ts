import fs from 'node:fs';
import path from 'node:path';
import { UserError, badInput } from '../errors.js';
import { isInside } from '../git/repo.js';

/** The file names searched at the top of the work tree, in this order: the first one there is the config. */
export const CONFIG_FILES = [
  'package.json',
  '.omni-shiprc',
  '.omni-shiprc.json',
  '.omni-shiprc.yaml',
  '.omni-shiprc.yml',
  '.omni-shiprc.js',
  '.omni-shiprc.mjs',
  '.omni-shiprc.cjs',
  'omni-ship.config.js',
  'omni-ship.config.mjs',
  'omni-ship.config.cjs',
] as const;

/** True for a config file that is a program (JavaScript): loading it executes it. */
export function executesCode(file: string): boolean {
  return /\.(js|mjs|cjs)$/.test(file);
}

/** The file system calls checkConfigFilesReadable makes; a test passes its own to stand in for a denied read. */
export interface ReadProbe {
  statSync(file: string): fs.Stats;
  accessSync(file: string, mode: number): void;
}

/**
 * Refuses a config file in `dir` that exists but cannot be read: skipping it as if it were not there (EACCES,
 * EISDIR, as cosmiconfig does) would silently replace the user's settings by the defaults or by a later file.
 */
export function checkConfigFilesReadable(dir: string, probe: ReadProbe = fs): void {
  for (const name of CONFIG_FILES) {
    const file = path.join(dir, name);
    try {
      if (probe.statSync(file).isDirectory()) {
        throw badInput(`${file}: cannot read the config: it is a directory`, `rename or remove it: omni-ship reads its config from a file by that name`);
      }
      probe.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      // not there (a dangling symlink included), or dir is not a directory: nothing to read
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      const problem = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : ((e as Error).message.split('\n')[0] ?? '');
      throw badInput(`${file}: cannot read the config: ${problem}`, `make it readable (chmod a+r ${file}) or remove it`);
    }
  }
}

/** Every config file in `dir`, in search order; a package.json counts when it has an "omni-ship" key. */
export function configFilesIn(dir: string): string[] {
  const found: string[] = [];
  for (const name of CONFIG_FILES) {
    const p = path.join(dir, name);
    if (name === 'package.json') {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as unknown;
        if (pkg && typeof pkg === 'object' && Object.hasOwn(pkg, 'omni-ship')) found.push(p);
      } catch {
        /* no package.json, or not ours to judge here */
      }
      continue;
    }
    if (fs.existsSync(p)) found.push(p);
  }
  return found;
}

/** The first config file in `dir`, or null. */
export function configFileIn(dir: string): string | null {
  return configFilesIn(dir)[0] ?? null;
}

/**
 * Config files in the directories from `cwd` up to, but not including, the repository root `root`, nearest
 * first. omni-ship never reads them (the state they describe is repository-wide, and the hooks read the root's
 * config), so `omni-ship config` names them.
 */
export function ignoredConfigFiles(cwd: string, root: string): string[] {
  let dir: string;
  let top: string;
  try {
    // -C keeps the path as typed, git prints the real one: compare real paths
    dir = fs.realpathSync(cwd);
    top = fs.realpathSync(root);
  } catch {
    return [];
  }
  if (!isInside(dir, top)) return [];
  const found: string[] = [];
  for (; dir !== top && isInside(dir, top); dir = path.dirname(dir)) found.push(...configFilesIn(dir));
  return found;
}

/** The local config files, in the common git dir (outside every work tree: only this clone's owner edits them). */
export const LOCAL_CONFIG_FILES = ['omni-ship.yaml', 'omni-ship.yml', 'omni-ship.json'] as const;
