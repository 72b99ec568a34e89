import { SCHEMA_VERSION, type AttemptEvent } from './events.js';
import { NOTES_REFS } from './refs.js';
import { appendEvents } from './write.js';

/** Who records an event: "Name <email>" and "<hostname>/<clone id>". */
export interface Recorder {
  by: string;
  host: string;
}

/**
 * Appends an attempt (a failure, a needs-help that opens the retry circuit, a reset that closes it) to its task
 * commit's note in the attempts log, where the circuit counts them per patchset. Compare-and-swap, retried.
 */
export async function appendAttempt(cwd: string, who: Recorder, attempt: Pick<AttemptEvent, 'task' | 'commit' | 'role' | 'outcome' | 'error'>, at = new Date().toISOString()): Promise<AttemptEvent> {
  const event: AttemptEvent = { v: SCHEMA_VERSION, type: 'attempt', at, by: who.by, host: who.host, ...attempt };
  await appendEvents(cwd, NOTES_REFS.attempts, [{ object: attempt.commit, events: [event] }]);
  return event;
}
