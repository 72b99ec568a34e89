import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/repo.js';
import { NOTES, refValue, repoWithTask } from '../helpers/state.js';

afterAll(cleanupAll);

describe('the lock of a private notes ref whose writer was killed while git held it', () => {
  it('is removed by the next notes write; a live writer’s lock and a name omni-ship does not make stay', () => {
    const { repo } = repoWithTask('t-1');
    const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_') || 'unknown';
    const dir = path.join(repo.dir, '.git', 'refs', 'omni-ship', 'tmp', host);
    fs.mkdirSync(dir, { recursive: true });
    // a pid that has exited (a process run to its end), and one that lives (this test's own)
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const now = Date.now().toString(36);
    const deadLock = `${dead}-${now}-abcdef.lock`;
    const liveLock = `${process.pid}-${now}-abcdef.lock`;
    const foreign = 'not-a-name-we-make.lock';
    for (const name of [deadLock, liveLock, foreign]) fs.writeFileSync(path.join(dir, name), '');
    const r = repo.omni(['review', 't-1', '--approve']);
    expect(r.code, r.stderr).toBe(0);
    expect(refValue(repo, NOTES.reviews)).not.toBeNull();
    expect(fs.readdirSync(dir).sort()).toEqual([foreign, liveLock].sort());
  });
});
