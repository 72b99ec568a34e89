import {
  appendTo
} from "./chunk-BRY4P75L.js";
import {
  readAllNotes,
  readChangedNotes
} from "./chunk-IIXU77GC.js";
import {
  NOTES_REFS,
  baseRefCandidates
} from "./chunk-XXU5WV5T.js";
import {
  trailerClaim,
  trailerPlaceholder,
  trailerValues
} from "./chunk-7AMGEYTX.js";
import {
  foldVerify,
  otherSpecResult
} from "./chunk-S5HPCCKI.js";
import {
  byTime,
  decodeNote
} from "./chunk-XETBP7KF.js";
import {
  packageVersion
} from "./chunk-ZPUHQCBY.js";
import {
  taskIdFromBranch,
  tryTaskId
} from "./chunk-KCAZVUE7.js";
import {
  gitAsync
} from "./chunk-T3IP3O65.js";

// dist/state/commits.js
var SEP = "";
var REC = "";
function logFormat(trailerKey, withParents) {
  return `--format=%H${SEP}%T${SEP}${withParents ? "%P" : ""}${SEP}${trailerPlaceholder(trailerKey)}${REC}`;
}
function parseLog(out, config) {
  const commits = [];
  for (const record of out.split(REC)) {
    const r = record.replace(/^\n+/, "");
    if (!r)
      continue;
    const [sha, tree, parents, trailers] = r.split(SEP);
    if (!sha || !tree)
      continue;
    const parent = parents ? parents.split(" ")[0] || null : null;
    commits.push({ sha, tree, parent, claim: trailerClaim(trailerValues(trailers ?? ""), config, config.trailerKey) });
  }
  return commits;
}
function claimedTask(c) {
  return c?.claim.kind === "task" ? c.claim.task : null;
}
function ownCommit(tip, id, side) {
  const top = side.get(tip);
  if (!top)
    return null;
  if (top.claim.kind === "none" || claimedTask(top) === id)
    return tip;
  for (let c = side.get(top.parent ?? ""); c; c = side.get(c.parent ?? "")) {
    if (claimedTask(c) === id)
      return c.sha;
  }
  return null;
}

// dist/state/base-warning.js
function missingBaseWarning(config, found, refs) {
  if (found.length)
    return null;
  if (![...refs.keys()].some((r) => r.startsWith("refs/heads/") || r.startsWith("refs/remotes/")))
    return null;
  const lookedFor = baseRefCandidates(config);
  const fetch = config.remote ? `, or fetch it (git fetch ${config.remote} ${config.baseBranch})` : "";
  return `base branch '${config.baseBranch}' not found: looked for ${lookedFor.join(" and ")}, so no task counts as landed; set baseBranch in the omni-ship config to the branch tasks land on (omni-ship config shows where it is set)${fetch}`;
}

// dist/state/latest.js
function latestBy(events, key) {
  const out = /* @__PURE__ */ new Map();
  for (const e of events) {
    const k = key(e);
    const cur = out.get(k);
    if (!cur || byTime(cur, e) < 0)
      out.set(k, e);
  }
  return out;
}
function latestByTaskAndCommit(events) {
  const out = /* @__PURE__ */ new Map();
  for (const e of events) {
    let byCommit = out.get(e.task);
    if (!byCommit)
      out.set(e.task, byCommit = /* @__PURE__ */ new Map());
    const cur = byCommit.get(e.commit);
    if (!cur || byTime(cur, e) < 0)
      byCommit.set(e.commit, e);
  }
  return out;
}
function circuitOf(events) {
  let failures = 0;
  let needsHelp = false;
  for (const e of [...events].sort(byTime)) {
    if (e.outcome === "fail")
      failures++;
    else if (e.outcome === "needs-help")
      needsHelp = true;
    else {
      failures = 0;
      needsHelp = false;
    }
  }
  return { failures, needsHelp };
}

// dist/notes/fold.js
function foldPatchsets(events) {
  const byTask = /* @__PURE__ */ new Map();
  for (const e of [...events].sort(byTime)) {
    const self = e.supersedes === e.commit;
    let commits = byTask.get(e.task);
    if (!commits)
      byTask.set(e.task, commits = /* @__PURE__ */ new Map());
    const seen = commits.get(e.commit);
    if (!seen) {
      commits.set(e.commit, {
        n: 0,
        commit: e.commit,
        tree: e.tree,
        parent: e.parent,
        branch: e.branch,
        at: e.at,
        by: e.by,
        author: e.author ?? null,
        via: e.via,
        supersedes: e.supersedes && !self ? [e.supersedes] : []
      });
    } else if (!self) {
      if (e.supersedes && !seen.supersedes.includes(e.supersedes))
        seen.supersedes.push(e.supersedes);
      if (seen.via === "commit" && (e.via === "amend" || e.via === "rebase"))
        seen.via = e.via;
    }
  }
  const result = /* @__PURE__ */ new Map();
  for (const [task, commits] of byTask) {
    const list = [...commits.values()].sort((a, b) => a.at !== b.at ? a.at < b.at ? -1 : 1 : a.commit < b.commit ? -1 : 1);
    list.forEach((p, i) => p.n = i + 1);
    result.set(task, list);
  }
  return result;
}
function supersededCommits(patchsets) {
  const out = /* @__PURE__ */ new Set();
  for (const p of patchsets) {
    for (const s of p.supersedes)
      out.add(s);
    if (p.parent)
      out.add(p.parent);
  }
  return out;
}

// dist/state/cache.js
import { createHash as createHash2 } from "node:crypto";
import fs2 from "node:fs";
import path2 from "node:path";

// dist/state/build.js
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
var fingerprint = null;
function buildFingerprint() {
  if (fingerprint === null) {
    const hash = createHash("sha1").update(packageVersion());
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
    try {
      const files = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name)).sort();
      for (const file of files)
        hash.update(`\0${path.relative(root, file)}\0`).update(fs.readFileSync(file));
    } catch {
      hash.update(String(Math.random()));
    }
    fingerprint = hash.digest("hex");
  }
  return fingerprint;
}

// dist/state/cache.js
var FIELDS = {
  patchset: ["author", "branch", "commit", "parent", "supersedes", "task", "tree", "via"],
  review: ["commit", "message", "task", "verdict"],
  verify: ["commit", "exitCode", "result", "spec", "step", "summary", "task", "tree"],
  land: ["base", "commit", "landed", "task"],
  attempt: ["commit", "error", "outcome", "role", "task"]
};
var HEAD = ["v", "type", "at", "by", "host"];
var KEYS = Object.fromEntries(Object.entries(FIELDS).map(([type, fields]) => [type, [...HEAD, ...fields].join("\0")]));
function pack(e) {
  const record = e;
  if (Object.keys(record).join("\0") !== KEYS[e.type])
    return e;
  const out = [e.type, e.at, e.by, e.host];
  for (const f of FIELDS[e.type])
    out.push(record[f]);
  return out;
}
function unpack(p) {
  if (!Array.isArray(p))
    return p;
  const type = p[0];
  const e = { v: 1, type, at: p[1], by: p[2], host: p[3] };
  const fields = FIELDS[type];
  for (let i = 0; i < fields.length; i++)
    e[fields[i]] = p[4 + i];
  return e;
}
function decodedPart(part) {
  if (!part || typeof part.tip !== "string" || !Array.isArray(part.objects))
    return null;
  const decoded = /* @__PURE__ */ new Map();
  for (const [object, packed, bad] of part.objects)
    decoded.set(object, [packed.map(unpack), bad]);
  return { tip: part.tip, objects: decoded };
}
function basePart(b) {
  return b && typeof b.key === "string" && Array.isArray(b.landed) ? b : null;
}
function empty() {
  return { notes: /* @__PURE__ */ new Map(), base: null, dirty: /* @__PURE__ */ new Set() };
}
var DIR = "state-cache";
var BASE_PART = "base";
var partFile = (stateDir, part) => path2.join(stateDir, DIR, `${part.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`);
var FORMAT = 6;
var VALUE_AT = ',"value":';
function readPart(stateDir, part) {
  try {
    const text = fs2.readFileSync(partFile(stateDir, part), "utf8");
    const at = text.indexOf(VALUE_AT);
    if (at < 0 || !text.endsWith("}"))
      return null;
    const header = JSON.parse(`${text.slice(0, at)}}`);
    if (header?.format !== FORMAT || header.build !== buildFingerprint() || header.part !== part)
      return null;
    const body = text.slice(at + VALUE_AT.length, -1);
    if (createHash2("sha1").update(body).digest("hex") !== header.sum)
      return null;
    return JSON.parse(body);
  } catch {
    return null;
  }
}
function writePart(stateDir, part, value) {
  const file = partFile(stateDir, part);
  const tmp = `${file}.${process.pid}.tmp`;
  const body = JSON.stringify(value);
  const sum = createHash2("sha1").update(body).digest("hex");
  fs2.writeFileSync(tmp, `${JSON.stringify({ format: FORMAT, build: buildFingerprint(), part, sum }).slice(0, -1)}${VALUE_AT}${body}}`);
  fs2.renameSync(tmp, file);
}
function readStateCache(stateDir, refs) {
  const cache = empty();
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE)
    return cache;
  for (const ref of refs) {
    const part = decodedPart(readPart(stateDir, ref));
    if (part)
      cache.notes.set(ref, part);
  }
  cache.base = basePart(readPart(stateDir, BASE_PART));
  return cache;
}
function writeStateCache(stateDir, cache) {
  if (!stateDir || process.env.OMNI_SHIP_NO_CACHE || cache.dirty.size === 0)
    return;
  try {
    fs2.mkdirSync(path2.join(stateDir, DIR), { recursive: true });
    for (const part of cache.dirty) {
      if (part === BASE_PART) {
        writePart(stateDir, BASE_PART, cache.base);
        continue;
      }
      const entry = cache.notes.get(part);
      if (!entry) {
        fs2.rmSync(partFile(stateDir, part), { force: true });
        continue;
      }
      const objects = [...entry.objects].map(([object, [events, bad]]) => [object, events.map(pack), bad]);
      writePart(stateDir, part, { tip: entry.tip, objects });
    }
    fs2.rmSync(path2.join(stateDir, "state-cache.json"), { force: true });
  } catch {
  }
}
var BASE_CACHE_PART = BASE_PART;

// dist/state/tasks.js
var STATES = ["in-progress", "verifying", "failed", "verified", "approved", "landed", "needs-help", "diverged"];
function compareTaskIds(a, b) {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y)
      continue;
    const nx = Number(x);
    const ny = Number(y);
    if (i % 2 === 1 && !Number.isNaN(nx) && !Number.isNaN(ny))
      return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
function parentTask(id) {
  const dot = id.lastIndexOf(".");
  return dot > 0 ? id.slice(0, dot) : null;
}
async function readRefSnapshot(cwd) {
  return (await gitAsync(["for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)", "refs/heads", "refs/remotes", "refs/notes/omni-ship"], { cwd })).stdout;
}
async function loadState(cwd, config, stateDir = null, snapshot, verifyContext) {
  const cache = readStateCache(stateDir, Object.values(NOTES_REFS));
  const refsOut = snapshot ?? await readRefSnapshot(cwd);
  const refs = /* @__PURE__ */ new Map();
  const warnings = [];
  for (const line of refsOut.split("\n")) {
    const [name, oid, type] = line.split("\0");
    if (!name || !oid)
      continue;
    if (type !== "commit") {
      if (name.startsWith("refs/notes/"))
        warnings.push(`skipped ${name}: it points at a ${type}, not a notes commit`);
      continue;
    }
    refs.set(name, oid);
  }
  const base = config.baseBranch;
  const baseRefs = baseRefCandidates(config).filter((r) => refs.has(r));
  const missingBase = missingBaseWarning(config, baseRefs, refs);
  if (missingBase)
    warnings.push(missingBase);
  const allTips = [];
  const branchTips = /* @__PURE__ */ new Map();
  for (const [name, sha] of refs) {
    const local = name.startsWith("refs/heads/");
    if (!local && !name.startsWith("refs/remotes/"))
      continue;
    const branch = name.slice(local ? "refs/heads/".length : "refs/remotes/".length);
    if (!local && (branch.endsWith("/HEAD") || !branch.includes("/")))
      continue;
    const short = local ? branch : branch.slice(branch.indexOf("/") + 1);
    if (short === base)
      continue;
    const tip = { branch, sha, local };
    allTips.push(tip);
    const id = taskIdFromBranch(short, config);
    if (id)
      appendTo(branchTips, id, tip);
  }
  const tipShas = [...new Set(allTips.map((t) => t.sha))];
  const baseShas = [...new Set(baseRefs.map((r) => refs.get(r)))];
  const notesTips = Object.keys(NOTES_REFS).map((log) => ({ log, ref: NOTES_REFS[log], tip: refs.get(NOTES_REFS[log]) ?? "" })).filter((n) => n.tip !== "");
  const perObject = /* @__PURE__ */ new Map();
  const toRead = [];
  const incremental = [];
  for (const n of notesTips) {
    const hit = cache.notes.get(n.ref);
    perObject.set(n.ref, hit ? hit.objects : /* @__PURE__ */ new Map());
    if (hit?.tip === n.tip)
      continue;
    if (hit)
      incremental.push({ ref: n.ref, tip: n.tip, from: hit.tip });
    else
      toRead.push(n);
    cache.dirty.add(n.ref);
  }
  const decodeInto = (ref, object, text) => {
    const events2 = [];
    const bad2 = [];
    decodeNote(object, text, events2, bad2);
    perObject.get(ref).set(object, [events2, bad2]);
  };
  const baseKey = `${config.trailerKey}\0${config.taskPattern}\0${baseRefs.map((r) => `${r}=${refs.get(r)}`).join("\0")}`;
  const baseHit = cache.base?.key === baseKey ? cache.base : null;
  const [baseLog, sideLog] = await Promise.all([
    baseShas.length && !baseHit ? gitAsync(["log", logFormat(config.trailerKey, false), ...baseShas, "--"], { cwd }) : Promise.resolve({ stdout: "", stderr: "", exitCode: 0 }),
    tipShas.length ? gitAsync(["log", logFormat(config.trailerKey, true), "--stdin"], { cwd, input: `${[...tipShas, ...baseShas.map((b) => `^${b}`)].join("\n")}
` }) : Promise.resolve({ stdout: "", stderr: "", exitCode: 0 }),
    readAllNotes(cwd, toRead, void 0, decodeInto),
    Promise.all(incremental.map(async (n) => {
      const records = perObject.get(n.ref);
      try {
        await readChangedNotes(cwd, n.from, n.tip, (object) => records.delete(object), (object, text) => decodeInto(n.ref, object, text));
      } catch {
        records.clear();
        await readAllNotes(cwd, [{ ref: n.ref, tip: n.tip }], void 0, decodeInto);
      }
    }))
  ]);
  const landedByTask = /* @__PURE__ */ new Map();
  if (baseHit) {
    for (const [task, sha] of baseHit.landed)
      landedByTask.set(task, sha);
  } else {
    for (const c of parseLog(baseLog.stdout, config)) {
      const task = claimedTask(c);
      if (task && !landedByTask.has(task))
        landedByTask.set(task, c.sha);
    }
    cache.base = { key: baseKey, landed: [...landedByTask] };
    cache.dirty.add(BASE_CACHE_PART);
  }
  for (const n of notesTips)
    cache.notes.set(n.ref, { tip: n.tip, objects: perObject.get(n.ref) });
  for (const ref of [...cache.notes.keys()]) {
    if (!notesTips.some((n) => n.ref === ref)) {
      cache.notes.delete(ref);
      cache.dirty.add(ref);
    }
  }
  writeStateCache(stateDir, cache);
  const sideCommits = parseLog(sideLog.stdout, config);
  const side = /* @__PURE__ */ new Map();
  const trailerHead = /* @__PURE__ */ new Map();
  const sideOrder = /* @__PURE__ */ new Map();
  sideCommits.forEach((c, i) => {
    side.set(c.sha, c);
    sideOrder.set(c.sha, i);
    const task = claimedTask(c);
    if (task && !trailerHead.has(task))
      trailerHead.set(task, c);
  });
  const claimedTips = /* @__PURE__ */ new Map();
  for (const t of allTips) {
    const task = claimedTask(side.get(t.sha));
    if (task && !claimedTips.get(task)?.includes(t.sha))
      appendTo(claimedTips, task, t.sha);
  }
  const branchAt = /* @__PURE__ */ new Map();
  for (const [name, sha] of refs) {
    if (name.startsWith("refs/heads/") && !branchAt.has(sha))
      branchAt.set(sha, name.slice("refs/heads/".length));
  }
  const bad = [];
  const events = { patchset: [], review: [], verify: [], land: [], attempt: [] };
  for (const n of notesTips) {
    const type = expectedType(n.log);
    for (const [objectEvents, objectBad] of perObject.get(n.ref).values()) {
      for (const e of objectEvents)
        if (e.type === type)
          events[e.type].push(e);
      for (const line of objectBad)
        bad.push({ ref: n.ref, line });
    }
  }
  const patchsets = foldPatchsets(events.patchset);
  const reviews = latestByTaskAndCommit(events.review);
  const verifies = foldVerify(events.verify);
  const currentSpec = verifyContext?.spec ?? null;
  const lands = latestBy(events.land, (e) => e.task);
  const attempts = /* @__PURE__ */ new Map();
  for (const e of events.attempt) {
    let byCommit = attempts.get(e.task);
    if (!byCommit)
      attempts.set(e.task, byCommit = /* @__PURE__ */ new Map());
    appendTo(byCommit, e.commit, e);
  }
  const ids = /* @__PURE__ */ new Set([...branchTips.keys(), ...landedByTask.keys(), ...patchsets.keys(), ...trailerHead.keys()]);
  for (const e of events.review)
    ids.add(e.task);
  for (const e of events.land)
    ids.add(e.task);
  for (const e of events.attempt)
    ids.add(e.task);
  const treeOf = /* @__PURE__ */ new Map();
  for (const list of patchsets.values())
    for (const p of list)
      treeOf.set(p.commit, p.tree);
  const tasks = /* @__PURE__ */ new Map();
  for (const id of ids) {
    if (!tryTaskId(id, config))
      continue;
    const tips = branchTips.get(id) ?? [];
    const own = patchsets.get(id) ?? [];
    const superseded = supersededCommits(own);
    const landedCommit = landedByTask.get(id) ?? null;
    const ownTips = [];
    for (const t of tips) {
      const sha = ownCommit(t.sha, id, side);
      if (sha)
        ownTips.push({ ...t, sha });
    }
    const localTip = ownTips.find((t) => t.local);
    const byTrailer = tips.length ? null : trailerHead.get(id)?.sha ?? null;
    const claims = [...ownTips.map((t) => t.sha), ...claimedTips.get(id) ?? [], ...byTrailer ? [byTrailer] : []];
    const live = [...new Set(claims)].filter((sha) => !superseded.has(sha));
    const newestLive = [...live].sort((a, b) => (sideOrder.get(a) ?? Infinity) - (sideOrder.get(b) ?? Infinity))[0];
    const head = tips.length ? localTip?.sha ?? ownTips[0]?.sha ?? landedCommit : newestLive ?? byTrailer ?? own[own.length - 1]?.commit ?? landedCommit;
    const tree = head ? treeOf.get(head) ?? side.get(head)?.tree ?? null : null;
    const bySpec = tree ? verifies.get(tree) : void 0;
    const under = currentSpec ? bySpec?.get(currentSpec) : void 0;
    const verify = under?.conclusive ?? under?.latest ?? null;
    const verifyOtherSpec = otherSpecResult(bySpec, currentSpec);
    const run = tree && currentSpec ? verifyContext?.running.find((r) => r.tree === tree && r.spec === currentSpec) : void 0;
    const verifyingSince = run && !under?.conclusive ? run.startedAt : null;
    const review = head ? reviews.get(id)?.get(head) ?? null : null;
    const landing = lands.get(id) ?? null;
    const circuit = head ? circuitOf(attempts.get(id)?.get(head) ?? []) : { failures: 0, needsHelp: false };
    let state = "in-progress";
    if (landing || landedCommit)
      state = "landed";
    else if (circuit.needsHelp)
      state = "needs-help";
    else if (live.length > 1)
      state = "diverged";
    else if (verify?.result === "fail")
      state = "failed";
    else if (review?.verdict === "approve")
      state = "approved";
    else if (verify?.result === "pass" || verify?.result === "skip")
      state = "verified";
    else if (verifyingSince)
      state = "verifying";
    tasks.set(id, {
      id,
      parent: parentTask(id),
      state,
      branch: localTip?.branch ?? ownTips[0]?.branch ?? tips.find((t) => t.local)?.branch ?? tips[0]?.branch ?? (head ? branchAt.get(head) ?? null : null),
      head,
      patchsets: own,
      verify,
      verifyOtherSpec,
      verifyingSince,
      review,
      landing,
      landedCommit,
      live,
      failedAttempts: circuit.failures
    });
  }
  return { tasks, events, bad, base, warnings };
}
function expectedType(log) {
  return { patchsets: "patchset", reviews: "review", verify: "verify", lands: "land", attempts: "attempt" }[log];
}

export {
  buildFingerprint,
  STATES,
  compareTaskIds,
  parentTask,
  readRefSnapshot,
  loadState
};
