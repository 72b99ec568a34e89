import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, cleanupAll, makeRepo, projectRoot, run, tempDir, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, installHooks, jsonOf, keptCommits, refValue, refsUnder } from '../helpers/state.js';

afterAll(cleanupAll);

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs omni-ship with stdout on a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
function omniOnTty(repo: TestRepo, args: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = [process.execPath, binPath, ...args].map(q).join(' ');
  return run('script', ['-qec', cmd, '/dev/null'], { cwd: repo.dir, env: testEnv({ TERM: 'xterm', ...env }) });
}

/** Everything omni-ship may have written: its notes refs and its own refs. */
function written(repo: TestRepo): string {
  return repo.git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/notes', 'refs/omni-ship']);
}

describe('a user at the command line', () => {
  let repo: TestRepo;
  let first: string;
  let second: string;
  beforeAll(async () => {
    repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-5']);
    first = commitChange(repo, 'login form');
    repo.write('work.txt', 'login form, fixed\n');
    repo.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    second = repo.git(['rev-parse', 'HEAD']).trim();
    expect(await waitForDrain(repo)).toBe(true);
  });

  it('show --json gives the patchset history with n, commit, at, by, via, supersedes and current', () => {
    const s = jsonOf(repo.omni(['show', 't-5', '--json']));
    expect(s).toMatchObject({ taskId: 't-5', trailer: 'Task-Id: t-5', patchsetCount: 2, id: 't-5', state: 'in-progress', head: second });
    expect(s.patchsetHistory).toHaveLength(2);
    const [p1, p2] = s.patchsetHistory;
    for (const p of s.patchsetHistory) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(['n', 'commit', 'at', 'by', 'via', 'supersedes', 'current']));
      expect(Number.isNaN(Date.parse(p.at))).toBe(false);
      expect(p.by).toBe('Test Author <author@example.com>');
    }
    expect(p1).toMatchObject({ n: 1, commit: first, via: 'commit', supersedes: [], current: false });
    expect(p2).toMatchObject({ n: 2, commit: second, via: 'amend', supersedes: [first], current: true });
    expect(Date.parse(p1.at)).toBeLessThanOrEqual(Date.parse(p2.at));
  });

  it('show prints the history as text', () => {
    const r = repo.omni(['show', 't-5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('trailer: Task-Id: t-5');
    expect(r.stdout).toContain('patchsets (2):');
    expect(r.stdout).toContain(`replaces ${first.slice(0, 12)}`);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('show of an unknown task exits 2 with a message and a hint, printing nothing on stdout', () => {
    const r = repo.omni(['show', 't-99']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^omni-ship: no task t-99 here/);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stdout).toBe('');
    const bad = repo.omni(['show', 'x;rm -rf /']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a valid task id/);
  });

  it('review with neither or both verdicts exits 2 and writes nothing', () => {
    const before = written(repo);
    for (const args of [['review', 't-5'], ['review', 't-5', '--approve', '--request-changes'], ['review', 't-5', '-m', 'hm']]) {
      const r = repo.omni(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/give exactly one of --approve and --request-changes/);
      expect(r.stdout).toBe('');
    }
    expect(refValue(repo, NOTES.reviews)).toBeNull();
    expect(written(repo)).toBe(before);
  });

  it('review of an unknown task exits 2 and writes nothing', () => {
    const before = written(repo);
    const r = repo.omni(['review', 't-98', '--approve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no task t-98 here/);
    expect(refValue(repo, NOTES.reviews)).toBeNull();
    expect(written(repo)).toBe(before);
  });

  it('patchset with an invalid id exits 2 and writes nothing', () => {
    const before = written(repo);
    const r = repo.omni(['patchset', 'task five', '--increment', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"task five" is not a valid task id/);
    expect(r.stdout).toBe('');
    expect(written(repo)).toBe(before);
  });

  it('status --state bogus exits 2', () => {
    const r = repo.omni(['status', '--state', 'bogus', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown state 'bogus'/);
    expect(r.stdout).toBe('');
  });

  it('review --json prints the recorded event, and the review lands on the current patchset', () => {
    const e = jsonOf(repo.omni(['review', 't-5', '--approve', '-m', 'ship it', '--json']));
    expect(e).toMatchObject({ v: 1, type: 'review', task: 't-5', commit: second, verdict: 'approve', message: 'ship it', by: 'Test Author <author@example.com>' });
    expect(repo.git(['notes', `--ref=${NOTES.reviews}`, 'list']).trim().split('\n')).toHaveLength(1);
    expect(jsonOf(repo.omni(['status', '--json', '--task', 't-5'])).tasks[0].state).toBe('approved');
  });

  it('read commands outside a repository exit 2', () => {
    const dir = tempDir();
    for (const args of [['status'], ['show', 't-5'], ['patchset', 't-5']]) {
      const r = run(process.execPath, [binPath, ...args], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not a git repository/);
    }
  });

  it.skipIf(!hasScript)('status colors its table on a terminal, but not with NO_COLOR, nor with --json', () => {
    const tty = omniOnTty(repo, ['status']);
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/\u001b\[1mTASK/);
    const noColor = omniOnTty(repo, ['status'], { NO_COLOR: '1' });
    expect(noColor.code).toBe(0);
    expect(noColor.stdout).toMatch(/TASK/);
    expect(noColor.stdout).not.toMatch(/\u001b\[/);
    const json = omniOnTty(repo, ['status', '--json']);
    expect(json.stdout).not.toMatch(/\u001b\[/);
    expect(JSON.parse(json.stdout.replace(/\r\n/g, '\n')).tasks[0].id).toBe('t-5');
  });

  it('keeps every patchset reachable from the one ref refs/omni-ship/kept, with no ref per patchset', () => {
    expect(keptCommits(repo)).toEqual(new Set([first, second]));
    expect(refsUnder(repo, 'refs/omni-ship/patchsets/')).toEqual(new Map());
  });
});

describe('the stored status answer and the build', () => {
  it('is not used by a build that differs in any dist file: the new build prints its own answer', () => {
    // a copy of the built package, so its dist/ can be edited without touching the project's
    const pkg = tempDir('omni-ship-pkg-');
    for (const part of ['bin', 'dist', 'hooks', 'templates', 'package.json']) fs.cpSync(path.join(projectRoot, part), path.join(pkg, part), { recursive: true });
    fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(pkg, 'node_modules'));
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-3']);
    repo.write('w.txt', 'w\n');
    repo.git(['add', 'w.txt']);
    repo.git(['commit', '-q', '-m', 'work']);
    const statusJson = () => {
      const r = run(process.execPath, [path.join(pkg, 'bin', 'omni-ship.js'), 'status', '--json'], { cwd: repo.dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    expect(statusJson().tasks[0]).toMatchObject({ id: 't-3', parent: null });
    expect(statusJson().tasks[0]).toMatchObject({ id: 't-3', parent: null }); // the second sight stores the answer
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'status-answer.json'))).toBe(true);
    // another build: status logic that answers differently, in a file neither the cache nor the events code is
    // the files that hold taskJson in the bundle bin/omni-ship.js runs (its entry, which holds status's path, and
    // the chunk the other commands share), edited in place
    const bundle = path.join(pkg, 'dist', 'bundle');
    const files = fs.readdirSync(bundle).map((f) => path.join(bundle, f)).filter((f) => fs.readFileSync(f, 'utf8').includes('parent: t.parent,'));
    expect(files.map((f) => path.basename(f))).toContain('main.cjs');
    for (const file of files) fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('parent: t.parent,', "parent: 'another build',"));
    expect(statusJson().tasks[0]).toMatchObject({ id: 't-3', parent: 'another build' });
  });
});
