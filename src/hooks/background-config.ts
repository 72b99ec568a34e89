import path from 'node:path';
import { loadConfigOrPrevious, withDefaults, type Config } from '../config.js';
import { rememberedConfig } from '../config/previous.js';

/**
 * The configuration the background drainer uses, and why it is not the current file's when it is not. It never
 * throws: a config that cannot be loaded (a syntax error, an unknown key, a JS file not run through omni-ship on
 * these bytes) gives the last settings the hooks loaded, as the commit-msg hook tells the user, so no commit goes
 * unrecorded for it. A work tree that is gone (a linked worktree removed before the drainer ran) has no config to
 * read: the last settings again, with the repository's defaults for the rest.
 */
export async function backgroundConfig(toplevel: string | null, commonDir: string): Promise<{ config: Config; fallback: string | null }> {
  const stateDir = path.join(commonDir, 'omni-ship');
  if (toplevel) {
    const loaded = await loadConfigOrPrevious(toplevel, stateDir);
    return { config: loaded.config, fallback: loaded.fallback ? `config: ${loaded.fallback.reason}` : null };
  }
  const previous = rememberedConfig(stateDir);
  return {
    config: withDefaults(previous?.values ?? {}, previous?.file ?? null, commonDir).config,
    fallback: `the work tree is gone; using ${previous ? 'the previous settings' : 'the defaults'}`,
  };
}
