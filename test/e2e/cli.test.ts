import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshot } from '../helpers/hooks.js';
import { binPath, cleanupAll, makeRepo, omniShip, projectRoot, run, tempDir, testEnv } from '../helpers/repo.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

afterAll(cleanupAll);

const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
const COMMANDS = ['install-hooks', 'uninstall-hooks', 'trailer', 'config', 'init', 'status', 'show', 'review', 'patchset', 'sync', 'cleanup-branches', 'task', 'worktree'];
const CONFIG_KEYS = ['baseBranch', 'remote', 'taskPattern', 'branchPattern', 'trailerKey', 'requireTaskId', 'verify', 'land', 'worktree', 'agent'];

interface ConfigJson {
  file: string | null;
  values: Record<string, { value: unknown; source: string; detail: string }>;
}

describe('omni-ship (the built bin)', () => {
  it('--version prints the package.json version', () => {
    const dir = tempDir();
    for (const flag of ['--version', '-V']) {
      const r = omniShip([flag], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });

  it('--help lists every command, with examples and exit codes', () => {
    const r = omniShip(['--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    // the internal hook command stays out of the list
    expect(r.stdout).not.toMatch(/^ {2}hook\b/m);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('Exit codes:');
  });

  it('a reader that stops early (`status | head -c 1`): no error, exit 0, for every command that prints', () => {
    // more than a pipe holds (64 KiB), so the write is still under way when the reader goes
    const repo = makeRepo();
    const base = repo.git(['rev-parse', 'HEAD']).trim();
    repo.git(['update-ref', '--stdin'], { input: Array.from({ length: 400 }, (_, i) => `create refs/heads/t-${i + 1} ${base}\n`).join('') });
    for (const cmd of ['status --all --json', 'status --all', 'show t-1 --json']) {
      const r = run('bash', ['-c', `set -o pipefail; ${q(process.execPath)} ${q(binPath)} ${cmd} | head -c 1 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], { cwd: repo.dir, env: testEnv() });
      expect(r.stderr, cmd).toBe('exit 0\n');
    }
    expect(omniShip(['status', '--all', '--json'], { cwd: repo.dir }).stdout.length).toBeGreaterThan(64 * 1024);
  });

  it("a warm status that reads new loose objects loads neither node:zlib, its streams, nor node:crypto", () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-3']);
    const commit = (text: string) => {
      repo.write('w.txt', text);
      repo.git(['add', 'w.txt']);
      repo.git(['commit', '-q', '-m', `work\n\nTask-Id: t-3`]);
      const r = repo.omni(['hook', 'post-commit']);
      expect(r.code, r.stderr).toBe(0);
    };
    commit('one\n');
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const review = (verdict: string) => {
      const event = { v: 1, type: 'review', at: new Date().toISOString(), by: 'R <r@example.com>', host: 'h/0a1b2c3d', commit: head, message: null, task: 't-3', verdict };
      repo.git(['notes', '--ref=omni-ship/reviews', 'append', '-m', JSON.stringify(event), head]);
    };
    review('request-changes');
    expect(repo.omni(['status', '--json']).code).toBe(0);
    // another review, as a sync brings one: its notes commit, trees and blob are loose, read with no git (the trace
    // shows none)
    review('approve');
    const modules = path.join(tempDir(), 'modules.json');
    const hook = path.join(tempDir(), 'hook.cjs');
    fs.writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(modules)}, JSON.stringify(process.moduleLoadList)));\n`);
    const r = run(process.execPath, ['--require', hook, binPath, 'status', '--json'], { cwd: repo.dir, env: testEnv({ OMNI_SHIP_TRACE_GIT: '1' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const task = (JSON.parse(r.stdout) as { tasks: { id: string; review: { verdict: string } | null }[] }).tasks.find((t) => t.id === 't-3');
    expect(task?.review?.verdict).toBe('approve');
    const loaded = JSON.parse(fs.readFileSync(modules, 'utf8')) as string[];
    expect(loaded).toContain('NativeModule vm');
    for (const m of ['zlib', 'stream', 'crypto', 'child_process']) expect(loaded, m).not.toContain(`NativeModule ${m}`);
  });

  it("a subcommand's usage errors name the subcommand whose --help applies (task add), exit 2, nothing written", () => {
    const repo = makeRepo();
    const before = repo.git(['for-each-ref']);
    const r = omniShip(['task', 'add', 't-1', '--titel', 'x'], { cwd: repo.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("omni-ship: unknown option '--titel'\nhint: did you mean --title? (omni-ship task add --help lists its options)\n");
    const help = omniShip(['task', '--help'], { cwd: repo.dir });
    for (const sub of ['add', 'edit', 'list', 'show', 'comment', 'close', 'reopen']) expect(help.stdout).toMatch(new RegExp(`^  ${sub}\\b`, 'm'));
    expect(repo.git(['for-each-ref'])).toBe(before);
  });

  it('no arguments: usage on stderr, exit 2', () => {
    const r = omniShip([], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: omni-ship');
  });

  it.each(COMMANDS)('%s --help has examples', (command) => {
    const r = omniShip([command, '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: omni-ship ${command}`);
    expect(r.stdout).toMatch(/\nExamples:\n {2}\$ /);
  });

  it('an unknown command exits 2 as "omni-ship: …" with the suggestion as the hint; nothing is written', () => {
    const repo = makeRepo();
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['instal-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("omni-ship: unknown command 'instal-hooks'\nhint: did you mean install-hooks? (omni-ship --help lists the commands)\n");
    expect(r.stdout).toBe('');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
    const far = repo.omni(['frobnicate']);
    expect(far.code).toBe(2);
    expect(far.stderr).toBe("omni-ship: unknown command 'frobnicate'\nhint: omni-ship --help lists the commands\n");
  });

  it('an unknown option exits 2 in the same form, naming the command whose help lists the options; nothing is written', () => {
    const repo = makeRepo();
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks', '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("omni-ship: unknown option '--force'\nhint: omni-ship install-hooks --help lists its options\n");
    expect(r.stdout).toBe('');
    const near = repo.omni(['install-hooks', '--dry-rn']);
    expect(near.code).toBe(2);
    expect(near.stderr).toBe("omni-ship: unknown option '--dry-rn'\nhint: did you mean --dry-run? (omni-ship install-hooks --help lists its options)\n");
    const global = repo.omni(['--verbose', 'status']);
    expect(global.code).toBe(2);
    expect(global.stderr).toBe("omni-ship: unknown option '--verbose'\nhint: omni-ship --help lists its options\n");
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it.each([
    [['show'], "missing required argument 'task'", 'omni-ship show --help shows how to call it'],
    [['trailer', 't-1', 't-2'], "too many arguments for 'trailer': expected 1 argument but got 2", 'omni-ship trailer --help shows how to call it'],
    [['-C'], "option '-C <path>' argument missing", 'omni-ship --help shows how to call it'],
    [['status', '--state'], "option '--state <state>' argument missing", 'omni-ship status --help shows how to call it'],
  ])('usage error %j: exit 2, "omni-ship: …" and a hint, nothing on stdout', (args, problem, hint) => {
    const r = omniShip(args, { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`omni-ship: ${problem}\nhint: ${hint}\n`);
  });
});

describe('omni-ship trailer', () => {
  it('prints the canonical trailer, lower-cased, also as JSON, inside or outside a repository', () => {
    for (const cwd of [tempDir(), makeRepo().dir]) {
      const json = omniShip(['trailer', 'T-565.2', '--json'], { cwd });
      expect(json.code).toBe(0);
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout)).toEqual({ taskId: 't-565.2', trailer: 'Task-Id: t-565.2' });
      const text = omniShip(['trailer', 't-7'], { cwd });
      expect(text.code).toBe(0);
      expect(text.stdout).toBe('Task-Id: t-7\n');
    }
  });

  it('uses the repository’s trailerKey', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.json', '{"trailerKey": "Task"}\n');
    expect(repo.omni(['trailer', 't-1']).stdout).toBe('Task: t-1\n');
  });

  it.each(['bad', 't-5;rm -rf /', 't-', ''])('rejects %j with exit 2', (task) => {
    const r = omniShip(['trailer', task], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${JSON.stringify(task)} is not a valid task id`);
    expect(r.stderr).toContain('hint: a task id matches');
  });
});

describe('-C <path>', () => {
  it('runs as if started there, each -C relative to the one before, like git', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.yaml', 'trailerKey: Ticket\n');
    const elsewhere = tempDir();
    const once = omniShip(['-C', repo.dir, 'config', '--json'], { cwd: elsewhere });
    expect(once.code).toBe(0);
    expect((JSON.parse(once.stdout) as ConfigJson).file).toBe(path.join(repo.dir, '.omni-shiprc.yaml'));
    const chained = omniShip(['-C', path.dirname(repo.dir), '-C', path.basename(repo.dir), 'trailer', 't-3'], { cwd: elsewhere });
    expect(chained.code).toBe(0);
    expect(chained.stdout).toBe('Ticket: t-3\n');
  });

  it('installs hooks in the -C repository', () => {
    const repo = makeRepo();
    const r = omniShip(['-C', repo.dir, 'install-hooks'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'hooks', 'commit-msg'))).toBe(true);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
  });

  it('a missing directory exits 2', () => {
    const dir = tempDir();
    const r = omniShip(['-C', 'no-such-dir', 'install-hooks'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot change to 'no-such-dir'");
    expect(r.stdout).toBe('');
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('omni-ship config', () => {
  it('--json: every key with value, source and detail; YAML file values have source "file"', () => {
    const repo = makeRepo();
    const file = path.join(repo.dir, '.omni-shiprc.yaml');
    repo.write('.omni-shiprc.yaml', '# team settings\ntrailerKey: Ticket\nrequireTaskId: true\n');
    const r = repo.omni(['config', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout) as ConfigJson;
    expect(Object.keys(data).sort()).toEqual(['file', 'ignored', 'values', 'warnings']);
    expect(data.file).toBe(file);
    expect(Object.keys(data.values).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const key of CONFIG_KEYS) expect(Object.keys(data.values[key]!).sort(), key).toEqual(['detail', 'source', 'value']);
    expect(data.values.trailerKey).toEqual({ value: 'Ticket', source: 'file', detail: file });
    expect(data.values.requireTaskId).toEqual({ value: true, source: 'file', detail: file });
    expect(data.values.taskPattern).toEqual({ value: '^t-[0-9]+(\\.[0-9]+)*$', source: 'default', detail: 'default' });
    expect(data.values.baseBranch).toEqual({ value: 'main', source: 'default', detail: 'default: branch main exists' });
    expect(data.values.remote).toEqual({ value: null, source: 'default', detail: 'default: no remote' });
  });

  it('--json: the "omni-ship" key of package.json', () => {
    const repo = makeRepo();
    const file = path.join(repo.dir, 'package.json');
    repo.write('package.json', JSON.stringify({ name: 'x', version: '1.0.0', 'omni-ship': { baseBranch: 'develop', remote: null } }));
    const data = JSON.parse(repo.omni(['config', '--json']).stdout) as ConfigJson;
    expect(data.file).toBe(file);
    expect(data.values.baseBranch).toEqual({ value: 'develop', source: 'file', detail: file });
    expect(data.values.remote).toEqual({ value: null, source: 'file', detail: file });
    expect(data.values.trailerKey!.source).toBe('default');
  });

  it('a package.json without an "omni-ship" key is not a config file', () => {
    const repo = makeRepo();
    repo.write('package.json', '{"name": "x"}\n');
    const data = JSON.parse(repo.omni(['config', '--json']).stdout) as ConfigJson;
    expect(data.file).toBeNull();
    for (const key of CONFIG_KEYS) expect(data.values[key]!.source, key).toBe('default');
  });

  it('the default remote is origin when it exists', () => {
    const repo = makeRepo();
    repo.git(['remote', 'add', 'origin', tempDir()]);
    const data = JSON.parse(repo.omni(['config', '--json']).stdout) as ConfigJson;
    expect(data.values.remote).toEqual({ value: 'origin', source: 'default', detail: 'default: origin exists' });
  });

  it('agent: argv lists from a data file; a JavaScript config that sets it is refused (exit 2), as verify and land are', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo.dir, '.omni-shiprc.json'), JSON.stringify({ agent: { command: ['claude', '-p', '{promptFile}'], costFrom: 'cost' } }));
    const r = omniShip(['config', '--json'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ConfigJson).values.agent).toEqual({ value: { command: ['claude', '-p', '{promptFile}'], commands: {}, costFrom: 'cost' }, source: 'file', detail: path.join(repo.dir, '.omni-shiprc.json') });
    fs.writeFileSync(path.join(repo.dir, '.omni-shiprc.json'), JSON.stringify({ agent: { command: 'claude -p x' } }));
    const bad = omniShip(['config'], { cwd: repo.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'agent' command must be a list of arguments \(the program first\), not the string "claude -p x": it runs with no shell/);
    fs.rmSync(path.join(repo.dir, '.omni-shiprc.json'));
    fs.writeFileSync(path.join(repo.dir, '.omni-shiprc.cjs'), "module.exports = { agent: { command: ['sh', '-c', 'true'] } };\n");
    const js = omniShip(['config'], { cwd: repo.dir });
    expect(js.code).toBe(2);
    expect(js.stderr).toContain("sets 'agent', which decides what may land or what the pipeline runs; omni-ship reads that only from a data file");
  });

  it('plain text names the file and each value', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.yaml', 'trailerKey: Ticket\n');
    const r = repo.omni(['config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`config file: ${path.join(repo.dir, '.omni-shiprc.yaml')}`);
    expect(r.stdout).toMatch(/^trailerKey\s+Ticket\s+\(\.omni-shiprc\.yaml\)$/m);
  });

  it('an invalid config exits 2 naming the file and the key', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.yaml', 'requireTaskId: yes please\n');
    const r = repo.omni(['config', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(path.join(repo.dir, '.omni-shiprc.yaml'));
    expect(r.stderr).toContain("'requireTaskId' must be true or false");
  });
});

describe('omni-ship init', () => {
  it('writes .omni-shiprc.yaml from the template; the result loads with every value a default', () => {
    const repo = makeRepo();
    const file = path.join(repo.dir, '.omni-shiprc.yaml');
    const r = repo.omni(['init', '--json']);
    expect(r.code).toBe(0);
    const template = fs.readFileSync(path.join(projectRoot, 'templates', 'omni-shiprc.yaml'), 'utf8');
    expect(JSON.parse(r.stdout)).toEqual({ file, written: true, content: template });
    expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(path.join(projectRoot, 'templates', 'omni-shiprc.yaml'), 'utf8'));
    const data = JSON.parse(repo.omni(['config', '--json']).stdout) as ConfigJson;
    expect(data.file).toBe(file);
    for (const key of CONFIG_KEYS) expect(data.values[key]!.source, key).toBe('default');
  });

  it('the template’s commented-out values are the defaults', () => {
    const repo = makeRepo();
    expect(repo.omni(['init']).code).toBe(0);
    const template = repo.read('.omni-shiprc.yaml');
    const uncommented = template.replace(/^# (\w+: .*)$/gm, '$1');
    expect(uncommented).not.toBe(template);
    repo.write('.omni-shiprc.yaml', uncommented);
    const r = repo.omni(['config', '--json']);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout) as ConfigJson;
    for (const key of CONFIG_KEYS) {
      if (key === 'remote') continue; // "origin" is the default only when origin exists
      expect(data.values[key]!.source, key).toBe('file');
    }
    const defaults = JSON.parse(makeRepo().omni(['config', '--json']).stdout) as ConfigJson;
    for (const key of ['baseBranch', 'taskPattern', 'branchPattern', 'trailerKey', 'requireTaskId']) {
      expect(data.values[key]!.value, key).toEqual(defaults.values[key]!.value);
    }
  });

  it('a second init refuses with exit 2 and leaves the file alone', () => {
    const repo = makeRepo();
    expect(repo.omni(['init']).code).toBe(0);
    repo.write('.omni-shiprc.yaml', 'trailerKey: Mine\n');
    const r = repo.omni(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`a config already exists: ${path.join(repo.dir, '.omni-shiprc.yaml')}`);
    expect(r.stdout).toBe('');
    expect(repo.read('.omni-shiprc.yaml')).toBe('trailerKey: Mine\n');
  });

  it('refuses when another config file exists, writing nothing', () => {
    const repo = makeRepo();
    repo.write('package.json', '{"omni-ship": {}}\n');
    const r = repo.omni(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('package.json');
    expect(fs.existsSync(path.join(repo.dir, '.omni-shiprc.yaml'))).toBe(false);
  });

  it('--dry-run prints the file and writes nothing', () => {
    const repo = makeRepo();
    const r = repo.omni(['init', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# trailerKey: Task-Id');
    expect(fs.existsSync(path.join(repo.dir, '.omni-shiprc.yaml'))).toBe(false);
  });

  it('--dry-run --json includes the content it would write; writes nothing', () => {
    const repo = makeRepo();
    const before = snapshot(repo.dir);
    const r = repo.omni(['init', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const template = fs.readFileSync(path.join(projectRoot, 'templates', 'omni-shiprc.yaml'), 'utf8');
    expect(JSON.parse(r.stdout)).toEqual({ file: path.join(repo.dir, '.omni-shiprc.yaml'), written: false, content: template });
    expect(snapshot(repo.dir)).toEqual(before);
  });

  it('--dry-run refuses as the real run would when a config exists (exit 2), writing nothing', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.json', '{}\n');
    const before = snapshot(repo.dir);
    const r = repo.omni(['init', '--dry-run', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`a config already exists: ${path.join(repo.dir, '.omni-shiprc.json')}`);
    expect(snapshot(repo.dir)).toEqual(before);
  });
});

describe('run from inside .git', () => {
  it('says to run from the work tree (exit 2) and writes nothing', () => {
    const repo = makeRepo();
    const before = fs.readdirSync(path.join(repo.dir, '.git', 'hooks')).sort();
    const r = repo.omni(['install-hooks'], { cwd: path.join(repo.dir, '.git') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('inside the git directory');
    expect(r.stderr).toContain('work tree');
    expect(fs.readdirSync(path.join(repo.dir, '.git', 'hooks')).sort()).toEqual(before);
  });
});

describe('omni-ship patchset', () => {
  it('a task the repository does not know exits 2 with the message show gives; nothing is written', () => {
    const repo = makeRepo();
    const show = repo.omni(['show', 't-404']);
    expect(show.code).toBe(2);
    // show may have filled the read caches; the refusal adds nothing
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['patchset', 't-404']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("omni-ship: no task t-404 here: no branch, trailer or note names it\nhint: omni-ship status lists the tasks this repository knows\n");
    expect(r.stderr).toBe(show.stderr);
    expect(repo.omni(['patchset', 't-404', '--json']).code).toBe(2);
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('a known task without patchsets yet (a branch with no commit) still prints its count, 0', () => {
    const repo = makeRepo();
    repo.git(['branch', 't-5']);
    const r = repo.omni(['patchset', 't-5', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ taskId: 't-5', patchsetCount: 0, incremented: false, trailer: 'Task-Id: t-5' });
  });
});
