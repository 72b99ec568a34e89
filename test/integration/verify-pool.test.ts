import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readLock } from '../../src/verify/lock.js';
import { acquireWorkspace, poolGitEnv, prunePool, type AcquireOptions } from '../../src/verify/pool.js';
import { readRegistry, updateRegistry } from '../../src/verify/registry.js';
import { killGroup } from '../../src/verify/steps.js';
import { distModule, killChildren, liveGroupMembers, nodeChild } from '../helpers/children.js';
import { cleanupAll, makeRepo, run, tempDir, testEnv, waitFor, type TestRepo } from '../helpers/repo.js';

afterEach(killChildren);
afterAll(cleanupAll);
beforeAll(() => {
  // the pool's git runs in this process: a developer's global or system config must not steer it
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
});

interface Fixture {
  repo: TestRepo;
  opts: AcquireOptions;
  first: string;
  second: string;
}

/** A repository with two commits (the second changes README and adds .gitignore) and pool options for it. */
function fixture(extra: Partial<AcquireOptions> = {}): Fixture {
  const repo = makeRepo();
  const first = repo.git(['rev-parse', 'HEAD']).trim();
  repo.write('README', 'second\n');
  repo.write('.gitignore', 'build/\n');
  repo.git(['add', '.']);
  repo.git(['commit', '-qm', 'second']);
  const second = repo.git(['rev-parse', 'HEAD']).trim();
  const commonDir = repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
  const stateDir = path.join(commonDir, 'omni-ship', 'verify');
  return { repo, first, second, opts: { cwd: repo.dir, commonDir, stateDir, commit: second, keep: ['node_modules'], concurrency: 1, ...extra } };
}

/** `git worktree list --porcelain` as records: worktree path, HEAD, and the lock reason if locked. */
function worktrees(repo: TestRepo): { path: string; head?: string; locked?: string }[] {
  return repo
    .git(['worktree', 'list', '--porcelain'])
    .trim()
    .split('\n\n')
    .map((rec) => {
      const out: { path: string; head?: string; locked?: string } = { path: '' };
      for (const line of rec.split('\n')) {
        if (line.startsWith('worktree ')) out.path = line.slice(9);
        else if (line.startsWith('HEAD ')) out.head = line.slice(5);
        else if (line.startsWith('locked')) out.locked = line.slice(7);
      }
      return out;
    });
}

const headOf = (dir: string) => run('git', ['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim();

describe('verify pool', () => {
  it('creates a locked, detached worktree under the state dir, holds its slot lock and records it', async () => {
    const { repo, opts, second } = fixture();
    const ws = await acquireWorkspace(opts);
    expect(ws.slot).toBe(0);
    expect(ws.dir).toBe(path.join(opts.stateDir, 'pool', '0'));
    expect(headOf(ws.dir)).toBe(second);
    expect(run('git', ['symbolic-ref', '-q', 'HEAD'], { cwd: ws.dir }).code).toBe(1); // detached
    expect(worktrees(repo).find((w) => w.path === ws.dir)).toEqual({ path: ws.dir, head: second, locked: 'omni-ship verify pool' });
    expect(readLock(ws.lockFile)).toMatchObject({ pid: process.pid, data: { slot: 0 } });
    const entry = (await readRegistry(opts.stateDir)).pool[0]!;
    expect(entry).toMatchObject({ slot: 0, path: ws.dir, commit: second, tree: repo.git(['rev-parse', 'HEAD^{tree}']).trim() });
    ws.setGroup(4242);
    expect(readLock(ws.lockFile)?.data).toMatchObject({ slot: 0, pgid: 4242 });
    ws.setGroup(null);
    expect(readLock(ws.lockFile)?.data).not.toHaveProperty('pgid');
    await new Promise((r) => setTimeout(r, 20));
    await ws.release();
    expect(fs.existsSync(ws.lockFile)).toBe(false);
    expect((await readRegistry(opts.stateDir)).pool[0]!.lastUsed > entry.lastUsed).toBe(true);
    expect(repo.git(['status', '--porcelain'])).toBe(''); // the user's work tree is untouched
  });

  it('reuses the slot: checks out the new commit, restores tracked files, keeps node_modules, removes other untracked files', async () => {
    const { opts, first, second } = fixture();
    const a = await acquireWorkspace({ ...opts, commit: first });
    const createdAt = (await readRegistry(opts.stateDir)).pool[0]!.createdAt;
    fs.mkdirSync(path.join(a.dir, 'node_modules', 'dep'), { recursive: true });
    fs.writeFileSync(path.join(a.dir, 'node_modules', 'dep', 'index.js'), 'kept');
    fs.writeFileSync(path.join(a.dir, 'junk.txt'), 'untracked');
    fs.mkdirSync(path.join(a.dir, 'build'));
    fs.writeFileSync(path.join(a.dir, 'build', 'out'), 'ignored by the next commit');
    fs.writeFileSync(path.join(a.dir, 'README'), 'modified by a step\n');
    await a.release();
    const b = await acquireWorkspace({ ...opts, commit: second });
    expect(b.dir).toBe(a.dir);
    expect(headOf(b.dir)).toBe(second);
    expect(fs.readFileSync(path.join(b.dir, 'README'), 'utf8')).toBe('second\n');
    expect(fs.readFileSync(path.join(b.dir, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('kept');
    expect(fs.existsSync(path.join(b.dir, 'junk.txt'))).toBe(false);
    expect(fs.existsSync(path.join(b.dir, 'build'))).toBe(false);
    expect(run('git', ['status', '--porcelain', '--ignored'], { cwd: b.dir }).stdout).toBe('?? node_modules/\n');
    expect((await readRegistry(opts.stateDir)).pool).toEqual([expect.objectContaining({ slot: 0, commit: second, createdAt })]);
    await b.release();
  });

  it("runs none of the user's hooks on create or reuse", async () => {
    const { repo, opts, first } = fixture();
    const marker = path.join(tempDir(), 'hook-ran');
    repo.write('.git/hooks/post-checkout', `#!/bin/sh\necho "$@" >> '${marker}'\n`);
    fs.chmodSync(path.join(repo.dir, '.git/hooks/post-checkout'), 0o755);
    const a = await acquireWorkspace({ ...opts, commit: first });
    await a.release();
    const b = await acquireWorkspace(opts);
    await b.release();
    expect(fs.existsSync(marker)).toBe(false);
    repo.git(['checkout', '-q', '--detach', first]); // the hook itself works
    expect(fs.existsSync(marker)).toBe(true);
  });

  it('gives two concurrent runs different slots and makes a third wait for a free one', async () => {
    const { opts } = fixture({ concurrency: 2 });
    const [a, b] = await Promise.all([acquireWorkspace(opts), acquireWorkspace(opts)]);
    expect([a.slot, b.slot].sort()).toEqual([0, 1]);
    expect(a.dir).not.toBe(b.dir);
    let waits = 0;
    let third: Awaited<ReturnType<typeof acquireWorkspace>> | null = null;
    const pending = acquireWorkspace({ ...opts, onWait: () => waits++ }).then((w) => (third = w));
    await new Promise((r) => setTimeout(r, 1000));
    expect(third).toBeNull();
    expect(waits).toBe(1);
    await b.release();
    await pending;
    expect(third!.slot).toBe(b.slot);
    expect(waits).toBe(1);
    await a.release();
    await third!.release();
  });

  it('six processes asking at once for six slots each get their own, made and usable', async () => {
    const { opts } = fixture({ concurrency: 6 });
    const script = `
      const { acquireWorkspace } = await import(${JSON.stringify(distModule('verify/pool.js'))});
      const ws = await acquireWorkspace(${JSON.stringify(opts)});
      console.log(JSON.stringify({ slot: ws.slot, dir: ws.dir }));
      await new Promise((r) => process.stdin.once('data', r));
      await ws.release();
      console.log('released');
    `;
    const children = [...Array(6).keys()].map(() => nodeChild(script, { env: testEnv() }));
    const got = await Promise.all(children.map((c) => c.waitForLine((l) => l.startsWith('{'), 60_000).then((l) => JSON.parse(l) as { slot: number; dir: string })));
    expect(got.map((g) => g.slot).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const g of got) expect(fs.existsSync(path.join(g.dir, 'README')), g.dir).toBe(true);
    for (const c of children) c.proc.stdin!.write('\n');
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'released', 30_000)));
  });

  const breakages: [string, (dir: string, commonDir: string) => void][] = [
    ['its folder is deleted', (dir) => fs.rmSync(dir, { recursive: true, force: true })],
    ['its .git file is garbage', (dir) => fs.writeFileSync(path.join(dir, '.git'), 'garbage\n')],
    ['its admin dir is deleted', (_, commonDir) => fs.rmSync(path.join(commonDir, 'worktrees'), { recursive: true, force: true })],
  ];
  for (const [what, breakIt] of breakages) {
    it(`repairs a slot when ${what}`, async () => {
      const { repo, opts, first, second } = fixture();
      const a = await acquireWorkspace({ ...opts, commit: first });
      await a.release();
      breakIt(a.dir, opts.commonDir);
      const b = await acquireWorkspace(opts);
      expect(b.dir).toBe(a.dir);
      expect(headOf(b.dir)).toBe(second);
      expect(fs.readFileSync(path.join(b.dir, 'README'), 'utf8')).toBe('second\n');
      const pool = worktrees(repo).filter((w) => w.path !== repo.dir);
      expect(pool).toEqual([{ path: b.dir, head: second, locked: 'omni-ship verify pool' }]);
      expect(run('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: b.dir }).stdout.trim()).toBe(opts.commonDir);
      await b.release();
    });
  }

  it('frees the slot of a holder killed with -9 mid-step and kills the process group it orphaned', async () => {
    const { opts } = fixture();
    const child = nodeChild(
      `
      const { acquireWorkspace } = await import(${JSON.stringify(distModule('verify/pool.js'))});
      const { runSteps } = await import(${JSON.stringify(distModule('verify/steps.js'))});
      const ws = await acquireWorkspace(${JSON.stringify(opts)});
      console.log('acquired ' + ws.slot);
      await runSteps([{ name: 'serve', run: 'sleep 300 & sleep 300' }], {
        cwd: ws.dir, logFile: ws.dir + '.log', skipExitCode: 125, defaultTimeoutSec: 600, onGroup: (g) => ws.setGroup(g),
      });
    `,
      { cwd: opts.cwd },
    );
    await child.waitForLine((l) => l === 'acquired 0');
    const lockFile = path.join(opts.stateDir, 'pool', '0.lock');
    expect(await waitFor(() => typeof readLock(lockFile)?.data.pgid === 'number', 60_000)).toBe(true);
    const pgid = readLock(lockFile)!.data.pgid as number;
    const since = readLock(lockFile)!.data.groupStart as string;
    onTestFinished(() => void killGroup(pgid, { since })); // a failing run must not leave the sleeps behind
    expect(await waitFor(() => liveGroupMembers(pgid).length === 3, 10_000)).toBe(true); // sh and two sleeps
    let waited = false;
    const blocked = acquireWorkspace({ ...opts, onWait: () => (waited = true) });
    await waitFor(() => waited, 10_000);
    expect(waited).toBe(true);
    child.proc.kill('SIGKILL');
    await child.exited;
    expect(liveGroupMembers(pgid)).toHaveLength(3); // orphaned, still running
    const ws = await blocked;
    expect(ws.slot).toBe(0);
    expect(await waitFor(() => liveGroupMembers(pgid).length === 0, 10_000)).toBe(true);
    expect(readLock(lockFile)?.pid).toBe(process.pid);
    await ws.release();
  });

  it('prunes only idle slots older than the limit, never one a live run holds', async () => {
    const { repo, opts } = fixture({ concurrency: 3 });
    const ws = await Promise.all([acquireWorkspace(opts), acquireWorkspace(opts), acquireWorkspace(opts)]);
    const [idleOld, busyOld, idleNew] = ws.sort((a, b) => a.slot - b.slot) as [(typeof ws)[0], (typeof ws)[0], (typeof ws)[0]];
    await idleOld.release();
    await idleNew.release();
    const old = new Date(Date.now() - 3 * 3600_000).toISOString();
    await updateRegistry(opts.stateDir, (r) => {
      for (const p of r.pool) if (p.slot !== idleNew.slot) p.lastUsed = old;
    });
    const prune = { cwd: opts.cwd, commonDir: opts.commonDir, stateDir: opts.stateDir, olderThanMs: 3600_000 };
    expect(await prunePool({ ...prune, dryRun: true })).toEqual({ removed: [idleOld.dir], kept: [busyOld.dir, idleNew.dir] });
    expect(fs.existsSync(idleOld.dir)).toBe(true);
    expect(await prunePool(prune)).toEqual({ removed: [idleOld.dir], kept: [busyOld.dir, idleNew.dir] });
    expect(fs.existsSync(idleOld.dir)).toBe(false);
    expect(fs.existsSync(busyOld.dir)).toBe(true);
    expect(readLock(busyOld.lockFile)?.pid).toBe(process.pid);
    expect(worktrees(repo).map((w) => w.path).sort()).toEqual([repo.dir, busyOld.dir, idleNew.dir].sort());
    expect((await readRegistry(opts.stateDir)).pool.map((p) => p.slot).sort()).toEqual([busyOld.slot, idleNew.slot]);
    await busyOld.release();
  });

  it('survives `git worktree prune` while its folder is briefly gone', async () => {
    const { repo, opts } = fixture();
    const a = await acquireWorkspace(opts);
    await a.release();
    const createdAt = (await readRegistry(opts.stateDir)).pool[0]!.createdAt;
    const aside = path.join(tempDir(), 'aside');
    fs.renameSync(a.dir, aside);
    repo.git(['worktree', 'prune', '--expire', 'now']);
    fs.renameSync(aside, a.dir);
    expect(worktrees(repo).map((w) => w.path)).toContain(a.dir);
    const b = await acquireWorkspace(opts);
    expect((await readRegistry(opts.stateDir)).pool[0]!.createdAt).toBe(createdAt); // reused, not re-created
    await b.release();
  });

  it('checks out submodules of the commit', async () => {
    const sub = makeRepo();
    sub.write('lib.txt', 'from the submodule\n');
    sub.git(['add', '.']);
    sub.git(['commit', '-qm', 'lib']);
    const { repo, opts } = fixture();
    const fileOk = ['-c', 'protocol.file.allow=always'];
    repo.git([...fileOk, 'submodule', 'add', '-q', sub.dir, 'lib']);
    repo.git(['commit', '-qm', 'add submodule']);
    const commit = repo.git(['rev-parse', 'HEAD']).trim();
    const saved = { ...process.env };
    // what a user with file URLs allowed has in their config; the pool appends its own setting after it
    Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'protocol.file.allow', GIT_CONFIG_VALUE_0: 'always' });
    try {
      const ws = await acquireWorkspace({ ...opts, commit });
      expect(fs.readFileSync(path.join(ws.dir, 'lib', 'lib.txt'), 'utf8')).toBe('from the submodule\n');
      fs.writeFileSync(path.join(ws.dir, 'lib', 'lib.txt'), 'changed');
      await ws.release();
      const again = await acquireWorkspace({ ...opts, commit });
      expect(fs.readFileSync(path.join(again.dir, 'lib', 'lib.txt'), 'utf8')).toBe('from the submodule\n');
      await again.release();
    } finally {
      for (const k of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('poolGitEnv', () => {
  it('turns hooks off after any config the caller passes in the environment, and drops git location variables', () => {
    const env = poolGitEnv({ PATH: '/bin', GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'a.b', GIT_CONFIG_VALUE_0: '1', GIT_DIR: '/x/.git', GIT_INDEX_FILE: '/x/i' });
    expect(env).toEqual({
      PATH: '/bin',
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'a.b',
      GIT_CONFIG_VALUE_0: '1',
      GIT_CONFIG_KEY_2: 'core.hooksPath',
      GIT_CONFIG_VALUE_2: '/dev/null',
      OMNI_SHIP_SKIP: '1',
    });
    expect(poolGitEnv({})).toEqual({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.hooksPath', GIT_CONFIG_VALUE_0: '/dev/null', OMNI_SHIP_SKIP: '1' });
    const r = run('git', ['config', 'core.hooksPath'], { cwd: tempDir(), env: { ...testEnv(), ...poolGitEnv({}) } });
    expect(r.stdout.trim()).toBe('/dev/null');
  });
});
