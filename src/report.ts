import fs from 'node:fs';
import { ExitCode, UserError } from './errors.js';
import { GitError } from './git/exec.js';
import type { CommandOutput } from './output.js';

/** Prints a command's output (its warnings to stderr; its JSON or text to stdout) and sets the exit code. */
export function print(json: boolean, out: CommandOutput): void {
  for (const w of out.warnings ?? []) writeOut(2, `omni-ship: ${w}\n`);
  if (json) writeOut(1, out.jsonText ?? `${JSON.stringify(out.data, null, 2)}\n`);
  else if (out.text) writeOut(1, out.text.endsWith('\n') ? out.text : `${out.text}\n`);
  process.exitCode = out.exitCode ?? ExitCode.ok;
}

let pause: Int32Array | undefined;

/**
 * Writes all of `data` to stdout (1) or stderr (2) with plain writes, as Node's own streams write on Linux to a file,
 * a terminal or a pipe: at once, in order with them. Not through process.stdout: building it for a pipe loads net
 * and a socket (≈ 1.5 ms of a `status`). A descriptor left non-blocking by whoever shares it (EAGAIN) is waited
 * for; a reader that went away (EPIPE: `status | head -1`), or no descriptor at all (EBADF), ends the writing
 * quietly, and the answer is false (a command that keeps printing stops). Elsewhere (where Node writes to pipes
 * asynchronously) through the stream.
 */
export function writeOut(fd: 1 | 2, data: string | Uint8Array): boolean {
  const stream = fd === 1 ? 'stdout' : 'stderr';
  if (process.platform !== 'linux') {
    process[stream].write(data);
    return true;
  }
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let at = 0; at < bytes.length; ) {
    try {
      at += fs.writeSync(fd, bytes, at, bytes.length - at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EBADF') return false;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
    }
  }
  return true;
}

/** Reports an error on stderr the way every command does; returns the exit code it calls for. */
export function report(error: unknown): number {
  if (error instanceof UserError) {
    writeOut(2, `omni-ship: ${error.message}\n`);
    if (error.hint) writeOut(2, `hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (error instanceof GitError) {
    writeOut(2, `omni-ship: ${error.message}\n`);
    return ExitCode.internal;
  }
  const e = error as Error;
  writeOut(2, `omni-ship: internal error: ${e?.message ?? String(error)}\n`);
  if (process.env.OMNI_SHIP_DEBUG && e?.stack) writeOut(2, `${e.stack}\n`);
  return ExitCode.internal;
}
