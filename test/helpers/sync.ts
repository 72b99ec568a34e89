import path from 'node:path';
import { expect } from 'vitest';
import { makeRemote, tempDir, waitForDrain, wrapRepo, type TestRepo } from './repo.js';
import { commitChange, installHooks, jsonOf, notesOf } from './state.js';

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

/**
 * What someone without omni-ship does to the remote's notes: a plain clone of the remote fetches
 * `refs/notes/omni-ship/*` into its own refs/notes, `edit` runs git there (notes remove, prune, a rewritten note),
 * and the clone pushes `refs/notes/omni-ship/*` back as git would, without a lease and without a union.
 */
export function editRemoteNotes(bare: TestRepo, edit: (plain: TestRepo) => void): TestRepo {
  const plain = makeRemoteClone(bare);
  plain.git(['fetch', '-q', 'origin', '+refs/notes/omni-ship/*:refs/notes/omni-ship/*']);
  edit(plain);
  plain.git(['push', '-q', 'origin', 'refs/notes/omni-ship/*:refs/notes/omni-ship/*']);
  return plain;
}

/** A plain clone of a bare repository: no hooks, no omni-ship. */
function makeRemoteClone(bare: TestRepo): TestRepo {
  const dir = path.join(tempDir('omni-ship-plain-'), 'plain');
  // --no-local: a local clone hard-links every object; a real one gets only what its refs reach (no task commits)
  bare.git(['clone', '-q', '--no-local', bare.dir, dir]);
  const repo = wrapRepo(dir);
  repo.git(['config', 'user.name', 'Plain User']);
  repo.git(['config', 'user.email', 'plain@example.com']);
  return repo;
}

/** The distinct non-empty lines of every note in a notes ref (what must never shrink). */
export function linesOf(repo: TestRepo, ref: string): Set<string> {
  const lines = new Set<string>();
  for (const [object, text] of notesOf(repo, ref)) for (const l of text.split('\n')) if (l) lines.add(`${object} ${l}`);
  return lines;
}
