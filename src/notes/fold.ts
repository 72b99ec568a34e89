import { byTime, type PatchsetEvent } from './events.js';

/** One patchset of a task: one distinct commit, numbered in the order the task first had it. */
export interface Patchset {
  n: number;
  commit: string;
  tree: string;
  parent: string | null;
  branch: string | null;
  /** when the commit was first recorded */
  at: string;
  /** who recorded it (the committer, for a hook) */
  by: string;
  /** the commit's author, when the event says (events before 0.1.0 do not) */
  author: string | null;
  via: PatchsetEvent['via'];
  /** the commits git said this one replaced */
  supersedes: string[];
}

/**
 * Folds patchset events into each task's patchsets. Events for the same commit (post-commit and post-rewrite of
 * one amend, or copies carried by notes.rewriteRef) merge into one patchset; numbering follows the first time
 * each commit was seen, then the commit id, so every clone with the same events numbers them alike.
 */
export function foldPatchsets(events: readonly PatchsetEvent[]): Map<string, Patchset[]> {
  const byTask = new Map<string, Map<string, Patchset>>();
  for (const e of [...events].sort(byTime)) {
    // a commit that "replaces itself": `git commit --amend` that changed nothing in the same second makes the same
    // commit, and post-rewrite reports old == new. Older builds recorded that; it says nothing (and taken at its
    // word it would make the commit superseded, so not live, hiding a divergence)
    const self = e.supersedes === e.commit;
    let commits = byTask.get(e.task);
    if (!commits) byTask.set(e.task, (commits = new Map()));
    const seen = commits.get(e.commit);
    if (!seen) {
      commits.set(e.commit, {
        n: 0,
        commit: e.commit,
        tree: e.tree,
        parent: e.parent,
        branch: e.branch,
        at: e.at,
        by: e.by,
        author: e.author ?? null,
        via: e.via,
        supersedes: e.supersedes && !self ? [e.supersedes] : [],
      });
    } else if (!self) {
      if (e.supersedes && !seen.supersedes.includes(e.supersedes)) seen.supersedes.push(e.supersedes);
      if (seen.via === 'commit' && (e.via === 'amend' || e.via === 'rebase')) seen.via = e.via;
    }
  }
  const result = new Map<string, Patchset[]>();
  for (const [task, commits] of byTask) {
    const list = [...commits.values()].sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.commit < b.commit ? -1 : 1));
    list.forEach((p, i) => (p.n = i + 1));
    result.set(task, list);
  }
  return result;
}

/** The commits some later patchset replaced (by amend/rebase, or by building on top of it). */
export function supersededCommits(patchsets: readonly Patchset[]): Set<string> {
  const out = new Set<string>();
  for (const p of patchsets) {
    for (const s of p.supersedes) out.add(s);
    if (p.parent) out.add(p.parent);
  }
  return out;
}
