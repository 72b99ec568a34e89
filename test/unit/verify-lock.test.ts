import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/hooks/process.js';
import { readLock, releaseLock, tryLock, updateLock, waitForLock, type LockInfo } from '../../src/verify/lock.js';
import { distModule, killChildren, nodeChild } from '../helpers/children.js';
import { cleanupAll, tempDir } from '../helpers/repo.js';

afterEach(killChildren);
afterAll(cleanupAll);

/** A child that takes the lock, prints "held <bool>", releases it when told "release" on stdin, then idles. */
function holder(file: string) {
  return nodeChild(`
    const { tryLock, releaseLock } = await import(${JSON.stringify(distModule('verify/lock.js'))});
    console.log('held ' + tryLock(${JSON.stringify(file)}, { who: 'child' }));
    process.stdin.on('data', (d) => { if (String(d).includes('release')) { releaseLock(${JSON.stringify(file)}); console.log('released'); } });
  `);
}

function writeLock(file: string, info: Partial<LockInfo>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ pid: 1, start: null, host: os.hostname(), at: new Date().toISOString(), data: {}, ...info }));
}

function age(file: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(file, t, t);
}

describe('verify locks', () => {
  it('is exclusive between two processes until the owner releases it', async () => {
    const file = path.join(tempDir(), 'deep', 'slot.lock');
    const child = holder(file);
    await child.waitForLine((l) => l === 'held true');
    expect(tryLock(file)).toBe(false);
    expect(readLock(file)).toMatchObject({ pid: child.proc.pid, data: { who: 'child' } });
    releaseLock(file); // not ours: must stay
    expect(readLock(file)?.pid).toBe(child.proc.pid);
    child.proc.stdin!.write('release\n');
    await child.waitForLine((l) => l === 'released');
    expect(tryLock(file, { who: 'me' })).toBe(true);
    expect(readLock(file)).toMatchObject({ pid: process.pid, start: processStartTime(process.pid), data: { who: 'me' } });
    releaseLock(file);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('takes the lock of an owner killed with -9', async () => {
    const file = path.join(tempDir(), 'slot.lock');
    const child = holder(file);
    await child.waitForLine((l) => l === 'held true');
    expect(tryLock(file)).toBe(false);
    child.proc.kill('SIGKILL');
    await child.exited;
    let broken: LockInfo | null = null;
    expect(tryLock(file, { mine: 1 }, { onBreak: (s) => (broken = s) })).toBe(true);
    expect(broken).toMatchObject({ pid: child.proc.pid, data: { who: 'child' } });
    expect(readLock(file)?.pid).toBe(process.pid);
    releaseLock(file);
  });

  it('takes a garbage or empty lock file older than 5 s, but not a fresh one (its creator may be writing)', () => {
    const dir = tempDir();
    for (const content of ['', '{"pid":', 'null', '[1,2]']) {
      const file = path.join(dir, `g${content.length}.lock`);
      fs.writeFileSync(file, content);
      expect(tryLock(file), `fresh ${JSON.stringify(content)}`).toBe(false);
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
      age(file, 6_000);
      expect(tryLock(file), `old ${JSON.stringify(content)}`).toBe(true);
      expect(readLock(file)?.pid).toBe(process.pid);
    }
  });

  it("judges another host's lock by age only (24 h), never by pid", () => {
    const file = path.join(tempDir(), 'nfs.lock');
    writeLock(file, { pid: 999_999_999, host: 'elsewhere.example', at: new Date(Date.now() - 23 * 3600_000).toISOString() });
    expect(tryLock(file)).toBe(false);
    writeLock(file, { pid: process.pid, start: processStartTime(process.pid), host: 'elsewhere.example', at: new Date(Date.now() - 25 * 3600_000).toISOString() });
    expect(tryLock(file)).toBe(true);
    expect(readLock(file)?.host).toBe(os.hostname());
  });

  it('lets exactly one of 10 processes racing on one stale lock hold it', async () => {
    const file = path.join(tempDir(), 'race.lock');
    const dead = holder(file);
    await dead.waitForLine((l) => l === 'held true');
    dead.proc.kill('SIGKILL');
    await dead.exited;
    const go = Date.now() + 1500; // every racer spins until the same instant, then tries once
    const racers = Array.from({ length: 10 }, () =>
      nodeChild(`
        const { tryLock } = await import(${JSON.stringify(distModule('verify/lock.js'))});
        while (Date.now() < ${go}) {}
        console.log('won ' + tryLock(${JSON.stringify(file)}));
        setInterval(() => {}, 1000); // hold it until the test ends
      `),
    );
    const results = await Promise.all(racers.map((r) => r.waitForLine((l) => l.startsWith('won '))));
    const winners = racers.filter((_, i) => results[i] === 'won true');
    expect(winners).toHaveLength(1);
    expect(readLock(file)?.pid).toBe(winners[0]!.proc.pid);
    expect(fs.existsSync(`${file}.break`)).toBe(false);
  });

  it('breaks a break lock left by a breaker that died, but waits for a fresh one', () => {
    const file = path.join(tempDir(), 'b.lock');
    writeLock(file, { pid: 999_999_999 });
    fs.writeFileSync(`${file}.break`, '');
    expect(tryLock(file)).toBe(false); // a breaker is at work
    age(`${file}.break`, 11_000);
    expect(tryLock(file)).toBe(true);
  });

  it('updates its own lock atomically and refuses to update a lock it does not hold', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'u.lock');
    expect(tryLock(file, { a: 1 })).toBe(true);
    const before = readLock(file)!;
    updateLock(file, { a: 2, pgid: 42 });
    expect(readLock(file)).toEqual({ ...before, data: { a: 2, pgid: 42 } });
    expect(fs.readdirSync(dir).sort()).toEqual(['u.lock']);
    const other = path.join(dir, 'other.lock');
    const child = holder(other);
    await child.waitForLine((l) => l === 'held true');
    expect(() => updateLock(other, { x: 1 })).toThrow(/does not hold/);
    expect(readLock(other)?.data).toEqual({ who: 'child' });
  });

  it('waits for a held lock: times out with false, or gets it once the owner releases it', async () => {
    const file = path.join(tempDir(), 'w.lock');
    const child = holder(file);
    await child.waitForLine((l) => l === 'held true');
    const owners: (LockInfo | null)[] = [];
    const t0 = Date.now();
    expect(await waitForLock(file, { timeoutMs: 300, pollMs: 20, onWait: (o) => owners.push(o) })).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(owners.map((o) => o?.pid)).toEqual([child.proc.pid]);
    const waiting = waitForLock(file, { pollMs: 20, data: { waited: true } });
    setTimeout(() => child.proc.stdin!.write('release\n'), 200);
    expect(await waiting).toBe(true);
    expect(readLock(file)).toMatchObject({ pid: process.pid, data: { waited: true } });
  });
});
