import { gitAsync } from '../git/exec.js';

/**
 * Every ref whose value read commands depend on (branches, remote-tracking branches, omni-ship's notes), with its
 * object and type: one `git for-each-ref`. Everything status derives is a function of this text and the config.
 */
export async function readRefSnapshot(cwd: string): Promise<string> {
  return (await gitAsync(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...SNAPSHOT_PATTERNS], { cwd })).stdout;
}

/** The for-each-ref patterns of readRefSnapshot (a caller reading more refs at once filters its answer by them). */
export const SNAPSHOT_PATTERNS = ['refs/heads', 'refs/remotes', 'refs/notes/omni-ship', 'refs/replace'] as const;
