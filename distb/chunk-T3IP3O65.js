// dist/git/exec.js
import { spawnSync, spawn } from "node:child_process";
var GitError = class extends Error {
  args;
  exitCode;
  stderr;
  stdout;
  constructor(args, exitCode, stderr, stdout = "") {
    const first = stderr.trim().split("\n")[0] ?? "";
    super(`git ${args.join(" ")} failed (exit ${exitCode ?? "signal"})${first ? `: ${first}` : ""}`);
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
    this.name = "GitError";
  }
};
function environment(extra) {
  if (!extra)
    return void 0;
  const env = { ...process.env };
  for (const [k, v] of Object.entries(extra)) {
    if (v === void 0)
      delete env[k];
    else
      env[k] = v;
  }
  return env;
}
function gitRun(args, opts) {
  if (process.env.OMNI_SHIP_TRACE_GIT)
    process.stderr.write(`[git] ${args.join(" ")}
`);
  const r = spawnSync("git", args, {
    cwd: opts.cwd,
    input: opts.input,
    env: environment(opts.env),
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"]
  });
  if (r.error)
    throw new GitError(args, null, String(r.error.message));
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? 128 };
}
function git(args, opts) {
  const r = gitRun(args, opts);
  if (r.exitCode !== 0 && !(opts.okCodes ?? []).includes(r.exitCode)) {
    throw new GitError(args, r.exitCode, r.stderr, r.stdout);
  }
  return r.stdout;
}
function gitAsync(args, opts) {
  if (process.env.OMNI_SHIP_TRACE_GIT)
    process.stderr.write(`[git] ${args.join(" ")}
`);
  return new Promise((resolve, reject) => {
    const hasInput = opts.input !== void 0;
    const child = spawn("git", args, { cwd: opts.cwd, env: environment(opts.env), stdio: [hasInput ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => stdout += d);
    child.stderr.setEncoding("utf8").on("data", (d) => stderr += d);
    child.on("error", (e) => reject(new GitError(args, null, e.message)));
    child.on("close", (code) => resolve({ stdout, stderr, exitCode: code ?? 128 }));
    if (hasInput) {
      child.stdin.on("error", () => {
      });
      child.stdin.end(opts.input);
    }
  });
}
var GIT_LOCAL_ENV_VARS = [
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_OBJECT_DIRECTORY",
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_IMPLICIT_WORK_TREE",
  "GIT_GRAFT_FILE",
  "GIT_INDEX_FILE",
  "GIT_NO_REPLACE_OBJECTS",
  "GIT_REPLACE_REF_BASE",
  "GIT_PREFIX",
  "GIT_INTERNAL_SUPER_PREFIX",
  "GIT_SHALLOW_FILE",
  "GIT_COMMON_DIR"
];
function clearGitLocalEnv() {
  for (const name of GIT_LOCAL_ENV_VARS)
    delete process.env[name];
}
function gitAsyncBuffer(args, opts) {
  if (process.env.OMNI_SHIP_TRACE_GIT)
    process.stderr.write(`[git] ${args.join(" ")}
`);
  return new Promise((resolve, reject) => {
    const hasInput = opts.input !== void 0;
    const child = spawn("git", args, { cwd: opts.cwd, env: environment(opts.env), stdio: [hasInput ? "pipe" : "ignore", "pipe", "pipe"] });
    const chunks = [];
    let stderr = "";
    child.stdout.on("data", (d) => chunks.push(d));
    child.stderr.setEncoding("utf8").on("data", (d) => stderr += d);
    child.on("error", (e) => reject(new GitError(args, null, e.message)));
    child.on("close", (code) => {
      if (code !== 0 && !(opts.okCodes ?? []).includes(code ?? 128))
        reject(new GitError(args, code, stderr));
      else
        resolve(Buffer.concat(chunks));
    });
    if (hasInput) {
      child.stdin.on("error", () => {
      });
      child.stdin.end(opts.input);
    }
  });
}

export {
  GitError,
  gitRun,
  git,
  gitAsync,
  GIT_LOCAL_ENV_VARS,
  clearGitLocalEnv,
  gitAsyncBuffer
};
