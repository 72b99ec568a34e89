import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { binPath, makeRemote, tempDir, testEnv, wrapRepo, type RunResult, type TestRepo } from './repo.js';
import { liveGroupMembers } from './children.js';
import { parseEventLines } from './state.js';

const ZERO = '0'.repeat(40);

/** A bare origin whose main commits `.omni-shiprc.json` (and `files`), and a maker of clones of it. */
export function originWith(config: Record<string, unknown>, files: Record<string, string> = {}): { bare: TestRepo; clone(name: string): TestRepo; tip: string } {
  const remote = makeRemote();
  const seed = remote.clone('seed');
  seed.write('.omni-shiprc.json', `${JSON.stringify(config, null, 2)}\n`);
  for (const [file, content] of Object.entries(files)) seed.write(file, content);
  seed.git(['add', '-A']);
  seed.git(['commit', '-q', '-m', 'omni-ship config']);
  seed.git(['push', '-q', 'origin', 'main']);
  return { bare: wrapRepo(remote.bare), clone: (name) => remote.clone(name), tip: seed.git(['rev-parse', 'HEAD']).trim() };
}

/**
 * A task commit `Task-Id: <task>` on `base` with `files` written, made with a private index, so the clone's work
 * tree, index and HEAD are not touched; `refs/heads/<task>` is created at it. Returns the commit.
 */
export function taskCommitOn(repo: TestRepo, task: string, base: string, files: Record<string, string>): string {
  const env = testEnv({ GIT_INDEX_FILE: path.join(tempDir('omni-ship-index-'), 'index') });
  repo.git(['read-tree', base], { env });
  for (const [file, content] of Object.entries(files)) {
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: content }).trim();
    repo.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], { env });
  }
  const tree = repo.git(['write-tree'], { env }).trim();
  const commit = repo.git(['commit-tree', tree, '-p', base], { input: `work on ${task}\n\nTask-Id: ${task}\n` }).trim();
  repo.git(['update-ref', `refs/heads/${task}`, commit, ZERO]);
  return commit;
}

/** `text` with its line `n` (1-based) replaced. */
export function withLine(text: string, n: number, line: string): string {
  const lines = text.split('\n');
  lines[n - 1] = line;
  return lines.join('\n');
}

/** Every commit reachable from `rev` that carries a Task-Id trailer, by task: the commits carrying it, newest first. */
export function trailerCommits(repo: TestRepo, rev: string): Map<string, string[]> {
  const out = repo.git(['log', '--format=%H%x1f%(trailers:key=Task-Id,valueonly,separator=%x1d)%x1e', rev, '--']);
  const byTask = new Map<string, string[]>();
  for (const record of out.split('\x1e')) {
    const [sha, values] = record.replace(/^\n+/, '').split('\x1f');
    if (!sha) continue;
    for (const v of (values ?? '').split('\x1d')) {
      const task = v.trim().toLowerCase();
      if (task) byTask.set(task, [...(byTask.get(task) ?? []), sha]);
    }
  }
  return byTask;
}

/** Every `*.lock` file under `<gitDir>/refs` (and the packed-refs lock), as paths relative to the git dir. */
export function refLocks(gitDir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock')) out.push(path.relative(gitDir, p));
    }
  };
  walk(path.join(gitDir, 'refs'));
  if (fs.existsSync(path.join(gitDir, 'packed-refs.lock'))) out.push('packed-refs.lock');
  return out;
}

/** The absolute common git dir of a clone. */
export function gitDirOf(repo: TestRepo): string {
  return repo.git(['rev-parse', '--path-format=absolute', '--git-common-dir']).trim();
}

/** What a clone's user sees of their checkout: HEAD, its branch, status (untracked too), the staged and unstaged diffs. */
export function checkoutSnapshot(repo: TestRepo): { head: string; branch: string; status: string; staged: string; unstaged: string } {
  return {
    head: repo.git(['rev-parse', 'HEAD']).trim(),
    branch: repo.gitRun(['symbolic-ref', '-q', 'HEAD']).stdout.trim(),
    status: repo.git(['status', '--porcelain=v1', '--untracked-files=all']),
    staged: repo.git(['diff', '--cached']),
    unstaged: repo.git(['diff']),
  };
}

/** An omni-ship run in a process group of its own, as a CI runner or a terminal job starts it. */
export interface GroupRun {
  proc: ChildProcess;
  /** the process group (the child's pid) */
  pgid: number;
  startedAt: number;
  /** resolves when the child is gone: its output, exit code (128 + n when killed by signal n), signal, and duration */
  done: Promise<RunResult & { signal: NodeJS.Signals | null; ms: number }>;
}

const groups: GroupRun[] = [];

/** Starts the built omni-ship detached (its own process group), so the whole group can be signalled. */
export function omniInGroup(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = testEnv()): GroupRun {
  const startedAt = Date.now();
  const proc = spawn(process.execPath, [binPath, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null; ms: number }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ stdout, stderr, code: code ?? 128, signal, ms: Date.now() - startedAt }));
  });
  const g = { proc, pgid: proc.pid!, startedAt, done };
  groups.push(g);
  return g;
}

/** Sends `signal` to a whole process group; false when the group is gone already. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every group omniInGroup started that still has a live member (call from afterEach). */
export function killGroups(): void {
  while (groups.length) {
    const g = groups.pop()!;
    if (liveGroupMembers(g.pgid).length) signalGroup(g.pgid, 'SIGKILL');
  }
}

/** The live processes whose command line mentions `text` (a bare repository's path: its receive-pack, upload-pack). */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) out.push(Number(e));
    } catch {
      /* exited meanwhile, or not ours */
    }
  }
  return out;
}

/** The value of `refs/heads/<branch>` in a bare repository, read from the file system (cheap enough to poll). */
export function bareBranch(bare: TestRepo, branch = 'main'): string | null {
  try {
    const v = fs.readFileSync(path.join(bare.dir, 'refs', 'heads', branch), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(v)) return v;
  } catch {
    /* packed, or mid-update */
  }
  const r = bare.gitRun(['rev-parse', '-q', '--verify', `refs/heads/${branch}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** A seeded pseudo-random generator (a failure can be replayed with the same seed). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 0x1000000;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every distinct JSON event line in a notes ref (a line copied to several notes counts once), parsed: the notes
 * listed by `git notes list` and read with one `git cat-file --batch`, whatever their number.
 */
export function noteEvents(repo: TestRepo, ref: string): Record<string, any>[] {
  const list = repo.gitRun(['notes', `--ref=${ref}`, 'list']);
  if (list.code !== 0) return [];
  const blobs = list.stdout.split('\n').map((l) => l.split(' ')[0]).filter((b): b is string => !!b);
  if (blobs.length === 0) return [];
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: repo.dir, env: testEnv(), input: `${blobs.join('\n')}\n`, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git cat-file --batch failed: ${String(r.stderr)}`);
  const out = r.stdout;
  const lines = new Set<string>();
  for (let at = 0; at < out.length; ) {
    const eol = out.indexOf(0x0a, at);
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isInteger(size)) throw new Error(`unexpected cat-file output: ${header.join(' ')}`);
    for (const l of out.subarray(eol + 1, eol + 1 + size).toString('utf8').split('\n')) if (l.trim()) lines.add(l);
    at = eol + 1 + size + 1;
  }
  return parseEventLines(lines);
}
