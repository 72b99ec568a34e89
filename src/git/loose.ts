import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { inflate, inflateStart } from '../zlib.js';

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
  // concatenated, not path.join: a diff opens dozens (commonDir is absolute and normalised, as repo discovery gives it)
  return `${commonDir}${path.sep}objects${path.sep}${oid.slice(0, 2)}${path.sep}${oid.slice(2)}`;
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
    // what the first bytes inflate to (a stream cut short is no error)
    const out = inflateStart(head.subarray(0, got), 64);
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
    const bytes = inflate(fs.readFileSync(file));
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

/**
 * A loose commit's tree, parents and message (UTF-8), or null: not loose, not a commit, a header git reads with
 * more care (an `encoding`: the message is re-encoded), or a message that is not valid UTF-8.
 */
export function looseCommit(commonDir: string, commit: string): { tree: string; parents: string[]; message: string } | null {
  const o = looseObject(commonDir, commit);
  if (o?.type !== 'commit') return null;
  const end = o.body.indexOf('\n\n');
  const head = o.body.toString('latin1', 0, end < 0 ? o.body.length : end);
  const tree = /^tree ([0-9a-f]{40})$/m.exec(head)?.[1];
  if (!tree || /^encoding /m.test(head)) return null;
  const message = end < 0 ? Buffer.alloc(0) : o.body.subarray(end + 2);
  if (!isUtf8(message)) return null;
  // the parent lines follow the tree line, before any other (a signature's continuation lines start with a space)
  const parents = [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
  return { tree, parents, message: message.toString('utf8') };
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

/** One blob path that differs between two trees, as `git diff-tree -r --no-renames` reports it. */
export interface LooseTreeChange {
  /** as diff-tree's: T when a file becomes a symlink or back */
  status: 'A' | 'D' | 'M' | 'T';
  /** the blob before (the null id for an addition) and after (the null id for a deletion) */
  oldBlob: string;
  newBlob: string;
  path: string;
}

const NULL_OID = '0'.repeat(40);
const TREE_MODE = '40000';
const LINK_MODE = '120000';
const BLOB_MODES = new Set(['100644', '100755', LINK_MODE]);

/**
 * What `git diff-tree -r --no-renames <from> <to>` reports for two commits, read from their loose objects alone:
 * subtrees whose ids are equal are not opened, so the packed bulk of a notes tree that gained a note is never read.
 * Null when an object it has to open is not loose (or holds anything but blobs and trees): the caller asks git.
 */
export function looseDiffCommits(commonDir: string, from: string, to: string): LooseTreeChange[] | null {
  const a = looseCommitTree(commonDir, from);
  const b = a === null ? null : looseCommitTree(commonDir, to);
  if (a === null || b === null) return null;
  const out: LooseTreeChange[] = [];
  return diffTrees(commonDir, a, b, '', out) ? out : null;
}

/** Adds the differences of trees `a` and `b` (either may be null: absent) under `prefix` to `out`; false when it cannot. */
function diffTrees(commonDir: string, a: string | null, b: string | null, prefix: string, out: LooseTreeChange[]): boolean {
  if (a === b) return true;
  const ta = a === null ? EMPTY : looseTreeBody(commonDir, a);
  const tb = b === null ? EMPTY : looseTreeBody(commonDir, b);
  if (!ta || !tb) return false;
  // both trees are sorted as git sorts them: walked side by side, an entry both hold byte for byte is skipped
  // unread (a notes tree that gained one note differs in one entry of hundreds). The bytes both begin with are
  // found first (a binary search of native compares), and the entries wholly inside them passed by their NULs
  // alone (a name holds none; the 20 bytes of an id follow it); the walk ends once the rest of both is the same
  const same = commonPrefix(ta, tb);
  // (a loop over the bytes, not indexOf: a notes tree's hundreds of entries would be hundreds of native calls, each
  // costing more than the few bytes of a name it skips)
  let i = 0;
  for (;;) {
    let nul = i;
    while (nul < same && ta[nul] !== 0) nul++;
    if (nul + 21 > same) break;
    i = nul + 21;
  }
  let j = i;
  while (i < ta.length || j < tb.length) {
    if (ta.length - i === tb.length - j && ta.compare(tb, j, tb.length, i, ta.length) === 0) break;
    const x = i < ta.length ? entryAt(ta, i) : null;
    const y = j < tb.length ? entryAt(tb, j) : null;
    if ((i < ta.length && !x) || (j < tb.length && !y)) return false;
    if (x && y && x.end - i === y.end - j && ta.compare(tb, j, y.end, i, x.end) === 0) {
      i = x.end;
      j = y.end;
      continue;
    }
    const c = !x ? 1 : !y ? -1 : compareEntries(ta, x, tb, y);
    const left = c <= 0 ? x : null;
    const right = c >= 0 ? y : null;
    if (left) i = left.end;
    if (right) j = right.end;
    const l = left ? decode(ta, left) : null;
    const r = right ? decode(tb, right) : null;
    if ((l && !l.known) || (r && !r.known)) return false;
    const p = prefix + (l ?? r)!.name;
    if (l && r && !l.tree && !r.tree) {
      // the same name on both sides: another blob, or the same with another mode (another type: a symlink)
      out.push({ status: (l.mode === LINK_MODE) === (r.mode === LINK_MODE) ? 'M' : 'T', oldBlob: l.oid, newBlob: r.oid, path: p });
      continue;
    }
    if (l && !l.tree) out.push({ status: 'D', oldBlob: l.oid, newBlob: NULL_OID, path: p });
    if (r && !r.tree) out.push({ status: 'A', oldBlob: NULL_OID, newBlob: r.oid, path: p });
    if ((l?.tree || r?.tree) && !diffTrees(commonDir, l?.tree ? l.oid : null, r?.tree ? r.oid : null, `${p}/`, out)) return false;
  }
  return true;
}

const EMPTY = Buffer.alloc(0);

/** How many bytes `a` and `b` begin with alike. */
function commonPrefix(a: Buffer, b: Buffer): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length);
  // a and b agree on their first lo bytes, and differ within their first hi + 1 (or one ends there)
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a.compare(b, 0, mid, 0, mid) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A loose tree's body, or null. */
function looseTreeBody(commonDir: string, tree: string): Buffer | null {
  const o = looseObject(commonDir, tree);
  return o?.type === 'tree' ? o.body : null;
}

/** Where the tree entry starting at `at` has its space and NUL, and where it ends; null when it is cut short. */
function entryAt(body: Buffer, at: number): { at: number; space: number; nul: number; end: number } | null {
  const space = body.indexOf(32, at);
  const nul = space < 0 ? -1 : body.indexOf(0, space + 1);
  if (space < 0 || nul < 0 || nul + 21 > body.length) return null;
  return { at, space, nul, end: nul + 21 };
}

/** An entry is a tree when its mode is 40000. */
function isTreeEntry(body: Buffer, e: { at: number; space: number }): boolean {
  return e.space - e.at === 5 && body[e.at] === 0x34 && body[e.at + 1] === 0x30;
}

/** git's order of tree entries: by name, a tree's name compared as though it ended in '/'. */
function compareEntries(ba: Buffer, x: { at: number; space: number; nul: number }, bb: Buffer, y: { at: number; space: number; nul: number }): number {
  const lx = x.nul - x.space - 1;
  const ly = y.nul - y.space - 1;
  const common = Math.min(lx, ly);
  const c = ba.compare(bb, y.space + 1, y.space + 1 + common, x.space + 1, x.space + 1 + common);
  if (c !== 0) return c;
  const cx = lx > common ? ba[x.space + 1 + common]! : isTreeEntry(ba, x) ? 0x2f : 0;
  const cy = ly > common ? bb[y.space + 1 + common]! : isTreeEntry(bb, y) ? 0x2f : 0;
  return cx - cy;
}

/** An entry's name, object and kind (known: a blob, a symlink or a tree, the only kinds a diff here handles). */
function decode(body: Buffer, e: { at: number; space: number; nul: number }): { name: string; mode: string; oid: string; tree: boolean; known: boolean } {
  const mode = body.toString('latin1', e.at, e.space);
  return { name: body.toString('utf8', e.space + 1, e.nul), mode, oid: body.toString('hex', e.nul + 1, e.nul + 21), tree: mode === TREE_MODE, known: mode === TREE_MODE || BLOB_MODES.has(mode) };
}
