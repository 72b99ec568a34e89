// dist/errors.js
var ExitCode = {
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
  indeterminate: 75
};
var UserError = class extends Error {
  exitCode;
  hint;
  constructor(message, exitCode = ExitCode.usage, hint) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
    this.name = "UserError";
  }
};
function badInput(message, hint) {
  return new UserError(message, ExitCode.usage, hint);
}
var UntrustedConfigError = class extends UserError {
  file;
  constructor(file) {
    super(`${file}: not loaded: this config is JavaScript, which executes code, and no omni-ship command has run this version of it in this clone`, ExitCode.usage, "review it, then run any omni-ship command to load it (e.g. npx omni-ship config)");
    this.file = file;
    this.name = "UntrustedConfigError";
  }
};

export {
  ExitCode,
  UserError,
  badInput,
  UntrustedConfigError
};
