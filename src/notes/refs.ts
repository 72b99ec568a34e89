/** The notes refs omni-ship keeps its event logs in. */
export const NOTES_REFS = {
  patchsets: 'refs/notes/omni-ship/patchsets',
  verify: 'refs/notes/omni-ship/verify',
  lands: 'refs/notes/omni-ship/lands',
  attempts: 'refs/notes/omni-ship/attempts',
  reviews: 'refs/notes/omni-ship/reviews',
} as const;

/** One of the notes logs. */
export type NotesLog = keyof typeof NOTES_REFS;

/** Every notes log omni-ship owns lives under this prefix. */
export const NOTES_PREFIX = 'refs/notes/omni-ship/';
/**
 * The human-readable notes `git log` shows (notes.displayRef): prose, one short note per landed commit. Outside
 * NOTES_PREFIX on purpose: sync merges the logs there by sorting lines, which would scramble prose.
 */
export const DISPLAY_REF = 'refs/notes/omni-ship-landed';
/** Superseded patchsets stay reachable under refs/omni-ship/patchsets/<task>/<n>, as Gerrit's refs/changes do. */
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

/** Where `sync` fetches a remote's patchset refs to. */
export function remotePatchsetPrefix(remote: string): string {
  return `refs/omni-ship/remote-patchsets/${remote}/`;
}

/** The ref that keeps patchset `n` of `task` reachable. */
export function patchsetRef(task: string, n: number): string {
  return `${PATCHSET_REF_PREFIX}${task}/${n}`;
}

/** The refs that stand for the base branch: the local branch and, with a remote, its remote-tracking branch. */
export function baseRefCandidates(config: { baseBranch: string; remote: string | null }): string[] {
  return [`refs/heads/${config.baseBranch}`, ...(config.remote ? [`refs/remotes/${config.remote}/${config.baseBranch}`] : [])];
}
