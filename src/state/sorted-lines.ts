import fs from 'node:fs';
import path from 'node:path';
import { replaceCacheFile } from './cache-file.js';

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
  replaceCacheFile(tmp, file);
}


/** A damaged sorted-lines file (the size checked out, what it holds did not). */
export class DamagedLinesError extends Error {}

/** The most lookups a memo file holds before it is written again with only the answers of the files in use. */
const MEMO_KEEP = 4096;

/**
 * What lookups in sorted-lines files answered, kept between runs: a `status` looks up the same hundred keys (the
 * tasks in flight, their notes) in files of 100,000 lines run after run, and each search costs a dozen probes of
 * scattered blocks (≈ 70 µs, ≈ 8 ms a run in all); the memo answers them with one small read. A sorted-lines file is
 * never written in place (a new one, under a new id in its header, is renamed over it), so an answer is kept under
 * the id and size of the file that gave it, and holds as long as that file does.
 *
 * The memo file is JSON lines, `[file, key, value]` (value null: no such key). A run appends what it learned, in one
 * write (a kill mid-way leaves a torn line, skipped when read, as is any line that does not parse); the file is
 * written again (a temp file renamed over it) with only the answers of the files this run used when it holds more
 * than MEMO_KEEP lines or mostly lines of files no longer in use.
 */
export class LookupMemo {
  private static readonly byFile = new Map<string, LookupMemo>();
  private readonly kept = new Map<string, Map<string, string | null>>();
  private readonly used = new Map<string, Map<string, string | null>>();
  private learned: [string, string, string | null][] = [];
  private lines = 0;

  private constructor(private readonly file: string | null) {
    if (!file) return;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // none yet
    }
    // the lines up to the last newline (after it: a torn line), read at once; one by one when one does not parse
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    let entries: unknown[];
    try {
      entries = JSON.parse(`[${whole.slice(0, -1).replaceAll('\n', ',')}]`) as unknown[];
    } catch {
      entries = [];
      for (const line of whole.split('\n')) {
        try {
          entries.push(JSON.parse(line));
        } catch {
          /* damaged: skipped */
        }
      }
    }
    for (const e of entries) {
      this.lines++;
      if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'string' || typeof e[1] !== 'string' || !(typeof e[2] === 'string' || e[2] === null)) continue;
      let map = this.kept.get(e[0]);
      if (!map) this.kept.set(e[0], (map = new Map()));
      map.set(e[1], e[2] as string | null);
    }
  }

  /** This process's memo kept in `file` (read once); a memo that keeps nothing when `file` is null. */
  static at(file: string | null): LookupMemo {
    if (!file) return new LookupMemo(null);
    let memo = LookupMemo.byFile.get(file);
    if (!memo) LookupMemo.byFile.set(file, (memo = new LookupMemo(file)));
    return memo;
  }

  /** The memo kept in `file`, read now (as a new run reads it). */
  static read(file: string): LookupMemo {
    return new LookupMemo(file);
  }

  /** The answer kept for `key` in the file `id` names: a value, null (no such key), or undefined (not kept). */
  lookup(id: string, key: string): string | null | undefined {
    const v = this.kept.get(id)?.get(key);
    if (v !== undefined) this.use(id, key, v);
    return v;
  }

  /** Keeps what a search of the file `id` names found. */
  note(id: string, key: string, value: string | null): void {
    this.use(id, key, value);
    let map = this.kept.get(id);
    if (!map) this.kept.set(id, (map = new Map()));
    map.set(key, value);
    this.learned.push([id, key, value]);
  }

  private use(id: string, key: string, value: string | null): void {
    let map = this.used.get(id);
    if (!map) this.used.set(id, (map = new Map()));
    map.set(key, value);
  }

  /** Writes what this run learned (appended, or the file written again: see above); failures are ignored. */
  save(): void {
    if (!this.file || this.learned.length === 0) return;
    const learned = this.learned;
    this.learned = [];
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      let stale = 0;
      for (const [id, map] of this.kept) if (!this.used.has(id)) stale += map.size;
      if (this.lines + learned.length <= MEMO_KEEP && stale * 2 <= this.lines + learned.length) {
        fs.appendFileSync(this.file, learned.map((e) => `${JSON.stringify(e)}\n`).join(''));
        this.lines += learned.length;
        return;
      }
      let text = '';
      let lines = 0;
      for (const [id, map] of this.used) {
        const all = this.kept.get(id)!;
        for (const [k, v] of all.size + lines <= MEMO_KEEP ? all : map) {
          text += `${JSON.stringify([id, k, v])}\n`;
          lines++;
        }
      }
      for (const id of [...this.kept.keys()]) if (!this.used.has(id)) this.kept.delete(id);
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      replaceCacheFile(tmp, this.file);
      this.lines = lines;
    } catch {
      /* only a cache */
    }
  }
}

/** An open sorted-lines file: its header, and lookups by key. Close it when done. */
export class SortedLines {
  /** how the memo names this very file (its header's id and its size), when it has an id */
  private readonly memoId: string | null;

  private constructor(
    private readonly fd: number,
    readonly header: Record<string, unknown>,
    private readonly start: number,
    private readonly lines: number,
    private readonly table: number,
    private readonly memo: LookupMemo | null,
  ) {
    this.memoId = memo && typeof header.id === 'string' && header.id.length >= 16 ? `${header.id}:${header.size}` : null;
  }

  /**
   * Opens `file`; null when it is missing or not a whole sorted-lines file. With `memo`, lookups are answered by
   * what earlier runs found in this very file (see LookupMemo), and kept there.
   */
  static open(file: string, memo?: LookupMemo): SortedLines | null {
    return openHeaded(file, (fd, header, start, size) => {
      const lines = header?.lines;
      if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0 || header.size !== size) return null;
      const table = size - (lines + 1) * OFFSET;
      if (table < start) return null;
      return new SortedLines(fd, header, start, lines, table, memo ?? null);
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
    if (!this.memoId) return this.search(key);
    const kept = this.memo!.lookup(this.memoId, key);
    if (kept !== undefined) return kept ?? undefined;
    const found = this.search(key);
    this.memo!.note(this.memoId, key, found ?? null);
    return found;
  }

  /** The binary search for `key`. */
  private search(key: string): string | undefined {
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
