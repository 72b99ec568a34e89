import fs from 'node:fs';
import path from 'node:path';
import { DISPLAY_REF } from '../notes/refs.js';

/** A ref lock older than this is left by a git process that was killed: git holds one for milliseconds. */
const STALE_LOCK_MS = 60_000;

/** The ref folders only omni-ship writes to. */
const OWN_REF_DIRS = ['refs/notes/omni-ship', 'refs/omni-ship'];
/** omni-ship's refs outside those folders (the display ref sits beside refs/notes/omni-ship/, not in it). */
const OWN_REFS = [DISPLAY_REF];

/**
 * Removes stale `*.lock` files under omni-ship's own refs. A git process killed with SIGKILL in the middle of a ref
 * update (OOM, `docker stop` after its grace period, `kill -9` of a process group) leaves its lock file behind,
 * and git refuses every later update of that ref ("cannot lock ref") until someone removes it by hand: the
 * drainer would keep its events forever. Only locks of omni-ship's refs are touched, and only old ones.
 * Returns the locks removed.
 */
export function removeStaleRefLocks(commonDir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no such folder yet
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) removeIfStale(p);
    }
  };
  const removeIfStale = (p: string) => {
    try {
      if (now - fs.statSync(p).mtimeMs > STALE_LOCK_MS) {
        fs.rmSync(p, { force: true });
        removed.push(p);
      }
    } catch {
      /* gone meanwhile, or never there */
    }
  };
  for (const d of OWN_REF_DIRS) walk(path.join(commonDir, d));
  for (const ref of OWN_REFS) removeIfStale(path.join(commonDir, `${ref}.lock`));
  for (const p of removed) console.log(`${new Date(now).toISOString()} removed ${p}: a git process killed mid-update left it`);
  return removed;
}
