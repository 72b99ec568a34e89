import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitRun } from '../../src/git/exec.js';
import { locksIn, subcommand, writesRefs } from '../../src/git/stale-lock.js';
import { cleanupAll, makeRepo, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

const gitDir = (repo: TestRepo) => repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
/** A lock file as a killed git leaves it: empty, or the new value written. */
function lockFile(repo: TestRepo, ref: string, ageMs = 0): string {
  const p = path.join(gitDir(repo), `${ref}.lock`);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, '');
  if (ageMs) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(p, t, t);
  }
  return p;
}
/** A registry entry of an omni-ship writer whose process is gone, registered `agoMs` before now. */
function deadWriter(repo: TestRepo, agoMs: number): void {
  const pid = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
  const dir = path.join(gitDir(repo), 'omni-ship', 'writers');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, pid), `${JSON.stringify({ pid: Number(pid), started: Date.now() - agoMs })}\n`);
}

describe('ref locks a killed writer left', () => {
  it('a lock made while a since-killed omni-ship ran is removed by the write that meets it, which then succeeds', () => {
    const repo = makeRepo({ initialCommit: true });
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    deadWriter(repo, 5_000);
    const lock = lockFile(repo, 'refs/heads/side');
    const r = gitRun(['update-ref', 'refs/heads/side', head], { cwd: repo.dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
    expect(repo.git(['rev-parse', 'refs/heads/side']).trim()).toBe(head);
  });

  it('the first write of a process removes the locks a killed writer left on refs it never meets, then forgets that writer', () => {
    // a land killed while git deleted a remote-tracking branch: the ref's lock and packed-refs.lock stay behind,
    // and landing again writes neither (the task is landed): left there, they would fail the user's next fetch
    const repo = makeRepo({ initialCommit: true });
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const before = lockFile(repo, 'refs/heads/older', 30_000);
    deadWriter(repo, 5_000);
    const locks = [lockFile(repo, 'refs/remotes/origin/t-8'), lockFile(repo, 'packed-refs')];
    const writersDir = path.join(gitDir(repo), 'omni-ship', 'writers');
    const r = gitRun(['update-ref', 'refs/heads/elsewhere', head], { cwd: repo.dir });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const lock of locks) expect(fs.existsSync(lock), lock).toBe(false);
    // older than the killed writer: not its lock, left alone
    expect(fs.existsSync(before)).toBe(true);
    // the killed writer is forgotten (nothing of it is left to find); this process stays registered
    expect(fs.readdirSync(writersDir)).toEqual([String(process.pid)]);
    const fetched = repo.gitRun(['update-ref', '-d', 'refs/remotes/origin/t-8']);
    expect(fetched.code, fetched.stderr).toBe(0);
  });

  it('a lock older than every killed writer is not theirs: it stays, and git says so', () => {
    const repo = makeRepo({ initialCommit: true });
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const lock = lockFile(repo, 'refs/heads/side', 30_000);
    deadWriter(repo, 5_000);
    const r = gitRun(['update-ref', 'refs/heads/side', head], { cwd: repo.dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/side\.lock': File exists/);
    expect(fs.existsSync(lock)).toBe(true);
    expect(repo.gitRun(['rev-parse', '-q', '--verify', 'refs/heads/side']).code).not.toBe(0);
  });

  it("with no killed writer, only omni-ship's own refs' locks older than a minute go; fresh ones and others' stay", () => {
    const repo = makeRepo({ initialCommit: true });
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const write = (ref: string) => gitRun(['update-ref', ref, head], { cwd: repo.dir });
    const cases = [
      ['refs/notes/omni-ship/patchsets', 120_000, true],
      ['refs/omni-ship/patchsets/t-1/2', 120_000, true],
      ['refs/notes/omni-ship-landed', 120_000, true],
      ['refs/notes/omni-ship/reviews', 0, false],
      ['refs/notes/commits', 120_000, false],
      ['refs/heads/main-copy', 120_000, false],
    ] as const;
    for (const [ref, age, goes] of cases) {
      const lock = lockFile(repo, ref, age);
      const r = write(ref);
      expect(r.exitCode === 0, `${ref}: ${r.stderr}`).toBe(goes);
      expect(fs.existsSync(lock), ref).toBe(!goes);
    }
  });

  it('a lock that changes while it is watched belongs to a live git: it stays', async () => {
    const repo = makeRepo({ initialCommit: true });
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    deadWriter(repo, 5_000);
    const lock = lockFile(repo, 'refs/heads/side');
    // another process keeps writing the lock (a new time and size every 20 ms), as a git at work would not stay still
    const script = `const fs=require('fs');const end=Date.now()+3000;(function f(){if(Date.now()>end)return;fs.writeFileSync(${JSON.stringify(lock)},'x'.repeat(Date.now()%7));setTimeout(f,20)})()`;
    const churn = spawnSync(process.execPath, ['-e', `const c=require('child_process').spawn(process.execPath,['-e',${JSON.stringify(script)}],{detached:true,stdio:'ignore'});c.unref();console.log(c.pid)`], { encoding: 'utf8' });
    const pid = Number(churn.stdout.trim());
    try {
      await new Promise((r) => setTimeout(r, 100));
      const r = gitRun(['update-ref', 'refs/heads/side', head], { cwd: repo.dir });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/File exists/);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });

  it('reads the locks out of git messages, and knows which commands write refs', () => {
    const stderr = "error: cannot lock ref 'refs/a': Unable to create '/r/.git/refs/a.lock': File exists.\nfatal: Unable to create '/r/.git/packed-refs.lock': File exists.\n";
    expect(locksIn(stderr)).toEqual(['/r/.git/refs/a.lock', '/r/.git/packed-refs.lock']);
    expect(subcommand(['-C', 'x', '-c', 'a=b', 'update-ref', 'refs/x'])).toBe('update-ref');
    expect(writesRefs(['-c', 'core.x=1', 'push', 'origin'])).toBe(true);
    expect(writesRefs(['cat-file', '--batch'])).toBe(false);
    expect(writesRefs(['rev-parse', 'push'])).toBe(false);
  });
});
