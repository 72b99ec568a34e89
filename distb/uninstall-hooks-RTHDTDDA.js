import {
  BRANCH_TASK_CACHE,
  CREATED_SHEBANG,
  blockHint,
  blockState,
  changedReason,
  configChangedSinceInstall,
  exists,
  isOurs,
  manifestPath,
  ownFileState,
  readManifest,
  renderBlock,
  renderHook,
  restoreConfigFile,
  revertConfig,
  scriptHint,
  uninstallFileHint,
  withoutBlock,
  worktreeStateDirs,
  writeKeepingMode,
  writeManifest
} from "./chunk-4V5OHVUM.js";
import "./chunk-TDQ7IMWN.js";
import {
  entryPoint
} from "./chunk-ZPUHQCBY.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireWorkRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode
} from "./chunk-LF3CXZX6.js";

// dist/commands/uninstall-hooks.js
import path2 from "node:path";

// dist/hooks/uninstall.js
import fs from "node:fs";
import path from "node:path";
function uninstallHooks(repo, opts) {
  const dir = stateDir(repo);
  const manifest = readManifest(dir);
  if (!manifest)
    return { installed: false, steps: [], conflicts: [], dryRun: opts.dryRun };
  const render = opts.render ?? (() => null);
  const steps = [];
  const conflicts = [];
  const kept = [];
  const act = (fn) => {
    if (!opts.dryRun)
      fn();
  };
  const leave = (file, why, hint) => {
    conflicts.push(file);
    steps.push({ path: file, did: "left-alone", note: changedReason(why), hint });
  };
  for (const hook of manifest.hooks) {
    if (hook.mode === "file") {
      if (exists(hook.path) && !isOurs(hook.path)) {
        conflicts.push(hook.path);
        steps.push({ path: hook.path, did: "left-alone", note: "changed since install; not omni-ship\u2019s any more" });
        if (hook.chained && exists(hook.chained))
          steps.push({ path: hook.chained, did: "left-alone", note: `the hook that was at ${hook.path} before omni-ship` });
        continue;
      }
      const state = exists(hook.path) ? ownFileState(hook.path, hook.sha256, hook.sha256 ? null : render(hook.name, hook.chained)) : "untouched";
      if (state !== "untouched") {
        const chained = hook.chained && exists(hook.chained) ? hook.chained : null;
        leave(hook.path, state, uninstallFileHint(hook.path, state, chained));
        if (chained)
          steps.push({ path: chained, did: "left-alone", note: `the hook that was at ${hook.path} before omni-ship` });
        kept.push(hook);
        continue;
      }
      if (exists(hook.path)) {
        act(() => fs.unlinkSync(hook.path));
        steps.push({ path: hook.path, did: "removed" });
      }
      if (hook.chained && exists(hook.chained)) {
        act(() => fs.renameSync(hook.chained, hook.path));
        steps.push({ path: hook.path, did: "restored", note: `from ${hook.chained}` });
      }
    } else {
      const text = exists(hook.path) ? fs.readFileSync(hook.path, "utf8") : null;
      const block = text === null || text === hook.written ? "untouched" : blockState(text, hook.written ?? null, renderBlock(hook.name));
      const script = exists(hook.script) ? ownFileState(hook.script, hook.scriptSha256, hook.scriptSha256 ? null : render(hook.name, null)) : "untouched";
      if (block === "edited" || block === "unrecorded" || script !== "untouched") {
        if (block === "edited" || block === "unrecorded")
          leave(hook.path, block, blockHint(hook.path, "uninstall-hooks"));
        if (script !== "untouched")
          leave(hook.script, script, scriptHint(hook.script, hook.path, script, "uninstall-hooks"));
        kept.push(hook);
        continue;
      }
      if (text !== null) {
        const rest = withoutBlock(text);
        if (text === hook.written) {
          if (hook.created || hook.original === null || hook.original === void 0) {
            act(() => fs.unlinkSync(hook.path));
            steps.push({ path: hook.path, did: "deleted-created-file" });
          } else {
            const original = hook.original;
            act(() => writeKeepingMode(hook.path, original));
            steps.push({ path: hook.path, did: "removed-block" });
          }
        } else if (rest === null) {
          steps.push({ path: hook.path, did: "left-alone", note: "omni-ship\u2019s block is no longer in it" });
        } else if (hook.created && (rest === CREATED_SHEBANG || rest === "")) {
          act(() => fs.unlinkSync(hook.path));
          steps.push({ path: hook.path, did: "deleted-created-file" });
        } else {
          act(() => writeKeepingMode(hook.path, rest));
          steps.push({ path: hook.path, did: "removed-block" });
        }
      }
      if (exists(hook.script)) {
        act(() => fs.unlinkSync(hook.script));
        steps.push({ path: hook.script, did: "removed" });
      }
    }
  }
  const changedConfig = configChangedSinceInstall(repo, manifest.gitConfig);
  for (const record of manifest.gitConfig) {
    if (changedConfig.includes(record)) {
      steps.push({ path: record.key, did: "left-alone", note: `git config ${record.key} changed since install-hooks set it` });
      conflicts.push(`git config ${record.key}`);
    } else
      steps.push({ path: record.key, did: "config-restored" });
  }
  act(() => {
    restoreConfig(repo, manifest);
    if (kept.length)
      writeManifest(dir, { ...manifest, hooks: kept, gitConfig: [], configFile: void 0 });
    else
      fs.rmSync(manifestPath(dir), { force: true });
    removeEmptyDir(path.join(dir, "chained"));
    removeEmptyDir(path.join(dir, "hooks"));
    if (manifest.createdHooksDir)
      removeEmptyDir(manifest.hooksDir);
    removeSettingsCaches(repo);
  });
  return { installed: true, steps, conflicts, dryRun: opts.dryRun };
}
function restoreConfig(repo, manifest) {
  if (restoreConfigFile(manifest.configFile))
    return;
  revertConfig(repo, manifest.gitConfig);
}
function removeEmptyDir(dir) {
  try {
    fs.rmdirSync(dir);
  } catch {
  }
}
function removeSettingsCaches(repo) {
  for (const dir of worktreeStateDirs(repo)) {
    fs.rmSync(path.join(dir, "hook-config.sh"), { force: true });
    fs.rmSync(path.join(dir, BRANCH_TASK_CACHE), { force: true });
    removeEmptyDir(dir);
  }
}

// dist/commands/uninstall-hooks.js
async function renderForOldManifest(repo) {
  const manifest = readManifest(stateDir(repo));
  if (!manifest?.hooks.some((h) => h.mode === "file" ? h.sha256 === void 0 : h.scriptSha256 === void 0))
    return void 0;
  const loaded = await loadConfig(repo.toplevel, repo.toplevel).catch(() => null);
  if (!loaded)
    return void 0;
  const node = process.execPath;
  const entry = entryPoint();
  return (name, chained) => renderHook(name, { node, entry, chained, config: loaded.config, configSource: loaded.file });
}
async function uninstallHooksCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const result = uninstallHooks(repo, { dryRun: opts.dryRun, render: await renderForOldManifest(repo) });
  if (!result.installed)
    return { data: result, text: "omni-ship hooks are not installed here: nothing to do" };
  const rel = (p) => path2.isAbsolute(p) ? path2.relative(opts.cwd, p) || p : p;
  const verb = {
    removed: "remove",
    restored: "restore",
    "removed-block": "remove omni-ship\u2019s block from",
    "deleted-created-file": "delete",
    "left-alone": "leave alone",
    "config-restored": "restore git config"
  };
  const lines = result.steps.map((s) => `${opts.dryRun ? "would " : ""}${verb[s.did]} ${rel(s.path)}${s.note ? ` (${s.note})` : ""}`);
  const head = opts.dryRun ? "dry run: nothing changed" : "uninstalled omni-ship hooks";
  const out = { data: result, text: `${head}
${lines.join("\n")}` };
  if (result.conflicts.length) {
    out.exitCode = ExitCode.conflict;
    out.warnings = result.conflicts.map((c) => {
      const step = result.steps.find((s) => s.path === c && s.hint);
      return `${c} ${step?.note ?? "changed after install-hooks wrote it"}; left as it is${step ? `; ${step.hint}` : ""}`;
    });
  }
  return out;
}
export {
  uninstallHooksCommand
};
