import {
  CONFIG_FILES,
  checkConfigFilesReadable,
  executesCode,
  parseDataConfig,
  parseJsonConfig
} from "./chunk-SA47PFBH.js";
import {
  withDefaults
} from "./chunk-QGTSJKQF.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  GATING_KEYS,
  validateConfig
} from "./chunk-NKDYQLBC.js";
import {
  ExitCode,
  UntrustedConfigError,
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/config.js
import fs2 from "node:fs";
import path2 from "node:path";

// dist/config/read.js
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
async function findConfig(dir) {
  checkConfigFilesReadable(dir);
  for (const name of CONFIG_FILES) {
    const file = path.join(dir, name);
    let bytes;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      const code = e.code;
      if (code === "ENOENT" || code === "ENOTDIR")
        continue;
      throw badInput(`${file}: cannot read the config: ${e.message.split("\n")[0]}`, `make it readable (chmod a+r ${file}) or remove it`);
    }
    const text = bytes.toString("utf8");
    if (name === "package.json") {
      if (text.trim() === "")
        continue;
      const pkg = parseJsonConfig(file, text);
      const data = pkg && typeof pkg === "object" && !Array.isArray(pkg) && Object.hasOwn(pkg, "omni-ship") ? pkg["omni-ship"] : void 0;
      if (data === void 0 || data === null)
        continue;
      return { file, kind: "data", data };
    }
    if (text.trim() === "")
      return { file, kind: "data", data: void 0 };
    if (executesCode(file))
      return { file, kind: "code", bytes };
    return { file, kind: "data", data: await parseDataConfig(file, text) };
  }
  return null;
}
function locationIn(file, error) {
  const stack = String(error.stack ?? "");
  for (const name of [file, `file://${file}`]) {
    const at = stack.indexOf(`${name}:`);
    if (at < 0)
      continue;
    const m = /^:(\d+)(?::(\d+))?/.exec(stack.slice(at + name.length));
    if (m)
      return m[2] ? ` at line ${m[1]}, column ${m[2]}` : ` at line ${m[1]}`;
  }
  return "";
}
async function importDefault(file) {
  return (await import(pathToFileURL(fs.realpathSync(file)).href)).default;
}
async function runCodeConfig(file) {
  const { defaultLoaders } = await import("cosmiconfig");
  try {
    return path.extname(file) === ".mjs" ? await importDefault(file) : await defaultLoaders[path.extname(file)](file, "");
  } catch (e) {
    let err = e;
    if (/Cannot require\(\) ES Module/.test(String(err.message)))
      err = await importDefault(file).then(() => err, (real) => real);
    throw badInput(`${file}: cannot load the config (JavaScript): ${String(err.message).split("\n")[0]}${locationIn(file, err)}`, `fix ${file}, then check it with: omni-ship config`);
  }
}

// dist/config.js
var processTrust = "record";
function forbidUntrustedConfigCode() {
  processTrust = "require";
}
function stateDirOf(root) {
  const r = gitRun(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: root });
  const dir = r.stdout.trim();
  return r.exitCode === 0 && dir ? path2.join(dir, "omni-ship") : null;
}
async function runAndRecord(file, bytes, stateDir) {
  const { recordTrustedOutcome } = await import("./trust-7ABUDL6R.js");
  const record = (outcome) => {
    try {
      if (stateDir && fs2.readFileSync(file).equals(bytes))
        recordTrustedOutcome(stateDir, file, bytes, outcome);
    } catch {
    }
  };
  let values;
  try {
    values = refuseGatingKeysInCode(file, validateConfig(await runCodeConfig(file), file));
  } catch (e) {
    if (e instanceof UserError)
      record({ error: e.hint === void 0 ? { message: e.message } : { message: e.message, hint: e.hint } });
    throw e;
  }
  record({ values });
  return values;
}
function refuseGatingKeysInCode(file, values) {
  const gating = GATING_KEYS.filter((k) => values[k] !== void 0);
  if (gating.length === 0)
    return values;
  throw new UserError(`${file}: sets ${gating.map((k) => `'${k}'`).join(", ")}, which decides what may land; omni-ship reads that only from a data file, never from JavaScript`, ExitCode.usage, `move ${gating.join(", ")} to .omni-shiprc.yaml, .omni-shiprc.json or the "omni-ship" key of package.json (and keep the rest in ${path2.basename(file)}), or into this clone's local config (.git/omni-ship.yaml)`);
}
async function recordedValues(file, bytes, stateDir) {
  const { trustedOutcome } = await import("./trust-7ABUDL6R.js");
  const outcome = stateDir ? trustedOutcome(stateDir, file, bytes) : null;
  if (!outcome)
    throw new UntrustedConfigError(file);
  if ("error" in outcome)
    throw new UserError(outcome.error.message, ExitCode.usage, outcome.error.hint);
  return refuseGatingKeysInCode(file, validateConfig(outcome.values, file));
}
async function loadConfig(cwd, root, opts = {}) {
  const trust = processTrust === "require" ? "require" : opts.codeTrust ?? "record";
  const found = await findConfig(root ?? cwd);
  let stateDir = opts.stateDir ?? null;
  let values = {};
  if (found?.kind === "data")
    values = validateConfig(found.data, found.file);
  else if (found?.kind === "code") {
    stateDir ??= root ? stateDirOf(root) : null;
    values = trust === "require" ? await recordedValues(found.file, found.bytes, stateDir) : await runAndRecord(found.file, found.bytes, stateDir);
  }
  if (trust === "require") {
    stateDir ??= root ? stateDirOf(root) : null;
    try {
      if (stateDir)
        (await import("./previous-TIQMV5G4.js")).rememberConfig(stateDir, found?.file ?? null, values);
    } catch {
    }
  }
  return withDefaults(values, found?.file ?? null, root);
}
async function loadConfigOrPrevious(root, stateDir) {
  try {
    return { ...await loadConfig(root, root, { codeTrust: "require", stateDir }), fallback: null };
  } catch (e) {
    const problem = e instanceof Error ? e.message : String(e);
    const previous = (await import("./previous-TIQMV5G4.js")).rememberedConfig(stateDir);
    const instead = previous ? `the previous settings (${previous.file ? `from ${previous.file}` : "the defaults"})` : "the defaults";
    const loaded = withDefaults(previous?.values ?? {}, previous?.file ?? null, root);
    return { ...loaded, fallback: { reason: `${problem}; using ${instead}` } };
  }
}

export {
  forbidUntrustedConfigCode,
  loadConfig,
  loadConfigOrPrevious
};
