import { byTime, type VerifyEvent } from '../notes/events.js';

/** A verify result that answers for a tree under a spec: pass, fail or skip (indeterminate and started never do). */
export function isConclusive(e: VerifyEvent): boolean {
  return e.result === 'pass' || e.result === 'fail' || e.result === 'skip';
}

/** What the events say about one tree under one spec. */
export interface TreeSpecVerdict {
  /** the latest pass, fail or skip: the cached answer; null when there is none */
  conclusive: VerifyEvent | null;
  /** the latest event of any kind (an indeterminate run after the last answer, …) */
  latest: VerifyEvent | null;
}

/**
 * Folds verify events into tree → spec → verdict. The answer is the latest conclusive event by time (a clone
 * that verified again after a flaky failure wins), so every clone with the same events gives the same answer.
 */
export function foldVerify(events: readonly VerifyEvent[]): Map<string, Map<string, TreeSpecVerdict>> {
  const out = new Map<string, Map<string, TreeSpecVerdict>>();
  // one pass, no sort: status folds every verify event of the repository (tens of thousands), and a sort by
  // byTime encodes both events of every tie
  for (const e of events) {
    let bySpec = out.get(e.tree);
    if (!bySpec) out.set(e.tree, (bySpec = new Map()));
    let v = bySpec.get(e.spec);
    if (!v) bySpec.set(e.spec, (v = { conclusive: null, latest: null }));
    if (!v.latest || later(e, v.latest)) v.latest = e;
    if (isConclusive(e) && (!v.conclusive || later(e, v.conclusive))) v.conclusive = e;
  }
  return out;
}

/** Whether `a` comes after `b` in the order every clone folds in (byTime; its encoding only on a tie). */
function later(a: VerifyEvent, b: VerifyEvent): boolean {
  return a.at !== b.at ? a.at > b.at : byTime(a, b) > 0;
}

/** The cached answer for `tree` under `spec`, or null. */
export function cachedResult(events: readonly VerifyEvent[], tree: string, spec: string): VerifyEvent | null {
  return foldVerify(events.filter((e) => e.tree === tree && e.spec === spec)).get(tree)?.get(spec)?.conclusive ?? null;
}

/** The latest conclusive result for `tree` under any spec other than `spec` (shown as such, never as verified). */
export function otherSpecResult(bySpec: Map<string, TreeSpecVerdict> | undefined, spec: string | null): VerifyEvent | null {
  let best: VerifyEvent | null = null;
  for (const [hash, v] of bySpec ?? []) {
    if (hash === spec || !v.conclusive) continue;
    if (!best || later(v.conclusive, best)) best = v.conclusive;
  }
  return best;
}
