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
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.match(line)) w.resolve(line);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return {
    proc,
    lines,
    exited,
    waitForLine(match, timeoutMs = 60_000) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed no matching line; stdout: ${lines.join(' | ')}; stderr: ${stderr}`)), timeoutMs);
        exited.then(() => setTimeout(() => reject(new Error(`child exited (${proc.exitCode}) without a matching line; stderr: ${stderr}`)), 100));
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
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
