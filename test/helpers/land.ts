import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { track } from './hooks.js';
import { makeRemote, makeRepo, testEnv, waitForDrain, wrapRepo, type RunResult, type TestRepo } from './repo.js';
import { NOTES, installHooks, refValue, withJson } from './state.js';
import { commitVerifyConfig, runCounter } from './verify.js';

/** A step that passes. */
export const PASS = { name: 'ok', run: 'true' };
/** A step that fails when the tree holds a file named `bad` (a task adds it to break the check). */
export const NO_BAD = { name: 'no-bad', run: 'test ! -f bad' };

/** A step that appends a line to `counter` each time it runs, then passes unless the tree holds `bad`. */
export function countingStep(counter: { file: string }): { name: string; run: string } {
  return { name: 'count', run: `echo run >> '${counter.file}'; test ! -f bad` };
}

/** A bare remote and the clone `a` that works on it; main carries the committed config (verify plus `land`, if given). */
export interface LandFixture {
  bare: TestRepo;
  a: TestRepo;
  /** another clone of the remote (hooks installed when the fixture has them) */
  clone(name: string): TestRepo;
}

/** The committed config on main: `.omni-shiprc.json` with these verify settings and, optionally, `land`. */
export function commitLandConfig(repo: TestRepo, verify: Record<string, unknown>, land?: Record<string, unknown>, message = 'omni-ship config'): string {
  if (!land) return commitVerifyConfig(repo, verify, message);
  repo.write('.omni-shiprc.json', `${JSON.stringify({ verify, land }, null, 2)}\n`);
  repo.git(['add', '.omni-shiprc.json']);
  repo.git(['commit', '-q', '-m', message]);
  return repo.git(['rev-parse', 'HEAD']).trim();
}

/** A remote whose main commits the config, and clone `a` of it (on main, up to date). */
export function landRemote(verify: Record<string, unknown>, opts: { land?: Record<string, unknown>; hooks?: boolean } = {}): LandFixture {
  const remote = makeRemote();
  const clone = (name: string) => {
    const c = remote.clone(name);
    if (opts.hooks) {
      installHooks(c);
      track(c);
    }
    return c;
  };
  const a = clone('a');
  commitLandConfig(a, verify, opts.land);
  a.git(['push', '-q', 'origin', 'main']);
  return { bare: wrapRepo(remote.bare), a, clone };
}

/** A repository without a remote whose main commits the config. */
export function landLocal(verify: Record<string, unknown>, land?: Record<string, unknown>): TestRepo {
  const repo = makeRepo();
  commitLandConfig(repo, verify, land);
  return repo;
}

/**
 * Makes branch `task` off `from` with one commit writing `files` (default `<task>.txt`), its message carrying the
 * trailer unless `trailer` is false (or another text); returns the commit. The work tree is left on the task branch.
 */
export function makeTask(
  repo: TestRepo,
  task: string,
  opts: { from?: string; files?: Record<string, string>; trailer?: string | false; subject?: string; body?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  repo.git(['switch', '-q', '-c', task, opts.from ?? 'main']);
  const files = opts.files ?? { [`${task}.txt`]: `${task} work\n` };
  for (const [file, content] of Object.entries(files)) repo.write(file, content);
  repo.git(['add', '-A', '--', ...Object.keys(files)]);
  const trailer = opts.trailer === undefined ? `Task-Id: ${task}` : opts.trailer;
  const args = ['commit', '-q', '-m', opts.subject ?? `work on ${task}`];
  if (opts.body) args.push('-m', opts.body);
  if (trailer !== false) args.push('-m', trailer);
  repo.git(args, { env: opts.env });
  return repo.git(['rev-parse', 'HEAD']).trim();
}

/** Commits `files` on main (the work tree ends on main) and pushes main when the repository has a remote. */
export function advanceMain(repo: TestRepo, files: Record<string, string>, message = 'main moves on', push = true): string {
  repo.git(['switch', '-q', 'main']);
  for (const [file, content] of Object.entries(files)) repo.write(file, content);
  repo.git(['add', '-A', '--', ...Object.keys(files)]);
  repo.git(['commit', '-q', '-m', message]);
  if (push && repo.gitRun(['remote']).stdout.trim()) repo.git(['push', '-q', 'origin', 'main']);
  return repo.git(['rev-parse', 'HEAD']).trim();
}

/** `omni-ship land --json …`: the run and its parsed stdout (null when stdout is not JSON: a usage error). */
export function land(repo: TestRepo, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; command?: string } = {}): { r: RunResult; json: any } {
  return withJson(repo.omni([opts.command ?? 'land', '--json', ...args], { env: opts.env, cwd: opts.cwd }));
}

/** The one task outcome of a land answer, checked to exist. */
export function outcomeOf(l: { r: RunResult; json: any }, task: string): any {
  expect(l.json, l.r.stdout + l.r.stderr).not.toBeNull();
  const t = (l.json.tasks as any[]).find((x) => x.task === task);
  expect(t, JSON.stringify(l.json.tasks)).toBeDefined();
  return t;
}

/** Every ref and the object it points at, as `git for-each-ref` prints them (notes included). */
export function allRefs(repo: TestRepo): string {
  return repo.git(['for-each-ref', '--format=%(refname) %(objectname)']);
}

/** The refs of a repository minus the verify and attempt notes (a refusal after a verify run writes those, by design). */
export function refsButVerifyNotes(repo: TestRepo): string {
  return allRefs(repo)
    .split('\n')
    .filter((l) => !l.startsWith(`${NOTES.verify} `) && !l.startsWith(`${NOTES.attempts} `))
    .join('\n');
}

/** What a refusal must leave as it was: the refs of the clone and of the remote (verify and attempt notes aside when `verifyNotes` is false). */
export function landSnapshot(fx: { a: TestRepo; bare?: TestRepo }, opts: { verifyNotes?: boolean } = {}): { local: string; remote: string | null } {
  const refs = opts.verifyNotes === false ? refsButVerifyNotes : allRefs;
  return { local: refs(fx.a), remote: fx.bare ? refs(fx.bare) : null };
}

/** Checks that nothing landed: the refs are as before, and no land note exists locally or on the remote. */
export function expectNothingLanded(fx: { a: TestRepo; bare?: TestRepo }, before: { local: string; remote: string | null }, opts: { verifyNotes?: boolean } = {}): void {
  expect(landSnapshot(fx, opts)).toEqual(before);
  expect(refValue(fx.a, NOTES.lands)).toBeNull();
  if (fx.bare) expect(refValue(fx.bare, NOTES.lands)).toBeNull();
}

/** The value of a branch on the remote (bare repository), or null. */
export function remoteBranch(bare: TestRepo, branch: string): string | null {
  return refValue(bare, `refs/heads/${branch}`);
}

/**
 * A pre-receive hook in the bare repository that refuses every push updating `ref` with `message`, counting those
 * pushes (other pushes, such as the notes, go through uncounted).
 */
export function refusePushes(bare: TestRepo, message: string, ref = 'refs/heads/main'): { count(): number } {
  const counter = runCounter();
  const hook = path.join(bare.dir, 'hooks', 'pre-receive');
  fs.mkdirSync(path.dirname(hook), { recursive: true });
  const script = [
    '#!/bin/sh',
    'refuse=',
    `while read old new ref; do [ "$ref" = '${ref}' ] && refuse=1; done`,
    '[ -z "$refuse" ] && exit 0',
    `echo run >> '${counter.file}'`,
    `echo '${message}' >&2`,
    'exit 1',
    '',
  ].join('\n');
  fs.writeFileSync(hook, script, { mode: 0o755 });
  return counter;
}

/** `git count-objects -v`: every count and size of the object store. */
export function objectCounts(repo: TestRepo): string {
  return repo.git(['count-objects', '-v']);
}

/** A commit's message, author (raw date included) and the values of its Task-Id trailers. */
export function commitInfo(repo: TestRepo, rev: string): { message: string; author: string; committer: string; trailers: string[]; parents: string[]; tree: string } {
  const f = (fmt: string) => repo.git(['log', '-1', '--no-walk', `--format=${fmt}`, rev]);
  return {
    message: f('%B'),
    author: f('%an <%ae> %ad').trim(),
    committer: f('%cn <%ce>').trim(),
    trailers: f('%(trailers:key=Task-Id,valueonly,separator=%x00)').trim().split('\0').filter(Boolean),
    parents: f('%P').trim().split(' ').filter(Boolean),
    tree: f('%T').trim(),
  };
}

/** The tree `git cherry-pick <commit>` onto `onto` makes, computed in a throwaway worktree (hooks off). */
export function cherryPickTree(repo: TestRepo, onto: string, commit: string, scratchDir: string): string {
  const wt = path.join(scratchDir, 'cherry-pick');
  const env = testEnv({ OMNI_SHIP_SKIP: '1' });
  repo.git(['worktree', 'add', '-q', '--detach', wt, onto], { env });
  try {
    repo.git(['-c', 'core.hooksPath=/dev/null', 'cherry-pick', commit], { cwd: wt, env });
    return repo.git(['rev-parse', 'HEAD^{tree}'], { cwd: wt }).trim();
  } finally {
    repo.git(['worktree', 'remove', '--force', wt]);
  }
}

/** Waits for the repository's hook drainer to finish recording (patchsets) and checks it did. */
export async function drained(repo: TestRepo): Promise<void> {
  expect(await waitForDrain(repo)).toBe(true);
}
