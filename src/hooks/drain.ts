import fs from 'node:fs';
import path from 'node:path';
import { acquireDrainLock, claimSpool, finishClaimed, keepForLater, releaseDrainLock, type ClaimedFile, type HookEvent } from './spool.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long an idle drainer waits for more events before it exits: commits come in bursts. */
const LINGER_MS = 300;
const POLL_MS = 40;
/** The hooks log is cut to one older generation past this size. */
const LOG_LIMIT = 1024 * 1024;

/** Keeps hooks.log bounded: past LOG_LIMIT it becomes hooks.log.1. */
export function rotateLog(dir: string): void {
  const log = path.join(dir, 'hooks.log');
  try {
    if (fs.statSync(log).size > LOG_LIMIT) fs.renameSync(log, `${log}.1`);
  } catch {
    /* no log yet */
  }
}

/** Handles a batch of events; returns those it could not handle now (they are kept for a later drain). */
export type EventHandler = (events: HookEvent[]) => Promise<HookEvent[]>;

/** What one drain did. */
export interface DrainResult {
  /** events whose effects are written */
  handled: number;
  /** events kept in the spool for a later drain (the next commit's, or `omni-ship hook drain`) */
  kept: number;
}

/**
 * Drains the spool in omni-ship's state dir: the one background process per burst of commits. It holds the drain
 * lock while it works, hands each batch of events to `handle`, and exits once the spool stayed empty for LINGER_MS.
 *
 * Nothing is lost if this process dies at any instant: a spool file is claimed by a rename, and removed only after
 * `handle` wrote what its events cause (a drainer that dies leaves its claimed files for the next one, which writes
 * nothing twice: every write skips events already there). Events `handle` could not write now are kept in a new
 * spool file, which this run does not look at again, so a failing event waits for the next drain instead of
 * spinning.
 */
export async function drainSpool(dir: string, handle: EventHandler): Promise<DrainResult> {
  const result: DrainResult = { handled: 0, kept: 0 };
  if (!acquireDrainLock(dir)) return result;
  const delay = Number(process.env.OMNI_SHIP_HOOK_DELAY_MS ?? 0);
  if (delay > 0) await sleep(delay); // test knob: proves the hook returned while this still runs
  const keptHere = new Set<string>();
  const work = async (files: ClaimedFile[]) => {
    const done = await handleFiles(dir, files, handle, keptHere);
    result.handled += done.handled;
    result.kept += done.kept;
  };
  try {
    for (;;) {
      let idle = 0;
      let batch = claimSpool(dir, keptHere);
      while (batch.files.length === 0 && idle < LINGER_MS) {
        await sleep(POLL_MS);
        idle += POLL_MS;
        batch = claimSpool(dir, keptHere);
      }
      if (batch.skipped) console.log(`${new Date().toISOString()} skipped ${batch.skipped} spool record(s) of an unknown format`);
      if (batch.files.length === 0) {
        releaseDrainLock(dir);
        // a hook may have spooled between the last look and the release, seeing our pid still alive: look once more
        batch = claimSpool(dir, keptHere);
        if (batch.files.length === 0) return result;
        if (!acquireDrainLock(dir)) {
          // another drainer started meanwhile; these files are claimed by us, so finish them, then leave
          await work(batch.files);
          return result;
        }
      }
      await work(batch.files);
    }
  } finally {
    releaseDrainLock(dir);
  }
}

/** Hands the claimed files' events to `handle`, keeps what failed in a new spool file, then removes the files. */
async function handleFiles(dir: string, files: ClaimedFile[], handle: EventHandler, keptHere: Set<string>): Promise<DrainResult> {
  const events = files.flatMap((f) => f.events);
  let failed: Set<HookEvent>;
  try {
    failed = new Set(events.length ? await handle(events) : []);
  } catch (error) {
    console.log(`${new Date().toISOString()} error: ${(error as Error).message}; ${events.length} event(s) kept for the next drain`);
    failed = new Set(events);
  }
  for (const f of files) {
    const later = f.events.filter((e) => failed.has(e));
    if (later.length) keptHere.add(keepForLater(dir, later));
    finishClaimed(f);
  }
  return { handled: events.length - failed.size, kept: failed.size };
}
