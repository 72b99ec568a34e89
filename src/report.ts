import { ExitCode, UserError } from './errors.js';
import { GitError } from './git/exec.js';
import type { CommandOutput } from './output.js';

/** Prints a command's output (its warnings to stderr; its JSON or text to stdout) and sets the exit code. */
export function print(json: boolean, out: CommandOutput): void {
  for (const w of out.warnings ?? []) process.stderr.write(`omni-ship: ${w}\n`);
  if (json) process.stdout.write(out.jsonText ?? `${JSON.stringify(out.data, null, 2)}\n`);
  else if (out.text) process.stdout.write(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
  process.exitCode = out.exitCode ?? ExitCode.ok;
}

/** Reports an error on stderr the way every command does; returns the exit code it calls for. */
export function report(error: unknown): number {
  if (error instanceof UserError) {
    process.stderr.write(`omni-ship: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (error instanceof GitError) {
    process.stderr.write(`omni-ship: ${error.message}\n`);
    return ExitCode.internal;
  }
  const e = error as Error;
  process.stderr.write(`omni-ship: internal error: ${e?.message ?? String(error)}\n`);
  if (process.env.OMNI_SHIP_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return ExitCode.internal;
}
