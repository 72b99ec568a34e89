import {
  processStartTime
} from "./chunk-LIUXXDUE.js";
import {
  entryPoint
} from "./chunk-ZPUHQCBY.js";

// dist/verify/background.js
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
function taskRequestFile(stateDir, task) {
  return path.join(stateDir, "verify", "tasks", `${task}.json`);
}
function requestTaskVerify(stateDir, task, commit, pending = true) {
  const file = taskRequestFile(stateDir, task);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const request = { commit, pid: process.pid, start: processStartTime(process.pid), at: (/* @__PURE__ */ new Date()).toISOString(), pending };
  fs.writeFileSync(tmp, JSON.stringify(request));
  fs.renameSync(tmp, file);
}
function taskRequest(stateDir, task) {
  try {
    const r = JSON.parse(fs.readFileSync(taskRequestFile(stateDir, task), "utf8"));
    if (typeof r.commit !== "string" || typeof r.at !== "string")
      return null;
    return { commit: r.commit, pid: Number(r.pid), start: typeof r.start === "string" ? r.start : null, at: r.at, pending: r.pending !== false };
  } catch {
    return null;
  }
}
function wantedCommit(stateDir, task) {
  return taskRequest(stateDir, task)?.commit ?? null;
}
function spawnBackgroundVerify(cwd, stateDir, commit, task, flags = {}) {
  const log = path.join(stateDir, "verify", "background.log");
  fs.mkdirSync(path.dirname(log), { recursive: true });
  const fd = fs.openSync(log, "a");
  try {
    const child = spawn(process.execPath, [
      entryPoint(),
      "hook",
      "verify",
      commit,
      ...task ? ["--task", task] : [],
      ...flags.force ? ["--force"] : [],
      ...flags.specFromCommit ? ["--spec-from-commit"] : []
    ], {
      cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: process.env
    });
    child.unref();
    return child.pid ?? null;
  } finally {
    fs.closeSync(fd);
  }
}
function supersededSignal(stateDir, task, commit, everyMs = 200) {
  const controller = new AbortController();
  const timer = setInterval(() => {
    const wanted = wantedCommit(stateDir, task);
    if (wanted !== null && wanted !== commit)
      controller.abort(new Error(`a newer patchset of ${task} (${wanted.slice(0, 12)}) replaced it`));
  }, everyMs);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}
async function verifyNewPatchsets(cwd, commonDir, stateDir, config, patchsets) {
  if (patchsets.length === 0)
    return [];
  const { findBaseTip } = await import("./base-4CIZ5SVR.js");
  const { resolveSpec } = await import("./spec-DERXH5BE.js");
  const { cachedResult } = await import("./fold-HIIDYICM.js");
  const { treeVerifyEvents } = await import("./verify-45WPGMGT.js");
  const base = findBaseTip(cwd, config);
  const spec = await resolveSpec({ cwd, commonDir, stateDir, baseTip: base?.tip ?? null, runCacheKey: false, baseName: config.baseBranch });
  if (!spec.verify.onCommit || spec.verify.steps.length === 0)
    return [];
  const newest = /* @__PURE__ */ new Map();
  for (const p of patchsets)
    newest.set(p.task, p);
  const lines = [];
  for (const p of newest.values()) {
    const known = spec.verify.cacheKey === null || spec.cacheKeyOutput !== null;
    const hit = known ? cachedResult(await treeVerifyEvents(cwd, p.tree), p.tree, spec.hash) : null;
    requestTaskVerify(stateDir, p.task, p.commit, !hit);
    if (hit) {
      lines.push(`verify ${p.task} ${p.commit.slice(0, 12)}: ${hit.result} already recorded for its tree`);
      continue;
    }
    const pid = spawnBackgroundVerify(cwd, stateDir, p.commit, p.task);
    lines.push(`verify ${p.task} ${p.commit.slice(0, 12)}: started in the background (pid ${pid ?? "?"})`);
  }
  return lines;
}

export {
  taskRequestFile,
  requestTaskVerify,
  taskRequest,
  wantedCommit,
  spawnBackgroundVerify,
  supersededSignal,
  verifyNewPatchsets
};
