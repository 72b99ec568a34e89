import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, waitForDrain } from '../helpers/repo.js';
import { commitChange, installHooks, refsUnder } from '../helpers/state.js';

afterAll(cleanupAll);

describe('omni-ship cleanup-branches (the built bin)', () => {
  it('the dry run: exit 0, what would go and what stays on stdout, nothing on stderr, no ref moved; --apply then deletes', async () => {
    const repo = makeRepo();
    installHooks(repo);
    // t-1 committed through the hooks (a recorded patchset) and landed by fast-forward; t-2 still in progress
    repo.git(['switch', '-q', '-c', 't-1']);
    const t1 = commitChange(repo, 'login form', { file: 'login.txt' });
    repo.git(['switch', '-q', '-c', 't-2', 'main']);
    commitChange(repo, 'logout button', { file: 'logout.txt' });
    repo.git(['switch', '-q', 'main']);
    repo.git(['merge', '-q', '--ff-only', 't-1']);
    expect(await waitForDrain(repo)).toBe(true);
    const before = refsUnder(repo, 'refs/');

    const r = repo.omni(['cleanup-branches']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = t1.slice(0, 12);
    expect(r.stdout).toBe(
      [
        `would delete t-1 (${s}): t-1 landed; ${s} is in main`,
        'kept t-2: t-2 is in-progress, not landed',
        'dry run: 1 branch(es) would be deleted; run omni-ship cleanup-branches --apply to delete them',
        '',
      ].join('\n'),
    );
    expect(refsUnder(repo, 'refs/')).toEqual(before);

    const applied = repo.omni(['cleanup-branches', '--apply']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`deleted t-1 (${s}): t-1 landed; ${s} is in main\n`);
    expect(applied.stdout).toContain('deleted 1 branch(es); to restore one: git branch <name> <commit> (the commits above)\n');
    const after = refsUnder(repo, 'refs/');
    expect(after.has('refs/heads/t-1')).toBe(false);
    expect(after.has('refs/heads/t-2')).toBe(true);
  });

  it('--help shows the options, examples and exit codes; an unknown option exits 2 naming this command', () => {
    const repo = makeRepo();
    const help = repo.omni(['cleanup-branches', '--help']);
    expect(help.code).toBe(0);
    for (const o of ['--apply', '--remote', '--json']) expect(help.stdout).toContain(o);
    expect(help.stdout).toMatch(/\nExamples:\n {2}\$ omni-ship cleanup-branches\n/);
    expect(help.stdout).toContain('Exit codes:');
    const bad = repo.omni(['cleanup-branches', '--aply']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("omni-ship: unknown option '--aply'\nhint: did you mean --apply? (omni-ship cleanup-branches --help lists its options)\n");
  });
});
