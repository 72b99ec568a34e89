import fs from 'node:fs';
import path from 'node:path';

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * A branch's value read from git's files in the common dir, with no process: the loose ref file, else its line in
 * packed-refs. Undefined when the files do not settle it (a symbolic ref, a reftable repository, a file that reads
 * oddly): the caller then asks git. Null when neither holds the ref.
 */
export function refFromFiles(commonDir: string, ref: string): string | null | undefined {
  if (!/^refs\/(heads|remotes)\/[^\0\n]+$/.test(ref) || ref.includes('..')) return undefined;
  if (fs.existsSync(path.join(commonDir, 'reftable'))) return undefined;
  try {
    const loose = fs.readFileSync(path.join(commonDir, ref), 'utf8').trim();
    return OID.test(loose) ? loose : undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // a directory (branch main/x beside no main) is no ref
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') return undefined;
  }
  let packed: string;
  try {
    packed = fs.readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
  for (const line of packed.split('\n')) {
    if (line.length > 41 && line.endsWith(` ${ref}`) && line.indexOf(' ') === line.length - ref.length - 1) {
      const oid = line.slice(0, line.indexOf(' '));
      return OID.test(oid) ? oid : undefined;
    }
  }
  return null;
}
