import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot, testEnv } from './repo.js';

/** The built module `dist/<rel>` as a file URL, for a child process to import (test/setup.ts builds dist first). */
export function distModule(rel: string): string {
  return 'file://' + path.join(projectRoot, 'dist', rel);
}

/** A node child running an ESM script; lines it prints are collected in `lines`. */
export interface NodeChild {
  proc: ChildProcess;
  lines: string[];
  /** resolves with the first printed line that satisfies `match` */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** resolves when the child has exited */
  exited: Promise<void>;
}

const started: ChildProcess[] = [];

/** Starts `node --input-type=module -e script`; the child is killed by killChildren() if still running. */
export function nodeChild(script: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): NodeChild {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: opts.cwd ?? os.tmpdir(),
    env: opts.env ?? testEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(proc);
  const follow = followLines(proc, (line) => line);
  return { proc, lines: follow.items, exited: follow.exited, waitForLine: follow.waitFor };
}

/** What followLines gives: the parsed lines so far, a wait for one, the exit, the stderr so far. */
export interface Followed<T> {
  items: T[];
  waitFor(match: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  exited: Promise<void>;
  stderr(): string;
}

/** Follows a child's stdout line by line (each `parse`d; null: skipped), so a test can wait for one. */
export function followLines<T>(proc: ChildProcess, parse: (line: string) => T | null): Followed<T> {
  const items: T[] = [];
  let stderr = '';
  let buf = '';
  const waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const item = parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (item === null) continue;
      items.push(item);
      for (const w of [...waiters]) if (w.match(item)) w.resolve(item);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return {
    items,
    exited,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 60_000) {
      const found = items.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed no matching line; stdout: ${JSON.stringify(items)}; stderr: ${stderr}`)), timeoutMs);
        void exited.then(() => setTimeout(() => reject(new Error(`child exited (${proc.exitCode}) without a matching line; stdout: ${JSON.stringify(items)}; stderr: ${stderr}`)), 100));
        waiters.push({
          match,
          resolve: (item) => {
            clearTimeout(timer);
            resolve(item);
          },
        });
      });
    },
  };
}

/** SIGKILLs every child started by nodeChild that still runs (call from afterEach/afterAll). */
export function killChildren(): void {
  while (started.length) {
    const p = started.pop()!;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

/** The live (not zombie) processes whose process group is `pgid`, from /proc. */
export function liveGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** True while `pid` runs and is not a zombie. */
export function pidLive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
