import {
  columns,
  style
} from "./chunk-J6TYBACV.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  executesCode,
  ignoredConfigFiles,
  requireRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  CONFIG_KEYS
} from "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";

// dist/commands/config.js
import path2 from "node:path";

// dist/config/warnings.js
import path from "node:path";
function ignoredConfigWarnings(cwd, root, rootFile) {
  return ignoredConfigFiles(cwd, root).map((file) => {
    const target = rootFile ? `${rootFile}, the one config of this repository` : "a config file at the top of the work tree (omni-ship init writes one)";
    const remove = path.basename(file) === "package.json" ? 'remove its "omni-ship" key' : "delete it";
    return {
      kind: "ignored-config",
      file,
      message: `ignored ${file}: omni-ship reads its config at the top of the work tree only`,
      hint: `move its settings to ${target}, and ${remove}`
    };
  });
}
function missingBaseBranch(root, loaded) {
  const { baseBranch: branch, remote } = loaded.config;
  const looked = [`refs/heads/${branch}`, ...remote ? [`refs/remotes/${remote}/${branch}`] : []];
  const refs = gitRun(["for-each-ref", "--format=%(refname)", ...looked], { cwd: root }).stdout.split("\n");
  if (looked.some((ref) => refs.includes(ref)))
    return null;
  const source = loaded.sources.baseBranch;
  const fix = source.kind === "file" ? `fix the name in ${source.file}` : `set baseBranch in ${loaded.file ?? "a config file (omni-ship init writes one)"}`;
  const or = remote ? `fetch the branch (git fetch ${remote} ${branch})` : `create the branch (git branch ${branch})`;
  return {
    kind: "missing-base-branch",
    branch,
    looked,
    message: `baseBranch '${branch}' does not exist: ${looked.length > 1 ? `found neither ${looked.join(" nor ")}` : `found no ${looked[0]}`}`,
    hint: `${fix}, or ${or}`
  };
}

// dist/commands/config.js
function verifySummary(v) {
  const steps = v.steps.length ? `${v.steps.length} step(s): ${v.steps.map((s) => s.name).join(", ")}` : "no steps";
  return `${steps}; skip code ${v.skipExitCode}; ${v.onCommit ? "on commit" : "not on commit"}; concurrency ${v.concurrency}${v.keep.length ? `; keeps ${v.keep.join(", ")}` : ""}${v.cacheKey ? "; cache key command" : ""}${v.shareOutput ? "; shares output" : ""}`;
}
async function configCommand(opts) {
  const repo = requireRepo(opts.cwd);
  const root = repo.toplevel ?? opts.cwd;
  const loaded = await loadConfig(opts.cwd, root, { stateDir: stateDir(repo) });
  const values = {};
  for (const key of Object.keys(CONFIG_KEYS)) {
    const source = loaded.sources[key];
    values[key] = {
      value: loaded.config[key],
      source: source.kind,
      detail: source.kind === "file" ? source.file : source.detail
    };
  }
  const ignored = repo.toplevel ? ignoredConfigWarnings(opts.cwd, repo.toplevel, loaded.file) : [];
  const missing = missingBaseBranch(root, loaded);
  const warnings = [...ignored, ...missing ? [missing] : []];
  const rows = Object.keys(values).map((key) => {
    const v = values[key];
    const where = v.source === "file" ? path2.relative(opts.cwd, v.detail) || v.detail : v.detail;
    const shown = v.value === null ? "(none)" : typeof v.value === "object" ? verifySummary(v.value) : String(v.value);
    return [key, shown, style("dim", `(${where})`)];
  });
  const header = loaded.file ? `config file: ${loaded.file}` : "no config file: every value is a default (omni-ship init writes one)";
  const code = loaded.file && executesCode(loaded.file) ? "\nit is JavaScript: omni-ship ran it now; the hooks of this clone use the values it gave until it changes" : "";
  return {
    data: { file: loaded.file, values, ignored: ignored.map((w) => w.file), warnings },
    text: `${header}${code}
${columns(rows)}`,
    warnings: warnings.map((w) => `${w.message}
hint: ${w.hint}`)
  };
}
export {
  configCommand
};
