import {
  loadExeca
} from "./chunk-OVXBPWYW.js";
import {
  processStartTime
} from "./chunk-LIUXXDUE.js";
import {
  GIT_LOCAL_ENV_VARS
} from "./chunk-T3IP3O65.js";

// dist/verify/steps.js
import fs from "node:fs";
import path from "node:path";
var GIT_LOCATION_ENV_VARS = GIT_LOCAL_ENV_VARS.filter((v) => !["GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE"].includes(v));
async function runSteps(steps, opts) {
  if (steps.length === 0)
    throw new Error("runSteps needs at least one step");
  const t0 = Date.now();
  const outcomes = [];
  const done = (result, step, exitCode, reason) => ({
    result,
    step,
    exitCode,
    reason,
    durationMs: Date.now() - t0,
    steps: outcomes
  });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, "a");
  try {
    for (const [i, step] of steps.entries()) {
      if (opts.signal?.aborted)
        return done("indeterminate", null, null, "cancelled");
      fs.writeSync(fd, `==> ${step.name}: ${typeof step.run === "string" ? step.run : step.run.join(" ")}
`);
      opts.onStepStart?.(i, step);
      const { outcome, cancelled, spawnError } = await runStep(step, fd, opts);
      outcomes.push(outcome);
      opts.onStepEnd?.(i, outcome);
      const code = outcome.exitCode;
      if (cancelled)
        return done("indeterminate", step.name, code, "cancelled");
      if (spawnError)
        return done("indeterminate", step.name, null, `could not start step ${step.name}: ${spawnError}`);
      if (outcome.timedOut)
        return done("indeterminate", step.name, code, `step ${step.name} timed out after ${step.timeout ?? opts.defaultTimeoutSec} s`);
      if (outcome.signal)
        return done("indeterminate", step.name, null, `step ${step.name} was killed by ${outcome.signal}`);
      if (code === 0)
        continue;
      if (code === opts.skipExitCode)
        return done("skip", step.name, code, `step ${step.name} exited ${code}, the skip code`);
      if (code === 126 || code === 127) {
        const why = code === 127 ? "command not found" : "not executable";
        return done("indeterminate", step.name, code, `could not start step ${step.name}: exit ${code} (${why})`);
      }
      return done("fail", step.name, code, `step ${step.name} exited ${code}`);
    }
    return done("pass", null, 0, null);
  } finally {
    fs.closeSync(fd);
  }
}
async function runStep(step, fd, opts) {
  const { execa } = await loadExeca();
  const [file, ...args] = typeof step.run === "string" ? ["/bin/sh", "-c", step.run] : step.run;
  const env = { ...process.env };
  for (const v of GIT_LOCATION_ENV_VARS)
    delete env[v];
  Object.assign(env, opts.env, step.env);
  const t0 = Date.now();
  let timedOut = false;
  let cancelled = false;
  const timers = [];
  const child = execa(file ?? "", args, {
    cwd: opts.cwd,
    env,
    extendEnv: false,
    // execa's types take only the literals 3..9 as a file descriptor in an array; any fd works at runtime
    stdio: ["ignore", fd, fd],
    detached: true,
    // its own process group, so a timeout or cancel reaches everything it started
    reject: false,
    cleanup: false
  });
  const pid = child.pid;
  const groupStart = pid === void 0 ? null : processStartTime(pid);
  const stop = () => {
    if (pid === void 0)
      return;
    signalGroup(pid, "SIGTERM");
    timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), opts.killGraceMs ?? 3e3));
  };
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (pid !== void 0) {
    opts.onGroup?.(pid);
    const seconds = step.timeout ?? opts.defaultTimeoutSec;
    timers.push(setTimeout(() => {
      timedOut = true;
      stop();
    }, seconds * 1e3));
    if (opts.signal?.aborted)
      onAbort();
    else
      opts.signal?.addEventListener("abort", onAbort, { once: true });
  }
  const r = await child;
  for (const t of timers)
    clearTimeout(t);
  opts.signal?.removeEventListener("abort", onAbort);
  if (pid !== void 0) {
    killGroup(pid, { since: groupStart });
    opts.onGroup?.(null);
  }
  const spawnError = pid === void 0 || r.failed && r.exitCode === void 0 && r.signal === void 0 && r.code ? r.code ?? "spawn failed" : null;
  return {
    outcome: {
      name: step.name,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      timedOut,
      started: spawnError === null,
      durationMs: Date.now() - t0
    },
    cancelled,
    spawnError
  };
}
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
  }
}
function killGroup(pgid, opts = {}) {
  const signal = opts.signal ?? "SIGKILL";
  if (!Number.isInteger(pgid) || pgid <= 1)
    return 0;
  let entries;
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, signal);
      return 1;
    } catch {
      return 0;
    }
  }
  const since = opts.since != null ? BigInt(opts.since) : null;
  const hit = /* @__PURE__ */ new Set();
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const e of round === 0 ? entries : safeReaddir("/proc")) {
      if (!/^\d+$/.test(e))
        continue;
      const pid = Number(e);
      if (hit.has(pid) && signal === "SIGKILL")
        continue;
      const f = statFields(pid);
      if (!f || Number(f[2]) !== pgid || f[0] === "Z" || f[0] === "X")
        continue;
      if (since !== null && BigInt(f[19] ?? "0") < since)
        continue;
      try {
        process.kill(pid, signal);
        hit.add(pid);
        found++;
      } catch {
      }
    }
    if (found === 0 || signal !== "SIGKILL")
      break;
  }
  return hit.size;
}
function safeReaddir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}
function tailLines(file, lines, maxBytes = 64 * 1024) {
  let fd;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes - 1);
    const buf = Buffer.alloc(size - start);
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    let text = buf.subarray(0, n).toString("utf8");
    if (start > 0)
      text = text.slice(text.indexOf("\n") + 1);
    const all = text.split("\n");
    if (all[all.length - 1] === "")
      all.pop();
    return lines <= 0 ? "" : all.slice(-lines).join("\n");
  } finally {
    fs.closeSync(fd);
  }
}
var OWNER_ENV = "OMNI_SHIP_VERIFY_OWNER";
function ownerMark(pid = process.pid, start = processStartTime(pid)) {
  return `${pid}-${start ?? "?"}`;
}
function killMarked(mark) {
  const needle = Buffer.from(`\0${OWNER_ENV}=${mark}\0`);
  const first = Buffer.from(`${OWNER_ENV}=${mark}\0`);
  let killed = 0;
  for (const e of safeReaddir("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid)
      continue;
    let env;
    try {
      env = fs.readFileSync(`/proc/${e}/environ`);
    } catch {
      continue;
    }
    if (!(env.includes(needle) || env.subarray(0, first.length).equals(first)))
      continue;
    try {
      process.kill(Number(e), "SIGKILL");
      killed++;
    } catch {
    }
  }
  return killed;
}

export {
  GIT_LOCATION_ENV_VARS,
  runSteps,
  killGroup,
  tailLines,
  OWNER_ENV,
  ownerMark,
  killMarked
};
