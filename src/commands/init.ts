import fs from 'node:fs';
import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { configFileIn } from '../config.js';
import { badInput } from '../errors.js';
import { requireWorkRepo } from '../git/repo.js';
import type { CommandOutput } from '../output.js';
import { packageRoot } from '../paths.js';

/** The JSON shape of `omni-ship init --json`. */
export interface InitJson {
  file: string;
  written: boolean;
  /** the file's content: what was written, or with --dry-run what would be */
  content: string;
}

/** Writes a commented config file at the repository root, refusing when a config already exists. */
export async function initCommand(opts: BaseOptions & { dryRun: boolean }): Promise<CommandOutput<InitJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const existing = configFileIn(repo.toplevel);
  const file = path.join(repo.toplevel, '.omni-shiprc.yaml');
  const template = fs.readFileSync(path.join(packageRoot, 'templates', 'omni-shiprc.yaml'), 'utf8');
  // a dry run refuses as the real run would: it must not promise a file that init will not write
  if (existing) {
    throw badInput(`a config already exists: ${existing}`, 'edit it, or remove it and run omni-ship init again');
  }
  if (opts.dryRun) return { data: { file, written: false, content: template }, text: template };
  try {
    fs.writeFileSync(file, template, { flag: 'wx' });
  } catch (e) {
    // written by someone else since the look above: theirs stays
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw badInput(`a config already exists: ${file}`, 'edit it, or remove it and run omni-ship init again');
    throw e;
  }
  return { data: { file, written: true, content: template }, text: `wrote ${file}\nnext: edit it, then check the result with: omni-ship config` };
}
