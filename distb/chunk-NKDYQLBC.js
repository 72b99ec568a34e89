import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/config/verify.js
var VERIFY_DEFAULTS = {
  steps: [],
  skipExitCode: 125,
  onCommit: true,
  concurrency: 1,
  keep: [],
  cacheKey: null,
  shareOutput: false,
  timeout: 1800,
  pruneAfterDays: 14
};
function describe(value) {
  if (value === null)
    return "null";
  if (Array.isArray(value))
    return "a list";
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : `${typeof value} ${JSON.stringify(value)}`;
}
var isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
function commandProblem(value) {
  if (typeof value === "string")
    return value.trim() === "" ? "must not be empty" : null;
  if (Array.isArray(value)) {
    if (value.length === 0)
      return "must not be an empty list";
    return value.every((a) => typeof a === "string") && value[0] !== "" ? null : "must be a list of strings, the program first";
  }
  return `must be a shell string or an argv list, not ${describe(value)}`;
}
function positive(value, what, max = Number.MAX_SAFE_INTEGER) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 && value <= max ? null : `must be ${what}, not ${describe(value)}`;
}
function stepProblem(step, i, names) {
  const at = `steps[${i}]`;
  if (!isObject(step))
    return `${at} must be an object {name, run, timeout?, env?}, not ${describe(step)}`;
  for (const key of Object.keys(step)) {
    if (!["name", "run", "timeout", "env"].includes(key))
      return `${at} has an unknown key '${key}' (known: name, run, timeout, env)`;
  }
  const name = step.name;
  if (typeof name !== "string" || name.trim() === "" || /[\n\r\0]/.test(name))
    return `${at}.name must be a non-empty one-line string, not ${describe(name)}`;
  if (names.has(name))
    return `${at}.name '${name}' is used twice: step names must differ (messages and logs name them)`;
  names.add(name);
  const run = commandProblem(step.run);
  if (run)
    return `${at}.run ${run}`;
  if (step.timeout !== void 0 && step.timeout !== null) {
    const t = positive(step.timeout, "a number of seconds above 0");
    if (t)
      return `${at}.timeout ${t}`;
  }
  if (step.env !== void 0 && step.env !== null) {
    if (!isObject(step.env))
      return `${at}.env must be an object of NAME: value, not ${describe(step.env)}`;
    for (const [k, v] of Object.entries(step.env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        return `${at}.env has an invalid variable name ${JSON.stringify(k)}`;
      if (typeof v !== "string")
        return `${at}.env.${k} must be a string, not ${describe(v)} (quote numbers in YAML)`;
    }
  }
  return null;
}
function verifyProblem(value) {
  if (!isObject(value))
    return `must be an object of verify settings, not ${describe(value)}`;
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(VERIFY_DEFAULTS, key))
      return `has an unknown key '${key}' (known: ${Object.keys(VERIFY_DEFAULTS).join(", ")})`;
    let problem = null;
    switch (key) {
      case "steps": {
        if (!Array.isArray(v))
          problem = `must be a list of steps, not ${describe(v)}`;
        else {
          const names = /* @__PURE__ */ new Set();
          for (let i = 0; i < v.length && !problem; i++)
            problem = stepProblem(v[i], i, names);
          if (problem)
            return problem;
        }
        break;
      }
      case "skipExitCode":
        problem = Number.isInteger(v) && v >= 1 && v <= 255 && v !== 126 && v !== 127 ? null : `must be an exit code from 1 to 255 other than 126 and 127 (the shell's "cannot run"), not ${describe(v)}`;
        break;
      case "onCommit":
      case "shareOutput":
        problem = typeof v === "boolean" ? null : `must be true or false, not ${describe(v)}`;
        break;
      case "concurrency":
        problem = Number.isInteger(v) ? positive(v, "a whole number from 1 to 64", 64) : `must be a whole number from 1 to 64, not ${describe(v)}`;
        break;
      case "keep":
        problem = Array.isArray(v) && v.every((g) => typeof g === "string" && g !== "") ? null : `must be a list of globs (strings), not ${describe(v)}`;
        break;
      case "cacheKey":
        problem = v === null ? null : commandProblem(v);
        break;
      case "timeout":
        problem = positive(v, "a number of seconds above 0");
        break;
      case "pruneAfterDays":
        problem = positive(v, "a number of days above 0");
        break;
    }
    if (problem)
      return `${key} ${problem}`;
  }
  return null;
}
function verifyWithDefaults(value) {
  const v = isObject(value) ? value : {};
  const steps = (v.steps ?? []).map((s) => {
    const step = s;
    return {
      name: step.name,
      run: step.run,
      timeout: step.timeout ?? null,
      env: { ...step.env ?? {} }
    };
  });
  return { ...VERIFY_DEFAULTS, ...v, steps };
}

// dist/config/schema.js
var CONFIG_KEYS = {
  baseBranch: { type: "branch-name", doc: "the branch tasks land on (default: the remote's HEAD, else main, else master)" },
  remote: { type: "remote-name", doc: "the remote to sync and land through (default: origin if it exists)" },
  taskPattern: { type: "pattern", doc: "what a task id looks like", fixedDefault: "^t-[0-9]+(\\.[0-9]+)*$" },
  branchPattern: {
    type: "pattern",
    doc: "finds the task id in a branch name (t-565, t-565.2, feat/t-565-login)",
    fixedDefault: "(^|/)t-[0-9]+(\\.[0-9]+)*($|[-_/])"
  },
  trailerKey: { type: "trailer-key", doc: "the trailer that names the task", fixedDefault: "Task-Id" },
  requireTaskId: { type: "boolean", doc: "reject commits without a task id", fixedDefault: false },
  verify: { type: "verify", doc: "the team's checks: steps, skipExitCode, onCommit, concurrency, keep, cacheKey, shareOutput, timeout, pruneAfterDays", fixedDefault: VERIFY_DEFAULTS }
};
var GATING_KEYS = ["verify"];
function checkPattern(value) {
  if (value === "")
    return "must not be empty";
  try {
    new RegExp(value);
  } catch (e) {
    return `is not a valid regular expression (${e.message})`;
  }
  if (/\\[dDwWsSbB]/.test(value))
    return "uses a JavaScript-only escape (\\d, \\w, \\s, \\b); write [0-9], [a-z0-9_], [ \\t] instead";
  if (/\(\?/.test(value))
    return "uses (?\u2026) groups, which POSIX awk does not read; use plain ( )";
  if (/\{[0-9]*,?[0-9]*\}/.test(value))
    return "uses an interval {n,m}, which mawk does not read; repeat the item or use + and *";
  if (/\[:[a-z]+:\]/.test(value))
    return "uses a POSIX class like [:digit:], which JavaScript does not read; use [0-9]";
  return null;
}
function checkValue(key, value) {
  const spec = CONFIG_KEYS[key];
  switch (spec.type) {
    case "boolean":
      return typeof value === "boolean" ? null : `must be true or false, not ${describe2(value)}`;
    case "pattern":
      return typeof value === "string" ? checkPattern(value) : `must be a string, not ${describe2(value)}`;
    case "trailer-key":
      if (typeof value !== "string")
        return `must be a string, not ${describe2(value)}`;
      return /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(value) ? null : "must be letters, digits and dashes, like Task-Id";
    case "branch-name":
      if (typeof value !== "string")
        return `must be a string, not ${describe2(value)}`;
      return isValidBranchName(value) ? null : `${JSON.stringify(value)} is not a valid branch name`;
    case "remote-name":
      if (value === null)
        return null;
      if (typeof value !== "string")
        return `must be a string or null, not ${describe2(value)}`;
      return /^[A-Za-z0-9._-]+$/.test(value) && !value.startsWith(".") ? null : `${JSON.stringify(value)} is not a valid remote name`;
    case "string":
      return typeof value === "string" ? null : `must be a string, not ${describe2(value)}`;
    case "verify":
      return verifyProblem(value);
  }
}
function describe2(value) {
  if (value === null)
    return "null";
  if (Array.isArray(value))
    return "a list";
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : `${typeof value} ${JSON.stringify(value)}`;
}
function isValidBranchName(name) {
  if (!name || name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith("."))
    return false;
  if (name === "@" || name.includes("..") || name.includes("@{") || name.includes("//"))
    return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name))
    return false;
  return name.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}
function validateConfig(raw, file) {
  if (raw === null || raw === void 0)
    return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw badInput(`${file}: the omni-ship config must be an object of settings, not ${describe2(raw)}`);
  }
  const out = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(CONFIG_KEYS, key)) {
      throw badInput(`${file}: unknown key '${key}'`, `known keys: ${Object.keys(CONFIG_KEYS).join(", ")}`);
    }
    const problem = checkValue(key, value);
    if (problem)
      throw badInput(`${file}: '${key}' ${problem}`);
    out[key] = value;
  }
  return out;
}

export {
  verifyProblem,
  verifyWithDefaults,
  CONFIG_KEYS,
  GATING_KEYS,
  checkPattern,
  isValidBranchName,
  validateConfig
};
