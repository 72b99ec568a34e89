import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout; tests must never touch it. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI, spawned exactly as a user would. */
export const binPath = path.join(projectRoot, 'bin', 'omni-ship.js');

/** The outcome of a spawned process. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Spawns a program; never throws on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): RunResult {
  const spawnOpts: SpawnSyncOptions = { cwd: opts.cwd, env: opts.env ?? testEnv(), input: opts.input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 };
  const r = spawnSync(cmd, args, spawnOpts);
  if (r.error) throw r.error;
  return { stdout: String(r.stdout), stderr: String(r.stderr), code: r.status ?? 128 };
}

/** An environment without the caller's git and omni-ship variables, so tests are not steered by the shell they run in. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k.startsWith('OMNI_SHIP_') || k === 'NO_COLOR' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  // no global or system config: a developer's ~/.gitconfig must not change results
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_CONFIG_GLOBAL = '/dev/null';
  env.GIT_AUTHOR_NAME = 'Test Author';
  env.GIT_AUTHOR_EMAIL = 'author@example.com';
  env.GIT_COMMITTER_NAME = 'Test Author';
  env.GIT_COMMITTER_EMAIL = 'author@example.com';
  return { ...env, ...extra };
}

/** Runs the built omni-ship binary. */
export function omniShip(args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): RunResult {
  return run(process.execPath, [binPath, ...args], opts);
}

/** A temporary git repository. */
export interface TestRepo {
  dir: string;
  /** runs git in the repository; throws with stderr on failure */
  git(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string }): string;
  /** runs git and returns the whole result, whatever the exit code */
  gitRun(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string }): RunResult;
  /** runs omni-ship in the repository */
  omni(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string }): RunResult;
  /** writes a file relative to the repository */
  write(file: string, content: string): void;
  read(file: string): string;
}

const made: string[] = [];

/** A fresh temp directory, removed by cleanupAll(). */
export function tempDir(prefix = 'omni-ship-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  if (dir.startsWith(projectRoot)) throw new Error('refusing to make a test repository inside the project checkout');
  made.push(dir);
  return dir;
}

/** Removes every temp directory made so far (call from afterAll). */
export function cleanupAll(): void {
  while (made.length) fs.rmSync(made.pop()!, { recursive: true, force: true });
}

/** Wraps an existing directory as a TestRepo. */
export function wrapRepo(dir: string): TestRepo {
  if (path.resolve(dir).startsWith(projectRoot + path.sep) || path.resolve(dir) === projectRoot) {
    throw new Error('refusing to run tests in the project checkout');
  }
  const gitRun = (args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}) =>
    run('git', args, { cwd: opts.cwd ?? dir, env: opts.env ?? testEnv(), input: opts.input });
  return {
    dir,
    gitRun,
    git(args, opts = {}) {
      const r = gitRun(args, opts);
      if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    omni(args, opts = {}) {
      return omniShip(args, { cwd: opts.cwd ?? dir, env: opts.env, input: opts.input });
    },
    write(file, content) {
      const p = path.join(dir, file);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    },
    read(file) {
      return fs.readFileSync(path.join(dir, file), 'utf8');
    },
  };
}

/** Sets the local config every test repository gets. */
function configure(repo: TestRepo): void {
  repo.git(['config', 'user.name', 'Test Author']);
  repo.git(['config', 'user.email', 'author@example.com']);
  repo.git(['config', 'commit.gpgsign', 'false']);
  repo.git(['config', 'gc.auto', '0']);
}

/** A new repository on branch main with one initial commit. */
export function makeRepo(opts: { initialCommit?: boolean } = {}): TestRepo {
  const dir = tempDir();
  const repo = wrapRepo(dir);
  repo.git(['init', '-q', '--initial-branch=main']);
  configure(repo);
  if (opts.initialCommit !== false) {
    repo.write('README', 'hello\n');
    repo.git(['add', 'README']);
    repo.git(['commit', '-q', '-m', 'initial']);
  }
  return repo;
}

/** A bare repository standing in for a remote, seeded with one commit on main. */
export function makeRemote(): { bare: string; clone(name?: string): TestRepo } {
  const seed = makeRepo();
  const bare = path.join(tempDir('omni-ship-remote-'), 'remote.git');
  run('git', ['clone', '-q', '--bare', seed.dir, bare], { cwd: seed.dir });
  let n = 0;
  return {
    bare,
    clone(name = `clone${++n}`) {
      const dir = path.join(tempDir('omni-ship-clone-'), name);
      const r = run('git', ['clone', '-q', bare, dir], { cwd: path.dirname(dir) });
      if (r.code !== 0) throw new Error(r.stderr);
      const repo = wrapRepo(dir);
      configure(repo);
      return repo;
    },
  };
}

/** Polls until `check` returns true or the timeout passes; returns whether it did. */
export async function waitFor(check: () => boolean, timeoutMs = 60_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** Waits until no omni-ship drainer for this repository is alive (its spool is empty and drain.pid is gone). */
export async function waitForDrain(repo: TestRepo, timeoutMs = 120_000): Promise<boolean> {
  const dir = path.join(repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim(), 'omni-ship');
  return waitFor(() => {
    const spool = path.join(dir, 'spool');
    const pending = fs.existsSync(spool) ? fs.readdirSync(spool).length : 0;
    return pending === 0 && !fs.existsSync(path.join(dir, 'drain.pid')) && !fs.existsSync(path.join(dir, 'drain.starting'));
  }, timeoutMs);
}
