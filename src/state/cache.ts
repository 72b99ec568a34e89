import fs from 'node:fs';
import path from 'node:path';
import type { BadLine, OmniEvent } from '../notes/events.js';
import { packageVersion } from '../paths.js';

/**
 * A machine-local cache of what read commands decode from git, keyed by the immutable objects it came from:
 * a notes ref's tip commit, the base branch's tip. Deleting it loses nothing (DESIGN.md section 1); it only
 * saves re-reading and re-parsing tens of thousands of notes when nothing changed.
 */
export interface StateCache {
  format: 3;
  /** the omni-ship version that wrote it: another build may decode notes differently */
  version: string;
  /** per notes ref: the tip it was read at, and each annotated object's decoded events and unreadable lines */
  notes: Record<string, { tip: string; objects: Record<string, [OmniEvent[], BadLine[]]> }>;
  base: { key: string; landed: [string, string][]; commits: string[] } | null;
}

const FILE = 'state-cache.json';

function empty(): StateCache {
  return { format: 3, version: packageVersion(), notes: {}, base: null };
}

/** Reads the cache; a missing, unreadable or old-format file is an empty cache. */
export function readStateCache(stateDir: string | null): StateCache {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return empty();
  try {
    const data = JSON.parse(fs.readFileSync(path.join(stateDir, FILE), 'utf8')) as StateCache;
    return data && data.format === 3 && data.version === packageVersion() && data.notes ? data : empty();
  } catch {
    return empty();
  }
}

/** Writes the cache atomically; failures (a read-only repository) are ignored: it is only a cache. */
export function writeStateCache(stateDir: string | null, cache: StateCache): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    const tmp = path.join(stateDir, `${FILE}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(cache));
    fs.renameSync(tmp, path.join(stateDir, FILE));
  } catch {
    /* only a cache */
  }
}
