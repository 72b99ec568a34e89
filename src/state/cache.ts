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
  /** the base branch's tips (with the trailer settings) it was read at, and the first commit carrying each task's trailer */
  base: { key: string; landed: [string, string][] } | null;
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

/** The base branch's part as read from disk (its checksum held). */
function basePart(b: StateCache['base']): StateCache['base'] {
  return b && typeof b.key === 'string' && Array.isArray(b.landed) ? b : null;
}

function empty(): StateCache {
  return { notes: new Map(), base: null, dirty: new Set() };
}

/** The cache lives in one file per part (each notes ref, the base branch), so a moved ref rewrites only its own. */
const DIR = 'state-cache';
const BASE_PART = 'base';
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
  try {
    const text = fs.readFileSync(partFile(stateDir, part), 'utf8');
    const at = text.indexOf(VALUE_AT);
    if (at < 0 || !text.endsWith('}')) return null;
    const header = JSON.parse(`${text.slice(0, at)}}`) as { format: number; build: string; part: string; sum: string };
    if (header?.format !== FORMAT || header.build !== buildFingerprint() || header.part !== part) return null;
    const body = text.slice(at + VALUE_AT.length, -1);
    if (createHash('sha1').update(body).digest('hex') !== header.sum) return null;
    return JSON.parse(body) as T;
  } catch {
    return null;
  }
}

function writePart(stateDir: string, part: string, value: unknown): void {
  const file = partFile(stateDir, part);
  const tmp = `${file}.${process.pid}.tmp`;
  const body = JSON.stringify(value);
  const sum = createHash('sha1').update(body).digest('hex');
  // one JSON document, the value last: its bytes are the ones the sum is of
  fs.writeFileSync(tmp, `${JSON.stringify({ format: FORMAT, build: buildFingerprint(), part, sum }).slice(0, -1)}${VALUE_AT}${body}}`);
  fs.renameSync(tmp, file);
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
  cache.base = basePart(readPart<StateCache['base']>(stateDir, BASE_PART));
  return cache;
}

/** Writes the parts marked dirty, each atomically; failures (a read-only repository) are ignored: it is only a cache. */
export function writeStateCache(stateDir: string | null, cache: StateCache): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE || cache.dirty.size === 0) return;
  try {
    fs.mkdirSync(path.join(stateDir, DIR), { recursive: true });
    for (const part of cache.dirty) {
      if (part === BASE_PART) {
        writePart(stateDir, BASE_PART, cache.base);
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
