import { ExitCode, UserError } from '../errors.js';
import { gitAsync, gitRun } from '../git/exec.js';
import { refFromFiles } from '../git/refs-fs.js';
import { RemoteUnreachableError, firstComplaint, remoteUrl } from '../notes/sync-errors.js';
import { syncFetchRefspecs } from '../notes/sync.js';
import { pushBaseAsync, updateLocalBase, type MoveResult } from './move-base.js';
import { FAST_FORWARD_ENV, fastForwardArgs, fastForwardWorktree, worktreesOn } from './worktrees.js';

/** Where land reads and moves the base branch. */
export interface BaseTarget {
  cwd: string;
  /** the common git dir: worktrees are read from its files */
  commonDir?: string;
  /** the branch name */
  name: string;
  /** the remote clones coordinate through, or null (land moves the local branch only) */
  remote: string | null;
  /** push the base to the remote (false: --no-push, or no remote) */
  push: boolean;
  /** show git's own transfer progress (a TTY) */
  progress: boolean;
}

/** The value of a local ref, or null: from git's files when `commonDir` is given and they settle it, else from git. */
export function refValue(cwd: string, ref: string, commonDir?: string): string | null {
  const fromFiles = commonDir ? refFromFiles(commonDir, ref) : undefined;
  if (fromFiles !== undefined) return fromFiles;
  const r = gitRun(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd });
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

/** Whether `a` is `b` or in its history. */
export function isAncestor(cwd: string, a: string, b: string): boolean {
  return a === b || gitRun(['merge-base', '--is-ancestor', a, b], { cwd }).exitCode === 0;
}

/** The remote-tracking ref of the base. */
export function trackingRef(t: BaseTarget): string {
  return `refs/remotes/${t.remote}/${t.name}`;
}

/**
 * Fetches the base branch (and, on the first round, every branch, so a task pushed from another clone can land
 * here) into the remote-tracking refs, with explicit refspecs (remote.*.fetch is never edited). A remote that cannot
 * be reached is a UserError (exit 2); a remote without the base branch too.
 */
export async function fetchBase(t: BaseTarget, allBranches: boolean): Promise<string> {
  const remote = t.remote!;
  // the first fetch also brings omni-ship's notes, so the notes sync after the land can push without fetching
  const specs = allBranches ? [`+refs/heads/*:refs/remotes/${remote}/*`, ...syncFetchRefspecs(remote)] : [`+refs/heads/${t.name}:${trackingRef(t)}`];
  const args = ['fetch', '--no-tags', '--no-write-fetch-head', t.progress ? '--progress' : '--quiet', remote, ...specs];
  const r = await gitAsync(args, { cwd: t.cwd, env: { GIT_TERMINAL_PROMPT: '0' }, teeStderr: t.progress });
  if (r.exitCode === 128) {
    const e = new RemoteUnreachableError(remote, remoteUrl(t.cwd, remote, false), 'fetch', firstComplaint(r.stderr));
    throw new UserError(e.message, ExitCode.usage, `check the URL (git remote get-url ${remote}) and your network, then land again`);
  }
  if (r.exitCode !== 0) throw new Error(`git fetch ${remote} failed: ${firstComplaint(r.stderr)}`);
  const tip = refValue(t.cwd, trackingRef(t), t.commonDir);
  if (!tip) {
    throw new UserError(`the base branch ${t.name} does not exist on ${remote}`, ExitCode.usage, `push it first (git push ${remote} ${t.name}), or name another with --base`);
  }
  return tip;
}

/** Whether `a` is known to be in `b`'s history without asking git (false: not known, either way). */
export type KnownAncestry = (a: string, b: string) => boolean;

/** The outcome of moving the base, plus what happened to this clone's own copy of it. */
/** `follow`: this clone's base catching up after a push, under way (what it says when it cannot). */
export type BaseMove = MoveResult & { follow?: Promise<string | null> };

/**
 * Moves the base from `from` to `to` by compare-and-swap: a push with an explicit lease (pushBase), or, without a
 * push, the local branch (update-ref, or a fast-forward in the worktree that has it checked out). After a push the
 * local branch follows when it is an ancestor of `to`; a local branch with commits of its own is left as it is.
 */
export async function moveBase(t: BaseTarget, from: string, to: string, known?: KnownAncestry): Promise<BaseMove> {
  if (t.push) {
    // the candidate was built on `from`: it descends from it by construction
    const moved = await pushBaseAsync(t.cwd, t.remote!, t.name, from, to, true);
    if (moved.kind !== 'moved') return moved;
    // git push updates the tracking ref itself when remote.<name>.fetch maps it (a clone's does); otherwise set it
    if (refValue(t.cwd, trackingRef(t), t.commonDir) !== to) gitRun(['update-ref', '-m', 'omni-ship land', trackingRef(t), to], { cwd: t.cwd });
    const follow = followLocal(t, to, from, known);
    follow.catch(() => {});
    return { ...moved, follow };
  }
  const local = refValue(t.cwd, `refs/heads/${t.name}`);
  if (local === null && t.remote) {
    // --no-push in a clone without the local branch: land makes it, at the new tip
    const r = gitRun(['update-ref', '-m', 'omni-ship land', `refs/heads/${t.name}`, to, '0'.repeat(40)], { cwd: t.cwd });
    return r.exitCode === 0 ? { kind: 'moved' } : { kind: 'lost-race', actual: refValue(t.cwd, `refs/heads/${t.name}`) };
  }
  if (local !== from) return { kind: 'lost-race', actual: local };
  const wt = worktreesOn(t.cwd, t.name, t.commonDir)[0];
  if (wt) {
    const ff = fastForwardWorktree(wt.path, to);
    if (ff.ok) return { kind: 'moved' };
    const now = refValue(t.cwd, `refs/heads/${t.name}`);
    if (now !== from) return { kind: 'lost-race', actual: now };
    return { kind: 'refused', reason: `cannot fast-forward ${t.name} in the worktree ${wt.path}: ${ff.why}` };
  }
  return updateLocalBase(t.cwd, t.name, from, to);
}

/**
 * Brings the local base branch to `to` after a push, when it is behind; says why not otherwise (null: done or none).
 * Asynchronous, so the land records its events meanwhile: the fast-forward of a checked-out base (its files) and the
 * notes writes touch different things.
 */
export async function followLocal(t: BaseTarget, to: string, from?: string, known?: KnownAncestry): Promise<string | null> {
  const ref = `refs/heads/${t.name}`;
  const local = refValue(t.cwd, ref, t.commonDir);
  if (local === null || local === to) return null;
  // the usual cases: the local base was the tip the candidate was built on (so `to` descends from it), or is known
  // to be in that tip's history (the remote moved on from it)
  const behind = local === from || (from !== undefined && known?.(local, from) === true);
  if (!behind && (await gitAsync(['merge-base', '--is-ancestor', local, to], { cwd: t.cwd })).exitCode !== 0) {
    return `your local ${t.name} has commits ${t.remote} lacks: it was left at ${local.slice(0, 12)}`;
  }
  const wt = worktreesOn(t.cwd, t.name, t.commonDir)[0];
  if (wt) {
    const r = await gitAsync(fastForwardArgs(to), { cwd: wt.path, env: FAST_FORWARD_ENV });
    return r.exitCode === 0 ? null : `your checked-out ${t.name} in ${wt.path} was not fast-forwarded: ${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`}; run git merge --ff-only ${t.remote}/${t.name} there`;
  }
  const moved = updateLocalBase(t.cwd, t.name, local, to);
  if (moved.kind === 'moved') return null;
  return moved.kind === 'lost-race' && moved.held ? `your local ${t.name} was left at ${local.slice(0, 12)}: ${moved.held}` : `your local ${t.name} moved meanwhile; it was left as it is`;
}
