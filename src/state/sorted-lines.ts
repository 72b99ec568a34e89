import fs from 'node:fs';

/**
 * A file of lines `<key>\t<value>` sorted by key (bytewise), with a table of the lines' offsets at its end, so one
 * key is found by a binary search of a few small reads, whatever the file's size: a cache of 100,000 tasks' notes
 * answers for the five tasks a `status` looks at without reading its 30 MB. Keys hold no tab or newline; values no
 * newline.
 *
 * Layout: a header line (JSON, the caller's, with `lines` and `table` added), the lines, then the table: one
 * 6-byte little-endian offset per line and one more for where the lines end. The header records the file's size,
 * so a truncated file is no file.
 */
const OFFSET = 6;
/** The size of the blocks small reads go through (see SortedLines.read). */
const BLOCK = 8192;

/** Bytewise order of two keys (UTF-16 order is the same for keys without characters past U+FFFF, checked for). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
const ASCII = /^[\x00-\x7f]*$/;

/** Writes `entries` (any order; keys distinct) with `header` as a sorted-lines file, atomically. */
export function writeSortedLines(file: string, header: Record<string, unknown>, entries: Iterable<[string, string]>): void {
  const lines = [...entries];
  // one string and one buffer for the whole file: a buffer per line costs a 100,000-note log seconds of collection
  const ascii = lines.every(([k]) => ASCII.test(k));
  if (ascii) lines.sort((a, b) => compareKeys(a[0], b[0]));
  else lines.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const offsets = new Array<number>(lines.length + 1);
  let at = 0;
  const parts = new Array<string>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const [k, v] = lines[i]!;
    offsets[i] = at;
    const line = `${k}\t${v}\n`;
    parts[i] = line;
    at += Buffer.byteLength(line);
  }
  offsets[lines.length] = at;
  const body = Buffer.from(parts.join(''));
  // offsets are relative to the end of the header line, whose length is not known until written
  const table = Buffer.alloc(offsets.length * OFFSET);
  offsets.forEach((o, i) => table.writeUIntLE(o, i * OFFSET, OFFSET));
  const head = (size: number) => Buffer.from(`${JSON.stringify({ ...header, lines: lines.length, size })}\n`);
  // the size counts the header line itself, whose length depends on the size's digits: settle it
  let headBuf = head(0);
  for (let i = 0; i < 3; i++) headBuf = head(headBuf.length + body.length + table.length);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const buf of [headBuf, body, table]) fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}


/** A damaged sorted-lines file (the size checked out, what it holds did not). */
export class DamagedLinesError extends Error {}

/** An open sorted-lines file: its header, and lookups by key. Close it when done. */
export class SortedLines {
  private constructor(
    private readonly fd: number,
    readonly header: Record<string, unknown>,
    private readonly start: number,
    private readonly lines: number,
    private readonly table: number,
  ) {}

  /** Opens `file`; null when it is missing or not a whole sorted-lines file. */
  static open(file: string): SortedLines | null {
    return openHeaded(file, (fd, header, start, size) => {
      const lines = header?.lines;
      if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0 || header.size !== size) return null;
      const table = size - (lines + 1) * OFFSET;
      if (table < start) return null;
      return new SortedLines(fd, header, start, lines, table);
    });
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }

  get count(): number {
    return this.lines;
  }

  /**
   * `length` bytes at `pos`. A small read goes through BLOCK-sized blocks, kept: a binary search's last probes, and
   * the offsets they read, fall in the same few blocks, and every search starts with the same probes (a status that
   * looks up a hundred keys reads a few dozen blocks, not thousands of scattered bytes).
   */
  private read(pos: number, length: number): Buffer {
    const k = Math.floor(pos / BLOCK);
    if (length <= BLOCK && Math.floor((pos + length - 1) / BLOCK) === k) {
      const b = this.block(k);
      const at = pos - k * BLOCK;
      if (at + length > b.length) throw new DamagedLinesError('a sorted-lines file ends early');
      return b.subarray(at, at + length);
    }
    const buf = Buffer.alloc(length);
    const got = fs.readSync(this.fd, buf, 0, length, pos);
    if (got !== length) throw new DamagedLinesError('a sorted-lines file ends early');
    return buf;
  }

  private readonly blocks = new Map<number, Buffer>();

  /** Block k of the file (shorter at its end). */
  private block(k: number): Buffer {
    let b = this.blocks.get(k);
    if (!b) {
      // carved from a larger allocation: an ArrayBuffer per block cost more than the reads
      if (this.slab.length - this.used < BLOCK) {
        this.slab = Buffer.allocUnsafeSlow(32 * BLOCK);
        this.used = 0;
      }
      const buf = this.slab.subarray(this.used, this.used + BLOCK);
      this.used += BLOCK;
      b = buf.subarray(0, fs.readSync(this.fd, buf, 0, BLOCK, k * BLOCK));
      this.blocks.set(k, b);
    }
    return b;
  }

  private slab = Buffer.alloc(0);
  private used = 0;

  /** The byte range of line i (its key and value, without the newline). */
  private range(i: number): [number, number] {
    const b = this.read(this.table + i * OFFSET, 2 * OFFSET);
    const from = this.start + b.readUIntLE(0, OFFSET);
    const to = this.start + b.readUIntLE(OFFSET, OFFSET) - 1;
    if (from > to || to > this.table) throw new DamagedLinesError('a sorted-lines offset is out of range');
    return [from, to];
  }

  /** The keys of the lines a search probed, by line: the first probes of every search are the same lines. */
  private readonly probed = new Map<number, { from: number; to: number; key: Buffer }>();

  /** Line i's byte range and key (one read of its offsets, one of its start; remembered). */
  private probe(i: number): { from: number; to: number; key: Buffer } {
    let p = this.probed.get(i);
    if (p) return p;
    const [from, to] = this.range(i);
    // keys are short (an object id, `t:<task>`): one small read holds the key and its tab
    let head = this.read(from, Math.min(to - from, 128));
    let tab = head.indexOf(9);
    if (tab < 0 && to - from > head.length) {
      head = this.read(from, to - from);
      tab = head.indexOf(9);
    }
    if (tab < 0) throw new DamagedLinesError('a sorted-lines line is not key and value');
    p = { from, to, key: head.subarray(0, tab) };
    this.probed.set(i, p);
    return p;
  }

  /** The value stored for `key`, or undefined. */
  get(key: string): string | undefined {
    const want = Buffer.from(key);
    let lo = 0;
    let hi = this.lines;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.probe(mid);
      const c = Buffer.compare(p.key, want);
      if (c === 0) return this.read(p.from + want.length + 1, p.to - p.from - want.length - 1).toString('utf8');
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  /** Every line, in key order (reads the whole file once). */
  *entries(): Generator<[string, string]> {
    const body = this.read(this.start, this.table - this.start);
    let at = 0;
    for (let i = 0; i < this.lines; i++) {
      const nl = body.indexOf(10, at);
      const tab = body.indexOf(9, at);
      if (nl < 0 || tab < 0 || tab > nl) throw new DamagedLinesError('a sorted-lines line is not key and value');
      yield [body.toString('utf8', at, tab), body.toString('utf8', tab + 1, nl)];
      at = nl + 1;
    }
  }
}

/**
 * Opens `file`, a JSON header line and then a body, and hands the open file, its header, where the body starts and
 * the file's size to `make`; null (the file closed) when it is missing, has no header line, or `make` refuses it.
 */
export function openHeaded<T>(file: string, make: (fd: number, header: Record<string, unknown>, start: number, size: number) => T | null): T | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    // the header is one line, usually small (a list of bad note lines can make it larger)
    let first = Buffer.alloc(Math.min(size, 8192));
    let got = fs.readSync(fd, first, 0, first.length, 0);
    let nl = first.subarray(0, got).indexOf(10);
    while (nl < 0 && got < size) {
      first = Buffer.alloc(Math.min(size, first.length * 4));
      got = fs.readSync(fd, first, 0, first.length, 0);
      nl = first.subarray(0, got).indexOf(10);
    }
    if (nl < 0) throw new Error('no header');
    const made = make(fd, JSON.parse(first.toString('utf8', 0, nl)) as Record<string, unknown>, nl + 1, size);
    if (made === null) throw new Error('refused');
    return made;
  } catch {
    fs.closeSync(fd);
    return null;
  }
}
