import { byTime, type AttemptEvent, type OmniEvent, type ReviewEvent } from '../notes/events.js';

/** The latest event per key. */
export function latestBy<E extends OmniEvent>(events: readonly E[], key: (e: E) => string): Map<string, E> {
  const out = new Map<string, E>();
  for (const e of events) {
    const k = key(e);
    const cur = out.get(k);
    if (!cur || byTime(cur, e) < 0) out.set(k, e);
  }
  return out;
}

/** The latest event per task and commit (two maps deep: no key strings built per event). */
export function latestByTaskAndCommit(events: readonly ReviewEvent[]): Map<string, Map<string, ReviewEvent>> {
  const out = new Map<string, Map<string, ReviewEvent>>();
  for (const e of events) {
    let byCommit = out.get(e.task);
    if (!byCommit) out.set(e.task, (byCommit = new Map()));
    const cur = byCommit.get(e.commit);
    if (!cur || byTime(cur, e) < 0) byCommit.set(e.commit, e);
  }
  return out;
}

/** The retry circuit of one patchset: failures since the last reset, and whether it is open (needs help). */
export function circuitOf(events: readonly AttemptEvent[]): { failures: number; needsHelp: boolean } {
  let failures = 0;
  let needsHelp = false;
  for (const e of [...events].sort(byTime)) {
    if (e.outcome === 'fail') failures++;
    else if (e.outcome === 'needs-help') needsHelp = true;
    else {
      failures = 0;
      needsHelp = false;
    }
  }
  return { failures, needsHelp };
}
