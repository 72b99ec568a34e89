import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverWorkRepo } from '../../src/git/repo.js';
import { cleanupAll, makeRepo, omniShip, run, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';
import { NOTES, eventsIn } from '../helpers/state.js';
import { commitVerifyConfig, taskOnTop } from '../helpers/verify.js';

afterAll(() => cleanupAll());

// discoverWorkRepo reads process.env: run it under the same clean environment git gets here, restored after
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  Object.assign(process.env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

type Dirs = { toplevel: string; gitDir: string; commonDir: string };

/** What git itself says about `cwd` (real paths), or null when it finds no work tree there. */
function gitSays(cwd: string, env: NodeJS.ProcessEnv = testEnv()): Dirs | null {
  const r = run('git', ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-dir', '--git-common-dir'], { cwd, env });
  if (r.code !== 0) return null;
  const [toplevel, gitDir, commonDir] = r.stdout.trimEnd().split('\n');
  if (!toplevel || !gitDir || !commonDir) return null;
  return { toplevel: fs.realpathSync(toplevel), gitDir: fs.realpathSync(gitDir), commonDir: fs.realpathSync(commonDir) };
}

/** discoverWorkRepo's answer in real paths (null stays null). */
function discovered(cwd: string): Dirs | null {
  const d = discoverWorkRepo(cwd);
  if (!d) return null;
  expect(d.toplevel).toBeTruthy();
  return { toplevel: fs.realpathSync(d.toplevel!), gitDir: fs.realpathSync(d.gitDir), commonDir: fs.realpathSync(d.commonDir) };
}

/** The contract: a non-null answer is git's answer; returns the answer for further checks. */
function agreesWithGit(cwd: string): Dirs | null {
  const mine = discovered(cwd);
  if (mine !== null) expect(mine, `discoverWorkRepo(${cwd}) differs from git`).toEqual(gitSays(cwd));
  return mine;
}

const real = (p: string) => fs.realpathSync(p);

describe('discoverWorkRepo: the fast path finds what git finds, or says null', () => {
  it('repository root and a subdirectory: the main work tree, .git as both dirs', () => {
    const repo = makeRepo();
    fs.mkdirSync(path.join(repo.dir, 'a', 'b'), { recursive: true });
    const want = { toplevel: real(repo.dir), gitDir: real(path.join(repo.dir, '.git')), commonDir: real(path.join(repo.dir, '.git')) };
    expect(agreesWithGit(repo.dir)).toEqual(want);
    expect(agreesWithGit(path.join(repo.dir, 'a', 'b'))).toEqual(want);
  });

  it('a linked worktree and a subdirectory of it: its own git dir, the main common dir', () => {
    const repo = makeRepo();
    const wt = path.join(tempDir(), 'wt');
    repo.git(['worktree', 'add', '-q', '-b', 'side', wt]);
    fs.mkdirSync(path.join(wt, 'sub', 'deeper'), { recursive: true });
    const want = { toplevel: real(wt), gitDir: real(path.join(repo.dir, '.git', 'worktrees', 'wt')), commonDir: real(path.join(repo.dir, '.git')) };
    expect(agreesWithGit(wt)).toEqual(want);
    expect(agreesWithGit(path.join(wt, 'sub', 'deeper'))).toEqual(want);
  });

  it('a submodule checkout: whatever it answers is git answer (its .git file points into .git/modules)', () => {
    const inner = makeRepo();
    const outer = makeRepo();
    outer.git(['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', inner.dir, 'sub']);
    outer.git(['commit', '-q', '-m', 'add sub']);
    fs.mkdirSync(path.join(outer.dir, 'sub', 'x'));
    expect(fs.statSync(path.join(outer.dir, 'sub', '.git')).isFile()).toBe(true);
    const truth = gitSays(path.join(outer.dir, 'sub', 'x'));
    expect(truth?.toplevel).toBe(real(path.join(outer.dir, 'sub')));
    agreesWithGit(path.join(outer.dir, 'sub'));
    agreesWithGit(path.join(outer.dir, 'sub', 'x'));
    // the superproject around it is still itself
    expect(agreesWithGit(outer.dir)?.toplevel).toBe(real(outer.dir));
  });

  it('a path through a symlink: the real paths git reports', () => {
    const repo = makeRepo();
    fs.mkdirSync(path.join(repo.dir, 'sub'));
    const link = path.join(tempDir(), 'link');
    fs.symlinkSync(path.join(repo.dir, 'sub'), link);
    expect(agreesWithGit(link)?.toplevel).toBe(real(repo.dir));
  });

  it('a repository nested in another one work tree: the inner one wins', () => {
    const outer = makeRepo();
    const innerDir = path.join(outer.dir, 'vendor', 'inner');
    fs.mkdirSync(innerDir, { recursive: true });
    run('git', ['init', '-q', '--initial-branch=main', innerDir], { cwd: outer.dir });
    fs.mkdirSync(path.join(innerDir, 'src'));
    expect(agreesWithGit(path.join(innerDir, 'src'))).toEqual({ toplevel: real(innerDir), gitDir: real(path.join(innerDir, '.git')), commonDir: real(path.join(innerDir, '.git')) });
    expect(agreesWithGit(path.join(outer.dir, 'vendor'))?.toplevel).toBe(real(outer.dir));
  });

  it('a bare repository, inside it or its refs: null', () => {
    const bare = path.join(tempDir(), 'r.git');
    run('git', ['init', '-q', '--bare', bare], { cwd: path.dirname(bare) });
    expect(discoverWorkRepo(bare)).toBeNull();
    expect(discoverWorkRepo(path.join(bare, 'refs', 'heads'))).toBeNull();
  });

  it('inside the .git directory (and a linked worktree git dir): git sees no work tree there, so null', () => {
    const repo = makeRepo();
    const wt = path.join(tempDir(), 'wt');
    repo.git(['worktree', 'add', '-q', '-b', 'side', wt]);
    for (const dir of [path.join(repo.dir, '.git'), path.join(repo.dir, '.git', 'refs', 'heads'), path.join(repo.dir, '.git', 'worktrees', 'wt')]) {
      expect(gitSays(dir), dir).toBeNull();
      expect(discoverWorkRepo(dir), dir).toBeNull();
    }
  });

  it('GIT_DIR (or GIT_WORK_TREE, GIT_CEILING_DIRECTORIES) set: null, git decides', () => {
    const repo = makeRepo();
    expect(discoverWorkRepo(repo.dir)).not.toBeNull();
    for (const [k, v] of [
      ['GIT_DIR', path.join(repo.dir, '.git')],
      ['GIT_WORK_TREE', repo.dir],
      ['GIT_COMMON_DIR', path.join(repo.dir, '.git')],
      ['GIT_CEILING_DIRECTORIES', path.dirname(repo.dir)],
      ['GIT_DISCOVERY_ACROSS_FILESYSTEM', '1'],
    ] as const) {
      process.env[k] = v;
      expect(discoverWorkRepo(repo.dir), k).toBeNull();
      delete process.env[k];
    }
  });

  it('a directory outside any repository: null, as git says', () => {
    const dir = tempDir();
    expect(gitSays(dir)).toBeNull();
    expect(discoverWorkRepo(dir)).toBeNull();
    expect(discoverWorkRepo(path.join(dir, 'missing'))).toBeNull();
  });

  it('a .git file git cannot read: null, never a throw', () => {
    const real1 = makeRepo();
    for (const text of ['garbage\n', '', 'gitdir:\n', 'gitdir: /nonexistent/path\n', `garbage\ngitdir: ${real1.dir}/.git\n`, `gitdir: ${real1.dir}/.git   \n`]) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, '.git'), text);
      expect(gitSays(dir), JSON.stringify(text)).toBeNull();
      expect(() => discoverWorkRepo(dir)).not.toThrow();
      expect(discoverWorkRepo(dir), JSON.stringify(text)).toBeNull();
    }
  });

  it('a .git file git can read (relative path, CRLF): the answer git gives', () => {
    const repo = makeRepo();
    const moved = path.join(tempDir(), 'store.git');
    fs.renameSync(path.join(repo.dir, '.git'), moved);
    fs.writeFileSync(path.join(repo.dir, '.git'), `gitdir: ${path.relative(repo.dir, moved)}\r\n`);
    expect(agreesWithGit(repo.dir)).toEqual({ toplevel: real(repo.dir), gitDir: real(moved), commonDir: real(moved) });
  });

  it('core.bare set in the config (any spelling of true): null', () => {
    for (const line of ['bare = true', 'bare = yes', 'bare = 1', 'bare', 'BARE=On']) {
      const repo = makeRepo();
      const config = path.join(repo.dir, '.git', 'config');
      fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/bare = false/, line));
      expect(gitSays(repo.dir), line).toBeNull();
      expect(discoverWorkRepo(repo.dir), line).toBeNull();
    }
  });

  it('core.worktree set: null (git puts the work tree elsewhere)', () => {
    const repo = makeRepo();
    const elsewhere = tempDir();
    repo.git(['config', 'core.worktree', elsewhere]);
    expect(gitSays(repo.dir)?.toplevel).toBe(real(elsewhere));
    expect(discoverWorkRepo(repo.dir)).toBeNull();
  });

  it('asked again in one process: the same answer while nothing changed, and what git says after a change', () => {
    const repo = makeRepo();
    const sub = path.join(real(repo.dir), 'a', 'b');
    fs.mkdirSync(sub, { recursive: true });
    for (const cwd of [real(repo.dir), sub]) expect(discovered(cwd)).toEqual(gitSays(cwd));
    expect(discoverWorkRepo(sub)).toBe(discoverWorkRepo(sub)); // remembered
    // a repository made between the subdirectory and the top: the inner one
    repo.gitRun(['init', '-q', path.join(real(repo.dir), 'a')]);
    expect(discovered(sub)).toEqual(gitSays(sub));
    expect(discovered(sub)?.toplevel).toBe(path.join(real(repo.dir), 'a'));
    // the config written again, now with core.bare: null, as git says
    const config = path.join(repo.dir, '.git', 'config');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/bare = false/, 'bare = true'));
    expect(gitSays(real(repo.dir))).toBeNull();
    expect(discoverWorkRepo(real(repo.dir))).toBeNull();
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/bare = true/, 'bare = false'));
    // core.worktree set in config.worktree (a file that was not there): null
    repo.git(['config', 'extensions.worktreeConfig', 'true']);
    expect(discovered(real(repo.dir))).toEqual(gitSays(real(repo.dir)));
    repo.git(['config', '--worktree', 'core.worktree', tempDir()]);
    expect(discoverWorkRepo(real(repo.dir))).toBeNull();
    // .git made a file pointing at another git dir: that one
    fs.rmSync(path.join(repo.dir, '.git', 'config.worktree'));
    const other = makeRepo();
    const moved = path.join(tempDir(), 'moved.git');
    expect(discovered(real(repo.dir))?.gitDir).toBe(path.join(real(repo.dir), '.git'));
    fs.renameSync(path.join(repo.dir, '.git'), moved);
    fs.writeFileSync(path.join(repo.dir, '.git'), `gitdir: ${path.join(other.dir, '.git')}\n`);
    expect(discovered(real(repo.dir))?.gitDir).toBe(path.join(real(other.dir), '.git'));
  });

  it('core.bare or core.worktree in config.worktree (extensions.worktreeConfig): null', () => {
    const repo = makeRepo();
    repo.git(['config', 'extensions.worktreeConfig', 'true']);
    const elsewhere = tempDir();
    repo.git(['config', '--worktree', 'core.worktree', elsewhere]);
    expect(gitSays(repo.dir)?.toplevel).toBe(real(elsewhere));
    expect(discoverWorkRepo(repo.dir)).toBeNull();
  });
});

describe('omni-ship verify finds the repository from anywhere git does', () => {
  /** A repository with a committed verify config on main, a task branch t-1 checked out in a linked worktree. */
  function setup(): { repo: TestRepo; wt: string; tree: string; commit: string } {
    const repo = makeRepo();
    commitVerifyConfig(repo, { steps: [{ name: 'ok', run: 'true' }] });
    const { commit, tree } = taskOnTop(repo, 't-1');
    repo.git(['switch', '-q', 'main']);
    const wt = path.join(tempDir(), 'wt');
    repo.git(['worktree', 'add', '-q', wt, 't-1']);
    fs.mkdirSync(path.join(wt, 'deep', 'er'), { recursive: true });
    return { repo, wt, tree, commit };
  }

  function verifyJson(cwd: string, env?: NodeJS.ProcessEnv): { code: number; stderr: string; json: any } {
    const r = omniShip(['verify', '--json'], { cwd, env });
    let json: any = null;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = null;
    }
    return { code: r.code, stderr: r.stderr, json };
  }

  it('from a subdirectory of a linked worktree: a pass recorded on the task tree', () => {
    const { repo, wt, tree, commit } = setup();
    const v = verifyJson(path.join(wt, 'deep', 'er'));
    expect(v.code, v.stderr).toBe(0);
    expect(v.json).toMatchObject({ result: 'pass', tree, commit });
    const events = eventsIn(repo, NOTES.verify).filter((e) => e.type === 'verify');
    expect(events.map((e) => [e.tree, e.result])).toEqual([[tree, 'pass']]);
    // asked again from another subdirectory of the worktree: the answer cached on the same tree
    const again = verifyJson(path.join(wt, 'deep'));
    expect(again.json).toMatchObject({ result: 'pass', tree, cached: true });
  });

  it('from inside .git: a clear error or a correct answer, never an internal error', () => {
    const { repo, tree } = setup();
    const mainTree = repo.git(['rev-parse', 'main^{tree}']).trim();
    for (const dir of [path.join(repo.dir, '.git'), path.join(repo.dir, '.git', 'refs')]) {
      const v = verifyJson(dir);
      expect(v.code, v.stderr).not.toBe(70);
      expect(v.stderr).not.toMatch(/internal error|at .*\.js:\d+/i);
      if (v.code === 0) {
        // a correct answer is about the main work tree's HEAD (main), never the task's tree
        expect(v.json).toMatchObject({ result: 'pass', tree: mainTree });
      } else {
        expect(v.code, v.stderr).toBe(2);
        expect(v.stderr).toMatch(/git directory|work tree/);
      }
    }
    const verified = eventsIn(repo, NOTES.verify).filter((e) => e.type === 'verify').map((e) => e.tree);
    expect(verified).not.toContain(tree);
  });

  it('with GIT_DIR and GIT_WORK_TREE set (git decides, the slow path): the same pass', () => {
    const { repo, wt, tree, commit } = setup();
    const gitDir = path.join(repo.dir, '.git', 'worktrees', 'wt');
    const v = verifyJson(path.join(wt, 'deep'), testEnv({ GIT_DIR: gitDir, GIT_WORK_TREE: wt }));
    expect(v.code, v.stderr).toBe(0);
    expect(v.json).toMatchObject({ result: 'pass', tree, commit });
    // and GIT_DIR alone from the main work tree's root: main's tree
    const m = verifyJson(repo.dir, testEnv({ GIT_DIR: path.join(repo.dir, '.git') }));
    expect(m.code, m.stderr).toBe(0);
    expect(m.json).toMatchObject({ result: 'pass', tree: repo.git(['rev-parse', 'main^{tree}']).trim() });
  });
});
