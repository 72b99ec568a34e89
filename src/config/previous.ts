import path from 'node:path';
import { validateConfig, type Config } from './schema.js';
import { readStateJson, writeStateJson } from './state-file.js';

/** The last configuration that loaded in this clone: what background processes fall back on when the current one does not. */
export const LAST_CONFIG_FILE = 'last-config.json';

/** The values a config file set (validated, without defaults) and the file they came from (null: no config file). */
export interface RememberedConfig {
  file: string | null;
  values: Partial<Config>;
}

/** Stores the values of a config that loaded, atomically; writes nothing when they are what is stored already. */
export function rememberConfig(stateDir: string, file: string | null, values: Partial<Config>): void {
  const target = path.join(stateDir, LAST_CONFIG_FILE);
  const old = readStateJson(target) as { file?: unknown; values?: unknown } | null;
  if (old && old.file === file && JSON.stringify(old.values) === JSON.stringify(values)) return;
  writeStateJson(target, { file, values, at: new Date().toISOString() });
}

/** The last configuration that loaded in this clone, validated again (the schema may have changed); null if none is usable. */
export function rememberedConfig(stateDir: string): RememberedConfig | null {
  const data = readStateJson(path.join(stateDir, LAST_CONFIG_FILE)) as { file?: unknown; values?: unknown } | null;
  if (!data || (data.file !== null && typeof data.file !== 'string')) return null;
  try {
    return { file: data.file, values: validateConfig(data.values, data.file ?? LAST_CONFIG_FILE) };
  } catch {
    return null;
  }
}
