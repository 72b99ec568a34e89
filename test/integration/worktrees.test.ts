import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { distModule, killChildren, nodeChild } from '../helpers/children.js';
import { cleanupAll, makeRemote, omniShip, tempDir, wrapRepo, testEnv, type RunResult, type TestRepo } from '../helpers/repo.js';
import { jsonOf, omniAsync } from '../helpers/state.js';

afterAll(cleanupAll);
afterEach(killChildren);

/** A repository in a folder of its own inside a temp dir, so its `<name>.worktrees` sibling is cleaned up too. */
function repoInTemp(): TestRepo {
  const dir = path.join(tempDir(), 'repo');
  fs.mkdirSync(dir);
  const repo = wrapRepo(dir);
  repo.git(['init', '-q', '--initial-branch=main']);
  for (const [k, v] of [['user.name', 'Test Author'], ['user.email', 'author@example.com'], ['commit.gpgsign', 'false'], ['gc.auto', '0']]) repo.git(['config', k!, v!]);
  repo.write('README', 'hello\n');
  repo.git(['add', 'README']);
  repo.git(['commit', '-q', '-m', 'initial']);
  return repo;
}

/** Commits `files` on the current branch. */
function commit(repo: TestRepo, files: Record<string, string>, message: string): string {
  for (const [f, text] of Object.entries(files)) repo.write(f, text);
  repo.git(['add', '--', ...Object.keys(files)]);
  repo.git(['commit', '-q', '-m', message]);
  return repo.git(['rev-parse', 'HEAD']).trim();
}

const registryFile = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'worktrees.json');
const readRegistry = (repo: TestRepo) => JSON.parse(fs.readFileSync(registryFile(repo), 'utf8')) as { version: number; worktrees: Record<string, unknown>[] };
const defaultPath = (repo: TestRepo, task: string) => path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}.worktrees`, task);
const branches = (repo: TestRepo) => repo.git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/']);
const worktreeList = (repo: TestRepo) => repo.git(['worktree', 'list', '--porcelain']);
/** The main worktree's HEAD, index and files as git sees them, and its stash: what worktree commands never touch. */
const mainState = (repo: TestRepo) => ({
  head: repo.git(['rev-parse', 'HEAD']),
  symbolic: repo.git(['symbolic-ref', 'HEAD']),
  index: fs.readFileSync(path.join(repo.dir, '.git', 'index')).toString('hex'),
  status: repo.git(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all']),
  stash: repo.gitRun(['rev-parse', '--verify', '--quiet', 'refs/stash']).stdout,
});

/** Everything a refusal must leave as it was. */
function snapshot(repo: TestRepo) {
  return {
    registry: fs.existsSync(registryFile(repo)) ? fs.readFileSync(registryFile(repo), 'utf8') : null,
    branches: branches(repo),
    worktrees: worktreeList(repo),
    main: mainState(repo),
  };
}

function expectRefusal(r: RunResult, code: number, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
}

interface StartJson {
  task: string;
  path: string;
  branch: string | null;
  action: string;
  registered: boolean;
  head: string | null;
  baseCommit: string | null;
  from: string | null;
  fromRef: string | null;
  patchset: number | null;
  createdAt: string | null;
  links: { name: string; target: string; status: string }[];
}

describe('omni-ship worktree start', () => {
  it("creates the task's worktree and branch at the remote-tracking base tip, registers it, and leaves the main tree alone", () => {
    const remote = makeRemote();
    const repo = remote.clone();
    const tracked = repo.git(['rev-parse', 'refs/remotes/origin/main']).trim();
    // the local main moves ahead of origin/main: the task starts from what it will land on, the remote's base
    const localAhead = commit(repo, { 'local.txt': 'not pushed\n' }, 'local only');
    repo.write('scratch.txt', 'untracked in main\n');
    repo.write('README', 'hello\nedited, unstaged\n');
    const before = mainState(repo);
    const r = repo.omni(['worktree', 'start', 't-1']);
    expect(r.code, r.stderr).toBe(0);
    const wt = defaultPath(repo, 't-1');
    expect(r.stdout).toBe(`${wt}\n`);
    expect(r.stderr).toContain(`t-1: made the worktree ${wt} on new branch t-1 from origin/main`);
    expect(repo.git(['rev-parse', 'refs/heads/t-1']).trim()).toBe(tracked);
    expect(tracked).not.toBe(localAhead);
    expect(repo.git(['-C', wt, 'symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/t-1');
    expect(repo.git(['-C', wt, 'status', '--porcelain'])).toBe('');
    expect(worktreeList(repo)).toContain(`worktree ${wt}\n`);
    // no upstream set from the remote-tracking ref
    expect(repo.gitRun(['config', 'branch.t-1.remote']).code).toBe(1);
    const registry = readRegistry(repo);
    expect(registry.version).toBe(1);
    expect(registry.worktrees).toHaveLength(1);
    const entry = registry.worktrees[0]!;
    expect(entry).toEqual({
      task: 't-1',
      path: wt,
      branch: 't-1',
      createdAt: expect.any(String),
      createdBy: 'omni-ship',
      baseCommit: tracked,
      from: 'base',
      fromRef: 'refs/remotes/origin/main',
      patchset: null,
      links: [],
    });
    expect(Date.now() - Date.parse(entry.createdAt as string)).toBeLessThan(120_000);
    expect(mainState(repo)).toEqual(before);
    expect(fs.readdirSync(path.join(repo.dir, '.git', 'omni-ship')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('without a remote starts from the local base branch; the --json answer', () => {
    const repo = repoInTemp();
    const tip = commit(repo, { 'a.txt': 'a\n' }, 'second');
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 'T-2', '--json']));
    expect(data).toEqual({
      task: 't-2',
      path: defaultPath(repo, 't-2'),
      branch: 't-2',
      action: 'created',
      registered: true,
      head: tip,
      baseCommit: tip,
      from: 'base',
      fromRef: 'refs/heads/main',
      patchset: null,
      createdAt: expect.any(String),
      links: [],
    });
    expect(repo.git(['rev-parse', 't-2']).trim()).toBe(tip);
  });

  it('a second start reuses the worktree: same path, nothing new written', () => {
    const repo = repoInTemp();
    const first = repo.omni(['worktree', 'start', 't-3']);
    expect(first.code, first.stderr).toBe(0);
    const wt = first.stdout.trim();
    // work in progress in the worktree is no reason to make another
    fs.writeFileSync(path.join(wt, 'wip.txt'), 'wip\n');
    const before = snapshot(repo);
    const registryStat = fs.statSync(registryFile(repo));
    const second = repo.omni(['worktree', 'start', 't-3']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain(`t-3: using its worktree ${wt}`);
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-3', '--json']));
    expect(data.action).toBe('reused');
    expect(data.registered).toBe(true);
    expect(data.path).toBe(wt);
    expect(snapshot(repo)).toEqual(before);
    expect(fs.statSync(registryFile(repo)).mtimeMs).toBe(registryStat.mtimeMs);
    expect(fs.readdirSync(path.dirname(wt))).toEqual(['t-3']);
    expect(fs.readFileSync(path.join(wt, 'wip.txt'), 'utf8')).toBe('wip\n');
  });

  it('a task with a recorded patchset starts from its latest patchset commit, not from the base', () => {
    const repo = repoInTemp();
    repo.git(['switch', '-q', '-c', 't-5']);
    const record = (text: string) => {
      const sha = commit(repo, { 'w.txt': text }, `work\n\nTask-Id: t-5`);
      const r = repo.omni(['hook', 'post-commit']);
      expect(r.code, r.stderr).toBe(0);
      return sha;
    };
    record('one\n');
    const second = record('two\n');
    const shown = jsonOf<{ patchsetHistory: { n: number; commit: string }[] }>(repo.omni(['show', 't-5', '--json']));
    expect(shown.patchsetHistory.map((p) => [p.n, p.commit])).toEqual([[1, expect.any(String)], [2, second]]);
    // the branch is not here (the work was done in another clone, or the branch was deleted); the base moved on
    repo.git(['switch', '-q', 'main']);
    repo.git(['branch', '-q', '-D', 't-5']);
    const base = commit(repo, { 'base.txt': 'moved\n' }, 'base moves on');
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-5', '--json']));
    expect(data.action).toBe('created');
    expect(data.from).toBe('patchset');
    expect(data.patchset).toBe(2);
    expect(data.baseCommit).toBe(second);
    expect(data.fromRef).toBeNull();
    expect(repo.git(['rev-parse', 'refs/heads/t-5']).trim()).toBe(second);
    expect(repo.git(['-C', data.path, 'rev-parse', 'HEAD']).trim()).toBe(second);
    expect(second).not.toBe(base);
    expect(fs.readFileSync(path.join(data.path, 'w.txt'), 'utf8')).toBe('two\n');
    expect(readRegistry(repo).worktrees[0]).toMatchObject({ task: 't-5', baseCommit: second, from: 'patchset', patchset: 2 });
  });

  it('an existing task branch is checked out as it is', () => {
    const repo = repoInTemp();
    repo.git(['switch', '-q', '-c', 't-6']);
    const tip = commit(repo, { 'x.txt': 'x\n' }, 'work');
    repo.git(['switch', '-q', 'main']);
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-6', '--json']));
    expect(data).toMatchObject({ action: 'created', from: 'branch', fromRef: 'refs/heads/t-6', baseCommit: tip, head: tip });
    expect(repo.git(['rev-parse', 't-6']).trim()).toBe(tip);
  });

  it('symlinks worktree.linkDirs from the main worktree and lists each in info/exclude, so git add -A does not stage the link', () => {
    const repo = repoInTemp();
    repo.write('.omni-shiprc.yaml', 'worktree:\n  linkDirs: [node_modules, .venv, absent]\n');
    repo.write('.gitignore', 'node_modules/\n.venv/\n');
    commit(repo, { '.omni-shiprc.yaml': repo.read('.omni-shiprc.yaml'), '.gitignore': repo.read('.gitignore') }, 'config');
    repo.write('node_modules/pkg/index.js', 'module.exports = 1;\n');
    repo.write('.venv/bin/python', '#!/bin/sh\n');
    const r = repo.omni(['worktree', 'start', 't-8', '--json']);
    const data = jsonOf<StartJson>(r);
    const wt = data.path;
    expect(data.links).toEqual([
      { name: 'node_modules', target: path.join(repo.dir, 'node_modules'), status: 'linked' },
      { name: '.venv', target: path.join(repo.dir, '.venv'), status: 'linked' },
      { name: 'absent', target: path.join(repo.dir, 'absent'), status: 'missing' },
    ]);
    expect(r.stderr).toContain(`${path.join(repo.dir, 'absent')} does not exist: not linked`);
    for (const name of ['node_modules', '.venv']) {
      expect(fs.lstatSync(path.join(wt, name)).isSymbolicLink(), name).toBe(true);
      expect(fs.readlinkSync(path.join(wt, name))).toBe(path.join(repo.dir, name));
    }
    expect(fs.readFileSync(path.join(wt, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(fs.existsSync(path.join(wt, 'absent'))).toBe(false);
    const exclude = repo.git(['-C', wt, 'rev-parse', '--path-format=absolute', '--git-path', 'info/exclude']).trim();
    const lines = fs.readFileSync(exclude, 'utf8').split('\n');
    expect(lines).toContain('/node_modules');
    expect(lines).toContain('/.venv');
    expect(lines).not.toContain('/absent');
    expect(readRegistry(repo).worktrees[0]!.links).toEqual(['node_modules', '.venv']);
    // an agent's git add -A: the links are not staged, its real work is
    fs.writeFileSync(path.join(wt, 'work.txt'), 'work\n');
    repo.git(['-C', wt, 'add', '-A']);
    expect(repo.git(['-C', wt, 'diff', '--cached', '--name-only']).split('\n').filter(Boolean)).toEqual(['work.txt']);
    // a second task adds no duplicate lines
    expect(repo.omni(['worktree', 'start', 't-9']).code).toBe(0);
    expect(fs.readFileSync(exclude, 'utf8').split('\n').filter((l) => l === '/node_modules')).toHaveLength(1);
  });

  it('worktree.dir moves the worktrees (relative to the repository top); a bad worktree setting is exit 2 naming the key', () => {
    const repo = repoInTemp();
    repo.write('.omni-shiprc.yaml', 'worktree:\n  dir: ../elsewhere/trees\n');
    const r = repo.omni(['worktree', 'start', 't-14']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${path.join(path.dirname(repo.dir), 'elsewhere', 'trees', 't-14')}\n`);
    for (const [yaml, problem] of [
      ['worktree:\n  linkDirs: [../outside]\n', "'worktree' linkDirs: \"../outside\" must be a relative path"],
      ['worktree:\n  linkDirs: [/abs]\n', "'worktree' linkDirs: \"/abs\" must be a relative path"],
      ['worktree:\n  linkDirs: [.git]\n', "names git's own folder"],
      ['worktree:\n  linkDirs: node_modules\n', "'worktree' linkDirs must be a list"],
      ['worktree:\n  dir: 3\n', "'worktree' dir must be a folder path or null"],
      ['worktree:\n  links: []\n', "'worktree' has an unknown key 'links'"],
    ] as const) {
      repo.write('.omni-shiprc.yaml', yaml);
      const before = snapshot(repo);
      const bad = repo.omni(['worktree', 'start', 't-15']);
      expectRefusal(bad, 2, problem);
      expect(bad.stderr).toContain(path.join(repo.dir, '.omni-shiprc.yaml'));
      expect(snapshot(repo)).toEqual(before);
    }
  });

  it('refuses a task id that cannot name a folder or branch: exit 2, nothing created', () => {
    const repo = repoInTemp();
    // a team pattern loose enough to let such ids through parseTaskId
    repo.write('.omni-shiprc.yaml', "taskPattern: '^t-.+$'\nbranchPattern: '(^|/)t-[0-9]+($|[-_/])'\n");
    const before = snapshot(repo);
    for (const bad of ['t-../../evil', 't-1/x', 't-a;b', 't-1.lock', 't-1..2']) {
      const r = repo.omni(['worktree', 'start', bad]);
      expectRefusal(r, 2, 'cannot name a worktree');
      expect(r.stderr).toContain(JSON.stringify(bad));
    }
    const invalid = repo.omni(['worktree', 'start', 'x;rm -rf']);
    expectRefusal(invalid, 2, 'is not a valid task id');
    expect(snapshot(repo)).toEqual(before);
    expect(before.registry).toBeNull();
    expect(fs.existsSync(path.join(path.dirname(repo.dir), 'repo.worktrees'))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(repo.dir), 'evil'))).toBe(false);
  });

  it('refuses a task branch checked out in the main worktree (exit 3), and a path in the way (exit 3); nothing written', () => {
    const repo = repoInTemp();
    repo.git(['switch', '-q', '-c', 't-10']);
    let before = snapshot(repo);
    expectRefusal(repo.omni(['worktree', 'start', 't-10']), 3, 'branch t-10 is checked out in the main worktree');
    expect(snapshot(repo)).toEqual(before);
    repo.git(['switch', '-q', 'main']);
    const inTheWay = defaultPath(repo, 't-11');
    fs.mkdirSync(inTheWay, { recursive: true });
    fs.writeFileSync(path.join(inTheWay, 'keep.txt'), 'mine\n');
    before = snapshot(repo);
    expectRefusal(repo.omni(['worktree', 'start', 't-11']), 3, `${inTheWay} is in the way`);
    expect(snapshot(repo)).toEqual(before);
    expect(fs.readdirSync(inTheWay)).toEqual(['keep.txt']);
    expect(before.registry).toBeNull();
  });

  it('from inside a linked worktree: says so on stderr and uses that tree (exit 0, nothing created)', () => {
    const repo = repoInTemp();
    const wt = repo.omni(['worktree', 'start', 't-12']).stdout.trim();
    const before = snapshot(repo);
    const sub = path.join(wt, 'sub');
    fs.mkdirSync(sub);
    const r = repo.omni(['worktree', 'start', 't-13'], { cwd: sub });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${wt}\n`);
    expect(r.stderr).toContain(`already in the linked worktree ${wt} (on branch t-12, not t-13): using it`);
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-13', '--json'], { cwd: sub }));
    expect(data).toMatchObject({ task: 't-13', path: wt, branch: 't-12', action: 'current', registered: false });
    expect(snapshot(repo)).toEqual(before);
    expect(repo.gitRun(['rev-parse', '--verify', '--quiet', 'refs/heads/t-13']).code).toBe(1);
  });

  it('outside a repository: exit 2, saying so', () => {
    const dir = tempDir();
    const r = omniShip(['worktree', 'start', 't-1'], { cwd: dir });
    expectRefusal(r, 2, `not a git repository: ${dir}`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('concurrent starts of different tasks all register; two of one task make one worktree', async () => {
    const repo = repoInTemp();
    const tasks = ['t-21', 't-22', 't-23', 't-24', 't-25'];
    const runs = await Promise.all([...tasks, 't-21'].map((t) => omniAsync(repo.dir, ['worktree', 'start', t, '--json'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const answers = runs.map((r) => JSON.parse(r.stdout) as StartJson);
    const t21 = answers.filter((a) => a.task === 't-21');
    expect(t21.map((a) => a.action).sort()).toEqual(['created', 'reused']);
    expect(t21[0]!.path).toBe(t21[1]!.path);
    const registered = readRegistry(repo).worktrees.map((w) => w.task).sort();
    expect(registered).toEqual(tasks);
    for (const t of tasks) expect(fs.existsSync(path.join(defaultPath(repo, t), 'README')), t).toBe(true);
    expect(fs.readdirSync(path.join(repo.dir, '.git', 'omni-ship')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('a start killed part way (kill -9)', () => {
  for (const [point, what] of [
    ['worktree:registered', 'after the registry names it, before git makes it'],
    ['worktree:added', 'after git made it, before its links'],
  ] as const) {
    it(`${what}: the next start finishes the job, and the worktree is omni-ship's (release --remove removes it)`, () => {
      const repo = repoInTemp();
      const killed = repo.omni(['worktree', 'start', 't-41'], { env: testEnv({ OMNI_SHIP_FAILPOINT: point }) });
      expect(killed.code).not.toBe(0);
      const again = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-41', '--json']));
      expect(again).toMatchObject({ task: 't-41', path: defaultPath(repo, 't-41'), branch: 't-41', registered: true });
      expect(again.action).toBe(point === 'worktree:added' ? 'reused' : 'created');
      expect(fs.existsSync(path.join(again.path, 'README'))).toBe(true);
      expect(readRegistry(repo).worktrees.map((w) => w.task)).toEqual(['t-41']);
      // no lock left blocking
      expect(fs.readdirSync(path.join(repo.dir, '.git', 'omni-ship')).filter((f) => f.endsWith('.lock'))).toEqual([]);
      const released = repo.omni(['worktree', 'release', 't-41', '--remove']);
      expect(released.code, released.stderr).toBe(0);
      expect(fs.existsSync(again.path)).toBe(false);
    });
  }
});

describe('omni-ship worktree list', () => {
  it('--json: each registered worktree with whether it exists, is dirty, and its HEAD', () => {
    const repo = repoInTemp();
    const empty = jsonOf<{ worktrees: unknown[] }>(repo.omni(['worktree', 'list', '--json']));
    expect(empty).toEqual({ worktrees: [] });
    const clean = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-31', '--json']));
    const dirty = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-32', '--json']));
    const gone = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-33', '--json']));
    fs.writeFileSync(path.join(dirty.path, 'README'), 'changed\n');
    // a commit in the clean one moves its HEAD
    const moved = commit(wrapRepo(clean.path), { 'c.txt': 'c\n' }, 'work');
    fs.rmSync(gone.path, { recursive: true });
    const data = jsonOf<{ worktrees: Record<string, unknown>[] }>(repo.omni(['worktree', 'list', '--json']));
    expect(data.worktrees.map((w) => Object.keys(w).sort())).toEqual(
      Array(3).fill(['baseCommit', 'branch', 'checkedOut', 'createdAt', 'createdBy', 'dirty', 'exists', 'from', 'fromRef', 'head', 'links', 'patchset', 'path', 'task']),
    );
    const base = clean.baseCommit;
    expect(data.worktrees).toEqual([
      expect.objectContaining({ task: 't-31', path: clean.path, branch: 't-31', createdBy: 'omni-ship', baseCommit: base, from: 'base', exists: true, dirty: false, head: moved, checkedOut: 't-31' }),
      expect.objectContaining({ task: 't-32', path: dirty.path, exists: true, dirty: true, head: base, checkedOut: 't-32' }),
      expect.objectContaining({ task: 't-33', path: gone.path, exists: false, dirty: null, head: null, checkedOut: null }),
    ]);
    const text = repo.omni(['worktree', 'list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^t-31\s+t-31\s+[0-9a-f]{12}\s+clean\s/m);
    expect(text.stdout).toMatch(/^t-32\s+t-32\s+[0-9a-f]{12}\s+dirty\s/m);
    expect(text.stdout).toMatch(/^t-33\s+t-33\s+-\s+missing\s/m);
    // the listing writes nothing: not the registry, not a worktree's index
    const registry = fs.readFileSync(registryFile(repo), 'utf8');
    expect(repo.omni(['worktree', 'list']).code).toBe(0);
    expect(fs.readFileSync(registryFile(repo), 'utf8')).toBe(registry);
  });
});

describe('omni-ship worktree release', () => {
  it('without --remove drops the registry entry and keeps the folder and branch', () => {
    const repo = repoInTemp();
    const wt = repo.omni(['worktree', 'start', 't-41']).stdout.trim();
    const r = repo.omni(['worktree', 'release', 't-41', '--json']);
    expect(jsonOf(r)).toEqual({ task: 't-41', path: wt, branch: 't-41', released: true, removed: false });
    expect(fs.existsSync(path.join(wt, 'README'))).toBe(true);
    expect(worktreeList(repo)).toContain(`worktree ${wt}\n`);
    expect(repo.git(['rev-parse', '--verify', 'refs/heads/t-41']).trim()).toMatch(/^[0-9a-f]{40}$/);
    expect(readRegistry(repo).worktrees).toEqual([]);
    // released, it is no longer omni-ship's to remove
    const before = snapshot(repo);
    expectRefusal(repo.omni(['worktree', 'release', 't-41', '--remove']), 1, `the worktree ${wt} was not made by omni-ship`);
    expect(snapshot(repo)).toEqual(before);
    expect(fs.existsSync(wt)).toBe(true);
  });

  it('--remove removes a clean worktree it made; the branch and the linked folders stay', () => {
    const repo = repoInTemp();
    repo.write('.omni-shiprc.yaml', 'worktree:\n  linkDirs: [node_modules]\n');
    repo.write('node_modules/pkg/index.js', 'keep me\n');
    const wt = repo.omni(['worktree', 'start', 't-42']).stdout.trim();
    commit(wrapRepo(wt), { 'done.txt': 'done\n' }, 'the work');
    const tip = repo.git(['rev-parse', 'refs/heads/t-42']).trim();
    const r = repo.omni(['worktree', 'release', 't-42', '--remove']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`t-42: removed the worktree ${wt}; branch t-42 is kept\n`);
    expect(fs.existsSync(wt)).toBe(false);
    expect(worktreeList(repo)).not.toContain(wt);
    expect(repo.git(['rev-parse', 'refs/heads/t-42']).trim()).toBe(tip);
    expect(fs.readFileSync(path.join(repo.dir, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('keep me\n');
    expect(readRegistry(repo).worktrees).toEqual([]);
  });

  it('--remove refuses a worktree with uncommitted changes: exit 1, message, worktree and registry unchanged', () => {
    const repo = repoInTemp();
    const wt = repo.omni(['worktree', 'start', 't-43']).stdout.trim();
    for (const change of [
      () => fs.writeFileSync(path.join(wt, 'README'), 'edited\n'),
      () => repo.git(['-C', wt, 'add', 'README']),
      () => {
        repo.git(['-C', wt, 'checkout', '-q', '--', '.']);
        repo.git(['-C', wt, 'reset', '-q', '--hard']);
        fs.writeFileSync(path.join(wt, 'new-file.txt'), 'untracked work\n');
      },
    ]) {
      change();
      const before = snapshot(repo);
      const files = fs.readdirSync(wt).sort();
      const status = repo.git(['-C', wt, 'status', '--porcelain']);
      expect(status).not.toBe('');
      const r = repo.omni(['worktree', 'release', 't-43', '--remove']);
      expectRefusal(r, 1, `t-43: the worktree ${wt} has uncommitted changes`);
      expect(r.stderr).toContain('not removed');
      expect(snapshot(repo)).toEqual(before);
      expect(fs.readdirSync(wt).sort()).toEqual(files);
      expect(repo.git(['-C', wt, 'status', '--porcelain'])).toBe(status);
      expect(readRegistry(repo).worktrees.map((w) => w.task)).toEqual(['t-43']);
    }
  });

  it('--remove refuses a worktree omni-ship did not create (plain git worktree add): exit 1, nothing changed', () => {
    const repo = repoInTemp();
    const theirs = path.join(path.dirname(repo.dir), 'by-hand');
    repo.git(['worktree', 'add', '-q', '-b', 't-44', theirs]);
    const before = snapshot(repo);
    const r = repo.omni(['worktree', 'release', 't-44', '--remove']);
    expectRefusal(r, 1, `t-44: the worktree ${theirs} was not made by omni-ship`);
    expect(r.stderr).toContain(`git worktree remove ${theirs}`);
    expect(snapshot(repo)).toEqual(before);
    expect(before.registry).toBeNull();
    expect(fs.existsSync(path.join(theirs, 'README'))).toBe(true);
    // start uses it as it is, without claiming it
    const data = jsonOf<StartJson>(repo.omni(['worktree', 'start', 't-44', '--json']));
    expect(data).toMatchObject({ path: theirs, action: 'reused', registered: false });
    expect(snapshot(repo)).toEqual(before);
  });

  it('a task with no worktree: exit 2, nothing written', () => {
    const repo = repoInTemp();
    const before = snapshot(repo);
    for (const args of [['t-45'], ['t-45', '--remove']]) {
      expectRefusal(repo.omni(['worktree', 'release', ...args]), 2, 'no worktree of t-45 is registered');
    }
    expectRefusal(repo.omni(['worktree', 'release', 'nonsense']), 2, 'is not a valid task id');
    expect(snapshot(repo)).toEqual(before);
  });
});

describe('the worktree registry', () => {
  it('loses no update when 8 processes update it at once (its lock)', async () => {
    const stateDir = path.join(tempDir(), 'omni-ship');
    const perChild = 8;
    const go = Date.now() + 2000;
    const children = Array.from({ length: 8 }, (_, c) =>
      nodeChild(`
        const { updateWorktreeRegistry } = await import(${JSON.stringify(distModule('pipeline/worktree-registry.js'))});
        while (Date.now() < ${go}) {}
        for (let i = 0; i < ${perChild}; i++) {
          await updateWorktreeRegistry(${JSON.stringify(stateDir)}, (r) => {
            r.worktrees.push({ task: 't-${c}' + i, path: '/p', branch: 'b', createdAt: '', createdBy: 'omni-ship', baseCommit: 'c', from: 'base', fromRef: null, patchset: null, links: [] });
            return { result: null, write: true };
          });
        }
        console.log('done');
      `),
    );
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'done', 240_000)));
    const tasks = (JSON.parse(fs.readFileSync(path.join(stateDir, 'worktrees.json'), 'utf8')) as { worktrees: { task: string }[] }).worktrees.map((w) => w.task);
    expect(tasks).toHaveLength(8 * perChild);
    expect(new Set(tasks).size).toBe(8 * perChild);
    expect(fs.readdirSync(stateDir)).toEqual(['worktrees.json']);
  });

  it('a damaged registry reads as empty: its worktrees count as not made by omni-ship, so --remove refuses them', () => {
    const repo = repoInTemp();
    const wt = repo.omni(['worktree', 'start', 't-51']).stdout.trim();
    fs.writeFileSync(registryFile(repo), '{"version":1,"worktrees":[{"task":"t-51"}]}');
    const before = snapshot(repo);
    expectRefusal(repo.omni(['worktree', 'release', 't-51', '--remove']), 1, 'was not made by omni-ship');
    expect(snapshot(repo)).toEqual(before);
    expect(jsonOf(repo.omni(['worktree', 'list', '--json']))).toEqual({ worktrees: [] });
    expect(fs.existsSync(wt)).toBe(true);
  });
});

