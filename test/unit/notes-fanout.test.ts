import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readChangedNotes } from '../../src/notes/read.js';

const git = (cwd: string, args: string[], input?: string) => {
  const r = spawnSync('git', args, { cwd, input, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' } });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};

describe('notes brought forward across a fan-out change', () => {
  it('a note git moved to another fan-out level is no change; a changed and a new one are', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-fanout-'));
    try {
      git(dir, ['init', '-q']);
      const [a, b, c] = ['a', 'b', 'c'].map((x) => `${x.repeat(2)}${'0'.repeat(38)}`) as [string, string, string];
      const blob = (text: string) => git(dir, ['hash-object', '-w', '--stdin'], `${text}\n`);
      const tree = (entries: [string, string][]) => {
        // nested paths: build subtrees bottom up
        const top = new Map<string, [string, string][]>();
        const files: string[] = [];
        for (const [p, oid] of entries) {
          const [head, ...rest] = p.split('/');
          if (rest.length) (top.get(head!) ?? top.set(head!, []).get(head!)!).push([rest.join('/'), oid]);
          else files.push(`100644 blob ${oid}\t${head}`);
        }
        for (const [name, sub] of top) files.push(`040000 tree ${tree(sub)}\t${name}`);
        return git(dir, ['mktree'], `${files.join('\n')}\n`);
      };
      const one = git(dir, ['commit-tree', tree([[`aa/${a.slice(2)}`, blob('A')], [`bb/${b.slice(2)}`, blob('B')]]), '-m', 'one']);
      // a moved to aa/00/…, b changed, c new
      const two = git(dir, ['commit-tree', tree([[`aa/00/${a.slice(4)}`, blob('A')], [`bb/${b.slice(2)}`, blob('B2')], [`cc/${c.slice(2)}`, blob('C')]]), '-p', one, '-m', 'two']);
      const deleted: string[] = [];
      const noted: [string, string][] = [];
      await readChangedNotes(dir, one, two, (o) => deleted.push(o), (o, t) => noted.push([o, t]));
      expect(deleted.sort()).toEqual([b, c]);
      expect(noted.sort()).toEqual([[b, 'B2\n'], [c, 'C\n']]);
      // and a note that is gone is a deletion
      const three = git(dir, ['commit-tree', tree([[`bb/${b.slice(2)}`, blob('B2')]]), '-p', two, '-m', 'three']);
      deleted.length = 0;
      noted.length = 0;
      await readChangedNotes(dir, two, three, (o) => deleted.push(o), (o, t) => noted.push([o, t]));
      expect(deleted.sort()).toEqual([a, c]);
      expect(noted).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
