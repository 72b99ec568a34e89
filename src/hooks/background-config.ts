import { loadConfig, type Config } from '../config.js';

/** The configuration a background process uses, and why it is not the current file's when it is not. */
export async function backgroundConfig(toplevel: string | null, commonDir: string): Promise<{ config: Config; fallback: string | null }> {
  try {
    if (toplevel) return { config: (await loadConfig(toplevel, toplevel)).config, fallback: null };
  } catch (error) {
    return { config: (await loadConfig(commonDir, null)).config, fallback: `config: ${(error as Error).message}; using the defaults` };
  }
  return { config: (await loadConfig(commonDir, null)).config, fallback: 'the work tree is gone; using the defaults' };
}
