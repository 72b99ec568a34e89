/** Exit codes, documented in README.md ("Exit codes"). Only src/cli.ts turns them into process.exitCode. */
export const ExitCode = {
  /** success */
  ok: 0,
  /** the check said no: verify failed, land refused, a hook rejected a commit */
  refused: 1,
  /** bad usage or input: unknown command or option, invalid task id, config or repository state */
  usage: 2,
  /** lost a race or met a conflict: someone else moved a ref first, a file is in the way */
  conflict: 3,
  /** internal error: a bug in omni-ship or an unexpected git failure */
  internal: 70,
  /** no answer yet, try again (sysexits' EX_TEMPFAIL): a verify timed out, was killed or could not run its steps */
  indeterminate: 75,
  /** stopped by Ctrl-C (SIGINT) or SIGTERM, after leaving everything consistent (`run`): 128 + SIGINT */
  interrupted: 130,
} as const;

/** One of the documented exit codes. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can act on: printed as `omni-ship: <message>` plus an optional hint, never with a stack. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.usage,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Shorthand for a refusal of bad input (exit 2). */
export function badInput(message: string, hint?: string): UserError {
  return new UserError(message, ExitCode.usage, hint);
}

/**
 * A JavaScript config that a hook or background process would have to execute, though no omni-ship command the
 * user ran has executed this version of it in this clone (it may have arrived with a merge). Exit 2.
 */
export class UntrustedConfigError extends UserError {
  constructor(readonly file: string) {
    super(
      `${file}: not loaded: this config is JavaScript, which executes code, and no omni-ship command has run this version of it in this clone`,
      ExitCode.usage,
      'review it, then run any omni-ship command to load it (e.g. npx omni-ship config)',
    );
    this.name = 'UntrustedConfigError';
  }
}
