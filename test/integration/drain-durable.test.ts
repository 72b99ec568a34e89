import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, tempDir, testEnv, waitFor, waitForDrain, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, head, installHooks, jsonOf, keptCommits, patchsetEvents, refsUnder } from '../helpers/state.js';

afterAll(cleanupAll);

const JOB_CONFIG = "taskPattern: '^job-[0-9]+$'\nbranchPattern: '(^|/)job-[0-9]+($|[-_/])'\n";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stateDirOf(repo: TestRepo): string {
  return path.join(repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim(), 'omni-ship');
}

/** The pid a drain.pid or drain.starting file names (its first word), or null. */
function pidIn(file: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True while some process has this pid and has not exited (a zombie nobody reaped yet has). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0] ?? '');
  } catch {
    return false;
  }
}

/** Waits until no drainer runs, whatever the spool still holds (events kept for a later drain stay there). */
async function drainerGone(repo: TestRepo): Promise<boolean> {
  const dir = stateDirOf(repo);
  return waitFor(() => {
    const pid = pidIn(path.join(dir, 'drain.pid')) ?? pidIn(path.join(dir, 'drain.starting'));
    return pid === null || !exists(pid);
  }, 60_000);
}

/** The commits `show` lists for a task, in patchset order. */
function shownCommits(repo: TestRepo, task: string): string[] {
  return jsonOf(repo.omni(['show', task, '--json'])).patchsetHistory.map((p: { commit: string }) => p.commit);
}

/** A repository with hooks installed, on a new task branch. */
function hookedRepo(task: string, dir?: string): TestRepo {
  let repo: TestRepo;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    repo = wrapRepo(dir);
    repo.git(['init', '-q', '--initial-branch=main']);
    for (const [k, v] of [
      ['user.name', 'Test Author'],
      ['user.email', 'author@example.com'],
      ['commit.gpgsign', 'false'],
      ['gc.auto', '0'],
    ]) {
      repo.git(['config', k!, v!]);
    }
    repo.write('README', 'hello\n');
    repo.git(['add', 'README']);
    repo.git(['commit', '-q', '-m', 'initial']);
  } else repo = makeRepo();
  installHooks(repo);
  repo.git(['switch', '-q', '-c', task]);
  return repo;
}

/** Commits a change with `git commit` run in a process group of its own, as a CI runner or harness starts it. */
function commitInOwnGroup(repo: TestRepo, message: string): Promise<{ commit: string; pgid: number }> {
  fs.writeFileSync(path.join(repo.dir, 'work.txt'), `${message} ${Math.random()}\n`);
  repo.git(['add', 'work.txt']);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['commit', '-q', '-m', message], { cwd: repo.dir, env: testEnv(), detached: true, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ commit: head(repo), pgid: child.pid! }) : reject(new Error(`git commit exited ${code}`))));
  });
}

/** Every ref lock file left under refs/ of the repository. */
function refLocks(repo: TestRepo): string[] {
  const common = repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) out.push(p);
    }
  };
  walk(path.join(common, 'refs'));
  return out;
}

describe('the drainer loses nothing when it dies', () => {
  it('events a killed drainer had claimed are recorded by the next drain', async () => {
    const repo = hookedRepo('t-1');
    const dir = stateDirOf(repo);
    // hold the notes ref's lock, as a concurrent git would: the drainer claims the event, then cannot write it
    const common = repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
    const lock = path.join(common, 'refs', 'notes', 'omni-ship', 'patchsets.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, '');
    const first = commitChange(repo, 'first');
    // the drainer is up and has had the time to claim the event and start its (blocked) write
    expect(await waitFor(() => pidIn(path.join(dir, 'drain.pid')) !== null, 120_000)).toBe(true);
    await sleep(500);
    process.kill(pidIn(path.join(dir, 'drain.pid'))!, 'SIGKILL');
    fs.rmSync(lock);
    const second = commitChange(repo, 'second');
    expect(await waitForDrain(repo)).toBe(true);
    expect(shownCommits(repo, 't-1')).toEqual([first, second]);
  });

  it('a drainer killed between keeping a commit and recording it: the next drain records it, kept', async () => {
    const repo = hookedRepo('t-1');
    // the drainer this commit starts dies at the failpoint: its commit kept, its patchset not yet recorded
    const first = commitChange(repo, 'first', { env: testEnv({ OMNI_SHIP_FAILPOINT: 'patchset:kept' }) });
    expect(await drainerGone(repo)).toBe(true);
    expect(await waitFor(() => keptCommits(repo).has(first), 60_000)).toBe(true);
    expect(patchsetEvents(repo, 't-1').map((e) => e.commit)).toEqual([]);
    const second = commitChange(repo, 'second');
    expect(await waitForDrain(repo)).toBe(true);
    expect(shownCommits(repo, 't-1')).toEqual([first, second]);
    expect([...keptCommits(repo)].filter((c) => c === first || c === second).sort()).toEqual([first, second].sort());
  });

  it('an event that cannot be written now is kept, and the next drain writes it', async () => {
    const repo = hookedRepo('t-2');
    // a notes ref that points at a blob: every write to it fails until someone fixes the ref
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: 'not a notes commit\n' }).trim();
    repo.git(['update-ref', NOTES.patchsets, blob]);
    const first = commitChange(repo, 'first');
    expect(await drainerGone(repo)).toBe(true);
    expect(fs.readdirSync(path.join(stateDirOf(repo), 'spool')).length).toBeGreaterThan(0);
    repo.git(['update-ref', '-d', NOTES.patchsets]);
    const second = commitChange(repo, 'second');
    expect(await waitForDrain(repo)).toBe(true);
    expect(shownCommits(repo, 't-2')).toEqual([first, second]);
  });

  it('a drainer killed at random points, by SIGKILL or by a SIGTERM to the commit\'s process group, loses no commit', async () => {
    const repo = hookedRepo('t-3');
    const dir = stateDirOf(repo);
    const commits: string[] = [];
    let kills = 0; // drainers that were alive when the signal was sent, and died
    // a fixed seed: a failure can be replayed
    let seed = 20261130;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 40; trial++) {
      const burst = 1 + Math.floor(random() * 3);
      let pgid = 0;
      for (let i = 0; i < burst; i++) {
        const made = await commitInOwnGroup(repo, `trial ${trial}.${i}`);
        commits.push(made.commit);
        pgid = made.pgid;
      }
      // somewhere in the drainer's life: starting Node, claiming, writing notes, deleting the spool file
      await sleep(random() * 400);
      const pid = pidIn(path.join(dir, 'drain.pid')) ?? pidIn(path.join(dir, 'drain.starting'));
      if (trial % 2 === 0) {
        // what a CI runner or `docker stop` does: SIGTERM to the commit's process group, and to every other group
        // (the drainer has one of its own: it survives the first, not the second)
        for (const group of [pgid, pid]) {
          try {
            if (group) process.kill(-group, 'SIGTERM');
          } catch {
            /* gone already */
          }
        }
      } else if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
      if (pid && (await waitFor(() => !exists(pid), 2_000))) kills++;
    }
    expect(kills).toBeGreaterThan(10);
    // one more commit starts a drainer nobody kills; it finishes what the killed ones left
    commits.push(commitChange(repo, 'last'));
    expect(await waitForDrain(repo)).toBe(true);

    const events = patchsetEvents(repo, 't-3');
    for (const c of commits) expect(events.filter((e) => e.commit === c), c).toHaveLength(1);
    expect(shownCommits(repo, 't-3')).toEqual(commits);
    expect(refsUnder(repo, 'refs/omni-ship/tmp/')).toEqual(new Map());
    expect(refLocks(repo)).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'spool'))).toEqual([]);
  }, 600_000);
});

describe('what the hooks spool', () => {
  for (const [name, odd] of [
    ['a TAB', 'a\tb'],
    ['a newline', 'a\nb'],
  ] as const) {
    it(`a work tree whose path holds ${name} records its commits`, async () => {
      const repo = hookedRepo('t-4', path.join(tempDir(), odd, 'repo'));
      const commit = commitChange(repo, 'odd path');
      expect(await waitForDrain(repo)).toBe(true);
      expect(shownCommits(repo, 't-4')).toEqual([commit]);
    });
  }

  it('post-merge records the merge commit it saw, even when another commit follows before the drainer runs', async () => {
    const repo = hookedRepo('t-5');
    commitChange(repo, 'task work');
    repo.git(['switch', '-q', 'main']);
    commitChange(repo, 'main moves', { file: 'main.txt' });
    repo.git(['switch', '-q', 't-5']);
    expect(await waitForDrain(repo)).toBe(true);
    // the drainer the merge starts waits a while, as one does on a busy machine
    const slow = testEnv({ OMNI_SHIP_HOOK_DELAY_MS: '1500' });
    repo.git(['merge', '-q', '--no-ff', '--no-edit', 'main'], { env: slow });
    const merge = head(repo);
    const after = commitChange(repo, 'after the merge', { env: slow });
    expect(await waitForDrain(repo)).toBe(true);
    const events = patchsetEvents(repo, 't-5');
    expect(events.find((e) => e.commit === merge)?.via).toBe('merge');
    expect(events.find((e) => e.commit === after)?.via).toBe('commit');
    expect(events.filter((e) => e.commit === after)).toHaveLength(1);
  });

  it('a commit in a linked worktree removed before the drainer ran is still recorded', async () => {
    const repo = hookedRepo('t-8');
    repo.git(['switch', '-q', 'main']);
    const wt = path.join(tempDir(), 'wt');
    repo.git(['worktree', 'add', '-q', '-b', 't-9', wt]);
    const slow = testEnv({ OMNI_SHIP_HOOK_DELAY_MS: '1500' });
    const commit = commitChange(repo, 'in a worktree', { cwd: wt, env: slow });
    repo.git(['worktree', 'remove', '--force', wt]);
    expect(await waitForDrain(repo)).toBe(true);
    expect(patchsetEvents(repo, 't-9').map((e) => e.commit)).toEqual([commit]);
  });

  it('a stale drain.pid naming a live process that is not a drainer does not stop recording', async () => {
    const repo = hookedRepo('t-6');
    const dir = stateDirOf(repo);
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'drain.pid'), `${other.pid}\n`);
      const commit = commitChange(repo, 'recorded anyway');
      expect(await waitFor(() => patchsetEvents(repo, 't-6').length > 0, 120_000)).toBe(true);
      expect(shownCommits(repo, 't-6')).toEqual([commit]);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('a config the background process cannot load', () => {
  for (const [name, text] of [
    ['an unknown key', `${JOB_CONFIG}noSuchKey: 1\n`],
    ['a syntax error', `${JOB_CONFIG}branchPattern: [unclosed\n`],
  ] as const) {
    it(`with ${name}, commits are still recorded, with the previous settings`, async () => {
      // settings the defaults would not match: a branch named job-7 names no task for them
      const repo = makeRepo();
      repo.write('.omni-shiprc.yaml', JOB_CONFIG);
      repo.git(['add', '.omni-shiprc.yaml']);
      repo.git(['commit', '-q', '-m', 'config']);
      installHooks(repo);
      repo.git(['switch', '-q', '-c', 'job-7']);
      const first = commitChange(repo, 'with a good config');
      expect(await waitForDrain(repo)).toBe(true);
      repo.write('.omni-shiprc.yaml', text);
      const r = spawnSync('git', ['commit', '-q', '--allow-empty', '-m', 'with a broken config'], { cwd: repo.dir, env: testEnv(), encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('commits use the previous settings');
      const second = head(repo);
      expect(await waitForDrain(repo)).toBe(true);
      // read with git itself: omni-ship's own read commands refuse the broken config
      expect(patchsetEvents(repo, 'job-7').map((e) => e.commit).sort()).toEqual([first, second].sort());
    });
  }
});
