import { expect } from 'vitest';
import { makeRemote, waitForDrain, wrapRepo, type TestRepo } from './repo.js';
import { commitChange, installHooks, jsonOf } from './state.js';

/** A remote and two clones of it, A and B, with hooks installed in both. */
export function twoClones(): { bare: TestRepo; a: TestRepo; b: TestRepo } {
  const remote = makeRemote();
  const a = remote.clone('a');
  const b = remote.clone('b');
  installHooks(a);
  installHooks(b);
  return { bare: wrapRepo(remote.bare), a, b };
}

/** Commits on a new task branch and waits for the hooks to record it. */
export async function taskCommit(repo: TestRepo, task: string, message = `work on ${task}`): Promise<string> {
  repo.git(['switch', '-q', '-c', task, 'main']);
  const sha = commitChange(repo, message, { file: `${task}.txt` });
  expect(await waitForDrain(repo)).toBe(true);
  return sha;
}

/** `omni-ship sync --json` (checked to exit 0), parsed. */
export function sync(repo: TestRepo, args: string[] = []): any {
  return jsonOf(repo.omni(['sync', '--json', ...args]));
}
