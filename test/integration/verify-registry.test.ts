import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readRegistry, REGISTRY_FILE, updateRegistry, type LogEntry } from '../../src/verify/registry.js';
import { distModule, killChildren, nodeChild } from '../helpers/children.js';
import { cleanupAll, tempDir } from '../helpers/repo.js';

afterEach(killChildren);
afterAll(cleanupAll);

function logEntry(id: string): LogEntry {
  return { id, file: `${id}.log`, tree: 't', spec: 's', commit: null, task: null, startedAt: new Date().toISOString(), finishedAt: null, result: null, step: null, exitCode: null, pid: process.pid };
}

describe('verify registry', () => {
  it('starts empty in a state folder that does not exist yet', async () => {
    const stateDir = path.join(tempDir(), 'a', 'b');
    expect(await readRegistry(stateDir)).toEqual({ version: 1, pool: [], logs: [] });
    const n = await updateRegistry(stateDir, (r) => r.logs.push(logEntry('x')));
    expect(n).toBe(1);
    expect((await readRegistry(stateDir)).logs.map((l) => l.id)).toEqual(['x']);
    expect(fs.readdirSync(stateDir).sort()).toEqual([REGISTRY_FILE]); // lock released, no tmp left
  });

  it('loses no update when 10 processes update it at once', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const perChild = 10;
    const go = Date.now() + 2000;
    const children = Array.from({ length: 10 }, (_, c) =>
      nodeChild(`
        const { updateRegistry } = await import(${JSON.stringify(distModule('verify/registry.js'))});
        while (Date.now() < ${go}) {}
        for (let i = 0; i < ${perChild}; i++) {
          await updateRegistry(${JSON.stringify(stateDir)}, (r) => {
            r.logs.push({ id: 'c${c}-' + i, file: 'f', tree: 't', spec: 's', commit: null, task: null, startedAt: '', finishedAt: null, result: null, step: null, exitCode: null, pid: process.pid });
          });
        }
        console.log('done');
      `),
    );
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'done', 240_000)));
    const ids = (await readRegistry(stateDir)).logs.map((l) => l.id);
    expect(ids).toHaveLength(10 * perChild);
    expect(new Set(ids).size).toBe(10 * perChild);
  });

  it('replaces a damaged file by an empty registry and keeps a copy as registry.json.bad', async () => {
    for (const damage of ['{"version":1,"pool":[', 'not json', '{"version":1,"pool":{},"logs":[]}', '{"version":1,"pool":[{"slot":"0"}],"logs":[]}', '[]']) {
      const stateDir = tempDir();
      const file = path.join(stateDir, REGISTRY_FILE);
      fs.writeFileSync(file, damage);
      expect(await readRegistry(stateDir), damage).toEqual({ version: 1, pool: [], logs: [] });
      expect(fs.readFileSync(file, 'utf8')).toBe(damage); // a read repairs nothing
      await updateRegistry(stateDir, (r) => r.logs.push(logEntry('after')));
      expect((await readRegistry(stateDir)).logs.map((l) => l.id)).toEqual(['after']);
      expect(fs.readFileSync(`${file}.bad`, 'utf8')).toBe(damage);
    }
  });

  it("keeps keys it does not know (a later version's)", async () => {
    const stateDir = tempDir();
    const file = path.join(stateDir, REGISTRY_FILE);
    const pool = [{ slot: 0, path: '/p/0', commit: null, tree: null, createdAt: 'c', lastUsed: 'l', extra: 1 }];
    fs.writeFileSync(file, JSON.stringify({ version: 1, pool, logs: [], worktrees: [{ name: 'w' }] }));
    await updateRegistry(stateDir, (r) => r.logs.push(logEntry('y')));
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(saved.worktrees).toEqual([{ name: 'w' }]);
    expect(saved.pool).toEqual(pool);
    expect(fs.existsSync(`${file}.bad`)).toBe(false);
  });
});
