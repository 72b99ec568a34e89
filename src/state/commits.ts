import type { Config } from '../config.js';
import { looseCommit } from '../git/loose.js';
import { plainTrailerValues, trailerClaim, trailerPlaceholder, trailerValues, type TrailerClaim } from '../notes/claim.js';

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

/**
 * What `git log <logFormat with parents> <tips> ^<old tips> --` lists, for what a read brought forward from a
 * scan of the history of the tips it knew (`known`: every base tip it was read at): read from the loose commits,
 * newest first, with no git process, when one tip moved along one line of commits onto a known one. The tips that
 * did not move add nothing. A commit of that line may already be in a known tip's history (a local base fast-
 * forwarded to where the remote's already was), which git would leave out: one that claims a task the scan saw
 * landed at another commit makes it null (which of the two is newer is git's to say); one the scan saw, or one
 * that claims nothing, changes nothing the caller derives. Null too where git must read: more than one tip moved,
 * a commit not loose, a merge, more than `max` commits, a message whose trailers do not plainly read
 * (plainTrailerValues). The caller rules out what makes git read objects otherwise (replace refs, grafts, a shallow
 * clone) and trailer settings.
 */
export function looseBaseLog(commonDir: string, tips: readonly string[], known: ReadonlySet<string>, landed: (task: string) => string | undefined, config: Config, max = 64): CommitInfo[] | null {
  const moved = [...new Set(tips)].filter((t) => !known.has(t));
  if (moved.length !== 1) return null;
  const out: CommitInfo[] = [];
  for (let sha = moved[0]!; !known.has(sha); ) {
    if (out.length >= max) return null;
    const c = looseCommit(commonDir, sha);
    if (!c || c.parents.length !== 1) return null;
    const values = plainTrailerValues(c.message, config.trailerKey);
    if (values === null) return null;
    const claim = trailerClaim(values, config, config.trailerKey);
    if (claim.kind === 'task' && (landed(claim.task) ?? sha) !== sha) return null;
    out.push({ sha, tree: c.tree, parent: c.parents[0]!, claim });
    sha = c.parents[0]!;
  }
  return out;
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
export function ownCommit(tip: string, id: string, side: { get(sha: string): CommitInfo | undefined }): string | null {
  const top = side.get(tip);
  if (!top) return null; // on the base branch
  if (top.claim.kind === 'none' || claimedTask(top) === id) return tip;
  for (let c = side.get(top.parent ?? ''); c; c = side.get(c.parent ?? '')) {
    if (claimedTask(c) === id) return c.sha;
  }
  return null;
}

/** A commit off the base as the side scan keeps it: what parseLog gives, every parent, and the commit time. */
export interface SideCommit extends CommitInfo {
  parents: string[];
  /** the committer time, in seconds */
  time: number;
  /** the longest chain of parents below it among the side scan's commits (set by sortSide and mergeSide) */
  depth?: number;
}

/** The `git log --format` that parseSideLog reads. */
export function sideLogFormat(trailerKey: string, sides = false): string {
  return `--format=${sides ? '%m' : ''}%H${SEP}%T${SEP}%P${SEP}%ct${SEP}${trailerPlaceholder(trailerKey)}${REC}`;
}

/**
 * Parses what `git log --left-right` printed with sideLogFormat(key, true): the commits of the left side (what the
 * first of `A...B` reaches and the second does not) and the ids of the right side's.
 */
export function parseSideLogSides(out: string, config: Config): { left: SideCommit[]; right: string[] } {
  const left: string[] = [];
  const right: string[] = [];
  for (const record of out.split(REC)) {
    const r = record.replace(/^\n+/, '');
    if (r.startsWith('<')) left.push(r.slice(1));
    else if (r.startsWith('>')) right.push(r.slice(1, r.indexOf(SEP)));
  }
  return { left: parseSideLog(left.join(REC), config), right };
}

/** Parses what `git log` printed with sideLogFormat. */
export function parseSideLog(out: string, config: Config): SideCommit[] {
  const commits: SideCommit[] = [];
  for (const record of out.split(REC)) {
    const r = record.replace(/^\n+/, '');
    if (!r) continue;
    const [sha, tree, parents, time, trailers] = r.split(SEP);
    if (!sha || !tree) continue;
    const all = parents ? parents.split(' ').filter(Boolean) : [];
    commits.push({ sha, tree, parent: all[0] ?? null, parents: all, time: Number(time) || 0, claim: trailerClaim(trailerValues(trailers ?? ''), config, config.trailerKey) });
  }
  return commits;
}

/**
 * Sorts the side scan's commits into the order it lists them in: newest commit time first; a commit before its
 * parents when their times tie (commits made in one second: the child is the newer); then by id. git log's own
 * order follows its walk, which differs between a whole read and a read of what is new; this one is the same
 * however the commits were read, so a task's newest commit is the same warm and cold.
 */
export function sortSide(commits: SideCommit[]): void {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  for (const c of commits) c.depth = undefined;
  setDepths(commits, bySha);
  commits.sort(sideOrder);
}

/** Sets the depth of each commit lacking one (parents first; iteratively: chains run thousands deep). */
export function setDepths(commits: readonly SideCommit[], bySha: ReadonlyMap<string, SideCommit>): void {
  for (const c of commits) {
    if (c.depth !== undefined) continue;
    const stack: [SideCommit, boolean][] = [[c, false]];
    while (stack.length) {
      const [x, expanded] = stack.pop()!;
      if (x.depth !== undefined) continue;
      if (expanded) {
        let d = 0;
        for (const p of x.parents) d = Math.max(d, (bySha.get(p)?.depth ?? -1) + 1);
        x.depth = d;
        continue;
      }
      stack.push([x, true]);
      for (const p of x.parents) {
        const parent = bySha.get(p);
        if (parent && parent.depth === undefined) stack.push([parent, false]);
      }
    }
  }
}

/** The side scan's order (see sortSide), of two commits whose depths are set. */
export function sideOrder(a: SideCommit, b: SideCommit): number {
  return a.time !== b.time ? b.time - a.time : b.depth! - a.depth! || (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : 0);
}
