import fs from 'node:fs';
import { failpoint } from '../failpoint.js';

/**
 * Puts the temp file `tmp` in the place of the machine-local cache `file`, the old one unlinked first. ext4 writes a
 * file's data out before a rename over another file completes (its replace-via-rename safeguard, auto_da_alloc):
 * ≈ 0.2–1 ms a rename here, five renames a `status`; a rename onto no file costs ≈ 0.05 ms. A reader in between
 * finds no file, and a kill in between leaves none: a cache that is missing is read again, so neither loses
 * anything. A reader never sees half a file.
 */
export function replaceCacheFile(tmp: string, file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* none yet; or not to be unlinked (the rename says whether it can be replaced) */
  }
  failpoint('cache:unlinked');
  fs.renameSync(tmp, file);
}

/**
 * Removes the cache file `file` when it is there. fs.unlinkSync, not fs.rmSync({ force }): a status's first rmSync
 * loads Node's rimraf and validates its options (≈ 0.4 ms), for what one unlink does.
 */
export function removeCacheFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
