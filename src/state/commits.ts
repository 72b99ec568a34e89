import type { Config } from '../config.js';
import { trailerClaim, trailerPlaceholder, trailerValues, type TrailerClaim } from '../notes/claim.js';

/** A commit as read commands see it: its tree, first parent, and which task its trailers claim. */
export interface CommitInfo {
  sha: string;
  tree: string;
  /** the first parent, when the log asked for it (see logFormat) */
  parent: string | null;
  claim: TrailerClaim;
}

const SEP = '\x1f';
const REC = '\x1e';

/** The `git log --format` that parseLog reads: sha, tree, (first) parents when asked, trailers. */
export function logFormat(trailerKey: string, withParents: boolean): string {
  return `--format=%H${SEP}%T${SEP}${withParents ? '%P' : ''}${SEP}${trailerPlaceholder(trailerKey)}${REC}`;
}

/** Parses what `git log` printed with logFormat. */
export function parseLog(out: string, config: Config): CommitInfo[] {
  const commits: CommitInfo[] = [];
  for (const record of out.split(REC)) {
    const r = record.replace(/^\n+/, '');
    if (!r) continue;
    const [sha, tree, parents, trailers] = r.split(SEP);
    if (!sha || !tree) continue;
    const parent = parents ? parents.split(' ')[0] || null : null;
    commits.push({ sha, tree, parent, claim: trailerClaim(trailerValues(trailers ?? ''), config, config.trailerKey) });
  }
  return commits;
}

/** The task a commit names by exactly one valid trailer id, else null. */
export function claimedTask(c: CommitInfo | undefined): string | null {
  return c?.claim.kind === 'task' ? c.claim.task : null;
}

/**
 * The task branch's own commit for task `id`, starting at its tip: the tip itself unless it claims something else
 * (another task's trailer, an invalid one, several ids: a branch made from another task's tip, or one onto which
 * another task's commit was cherry-picked); then the newest commit below it, by first parents and off the base
 * branch, whose trailer names `id` itself. A commit without a trailer below a foreign one is not taken: it may as
 * well be the other task's. Null when there is none (the branch has no commit of its own).
 */
export function ownCommit(tip: string, id: string, side: ReadonlyMap<string, CommitInfo>): string | null {
  const top = side.get(tip);
  if (!top) return null; // on the base branch
  if (top.claim.kind === 'none' || claimedTask(top) === id) return tip;
  for (let c = side.get(top.parent ?? ''); c; c = side.get(c.parent ?? '')) {
    if (claimedTask(c) === id) return c.sha;
  }
  return null;
}
