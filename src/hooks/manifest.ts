import fs from 'node:fs';
import path from 'node:path';
import type { HookName } from './templates.js';

/**
 * A hook omni-ship owns outright: the file at `path` is omni-ship's; a foreign hook that was there sits at `chained`
 * (`<hooks dir>/<hook>.omni-ship-chained`; installs before that layout kept it in `.git/omni-ship/chained/<hook>`).
 */
export interface FileHookRecord {
  name: HookName;
  mode: 'file';
  path: string;
  chained: string | null;
  /**
   * sha256 (hex) of the bytes omni-ship last wrote at `path`: while the file still hashes to this, it is
   * omni-ship's to update or remove; otherwise the user edited it (absent in installs by earlier versions)
   */
  sha256?: string;
}

/** A hook file omni-ship added a block to (husky's `.husky/<hook>`, or a hooks directory in the work tree). */
export interface BlockHookRecord {
  name: HookName;
  mode: 'block';
  path: string;
  /** omni-ship created the file: uninstall deletes it when only omni-ship's lines are left */
  created: boolean;
  /** the script the block calls */
  script: string;
  /** the file's text before omni-ship's first block (null when omni-ship created it) */
  original?: string | null;
  /** the text omni-ship last wrote: while the file still holds exactly this, uninstall restores `original` */
  written?: string;
  /** sha256 (hex) of the bytes omni-ship last wrote to `script` (absent in installs by earlier versions) */
  scriptSha256?: string;
}

/** A git config value install-hooks set, with the values the key had before, to restore on uninstall. */
export interface ConfigRecord {
  key: string;
  value: string;
  /** add: the key is multi-valued and this value was appended; set: the key was replaced */
  how: 'add' | 'set';
  previous: string[];
  /** the key's section did not exist before, so uninstall removes it when it is empty again */
  newSection: boolean;
}

/** The local git config file's bytes before omni-ship's first install, to give back when nothing else changed it. */
export interface ConfigFileRecord {
  /** the file (`<common dir>/config`) */
  path: string;
  /** its bytes before the first install-hooks, base64 */
  before: string;
  /** sha256 (hex) of the bytes the latest install-hooks left: while the file still hashes to this, uninstall writes `before` back */
  after: string;
}

/** What install-hooks did, kept in the common git dir so uninstall-hooks can undo exactly that. */
export interface Manifest {
  format: 1;
  version: string;
  hooksDir: string;
  /** install created the hooks directory: uninstall removes it again when it is empty */
  createdHooksDir?: boolean;
  hooks: (FileHookRecord | BlockHookRecord)[];
  gitConfig: ConfigRecord[];
  /** absent when an earlier install's bytes could not be kept (the file changed between installs, or an older manifest) */
  configFile?: ConfigFileRecord;
}

/** The manifest's path in omni-ship's state directory. */
export function manifestPath(stateDir: string): string {
  return path.join(stateDir, 'install.json');
}

/** Reads the manifest, or null when omni-ship's hooks are not installed. */
export function readManifest(stateDir: string): Manifest | null {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(stateDir), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes the manifest atomically. */
export function writeManifest(stateDir: string, manifest: Manifest): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = manifestPath(stateDir);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}
