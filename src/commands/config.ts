import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { CONFIG_KEYS, loadConfig, type Config } from '../config.js';
import { requireRepo } from '../git/repo.js';
import { columns, style, type CommandOutput } from '../output.js';

/** One value in `omni-ship config --json`. */
export interface ConfigValueJson {
  value: string | boolean | null;
  /** "file" when set in the config file, "default" otherwise */
  source: 'file' | 'default';
  /** the file path, or how the default was chosen */
  detail: string;
}

/** The JSON shape of `omni-ship config --json`. */
export interface ConfigJson {
  file: string | null;
  values: Record<keyof Config, ConfigValueJson>;
}

/** Prints the effective configuration and the source of each value. */
export async function configCommand(opts: BaseOptions): Promise<CommandOutput<ConfigJson>> {
  const repo = requireRepo(opts.cwd);
  const loaded = await loadConfig(opts.cwd, repo.toplevel ?? opts.cwd);
  const values = {} as Record<keyof Config, ConfigValueJson>;
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    const source = loaded.sources[key];
    values[key] = {
      value: loaded.config[key],
      source: source.kind,
      detail: source.kind === 'file' ? source.file : source.detail,
    };
  }
  const rows = (Object.keys(values) as (keyof Config)[]).map((key) => {
    const v = values[key];
    const where = v.source === 'file' ? path.relative(opts.cwd, v.detail) || v.detail : v.detail;
    return [key, v.value === null ? '(none)' : String(v.value), style('dim', `(${where})`)];
  });
  const header = loaded.file ? `config file: ${loaded.file}` : 'no config file: every value is a default (omni-ship init writes one)';
  return { data: { file: loaded.file, values }, text: `${header}\n${columns(rows)}` };
}
