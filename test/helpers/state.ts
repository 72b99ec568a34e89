import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { binPath, makeRepo, testEnv, type RunResult, type TestRepo } from './repo.js';

/** omni-ship's notes refs, as the design names them. */
export const NOTES = {
  patchsets: 'refs/notes/omni-ship/patchsets',
  verify: 'refs/notes/omni-ship/verify',
  lands: 'refs/notes/omni-ship/lands',
  attempts: 'refs/notes/omni-ship/attempts',
  reviews: 'refs/notes/omni-ship/reviews',
} as const;

/** Spawns a program without blocking, so several can run at once; never rejects on a non-zero exit. */
export function runAsync(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 128 }));
  });
}

/** Runs the built omni-ship without blocking. */
export function omniAsync(cwd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return runAsync(process.execPath, [binPath, ...args], { cwd, env });
}

/** Parses a command's JSON output after checking it exited 0 (the message shows stderr when it did not). */
export function jsonOf<T = any>(r: RunResult): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Runs `omni-ship install-hooks` and checks it worked. */
export function installHooks(repo: TestRepo): void {
  const r = repo.omni(['install-hooks']);
  expect(r.code, r.stderr).toBe(0);
}

let counter = 0;

/** Changes a file and commits it on the current branch; returns the new commit. */
export function commitChange(repo: TestRepo, message: string, opts: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const file = opts.file ?? 'work.txt';
  const dir = opts.cwd ?? repo.dir;
  fs.writeFileSync(path.join(dir, file), `${message} ${++counter} ${process.pid}\n`);
  repo.git(['add', file], { cwd: dir, env: opts.env });
  repo.git(['commit', '-q', '-m', message], { cwd: dir, env: opts.env });
  return head(repo, dir);
}

/** The commit HEAD points at. */
export function head(repo: TestRepo, cwd = repo.dir, rev = 'HEAD'): string {
  return repo.git(['rev-parse', rev], { cwd }).trim();
}

/** The object id a ref points at, or null when it does not exist. */
export function refValue(repo: TestRepo, ref: string): string | null {
  const r = repo.gitRun(['rev-parse', '-q', '--verify', ref]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Every ref under `prefix` with the object it points at. */
export function refsUnder(repo: TestRepo | { dir: string; gitRun: TestRepo['gitRun'] }, prefix: string): Map<string, string> {
  const out = repo.gitRun(['for-each-ref', '--format=%(refname) %(objectname)', prefix]).stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, oid] = line.split(' ');
    if (name && oid) map.set(name, oid);
  }
  return map;
}

/**
 * The commits the kept ref (refs/omni-ship/kept) keeps reachable, read with git's own cat-file: each keeper's
 * parents after its first `keepers` (its `Omni-Ship-Keeper: generation <g>, keepers <k>` line), over every keeper.
 */
export function keptCommits(repo: TestRepo | { dir: string; gitRun: TestRepo['gitRun'] }, ref = 'refs/omni-ship/kept'): Set<string> {
  const kept = new Set<string>();
  const tip = repo.gitRun(['rev-parse', '-q', '--verify', ref]);
  if (tip.code !== 0) return kept;
  const seen = new Set<string>();
  const stack = [tip.stdout.trim()];
  while (stack.length) {
    const oid = stack.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    const body = repo.gitRun(['cat-file', 'commit', oid]).stdout;
    const parents = [...body.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
    const k = Number(/^Omni-Ship-Keeper: generation \d+, keepers (\d+)$/m.exec(body)?.[1] ?? NaN);
    if (!Number.isInteger(k)) throw new Error(`${oid} at ${ref} is no keeper:\n${body}`);
    stack.push(...parents.slice(0, k));
    for (const p of parents.slice(k)) kept.add(p);
  }
  return kept;
}

/** The text of every note in a notes ref, by annotated object, read with git's own notes commands. */
export function notesOf(repo: TestRepo, ref: string): Map<string, string> {
  const notes = new Map<string, string>();
  for (const line of repo.git(['notes', `--ref=${ref}`, 'list']).split('\n')) {
    const [, object] = line.split(' ');
    if (object) notes.set(object, repo.git(['notes', `--ref=${ref}`, 'show', object]));
  }
  return notes;
}

/** The note on one object, or null. */
export function noteOn(repo: TestRepo, ref: string, object: string): string | null {
  const r = repo.gitRun(['notes', `--ref=${ref}`, 'show', object]);
  return r.code === 0 ? r.stdout : null;
}

/** Every distinct JSON event line in a notes ref (a line copied to several notes counts once), parsed. */
export function eventsIn(repo: TestRepo, ref: string): Record<string, any>[] {
  const lines = new Set<string>();
  for (const text of notesOf(repo, ref).values()) for (const l of text.split('\n')) if (l.trim()) lines.add(l);
  return parseEventLines(lines);
}

/** The lines that parse as JSON, parsed (a line that does not is no event: skipped). */
export function parseEventLines(lines: Iterable<string>): Record<string, any>[] {
  const events: Record<string, any>[] = [];
  for (const l of lines) {
    try {
      events.push(JSON.parse(l) as Record<string, any>);
    } catch {
      /* not an event */
    }
  }
  return events;
}

/** A run and its stdout parsed as JSON (null when it is not: a usage error prints nothing there). */
export function withJson(r: RunResult): { r: RunResult; json: any } {
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = null;
  }
  return { r, json };
}

/** Patchset events in the repository, optionally for one task. */
export function patchsetEvents(repo: TestRepo, task?: string): Record<string, any>[] {
  return eventsIn(repo, NOTES.patchsets).filter((e) => e.type === 'patchset' && (!task || e.task === task));
}

/** `omni-ship status --json` (checked to exit 0). */
export function status(repo: TestRepo, args: string[] = []): { base: string; counts: Record<string, number>; listing: any; tasks: any[]; warnings: string[] } {
  // every task: the default lists only those in flight (and those landed in the last days), tested on its own
  return jsonOf(repo.omni(['status', '--json', '--all', ...args]));
}

/** One task of `omni-ship status --json`, or undefined. */
export function taskStatus(repo: TestRepo, id: string): any {
  return status(repo).tasks.find((t) => t.id === id);
}

/** A repository with branch `task` holding one commit that carries the task's trailer; no hooks. */
export function repoWithTask(task: string): { repo: TestRepo; commit: string } {
  const repo = makeRepo();
  repo.git(['switch', '-q', '-c', task]);
  const commit = commitChange(repo, `work on ${task}\n\nTask-Id: ${task}`);
  return { repo, commit };
}
