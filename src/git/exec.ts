import { createRequire } from 'node:module';
import { clearKilledWritersLocks, clearKilledWritersLocksAsync, registerWriter, subcommand, writesRefs } from './stale-lock.js';

let childProcessModule: typeof import('node:child_process') | undefined;

/**
 * node:child_process, loaded when git is first run (≈ 1.2 ms of start-up): a status whose answer the machine-local
 * caches and the loose objects settle runs no git, and need not load it.
 */
export function childProcess(): typeof import('node:child_process') {
  return (childProcessModule ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process'));
}

/** A git command that failed: carries the arguments, exit code and stderr for the message. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    const first = stderr.trim().split('\n')[0] ?? '';
    super(`git ${args.join(' ')} failed (exit ${exitCode ?? 'signal'})${first ? `: ${first}` : ''}`);
    this.name = 'GitError';
  }
}

/** Options common to every git call: the working directory is always explicit. */
export interface GitOptions {
  cwd: string;
  /** bytes written to git's stdin */
  input?: string | Buffer;
  /** extra environment; merged over process.env */
  env?: Record<string, string | undefined>;
  /** exit codes that are answers rather than failures (e.g. 1 for "not found") */
  okCodes?: readonly number[];
  /** also copy git's stderr to this process's stderr as it comes (git's own transfer progress; gitAsync only) */
  teeStderr?: boolean;
}

/** The outcome of a git call whose exit code the caller interprets. */
export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function environment(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv | undefined {
  if (!extra) return undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * OMNI_SHIP_TRACE_GIT=1 prints each git command to stderr as it starts (`[git] <args>`); `=time` also prints, as
 * it ends, when it started (ms since this process began) and how long it took. Returns the end's printer.
 */
export function trace(args: readonly string[]): (() => void) | undefined {
  const mode = process.env.OMNI_SHIP_TRACE_GIT;
  if (!mode) return undefined;
  process.stderr.write(`[git] ${args.join(' ')}\n`);
  if (mode !== 'time') return undefined;
  const start = performance.now();
  return () => process.stderr.write(`[git-time] +${start.toFixed(0)} ms, ${(performance.now() - start).toFixed(1)} ms: ${args.slice(0, 3).join(' ')}\n`);
}

/**
 * Runs git synchronously and returns its exit code and output. This is the one place that spawns git
 * (node:child_process directly: execa costs ~90 ms to import, see STACK.md).
 */
export function gitRun(args: readonly string[], opts: GitOptions): GitResult {
  const r = gitRunBuffer(args, opts);
  return { stdout: r.stdout.toString('utf8'), stderr: r.stderr, exitCode: r.exitCode };
}

/** The outcome of a git call whose stdout is bytes (a commit object or message that need not be UTF-8). */
export interface GitBufferResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/** Runs git synchronously like gitRun, with stdout kept as bytes: decoding it as UTF-8 would change a non-UTF-8 message. */
export function gitRunBuffer(args: readonly string[], opts: GitOptions): GitBufferResult {
  const writes = writesRefs(args);
  if (writes) registerWriter(opts.cwd, gitDirEnv(opts));
  for (let attempt = 0; ; attempt++) {
    const r = gitRunBufferOnce(args, opts);
    // a ref lock a killed omni-ship left: removed, and the command run again (see stale-lock.ts)
    if (!writes || !r.stderr.includes('File exists') || !clearKilledWritersLocks(r.stderr)) return r;
    if (!rerunAfterLock(args, r.exitCode, attempt)) return r;
  }
}

/** Whether a git call that met a killed writer's lock (now removed) runs again: not a push, nor a call that succeeded. */
function rerunAfterLock(args: readonly string[], exitCode: number, attempt: number): boolean {
  return exitCode !== 0 && attempt < 3 && subcommand(args) !== 'push';
}

function gitDirEnv(opts: GitOptions): string | undefined {
  return opts.env && 'GIT_DIR' in opts.env ? opts.env.GIT_DIR : process.env.GIT_DIR;
}

function gitRunBufferOnce(args: readonly string[], opts: GitOptions): GitBufferResult {
  const done = trace(args);
  const r = childProcess().spawnSync('git', args, {
    cwd: opts.cwd,
    input: opts.input,
    env: environment(opts.env),
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  done?.();
  if (r.error) throw new GitError(args, null, String(r.error.message));
  return { stdout: r.stdout, stderr: r.stderr.toString('utf8'), exitCode: r.status ?? 128 };
}

/** Runs git and returns stdout; throws GitError unless the exit code is 0 or listed in okCodes. */
export function git(args: readonly string[], opts: GitOptions): string {
  const r = gitRun(args, opts);
  if (r.exitCode !== 0 && !(opts.okCodes ?? []).includes(r.exitCode)) {
    throw new GitError(args, r.exitCode, r.stderr, r.stdout);
  }
  return r.stdout;
}

/** Runs git asynchronously (for network operations that may take a while); resolves with the result. */
export async function gitAsync(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const writes = writesRefs(args);
  if (writes) registerWriter(opts.cwd, gitDirEnv(opts));
  for (let attempt = 0; ; attempt++) {
    const r = await gitAsyncOnce(args, opts);
    if (!writes || !r.stderr.includes('File exists') || !(await clearKilledWritersLocksAsync(r.stderr))) return r;
    if (!rerunAfterLock(args, r.exitCode, attempt)) return r;
  }
}

function gitAsyncOnce(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const done = trace(args);
  return new Promise((resolve, reject) => {
    const hasInput = opts.input !== undefined;
    const child = childProcess().spawn('git', args, { cwd: opts.cwd, env: environment(opts.env), stdio: [hasInput ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.on('close', () => done?.());
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.teeStderr) process.stderr.write(d);
    });
    child.on('error', (e) => reject(new GitError(args, null, e.message)));
    child.on('close', (code) => resolve({ stdout, stderr, exitCode: code ?? 128 }));
    if (hasInput) {
      child.stdin!.on('error', () => {}); // git may exit before reading all input (EPIPE): the exit code tells
      child.stdin!.end(opts.input);
    }
  });
}

/**
 * Variables git sets for hooks that would point a nested git at the wrong repository or index
 * (`git rev-parse --local-env-vars` on git 2.39). Background hook processes clear them first.
 */
export const GIT_LOCAL_ENV_VARS = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CONFIG',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_OBJECT_DIRECTORY',
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_GRAFT_FILE',
  'GIT_INDEX_FILE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE',
  'GIT_PREFIX',
  'GIT_INTERNAL_SUPER_PREFIX',
  'GIT_SHALLOW_FILE',
  'GIT_COMMON_DIR',
] as const;

/** Removes git's repository-local variables from this process's environment. */
export function clearGitLocalEnv(): void {
  for (const name of GIT_LOCAL_ENV_VARS) delete process.env[name];
}

/** Runs git asynchronously and returns stdout as a Buffer (binary-safe; for cat-file --batch and friends). */
export function gitAsyncBuffer(args: readonly string[], opts: GitOptions): Promise<Buffer> {
  const done = trace(args);
  return new Promise((resolve, reject) => {
    const hasInput = opts.input !== undefined;
    const child = childProcess().spawn('git', args, { cwd: opts.cwd, env: environment(opts.env), stdio: [hasInput ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.on('close', () => done?.());
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => chunks.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(new GitError(args, null, e.message)));
    child.on('close', (code) => {
      if (code !== 0 && !(opts.okCodes ?? []).includes(code ?? 128)) reject(new GitError(args, code, stderr));
      else resolve(Buffer.concat(chunks));
    });
    if (hasInput) {
      child.stdin!.on('error', () => {}); // git may exit before reading all input (EPIPE): the exit code tells
      child.stdin!.end(opts.input);
    }
  });
}
