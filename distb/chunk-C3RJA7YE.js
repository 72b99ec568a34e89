import {
  colorEnabled,
  columns,
  style
} from "./chunk-J6TYBACV.js";
import {
  runningVerifies
} from "./chunk-ZF2EADDJ.js";
import {
  LOCAL_CONFIG_FILES
} from "./chunk-X3DBBVZN.js";
import {
  STATES,
  buildFingerprint,
  compareTaskIds,
  loadState,
  readRefSnapshot
} from "./chunk-QC6GLNLN.js";
import {
  appendTo
} from "./chunk-BRY4P75L.js";
import {
  baseRefCandidates
} from "./chunk-XXU5WV5T.js";
import {
  parseTaskId
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireWorkRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/state/status-cache.js
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
var FILE = "status-cache.json";
var SEEN = "status-seen";
function statusKey(config, refSnapshot) {
  return createHash("sha1").update(buildFingerprint()).update("\0").update(JSON.stringify(config)).update("\0").update(refSnapshot).digest("hex");
}
function readStatusSnapshot(stateDir2, key, isTask) {
  if (!stateDir2 || process.env.OMNI_SHIP_NO_CACHE)
    return null;
  try {
    const fd = fs.openSync(path.join(stateDir2, FILE), "r");
    let body;
    try {
      const head = Buffer.alloc(key.length + 1);
      if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head.toString("latin1") !== `${key}
`)
        return null;
      const size = fs.fstatSync(fd).size - head.length;
      const rest = Buffer.alloc(size);
      let got = 0;
      while (got < size) {
        const n = fs.readSync(fd, rest, got, size - got, head.length + got);
        if (n === 0)
          break;
        got += n;
      }
      body = rest.toString("utf8", 0, got);
    } finally {
      fs.closeSync(fd);
    }
    const snapshot = JSON.parse(body);
    if (!snapshot || typeof snapshot.base !== "string" || !Array.isArray(snapshot.tasks) || !Array.isArray(snapshot.warnings))
      return null;
    if (!snapshot.warnings.every((w) => typeof w === "string") || !snapshot.tasks.every(isTask))
      return null;
    return snapshot;
  } catch {
    return null;
  }
}
function writeStatusSnapshot(stateDir2, key, snapshot) {
  if (!stateDir2 || process.env.OMNI_SHIP_NO_CACHE)
    return;
  try {
    fs.mkdirSync(stateDir2, { recursive: true });
    let seen = "";
    try {
      seen = fs.readFileSync(path.join(stateDir2, SEEN), "utf8");
    } catch {
    }
    if (seen !== key) {
      writeAtomically(path.join(stateDir2, SEEN), key);
      return;
    }
    writeAtomically(path.join(stateDir2, FILE), `${key}
${JSON.stringify(snapshot())}`);
  } catch {
  }
}
function writeAtomically(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// dist/verify/current.js
import fs2 from "node:fs";
import path2 from "node:path";
function statOf(file) {
  try {
    const st = fs2.statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return "-";
  }
}
function readVerifyContext(cwd, commonDir, stateDir2, config, refSnapshot) {
  const running = runningVerifies(stateDir2).map((r) => ({ tree: r.tree, spec: r.spec, startedAt: r.startedAt }));
  const files = [...LOCAL_CONFIG_FILES.map((f) => path2.join(commonDir, f)), path2.join(stateDir2, "verify", "cache-keys.json")];
  const keyPart = JSON.stringify([files.map(statOf), running]);
  return {
    keyPart,
    async load() {
      const tips = /* @__PURE__ */ new Map();
      for (const line of refSnapshot.split("\n")) {
        const [name, oid, type] = line.split("\0");
        if (name && oid && type === "commit")
          tips.set(name, oid);
      }
      const baseRef = baseRefCandidates(config).find((r) => tips.has(r));
      try {
        const { resolveSpec } = await import("./spec-DERXH5BE.js");
        const spec = await resolveSpec({ cwd, commonDir, stateDir: stateDir2, baseTip: baseRef ? tips.get(baseRef) : null, runCacheKey: false, baseName: config.baseBranch });
        const hash = spec.verify.steps.length ? spec.hash : null;
        return { context: { spec: hash, running }, source: spec.source, warning: null };
      } catch (e) {
        return { context: { spec: null, running }, source: null, warning: `verify results are not judged: ${e.message}` };
      }
    }
  };
}

// dist/commands/status.js
function verifyLine(e) {
  return e ? { result: e.result, at: e.at, spec: e.spec, step: e.step, exitCode: e.exitCode, summary: e.summary, by: e.by, host: e.host } : null;
}
function taskJson(t) {
  return {
    id: t.id,
    parent: t.parent,
    state: t.state,
    branch: t.branch,
    head: t.head,
    patchsets: t.patchsets.length,
    verify: verifyLine(t.verify),
    verifyOtherSpec: verifyLine(t.verifyOtherSpec),
    verifyingSince: t.verifyingSince,
    review: t.review ? { verdict: t.review.verdict, by: t.review.by, at: t.review.at, message: t.review.message } : null,
    landing: t.landing ? { commit: t.landing.commit, landed: t.landing.landed, base: t.landing.base, at: t.landing.at, by: t.landing.by } : null,
    landedCommit: t.landedCommit,
    live: t.live
  };
}
var isStr = (v) => typeof v === "string";
var strOrNull = (v) => v === null || typeof v === "string";
function shaped(o, fields) {
  if (typeof o !== "object" || o === null || Array.isArray(o))
    return false;
  for (const f in fields)
    if (!fields[f](o[f]))
      return false;
  return true;
}
var nullOr = (fields) => (v) => v === null || shaped(v, fields);
var VERIFY_FIELDS = { result: isStr, at: isStr, spec: isStr, step: strOrNull, exitCode: (v) => v === null || typeof v === "number", summary: strOrNull, by: isStr, host: isStr };
var TASK_FIELDS = {
  id: isStr,
  parent: strOrNull,
  state: (v) => STATES.includes(v),
  branch: strOrNull,
  head: strOrNull,
  patchsets: (v) => typeof v === "number",
  verify: nullOr(VERIFY_FIELDS),
  verifyOtherSpec: nullOr(VERIFY_FIELDS),
  verifyingSince: strOrNull,
  review: nullOr({ verdict: isStr, by: isStr, at: isStr, message: strOrNull }),
  landing: nullOr({ commit: isStr, landed: isStr, base: isStr, at: isStr, by: isStr }),
  landedCommit: strOrNull,
  live: (v) => Array.isArray(v) && v.every(isStr)
};
function isTaskStatusJson(t) {
  return shaped(t, TASK_FIELDS);
}
function badLineWarnings(state) {
  const byRef = /* @__PURE__ */ new Map();
  for (const b of state.bad)
    appendTo(byRef, b.ref, b);
  const lines = [...byRef].map(([ref, list]) => `skipped ${list.length} unreadable line(s) in ${ref} (first: note on ${list[0].line.object.slice(0, 12)}: ${list[0].line.reason})`);
  return [...state.warnings, ...lines];
}
var stateColor = {
  landed: "dim",
  verified: "green",
  approved: "green",
  failed: "red",
  "needs-help": "red",
  diverged: "yellow",
  verifying: "cyan"
};
function verifyCell(t) {
  if (t.verifyingSince)
    return `running ${Math.max(0, Math.round((Date.now() - Date.parse(t.verifyingSince)) / 1e3))} s`;
  if (t.verify)
    return t.verify.result === "fail" && t.verify.step ? `fail: ${t.verify.step}` : t.verify.result;
  if (t.verifyOtherSpec)
    return `(${t.verifyOtherSpec.result}, other spec)`;
  return "-";
}
async function statusCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  if (opts.state && !STATES.includes(opts.state)) {
    throw badInput(`unknown state '${opts.state}'`, `one of: ${STATES.join(", ")}`);
  }
  const parent = opts.parent ? parseTaskId(opts.parent, config) : null;
  const only = opts.task ? parseTaskId(opts.task, config) : null;
  const dir = stateDir(repo);
  const refs = await readRefSnapshot(repo.toplevel);
  const verify = readVerifyContext(repo.toplevel, repo.commonDir, dir, config, refs);
  const key = statusKey(config, `${refs}\0${verify.keyPart}`);
  let snapshot = readStatusSnapshot(dir, key, isTaskStatusJson);
  if (!snapshot) {
    const judged = await verify.load();
    const state = await loadState(repo.toplevel, config, dir, refs, judged.context);
    const tasks = [...state.tasks.values()].sort((a, b) => compareTaskIds(a.id, b.id)).map(taskJson);
    const computed = { base: state.base, spec: judged.context.spec, tasks, warnings: [...badLineWarnings(state), ...judged.warning ? [judged.warning] : []] };
    writeStatusSnapshot(dir, key, () => computed);
    snapshot = computed;
  }
  const all = snapshot.tasks;
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const t of all)
    counts[t.state]++;
  const shown = all.filter((t) => (!opts.state || t.state === opts.state) && (!parent || t.id === parent || t.id.startsWith(`${parent}.`)) && (!only || t.id === only));
  const warnings = snapshot.warnings;
  const data = { base: snapshot.base, spec: snapshot.spec ?? null, counts, tasks: shown, warnings };
  if (opts.json)
    return { data, text: "", warnings };
  const color = !opts.json && colorEnabled();
  const rows = [["TASK", "STATE", "BRANCH", "HEAD", "PS", "VERIFY", "REVIEW", "LANDED"].map((h) => style("bold", h, color))];
  for (const t of shown) {
    const c = stateColor[t.state];
    rows.push([
      t.id,
      c ? style(c, t.state, color) : t.state,
      t.branch ?? "-",
      t.head ? t.head.slice(0, 10) : "-",
      String(t.patchsets),
      verifyCell(t),
      t.review?.verdict ?? "-",
      // the commit that became part of the base branch
      (t.landing?.landed ?? t.landedCommit)?.slice(0, 10) ?? "-"
    ]);
  }
  const summary = STATES.filter((s) => counts[s] > 0).map((s) => `${s} ${counts[s]}`).join(", ") || "no tasks yet";
  const filtered = !!(opts.state || parent || only);
  const text = shown.length ? `${columns(rows)}

${summary}${filtered ? ` (all tasks; ${shown.length} shown)` : ""}` : all.length ? `no tasks match

${summary} (all tasks)` : "no tasks yet: commit on a task branch (git switch -c t-1) to start one";
  return { data, text, warnings };
}

export {
  readVerifyContext,
  taskJson,
  isTaskStatusJson,
  badLineWarnings,
  statusCommand
};
