import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { makeRepo, tempDir, type RunResult, type TestRepo } from './repo.js';
import { pidLive } from './children.js';
import { NOTES, commitChange, eventsIn, withJson } from './state.js';

/** A step as a config file writes it. */
export type StepConfig = { name: string; run: string | string[]; timeout?: number; env?: Record<string, string> };

/** The `.omni-shiprc.json` text for these verify settings (plus any other keys). */
export function verifyConfigText(verify: Record<string, unknown>, other: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ ...other, verify }, null, 2)}\n`;
}

/** Commits a config with these verify settings on the current branch (main by default). */
export function commitVerifyConfig(repo: TestRepo, verify: Record<string, unknown>, message = 'verify config'): string {
  repo.write('.omni-shiprc.json', verifyConfigText(verify));
  repo.git(['add', '.omni-shiprc.json']);
  repo.git(['commit', '-q', '-m', message]);
  return repo.git(['rev-parse', 'HEAD']).trim();
}

/** A file outside the repository that steps append a line to each time they run: count the runs. */
export function runCounter(): { file: string; count(): number } {
  const file = path.join(tempDir('omni-ship-counter-'), 'runs');
  return {
    file,
    count: () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0),
  };
}

/** A repository whose main branch commits a config with `verify`; no hooks. */
export function verifyRepo(verify: Record<string, unknown>): TestRepo {
  const repo = makeRepo();
  commitVerifyConfig(repo, verify);
  return repo;
}

/** A task branch off main with one commit carrying the task's trailer; returns the commit and its tree. */
export function taskOnTop(repo: TestRepo, task: string, content = `${task} work\n`, file = `${task}.txt`): { commit: string; tree: string } {
  repo.git(['switch', '-q', '-c', task, 'main']);
  repo.write(file, content);
  repo.git(['add', file]);
  repo.git(['commit', '-q', '-m', `work on ${task}`, '-m', `Task-Id: ${task}`]);
  return { commit: repo.git(['rev-parse', 'HEAD']).trim(), tree: repo.git(['rev-parse', 'HEAD^{tree}']).trim() };
}

/** Runs `omni-ship verify --json …` and parses stdout whatever the exit code (stdout is JSON when it is not a usage error). */
export function verify(repo: TestRepo, args: string[] = [], env?: NodeJS.ProcessEnv): { r: RunResult; json: any } {
  return withJson(repo.omni(['verify', '--json', ...args], { env }));
}

/** The verify events recorded on `tree`. */
export function verifyEventsOn(repo: TestRepo, tree: string): Record<string, any>[] {
  return eventsIn(repo, NOTES.verify).filter((e) => e.type === 'verify' && e.tree === tree);
}

/** Checks a verify answer's exit code and result. */
export function expectResult(v: { r: RunResult; json: any }, result: string, code: number): void {
  expect(v.r.code, v.r.stderr).toBe(code);
  expect(v.json?.result, v.r.stdout + v.r.stderr).toBe(result);
}

/** Whether a process with this pid is alive (not a zombie). */
export const alive = pidLive;

export { commitChange };
