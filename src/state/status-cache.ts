import { checksum } from '../hash.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { buildFingerprint, writeCacheFile } from './build.js';

/**
 * What `status` shows, for one exact input: the refs it read (names, objects, types), the config and the build.
 * Everything status prints is a function of those (every object reachable from the refs is immutable), so while
 * nothing moved, a `status` polled again and again reads this one file instead of folding every event again.
 * Machine-local and disposable, like the state cache.
 */
export interface StatusSnapshot<T> {
  base: string;
  /** the verify spec hash results were judged by */
  spec?: string | null;
  /** every task, sorted, as status prints it */
  tasks: T[];
  warnings: string[];
}

const FILE = 'status-cache.json';
/** The key of the last input status saw, whether or not it stored a snapshot for it. */
const SEEN = 'status-seen';

/** The key of one input: the build, the config and the ref snapshot. */
export function statusKey(config: Config, refSnapshot: string): string {
  return checksum().update(buildFingerprint()).update('\0').update(JSON.stringify(config)).update('\0').update(refSnapshot).digest();
}

/**
 * The snapshot stored for `key`, or null (none, another key, unreadable, damaged, or caching turned off). The file
 * starts with its key on a line of its own, so a miss costs no JSON parse. A body of another shape (truncated, or
 * JSON that is not a snapshot: each task must pass `isTask`) is no answer: status computes it again and stores it.
 */
export function readStatusSnapshot<T>(stateDir: string | null, key: string, isTask: (t: unknown) => t is T): StatusSnapshot<T> | null {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return null;
  try {
    const body = readKeyed(path.join(stateDir, FILE), key);
    if (body === null) return null;
    const snapshot = JSON.parse(body) as StatusSnapshot<unknown> | null;
    if (!snapshot || typeof snapshot.base !== 'string' || !Array.isArray(snapshot.tasks) || !Array.isArray(snapshot.warnings)) return null;
    if (!snapshot.warnings.every((w) => typeof w === 'string') || !snapshot.tasks.every(isTask)) return null;
    return snapshot as StatusSnapshot<T>;
  } catch {
    return null;
  }
}

/**
 * Stores the snapshot for `key` atomically, but only when this key was seen before: a repository whose refs move
 * between every two status runs (a busy pipeline) would pay for writing a snapshot nobody reads, while one polled
 * in a loop pays once, on its second run. Failures are ignored: it is only a cache.
 */
export function writeStatusSnapshot<T>(stateDir: string | null, key: string, snapshot: () => StatusSnapshot<T>): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    let seen = '';
    try {
      seen = fs.readFileSync(path.join(stateDir, SEEN), 'utf8');
    } catch {
      /* first run */
    }
    if (seen !== key) {
      writeCacheFile(path.join(stateDir, SEEN), key);
      return;
    }
    writeCacheFile(path.join(stateDir, FILE), `${key}\n${JSON.stringify(snapshot())}`);
  } catch {
    /* only a cache */
  }
}


const ANSWER = 'status-answer.json';

/**
 * What follows the key line of `file`, or null when its first line is not `key`: the key line is read first, so a
 * miss (a ref moved) does not read megabytes of an answer that is not used.
 */
function readKeyed(file: string, key: string): string | null {
  const bytes = readKeyedBytes(file, key);
  return bytes && bytes.toString('utf8');
}

/** readKeyed's bytes, undecoded. */
function readKeyedBytes(file: string, key: string): Buffer | null {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(key.length + 1);
    if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head.toString('latin1') !== `${key}\n`) return null;
    const size = fs.fstatSync(fd).size - head.length;
    const rest = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, rest, got, size - got, head.length + got);
      if (n === 0) break;
      got += n;
    }
    return rest.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The default listing's answer stored for `key`, as the JSON text `status --json` prints, while it holds: until
 * `validUntil` (the first time a landed task it lists leaves the window of recent landings). The file is the key
 * line, a line with the time and a checksum of the text, then the text: a hit prints it without parsing it, and any
 * change to its bytes is no hit. Null when there is none, another key, expired, or damaged.
 */
export function readStatusAnswer(stateDir: string | null, key: string, now: number): { text: Buffer; warnings: string[] } | null {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return null;
  try {
    // the bytes as stored, printed as they are (a 10,000-task answer is 3.6 MB: no decoding, no encoding again)
    const bytes = readKeyedBytes(path.join(stateDir, ANSWER), key);
    if (bytes === null) return null;
    const nl = bytes.indexOf(10);
    if (nl < 0) return null;
    const meta = JSON.parse(bytes.toString('utf8', 0, nl)) as { validUntil?: unknown; sum?: unknown; warnings?: unknown };
    const body = bytes.subarray(nl + 1);
    if (typeof meta?.validUntil !== 'number' || now >= meta.validUntil) return null;
    if (!Array.isArray(meta.warnings) || !meta.warnings.every((w) => typeof w === 'string')) return null;
    if (checksum().update(body).digest() !== meta.sum) return null;
    return { text: body, warnings: meta.warnings };
  } catch {
    return null;
  }
}

/** Stores the default listing's answer for `key` (on the key's second sight, as writeStatusSnapshot does). */
export function writeStatusAnswer(stateDir: string | null, key: string, validUntil: number, warnings: readonly string[], jsonText: () => string): void {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE) return;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    let seen = '';
    try {
      seen = fs.readFileSync(path.join(stateDir, SEEN), 'utf8');
    } catch {
      /* first run */
    }
    if (seen !== key) {
      writeCacheFile(path.join(stateDir, SEEN), key);
      return;
    }
    const body = jsonText();
    const sum = checksum().update(body).digest();
    writeCacheFile(path.join(stateDir, ANSWER), `${key}\n${JSON.stringify({ validUntil, sum, warnings })}\n${body}`);
  } catch {
    /* only a cache */
  }
}
