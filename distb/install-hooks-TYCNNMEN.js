import {
  changedReason,
  installHooks
} from "./chunk-4V5OHVUM.js";
import "./chunk-TDQ7IMWN.js";
import "./chunk-ZPUHQCBY.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  findRepo,
  requireWorkRepo
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode
} from "./chunk-LF3CXZX6.js";

// dist/commands/install-hooks.js
import path2 from "node:path";

// dist/hooks/lifecycle.js
import path from "node:path";
var INSTALL_EVENTS = /* @__PURE__ */ new Set(["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"]);
function installLifecycleEvent(env) {
  const event = env.npm_lifecycle_event;
  return event && INSTALL_EVENTS.has(event) ? event : null;
}
function lifecycleSkip(cwd, env) {
  const lifecycleEvent = installLifecycleEvent(env);
  if (!lifecycleEvent)
    return null;
  const skip = (why, message) => ({ skipped: true, why, lifecycleEvent, message });
  const repo = findRepo(cwd);
  if (!repo)
    return skip("no-repository", `not a git repository: ${cwd}`);
  if (repo.isBare)
    return skip("no-work-tree", `${repo.gitDir} is a bare repository: no work tree to install hooks for`);
  if (!repo.toplevel)
    return skip("no-work-tree", `${cwd} is inside the git directory: no work tree to install hooks for`);
  const pkg = env.npm_package_json ? path.dirname(env.npm_package_json) : cwd;
  for (const dir of [cwd, pkg]) {
    const rel = path.relative(repo.toplevel, dir);
    if (!rel.startsWith("..") && !path.isAbsolute(rel) && rel.split(path.sep).includes("node_modules")) {
      return skip("dependency", `${dir} is a dependency installed in ${repo.toplevel}: its install script does not install hooks there`);
    }
  }
  return null;
}

// dist/commands/install-hooks.js
function describe(a, cwd) {
  const rel = (p) => path2.relative(cwd, p) || p;
  switch (a.kind) {
    case "move":
      return `move ${rel(a.from)} to ${rel(a.to)} (it still runs, after omni-ship's ${a.hook})`;
    case "write":
      return `${a.replaces === "omni-ship" ? "update" : "write"} ${rel(a.path)}`;
    case "block":
      return `${a.created ? "create" : "add omni-ship\u2019s block to"} ${rel(a.path)}`;
    case "config":
      return `git config ${a.change.how === "add" ? "--add " : ""}${a.change.key} ${a.change.value}`;
  }
}
async function installHooksCommand(opts) {
  const skipped = lifecycleSkip(opts.cwd, process.env);
  if (skipped) {
    const text2 = `omni-ship: hooks not installed: ${skipped.message} (run by npm's "${skipped.lifecycleEvent}" script, so not an error; run \`npx omni-ship install-hooks\` in a clone to install them)`;
    return { data: skipped, text: text2 };
  }
  const repo = requireWorkRepo(opts.cwd);
  const loadedAt = /* @__PURE__ */ new Date();
  const loaded = await loadConfig(repo.toplevel, repo.toplevel);
  const result = installHooks(repo, loaded, { dryRun: opts.dryRun, loadedAt });
  const where = result.husky ? ` (husky: ${result.hooksDir})` : ` in ${result.hooksDir}`;
  if (result.conflicts.length) {
    return {
      data: result,
      text: `nothing changed${where}: ${result.conflicts.length} file(s) omni-ship wrote were changed since`,
      exitCode: ExitCode.conflict,
      warnings: result.conflicts.map((c) => `${c.path} ${changedReason(c.why)}; nothing was installed; ${c.hint}`)
    };
  }
  const lines = result.actions.map((a) => `${opts.dryRun ? "would " : ""}${describe(a, opts.cwd)}`);
  if (result.unchanged.length) {
    lines.push(`${opts.dryRun ? "would leave" : "left"} unchanged (already up to date): ${result.unchanged.map((p) => path2.relative(opts.cwd, p) || p).join(", ")}`);
  }
  const text = opts.dryRun ? `dry run: nothing changed${where}
${lines.join("\n")}` : `installed omni-ship hooks${where}
${lines.join("\n")}
next: commit on a task branch, e.g. git switch -c t-1 && git commit -m "first step"`;
  return { data: result, text };
}
export {
  installHooksCommand
};
