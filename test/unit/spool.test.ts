import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimEvents, parseSpoolLine } from '../../src/hooks/spool.js';
import { cleanupAll, tempDir } from '../helpers/repo.js';

afterAll(cleanupAll);

const line = (hook: string, commit: string) => `1\t${hook}\t/wt\t/wt/.git\t${commit}\trefs/heads/t-1\t\n`;

describe('spool', () => {
  it('a file the hook created but has not written yet is left for later, so its line is not lost', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'spool'));
    const file = path.join(dir, 'spool', '4242');
    const fd = fs.openSync(file, 'a'); // the hook's `>>` has opened the file, its printf has not run yet
    expect(claimEvents(dir).events).toEqual([]);
    fs.writeSync(fd, line('post-commit', 'a'.repeat(40))); // the hook writes through the fd it opened
    fs.closeSync(fd);
    const { events } = claimEvents(dir);
    expect(events.map((e) => e.commit)).toEqual(['a'.repeat(40)]);
    expect(fs.readdirSync(path.join(dir, 'spool'))).toEqual([]);
  });

  it('a half-written line waits; a file incomplete for over a minute is dropped', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'spool'));
    const file = path.join(dir, 'spool', '77');
    fs.writeFileSync(file, '1\tpost-commit\t/wt');
    expect(claimEvents(dir).events).toEqual([]);
    expect(fs.existsSync(file)).toBe(true);
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(file, old, old);
    const r = claimEvents(dir);
    expect(r.events).toEqual([]);
    expect(r.skipped).toBe(1);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reads every complete line and skips lines of an unknown format', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'spool'));
    fs.writeFileSync(path.join(dir, 'spool', '1'), line('post-commit', 'b'.repeat(40)) + '9\tfuture\tx\n' + line('post-merge', 'c'.repeat(40)));
    const r = claimEvents(dir);
    expect(r.events.map((e) => e.hook)).toEqual(['post-commit', 'post-merge']);
    expect(r.skipped).toBe(1);
    expect(parseSpoolLine('1\tpost-rewrite\t/w\t/g\t\trefs/heads/t-1\tamend a:b', new Date())?.extra).toBe('amend a:b');
  });
});
