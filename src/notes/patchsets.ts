import type { Config } from '../config.js';
import { git } from '../git/exec.js';
import { taskIdFromBranch } from '../ids.js';
import { trailerClaim, trailerPlaceholder, trailerValues } from './claim.js';
import { gitIdentity, hostId } from '../identity.js';
import { SCHEMA_VERSION, type PatchsetEvent } from './events.js';
import { NOTES_REFS, baseRefCandidates } from './refs.js';
import { keepCommits } from './kept.js';
import { failpoint } from '../failpoint.js';
import { appendEvents, type Redundant } from './write.js';

/** A commit that may be a new patchset. */
export interface PatchsetCandidate {
  commit: string;
  /** the branch it is on, e.g. "t-565" */
  branch: string | null;
  supersedes: string | null;
  via: PatchsetEvent['via'];
  at: Date;
}

interface CommitFacts {
  tree: string;
  parent: string | null;
  committer: string;
  author: string;
  trailerTasks: string[];
}

function commitFacts(cwd: string, commits: readonly string[], trailerKey: string): Map<string, CommitFacts> {
  const out = git(
    ['log', '--no-walk=unsorted', '--stdin', `--format=%H%x1f%T%x1f%P%x1f%cn <%ce>%x1f%an <%ae>%x1f${trailerPlaceholder(trailerKey)}%x1e`],
    { cwd, input: `${commits.join('\n')}\n` },
  );
  const facts = new Map<string, CommitFacts>();
  for (const record of out.split('\x1e')) {
    const [sha, tree, parents, committer, author, trailers] = record.replace(/^\n+/, '').split('\x1f');
    if (!sha || !tree) continue;
    facts.set(sha, {
      tree,
      parent: parents?.split(' ')[0] || null,
      committer: committer ?? 'unknown <unknown>',
      author: author ?? 'unknown <unknown>',
      trailerTasks: trailerValues(trailers ?? ''),
    });
  }
  return facts;
}

/** Which of `commits` the base branch (local or the remote's) already contains: one rev-list whatever their number. */
export function baseCommitsAmong(cwd: string, config: Config, commits: readonly string[]): Set<string> {
  if (commits.length === 0) return new Set();
  const existing = git(['for-each-ref', '--format=%(refname)', ...baseRefCandidates(config)], { cwd }).split('\n').filter(Boolean);
  if (existing.length === 0) return new Set();
  const off = new Set(git(['rev-list', ...new Set(commits), '--not', ...existing, '--'], { cwd }).split('\n').filter(Boolean));
  return new Set(commits.filter((c) => !off.has(c)));
}

/** A new event for a commit adds nothing when an event for that commit already names the same predecessor. */
export const redundantPatchset: Redundant = (existing, event) => {
  if (event.type !== 'patchset') return false;
  for (const line of existing) {
    try {
      const e = JSON.parse(line) as Partial<PatchsetEvent>;
      if (e.type === 'patchset' && e.commit === event.commit && e.task === event.task && (event.supersedes === null || e.supersedes === event.supersedes)) {
        return true;
      }
    } catch {
      /* a bad line is never ours to judge here */
    }
  }
  return false;
};

/** A commit recordPatchsets did not record, and why (for the hooks log). */
export interface SkippedCommit {
  commit: string;
  branch: string | null;
  reason: string;
}

/**
 * Records patchset events for commits of tasks on task branches, and keeps each new commit reachable under
 * refs/omni-ship/kept. The task is the commit's trailer when it names exactly one valid id, the
 * branch's when it has no trailer at all; a commit whose trailer is not a valid id or names several tasks
 * (`git commit --no-verify` skips the hook that would have refused it) is no patchset of any task, and comes back
 * in `skipped` with the reason. Commits not on a task branch are not patchsets. Returns the events and how many
 * note lines were new.
 */
export async function recordPatchsets(
  cwd: string,
  commonDir: string,
  config: Config,
  candidates: readonly PatchsetCandidate[],
): Promise<{ events: PatchsetEvent[]; written: number; skipped: SkippedCommit[] }> {
  const onBase = baseCommitsAmong(cwd, config, candidates.map((c) => c.commit));
  // a fast-forward of a task branch to the base branch (git merge main on t-5) makes no commit of the task
  const onTaskBranch = candidates.filter((c) => c.branch && taskIdFromBranch(c.branch, config) && !onBase.has(c.commit));
  if (onTaskBranch.length === 0) return { events: [], written: 0, skipped: [] };
  const facts = commitFacts(cwd, [...new Set(onTaskBranch.map((c) => c.commit))], config.trailerKey);
  const host = hostId(commonDir);
  const events: PatchsetEvent[] = [];
  const skipped: SkippedCommit[] = [];
  for (const c of onTaskBranch) {
    const f = facts.get(c.commit);
    if (!f) continue;
    const claim = trailerClaim(f.trailerTasks, config, config.trailerKey);
    if (claim.kind === 'bad') {
      if (!skipped.some((s) => s.commit === c.commit)) skipped.push({ commit: c.commit, branch: c.branch, reason: `not a patchset of any task: ${claim.reason}` });
      continue;
    }
    const task = claim.kind === 'task' ? claim.task : taskIdFromBranch(c.branch!, config)!;
    events.push({
      v: SCHEMA_VERSION,
      type: 'patchset',
      at: c.at.toISOString(),
      by: f.committer,
      host,
      task,
      commit: c.commit,
      tree: f.tree,
      parent: f.parent,
      branch: c.branch,
      // `git commit --amend` that changed nothing in the same second makes the same commit, and post-rewrite
      // reports old == new (a rebase can too): a commit never replaces itself
      supersedes: c.supersedes === c.commit ? null : c.supersedes,
      author: f.author,
      via: c.via,
    });
  }
  // one amend reports twice (post-commit, then post-rewrite with the old commit): keep the fuller one; of events
  // that name no predecessor (a no-op amend's two reports), the first
  const merged = events.filter(
    (e, i) =>
      e.supersedes !== null ||
      !events.some((o, k) => o.commit === e.commit && o.task === e.task && (o.supersedes !== null || k < i)),
  );
  // kept first, then recorded: killed between the two, the next drain records it (its spool file is still there);
  // the other way round, a commit recorded but never kept would be lost to the first gc after it was superseded
  keepReachable(cwd, merged);
  failpoint('patchset:kept');
  const written = await appendEvents(cwd, NOTES_REFS.patchsets, merged.map((e) => ({ object: e.commit, events: [e] })), redundantPatchset);
  return { events: written ? merged : [], written, skipped };
}

/**
 * Keeps the events' commits reachable from the kept ref (refs/omni-ship/kept), folding in any per-patchset refs an
 * older omni-ship left.
 */
export function keepReachable(cwd: string, events: readonly PatchsetEvent[]): void {
  if (events.length) keepCommits(cwd, events.map((e) => e.commit));
}

/** The identity for a manually recorded event. */
export function manualIdentity(cwd: string): string {
  return gitIdentity(cwd);
}
