import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * Loose objects read from their files with no process: `objects/<2 hex>/<rest>`, zlib-deflated `<type> <size>\0`
 * and the body. A commit, a land or a fetch of a few objects writes its objects loose, so what a read command asks
 * about a ref that just moved is usually answered here; anything else (a packed object, one in an alternate object
 * store, a file that reads oddly) answers null, and the caller asks git.
 */
const HEX = /^[0-9a-f]{40}$/;
const TYPES = new Set(['commit', 'tree', 'blob', 'tag']);

function objectFile(commonDir: string, oid: string): string | null {
  if (!HEX.test(oid) || process.env.GIT_OBJECT_DIRECTORY) return null;
  return path.join(commonDir, 'objects', oid.slice(0, 2), oid.slice(2));
}

/** The header `<type> <size>` of inflated bytes, or null. */
function header(bytes: Buffer): { type: string; size: number; start: number } | null {
  const nul = bytes.indexOf(0);
  if (nul < 0 || nul > 32) return null;
  const [type, size] = bytes.toString('latin1', 0, nul).split(' ');
  if (!type || !TYPES.has(type) || !size || !/^\d+$/.test(size)) return null;
  return { type, size: Number(size), start: nul + 1 };
}

/** A loose object's type (only its first bytes inflated), or null. */
export function looseType(commonDir: string, oid: string): string | null {
  const file = objectFile(commonDir, oid);
  if (!file) return null;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(64);
    const got = fs.readSync(fd, head, 0, head.length, 0);
    // what the first bytes inflate to (a stream cut short is no error with a sync flush)
    const out = zlib.inflateSync(head.subarray(0, got), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return header(out)?.type ?? null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** A loose object's type and body (its size checked), or null. */
export function looseObject(commonDir: string, oid: string): { type: string; body: Buffer } | null {
  const file = objectFile(commonDir, oid);
  if (!file) return null;
  try {
    const bytes = zlib.inflateSync(fs.readFileSync(file));
    const h = header(bytes);
    if (!h || bytes.length - h.start !== h.size) return null;
    return { type: h.type, body: bytes.subarray(h.start) };
  } catch {
    return null;
  }
}

/** The tree of a loose commit, or null. */
export function looseCommitTree(commonDir: string, commit: string): string | null {
  const o = looseObject(commonDir, commit);
  if (o?.type !== 'commit') return null;
  const m = /^tree ([0-9a-f]{40})\n/.exec(o.body.toString('latin1', 0, 46));
  return m?.[1] ?? null;
}

/** The entries of a loose tree, by name: mode and object id; null when the tree is not loose or reads oddly. */
export function looseTreeEntries(commonDir: string, tree: string): Map<string, { mode: string; oid: string }> | null {
  const o = looseObject(commonDir, tree);
  if (o?.type !== 'tree') return null;
  const entries = new Map<string, { mode: string; oid: string }>();
  const b = o.body;
  let at = 0;
  while (at < b.length) {
    const space = b.indexOf(32, at);
    const nul = b.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > b.length) return null;
    entries.set(b.toString('utf8', space + 1, nul), { mode: b.toString('latin1', at, space), oid: b.toString('hex', nul + 1, nul + 21) });
    at = nul + 21;
  }
  return entries;
}
