import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

/**
 * A machine-local registry file through lowdb (the verify registry, the task worktrees'): a file that is not JSON,
 * or not of the registry's shape, reads as `empty()` and `damaged` (the caller keeps it aside before writing over
 * it); one that cannot be read at all (permissions) throws: it is not ours to replace.
 */
export async function loadRegistryFile<T>(file: string, empty: () => T, valid: (v: unknown) => v is T): Promise<{ db: Low<T>; data: T; damaged: boolean }> {
  const db = new Low<T>(new JSONFile<T>(file), empty());
  let damaged = false;
  try {
    await db.read();
    if (!valid(db.data)) damaged = true;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    damaged = true;
  }
  if (damaged) db.data = empty();
  return { db, data: db.data, damaged };
}
