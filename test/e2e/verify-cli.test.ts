import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshot } from '../helpers/hooks.js';
import { cleanupAll, omniShip, tempDir } from '../helpers/repo.js';
import { NOTES, refValue } from '../helpers/state.js';
import { taskOnTop, verifyRepo } from '../helpers/verify.js';

afterAll(cleanupAll);

describe('omni-ship verify and logs (the built bin)', () => {
  it('verify --help lists every option and the exit codes 0, 1, 2 and 75', () => {
    const r = omniShip(['verify', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    for (const option of ['--force', '--background', '--spec-from-commit', '--prune', '--json']) expect(r.stdout).toContain(option);
    expect(r.stdout).toContain('Examples:');
    const codes = /Exit codes:(.*)/.exec(r.stdout)?.[1] ?? '';
    expect(codes).toMatch(/\b0 pass or skip\b/);
    expect(codes).toMatch(/\b1 fail\b/);
    expect(codes).toMatch(/\b2 bad usage\b/);
    expect(codes).toMatch(/\b75 indeterminate\b/);
  });

  it('logs --help lists --follow, --all and --json', () => {
    const r = omniShip(['logs', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    for (const option of ['-f, --follow', '--all', '--json']) expect(r.stdout).toContain(option);
    expect(r.stdout).toContain('omni-ship logs t-565 --follow');
  });

  it('verify --bogus is a usage error: exit 2, omni-ship: and hint: on stderr, nothing on stdout, nothing run or written', () => {
    const repo = verifyRepo({ steps: [{ name: 'ok', run: 'true' }] });
    taskOnTop(repo, 't-1');
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['verify', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^omni-ship: unknown option '--bogus'$/m);
    expect(r.stderr).toMatch(/^hint: omni-ship verify --help/m);
    expect(refValue(repo, NOTES.verify)).toBeNull();
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'pool'))).toBe(false);
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('outside a repository verify and logs exit 2 saying so, and write nothing', () => {
    const dir = tempDir();
    for (const args of [['verify'], ['verify', '--json'], ['logs']]) {
      const r = omniShip(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`omni-ship: not a git repository: ${dir}`);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stdout).toBe('');
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
