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
  const packed = readPackedRefs(commonDir);
  if (packed === null || packed === undefined) return packed;
  // the line `<oid> <ref>`: a search of the text, not a split of its (maybe 10,000) lines
  const needle = ` ${ref}\n`;
  const text = packed.endsWith('\n') ? packed : `${packed}\n`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const start = text.lastIndexOf('\n', at - 1) + 1;
    const oid = text.slice(start, at);
    // a longer name ending in this one has no object id before the space
    if (!oid.includes(' ')) return OID.test(oid) ? oid : undefined;
  }
  return null;
}

/** A ref name git accepts (refs.c check_refname_format, one level allowed): anything else is git's to report. */
function validRefName(name: string): boolean {
  if (name === '@' || name.includes('..') || name.includes('@{') || /[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((c) => c !== '' && !c.startsWith('.') && !c.endsWith('.lock'));
}

/** The loose refs under some prefixes as read from their files: objects, and symbolic refs' targets. */
export interface LooseRefs {
  objects: Map<string, string>;
  symbolic: Map<string, string>;
}

/**
 * The loose refs under `prefixes` (each matches itself and what is below it, as `git for-each-ref <prefix>` does),
 * read from their files in the common dir, skipping what git skips (names starting with a dot, locks). Undefined
 * when the files do not settle it as git would: a reftable repository, a name git would warn of, a file that is not
 * an object id or a symbolic ref.
 */
export function readLooseRefs(commonDir: string, prefixes: readonly string[]): LooseRefs | undefined {
  if (fs.existsSync(path.join(commonDir, 'reftable'))) return undefined;
  const objects = new Map<string, string>();
  const symbolic = new Map<string, string>();
  const walk = (ref: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(commonDir, ref), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'ENOTDIR') return false;
      return readLoose(ref);
    }
    for (const d of entries) {
      if (d.name.startsWith('.') || d.name.endsWith('.lock')) continue;
      const name = `${ref}/${d.name}`;
      if (d.isDirectory()) {
        if (!walk(name)) return false;
      } else if (!d.isFile() || !readLoose(name)) return false;
    }
    return true;
  };
  const readLoose = (ref: string): boolean => {
    if (!validRefName(ref)) return false;
    let text: string;
    try {
      text = fs.readFileSync(path.join(commonDir, ref), 'utf8');
    } catch (e) {
      // deleted since the directory was read: no ref
      return (e as NodeJS.ErrnoException).code === 'ENOENT';
    }
    const value = text.endsWith('\n') ? text.slice(0, -1) : text;
    if (OID.test(value)) objects.set(ref, value);
    else if (value.startsWith('ref: ') && validRefName(value.slice(5))) symbolic.set(ref, value.slice(5));
    else return false;
    return true;
  };
  for (const p of prefixes) if (!walk(p)) return undefined;
  return { objects, symbolic };
}

/**
 * The refs under `prefixes` and their objects, read from git's files with no process: the loose refs (read first,
 * as git does: a pack-refs running meanwhile writes packed-refs before it removes the loose files), then
 * packed-refs (`packed`, its text; null: none) for the rest. Undefined when the files do not settle it as git would
 * (see readLooseRefs; a line of packed-refs that reads oddly; a symbolic ref to a ref not listed). The caller then
 * asks git.
 */
export function mergeRefs(loose: LooseRefs, packed: string | null, prefixes: readonly string[]): Map<string, string> | undefined {
  const under = (ref: string) => prefixes.some((p) => ref === p || ref.startsWith(`${p}/`));
  const refs = new Map(loose.objects);
  const all = new Map<string, string>();
  for (const line of (packed ?? '').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    const ref = line.slice(space + 1);
    if (space < 0 || !OID.test(oid) || !validRefName(ref)) return undefined;
    if (!under(ref)) continue;
    all.set(ref, oid);
    if (!refs.has(ref) && !loose.symbolic.has(ref)) refs.set(ref, oid);
  }
  // a symbolic ref (refs/remotes/origin/HEAD) lists the object of the ref it names
  for (const [ref, target] of loose.symbolic) {
    // a target outside the prefixes may be loose where nothing was read: git's to say
    const oid = under(target) && !loose.symbolic.has(target) ? (loose.objects.get(target) ?? all.get(target)) : undefined;
    if (oid === undefined) return undefined;
    refs.set(ref, oid);
  }
  return refs;
}

/** packed-refs' text; null when there is none, undefined when it cannot be read. */
export function readPackedRefs(commonDir: string): string | null | undefined {
  try {
    return fs.readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}
