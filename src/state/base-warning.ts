import type { Config } from '../config.js';
import { baseRefCandidates } from '../notes/refs.js';

/**
 * Says so when neither the base branch nor its remote-tracking branch exists (a typo such as `baseBranch: mian`):
 * then no commit is on the base branch and every landed task would silently read as in progress. Not in a
 * repository without any branch yet (nothing has landed, and main is about to exist).
 */
export function missingBaseWarning(config: Config, found: readonly string[], refs: ReadonlyMap<string, string>): string | null {
  if (found.length) return null;
  if (![...refs.keys()].some((r) => r.startsWith('refs/heads/') || r.startsWith('refs/remotes/'))) return null;
  const lookedFor = baseRefCandidates(config);
  const fetch = config.remote ? `, or fetch it (git fetch ${config.remote} ${config.baseBranch})` : '';
  return (
    `base branch '${config.baseBranch}' not found: looked for ${lookedFor.join(' and ')}, so no task counts as landed; ` +
    `set baseBranch in the omni-ship config to the branch tasks land on (omni-ship config shows where it is set)${fetch}`
  );
}
