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
}

/** Writes a commented config file at the repository root, refusing when a config already exists. */
export async function initCommand(opts: BaseOptions & { dryRun: boolean }): Promise<CommandOutput<InitJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const existing = configFileIn(repo.toplevel);
  const file = path.join(repo.toplevel, '.omni-shiprc.yaml');
  const template = fs.readFileSync(path.join(packageRoot, 'templates', 'omni-shiprc.yaml'), 'utf8');
  if (opts.dryRun) return { data: { file, written: false }, text: template };
  if (existing) {
    throw badInput(`a config already exists: ${existing}`, 'edit it, or remove it and run omni-ship init again');
  }
  fs.writeFileSync(file, template, { flag: 'wx' });
  return { data: { file, written: true }, text: `wrote ${file}\nnext: edit it, then check the result with: omni-ship config` };
}
