/** The lifecycle states, derived from git and the notes, never stored. */
export const STATES = ['in-progress', 'verifying', 'failed', 'verified', 'approved', 'landed', 'needs-help', 'diverged'] as const;
/** One of STATES. */
export type TaskState = (typeof STATES)[number];
