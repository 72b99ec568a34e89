import fs from 'node:fs';
import { replaceCacheFile } from './cache-file.js';
import { setDepths, type CommitInfo, type SideCommit } from './commits.js';
import { openHeaded } from './sorted-lines.js';

/**
 * Every commit of the side scan (the commits off the base a branch reaches), one fixed-width record each, sorted by
 * id, so one commit is found by a binary search of a string: its first parent, tree, commit time and depth. The
 * views need whole records (claims, every parent) only of the tips and of the commits with a trailer, which the
 * side scan keeps apart (SideScan.summary); this index answers the rest (is a commit off the base; walk a task
 * branch down by first parents; the depth of a new commit's parent) without parsing 9,000 commits of long-lived
 * branches on every run.
 *
 * A record is `<sha> <first parent or dashes> <tree> <time, a sign and 10 digits> <depth, 9 digits>\n`, every id of one
 * length (SHA-1 or SHA-256). The file's first line names the id it was written under and its record count, so a
 * file of another write, or a truncated one, is no file.
 *
 * A change (a commit on a branch, an amend) adds and removes a few records: they ride over the file as its *delta*
 * (the records added, the ids removed), kept in the side scan's summary, and the file is written again whole only
 * when the delta passes SIDE_DELTA_LIMIT. An amend no longer reads and writes every record of the long-lived
 * branches.
 */
export class SideIndex {
  private constructor(
    /** the records, sorted, concatenated; null while only the file is open (read whole when first needed) */
    private text: string | null,
    private readonly count: number,
    private readonly idLength: number,
    /** the file the records are read from, and where they start in it (shared by the indexes made from it) */
    private readonly file: { fd: number; start: number; closed: boolean } | null = null,
    /** records added over the file's (never one it shows), by id */
    private readonly added: ReadonlyMap<string, string> = new Map(),
    /** ids of the file's records taken away */
    private readonly removed: ReadonlySet<string> = new Set(),
  ) {}

  static readonly empty = new SideIndex('', 0, 40);

  /** The index of `commits` (depths set). */
  static of(commits: readonly SideCommit[]): SideIndex {
    if (!commits.length) return SideIndex.empty;
    const idLength = commits[0]!.sha.length;
    const records = commits.map((c) => record(c, idLength));
    records.sort();
    return new SideIndex(records.join(''), records.length, idLength);
  }

  get size(): number {
    return this.count - this.removed.size + this.added.size;
  }

  private get width(): number {
    return recordWidth(this.idLength);
  }

  /** Record i's text: from the records in memory, else one read of the file. */
  private recordAt(i: number): string {
    const w = this.width;
    if (this.text !== null) return this.text.slice(i * w, (i + 1) * w);
    const buf = Buffer.alloc(w);
    const got = fs.readSync(this.file!.fd, buf, 0, w, this.file!.start + i * w);
    if (got !== w) throw new DamagedSideIndex('the side index ends early');
    return buf.toString('latin1');
  }

  /** The record of `sha` (its text), or null: the delta, then a binary search. Throws DamagedSideIndex on a record not of the shape written. */
  private find(sha: string): string | null {
    const over = this.added.get(sha);
    if (over !== undefined) return over;
    if (this.removed.has(sha)) return null;
    return this.findBelow(sha);
  }

  /** The file's record of `sha` (the delta aside), or null. */
  private findBelow(sha: string): string | null {
    if (!this.count || sha.length !== this.idLength) return null;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const rec = this.recordAt(mid);
      const key = rec.slice(0, this.idLength);
      if (key === sha) {
        if (!recordShape(this.idLength).test(rec)) throw new DamagedSideIndex(`a side index record is damaged (${key.slice(0, 12)})`);
        return rec;
      }
      if (!/^[0-9a-f]+$/.test(key)) throw new DamagedSideIndex('a side index record is damaged');
      if (key < sha) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  has(sha: string): boolean {
    return this.find(sha) !== null;
  }

  /** The commit as the views need it, when it has no trailer claim (those are in the summary), or undefined. */
  info(sha: string): (CommitInfo & { time: number; depth: number }) | undefined {
    const rec = this.find(sha);
    if (rec === null) return undefined;
    const n = this.idLength;
    const parent = rec.slice(n + 1, 2 * n + 1);
    return {
      sha,
      parent: parent.startsWith('-') ? null : parent,
      tree: rec.slice(2 * n + 2, 3 * n + 2),
      time: Number(rec.slice(3 * n + 3, 3 * n + 14)),
      depth: Number(rec.slice(3 * n + 15, 3 * n + 24)),
      claim: { kind: 'none' },
    };
  }

  /** The file's records (the delta aside), in memory (read whole from the file once). */
  private below(): string {
    if (this.text === null) {
      const length = this.count * this.width;
      const buf = Buffer.alloc(length);
      const got = fs.readSync(this.file!.fd, buf, 0, length, this.file!.start);
      if (got !== length) throw new DamagedSideIndex('the side index ends early');
      this.text = buf.toString('latin1');
    }
    return this.text;
  }

  /** Every record, the delta applied, sorted and concatenated. */
  private records(): string {
    const text = this.below();
    if (!this.added.size && !this.removed.size) return text;
    const width = this.width;
    const fresh = [...this.added.values()].sort();
    const out: string[] = [];
    let j = 0;
    for (let at = 0; at < text.length; at += width) {
      const rec = text.slice(at, at + width);
      while (j < fresh.length && fresh[j]! < rec) out.push(fresh[j++]!);
      if (!this.removed.has(rec.slice(0, this.idLength))) out.push(rec);
    }
    while (j < fresh.length) out.push(fresh[j++]!);
    return out.join('');
  }

  /**
   * This index less `removed` (commits it holds), plus `added` (commits it does not hold; depths set): the same
   * file with a delta grown by these, nothing read but what the lookups read.
   */
  with(added: readonly SideCommit[], removed: ReadonlySet<string>): SideIndex {
    if (!added.length && !removed.size) return this;
    const idLength = this.size ? this.idLength : added[0]?.sha.length ?? 40;
    const over = new Map(this.added);
    const gone = new Set(this.removed);
    for (const sha of removed) {
      // an added record goes; one of the file is hidden
      if (!over.delete(sha) && this.findBelow(sha) !== null) gone.add(sha);
    }
    // a commit of the file hidden before and added again: the added record stands over it (gone still hides it)
    for (const c of added) over.set(c.sha, record(c, idLength));
    return new SideIndex(this.text, this.count, idLength, this.file, over, gone);
  }

  /** The delta over the file this index reads (sorted), or null: an index made whole in memory has no file. */
  delta(): { added: string[]; removed: string[] } | null {
    if (!this.file) return null;
    return { added: [...this.added.values()].sort(), removed: [...this.removed].sort() };
  }

  /** Writes the index whole under `id`, atomically. */
  write(file: string, id: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    const records = this.records();
    fs.writeFileSync(tmp, `${JSON.stringify({ id, idLength: this.idLength, count: records.length / this.width })}\n${records}`, 'latin1');
    replaceCacheFile(tmp, file);
  }

  /**
   * The index written under `id`, opened (records are read as searched), with `delta` (the summary's) over it, or
   * null: none, another id, not of the size its header says, a delta not of the shape written. Close it when done.
   */
  static read(file: string, id: string, delta: { added: string[]; removed: string[] } = { added: [], removed: [] }): SideIndex | null {
    return openHeaded(file, (fd, head, start, size) => {
      const { idLength, count } = head ?? {};
      if (head?.id !== id || (idLength !== 40 && idLength !== 64) || typeof count !== 'number' || !Number.isInteger(count)) return null;
      if (size !== start + count * recordWidth(idLength)) return null;
      const added = new Map<string, string>();
      for (const rec of delta.added) {
        if (!recordShape(idLength).test(rec)) return null;
        added.set(rec.slice(0, idLength), rec);
      }
      if (!delta.removed.every((sha) => sha.length === idLength && /^[0-9a-f]+$/.test(sha))) return null;
      return new SideIndex(null, count, idLength, { fd, start, closed: false }, added, new Set(delta.removed));
    });
  }

  /** Closes the file it reads from, if any (its records already read stay usable). */
  close(): void {
    // once (the indexes made from it share it): a second close could close a descriptor the number was given to since
    if (!this.file || this.file.closed) return;
    this.file.closed = true;
    try {
      fs.closeSync(this.file.fd);
    } catch {
      /* closed */
    }
  }
}

/** Records added and ids removed past which the side index file is written again whole. */
export const SIDE_DELTA_LIMIT = 256;

/** A side index record that is not of the shape written (the file's size checked out, its content did not). */
export class DamagedSideIndex extends Error {}

const recordWidth = (n: number) => 3 * n + 25;
const shapes = new Map<number, RegExp>();
function recordShape(n: number): RegExp {
  let re = shapes.get(n);
  if (!re) shapes.set(n, (re = new RegExp(`^[0-9a-f]{${n}} ([0-9a-f]{${n}}|-{${n}}) [0-9a-f]{${n}} [-+][0-9]{10} [0-9]{9}\\n$`)));
  return re;
}

function record(c: SideCommit, n: number): string {
  const t = Math.max(-9_999_999_999, Math.min(9_999_999_999, Math.trunc(c.time)));
  return `${c.sha} ${c.parent ?? '-'.repeat(n)} ${c.tree} ${t < 0 ? '-' : '+'}${String(Math.abs(t)).padStart(10, '0')} ${String(c.depth ?? 0).padStart(9, '0')}\n`;
}

/**
 * Sets the depths of `fresh`, commits new since `index` was written (children of its commits, or of each other):
 * from their parents' depths, fresh or indexed. The same depths sortSide gives the whole.
 */
export function setFreshDepths(fresh: SideCommit[], index: SideIndex): void {
  const bySha = new Map<string, SideCommit>();
  for (const c of fresh) {
    c.depth = undefined;
    bySha.set(c.sha, c);
  }
  for (const c of fresh) {
    for (const p of c.parents) {
      if (bySha.has(p)) continue;
      const known = index.info(p);
      if (known) bySha.set(p, { ...known, parents: known.parent ? [known.parent] : [] });
    }
  }
  setDepths(fresh, bySha);
}
