import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../paths.js';

let fingerprint: string | null = null;

/**
 * A hash of the whole build: the package version and every file of the code this module was loaded from (dist/,
 * names and bytes), read once per process. Machine-local caches keyed by it are never used by another build: a
 * cache of decoded events by code that packs them otherwise, nor a stored `status` answer by code that derives
 * states otherwise, even of the same version. Hashing only the files thought relevant missed the rest (a build
 * with other status logic printed the old answer). The contents, not sizes and times: npm sets every file's time
 * to one fixed date. Costs about 4.5 ms a process for dist/ (~50 files, ~300 KB); sizes and times would cost 3,
 * the two files hashed before 0.4.
 */
export function buildFingerprint(): string {
  if (fingerprint === null) {
    const hash = createHash('sha1').update(packageVersion());
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    try {
      const files = fs
        .readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => path.join(d.parentPath, d.name))
        .sort();
      for (const file of files) hash.update(`\0${path.relative(root, file)}\0`).update(fs.readFileSync(file));
    } catch {
      hash.update(String(Math.random())); // unreadable: never match, so never trust
    }
    fingerprint = hash.digest('hex');
  }
  return fingerprint;
}
