import type { Config } from '../config.js';
import { badInput } from '../errors.js';
import { git } from '../git/exec.js';
import type { BranchInUse } from '../git/worktrees.js';
import { taskIdFromBranch } from '../ids.js';
import { compareTaskIds, type RepoState } from '../state/tasks.js';
import { judgeLandedCopy, short } from './landed-copy.js';

/** Why a branch may go: its tip is on the base branch, or it is the task's one commit and that change landed. */
export type DeleteReason = 'in-base' | 'landed-copy';

/** Why a branch stays. `lost-race`, `remote-refused` and `remote-unreachable` arise only when deleting (--apply). */
export type KeepReason =
  | 'not-task-branch'
  | 'not-landed'
  | 'unlanded-commits'
  | 'checked-out'
  | 'lost-race'
  | 'remote-refused'
  | 'remote-unreachable';

/** A branch cleanup-branches deletes (or, in a dry run, would delete). */
export interface DeletedBranch {
  /** the branch name, without `refs/heads/` or the remote's name */
  branch: string;
  /** the remote it is on; null for a local branch */
  remote: string | null;
  task: string;
  /** the commit the branch pointed at (to restore it: git branch <branch> <commit>) */
  commit: string;
  reason: DeleteReason;
  /** the commit on the base branch that carries the task, when known */
  landed: string | null;
  detail: string;
}

/** A branch cleanup-branches leaves alone, and why. */
export interface KeptBranch {
  branch: string;
  remote: string | null;
  /** the task the branch name gives; null for a branch that is not a task branch */
  task: string | null;
  commit: string;
  reason: KeepReason;
  detail: string;
}

/** What to delete and what to keep. */
export interface CleanupPlan {
  delete: DeletedBranch[];
  keep: KeptBranch[];
}

/** One branch to judge: local (`refs/heads/<branch>`) or the remote's (`refs/remotes/<remote>/<branch>`). */
interface Branch {
  branch: string;
  remote: string | null;
  ref: string;
  commit: string;
}

/** What the plan is made from: the ref snapshot loadState read, the state it made, and the worktrees' branches. */
export interface PlanInput {
  cwd: string;
  config: Config;
  /** `git for-each-ref` as readRefSnapshot prints it */
  refSnapshot: string;
  state: RepoState;
  inUse: ReadonlyMap<string, BranchInUse>;
  /** the remote whose task branches are judged too (--remote); null: local branches only */
  remote: string | null;
}

/**
 * Sorts every local branch (and, with a remote, every branch of that remote as last fetched) into the task
 * branches that hold nothing unlanded and the rest, with a reason for each. Never the base branch. A local branch
 * counts as landed when the local base or the configured remote's base holds it (either keeps its commits here);
 * a remote branch only when the remote's base does, so its commits stay on the remote.
 */
export function planCleanup(input: PlanInput): CleanupPlan {
  const { cwd, config, state, inUse, remote } = input;
  const base = config.baseBranch;
  const refs = new Map<string, string>();
  for (const line of input.refSnapshot.split('\n')) {
    const [name, oid, type] = line.split('\0');
    if (name && oid && type === 'commit') refs.set(name, oid);
  }
  const localBaseRefs = [`refs/heads/${base}`, ...(config.remote ? [`refs/remotes/${config.remote}/${base}`] : [])].filter((r) => refs.has(r));
  if (!localBaseRefs.length) throw badInput(`the base branch '${base}' does not exist here`, `create or fetch it, or set "baseBranch" in the config`);
  const remoteBaseRef = remote ? `refs/remotes/${remote}/${base}` : null;
  if (remoteBaseRef && !refs.has(remoteBaseRef)) {
    throw badInput(`no remote-tracking branch ${remote}/${base} to judge ${remote}'s branches by`, `run git fetch ${remote}, then run cleanup-branches again`);
  }

  const branches: Branch[] = [];
  const remotePrefix = remote ? `refs/remotes/${remote}/` : null;
  for (const [ref, commit] of refs) {
    if (ref.startsWith('refs/heads/')) {
      const branch = ref.slice('refs/heads/'.length);
      if (branch !== base) branches.push({ branch, remote: null, ref, commit });
    } else if (remotePrefix && ref.startsWith(remotePrefix)) {
      const branch = ref.slice(remotePrefix.length);
      if (branch !== base && branch !== 'HEAD') branches.push({ branch, remote, ref, commit });
    }
  }
  branches.sort(byBranch);

  // which branch tips each base ref holds: one for-each-ref per base ref, not one merge-base per branch
  const scopes = ['refs/heads/', ...(remotePrefix ? [remotePrefix] : [])];
  const heldBy = new Map<string, Set<string>>();
  for (const baseRef of [...localBaseRefs, ...(remoteBaseRef ? [remoteBaseRef] : [])]) {
    const held = git(['for-each-ref', '--format=%(refname)', `--merged=${refs.get(baseRef)!}`, ...scopes], { cwd }).split('\n').filter(Boolean);
    heldBy.set(baseRef, new Set(held));
  }

  const plan: CleanupPlan = { delete: [], keep: [] };
  for (const b of branches) {
    const task = taskIdFromBranch(b.branch, config);
    const keep = (reason: KeepReason, detail: string) => plan.keep.push({ branch: b.branch, remote: b.remote, task, commit: b.commit, reason, detail });
    if (!task) {
      keep('not-task-branch', 'not a task branch');
      continue;
    }
    const view = state.tasks.get(task);
    if (view?.state !== 'landed') {
      keep('not-landed', `${task} is ${view ? view.state : 'unknown here'}, not landed`);
      continue;
    }
    const baseRefs = b.remote === null ? localBaseRefs : [remoteBaseRef!];
    const baseName = baseRefs.map(shortRef).join(' or ');
    const held = baseRefs.find((r) => heldBy.get(r)!.has(b.ref));
    let verdict: { reason: DeleteReason; landed: string | null; detail: string };
    if (held) {
      verdict = { reason: 'in-base', landed: view.landing?.landed ?? view.landedCommit, detail: `${task} landed; ${short(b.commit)} is in ${shortRef(held)}` };
    } else {
      const copy = judgeLandedCopy(cwd, config, view, b.commit, baseRefs.map((r) => refs.get(r)!), baseName);
      if (!copy.landed) {
        keep('unlanded-commits', `${task} landed, but ${copy.detail}`);
        continue;
      }
      verdict = { reason: 'landed-copy', landed: copy.as, detail: `${task} landed; ${copy.detail}` };
    }
    const use = b.remote === null ? inUse.get(b.ref) : undefined;
    if (use) {
      const how = use.how === 'checked-out' ? 'checked out' : `being ${use.how === 'rebasing' ? 'rebased' : 'bisected'}`;
      keep('checked-out', `${task} landed, but the branch is ${how} in the worktree ${use.worktree}`);
      continue;
    }
    plan.delete.push({ branch: b.branch, remote: b.remote, task, commit: b.commit, ...verdict });
  }
  return plan;
}

/** Local branches first, then the remote's; each in natural order (t-2 before t-10). */
export function byBranch(a: { branch: string; remote: string | null }, b: { branch: string; remote: string | null }): number {
  if (a.remote !== b.remote) return a.remote === null ? -1 : b.remote === null ? 1 : a.remote < b.remote ? -1 : 1;
  return compareTaskIds(a.branch, b.branch);
}

/** `refs/heads/main` → `main`, `refs/remotes/origin/main` → `origin/main`. */
function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|remotes)\//, '');
}
