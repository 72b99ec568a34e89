import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigJson, ConfigValueJson } from '../../src/commands/config.js';
import { binDir, head, installedRepo, message, settleDrainers, snapshot } from '../helpers/hooks.js';
import { cleanupAll, makeRemote, makeRepo, projectRoot, run, tempDir, testEnv, wrapRepo, type TestRepo } from '../helpers/repo.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

/** The fixed defaults, exactly as `omni-ship config --json` reports them. */
const FIXED_DEFAULTS = {
  taskPattern: { value: '^t-[0-9]+(\\.[0-9]+)*$', source: 'default', detail: 'default' },
  branchPattern: { value: '(^|/)t-[0-9]+(\\.[0-9]+)*($|[-_/])', source: 'default', detail: 'default' },
  trailerKey: { value: 'Task-Id', source: 'default', detail: 'default' },
  requireTaskId: { value: false, source: 'default', detail: 'default' },
  verify: {
    value: { steps: [], skipExitCode: 125, onCommit: true, concurrency: 1, keep: [], cacheKey: null, shareOutput: false, timeout: 1800, pruneAfterDays: 14 },
    source: 'default',
    detail: 'default',
  },
  land: {
    value: { allowSkip: false, trustRemoteResults: false, requireApproval: false, recordOrigin: false, maxAttempts: 5, batchSize: 8, postVerify: null },
    source: 'default',
    detail: 'default',
  },
  worktree: { value: { dir: null, linkDirs: [] }, source: 'default', detail: 'default' },
  agent: { value: { command: null, commands: {}, costFrom: null }, source: 'default', detail: 'default' },
} satisfies Partial<ConfigJson['values']>;

/** Every default in a repository with branch main and no remote. */
const DEFAULTS_MAIN_NO_REMOTE: ConfigJson['values'] = {
  baseBranch: { value: 'main', source: 'default', detail: 'default: branch main exists' },
  remote: { value: null, source: 'default', detail: 'default: no remote' },
  ...FIXED_DEFAULTS,
};

/** What `config --json` adds when nothing is ignored and nothing looks wrong. */
const QUIET = { ignored: [], warnings: [] };

/** A value that came from `file`. */
const fromFile = (value: ConfigValueJson["value"], file: string): ConfigValueJson => ({ value, source: 'file', detail: file });

/** A new repository in `dir` (made if missing) on `branch` with one commit, set up as makeRepo sets up its own. */
function repoAt(dir: string, branch = 'main'): TestRepo {
  fs.mkdirSync(dir, { recursive: true });
  const repo = wrapRepo(dir);
  repo.git(['init', '-q', `--initial-branch=${branch}`]);
  repo.git(['config', 'user.name', 'Test Author']);
  repo.git(['config', 'user.email', 'author@example.com']);
  repo.git(['config', 'commit.gpgsign', 'false']);
  repo.git(['config', 'gc.auto', '0']);
  repo.write('README', 'hello\n');
  repo.git(['add', 'README']);
  repo.git(['commit', '-q', '-m', 'initial']);
  return repo;
}

/** Runs `omni-ship [pre…] config --json` and fails the test unless it succeeded quietly. */
function configJson(repo: TestRepo, opts: { pre?: readonly string[]; cwd?: string } = {}): ConfigJson {
  const r = repo.omni([...(opts.pre ?? []), 'config', '--json'], { cwd: opts.cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ConfigJson;
}

const SETTINGS = { trailerKey: 'Change-Task', requireTaskId: true };
const JSON_TEXT = `${JSON.stringify(SETTINGS)}\n`;
const YAML_TEXT = 'trailerKey: Change-Task\nrequireTaskId: true\n';
const CJS_TEXT = "module.exports = { trailerKey: 'Change-Task', requireTaskId: true };\n";
const ESM_TEXT = "export default { trailerKey: 'Change-Task', requireTaskId: true };\n";

describe('config discovery: every file name cosmiconfig is set up to find', () => {
  // a temp repository has no package.json, so a .js file there is CommonJS
  it.each([
    ['.omni-shiprc holding JSON', '.omni-shiprc', JSON_TEXT],
    ['.omni-shiprc holding YAML', '.omni-shiprc', YAML_TEXT],
    ['.omni-shiprc.json', '.omni-shiprc.json', JSON_TEXT],
    ['.omni-shiprc.yaml', '.omni-shiprc.yaml', YAML_TEXT],
    ['.omni-shiprc.yml', '.omni-shiprc.yml', YAML_TEXT],
    ['.omni-shiprc.js', '.omni-shiprc.js', CJS_TEXT],
    ['.omni-shiprc.mjs', '.omni-shiprc.mjs', ESM_TEXT],
    ['.omni-shiprc.cjs', '.omni-shiprc.cjs', CJS_TEXT],
    ['omni-ship.config.js', 'omni-ship.config.js', CJS_TEXT],
    ['omni-ship.config.mjs', 'omni-ship.config.mjs', ESM_TEXT],
    ['omni-ship.config.cjs', 'omni-ship.config.cjs', CJS_TEXT],
    ['package.json key omni-ship', 'package.json', `${JSON.stringify({ name: 'demo', private: true, 'omni-ship': SETTINGS })}\n`],
  ])('%s is found and its values reported with the file as their source', (_label, name, content) => {
    const repo = makeRepo();
    repo.write(name, content);
    const file = path.join(repo.dir, name);
    expect(configJson(repo)).toEqual({
      ...QUIET,
      file,
      values: { ...DEFAULTS_MAIN_NO_REMOTE, trailerKey: fromFile('Change-Task', file), requireTaskId: fromFile(true, file) },
    });
  });

  it.each(['.omni-shiprc.js', 'omni-ship.config.js'])('%s with export default in a "type": "module" project is found', (name) => {
    const repo = makeRepo();
    // a package.json without an omni-ship key is no config: the search goes on to the next name
    repo.write('package.json', '{"name": "demo", "type": "module"}\n');
    repo.write(name, ESM_TEXT);
    const file = path.join(repo.dir, name);
    const out = configJson(repo);
    expect(out.file).toBe(file);
    expect(out.values.trailerKey).toEqual(fromFile('Change-Task', file));
    expect(out.values.requireTaskId).toEqual(fromFile(true, file));
  });
});

describe('config discovery: from a subdirectory up to the repository root, and no further', () => {
  it('a config at the root is found from a nested subdirectory, with -C and with the cwd there', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.json', '{"trailerKey": "Change-Task"}\n');
    // a workspace package.json on the way (no omni-ship key) does not stop the walk
    repo.write('sub/dir/package.json', '{"name": "workspace"}\n');
    fs.mkdirSync(path.join(repo.dir, 'sub', 'dir', 'deeper'));
    const file = path.join(repo.dir, '.omni-shiprc.json');
    const expected = { ...QUIET, file, values: { ...DEFAULTS_MAIN_NO_REMOTE, trailerKey: fromFile('Change-Task', file) } };
    expect(configJson(repo, { pre: ['-C', 'sub/dir/deeper'] })).toEqual(expected);
    expect(configJson(repo, { cwd: path.join(repo.dir, 'sub', 'dir', 'deeper') })).toEqual(expected);
    expect(configJson(repo, { pre: ['-C', 'sub', '-C', 'dir'] })).toEqual(expected);
  });

  it('one config per repository: a config file in a subdirectory is ignored, and config reports it with a hint', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.json', '{"trailerKey": "Root-Task"}\n');
    repo.write('sub/.omni-shiprc.yaml', 'trailerKey: Sub-Task\n');
    repo.write('sub/dir/package.json', '{"name": "workspace", "omni-ship": {"trailerKey": "Pkg-Task"}}\n');
    fs.mkdirSync(path.join(repo.dir, 'sub', 'dir', 'deeper'));
    const sub = path.join(repo.dir, 'sub', '.omni-shiprc.yaml');
    const pkg = path.join(repo.dir, 'sub', 'dir', 'package.json');
    const root = path.join(repo.dir, '.omni-shiprc.json');
    const r = repo.omni(['-C', 'sub/dir/deeper', 'config', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ConfigJson;
    expect(out.file).toBe(root);
    expect(out.values.trailerKey).toEqual(fromFile('Root-Task', root));
    // nearest first, as a walk up from the cwd meets them
    expect(out.ignored).toEqual([pkg, sub]);
    const hint = `hint: move its settings to ${root}, the one config of this repository, and delete it`;
    const pkgHint = `hint: move its settings to ${root}, the one config of this repository, and remove its "omni-ship" key`;
    expect(out.warnings).toEqual([
      { kind: 'ignored-config', file: pkg, message: `ignored ${pkg}: omni-ship reads its config at the top of the work tree only`, hint: pkgHint.slice(6) },
      { kind: 'ignored-config', file: sub, message: `ignored ${sub}: omni-ship reads its config at the top of the work tree only`, hint: hint.slice(6) },
    ]);
    expect(r.stderr).toBe(
      `omni-ship: ignored ${pkg}: omni-ship reads its config at the top of the work tree only\n${pkgHint}\n` +
        `omni-ship: ignored ${sub}: omni-ship reads its config at the top of the work tree only\n${hint}\n`,
    );
    const text = repo.omni(['config'], { cwd: path.join(repo.dir, 'sub') });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`config file: ${root}`);
    expect(text.stdout).toMatch(/^trailerKey\s+Root-Task\s/m);
    expect(text.stderr).toBe(`omni-ship: ignored ${sub}: omni-ship reads its config at the top of the work tree only\n${hint}\n`);
    // the same answer from the root, where nothing is reported as ignored
    expect(configJson(repo)).toEqual({ ...out, ignored: [], warnings: [] });
    // trailer uses the root's key from anywhere
    expect(repo.omni(['trailer', 't-1'], { cwd: path.join(repo.dir, 'sub', 'dir') }).stdout).toBe('Root-Task: t-1\n');
  });

  it('without a root config, a subdirectory config is still ignored: every value is a default', () => {
    const repo = makeRepo();
    repo.write('sub/.omni-shiprc.json', '{"trailerKey": "Sub-Task"}\n');
    const r = repo.omni(['config', '--json'], { cwd: path.join(repo.dir, 'sub') });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ConfigJson;
    expect(out.file).toBeNull();
    expect(out.values).toEqual(DEFAULTS_MAIN_NO_REMOTE);
    expect(out.ignored).toEqual([path.join(repo.dir, 'sub', '.omni-shiprc.json')]);
    expect(r.stderr).toContain('hint: move its settings to a config file at the top of the work tree (omni-ship init writes one), and delete it');
  });

  it('a JavaScript config in a subdirectory is never run, not even by a foreground command there', () => {
    const repo = makeRepo();
    const marker = path.join(tempDir('omni-ship-marker-'), 'ran');
    repo.write('sub/.omni-shiprc.cjs', `require('fs').appendFileSync(${JSON.stringify(marker)}, 'x');\nmodule.exports = { trailerKey: 'Sub-Task' };\n`);
    const r = repo.omni(['config', '--json'], { cwd: path.join(repo.dir, 'sub') });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as ConfigJson).values.trailerKey.value).toBe('Task-Id');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('status gives the same answer from a subdirectory holding its own config as from the root', () => {
    const repo = makeRepo();
    repo.git(['commit', '-q', '--allow-empty', '-m', 'landed work', '-m', 'Task-Id: t-1']);
    repo.git(['switch', '-q', '-c', 't-2']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'in flight', '-m', 'Task-Id: t-2']);
    repo.git(['switch', '-q', 'main']);
    // a subdirectory config that would change the trailer key and the base branch
    repo.write('sub/.omni-shiprc.yaml', 'trailerKey: Other-Key\nbaseBranch: t-2\n');
    const status = (cwd: string) => {
      const r = repo.omni(['status', '--json'], { cwd, env: testEnv({ OMNI_SHIP_NO_CACHE: '1' }) });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { base: string; counts: Record<string, number> };
    };
    const fromRoot = status(repo.dir);
    expect(fromRoot.base).toBe('main');
    expect(fromRoot.counts).toMatchObject({ landed: 1, 'in-progress': 1 });
    expect(status(path.join(repo.dir, 'sub'))).toEqual(fromRoot);
  });

  it('config files above the repository root are ignored: every value is a default', () => {
    const outer = tempDir('omni-ship-outer-');
    fs.writeFileSync(path.join(outer, '.omni-shiprc.json'), '{"trailerKey": "Outer-Task"}\n');
    fs.writeFileSync(path.join(outer, '.omni-shiprc'), 'trailerKey: Outer-Task\n');
    fs.writeFileSync(path.join(outer, 'package.json'), '{"name": "outer", "omni-ship": {"trailerKey": "Outer-Task"}}\n');
    fs.writeFileSync(path.join(outer, 'omni-ship.config.cjs'), "module.exports = { trailerKey: 'Outer-Task' };\n");
    const repo = repoAt(path.join(outer, 'repo'));
    fs.mkdirSync(path.join(repo.dir, 'sub', 'dir'), { recursive: true });
    const expected = { ...QUIET, file: null, values: DEFAULTS_MAIN_NO_REMOTE };
    expect(configJson(repo)).toEqual(expected);
    expect(configJson(repo, { pre: ['-C', 'sub/dir'] })).toEqual(expected);
    expect(configJson(repo, { cwd: path.join(repo.dir, 'sub') })).toEqual(expected);
    // the files are there and would be read: the same file inside the repository is found
    fs.copyFileSync(path.join(outer, '.omni-shiprc.json'), path.join(repo.dir, '.omni-shiprc.json'));
    expect(configJson(repo, { pre: ['-C', 'sub/dir'] }).values.trailerKey).toEqual(fromFile('Outer-Task', path.join(repo.dir, '.omni-shiprc.json')));
  });
});

describe('config discovery: an invalid config names the file and the key, and nothing is written', () => {
  it.each([
    ['a wrong type', '.omni-shiprc.json', '{"requireTaskId": "yes"}\n', `'requireTaskId' must be true or false, not the string "yes"`, null],
    ['an unknown key', '.omni-shiprc.json', '{"trailerkey": "x"}\n', "unknown key 'trailerkey'", 'known keys: baseBranch, remote, taskPattern, branchPattern, trailerKey, requireTaskId'],
    ['a wrong type in YAML', '.omni-shiprc.yaml', 'requireTaskId: yes-please\n', `'requireTaskId' must be true or false, not the string "yes-please"`, null],
    ['a wrong type in package.json', 'package.json', '{"name": "demo", "omni-ship": {"requireTaskId": "yes"}}\n', `'requireTaskId' must be true or false`, null],
  ])('%s (%s): config and install-hooks exit 2', (_label, name, content, problem, hint) => {
    const repo = makeRepo();
    repo.write(name, content);
    const file = path.join(repo.dir, name);
    const gitDir = path.join(repo.dir, '.git');
    const before = snapshot(gitDir);
    for (const args of [['config', '--json'], ['config'], ['install-hooks'], ['install-hooks', '--json']]) {
      const r = repo.omni(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      const lines = r.stderr.split('\n');
      expect(lines[0], args.join(' ')).toMatch(new RegExp(`^omni-ship: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(lines[0], args.join(' ')).toContain(problem);
      if (hint) expect(r.stderr).toContain(`hint: ${hint}`);
    }
    // from a subdirectory too: the message names the root file
    fs.mkdirSync(path.join(repo.dir, 'sub'));
    const sub = repo.omni(['-C', 'sub', 'config', '--json']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain(`${file}: `);
    // nothing written: no hook, no install record, no hook settings, not a byte of .git changed
    expect(fs.existsSync(path.join(gitDir, 'omni-ship'))).toBe(false);
    expect(fs.existsSync(path.join(gitDir, 'hooks', 'commit-msg'))).toBe(false);
    expect(snapshot(gitDir)).toEqual(before);
    expect(repo.read(name)).toBe(content);
  });
});

describe('config discovery: a config file that cannot be parsed names the line and column', () => {
  it.each([
    ['.omni-shiprc (YAML)', '.omni-shiprc', 'trailerKey: Task\n  requireTaskId: true\n', 'YAML', 'bad indentation of a mapping entry', 2, 16],
    ['.omni-shiprc.yaml', '.omni-shiprc.yaml', 'requireTaskId: true\ntrailerKey: Task: x\n', 'YAML', 'bad indentation of a mapping entry', 2, 17],
    ['.omni-shiprc.yml', '.omni-shiprc.yml', 'trailerKey: [Task\nrequireTaskId: true\n', 'YAML', 'missed comma between flow collection entries', 2, 1],
    ['.omni-shiprc.json (a trailing comma)', '.omni-shiprc.json', '{\n  "trailerKey": "Task",\n}\n', 'JSON', "expected a property name in double quotes, found '}'", 3, 1],
    ['a broken package.json (a missing comma)', 'package.json', '{\n  "name": "demo"\n  "omni-ship": {"trailerKey": "Task"}\n}\n', 'JSON', `expected ',' or '}' after a property value, found '"'`, 3, 3],
    ['.omni-shiprc.json cut short', '.omni-shiprc.json', '{\n  "trailerKey": "Task"', 'JSON', 'unexpected end of the file', 2, 23],
  ])('%s: config and install-hooks exit 2 naming file, line and column; nothing is written', (_label, name, content, format, reason, line, column) => {
    const repo = makeRepo();
    repo.write(name, content);
    const file = path.join(repo.dir, name);
    const gitDir = path.join(repo.dir, '.git');
    const before = snapshot(gitDir);
    for (const args of [['config', '--json'], ['install-hooks'], ['status']]) {
      const r = repo.omni(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toBe(
        `omni-ship: ${file}: cannot parse the config (${format}): ${reason} at line ${line}, column ${column}\n` +
          `hint: fix ${file}:${line}:${column}, then check it with: omni-ship config\n`,
      );
    }
    expect(snapshot(gitDir)).toEqual(before);
    expect(repo.read(name)).toBe(content);
  });
});

describe('config discovery: the defaults of baseBranch and remote', () => {
  /** A bare repository whose HEAD is trunk, holding one commit on trunk. */
  function trunkRemote(): string {
    const bare = path.join(tempDir('omni-ship-remote-'), 'remote.git');
    expect(run('git', ['init', '-q', '--bare', '--initial-branch=trunk', bare], { cwd: path.dirname(bare) }).code).toBe(0);
    const seed = makeRepo();
    seed.git(['push', '-q', bare, 'HEAD:refs/heads/trunk']);
    return bare;
  }

  /** A clone of `bare`, with local identity. */
  function cloneOf(bare: string): TestRepo {
    const dir = path.join(tempDir('omni-ship-clone-'), 'clone');
    const r = run('git', ['clone', '-q', bare, dir], { cwd: path.dirname(dir) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return wrapRepo(dir);
  }

  it("in a clone, baseBranch is the remote's HEAD (trunk), even with a local main, and remote is origin", () => {
    const clone = cloneOf(trunkRemote());
    expect(clone.git(['symbolic-ref', 'refs/remotes/origin/HEAD']).trim()).toBe('refs/remotes/origin/trunk');
    // a local main must not win over the remote's HEAD
    clone.git(['branch', 'main']);
    const out = configJson(clone);
    expect(out).toEqual({
      ...QUIET,
      file: null,
      values: {
        ...FIXED_DEFAULTS,
        baseBranch: { value: 'trunk', source: 'default', detail: 'default: origin/HEAD' },
        remote: { value: 'origin', source: 'default', detail: 'default: origin exists' },
      },
    });
  });

  it('a repository with only master: baseBranch master, remote null', () => {
    const repo = repoAt(tempDir(), 'master');
    expect(configJson(repo)).toEqual({
      ...QUIET,
      file: null,
      values: { ...DEFAULTS_MAIN_NO_REMOTE, baseBranch: { value: 'master', source: 'default', detail: 'default: branch master exists' } },
    });
  });

  it('a repository with main: baseBranch main, remote null; with main and master, still main', () => {
    const repo = makeRepo();
    expect(configJson(repo)).toEqual({ ...QUIET, file: null, values: DEFAULTS_MAIN_NO_REMOTE });
    repo.git(['branch', 'master']);
    expect(configJson(repo)).toEqual({ ...QUIET, file: null, values: DEFAULTS_MAIN_NO_REMOTE });
  });

  it("a remote not named origin is not the default: remote null, and its HEAD is not the base branch", () => {
    const bare = trunkRemote();
    const repo = repoAt(tempDir(), 'master');
    repo.git(['remote', 'add', 'upstream', bare]);
    repo.git(['fetch', '-q', 'upstream']);
    repo.git(['remote', 'set-head', 'upstream', 'trunk']);
    expect(configJson(repo)).toEqual({
      ...QUIET,
      file: null,
      values: {
        ...FIXED_DEFAULTS,
        baseBranch: { value: 'master', source: 'default', detail: 'default: branch master exists' },
        remote: { value: null, source: 'default', detail: 'default: no remote named origin (have upstream)' },
      },
    });
    // naming the remote in the config makes its HEAD the default base branch
    repo.write('.omni-shiprc.json', '{"remote": "upstream"}\n');
    const file = path.join(repo.dir, '.omni-shiprc.json');
    expect(configJson(repo)).toEqual({
      ...QUIET,
      file,
      values: {
        ...FIXED_DEFAULTS,
        baseBranch: { value: 'trunk', source: 'default', detail: 'default: upstream/HEAD' },
        remote: fromFile('upstream', file),
      },
    });
  });
});

describe('config discovery: a baseBranch that does not exist', () => {
  it('config warns on stderr and in --json, naming the branch and the refs it looked for; exit 0', () => {
    const clone = makeRemote().clone();
    clone.write('.omni-shiprc.json', '{"baseBranch": "mian"}\n');
    const file = path.join(clone.dir, '.omni-shiprc.json');
    const message = "baseBranch 'mian' does not exist: found neither refs/heads/mian nor refs/remotes/origin/mian";
    const hint = `fix the name in ${file}, or fetch the branch (git fetch origin mian)`;
    const r = clone.omni(['config', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`omni-ship: ${message}\nhint: ${hint}\n`);
    const out = JSON.parse(r.stdout) as ConfigJson;
    expect(out.values.baseBranch).toEqual(fromFile('mian', file));
    expect(out.warnings).toEqual([{ kind: 'missing-base-branch', branch: 'mian', looked: ['refs/heads/mian', 'refs/remotes/origin/mian'], message, hint }]);
    const text = clone.omni(['config']);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe(`omni-ship: ${message}\nhint: ${hint}\n`);
    expect(text.stdout).toMatch(/^baseBranch\s+mian\s/m);
  });

  it('without a remote it looks for the local branch only', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.yaml', 'baseBranch: develop\n');
    const r = repo.omni(['config', '--json']);
    expect(r.code).toBe(0);
    const file = path.join(repo.dir, '.omni-shiprc.yaml');
    expect(r.stderr).toBe(
      `omni-ship: baseBranch 'develop' does not exist: found no refs/heads/develop\nhint: fix the name in ${file}, or create the branch (git branch develop)\n`,
    );
    expect((JSON.parse(r.stdout) as ConfigJson).warnings[0]).toMatchObject({ kind: 'missing-base-branch', branch: 'develop', looked: ['refs/heads/develop'] });
  });

  it('a base branch that exists only as a remote-tracking branch, or only locally, is no warning', () => {
    const remote = makeRemote();
    const other = remote.clone();
    other.git(['push', '-q', 'origin', 'HEAD:refs/heads/develop']);
    const clone = remote.clone();
    clone.write('.omni-shiprc.json', '{"baseBranch": "develop"}\n');
    expect(clone.git(['branch', '--list', 'develop'])).toBe('');
    expect(configJson(clone).warnings).toEqual([]);
    const local = makeRepo();
    local.git(['branch', 'develop']);
    local.write('.omni-shiprc.json', '{"baseBranch": "develop"}\n');
    expect(configJson(local).warnings).toEqual([]);
  });
});

describe('config discovery: the commit-msg hook without node on PATH picks up a config change', () => {
  it('after the config file changes, the next commit gets the new trailer key, through node by its absolute path', () => {
    const repo = installedRepo((r) => r.write('.omni-shiprc.json', '{"trailerKey": "Task-Id"}\n'));
    repo.git(['switch', '-q', '-c', 't-3']);
    const bin = binDir(['git', 'sh', 'awk', 'mv', 'rm', 'mkdir', 'cat', 'cp', 'mktemp']);
    const home = tempDir('omni-ship-home-');
    const env = ['-i', `HOME=${home}`, `PATH=${bin}`, 'GIT_CONFIG_NOSYSTEM=1'];
    expect(run('/usr/bin/env', [...env, 'sh', '-c', 'command -v node'], { cwd: repo.dir }).code).not.toBe(0);
    const commit = (msg: string) => {
      const r = run('/usr/bin/env', [...env, 'git', 'commit', '-q', '--allow-empty', '-m', msg], { cwd: repo.dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return message(repo);
    };
    const cache = path.join(repo.dir, '.git', 'omni-ship', 'hook-config.sh');
    /** Writes the config file so that it is newer than the hook settings cache, as an edit after install is. */
    const editConfig = (name: string, content: string) => {
      repo.write(name, content);
      const cached = fs.statSync(cache).mtimeMs;
      const file = path.join(repo.dir, name);
      // a file system with coarse timestamps could give both the same mtime
      if (fs.statSync(file).mtimeMs <= cached) fs.utimesSync(file, new Date(cached + 2000), new Date(cached + 2000));
    };

    // the branch's task is remembered after this one: the next one-line commit takes the fast path
    expect(commit('before')).toBe('before\n\nTask-Id: t-3\n');
    editConfig('.omni-shiprc.json', '{"trailerKey": "Change-Task"}\n');
    expect(commit('after the change')).toBe('after the change\n\nChange-Task: t-3\n');
    expect(fs.readFileSync(cache, 'utf8')).toContain("OS_KEY='Change-Task'");
    expect(commit('and the next one')).toBe('and the next one\n\nChange-Task: t-3\n');
    // a message with a body (the slow path, through git interpret-trailers) too
    const before = head(repo);
    expect(run('/usr/bin/env', [...env, 'git', 'commit', '-q', '--allow-empty', '-m', 'subject', '-m', 'body'], { cwd: repo.dir }).code).toBe(0);
    expect(head(repo)).not.toBe(before);
    expect(message(repo)).toBe('subject\n\nbody\n\nChange-Task: t-3\n');

    // a new file with a name searched before .omni-shiprc.json takes over
    editConfig('.omni-shiprc', 'trailerKey: Rc-Task\n');
    expect(commit('rc file')).toBe('rc file\n\nRc-Task: t-3\n');
    // and removing it goes back to the next file
    fs.rmSync(path.join(repo.dir, '.omni-shiprc'));
    expect(commit('rc gone')).toBe('rc gone\n\nChange-Task: t-3\n');
  });

  it('a config file written after install, where there was none, is picked up without node on PATH', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-3']);
    const bin = binDir(['git', 'sh', 'awk', 'mv', 'rm', 'mkdir', 'cat', 'cp', 'mktemp']);
    const env = ['-i', `HOME=${tempDir('omni-ship-home-')}`, `PATH=${bin}`, 'GIT_CONFIG_NOSYSTEM=1'];
    const commit = (msg: string) => {
      const r = run('/usr/bin/env', [...env, 'git', 'commit', '-q', '--allow-empty', '-m', msg], { cwd: repo.dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return message(repo);
    };
    expect(commit('before')).toBe('before\n\nTask-Id: t-3\n');
    const cache = path.join(repo.dir, '.git', 'omni-ship', 'hook-config.sh');
    const cached = fs.statSync(cache).mtimeMs;
    repo.write('.omni-shiprc.json', '{"trailerKey": "Change-Task"}\n');
    const file = path.join(repo.dir, '.omni-shiprc.json');
    if (fs.statSync(file).mtimeMs <= cached) fs.utimesSync(file, new Date(cached + 2000), new Date(cached + 2000));
    expect(commit('after')).toBe('after\n\nChange-Task: t-3\n');
  });
});

describe('config discovery: omni-ship init', () => {
  const template = fs.readFileSync(path.join(projectRoot, 'templates', 'omni-shiprc.yaml'), 'utf8');

  it('init writes the template; config then names that file and reports every value as a default', () => {
    const repo = makeRepo();
    const file = path.join(repo.dir, '.omni-shiprc.yaml');
    const r = repo.omni(['init', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file, written: true, content: template });
    expect(repo.read('.omni-shiprc.yaml')).toBe(template);
    expect(configJson(repo)).toEqual({ ...QUIET, file, values: DEFAULTS_MAIN_NO_REMOTE });
    // and from a subdirectory
    fs.mkdirSync(path.join(repo.dir, 'sub'));
    expect(configJson(repo, { pre: ['-C', 'sub'] })).toEqual({ ...QUIET, file, values: DEFAULTS_MAIN_NO_REMOTE });
    // a second init refuses and leaves the file alone
    const again = repo.omni(['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`a config already exists: ${file}`);
    expect(repo.read('.omni-shiprc.yaml')).toBe(template);
  });

  it('every key the template shows commented out holds its real default: uncommented, the values do not change', () => {
    const clone = makeRemote().clone();
    const r = clone.omni(['init']);
    expect(r.code).toBe(0);
    const defaults = configJson(clone);
    const file = path.join(clone.dir, '.omni-shiprc.yaml');
    expect(defaults.values.baseBranch).toEqual({ value: 'main', source: 'default', detail: 'default: origin/HEAD' });
    expect(defaults.values.remote).toEqual({ value: 'origin', source: 'default', detail: 'default: origin exists' });
    const keys = Object.keys(defaults.values);
    const seen: string[] = [];
    const uncommented = template.replace(/^# ([A-Za-z]+): (.*)$/gm, (line, key: string, value: string) => {
      if (!keys.includes(key)) return line;
      seen.push(key);
      return `${key}: ${value}`;
    });
    expect(seen.sort()).toEqual([...keys].sort());
    clone.write('.omni-shiprc.yaml', uncommented);
    const set = configJson(clone);
    expect(set.file).toBe(file);
    for (const key of keys as (keyof ConfigJson['values'])[]) {
      expect(set.values[key], key).toEqual(fromFile(defaults.values[key].value, file));
    }
  });
});
