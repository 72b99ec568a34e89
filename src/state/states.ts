/**
 * The lifecycle states, derived from git and the notes, never stored. `open`: a task record (`omni-ship task add`)
 * and nothing else yet; `closed`: a record closed and the task not landed.
 */
export const STATES = ['open', 'in-progress', 'verifying', 'failed', 'verified', 'approved', 'landed', 'needs-help', 'diverged', 'closed'] as const;
/** One of STATES. */
export type TaskState = (typeof STATES)[number];
