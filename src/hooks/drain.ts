import fs from 'node:fs';
import path from 'node:path';
import { acquireDrainLock, claimEvents, releaseDrainLock, type HookEvent } from './spool.js';

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

/**
 * Drains the spool in omni-ship's state dir: the one background process per burst of commits. It holds the drain
 * lock while it works, hands each batch of events to `handle`, and exits once the spool stayed empty for LINGER_MS.
 */
export async function drainSpool(dir: string, handle: (events: HookEvent[]) => Promise<void>): Promise<{ handled: number }> {
  if (!acquireDrainLock(dir)) return { handled: 0 };
  const delay = Number(process.env.OMNI_SHIP_HOOK_DELAY_MS ?? 0);
  if (delay > 0) await sleep(delay); // test knob: proves the hook returned while this still runs
  let handled = 0;
  try {
    for (;;) {
      let idle = 0;
      let batch = claimEvents(dir);
      while (batch.events.length === 0 && idle < LINGER_MS) {
        await sleep(POLL_MS);
        idle += POLL_MS;
        batch = claimEvents(dir);
      }
      if (batch.skipped) console.log(`${new Date().toISOString()} skipped ${batch.skipped} spool line(s) of an unknown format`);
      if (batch.events.length === 0) {
        releaseDrainLock(dir);
        // a hook may have spooled between the last look and the release, seeing our pid still alive: look once more
        batch = claimEvents(dir);
        if (batch.events.length === 0 || !acquireDrainLock(dir)) {
          if (batch.events.length) await handle(batch.events);
          return { handled: handled + batch.events.length };
        }
      }
      await handle(batch.events);
      handled += batch.events.length;
    }
  } finally {
    releaseDrainLock(dir);
  }
}
