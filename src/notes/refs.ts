import { gitAsync, type GitResult } from '../git/exec.js';

/** The notes refs omni-ship keeps its event logs in. */
export const NOTES_REFS = {
  patchsets: 'refs/notes/omni-ship/patchsets',
  verify: 'refs/notes/omni-ship/verify',
  lands: 'refs/notes/omni-ship/lands',
  attempts: 'refs/notes/omni-ship/attempts',
  reviews: 'refs/notes/omni-ship/reviews',
  /** the pipeline's task records: one log for every task, keyed by each task's computed key object (TASKS_REF) */
  tasks: 'refs/notes/omni-ship/tasks',
} as const;

/** One of the notes logs. */
export type NotesLog = keyof typeof NOTES_REFS;

/**
 * The pipeline's task records (src/pipeline/tasks.ts): one log for every task, keyed by each task's computed key
 * object (not a commit or a tree: status finds a record by the task its events name). Under NOTES_PREFIX, so sync
 * carries and merges it as the others; in NOTES_REFS, so status reads it as it reads them (cached, incrementally).
 */
export const TASKS_REF = NOTES_REFS.tasks;

/** Every notes log omni-ship owns lives under this prefix. */
export const NOTES_PREFIX = 'refs/notes/omni-ship/';
/**
 * The human-readable notes `git log` shows (notes.displayRef): prose, one short note per landed commit. Outside
 * NOTES_PREFIX on purpose: sync merges the logs there by sorting lines, which would scramble prose.
 */
export const DISPLAY_REF = 'refs/notes/omni-ship-landed';
/** Every patchset commit stays reachable from this one ref (see kept.ts), whatever the number of patchsets. */
export const KEPT_REF = 'refs/omni-ship/kept';
/**
 * Before the kept ref, each patchset had a ref of its own, refs/omni-ship/patchsets/<task>/<n>: the next write or
 * sync folds them into the kept ref and deletes them, here and on the remote (a clone not yet upgraded may push
 * them back: they are folded in again).
 */
export const PATCHSET_REF_PREFIX = 'refs/omni-ship/patchsets/';
/** Private refs for compare-and-swap writes in progress. */
export const TMP_REF_PREFIX = 'refs/omni-ship/tmp/';

/** Where `sync` fetches a remote's notes to (outside refs/notes, so display globs show no duplicates). */
export function remoteNotesPrefix(remote: string): string {
  return `refs/omni-ship/remote-notes/${remote}/`;
}

/** Where `sync` fetches a remote's display ref (DISPLAY_REF) to. */
export function remoteDisplayRef(remote: string): string {
  return `refs/omni-ship/remote-display/${remote}/omni-ship-landed`;
}

/**
 * The fetch refspec for the remote's display ref. A glob on purpose: a refspec naming one ref makes the whole fetch
 * fail ("couldn't find remote ref") while the remote has no display note yet, and a glob's `*` also matches
 * nothing, so this one fetches exactly DISPLAY_REF when it is there and, with --prune, deletes the tracking ref
 * when it is gone. The destination sits in a folder of its own per remote, so pruning for one remote never
 * touches another's (a remote `origin` must not prune `origin-2`'s).
 */
export function remoteDisplayRefspec(remote: string): string {
  return `+${DISPLAY_REF}*:${remoteDisplayRef(remote)}*`;
}

/** Where `sync` fetches a remote's kept ref (KEPT_REF) to, in a folder of its own per remote. */
export function remoteKeptRef(remote: string): string {
  return `refs/omni-ship/remote-kept/${remote}/kept`;
}

/** The fetch refspec for the remote's kept ref: a glob, for the reason remoteDisplayRefspec gives. */
export function remoteKeptRefspec(remote: string): string {
  return `+${KEPT_REF}*:${remoteKeptRef(remote)}*`;
}

/** Where `sync` fetches a remote's per-patchset refs (of omni-ship before the kept ref) to, to fold them in. */
export function remotePatchsetPrefix(remote: string): string {
  return `refs/omni-ship/remote-patchsets/${remote}/`;
}


/** The refs that stand for the base branch: the local branch and, with a remote, its remote-tracking branch. */
export function baseRefCandidates(config: { baseBranch: string; remote: string | null }): string[] {
  return [`refs/heads/${config.baseBranch}`, ...(config.remote ? [`refs/remotes/${config.remote}/${config.baseBranch}`] : [])];
}

/** The refspecs sync fetches: every notes log, the patchset refs and the display ref, into their tracking refs. */
export function syncFetchRefspecs(remote: string): string[] {
  return [`+${NOTES_PREFIX}*:${remoteNotesPrefix(remote)}*`, remoteKeptRefspec(remote), `+${PATCHSET_REF_PREFIX}*:${remotePatchsetPrefix(remote)}*`, remoteDisplayRefspec(remote)];
}

/**
 * Starts sync's fetch (syncFetchRefspecs, with --prune: see syncNotes). Here, beside the refspecs, so `omni-ship
 * sync` starts it before it loads the merge code, which then loads while git fetches.
 */
export function startSyncFetch(cwd: string, remote: string): Promise<GitResult> {
  return gitAsync(['fetch', '--quiet', '--no-tags', '--prune', '--no-prune-tags', '--no-write-fetch-head', remote, ...syncFetchRefspecs(remote)], {
    cwd,
    env: { GIT_TERMINAL_PROMPT: '0' },
  });
}
