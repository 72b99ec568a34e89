import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BadLine, OmniEvent } from '../notes/events.js';
import { buildFingerprint } from './build.js';

/** One annotated object's decoded note: its events and its unreadable lines. */
export type DecodedNote = [OmniEvent[], BadLine[]];

/**
 * A machine-local cache of what read commands decode from git, keyed by the immutable objects it came from:
 * a notes ref's tip commit, the base branch's tip. Deleting it loses nothing (DESIGN.md section 1); it only
 * saves re-reading and re-parsing tens of thousands of notes when nothing changed.
 */
export interface StateCache {
  /** per notes ref: the tip it was read at, and each annotated object's decoded note */
  notes: Map<string, { tip: string; objects: Map<string, DecodedNote> }>;
  /**
   * the base branch's tips (with the trailer settings) it was read at, and the newest commit carrying each task's
   * trailer; `tips`, when known, those of the key's tips in no other's history (what an incremental read excludes)
   */
  base: BaseScan | null;
  /** the checksum of the base scan's bulk part as read (the newer part is written over it), or null */
  baseSum?: string | null;
  /** the parts to write back: notes refs that moved (or are gone), and BASE_CACHE_PART */
  dirty: Set<string>;
}

/**
 * On disk, each event is an array of its values in a fixed field order per type: JSON.parse reads arrays about
 * three times faster than objects with repeated keys (10,000 tasks: ~50 ms instead of ~160 ms). The order is the
 * one encodeEvent writes (v, type, at, by, host, then the rest sorted), so an unpacked event has the keys of the
 * line it came from in the same order. An event whose keys are not exactly these, in this order (a field more,
 * an optional one missing, a line written by hand) is kept as the object it was: the cache gives back exactly
 * what the note said.
 */
const FIELDS: Record<OmniEvent['type'], readonly string[]> = {
  patchset: ['author', 'branch', 'commit', 'parent', 'supersedes', 'task', 'tree', 'via'],
  review: ['commit', 'message', 'task', 'verdict'],
  verify: ['commit', 'exitCode', 'result', 'spec', 'step', 'summary', 'task', 'tree'],
  land: ['base', 'commit', 'landed', 'newTip', 'oldTip', 'patchset', 'task'],
  revert: ['base', 'commit', 'landed', 'reason', 'revert', 'task'],
  attempt: ['commit', 'error', 'outcome', 'role', 'task'],
};
const HEAD = ['v', 'type', 'at', 'by', 'host'] as const;
const KEYS = Object.fromEntries(Object.entries(FIELDS).map(([type, fields]) => [type, [...HEAD, ...fields].join('\0')])) as Record<OmniEvent['type'], string>;

type PackedEvent = unknown[] | OmniEvent;

/** One notes ref's part on disk. */
interface CachedRef {
  tip: string;
  objects: [string, PackedEvent[], BadLine[]][];
}


function pack(e: OmniEvent): PackedEvent {
  const record = e as unknown as Record<string, unknown>;
  if (Object.keys(record).join('\0') !== KEYS[e.type]) return e;
  const out: unknown[] = [e.type, e.at, e.by, e.host];
  for (const f of FIELDS[e.type]) out.push(record[f]);
  return out;
}

function unpack(p: PackedEvent): OmniEvent {
  if (!Array.isArray(p)) return p;
  const type = p[0] as OmniEvent['type'];
  const e: Record<string, unknown> = { v: 1, type, at: p[1], by: p[2], host: p[3] };
  const fields = FIELDS[type];
  for (let i = 0; i < fields.length; i++) e[fields[i]!] = p[4 + i];
  return e as unknown as OmniEvent;
}

/** A notes ref's part as read from disk (its checksum held: this build wrote exactly these bytes). */
function decodedPart(part: CachedRef | null): { tip: string; objects: Map<string, DecodedNote> } | null {
  if (!part || typeof part.tip !== 'string' || !Array.isArray(part.objects)) return null;
  const decoded = new Map<string, DecodedNote>();
  for (const [object, packed, bad] of part.objects) decoded.set(object, [packed.map(unpack), bad]);
  return { tip: part.tip, objects: decoded };
}

/** What a scan of the base branch found, and where it stands. */
export interface BaseScan {
  key: string;
  tips?: string[];
  landed: LandedIndex;
}

/** A cached part of the base scan that is not what this build writes (a hand, a disk, a bug). */
export class DamagedCacheError extends Error {}

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The landings a base scan found: each task and the newest commit on the base carrying its trailer. A repository
 * of any age has landed many tasks: the bulk stays the JSON text it was read as (one part on disk, written when the
 * base is read whole), and a lookup of a few tasks (land, show) searches that text instead of parsing it; what
 * later scans added is a small map over it (`newer`, its own part on disk). `all()` parses the bulk once, for the
 * read commands that list every task.
 */
export class LandedIndex {
  private parsed: Map<string, string> | null = null;

  constructor(
    /** the JSON text of an array of [task, commit] pairs (its bytes checksummed by the part that held it) */
    private readonly bulk: string,
    /** landings found since the bulk was written, newest winning */
    readonly newer: ReadonlyMap<string, string> = new Map(),
  ) {}

  static of(entries: Iterable<[string, string]>): LandedIndex {
    const index = new LandedIndex(JSON.stringify([...entries]));
    return index;
  }

  /** The commit that landed `task`, or undefined. */
  get(task: string): string | undefined {
    const newer = this.newer.get(task);
    if (newer !== undefined) return newer;
    if (this.parsed) return this.parsed.get(task);
    // a JSON string never holds a bare quote, so `["<task>","` starts exactly that task's pair
    const needle = `[${JSON.stringify(task)},"`;
    const at = this.bulk.indexOf(needle);
    if (at < 0) return undefined;
    const start = at + needle.length;
    const sha = this.bulk.slice(start, this.bulk.indexOf('"', start));
    if (!OID.test(sha)) throw new DamagedCacheError(`the base scan's cached landing of ${task} is not an object id`);
    return sha;
  }

  /** Every landing (throws DamagedCacheError when the bulk is not a list of pairs of strings). */
  all(): Map<string, string> {
    if (!this.parsed) {
      let pairs: unknown;
      try {
        pairs = JSON.parse(this.bulk);
      } catch {
        throw new DamagedCacheError("the base scan's cached landings are not JSON");
      }
      if (!Array.isArray(pairs)) throw new DamagedCacheError("the base scan's cached landings are not a list");
      const map = new Map<string, string>();
      for (const p of pairs) {
        if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string' || !OID.test(p[1])) throw new DamagedCacheError("the base scan's cached landings are not pairs of a task and an object id");
        map.set(p[0], p[1]);
      }
      this.parsed = map;
    }
    if (this.newer.size === 0) return this.parsed;
    const out = new Map(this.parsed);
    for (const [task, sha] of this.newer) out.set(task, sha);
    return out;
  }

  /** This index with `fresh` landings on top (they win). */
  with(fresh: ReadonlyMap<string, string>): LandedIndex {
    const newer = new Map(this.newer);
    for (const [task, sha] of fresh) newer.set(task, sha);
    const next = new LandedIndex(this.bulk, newer);
    next.parsed = this.parsed;
    return next;
  }

  /** The bulk's text, for writing it back as it was read. */
  bulkText(): string {
    return this.bulk;
  }
}

const isTips = (t: unknown): t is string[] | undefined => t === undefined || (Array.isArray(t) && t.every((x) => typeof x === 'string'));

/**
 * The base scan from its two parts: the bulk (`base`: key, tips, landings; read without parsing the landings) and,
 * when it extends that very bulk, the newer part (`base-newer`: the key and tips it was brought to, and the landings
 * found since). A part that does not check out is not there.
 */
function readBase(stateDir: string): { scan: BaseScan; bulkSum: string } | null {
  const bulk = readPartText(stateDir, BASE_PART);
  if (!bulk) return null;
  // `{"key":…,"tips":…,"landed":[…]}`, written in that order: the landings are what follows `,"landed":` (outside
  // JSON strings, which cannot hold a bare quote)
  const cut = bulk.body.indexOf(LANDED_AT);
  if (cut < 0 || !bulk.body.endsWith(']}')) return null;
  let head: { key?: unknown; tips?: unknown };
  try {
    head = JSON.parse(`${bulk.body.slice(0, cut)}}`);
  } catch {
    return null;
  }
  if (typeof head?.key !== 'string' || !isTips(head.tips)) return null;
  const landed = bulk.body.slice(cut + LANDED_AT.length, -1);
  if (!landed.startsWith('[')) return null;
  const newer = readPart<{ over: unknown; key: unknown; tips?: unknown; landed: unknown }>(stateDir, NEWER_PART);
  if (
    newer &&
    newer.over === bulk.sum &&
    typeof newer.key === 'string' &&
    isTips(newer.tips) &&
    Array.isArray(newer.landed) &&
    newer.landed.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')
  ) {
    return { scan: { key: newer.key, tips: newer.tips, landed: new LandedIndex(landed, new Map(newer.landed as [string, string][])) }, bulkSum: bulk.sum };
  }
  return { scan: { key: head.key, tips: head.tips, landed: new LandedIndex(landed) }, bulkSum: bulk.sum };
}

/** Landings found since the bulk was written, past which the two parts are written as one bulk again. */
const NEWER_LIMIT = 2000;

/**
 * Writes the base scan: only the newer part when the scan extends the bulk on disk by few landings (each land moves
 * the base: writing 100,000 landings again for one would cost more than the land), else the bulk, whole.
 */
function writeBase(stateDir: string, base: BaseScan, bulkSum: string | null): void {
  const newer = base.landed.newer;
  // (none newer: the base moved by commits that land no task; the key and tips still change)
  if (bulkSum !== null && newer.size <= NEWER_LIMIT) {
    writePart(stateDir, NEWER_PART, { over: bulkSum, key: base.key, tips: base.tips, landed: [...newer] });
    return;
  }
  const landed = newer.size ? JSON.stringify([...base.landed.all()]) : base.landed.bulkText();
  writePartText(stateDir, BASE_PART, `${JSON.stringify({ key: base.key, tips: base.tips }).slice(0, -1)}${LANDED_AT}${landed}}`);
  fs.rmSync(partFile(stateDir, NEWER_PART), { force: true });
}

function empty(): StateCache {
  return { notes: new Map(), base: null, baseSum: null, dirty: new Set() };
}

/** The cache lives in one file per part (each notes ref, the base branch), so a moved ref rewrites only its own. */
const DIR = 'state-cache';
const BASE_PART = 'base';
const NEWER_PART = 'base-newer';
const LANDED_AT = ',"landed":';
const partFile = (stateDir: string, part: string) => path.join(stateDir, DIR, `${part.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);

/** The file format: a header, then the value, whose sha1 the header holds. */
const FORMAT = 6;
const VALUE_AT = ',"value":';

/**
 * A part's value, or null when the file is missing, of another format or build, or damaged. The file is
 * machine-local and anything may have written it (a crash mid-way is ruled out by the atomic rename, a hand, a
 * disk or a bug is not): the header holds a sha1 of the value's bytes, so any change to them (a truncation, a
 * value of another shape) is found by hashing them (about 1 ms a megabyte) instead of checking every one of
 * 30,000 events again, and a part this build wrote comes back exactly as it was written.
 */
function readPart<T>(stateDir: string, part: string): T | null {
  const text = readPartText(stateDir, part);
  if (!text) return null;
  try {
    return JSON.parse(text.body) as T;
  } catch {
    return null;
  }
}

/** A part's value as the JSON text it was written as, and its checksum; null as readPart says. */
function readPartText(stateDir: string, part: string): { body: string; sum: string } | null {
  try {
    const text = fs.readFileSync(partFile(stateDir, part), 'utf8');
    const at = text.indexOf(VALUE_AT);
    if (at < 0 || !text.endsWith('}')) return null;
    const header = JSON.parse(`${text.slice(0, at)}}`) as { format: number; build: string; part: string; sum: string };
    if (header?.format !== FORMAT || header.build !== buildFingerprint() || header.part !== part) return null;
    const body = text.slice(at + VALUE_AT.length, -1);
    if (createHash('sha1').update(body).digest('hex') !== header.sum) return null;
    return { body, sum: header.sum };
  } catch {
    return null;
  }
}

function writePart(stateDir: string, part: string, value: unknown): void {
  writePartText(stateDir, part, JSON.stringify(value));
}

/** Writes a part whose value is the JSON text `body`, atomically; returns its checksum. */
function writePartText(stateDir: string, part: string, body: string): string {
  const file = partFile(stateDir, part);
  const tmp = `${file}.${process.pid}.tmp`;
  const sum = createHash('sha1').update(body).digest('hex');
  // one JSON document, the value last: its bytes are the ones the sum is of
  fs.writeFileSync(tmp, `${JSON.stringify({ format: FORMAT, build: buildFingerprint(), part, sum }).slice(0, -1)}${VALUE_AT}${body}}`);
  fs.renameSync(tmp, file);
  return sum;
}

/**
 * Reads the cached parts for the notes refs named (and the base branch's); a missing, unreadable, old-format,
 * other-build or damaged part is simply not there (it is read from git again and rewritten).
 */
export function readStateCache(stateDir: string | null, refs: readonly string[]): StateCache {
  const cache = empty();
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return cache;
  for (const ref of refs) {
    const part = decodedPart(readPart<CachedRef>(stateDir, ref));
    if (part) cache.notes.set(ref, part);
  }
  const base = readBase(stateDir);
  cache.base = base?.scan ?? null;
  cache.baseSum = base?.bulkSum ?? null;
  return cache;
}

/** Writes the parts marked dirty, each atomically; failures (a read-only repository) are ignored: it is only a cache. */
export function writeStateCache(stateDir: string | null, cache: StateCache): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE || cache.dirty.size === 0) return;
  try {
    fs.mkdirSync(path.join(stateDir, DIR), { recursive: true });
    for (const part of cache.dirty) {
      if (part === BASE_PART) {
        if (cache.base) writeBase(stateDir, cache.base, cache.baseSum ?? null);
        else for (const p of [BASE_PART, NEWER_PART]) fs.rmSync(partFile(stateDir, p), { force: true });
        continue;
      }
      const entry = cache.notes.get(part);
      if (!entry) {
        fs.rmSync(partFile(stateDir, part), { force: true });
        continue;
      }
      const objects = [...entry.objects].map(([object, [events, bad]]) => [object, events.map(pack), bad]);
      writePart(stateDir, part, { tip: entry.tip, objects });
    }
    // the single-file cache of earlier builds
    fs.rmSync(path.join(stateDir, 'state-cache.json'), { force: true });
  } catch {
    /* only a cache */
  }
}

/** The name of the base branch's part, for StateCache.dirty. */
export const BASE_CACHE_PART = BASE_PART;

/** Removes the cached base scan (found damaged): the next read scans the base whole. */
export function forgetBaseScan(stateDir: string | null): void {
  if (!stateDir) return;
  for (const p of [BASE_PART, NEWER_PART]) fs.rmSync(partFile(stateDir, p), { force: true });
}
