import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dynamicDefault, dynamicDefaultsAsync } from '../../src/config/defaults.js';
import { baseBranchFromFiles, remotesFromConfigFiles, trailerConfigText } from '../../src/config/defaults-fs.js';
import { cleanupAll, makeRemote, makeRepo, run, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';

// Real repositories, real git: the file readers must agree with git whenever they answer.

afterAll(() => cleanupAll());

// the functions read process.env (and dynamicDefault's git inherits it): a clean one per test, restored after
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  setEnv({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** Sets (or, for undefined, removes) variables in process.env for the rest of the test. */
function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** Runs git under exactly the environment the functions under test see. */
function git(repo: TestRepo, args: string[]): { stdout: string; code: number } {
  return run('git', args, { cwd: repo.dir, env: { ...process.env } });
}

/** The repository's git dir and common dir (a main work tree's .git when git refuses the config). */
function dirsOf(repo: TestRepo): { commonDir: string; gitDir: string } {
  const r = repo.gitRun(['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir']);
  if (r.code !== 0) return { gitDir: path.join(repo.dir, '.git'), commonDir: path.join(repo.dir, '.git') };
  const [gitDir, commonDir] = r.stdout.trim().split('\n');
  return { gitDir: gitDir!, commonDir: commonDir! };
}

/** The config file of the repository. */
function configFile(repo: TestRepo): string {
  return path.join(dirsOf(repo).commonDir, 'config');
}

function appendConfig(repo: TestRepo, text: string): void {
  fs.appendFileSync(configFile(repo), text);
}

/**
 * Checks every contract against git and returns the file readers' answers: the remote list agrees with `git remote`
 * when not null, the base branch with dynamicDefault when not null, and dynamicDefaultsAsync (with and without the
 * dirs, with a defaulted or an explicit remote) with the synchronous pair.
 */
async function agreesWithGit(repo: TestRepo): Promise<{ remotes: string[] | null; base: string | null; remote: string | null; baseBranch: string }> {
  const dirs = dirsOf(repo);
  const remotes = remotesFromConfigFiles(dirs.commonDir, dirs.gitDir);
  const listed = git(repo, ['remote']);
  if (remotes !== null) {
    expect(listed.code, 'git remote failed but the files were read').toBe(0);
    expect([...remotes].sort(), 'remotes from the files').toEqual(listed.stdout.split('\n').filter(Boolean).sort());
  }
  const remote = dynamicDefault('remote', repo.dir, null).value;
  const baseBranch = dynamicDefault('baseBranch', repo.dir, remote).value!;
  const base = baseBranchFromFiles(dirs.commonDir, remote);
  if (base !== null) expect(base, 'base branch from the files').toBe(baseBranch);
  expect(await dynamicDefaultsAsync(repo.dir, undefined, dirs), 'async with dirs').toEqual({ remote, baseBranch });
  expect(await dynamicDefaultsAsync(repo.dir, undefined), 'async without dirs').toEqual({ remote, baseBranch });
  for (const explicit of [null, 'origin', 'upstream']) {
    const want = { remote: explicit, baseBranch: dynamicDefault('baseBranch', repo.dir, explicit).value };
    expect(await dynamicDefaultsAsync(repo.dir, explicit, dirs), `async, remote ${explicit}`).toEqual(want);
    const b = baseBranchFromFiles(dirs.commonDir, explicit);
    if (b !== null) expect(b, `base from files, remote ${explicit}`).toBe(want.baseBranch);
  }
  return { remotes, base, remote, baseBranch };
}

describe('remotesFromConfigFiles and baseBranchFromFiles agree with git', () => {
  it('no remote: an empty list (not null), base main', async () => {
    const repo = makeRepo();
    expect(await agreesWithGit(repo)).toEqual({ remotes: [], base: 'main', remote: null, baseBranch: 'main' });
  });

  it('origin added by git remote add (no fetch, so no origin/HEAD)', async () => {
    const repo = makeRepo();
    repo.git(['remote', 'add', 'origin', tempDir()]);
    expect(await agreesWithGit(repo)).toEqual({ remotes: ['origin'], base: 'main', remote: 'origin', baseBranch: 'main' });
  });

  it('a remote named upstream only: no default remote', async () => {
    const repo = makeRepo();
    repo.git(['remote', 'add', 'upstream', tempDir()]);
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: ['upstream'], remote: null });
  });

  it('two remotes: origin is the default', async () => {
    const repo = makeRepo();
    repo.git(['remote', 'add', 'upstream', tempDir()]);
    repo.git(['remote', 'add', 'origin', tempDir()]);
    const r = await agreesWithGit(repo);
    expect(r.remotes?.sort()).toEqual(['origin', 'upstream']);
    expect(r.remote).toBe('origin');
  });

  it('a clone: origin and origin/HEAD; set-head moves the base; a dangling origin/HEAD is not followed', async () => {
    const remote = makeRemote();
    const seed = remote.clone('seed');
    seed.git(['push', '-q', 'origin', 'main:other']);
    const repo = remote.clone();
    expect(await agreesWithGit(repo)).toEqual({ remotes: ['origin'], base: 'main', remote: 'origin', baseBranch: 'main' });
    repo.git(['remote', 'set-head', 'origin', 'other']);
    expect(await agreesWithGit(repo)).toMatchObject({ base: 'other', baseBranch: 'other' });
    // the remote branch HEAD names is gone (a prune after the remote deleted it): for-each-ref skips the broken symref
    repo.git(['update-ref', '-d', 'refs/remotes/origin/other']);
    repo.git(['branch', '-q', '-m', 'main', 'master']);
    expect((await agreesWithGit(repo)).baseBranch).toBe('master');
  });

  it('origin/HEAD pointing at a packed ref, after git pack-refs', async () => {
    const remote = makeRemote();
    const repo = remote.clone();
    repo.git(['pack-refs', '--all']);
    expect(await agreesWithGit(repo)).toMatchObject({ base: 'main', baseBranch: 'main' });
  });

  it('a remote defined in the global config file only: found, or null, never "no remote"', async () => {
    const repo = makeRepo();
    const global = path.join(tempDir(), 'gitconfig');
    fs.writeFileSync(global, `[remote "origin"]\n\turl = ${tempDir()}\n`);
    setEnv({ GIT_CONFIG_GLOBAL: global });
    const r = await agreesWithGit(repo);
    expect(r.remote).toBe('origin');
    expect(r.remotes === null || r.remotes.includes('origin')).toBe(true);
  });

  it('a remote in ~/.gitconfig or the XDG file when GIT_CONFIG_GLOBAL is unset', async () => {
    const repo = makeRepo();
    const home = tempDir();
    setEnv({ GIT_CONFIG_GLOBAL: undefined, HOME: home, XDG_CONFIG_HOME: undefined });
    fs.writeFileSync(path.join(home, '.gitconfig'), `[remote "origin"]\n\turl = /x\n`);
    expect((await agreesWithGit(repo)).remote).toBe('origin');
    fs.rmSync(path.join(home, '.gitconfig'));
    fs.mkdirSync(path.join(home, 'xdg', 'git'), { recursive: true });
    fs.writeFileSync(path.join(home, 'xdg', 'git', 'config'), `[remote "upstream"]\n\turl = /x\n`);
    setEnv({ XDG_CONFIG_HOME: path.join(home, 'xdg') });
    expect(await agreesWithGit(repo)).toMatchObject({ remote: null });
    expect((await agreesWithGit(repo)).remotes ?? ['upstream']).toEqual(['upstream']);
  });

  it('the system file: read unless GIT_CONFIG_NOSYSTEM is true (git reads it as a boolean)', async () => {
    const repo = makeRepo();
    const system = path.join(tempDir(), 'system');
    fs.writeFileSync(system, `[remote "origin"]\n\turl = /x\n`);
    for (const nosystem of [undefined, '1', 'true', '0', 'false', 'no']) {
      setEnv({ GIT_CONFIG_SYSTEM: system, GIT_CONFIG_NOSYSTEM: nosystem });
      const r = await agreesWithGit(repo);
      expect(r.remote, `GIT_CONFIG_NOSYSTEM=${nosystem}`).toBe(nosystem === '1' || nosystem === 'true' ? null : 'origin');
    }
  });

  it('an include.path in the repository config: null (the included file could define one)', async () => {
    const repo = makeRepo();
    const extra = path.join(tempDir(), 'extra');
    fs.writeFileSync(extra, `[remote "origin"]\n\turl = /x\n`);
    repo.git(['config', 'include.path', extra]);
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: null, remote: 'origin' });
    repo.git(['config', '--unset', 'include.path']);
    repo.git(['config', `includeIf.gitdir:${repo.dir}/.path`, extra]);
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: null, remote: 'origin' });
  });

  it('a [remote "origin"] section with no keys: git does not list it', async () => {
    const repo = makeRepo();
    appendConfig(repo, '[remote "origin"]\n# nothing here\n');
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: [], remote: null });
    appendConfig(repo, '[remote "origin"] url = /x\n');
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: ['origin'], remote: 'origin' });
  });

  it('headers with odd spacing or case, keys on the header line, quoted names with escapes', async () => {
    const cases: [string, string | null][] = [
      ['[Remote  "origin"]\n\turl = /x\n', 'origin'],
      ['[REMOTE\t"origin"]\n\tURL = /x\n', 'origin'],
      ['[remote "origin"]url=/x\n', 'origin'],
      ['[remote "or\\igin"]\n\turl = /x\n', 'origin'],
      ['[remote "a\\"b"]\n\turl = /x\n', null],
      ['[remote "a b"]\n\turl = /x\n', null],
      // git refuses these headers: `git remote` fails, so the files must not answer
      ['[Remote  "origin" ]\n\turl = /x\n', null],
      ['[ remote "origin"]\n\turl = /x\n', null],
      // an old-style section: null
      ['[remote.origin]\n\turl = /x\n', null],
      // a value continued onto the next line is not a header
      ['[remote "up"]\n\turl = /x\\\n[remote "origin"]\n', null],
      // names git skips with a warning or mangles
      ['[remote "/x"]\n\turl = /x\n', null],
      ['[remote ""]\n\turl = /x\n', null],
    ];
    for (const [text] of cases) {
      const repo = makeRepo();
      appendConfig(repo, text);
      await agreesWithGit(repo);
    }
    // the odd ones are git's to judge
    for (const [text] of cases.slice(6)) {
      const repo = makeRepo();
      appendConfig(repo, text);
      expect(remotesFromConfigFiles(dirsOf(repo).commonDir, dirsOf(repo).gitDir), text).toBeNull();
    }
    // a byte order mark opening a file is skipped, as git skips it
    const bom = makeRepo();
    const global = path.join(tempDir(), 'gitconfig');
    fs.writeFileSync(global, '\uFEFF[remote "origin"]\n\turl = /x\n');
    setEnv({ GIT_CONFIG_GLOBAL: global });
    expect(await agreesWithGit(bom)).toMatchObject({ remotes: ['origin'], remote: 'origin' });
    setEnv({ GIT_CONFIG_GLOBAL: '/dev/null' });
    // the ones git reads give git's answer
    for (const [text, remote] of cases.slice(0, 4)) {
      const repo = makeRepo();
      appendConfig(repo, text);
      expect((await agreesWithGit(repo)).remote, text).toBe(remote);
    }
  });

  it('config.worktree counts only with extensions.worktreeConfig', async () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(dirsOf(repo).gitDir, 'config.worktree'), '[remote "origin"]\n\turl = /x\n');
    expect((await agreesWithGit(repo)).remote).toBe(null);
    repo.git(['config', 'extensions.worktreeConfig', 'true']);
    expect((await agreesWithGit(repo)).remote).toBe('origin');
  });

  it('a linked worktree: the common config and refs, the worktree own config.worktree', async () => {
    const repo = makeRepo();
    repo.git(['remote', 'add', 'origin', tempDir()]);
    const wt = path.join(tempDir(), 'wt');
    repo.git(['worktree', 'add', '-q', '-b', 'side', wt]);
    const { wrapRepo } = await import('../helpers/repo.js');
    expect(await agreesWithGit(wrapRepo(wt))).toMatchObject({ remote: 'origin', baseBranch: 'main' });
  });

  it('main only in packed-refs; master only; neither; a branch main/x beside master', async () => {
    const packed = makeRepo();
    packed.git(['pack-refs', '--all']);
    expect(fs.existsSync(path.join(packed.dir, '.git', 'refs', 'heads', 'main'))).toBe(false);
    expect(await agreesWithGit(packed)).toMatchObject({ base: 'main', baseBranch: 'main' });

    const master = makeRepo();
    master.git(['branch', '-q', '-m', 'main', 'master']);
    expect(await agreesWithGit(master)).toMatchObject({ base: 'master', baseBranch: 'master' });
    master.git(['pack-refs', '--all']);
    expect(await agreesWithGit(master)).toMatchObject({ baseBranch: 'master' });

    const neither = makeRepo();
    neither.git(['branch', '-q', '-m', 'main', 'trunk']);
    expect(await agreesWithGit(neither)).toMatchObject({ baseBranch: 'main' });

    // refs/heads/main is a directory here, not a branch
    master.git(['branch', 'main/x']);
    expect(await agreesWithGit(master)).toMatchObject({ baseBranch: 'master' });
  });

  it('remote keys passed through the environment: null', async () => {
    const repo = makeRepo();
    setEnv({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'remote.x.url', GIT_CONFIG_VALUE_0: '/x' });
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: null });
    setEnv({ GIT_CONFIG_KEY_0: 'Remote.origin.url' });
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: null, remote: 'origin' });
    setEnv({ GIT_CONFIG_COUNT: undefined, GIT_CONFIG_KEY_0: undefined, GIT_CONFIG_VALUE_0: undefined, GIT_CONFIG_PARAMETERS: `'remote.origin.url'='/x'` });
    expect(await agreesWithGit(repo)).toMatchObject({ remotes: null, remote: 'origin' });
  });

  it('an existing config file that cannot be read: null', async () => {
    const repo = makeRepo();
    // a directory where the global file should be: it exists, it cannot be read (even by root, unlike mode 000)
    const global = tempDir();
    setEnv({ GIT_CONFIG_GLOBAL: global });
    expect(remotesFromConfigFiles(dirsOf(repo).commonDir, dirsOf(repo).gitDir)).toBeNull();
    await agreesWithGit(repo);
  });
});

describe('trailerConfigText: what the config files say about trailers, as a key', () => {
  it('is empty without trailer settings, names a setting, follows an include, and changes with what it includes', () => {
    const repo = makeRepo();
    const common = path.join(repo.dir, '.git');
    const base = trailerConfigText(common);
    expect(base).not.toBeNull();
    expect(base).not.toContain('trailer');
    repo.git(['config', 'trailer.separators', ':#']);
    const set = trailerConfigText(common)!;
    expect(set).toMatch(/separators = "?:#/);
    // an include whose file sets trailer.<token>.key: its lines are part of it, and a change there changes it
    const extra = path.join(repo.dir, 'extra.gitconfig');
    fs.writeFileSync(extra, '[trailer "tid"]\n\tkey = Task-Id\n');
    repo.git(['config', 'include.path', extra]);
    const included = trailerConfigText(common)!;
    expect(included).toContain('key = Task-Id');
    fs.writeFileSync(extra, '[trailer "tid"]\n\tkey = Task\n');
    expect(trailerConfigText(common)).not.toBe(included);
    // git itself reads the same settings
    expect(repo.git(['config', '--get-regexp', '^trailer\\.']).trim().split('\n').sort()).toEqual(['trailer.separators :#', 'trailer.tid.key Task'].sort());
  });

  it('is null for an onbranch include that sets trailers (true on some branches only), and for a file it cannot read', () => {
    const repo = makeRepo();
    const common = path.join(repo.dir, '.git');
    const extra = path.join(repo.dir, 'branchy.gitconfig');
    fs.writeFileSync(extra, '[trailer]\n\tseparators = :#\n');
    repo.git(['config', 'includeIf.onbranch:main.path', extra]);
    expect(trailerConfigText(common)).toBeNull();
    fs.writeFileSync(extra, '[user]\n\tname = x\n');
    expect(trailerConfigText(common)).not.toBeNull();
    if (process.getuid?.() !== 0) {
      fs.chmodSync(extra, 0);
      expect(trailerConfigText(common)).toBeNull();
    }
  });
});

describe('property: random setups, the files and git agree', () => {
  // each step changes the repository the way a user or git would; after every run all contracts are checked
  const step = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom('origin', 'upstream', 'fork', 'a/b') }),
    fc.record({ kind: fc.constant('rm' as const), name: fc.constantFrom('origin', 'upstream') }),
    fc.record({ kind: fc.constant('empty-section' as const), name: fc.constantFrom('origin', 'upstream') }),
    fc.record({ kind: fc.constant('rename-branch' as const), to: fc.constantFrom('main', 'master', 'trunk') }),
    fc.constant({ kind: 'pack' as const }),
    fc.record({ kind: fc.constant('remote-head' as const), name: fc.constantFrom('origin', 'upstream'), to: fc.constantFrom('main', 'dev') }),
    fc.record({ kind: fc.constant('global' as const), name: fc.constantFrom('origin', 'upstream') }),
    fc.record({ kind: fc.constant('prune' as const), name: fc.constantFrom('origin', 'upstream'), to: fc.constantFrom('main', 'dev') }),
    fc.constant({ kind: 'main-dir' as const }),
  );
  type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

  function apply(repo: TestRepo, global: string, s: Step): void {
    const has = (name: string) => repo.gitRun(['remote']).stdout.split('\n').includes(name);
    switch (s.kind) {
      case 'add':
        if (!has(s.name)) repo.git(['remote', 'add', s.name, '/nowhere']);
        break;
      case 'rm':
        if (has(s.name)) repo.git(['remote', 'remove', s.name]);
        break;
      case 'empty-section':
        appendConfig(repo, `[remote "${s.name}"]\n`);
        break;
      case 'rename-branch': {
        const current = repo.git(['branch', '--show-current']).trim();
        // a branch under the new name's path (main/x, from main-dir) makes git refuse the rename: nothing to check
        const blocked = repo.gitRun(['for-each-ref', '--format=%(refname)', `refs/heads/${s.to}/`]).stdout.trim() !== '';
        if (current !== s.to && !blocked) repo.git(['branch', '-q', '-M', current, s.to]);
        break;
      }
      case 'pack':
        repo.git(['pack-refs', '--all']);
        break;
      case 'remote-head': {
        // a fetched remote branch and the remote's HEAD naming it
        repo.git(['update-ref', `refs/remotes/${s.name}/${s.to}`, 'HEAD']);
        repo.git(['symbolic-ref', `refs/remotes/${s.name}/HEAD`, `refs/remotes/${s.name}/${s.to}`]);
        break;
      }
      case 'prune':
        // the remote branch its HEAD may name is gone
        repo.gitRun(['update-ref', '-d', `refs/remotes/${s.name}/${s.to}`]);
        break;
      case 'main-dir':
        // a branch main/x: fails while main exists, makes refs/heads/main a directory otherwise
        repo.gitRun(['branch', 'main/x']);
        break;
      case 'global':
        fs.appendFileSync(global, `[remote "${s.name}"]\n\turl = /g\n`);
        break;
    }
  }

  it('agree after any sequence of remote, branch, pack and remote-HEAD changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
        const repo = makeRepo();
        const global = path.join(tempDir(), 'gitconfig');
        fs.writeFileSync(global, '');
        setEnv({ GIT_CONFIG_GLOBAL: global });
        for (const s of steps) apply(repo, global, s);
        await agreesWithGit(repo);
      }),
      { numRuns: 30 },
    );
  });
});
