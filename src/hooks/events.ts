import type { HookEvent } from './spool.js';

/** Writes one log line per event to stdout, which the hooks point at hooks.log. */
export function logEvents(events: readonly HookEvent[]): void {
  for (const e of events) {
    const fields = [e.at.toISOString(), e.hook, e.commit || '-', e.ref || '(detached)', e.extra].filter((f) => f !== '');
    console.log(fields.join(' '));
  }
}
