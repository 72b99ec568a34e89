import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { developTask } from '../../src/pipeline/develop.js';
import { readTaskRecord } from '../../src/pipeline/tasks.js';
import { cleanupAll, makeRepo, tempDir, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { eventsIn } from '../helpers/state.js';

afterAll(cleanupAll);

const ME = 'Test Author <author@example.com>';

/** A fake agent: a shell script run as `sh <script> {workspace}` (an argv, no shell line). */
function agent(body: string): string[] {
  const file = path.join(tempDir(), 'agent.sh');
  fs.writeFileSync(file, `set -e\ncd "$1"\n${body}\n`);
  return ['sh', file, '{workspace}'];
}

const COMMIT = 'echo "$RANDOM$$" > work.txt; git add work.txt; git commit -qm "work\n\nTask-Id: t-1"';

/** A repository beside its own worktrees folder, with the record of t-1. */
async function setup(): Promise<{ repo: TestRepo; run: (argv: string[], feedback?: string | null) => ReturnType<typeof developTask> }> {
  const parent = tempDir();
  const dir = path.join(parent, 'repo');
  fs.renameSync(makeRepo().dir, dir);
  const repo = wrapRepo(dir);
  const r = repo.omni(['task', 'add', 't-1', '--title', 'the work', '--description', 'Write work.txt.']);
  expect(r.code, r.stderr).toBe(0);
  const { config } = await loadConfig(dir, dir);
  return {
    repo,
    run: async (argv, feedback = null) => developTask({ cwd: dir, config, record: (await readTaskRecord(dir, 't-1'))!, argv, timeoutMs: 30_000, feedback, by: ME }),
  };
}

describe('the dev step (developTask)', () => {
  it("runs the agent in the task's worktree with the prompt; one new commit is the next patchset, recorded", async () => {
    const { repo, run } = await setup();
    const first = await run(agent(`cp "$(ls ../../repo/.git/omni-ship/run/t-1/prompt-*.md | head -1)" prompt-seen.md; ${COMMIT}`));
    expect(first).toMatchObject({ task: 't-1', outcome: 'committed', patchset: 1, error: null });
    expect(first.worktree).toBe(path.join(path.dirname(repo.dir), 'repo.worktrees', 't-1'));
    expect(fs.readFileSync(path.join(first.worktree, 'prompt-seen.md'), 'utf8')).toContain('# Task t-1: the work');
    expect(fs.readFileSync(first.log, 'utf8')).toContain('==> agent');
    const patchsets = eventsIn(repo, 'refs/notes/omni-ship/patchsets').filter((e) => e.task === 't-1');
    expect(patchsets.map((e) => e.commit)).toEqual([first.commit]);
    // a revision amends it: patchset 2, replacing the first; the feedback is in the prompt
    const second = await run(agent(`grep -q "verify failed in step test" "$(ls -t ../../repo/.git/omni-ship/run/t-1/prompt-*.md | head -1)"; echo more >> work.txt; git commit -qa --amend --no-edit`), 'verify failed in step test (exit 1)');
    expect(second).toMatchObject({ outcome: 'committed', patchset: 2 });
    const after = eventsIn(repo, 'refs/notes/omni-ship/patchsets').filter((e) => e.task === 't-1');
    expect(after.find((e) => e.commit === second.commit)?.supersedes).toBe(first.commit);
    expect(eventsIn(repo, 'refs/notes/omni-ship/attempts')).toEqual([]);
  });

  it('no commit, two commits, a failing or missing agent: failed attempts, on the task record while it has no commit', async () => {
    const { repo, run } = await setup();
    const cases: [string[], string, RegExp][] = [
      [agent('true'), 'no-commit', /made no new commit/],
      [agent(`${COMMIT}; echo b > b.txt; git add b.txt; git commit -qm second`), 'several-commits', /left 2 commits on top of main; a task is one commit/],
      [agent('exit 3'), 'agent-failed', /exited 3/],
      [['/nonexistent/agent', '{promptFile}'], 'not-started', /could not start/],
    ];
    for (const [argv, outcome, error] of cases) {
      // each from a clean branch: the two-commit case leaves its commits behind
      repo.gitRun(['worktree', 'remove', '--force', path.join(path.dirname(repo.dir), 'repo.worktrees', 't-1')]);
      repo.gitRun(['branch', '-D', 't-1']);
      repo.gitRun(['update-ref', '-d', 'refs/heads/t-1']);
      fs.rmSync(path.join(repo.dir, '.git', 'omni-ship', 'worktrees.json'), { force: true });
      const r = await run(argv);
      expect(r.outcome, outcome).toBe(outcome);
      expect(r.error, outcome).toMatch(error);
      expect(r.commit).toBeNull();
    }
    const record = (await readTaskRecord(repo.dir, 't-1'))!;
    expect(record.attempts.map((a) => [a.role, a.message?.slice(0, 20)])).toHaveLength(4);
    expect(eventsIn(repo, 'refs/notes/omni-ship/patchsets')).toEqual([]);
  });

  it('a failed attempt of a task that has a commit goes on that commit, in the attempts log', async () => {
    const { repo, run } = await setup();
    const first = await run(agent(COMMIT));
    expect(first.outcome).toBe('committed');
    const failed = await run(agent('true'));
    expect(failed.outcome).toBe('no-commit');
    const attempts = eventsIn(repo, 'refs/notes/omni-ship/attempts');
    expect(attempts).toMatchObject([{ type: 'attempt', task: 't-1', commit: first.commit, role: 'dev', outcome: 'fail', error: 'the agent made no new commit' }]);
    expect((await readTaskRecord(repo.dir, 't-1'))!.attempts).toEqual([]);
  });

  it('never starts the agent in a worktree with uncommitted changes or two commits on the base: a failed attempt, the work left as it was', async () => {
    const { repo, run } = await setup();
    const first = await run(agent(COMMIT));
    const wt = first.worktree;
    fs.writeFileSync(path.join(wt, 'work.txt'), 'an earlier agent stopped mid-work\n');
    fs.writeFileSync(path.join(wt, 'untracked.txt'), 'build output: not in the way\n');
    const marker = path.join(tempDir(), 'ran');
    const dirty = await run(agent(`touch ${marker}; ${COMMIT}`));
    expect(dirty.outcome).toBe('not-ready');
    expect(dirty.error).toMatch(/the agent was not started: the worktree .* has uncommitted changes \(work\.txt\)/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync(path.join(wt, 'work.txt'), 'utf8')).toBe('an earlier agent stopped mid-work\n');
    repo.git(['checkout', '--', 'work.txt'], { cwd: wt });
    repo.git(['commit', '-q', '--allow-empty', '-m', 'a second commit'], { cwd: wt });
    const two = await run(agent(`touch ${marker}; ${COMMIT}`));
    expect(two.outcome).toBe('not-ready');
    expect(two.error).toMatch(/has 2 commits on top of main; a task is one commit/);
    expect(fs.existsSync(marker)).toBe(false);
    const attempts = eventsIn(repo, 'refs/notes/omni-ship/attempts').filter((e) => e.role === 'dev');
    expect(attempts).toHaveLength(2);
  });
});
