import fs from 'node:fs';
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
 */
export class SideIndex {
  private constructor(
    /** the records, sorted, concatenated; null while only the file is open (read whole when first needed) */
    private text: string | null,
    private readonly count: number,
    private readonly idLength: number,
    /** the file the records are read from, and where they start in it */
    private readonly file: { fd: number; start: number } | null = null,
  ) {}

  static readonly empty = new SideIndex('', 0, 40);
  private closed = false;

  /** The index of `commits` (depths set). */
  static of(commits: readonly SideCommit[]): SideIndex {
    if (!commits.length) return SideIndex.empty;
    const idLength = commits[0]!.sha.length;
    const records = commits.map((c) => record(c, idLength));
    records.sort();
    return new SideIndex(records.join(''), records.length, idLength);
  }

  get size(): number {
    return this.count;
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

  /** The record of `sha` (its text), or null: a binary search. Throws DamagedSideIndex on a record not of the shape written. */
  private find(sha: string): string | null {
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

  /** Every record, in memory (read whole from the file once). */
  private records(): string {
    if (this.text === null) {
      const length = this.count * this.width;
      const buf = Buffer.alloc(length);
      const got = fs.readSync(this.file!.fd, buf, 0, length, this.file!.start);
      if (got !== length) throw new DamagedSideIndex('the side index ends early');
      this.text = buf.toString('latin1');
    }
    return this.text;
  }

  /** This index less `removed`, plus `added` (depths set). */
  with(added: readonly SideCommit[], removed: ReadonlySet<string>): SideIndex {
    if (!added.length && !removed.size) return this;
    const idLength = this.count ? this.idLength : added[0]?.sha.length ?? 40;
    const width = recordWidth(idLength);
    const fresh = added.map((c) => record(c, idLength)).sort();
    const text = this.records();
    const out: string[] = [];
    let j = 0;
    for (let at = 0; at < text.length; at += width) {
      const rec = text.slice(at, at + width);
      while (j < fresh.length && fresh[j]! < rec) out.push(fresh[j++]!);
      if (!removed.has(rec.slice(0, idLength))) out.push(rec);
    }
    while (j < fresh.length) out.push(fresh[j++]!);
    return out.length ? new SideIndex(out.join(''), out.length, idLength) : SideIndex.empty;
  }

  /** Writes the index under `id`, atomically. */
  write(file: string, id: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ id, idLength: this.idLength, count: this.count })}\n${this.records()}`, 'latin1');
    fs.renameSync(tmp, file);
  }

  /**
   * The index written under `id`, opened (records are read as searched), or null: none, another id, not of the size
   * its header says. Close it when done.
   */
  static read(file: string, id: string): SideIndex | null {
    return openHeaded(file, (fd, head, start, size) => {
      const { idLength, count } = head ?? {};
      if (head?.id !== id || (idLength !== 40 && idLength !== 64) || typeof count !== 'number' || !Number.isInteger(count)) return null;
      if (size !== start + count * recordWidth(idLength)) return null;
      return new SideIndex(null, count, idLength, { fd, start });
    });
  }

  /** Closes the file it reads from, if any (its records already read stay usable). */
  close(): void {
    // once: a second close could close a descriptor the number was given to since
    if (!this.file || this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.file.fd);
    } catch {
      /* closed */
    }
  }
}

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
