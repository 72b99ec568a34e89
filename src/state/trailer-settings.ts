import { checksum } from '../hash.js';
import { trailerConfigText } from '../config/defaults-fs.js';
import { gitRun } from '../git/exec.js';

const memo = new Map<string, string>();

/**
 * The trailer settings' part of the keys of what is read through git's trailer parsing (the base and side scans,
 * the status answers): '' when git's config sets no `trailer.*`, else a hash of what it sets. Read from the config
 * files (no process); when they cannot settle it, from `git config --get-regexp`. Once per process.
 */
export function trailerSettingsKey(commonDir: string): string {
  let key = memo.get(commonDir);
  if (key === undefined) {
    let text = trailerConfigText(commonDir);
    if (text === null) {
      const r = gitRun(['config', '--get-regexp', '^trailer\\.'], { cwd: commonDir });
      // exit 1: no such variable
      text = r.exitCode === 0 ? r.stdout : r.exitCode === 1 ? '' : `unreadable ${Math.random()}`;
    }
    key = text ? `\x02${checksum().update(text).digest()}` : '';
    memo.set(commonDir, key);
  }
  return key;
}
