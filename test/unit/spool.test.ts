import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime, sameProcessAlive } from '../../src/hooks/process.js';
import {
  acquireDrainLock,
  claimSpool,
  encodeSpoolRecord,
  finishClaimed,
  keepForLater,
  parseSpool,
  parseSpoolLine,
  releaseDrainLock,
  type HookEvent,
} from '../../src/hooks/spool.js';
import { cleanupAll, tempDir } from '../helpers/repo.js';

afterAll(cleanupAll);

const line = (hook: string, commit: string) => `1\t${hook}\t/wt\t/wt/.git\t${commit}\trefs/heads/t-1\t\n`;
/** A record as the hooks write it: format 2, empty time field. */
const record = (hook: string, worktree: string, commit: string) => `2\0${hook}\0${worktree}\0${worktree}/.git\0${commit}\0refs/heads/t-1\0\0\0\n`;

function spoolDir(): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'spool'));
  return dir;
}

const commitsOf = (files: { events: HookEvent[] }[]) => files.flatMap((f) => f.events.map((e) => e.commit));

describe('spool format', () => {
  it('carries any path: TABs, newlines, backslashes and non-ASCII come back whole (property)', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(text, text, fc.constantFrom('post-commit', 'post-rewrite', 'post-merge'), (worktree, extra, hook) => {
        const e: HookEvent = { hook: hook as HookEvent['hook'], worktree, gitDir: `${worktree}/.git`, commit: 'a'.repeat(40), ref: 'refs/heads/t-1', extra, at: new Date(1_700_000_000_123) };
        const parsed = parseSpool(encodeSpoolRecord(e) + encodeSpoolRecord(e), new Date(0));
        expect(parsed).toEqual({ events: [e, e], skipped: 0, complete: true });
      }),
    );
  });

  it('a record the hook wrote has no time: the file time is used; format 1 lines still read', () => {
    const mtime = new Date(1_600_000_000_000);
    const parsed = parseSpool(record('post-commit', '/a\tb\nc', 'b'.repeat(40)) + line('post-merge', 'c'.repeat(40)), mtime);
    expect(parsed.complete).toBe(true);
    expect(parsed.events.map((e) => [e.hook, e.worktree, e.commit, e.at])).toEqual([
      ['post-commit', '/a\tb\nc', 'b'.repeat(40), mtime],
      ['post-merge', '/wt', 'c'.repeat(40), mtime],
    ]);
    expect(parseSpoolLine('1\tpost-rewrite\t/w\t/g\t\trefs/heads/t-1\tamend a:b', new Date())?.extra).toBe('amend a:b');
  });

  it('a record cut anywhere is incomplete, never a wrong event', () => {
    const whole = record('post-commit', '/x\ny', 'd'.repeat(40));
    for (let cut = 1; cut < whole.length; cut++) {
      const parsed = parseSpool(whole.slice(0, cut), new Date());
      expect(parsed.events, `cut at ${cut}`).toEqual([]);
      expect(parsed.complete, `cut at ${cut}`).toBe(false);
    }
  });

  it('skips records of an unknown format or hook, and reads on', () => {
    const text = line('post-commit', 'b'.repeat(40)) + '9\tfuture\tx\n' + record('post-nothing', '/w', 'e'.repeat(40)) + line('post-merge', 'c'.repeat(40));
    const parsed = parseSpool(text, new Date());
    expect(parsed.events.map((e) => e.hook)).toEqual(['post-commit', 'post-merge']);
    expect(parsed.skipped).toBe(2);
  });
});

describe('claiming spool files', () => {
  it('a file the hook created but has not written yet is left for later, so its record is not lost', () => {
    const dir = spoolDir();
    const file = path.join(dir, 'spool', '4242');
    const fd = fs.openSync(file, 'a'); // the hook's `>>` has opened the file, its printf has not run yet
    expect(claimSpool(dir).files).toEqual([]);
    fs.writeSync(fd, record('post-commit', '/wt', 'a'.repeat(40))); // the hook writes through the fd it opened
    fs.closeSync(fd);
    expect(commitsOf(claimSpool(dir).files)).toEqual(['a'.repeat(40)]);
  });

  it('a claimed file stays on disk until finished: a drainer that dies leaves it for the next one', () => {
    const dir = spoolDir();
    fs.writeFileSync(path.join(dir, 'spool', '1'), record('post-commit', '/wt', 'a'.repeat(40)));
    const { files } = claimSpool(dir);
    expect(files).toHaveLength(1);
    expect(path.basename(files[0]!.file)).toMatch(new RegExp(`^1\\.claimed\\.${process.pid}-\\d+$`));
    // the same process does not claim it twice
    expect(claimSpool(dir).files).toEqual([]);
    // a drainer that died (its pid now free, or another process's) had claimed it: it is claimed again
    fs.renameSync(files[0]!.file, path.join(dir, 'spool', '1.claimed.999999999-1'));
    const reclaimed = claimSpool(dir).files;
    expect(commitsOf(reclaimed)).toEqual(['a'.repeat(40)]);
    finishClaimed(reclaimed[0]!);
    expect(fs.readdirSync(path.join(dir, 'spool'))).toEqual([]);
  });

  it('a claimed file a hook wrote to after the claim is put back, not removed', () => {
    const dir = spoolDir();
    const file = path.join(dir, 'spool', '9');
    fs.writeFileSync(file, record('post-commit', '/wt', 'a'.repeat(40)));
    const fd = fs.openSync(file, 'a'); // a hook of the same pid has the file open
    const { files } = claimSpool(dir);
    fs.writeSync(fd, record('post-commit', '/wt', 'b'.repeat(40)));
    fs.closeSync(fd);
    finishClaimed(files[0]!);
    expect(commitsOf(claimSpool(dir).files)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
  });

  it("a live process's claim is respected only while it is the same process (pid and start time)", () => {
    const dir = spoolDir();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const start = processStartTime(other.pid!);
      expect(start).not.toBeNull();
      fs.writeFileSync(path.join(dir, 'spool', `5.claimed.${other.pid}-${start}`), record('post-commit', '/wt', 'f'.repeat(40)));
      expect(claimSpool(dir).files).toEqual([]);
      fs.renameSync(path.join(dir, 'spool', `5.claimed.${other.pid}-${start}`), path.join(dir, 'spool', `5.claimed.${other.pid}-1`));
      expect(commitsOf(claimSpool(dir).files)).toEqual(['f'.repeat(40)]);
      // an earlier version's claim names only a pid: it counts only if that process is a drainer (sleep is not)
      const dir2 = spoolDir();
      fs.writeFileSync(path.join(dir2, 'spool', `6.claimed.${other.pid}`), line('post-commit', 'e'.repeat(40)));
      expect(commitsOf(claimSpool(dir2).files)).toEqual(['e'.repeat(40)]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('events kept for later go to a new file that this run skips and the next one claims, with their time', () => {
    const dir = spoolDir();
    const at = new Date(1_650_000_000_000);
    const e: HookEvent = { hook: 'post-commit', worktree: '/w\tx', gitDir: '/w\tx/.git', commit: 'a'.repeat(40), ref: 'refs/heads/t-1', extra: '', at };
    const name = keepForLater(dir, [e]);
    expect(claimSpool(dir, new Set([name])).files).toEqual([]);
    const { files } = claimSpool(dir);
    expect(files.flatMap((f) => f.events)).toEqual([e]);
  });

  it('a half-written record waits; a file incomplete for over a minute is claimed with its whole records only', () => {
    const dir = spoolDir();
    const file = path.join(dir, 'spool', '77');
    fs.writeFileSync(file, record('post-commit', '/wt', 'a'.repeat(40)) + '2\0post-commit\0/wt');
    expect(claimSpool(dir).files).toEqual([]);
    expect(fs.existsSync(file)).toBe(true);
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(file, old, old);
    const r = claimSpool(dir);
    expect(commitsOf(r.files)).toEqual(['a'.repeat(40)]);
    expect(r.skipped).toBe(1);
  });
});

describe('the drain lock', () => {
  it('holds pid and start time; a file naming a live process that is not the drainer is taken over', () => {
    const dir = spoolDir();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'drain.pid'), `${other.pid}\n`); // an earlier version's file: a pid only
      expect(sameProcessAlive(other.pid!, null)).toBe(false);
      expect(acquireDrainLock(dir)).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'drain.pid'), 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
      releaseDrainLock(dir);
      expect(fs.existsSync(path.join(dir, 'drain.pid'))).toBe(false);
      // the live process that wrote it, with its start time: respected
      fs.writeFileSync(path.join(dir, 'drain.pid'), `${other.pid} ${processStartTime(other.pid!)}\n`);
      expect(acquireDrainLock(dir)).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
