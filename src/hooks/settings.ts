import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { shQuote } from '../shell.js';

/** The settings the sh hooks read, as sh assignments (OS_KEY, OS_TASK_RE, OS_BRANCH_RE, OS_REQUIRE, OS_SRC). */
export function hookSettingsScript(config: Config, source: string | null): string {
  return [
    `OS_KEY=${shQuote(config.trailerKey)}`,
    `OS_TASK_RE=${shQuote(config.taskPattern)}`,
    `OS_BRANCH_RE=${shQuote(config.branchPattern)}`,
    `OS_REQUIRE=${config.requireTaskId ? 1 : 0}`,
    `OS_SRC=${shQuote(source ?? '')}`,
  ].join('\n');
}

/**
 * The last line of the hook settings cache. The hook sources the file with `command .` (a syntax error in it cannot
 * end the hook) and trusts what it read only when this line ran: a file cut short is ignored, never fatal.
 */
export const HOOK_SETTINGS_END = '_os_cfgok=1';

/** Where a worktree's hook settings cache lives: per worktree, since each may check out a different config. */
export function hookSettingsPath(gitDir: string): string {
  return path.join(gitDir, 'omni-ship', 'hook-config.sh');
}

/**
 * Writes the hook settings cache atomically. Its mtime is set to `loadedAt`, the moment before the config was
 * read, so an edit made while it was being read still looks newer to the hook's `test -nt`.
 */
export function writeHookSettings(gitDir: string, config: Config, source: string | null, loadedAt: Date): string {
  const file = hookSettingsPath(gitDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = `# written by omni-ship from ${source ?? 'its defaults'}; rewritten when the config changes\n${hookSettingsScript(config, source)}\n${HOOK_SETTINGS_END}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.utimesSync(tmp, loadedAt, loadedAt);
  fs.renameSync(tmp, file);
  return file;
}
