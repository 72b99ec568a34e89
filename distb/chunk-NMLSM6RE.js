import {
  describeSource
} from "./chunk-X3DBBVZN.js";
import {
  notePathCandidates
} from "./chunk-IIXU77GC.js";
import {
  NOTES_REFS
} from "./chunk-XXU5WV5T.js";
import {
  catFileBatch
} from "./chunk-JHUBOML5.js";
import {
  cachedResult
} from "./chunk-S5HPCCKI.js";
import {
  decodeNote
} from "./chunk-XETBP7KF.js";
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/verify/verify.js
import fs from "node:fs";
import path from "node:path";
function exitCodeOf(result) {
  return result === "pass" || result === "skip" ? ExitCode.ok : result === "fail" ? ExitCode.refused : ExitCode.indeterminate;
}
async function treeVerifyEvents(cwd, tree) {
  const answers = await catFileBatch(cwd, notePathCandidates(tree).map((p) => `${NOTES_REFS.verify}:${p}`));
  const events = [];
  const bad = [];
  for (const a of answers)
    if (a.content && a.type === "blob")
      decodeNote(tree, a.content.toString("utf8"), events, bad);
  return events.filter((e) => e.type === "verify" && e.tree === tree);
}
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function fromCachedEvent(target, spec, e, coalesced = false) {
  return {
    result: e.result,
    cached: true,
    coalesced,
    commit: target.commit,
    tree: target.tree,
    task: target.task,
    spec,
    step: e.step,
    exitCode: e.exitCode,
    summary: e.summary ?? e.result,
    durationMs: e.durationMs ?? null,
    log: null,
    event: e,
    cancelled: false
  };
}
function summaryOf(r, total) {
  if (r.result === "pass")
    return `all ${total} step(s) passed`;
  if (r.reason)
    return r.reason;
  return `step ${r.step} exited ${r.exitCode}`;
}
async function verifyCommit(req) {
  const { spec, target } = req;
  if (spec.verify.steps.length === 0) {
    throw new UserError(`no verify steps configured (spec from ${describeSource(spec.source, req.shape?.baseName ?? req.config.baseBranch)}): nothing to check, so nothing passes`, ExitCode.usage, "add verify.steps to the committed config on the base branch (omni-ship init shows an example), or to this clone's local config .git/omni-ship.yaml");
  }
  const base = {
    cached: false,
    coalesced: false,
    commit: target.commit,
    tree: target.tree,
    task: target.task,
    spec: spec.hash,
    step: null,
    exitCode: null,
    durationMs: null,
    log: null,
    event: null,
    cancelled: false
  };
  if (req.shape && target.task) {
    const { checkShape } = await import("./shape-EJTWPJQN.js");
    const shape = checkShape(req.cwd, req.config, target.task, target.commit, req.shape.baseTip, req.shape.baseName, req.commonDir);
    if (!shape.ok)
      return { ...base, result: shape.missing ? "indeterminate" : "fail", step: "shape", summary: shape.problem };
  }
  if (!req.force) {
    const hit = cachedResult(req.treeEvents ?? await treeVerifyEvents(req.cwd, target.tree), target.tree, spec.hash);
    if (hit)
      return fromCachedEvent(target, spec.hash, hit);
  }
  const { releaseLock, tryLock } = await import("./lock-RZLALVZ2.js");
  const { runLockFile } = await import("./running-4X4OP5JN.js");
  const lockFile = runLockFile(req.stateDir, target.tree, spec.hash);
  const startedAt = (/* @__PURE__ */ new Date()).toISOString();
  const logFile = path.join(req.stateDir, "verify", "logs", `${startedAt.slice(0, 10)}`, `${target.tree.slice(0, 12)}-${spec.hash.slice(0, 12)}-${Date.now().toString(36)}-${process.pid}.log`);
  const lockData = { tree: target.tree, spec: spec.hash, commit: target.commit, task: target.task, startedAt, log: logFile };
  let coalesced = false;
  while (!tryLock(lockFile, lockData)) {
    if (req.signal?.aborted)
      return { ...base, result: "indeterminate", cancelled: true, summary: "cancelled while waiting for another run" };
    if (!coalesced)
      req.onProgress?.({ kind: "waiting", why: `another verify of tree ${target.tree.slice(0, 12)} runs on this machine: waiting for its answer` });
    coalesced = true;
    await sleep(100);
  }
  try {
    if (coalesced && !req.force) {
      const hit = cachedResult(await treeVerifyEvents(req.cwd, target.tree), target.tree, spec.hash);
      if (hit)
        return fromCachedEvent(target, spec.hash, hit, true);
    }
    return await runAndRecord(req, base, logFile);
  } finally {
    releaseLock(lockFile);
  }
}
async function runAndRecord(req, base, logFile) {
  const { spec, target } = req;
  const { loadExeca } = await import("./load-execa-RDR37WJY.js");
  loadExeca().catch(() => {
  });
  const { acquireWorkspace } = await import("./pool-N7U7WKZ3.js");
  const { OWNER_ENV, ownerMark, runSteps, tailLines } = await import("./steps-AHJCG46D.js");
  const { updateRegistry } = await import("./registry-OVOWDZCK.js");
  const logId = path.basename(logFile, ".log");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  await updateRegistry(req.stateDir, (r) => {
    r.logs.push({ id: logId, file: logFile, tree: target.tree, spec: spec.hash, commit: target.commit, task: target.task, startedAt: (/* @__PURE__ */ new Date()).toISOString(), finishedAt: null, result: null, step: null, exitCode: null, pid: process.pid });
  });
  const { gitIdentityAsync, hostId } = await import("./identity-EHNUQWW3.js");
  const { appendEvents } = await import("./write-ML3TOEIL.js");
  const started = Date.now();
  const by = gitIdentityAsync(req.cwd);
  by.catch(() => {
  });
  let steps;
  let workspace = null;
  try {
    try {
      workspace = await acquireWorkspace({
        cwd: req.cwd,
        commonDir: req.commonDir,
        stateDir: req.stateDir,
        commit: target.commit,
        tree: target.tree,
        keep: spec.verify.keep,
        concurrency: spec.verify.concurrency,
        onWait: () => req.onProgress?.({ kind: "waiting", why: `all ${spec.verify.concurrency} pool worktree(s) are busy: waiting for one` })
      });
    } catch (e) {
      const why = `could not prepare a worktree: ${e.message.split("\n")[0]}`;
      fs.appendFileSync(logFile, `omni-ship: ${why}
`);
      steps = { result: "indeterminate", step: null, exitCode: null, reason: why, durationMs: Date.now() - started, steps: [] };
    }
    if (workspace) {
      const ws = workspace;
      const { poolGitEnv } = await import("./pool-N7U7WKZ3.js");
      const total = spec.verify.steps.length;
      steps = await runSteps(spec.verify.steps.map((s) => ({ ...s, timeout: s.timeout ?? void 0 })), {
        cwd: ws.dir,
        logFile,
        skipExitCode: spec.verify.skipExitCode,
        defaultTimeoutSec: spec.verify.timeout,
        // from this process's env, not {}: core.hooksPath must be appended after the caller's GIT_CONFIG_COUNT
        // settings (a CI's safe.directory, credentials), not written over GIT_CONFIG_KEY_0 with the count cut to 1
        env: { ...poolGitEnv(process.env), [OWNER_ENV]: ownerMark(), OMNI_SHIP_VERIFY_COMMIT: target.commit, OMNI_SHIP_VERIFY_TREE: target.tree, ...target.task ? { OMNI_SHIP_TASK: target.task } : {} },
        signal: req.signal,
        onGroup: (pgid) => ws.setGroup(pgid),
        onStepStart: (index, step) => req.onProgress?.({ kind: "step-start", index, total, name: step.name }),
        onStepEnd: (index, outcome) => req.onProgress?.({ kind: "step-end", index, total, name: outcome.name, outcome })
      });
    }
  } finally {
    await workspace?.release();
  }
  steps = steps;
  const durationMs = Date.now() - started;
  const cancelled = !!req.signal?.aborted && steps.result === "indeterminate";
  const summary = cancelled ? "cancelled" : summaryOf(steps, spec.verify.steps.length);
  let event = null;
  if (!cancelled) {
    event = {
      v: 1,
      type: "verify",
      at: (/* @__PURE__ */ new Date()).toISOString(),
      by: await by.catch(() => "unknown <unknown>"),
      host: hostId(req.commonDir),
      tree: target.tree,
      spec: spec.hash,
      result: steps.result,
      commit: target.commit,
      task: target.task,
      step: steps.step,
      exitCode: steps.exitCode,
      summary,
      durationMs,
      specFrom: spec.source.kind,
      ...spec.verify.shareOutput && steps.result !== "pass" ? { output: tailLines(logFile, 20, 4096) } : {}
    };
    await appendEvents(req.cwd, NOTES_REFS.verify, [{ object: target.tree, events: [event] }], void 0, req.known ?? void 0);
  }
  await updateRegistry(req.stateDir, (r) => {
    const entry = r.logs.find((l) => l.file === logFile);
    if (entry)
      Object.assign(entry, { finishedAt: (/* @__PURE__ */ new Date()).toISOString(), result: cancelled ? "cancelled" : steps.result, step: steps.step, exitCode: steps.exitCode });
  });
  return { ...base, result: steps.result, step: steps.step, exitCode: steps.exitCode, summary, durationMs, log: logFile, event, cancelled };
}

export {
  exitCodeOf,
  treeVerifyEvents,
  fromCachedEvent,
  verifyCommit
};
