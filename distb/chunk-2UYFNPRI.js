import {
  exitCodeOf,
  verifyCommit
} from "./chunk-NMLSM6RE.js";
import {
  colorEnabled,
  style
} from "./chunk-J6TYBACV.js";
import {
  committedConfigFrom,
  configRequests,
  describeSource,
  resolveSpec
} from "./chunk-X3DBBVZN.js";
import {
  notePathCandidates
} from "./chunk-IIXU77GC.js";
import {
  NOTES_REFS,
  baseRefCandidates
} from "./chunk-XXU5WV5T.js";
import {
  CatFileSession
} from "./chunk-JHUBOML5.js";
import {
  decodeNote
} from "./chunk-XETBP7KF.js";
import {
  taskIdFromBranch,
  tryTaskId
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig,
  loadConfigOrPrevious
} from "./chunk-3764SIXL.js";
import {
  requireRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import {
  ExitCode,
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/verify/prepare.js
import fs from "node:fs";
import path from "node:path";
function taskOfHead(gitDir, config) {
  try {
    const head = fs.readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: refs/heads/"))
      return null;
    const branch = head.slice("ref: refs/heads/".length);
    return branch === config.baseBranch ? null : taskIdFromBranch(branch, config);
  } catch {
    return null;
  }
}
function withResolved(config, values) {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(config));
  Object.defineProperty(out, "remote", { value: values.remote, enumerable: true });
  Object.defineProperty(out, "baseBranch", { value: values.baseBranch, enumerable: true });
  return out;
}
function treeOf(commit) {
  return commit.content ? /^tree ([0-9a-f]{40,64})$/m.exec(commit.content.toString("latin1"))?.[1] ?? null : null;
}
async function prepareVerify(opts) {
  const repo = requireRepo(opts.cwd);
  const cwd = repo.toplevel ?? repo.commonDir;
  const dir = stateDir(repo);
  const loaded = opts.background ? await loadConfigOrPrevious(cwd, dir) : await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
  let config = loaded.config;
  const taskTarget = opts.target !== void 0 && tryTaskId(opts.target, config) ? await (await import("./target-XJWQSGEP.js")).resolveTarget(cwd, config, dir, opts.target) : null;
  const rev = taskTarget?.commit ?? opts.target ?? "HEAD";
  if (/[\n\0]/.test(rev))
    throw badInput(`'${rev}' is neither a task id nor a commit here`, "name a task (t-565), a branch, a tag or a commit id");
  const session = new CatFileSession(cwd);
  let target;
  let base = null;
  let baseConfig;
  let treeEvents = [];
  let known = null;
  try {
    const guess = ["refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master"];
    const perRef = configRequests("").length;
    const asked = session.ask([`${rev}^{commit}`, NOTES_REFS.verify, ...guess.flatMap((r) => [`${r}^{commit}`, ...configRequests(r)])]);
    asked.catch(() => {
    });
    if (loaded.dynamic.length) {
      const { dynamicDefaultsAsync } = await import("./defaults-ZUW3I572.js");
      const resolved = await dynamicDefaultsAsync(cwd, loaded.dynamic.includes("remote") ? void 0 : config.remote, { commonDir: repo.commonDir, gitDir: repo.gitDir });
      config = withResolved(config, loaded.dynamic.includes("baseBranch") ? resolved : { remote: resolved.remote, baseBranch: config.baseBranch });
    }
    const baseRefs = baseRefCandidates(config);
    const answers = await asked;
    const refAnswers = /* @__PURE__ */ new Map();
    guess.forEach((r, i) => refAnswers.set(r, answers.slice(2 + i * (1 + perRef), 2 + (i + 1) * (1 + perRef))));
    const unguessed = baseRefs.filter((r) => !refAnswers.has(r));
    if (unguessed.length) {
      const more = await session.ask(unguessed.flatMap((r) => [`${r}^{commit}`, ...configRequests(r)]));
      unguessed.forEach((r, i) => refAnswers.set(r, more.slice(i * (1 + perRef), (i + 1) * (1 + perRef))));
    }
    const commit = answers[0];
    const tree = commit.type === "commit" ? treeOf(commit) : null;
    if (!commit.oid || !tree) {
      if (opts.target === void 0)
        throw badInput("HEAD has no commit yet: nothing to verify", "commit first, or name a task or a commit");
      throw badInput(`'${opts.target}' is neither a task id nor a commit here`, "name a task (t-565), a branch, a tag or a commit id");
    }
    target = { commit: commit.oid, tree, task: taskTarget?.task ?? (opts.target === void 0 ? taskOfHead(repo.gitDir, config) : null) };
    const found = baseRefs.find((r) => refAnswers.get(r)?.[0]?.type === "commit");
    if (found) {
      const got = refAnswers.get(found);
      base = { tip: got[0].oid, ref: found, name: config.baseBranch };
      baseConfig = committedConfigFrom(got.slice(1));
    }
    const notes = answers[1];
    if (!notes.oid)
      known = { tip: null, notes: /* @__PURE__ */ new Map([[tree, null]]) };
    if (notes.type === "commit") {
      const events = [];
      const bad = [];
      let found2 = null;
      const paths = notePathCandidates(tree);
      (await session.ask(paths.map((p) => `${notes.oid}:${p}`))).forEach((a, i) => {
        if (!a.content || a.type !== "blob" || found2)
          return;
        found2 = { text: a.content.toString("utf8"), path: paths[i] };
        decodeNote(tree, found2.text, events, bad);
      });
      treeEvents = events.filter((e) => e.type === "verify" && e.tree === tree);
      known = { tip: notes.oid, notes: /* @__PURE__ */ new Map([[tree, found2]]) };
    }
  } finally {
    session.close();
  }
  let why = null;
  if (!base) {
    const fetched = (await import("./base-4CIZ5SVR.js")).fetchBaseTip(cwd, config);
    base = fetched.base;
    why = fetched.why;
  }
  const spec = await resolveSpec({
    cwd,
    commonDir: repo.commonDir,
    stateDir: dir,
    baseTip: base?.tip ?? null,
    baseConfig: base && baseConfig !== void 0 ? baseConfig : void 0,
    fromCommit: opts.specFromCommit ? target.commit : null,
    runCacheKey: true,
    baseName: config.baseBranch
  });
  if (!base && spec.source.kind === "base") {
    throw new UserError(`cannot read the team's verify spec: ${why}`, ExitCode.usage, `fetch the base branch (git fetch ${config.remote ?? "<remote>"} ${config.baseBranch}), set baseBranch, or put the spec in this clone's local config .git/omni-ship.yaml`);
  }
  return { cwd, commonDir: repo.commonDir, stateDir: dir, config, target, base, spec, treeEvents, known };
}

// dist/commands/verify.js
function verifyJson(o, source) {
  return {
    result: o.result,
    cached: o.cached,
    coalesced: o.coalesced,
    cancelled: o.cancelled,
    commit: o.commit,
    tree: o.tree,
    task: o.task,
    spec: o.spec,
    specSource: source,
    step: o.step,
    exitCode: o.exitCode,
    summary: o.summary,
    durationMs: o.durationMs,
    log: o.log,
    recorded: o.event ? { by: o.event.by, host: o.event.host, at: o.event.at } : null
  };
}
function verifyText(o, p, tail) {
  const color = colorEnabled();
  const what = `${o.task ? `${o.task} ` : ""}${o.commit.slice(0, 12)} (tree ${o.tree.slice(0, 12)})`;
  const word = o.result === "pass" ? style("green", "pass", color) : o.result === "fail" ? style("red", "fail", color) : style("yellow", o.result, color);
  const lines = [`${what}: ${word}: ${o.summary}`];
  if (o.cached && o.event)
    lines.push(`cached: recorded by ${o.event.by} on ${o.event.host} at ${o.event.at}${o.coalesced ? " (the run this one waited for)" : ""}`);
  lines.push(`spec ${o.spec.slice(0, 12)} from ${describeSource(p.spec.source, p.config.baseBranch)}`);
  if (o.log)
    lines.push(`log: ${o.log}`);
  if (tail)
    lines.push("", tail);
  if (o.result === "fail" && o.step === "shape")
    lines.push("", "hint: fix the branch shape; no step ran and nothing was recorded");
  else if (o.result === "fail")
    lines.push("", `hint: fix it and amend the commit (git commit --amend); omni-ship logs ${o.task ?? o.commit.slice(0, 12)} shows the whole log`);
  else if (o.result === "indeterminate" && o.step === "shape")
    lines.push("", "hint: fetch the missing history (git fetch --deepen=50, or --unshallow), then run omni-ship verify again; nothing was recorded");
  else if (o.result === "indeterminate")
    lines.push("", "hint: nothing was cached as a failure: run omni-ship verify again");
  return lines.join("\n");
}
async function verifyCommand(opts) {
  const p = await prepareVerify(opts);
  const shape = p.target.task && p.base ? { baseTip: p.base.tip, baseName: p.config.baseBranch } : null;
  if (opts.background)
    return background(opts, p);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("interrupted"));
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals)
    process.on(s, stop);
  const { progressPrinter } = await import("./progress-KPBMYUML.js");
  const printer = opts.json ? null : progressPrinter(process.stderr, colorEnabled(process.stderr));
  let outcome;
  try {
    outcome = await verifyCommit({
      cwd: p.cwd,
      commonDir: p.commonDir,
      stateDir: p.stateDir,
      config: p.config,
      spec: p.spec,
      target: p.target,
      shape,
      force: opts.force,
      treeEvents: p.treeEvents,
      known: p.known,
      signal: controller.signal,
      onProgress: printer?.onProgress
    });
  } finally {
    printer?.done();
    for (const s of signals)
      process.off(s, stop);
  }
  let tail = "";
  if (outcome.log && (outcome.result === "fail" || outcome.result === "indeterminate")) {
    const { tailLines } = await import("./steps-AHJCG46D.js");
    tail = tailLines(outcome.log, 15);
  } else if (outcome.cached && outcome.event?.output)
    tail = outcome.event.output;
  return { data: verifyJson(outcome, p.spec.source), text: verifyText(outcome, p, tail), exitCode: outcome.cancelled ? ExitCode.indeterminate : exitCodeOf(outcome.result) };
}
async function background(opts, p) {
  const { cachedResult } = await import("./fold-HIIDYICM.js");
  const base = { commit: p.target.commit, tree: p.target.tree, task: p.target.task, spec: p.spec.hash };
  if (p.spec.verify.steps.length === 0) {
    await verifyCommit({ cwd: p.cwd, commonDir: p.commonDir, stateDir: p.stateDir, config: p.config, spec: p.spec, target: p.target });
  }
  const hit = opts.force ? null : cachedResult(p.treeEvents, p.target.tree, p.spec.hash);
  if (hit) {
    const { fromCachedEvent } = await import("./verify-45WPGMGT.js");
    const json = verifyJson(fromCachedEvent(p.target, p.spec.hash, hit), p.spec.source);
    return { data: { ...base, started: false, pid: null, cached: json }, text: `${p.target.commit.slice(0, 12)}: ${hit.result} (cached): ${hit.summary ?? ""}`.trimEnd() };
  }
  const { requestTaskVerify, spawnBackgroundVerify } = await import("./background-5KFSRXRZ.js");
  if (p.target.task)
    requestTaskVerify(p.stateDir, p.target.task, p.target.commit);
  const pid = spawnBackgroundVerify(p.cwd, p.stateDir, p.target.commit, p.target.task, { force: opts.force, specFromCommit: opts.specFromCommit });
  return {
    data: { ...base, started: true, pid, cached: null },
    text: `verifying ${p.target.task ? `${p.target.task} ` : ""}${p.target.commit.slice(0, 12)} in the background (pid ${pid ?? "?"}); omni-ship logs ${p.target.task ?? p.target.commit.slice(0, 12)} --follow shows it`
  };
}

export {
  prepareVerify,
  verifyJson,
  verifyCommand
};
