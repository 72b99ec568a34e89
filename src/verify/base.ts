import type { Config } from '../config.js';
import { gitRun } from '../git/exec.js';
import { baseRefCandidates } from '../notes/refs.js';
import { isShallow } from './shape.js';

/** The base branch as verify reads it: the commit its committed config is read from. */
export interface BaseTip {
  tip: string;
  /** the ref it was read from: the local branch, else the remote-tracking one */
  ref: string;
  /** the branch name, for messages */
  name: string;
}

/** The base branch tip here: the local branch, else its remote-tracking branch (a CI checkout has no local one). */
export function findBaseTip(cwd: string, config: Config): BaseTip | null {
  const refs = baseRefCandidates(config);
  const out = gitRun(['for-each-ref', '--format=%(refname) %(objectname) %(objecttype)', ...refs], { cwd }).stdout;
  const found = new Map(
    out
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([, , type]) => type === 'commit')
      .map(([ref, oid]) => [ref!, oid!]),
  );
  for (const ref of refs) {
    const tip = found.get(ref);
    if (tip) return { tip, ref, name: config.baseBranch };
  }
  return null;
}

/**
 * The base branch tip, fetched from the remote when this clone has neither the branch nor its remote-tracking ref
 * (a CI runner that cloned one commit). A shallow clone stays shallow (depth 1), a full one fetches in full. Null,
 * with why, when there is no remote or the remote has no such branch.
 */
export function fetchBaseTip(cwd: string, config: Config): { base: BaseTip | null; why: string | null } {
  const here = findBaseTip(cwd, config);
  if (here) return { base: here, why: null };
  if (!config.remote) return { base: null, why: `the base branch ${config.baseBranch} is not in this clone and there is no remote to fetch it from` };
  const ref = `refs/remotes/${config.remote}/${config.baseBranch}`;
  const args = ['fetch', '--quiet', '--no-tags', ...(isShallow(cwd) ? ['--depth=1'] : []), config.remote, `+refs/heads/${config.baseBranch}:${ref}`];
  const r = gitRun(args, { cwd });
  if (r.exitCode !== 0) {
    return { base: null, why: `the base branch ${config.baseBranch} is not in this clone, and fetching it from ${config.remote} failed: ${r.stderr.trim().split('\n').pop()}` };
  }
  return { base: findBaseTip(cwd, config), why: null };
}
