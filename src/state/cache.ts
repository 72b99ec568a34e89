import { checksum, randomId } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import type { BadLine, OmniEvent } from '../notes/events.js';
import { appendTo } from '../collections.js';
import { buildFingerprint, cachesWritten, rememberBuildFingerprint, writeCacheFile, writeWithCaches } from './build.js';
import { removeCacheFile } from './cache-file.js';
import { LookupMemo, SortedLines, writeSortedLines } from './sorted-lines.js';
import type { SideCommit } from './commits.js';
import { deltaLimit } from './delta-limit.js';
import { SIDE_DELTA_LIMIT, SideIndex } from './side-index.js';
import { failpoint } from '../failpoint.js';
import type { TrailerClaim } from '../notes/claim.js';
import type { TaskId } from '../ids.js';

/** One annotated object's decoded note: its events and its unreadable lines. */
export type DecodedNote = [OmniEvent[], BadLine[]];

/**
 * A machine-local cache of what read commands decode from git, keyed by the immutable objects it came from:
 * a notes ref's tip commit, the base branch's tip. Deleting it loses nothing (DESIGN.md section 1); it only
 * saves re-reading and re-parsing tens of thousands of notes when nothing changed.
 */
export interface StateCache {
  /** per notes ref: the tip it was read at, and each annotated object's decoded note, looked up as needed */
  notes: Map<string, NotesPart>;
  /**
   * the base branch's tips (with the trailer settings) it was read at, and the newest commit carrying each task's
   * trailer; `tips`, when known, those of the key's tips in no other's history (what an incremental read excludes)
   */
  base: BaseScan | null;
  /** the id of the base scan's bulk part as read (the newer part is written over it), or null */
  baseSum?: string | null;
  /** the memo of the lookups in its files, saved when it is closed */
  memo?: LookupMemo;
  /**
   * the side scan (every commit off the base reachable from a branch tip), with the trailer settings, base tips and
   * branch tips it was read at
   */
  side?: SideScan | null;
  /** the parts to write back: notes refs that moved (or are gone), BASE_CACHE_PART, SIDE_CACHE_PART */
  dirty: Set<string>;
}

/**
 * The commits off the base a side scan found (see StateCache.side): whole records of the few the views read (every
 * tip, every commit with a trailer claim), and an index of all of them (src/state/side-index.ts), read when asked.
 */
export interface SideScan {
  key: string;
  base: string[];
  tips: string[];
  /** the tips and the commits with a trailer claim, newest first (sortSide's order), depths set */
  summary: SideCommit[];
  /** every commit of the scan (as read: opened with the parts, its records read as searched) */
  index: SideIndex;
  /** the ids of the summary's and the index's parts as read (absent: not written yet) */
  id?: string;
  allId?: string;
  /** what to write: the summary and tips changed; the index changed */
  summaryChanged?: boolean;
  allChanged?: boolean;
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
  task: ['dependsOn', 'description', 'namespace', 'op', 'parent', 'priority', 'task', 'title'],
};
const HEAD = ['v', 'type', 'at', 'by', 'host'] as const;
const KEYS = Object.fromEntries(Object.entries(FIELDS).map(([type, fields]) => [type, [...HEAD, ...fields].join('\0')])) as Record<OmniEvent['type'], string>;

type PackedEvent = unknown[] | OmniEvent;

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
 * of any age has landed many tasks: the bulk stays on disk (a sorted-lines file, written when the base is read
 * whole), and a lookup of a few tasks (status, land, show) reads only their lines; what later scans added is a small
 * map over it (`newer`, its own part on disk). `all()` reads the bulk once, for the read commands that list every
 * task.
 */
export class LandedIndex {
  private parsed: Map<string, string> | null;

  constructor(
    /** the bulk: the file, or the landings themselves (a scan of the whole base) */
    private readonly bulk: SortedLines | Map<string, string>,
    /** landings found since the bulk was written, newest winning */
    readonly newer: ReadonlyMap<string, string> = new Map(),
  ) {
    this.parsed = bulk instanceof Map ? bulk : null;
  }

  static of(entries: Iterable<[string, string]>): LandedIndex {
    return new LandedIndex(new Map(entries));
  }

  /** The commit that landed `task`, or undefined. */
  get(task: string): string | undefined {
    const newer = this.newer.get(task);
    if (newer !== undefined) return newer;
    if (this.parsed) return this.parsed.get(task);
    const sha = (this.bulk as SortedLines).get(task);
    if (sha !== undefined && !OID.test(sha)) throw new DamagedCacheError(`the base scan's cached landing of ${task} is not an object id`);
    return sha;
  }

  /** Every landing (throws DamagedCacheError when the bulk does not hold pairs of a task and an object id). */
  all(): Map<string, string> {
    if (!this.parsed) {
      const map = new Map<string, string>();
      try {
        for (const [task, sha] of (this.bulk as SortedLines).entries()) {
          if (!OID.test(sha)) throw new DamagedCacheError("the base scan's cached landings are not pairs of a task and an object id");
          map.set(task, sha);
        }
      } catch (e) {
        throw e instanceof DamagedCacheError ? e : new DamagedCacheError("the base scan's cached landings are damaged");
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

  close(): void {
    if (!(this.bulk instanceof Map)) this.bulk.close();
  }
}

const isTips = (t: unknown): t is string[] | undefined => t === undefined || (Array.isArray(t) && t.every((x) => typeof x === 'string'));

/**
 * The base scan from its two parts: the bulk (`base`: a sorted-lines file of the landings, with the key and tips in
 * its header) and, when it extends that very bulk, the newer part (`base-newer`: the key and tips it was brought
 * to, and the landings found since). A part that does not check out is not there.
 */
function readBase(stateDir: string): { scan: BaseScan; bulkId: string } | null {
  const bulk = SortedLines.open(partFile(stateDir, BASE_PART), lookupMemo(stateDir));
  if (!bulk) return null;
  const h = bulk.header as { format?: unknown; build?: unknown; part?: unknown; key?: unknown; tips?: unknown; id?: unknown };
  if (h.format !== FORMAT || h.build !== buildFingerprint() || h.part !== BASE_PART || typeof h.key !== 'string' || !isTips(h.tips) || typeof h.id !== 'string') {
    bulk.close();
    return null;
  }
  const newer = readPart<{ over: unknown; key: unknown; tips?: unknown; landed: unknown }>(stateDir, NEWER_PART);
  if (
    newer &&
    newer.over === h.id &&
    typeof newer.key === 'string' &&
    isTips(newer.tips) &&
    Array.isArray(newer.landed) &&
    newer.landed.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string' && OID.test(p[1]))
  ) {
    return { scan: { key: newer.key, tips: newer.tips, landed: new LandedIndex(bulk, new Map(newer.landed as [string, string][])) }, bulkId: h.id };
  }
  return { scan: { key: h.key, tips: h.tips, landed: new LandedIndex(bulk) }, bulkId: h.id };
}

/** Landings found since the bulk was written, past which the two parts are written as one bulk again. */
const NEWER_LIMIT = 2000;

/**
 * Writes the base scan: only the newer part when the scan extends the bulk on disk by few landings (each land moves
 * the base: writing 100,000 landings again for one would cost more than the land), else the bulk, whole.
 */
function writeBase(stateDir: string, base: BaseScan, bulkId: string | null): void {
  const newer = base.landed.newer;
  // (none newer: the base moved by commits that land no task; the key and tips still change)
  if (bulkId !== null && newer.size <= NEWER_LIMIT) {
    writePart(stateDir, NEWER_PART, { over: bulkId, key: base.key, tips: base.tips, landed: [...newer] });
    return;
  }
  const id = randomId();
  rememberBuildFingerprint();
  writeSortedLines(partFile(stateDir, BASE_PART), { format: FORMAT, build: buildFingerprint(), part: BASE_PART, key: base.key, tips: base.tips, id }, base.landed.all());
  removeCacheFile(partFile(stateDir, NEWER_PART));
}

function empty(): StateCache {
  return { notes: new Map(), base: null, baseSum: null, dirty: new Set() };
}

/** The cache lives in one file per part (each notes ref, the base branch), so a moved ref rewrites only its own. */
const DIR = 'state-cache';

/**
 * The memo of lookups in the state dir's sorted-lines files (src/state/sorted-lines.ts LookupMemo): this process's,
 * read once; one that keeps nothing under OMNI_SHIP_NO_CACHE.
 */
export function lookupMemo(stateDir: string): LookupMemo {
  return LookupMemo.at(process.env.OMNI_SHIP_NO_CACHE ? null : path.join(stateDir, DIR, 'lookups.jsonl'));
}
const BASE_PART = 'base';
const NEWER_PART = 'base-newer';
const partFile = (stateDir: string, part: string) => path.join(stateDir, DIR, `${part.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);

/** The file format: a header, then the value, whose checksum (src/hash.ts) the header holds. */
const FORMAT = 10;
const VALUE_AT = ',"value":';

/**
 * A part's value, or null when the file is missing, of another format or build, or damaged. The file is
 * machine-local and anything may have written it (a crash mid-way is ruled out by the atomic rename, a hand, a
 * disk or a bug is not): the header holds a checksum of the value's bytes, so any change to them (a truncation, a
 * value of another shape) is found by summing them (native CRC-32s, well under 1 ms a megabyte) instead of checking every one of
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
    if (checksum().update(body).digest() !== header.sum) return null;
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
  const sum = checksum().update(body).digest();
  // one JSON document, the value last: its bytes are the ones the sum is of
  writeCacheFile(partFile(stateDir, part), `${JSON.stringify({ format: FORMAT, build: buildFingerprint(), part, sum }).slice(0, -1)}${VALUE_AT}${body}}`);
  return sum;
}

/**
 * Reads the cached parts for the notes refs named (and the base branch's); a missing, unreadable, old-format,
 * other-build or damaged part is simply not there (it is read from git again and rewritten).
 */
export function readStateCache(stateDir: string | null, refs: readonly string[]): StateCache {
  const cache = empty();
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return cache;
  buildFingerprint(stateDir);
  cache.memo = lookupMemo(stateDir);
  // every ref's overlay in one part (written when any of them changes): one read, one write a run, not five
  const overlays = readPart<Record<string, unknown>>(stateDir, OVERLAYS_PART);
  for (const ref of refs) {
    const part = NotesPart.open(stateDir, ref, overlays && typeof overlays === 'object' ? overlays[ref] : undefined);
    if (part) {
      part.partName = ref;
      cache.notes.set(ref, part);
    }
  }
  cache.side = readSide(stateDir);
  const base = readBase(stateDir);
  cache.base = base?.scan ?? null;
  cache.baseSum = base?.bulkId ?? null;
  return cache;
}

/** Writes the parts marked dirty, each atomically; failures (a read-only repository) are ignored: it is only a cache. */
export function writeStateCache(stateDir: string | null, cache: StateCache): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE || cache.dirty.size === 0) return;
  try {
    fs.mkdirSync(path.join(stateDir, DIR), { recursive: true });
    let overlaysChanged = false;
    for (const part of cache.dirty) {
      if (part === SIDE_PART) {
        if (cache.side) writeSide(stateDir, cache.side);
        else removeCacheFile(partFile(stateDir, SIDE_PART));
        continue;
      }
      if (part === BASE_PART) {
        if (cache.base) writeBase(stateDir, cache.base, cache.baseSum ?? null);
        else for (const p of [BASE_PART, NEWER_PART]) removeCacheFile(partFile(stateDir, p));
        continue;
      }
      const entry = cache.notes.get(part);
      overlaysChanged = true;
      if (!entry) {
        removeCacheFile(partFile(stateDir, part));
        continue;
      }
      entry.partName = part;
      entry.write(stateDir);
    }
    if (overlaysChanged) {
      failpoint('cache:bulks-written');
      // after the bulks they extend (an overlay names its bulk's id: a kill between leaves one that names another)
      const value: Record<string, unknown> = {};
      for (const [ref, part] of cache.notes) {
        const over = part.overlayValue();
        if (over) value[ref] = over;
      }
      writePart(stateDir, OVERLAYS_PART, value);
    }
    // the single-file cache of earlier builds
    removeCacheFile(path.join(stateDir, 'state-cache.json'));
  } catch {
    /* only a cache */
  }
}

/** Closes the cache's open files, and saves what lookups in them learned. */
export function closeStateCache(cache: StateCache, read?: StateCache['side']): void {
  // with the caches this command wrote (a refusal writes none), or with the first it writes after
  const memo = cache.memo;
  if (memo) {
    if (cachesWritten()) memo.save();
    else writeWithCaches(() => memo.save());
  }
  for (const part of cache.notes.values()) part.close();
  read?.index.close();
  cache.side?.index.close();
  cache.base?.landed.close();
}

const SIDE_PART = 'side';
/** The name of the side scan's part, for StateCache.dirty. */
export const SIDE_CACHE_PART = SIDE_PART;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

const SIDE_BASE_PART = 'side-base';
const SIDE_ALL_FILE = 'side-all.txt';
const CLAIM_KINDS = ['none', 'task', 'bad'] as const;

/**
 * The side scan's parts, or null (none, not of the shape written, or parts of two writes). The summary's commits,
 * each an array (`[sha, tree, parents, time, claim kind, task or reason, depth]`), and the tips are one part,
 * written when they change; the index of every commit another file (`side-all.txt`), written when the commits
 * change and read only when asked; the base tips they were read against a small part of its own, written when only
 * the base moved (every land moves it, and seldom changes the commits off it).
 */
function readSide(stateDir: string): SideScan | null {
  const side = readPart<{ key: unknown; tips: unknown; id: unknown; allId: unknown; summary: unknown; allDelta?: unknown }>(stateDir, SIDE_PART);
  const at = readPart<{ id: unknown; base: unknown }>(stateDir, SIDE_BASE_PART);
  if (!side || !at || typeof side.key !== 'string' || typeof side.id !== 'string' || typeof side.allId !== 'string' || at.id !== side.id) return null;
  if (!isStrings(at.base) || !isStrings(side.tips) || !Array.isArray(side.summary)) return null;
  const summary: SideCommit[] = [];
  for (const c of side.summary as unknown[]) {
    if (!Array.isArray(c) || c.length !== 7) return null;
    const [sha, tree, parents, time, kind, value, depth] = c as unknown[];
    if (typeof sha !== 'string' || typeof tree !== 'string' || typeof parents !== 'string' || typeof time !== 'number' || typeof kind !== 'number' || !CLAIM_KINDS[kind] || typeof depth !== 'number') return null;
    if (kind !== 0 && typeof value !== 'string') return null;
    const all = parents ? parents.split(' ') : [];
    const claim: TrailerClaim = kind === 0 ? { kind: 'none' } : kind === 1 ? { kind: 'task', task: value as TaskId } : { kind: 'bad', reason: value as string };
    summary.push({ sha, tree, parent: all[0] ?? null, parents: all, time, claim, depth });
  }
  // opened now, with the parts (its records are read as searched, from this very file whatever is renamed over
  // it since): an index of another write is no side scan, as parts of two writes are
  // the index's delta (records added, ids removed since it was written) rides in the summary
  const delta = side.allDelta === undefined ? { added: [], removed: [] } : side.allDelta;
  if (typeof delta !== 'object' || delta === null || !isStrings((delta as { added?: unknown }).added) || !isStrings((delta as { removed?: unknown }).removed)) return null;
  const index = SideIndex.read(path.join(stateDir, DIR, SIDE_ALL_FILE), side.allId, delta as { added: string[]; removed: string[] });
  if (!index) return null;
  return { key: side.key, base: at.base, tips: side.tips, summary, index, id: side.id, allId: side.allId };
}

/** Writes the side scan: its index when the commits changed, its summary when it or the tips changed, its base always. */
function writeSide(stateDir: string, side: SideScan): void {
  const newId = () => randomId();
  let { id, allId } = side;
  // the index's changes ride in the summary as a delta over its file, until they outgrow it
  let delta = side.index.delta();
  // the index first, then the summary naming it, then the base naming the summary: a kill between leaves ids that
  // do not match, read as no side scan
  if (!allId || (side.allChanged && (delta === null || delta.added.length + delta.removed.length > deltaLimit(SIDE_DELTA_LIMIT)))) {
    allId = newId();
    rememberBuildFingerprint();
    side.index.write(path.join(stateDir, DIR, SIDE_ALL_FILE), allId);
    failpoint('cache:side-index-written');
    delta = null;
  }
  if (!id || side.allChanged || side.summaryChanged) {
    // a summary that changed came with its new id (the views' table notes it before this writes it)
    id ??= newId();
    const summary = side.summary.map((c) => [c.sha, c.tree, c.parents.join(' '), c.time, CLAIM_KINDS.indexOf(c.claim.kind), c.claim.kind === 'task' ? c.claim.task : c.claim.kind === 'bad' ? c.claim.reason : null, c.depth ?? 0]);
    writePart(stateDir, SIDE_PART, { key: side.key, tips: side.tips, id, allId, summary, ...(delta && (delta.added.length || delta.removed.length) ? { allDelta: delta } : {}) });
    failpoint('cache:side-summary-written');
  }
  writePart(stateDir, SIDE_BASE_PART, { id, base: side.base });
}

/** The name of the base branch's part, for StateCache.dirty. */
export const BASE_CACHE_PART = BASE_PART;

/** Removes every cached part (one was found damaged): the next read reads git whole. */
export function forgetStateCache(stateDir: string | null): void {
  if (!stateDir) return;
  // moved aside first (one rename: the next read finds no cache at once), then removed; another omni-ship writing
  // a part meanwhile writes it into the moved directory, which is only a cache: a removal that fails is let be
  const aside = path.join(stateDir, `${DIR}.forgotten.${process.pid}.${Date.now()}`);
  try {
    fs.renameSync(path.join(stateDir, DIR), aside);
  } catch {
    return;
  }
  try {
    fs.rmSync(aside, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    /* left for the next forget to try: see removeForgotten */
  }
  removeForgotten(stateDir);
}

/** The suffix of a notes part's overlay file: what changed since its bulk was written. */
/** The part that holds every notes ref's overlay: the notes that changed since its bulk was written. */
const OVERLAYS_PART = 'notes.newer';

/** One ref's overlay, as the overlays' part holds it. */
interface Overlay {
  /** the id of the bulk it is over */
  over: string;
  tip: string;
  set: [string, string][];
  deleted: string[];
  bad: BadCounts;
}

const isOverlay = (v: unknown): v is Overlay => {
  const o = v as Partial<Overlay> | null | undefined;
  return typeof o === 'object' && o !== null && typeof o.over === 'string' && typeof o.tip === 'string' && Array.isArray(o.set) && Array.isArray(o.deleted) && isBadCounts(o.bad);
};
/** Objects changed since a bulk was written, past which the bulk is written again whole. */
const OVERLAY_LIMIT = 2000;

/**
 * The keys a note's events are found by besides its object: `t:<task>` for every event naming a task, `v:<tree>`
 * for a verify result (folded by tree), `r:<landed>` for a revert (found by the landed commit it undoes).
 */
function keysOf(events: readonly OmniEvent[]): Set<string> {
  const keys = new Set<string>();
  for (const e of events) {
    if (typeof e.task === 'string') keys.add(`t:${e.task}`);
    if (e.type === 'verify' && typeof e.tree === 'string') keys.add(`v:${e.tree}`);
    if (e.type === 'revert' && typeof e.landed === 'string') keys.add(`r:${e.landed}`);
  }
  return keys;
}

const isBadLine = (b: unknown): b is BadLine =>
  typeof b === 'object' && b !== null && typeof (b as BadLine).object === 'string' && typeof (b as BadLine).line === 'string' && typeof (b as BadLine).reason === 'string';

/** A cached note's value as written (`[packed events, bad lines]`), checked and unpacked. */
function decodeCached(text: string): DecodedNote {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DamagedCacheError('a cached note is not JSON');
  }
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || !Array.isArray(value[1]) || !value[1].every(isBadLine)) {
    throw new DamagedCacheError('a cached note is not events and bad lines');
  }
  const events = (value[0] as unknown[]).map((p) => {
    // packed: the type's values in its field order, whole; else the event object as the note had it
    if (Array.isArray(p) ? !(typeof p[0] === 'string' && Object.hasOwn(FIELDS, p[0]) && p.length === 4 + FIELDS[p[0] as OmniEvent['type']].length) : typeof p !== 'object' || p === null) {
      throw new DamagedCacheError('a cached event is not one');
    }
    const e = unpack(p as PackedEvent);
    if (!Object.hasOwn(FIELDS, e.type) || typeof e.at !== 'string' || typeof e.by !== 'string' || typeof e.host !== 'string') throw new DamagedCacheError('a cached event is not one');
    return e;
  });
  return [events, value[1]];
}

const encodeCached = ([events, bad]: DecodedNote): string => JSON.stringify([events.map(pack), bad]);

/** How many bad lines each object's note holds (objects with none left out). */
type BadCounts = Record<string, number>;

/**
 * One notes ref's cached, decoded notes. On disk: a bulk (a sorted-lines file: each annotated object's note, and
 * for each key of keysOf the objects holding it), written when the ref was read whole, plus a small overlay of the
 * objects that changed since (written on each incremental read). A read command looks up only the objects and keys
 * of the tasks it shows, so a warm read costs what it shows, not the log's size; a command listing every task reads
 * it all (`all()`). A part read whole from git has no bulk: everything is in memory, and the bulk is written from it.
 */
export class NotesPart {
  private overlay = new Map<string, DecodedNote | null>();
  private overlayIndex = new Map<string, Set<string>>();
  private merged: Map<string, DecodedNote> | null = null;
  private index: Map<string, Set<string>> | null = null;
  private badCounts: BadCounts;
  /** whether there is something to write */
  dirty = false;

  private constructor(
    public tip: string,
    private bulk: SortedLines | null,
    private readonly bulkId: string | null,
    badCounts: BadCounts,
    private whole: Map<string, DecodedNote> | null,
  ) {
    this.badCounts = { ...badCounts };
  }

  /** A part read whole from git now (written as a new bulk). */
  static fresh(tip: string, objects = new Map<string, DecodedNote>()): NotesPart {
    const bad: BadCounts = {};
    for (const [object, [, lines]] of objects) if (lines.length) bad[object] = lines.length;
    const part = new NotesPart(tip, null, null, bad, objects);
    part.dirty = true;
    return part;
  }

  /**
   * The part on disk for `ref`, with its overlay as the overlays' part holds it (`over`), or null (none, another
   * format or build, damaged). An overlay over another bulk, or damaged, is no overlay.
   */
  static open(stateDir: string, ref: string, over?: unknown): NotesPart | null {
    const bulk = SortedLines.open(partFile(stateDir, ref), lookupMemo(stateDir));
    if (!bulk) return null;
    const h = bulk.header as { format?: unknown; build?: unknown; part?: unknown; tip?: unknown; id?: unknown; bad?: unknown };
    if (h.format !== FORMAT || h.build !== buildFingerprint() || h.part !== ref || typeof h.tip !== 'string' || typeof h.id !== 'string' || !isBadCounts(h.bad)) {
      bulk.close();
      return null;
    }
    const part = new NotesPart(h.tip, bulk, h.id, h.bad, null);
    if (isOverlay(over) && over.over === h.id) {
      try {
        for (const entry of over.set as unknown[]) {
          if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') throw new DamagedCacheError('an overlay entry is not an object and a note');
          part.setOverlay(entry[0], decodeCached(entry[1]));
        }
        for (const object of over.deleted as unknown[]) if (typeof object === 'string') part.overlay.set(object, null);
      } catch {
        part.overlay.clear();
        part.overlayIndex.clear();
        return part; // the bulk alone, brought forward from its own tip
      }
      part.tip = over.tip;
      part.badCounts = { ...over.bad };
      part.stored = over;
    }
    return part;
  }

  /** The overlay as read, while nothing changed it (written again as it was). */
  private stored: Overlay | null = null;

  /** What the overlays' part holds for this part: its overlay over its bulk; null when it has none (a bulk alone, or none on disk). */
  overlayValue(): Overlay | null {
    if (!this.dirty) return this.stored;
    return this.overlayMode() ? this.encodeOverlay() : null;
  }

  private overlayMode(): boolean {
    return !!this.bulk && !!this.bulkId && !this.whole && this.overlay.size <= OVERLAY_LIMIT;
  }

  private encodeOverlay(): Overlay {
    const set = [...this.overlay].filter(([, n]) => n).map(([o, n]) => [o, encodeCached(n!)] as [string, string]);
    const deleted = [...this.overlay].filter(([, n]) => !n).map(([o]) => o);
    return { over: this.bulkId!, tip: this.tip, set, deleted, bad: this.badCounts };
  }

  private setOverlay(object: string, note: DecodedNote): void {
    this.overlay.set(object, note);
    for (const key of keysOf(note[0])) {
      let set = this.overlayIndex.get(key);
      if (!set) this.overlayIndex.set(key, (set = new Set()));
      set.add(object);
    }
  }

  /** One object's note, or undefined. */
  get(object: string): DecodedNote | undefined {
    if (this.whole) return this.whole.get(object);
    if (this.merged) return this.merged.get(object);
    const over = this.overlay.get(object);
    if (over !== undefined) return over ?? undefined;
    const text = this.bulk?.get(object);
    return text === undefined ? undefined : decodeCached(text);
  }

  /** The objects whose notes hold events under `key` (see keysOf); some may hold none any more. */
  objectsFor(key: string): string[] {
    const map = this.whole ?? this.merged;
    if (map) {
      if (!this.index) {
        this.index = new Map();
        for (const [object, [events]] of map) {
          for (const k of keysOf(events)) {
            let set = this.index.get(k);
            if (!set) this.index.set(k, (set = new Set()));
            set.add(object);
          }
        }
      }
      return [...(this.index.get(key) ?? [])];
    }
    const out = new Set(this.bulk?.get(key)?.split(',') ?? []);
    for (const o of this.overlayIndex.get(key) ?? []) out.add(o);
    return [...out];
  }

  /** The events under `key` (see keysOf), each note's once. */
  eventsFor(key: string): OmniEvent[] {
    const out: OmniEvent[] = [];
    for (const object of this.objectsFor(key)) out.push(...(this.get(object)?.[0] ?? []));
    return out;
  }

  /** Records `object`'s note as read now. */
  set(object: string, note: DecodedNote): void {
    this.dirty = true;
    this.countBad(object, note[1].length);
    const map = this.whole ?? this.merged;
    if (map) {
      map.set(object, note);
      this.index = null;
    }
    if (!this.whole) this.setOverlay(object, note);
  }

  /** Records that `object` has no note any more. */
  delete(object: string): void {
    this.dirty = true;
    this.countBad(object, 0);
    (this.whole ?? this.merged)?.delete(object);
    this.index = null;
    if (!this.whole) this.overlay.set(object, null);
  }

  private countBad(object: string, n: number): void {
    if (n) this.badCounts[object] = n;
    else if (Object.hasOwn(this.badCounts, object)) delete this.badCounts[object];
  }

  /** Forgets everything: the ref is read whole again. */
  clear(): void {
    this.dirty = true;
    this.whole = new Map();
    this.merged = null;
    this.index = null;
    this.badCounts = {};
    this.overlay.clear();
    this.overlayIndex.clear();
  }

  /** Every object's note (a part with a bulk reads it all once). */
  all(): Map<string, DecodedNote> {
    if (this.whole) return this.whole;
    if (!this.merged) {
      const map = new Map<string, DecodedNote>();
      if (this.bulk) {
        try {
          for (const [key, value] of this.bulk.entries()) if (!key.includes(':') && !this.overlay.has(key)) map.set(key, decodeCached(value));
        } catch (e) {
          throw e instanceof DamagedCacheError ? e : new DamagedCacheError('a cached notes part is damaged');
        }
      }
      for (const [object, note] of this.overlay) if (note) map.set(object, note);
      this.merged = map;
    }
    return this.merged;
  }

  /** How many bad lines the notes hold, and the first (of the note on the smallest object id), or null. */
  badLines(): { count: number; first: BadLine } | null {
    const objects = Object.keys(this.badCounts);
    if (!objects.length) return null;
    const first = objects.reduce((a, b) => (b < a ? b : a));
    const line = this.get(first)?.[1][0];
    if (!line) throw new DamagedCacheError("a cached note's bad lines are not where the count says");
    return { count: objects.reduce((n, o) => n + this.badCounts[o]!, 0), first: line };
  }

  /** Writes what changed: the overlay when small and over a bulk, else a new bulk. */
  /** Writes a new bulk when the part is read whole or its overlay outgrew OVERLAY_LIMIT; the overlay goes in the overlays' part (overlayValue). */
  write(stateDir: string): void {
    if (!this.dirty || this.overlayMode()) return;
    const notes = this.all();
    const byKey = new Map<string, string[]>();
    const lines: [string, string][] = [];
    for (const [object, note] of notes) {
      lines.push([object, encodeCached(note)]);
      for (const k of keysOf(note[0])) appendTo(byKey, k, object);
    }
    for (const [k, objects] of byKey) lines.push([k, objects.join(',')]);
    const id = randomId();
    rememberBuildFingerprint();
    writeSortedLines(partFile(stateDir, this.partName), { format: FORMAT, build: buildFingerprint(), part: this.partName, tip: this.tip, id, bad: this.badCounts }, lines);
    // the per-ref overlay file of earlier builds
    removeCacheFile(partFile(stateDir, `${this.partName}.newer`));
  }

  /** The ref this part is of (set by the cache when it holds the part). */
  partName = '';

  close(): void {
    this.bulk?.close();
  }
}

const isBadCounts = (v: unknown): v is BadCounts =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0);

/** Removes what earlier forgets moved aside and could not remove (another process wrote into it meanwhile). */
function removeForgotten(stateDir: string): void {
  try {
    for (const name of fs.readdirSync(stateDir)) {
      if (name.startsWith(`${DIR}.forgotten.`)) fs.rmSync(path.join(stateDir, name), { recursive: true, force: true });
    }
  } catch {
    /* only a cache */
  }
}
