import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../src/errors.js';
import { pushBase, updateLocalBase } from '../../src/land/move-base.js';
import { cleanupAll, makeRemote, makeRepo, run, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

// move-base runs git with this process's environment: take the caller's git variables and global config away
beforeAll(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
});

/** Commits a new file in `repo` (on whatever is checked out) and returns the commit. */
function commit(repo: TestRepo, name: string): string {
  repo.write(name, `${name}\n`);
  repo.git(['add', name]);
  repo.git(['commit', '-q', '-m', name]);
  return repo.git(['rev-parse', 'HEAD']).trim();
}

/** A commit on top of `parent` made without moving any ref (as land's candidate is). */
function candidate(repo: TestRepo, parent: string, msg: string): string {
  const tree = repo.git(['rev-parse', `${parent}^{tree}`]).trim();
  return repo.git(['commit-tree', tree, '-p', parent, '-m', msg]).trim();
}

function remoteMain(bare: string): string {
  return run('git', ['rev-parse', 'refs/heads/main'], { cwd: bare, env: testEnv() }).stdout.trim();
}

function lsRemoteMain(repo: TestRepo): string {
  return repo.git(['ls-remote', 'origin', 'refs/heads/main']).split('\t')[0]!;
}

describe('pushBase', () => {
  it('moves the remote base to a descendant of the leased tip', () => {
    const remote = makeRemote();
    const a = remote.clone();
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const to = candidate(a, from, 'task 1');
    expect(pushBase(a.dir, 'origin', 'main', from, to)).toEqual({ kind: 'moved' });
    expect(remoteMain(remote.bare)).toBe(to);
    expect(lsRemoteMain(a)).toBe(to);
    // pushing it again: the remote has `to` already
    expect(pushBase(a.dir, 'origin', 'main', from, to)).toEqual({ kind: 'moved' });
    expect(remoteMain(remote.bare)).toBe(to);
  });

  it('loses the race to a land from another clone, and leaves the remote as the other clone left it', () => {
    const remote = makeRemote();
    const a = remote.clone();
    const b = remote.clone();
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const theirs = commit(b, 'theirs');
    b.git(['push', '-q', 'origin', 'main']);
    const ours = candidate(a, from, 'ours');
    expect(pushBase(a.dir, 'origin', 'main', from, ours)).toEqual({ kind: 'lost-race', actual: theirs });
    expect(remoteMain(remote.bare)).toBe(theirs);
  });

  it('is not fooled by a remote-tracking ref fetched after the candidate was built: the lease is the explicit from', () => {
    const remote = makeRemote();
    const a = remote.clone();
    const b = remote.clone();
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const ours = candidate(a, from, 'ours');
    const theirs = commit(b, 'theirs');
    b.git(['push', '-q', 'origin', 'main']);
    // a fetch brings origin/main up to date: a bare lease would now succeed and overwrite `theirs`
    a.git(['fetch', '-q', 'origin']);
    expect(a.git(['rev-parse', 'refs/remotes/origin/main']).trim()).toBe(theirs);
    expect(pushBase(a.dir, 'origin', 'main', from, ours)).toEqual({ kind: 'lost-race', actual: theirs });
    expect(remoteMain(remote.bare)).toBe(theirs);
  });

  it('reports a refusal by a pre-receive hook in the remote own words, not as a race', () => {
    const remote = makeRemote();
    const hook = path.join(remote.bare, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, '#!/bin/sh\necho "branch is frozen" >&2\nexit 1\n', { mode: 0o755 });
    const a = remote.clone();
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const to = candidate(a, from, 'task');
    const r = pushBase(a.dir, 'origin', 'main', from, to);
    expect(r.kind).toBe('refused');
    if (r.kind !== 'refused') return;
    expect(r.reason).toContain('branch is frozen');
    expect(r.reason).toContain('pre-receive hook declined');
    expect(r.reason).not.toContain('remote:');
    expect(remoteMain(remote.bare)).toBe(from);
  });

  it('throws when `to` does not descend from `from`, and pushes nothing', () => {
    const remote = makeRemote();
    const a = remote.clone();
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const next = candidate(a, from, 'next');
    a.git(['push', '-q', 'origin', `${next}:refs/heads/main`]);
    // going back from `next` to `from` would rewind the base
    expect(() => pushBase(a.dir, 'origin', 'main', next, from)).toThrow(/does not descend/);
    // a sibling is no descendant either
    const sibling = candidate(a, from, 'sibling');
    expect(() => pushBase(a.dir, 'origin', 'main', next, sibling)).toThrow(/does not descend/);
    expect(remoteMain(remote.bare)).toBe(next);
  });

  it('turns an unreachable remote into a UserError, exit 2, naming its URL', () => {
    const a = makeRepo();
    const missing = path.join(tempDir(), 'no-such-remote.git');
    a.git(['remote', 'add', 'origin', missing]);
    const from = a.git(['rev-parse', 'HEAD']).trim();
    const to = candidate(a, from, 'task');
    let caught: unknown;
    try {
      pushBase(a.dir, 'origin', 'main', from, to);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).exitCode).toBe(ExitCode.usage);
    expect((caught as UserError).message).toContain(missing);
    expect((caught as UserError).message).toContain("'origin'");
  });
});

describe('updateLocalBase', () => {
  it('moves the local base by compare-and-swap', () => {
    const repo = makeRepo();
    repo.git(['checkout', '-q', '-b', 'work']); // main is not checked out: no worktree to keep in step
    const from = repo.git(['rev-parse', 'main']).trim();
    const to = candidate(repo, from, 'task');
    expect(updateLocalBase(repo.dir, 'main', from, to)).toEqual({ kind: 'moved' });
    expect(repo.git(['rev-parse', 'main']).trim()).toBe(to);
  });

  it('loses the race when the base moved since `from`, and leaves it where the other move left it', () => {
    const repo = makeRepo();
    repo.git(['checkout', '-q', '-b', 'work']);
    const from = repo.git(['rev-parse', 'main']).trim();
    const theirs = candidate(repo, from, 'theirs');
    repo.git(['update-ref', 'refs/heads/main', theirs, from]);
    const ours = candidate(repo, from, 'ours');
    expect(updateLocalBase(repo.dir, 'main', from, ours)).toEqual({ kind: 'lost-race', actual: theirs });
    expect(repo.git(['rev-parse', 'main']).trim()).toBe(theirs);
  });

  it('throws when `to` does not descend from `from`, and moves nothing', () => {
    const repo = makeRepo();
    repo.git(['checkout', '-q', '-b', 'work']);
    const from = repo.git(['rev-parse', 'main']).trim();
    const next = candidate(repo, from, 'next');
    repo.git(['update-ref', 'refs/heads/main', next, from]);
    expect(() => updateLocalBase(repo.dir, 'main', next, from)).toThrow(/does not descend/);
    expect(repo.git(['rev-parse', 'main']).trim()).toBe(next);
  });
});
