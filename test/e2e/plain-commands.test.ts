import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRemote, makeRepo } from '../helpers/repo.js';
import { plainCommand } from '../../src/main.js';

afterAll(cleanupAll);

describe('plain command lines (status, sync with only their switches) skip the full parser', () => {
  it('are told apart from every other command line', () => {
    expect(plainCommand(['status'])).toMatchObject({ name: 'status', json: false });
    expect(plainCommand(['status', '--json', '--all'])).toMatchObject({ name: 'status', json: true });
    expect(plainCommand(['sync', 'upstream', '--dry-run', '--json'])).toMatchObject({ name: 'sync', json: true, argument: 'upstream' });
    expect(plainCommand(['sync'])).toMatchObject({ name: 'sync', argument: undefined });
    for (const args of [
      [],
      ['show', 't-1'],
      ['status', '--state', 'failed'],
      ['status', '--help'],
      ['status', 'x'],
      ['status', '--jsonx'],
      ['sync', 'a', 'b'],
      ['sync', '--', 'a'],
      ['sync', '-h'],
      ['sync', ''],
      ['-C', '.', 'status'],
      ['toString'],
      ['__proto__'],
    ]) {
      expect(plainCommand(args), args.join(' ')).toBeNull();
    }
  });

  it('print, warn and exit exactly as the full parser does', () => {
    const { clone } = makeRemote();
    const repo = clone();
    repo.git(['switch', '-q', '-c', 't-1']);
    repo.write('a.txt', 'a\n');
    repo.git(['add', 'a.txt']);
    repo.git(['commit', '-q', '-m', 'work\n\nTask-Id: t-1']);
    // `-C .` sends the same command through commander
    for (const args of [['status'], ['status', '--json'], ['status', '--all', '--json'], ['sync', '--dry-run'], ['sync', '--dry-run', '--json'], ['sync', 'nowhere']]) {
      const plain = repo.omni(args);
      const full = repo.omni(['-C', '.', ...args]);
      expect(plain.code, args.join(' ')).toBe(full.code);
      expect(plain.stdout, args.join(' ')).toBe(full.stdout);
      expect(plain.stderr, args.join(' ')).toBe(full.stderr);
    }
    // outside a repository: the same refusal
    const bare = makeRepo();
    const outside = bare.omni(['status', '--json'], { cwd: '/' });
    const outsideFull = bare.omni(['-C', '/', 'status', '--json']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toBe(outsideFull.stderr);
    expect(outside.code).toBe(outsideFull.code);
  });
});
