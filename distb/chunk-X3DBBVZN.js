import {
  catFileBatch
} from "./chunk-JHUBOML5.js";
import {
  CONFIG_FILES,
  executesCode,
  parseDataConfig,
  parseJsonConfig,
  parseYamlConfig
} from "./chunk-SA47PFBH.js";
import {
  validateConfig,
  verifyProblem,
  verifyWithDefaults
} from "./chunk-NKDYQLBC.js";
import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/verify/spec.js
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
var LOCAL_CONFIG_FILES = ["omni-ship.yaml", "omni-ship.yml", "omni-ship.json"];
var LOCAL_KEYS = ["verify"];
function configRequests(rev) {
  return CONFIG_FILES.map((name) => `${rev}:${name}`);
}
async function committedConfig(cwd, commit) {
  return committedConfigFrom(await catFileBatch(cwd, configRequests(commit)));
}
function committedConfigFrom(answers) {
  for (const a of answers) {
    if (!a.content || a.type !== "blob")
      continue;
    const file = a.request.slice(a.request.indexOf(":") + 1);
    const text = a.content.toString("utf8");
    if (file === "package.json") {
      if (text.trim() === "")
        continue;
      let pkg;
      try {
        pkg = JSON.parse(text);
      } catch {
        continue;
      }
      if (!pkg || typeof pkg !== "object" || !Object.hasOwn(pkg, "omni-ship"))
        continue;
    }
    return { file, text, code: executesCode(file) };
  }
  return null;
}
async function verifyOfCommitted(found, commit, what) {
  const label = `${found.file} on ${what} (${commit.slice(0, 12)})`;
  if (found.code) {
    throw badInput(`${label} is JavaScript: omni-ship never executes a config taken from a ref, so it cannot read the verify spec there`, `put verify in a data file (.omni-shiprc.yaml, .omni-shiprc.json or package.json) on ${what}, or in this clone's local config (.git/omni-ship.yaml)`);
  }
  let data;
  if (found.file === "package.json")
    data = parseJsonConfig(label, found.text)["omni-ship"];
  else if (found.text.trim() === "")
    data = void 0;
  else
    data = found.file.endsWith(".json") ? parseJsonConfig(label, found.text) : await parseYamlConfig(label, found.text);
  return validateConfig(data, label).verify;
}
async function localVerifyConfig(commonDir) {
  for (const name of LOCAL_CONFIG_FILES) {
    const file = path.join(commonDir, name);
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if (e.code === "ENOENT")
        continue;
      throw badInput(`${file}: cannot read the local config: ${e.message.split("\n")[0]}`);
    }
    const data = text.trim() === "" ? {} : await parseDataConfig(file, text);
    if (data === null || data === void 0)
      return { file, verify: void 0 };
    if (typeof data !== "object" || Array.isArray(data))
      throw badInput(`${file}: the local config must be an object of settings`);
    for (const key of Object.keys(data)) {
      if (!LOCAL_KEYS.includes(key)) {
        throw badInput(`${file}: the local config sets '${key}'; it may set only ${LOCAL_KEYS.join(", ")}`, `the other settings belong in the committed config`);
      }
    }
    const verify = data.verify;
    const problem = verify === void 0 ? null : verifyProblem(verify);
    if (problem)
      throw badInput(`${file}: 'verify' ${problem}`);
    return { file, verify };
  }
  return null;
}
function canonical(value) {
  if (Array.isArray(value))
    return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
function specHash(verify, cacheKeyOutput) {
  const spec = {
    v: 1,
    steps: verify.steps.map((s) => ({ name: s.name, run: s.run, timeout: s.timeout ?? verify.timeout, env: s.env })),
    skipExitCode: verify.skipExitCode,
    keep: verify.keep,
    cacheKey: verify.cacheKey === null ? null : { command: verify.cacheKey, output: cacheKeyOutput }
  };
  return createHash("sha256").update(canonical(spec)).digest("hex");
}
var CACHE_KEY_FILE = "cache-keys.json";
function recordedCacheKey(stateDir, command) {
  try {
    const all = JSON.parse(fs.readFileSync(path.join(stateDir, "verify", CACHE_KEY_FILE), "utf8"));
    const out = all[canonical(command)];
    return typeof out === "string" ? out : null;
  } catch {
    return null;
  }
}
function recordCacheKey(stateDir, command, output) {
  const file = path.join(stateDir, "verify", CACHE_KEY_FILE);
  try {
    let all = {};
    try {
      all = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
    }
    if (all[canonical(command)] === output)
      return;
    all[canonical(command)] = output;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all));
    fs.renameSync(tmp, file);
  } catch {
  }
}
function runCacheKey(cwd, stateDir, command) {
  const [file, args] = typeof command === "string" ? ["/bin/sh", ["-c", command]] : [command[0], command.slice(1)];
  const r = spawnSync(file, args, { cwd, encoding: "utf8", timeout: 6e4, stdio: ["ignore", "pipe", "pipe"] });
  const shown = typeof command === "string" ? command : command.join(" ");
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`;
    throw badInput(`verify.cacheKey \`${shown}\` failed (${why})${r.stderr ? `: ${r.stderr.trim().split("\n")[0]}` : ""}`, "fix the command: its output joins the spec hash");
  }
  const output = r.stdout.trim();
  recordCacheKey(stateDir, command, output);
  return output;
}
async function resolveSpec(opts) {
  let source;
  let raw;
  if (opts.fromCommit) {
    const found = await committedConfig(opts.cwd, opts.fromCommit);
    raw = found ? await verifyOfCommitted(found, opts.fromCommit, `commit ${opts.fromCommit.slice(0, 12)}`) : void 0;
    source = { kind: "commit", file: found?.file ?? null, commit: opts.fromCommit };
  } else {
    const local = await localVerifyConfig(opts.commonDir);
    if (local?.verify !== void 0) {
      raw = local.verify;
      source = { kind: "local", file: local.file, commit: null };
    } else if (opts.baseTip) {
      const found = opts.baseConfig !== void 0 ? opts.baseConfig : await committedConfig(opts.cwd, opts.baseTip);
      raw = found ? await verifyOfCommitted(found, opts.baseTip, opts.baseName) : void 0;
      source = { kind: "base", file: found?.file ?? null, commit: opts.baseTip };
    } else {
      source = { kind: "base", file: null, commit: null };
    }
  }
  const verify = verifyWithDefaults(raw);
  let cacheKeyOutput = null;
  if (verify.cacheKey !== null) {
    cacheKeyOutput = opts.runCacheKey ? runCacheKey(opts.cwd, opts.stateDir, verify.cacheKey) : recordedCacheKey(opts.stateDir, verify.cacheKey);
  }
  return { verify, hash: specHash(verify, cacheKeyOutput), source, cacheKeyOutput };
}
function describeSource(source, baseName) {
  if (source.kind === "local")
    return `the local config ${source.file}`;
  if (source.kind === "commit")
    return source.file ? `${source.file} of commit ${source.commit?.slice(0, 12)}` : `commit ${source.commit?.slice(0, 12)}, which has no config`;
  if (!source.commit)
    return `no base branch (${baseName} does not exist here)`;
  return source.file ? `${source.file} on ${baseName} (${source.commit.slice(0, 12)})` : `${baseName} (${source.commit.slice(0, 12)}), which has no config file`;
}

export {
  LOCAL_CONFIG_FILES,
  configRequests,
  committedConfig,
  committedConfigFrom,
  localVerifyConfig,
  specHash,
  recordedCacheKey,
  runCacheKey,
  resolveSpec,
  describeSource
};
