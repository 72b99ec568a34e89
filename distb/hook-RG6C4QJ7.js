import {
  recordPatchsets,
  redundantPatchset
} from "./chunk-IOM7O6PL.js";
import "./chunk-6JBUE5OR.js";
import {
  appendEvents,
  pruneStaleTmpRefs
} from "./chunk-NVSIXMHN.js";
import {
  processStartTime,
  sameProcessAlive
} from "./chunk-LIUXXDUE.js";
import {
  appendTo
} from "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import {
  NOTES_REFS
} from "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-XETBP7KF.js";
import {
  rememberedConfig
} from "./chunk-FN4GH56K.js";
import "./chunk-USU43FMM.js";
import {
  writeHookSettings
} from "./chunk-TDQ7IMWN.js";
import {
  isSha
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig,
  loadConfigOrPrevious
} from "./chunk-3764SIXL.js";
import {
  requireRepo,
  requireWorkRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import {
  withDefaults
} from "./chunk-QGTSJKQF.js";
import {
  clearGitLocalEnv,
  gitRun
} from "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/commands/hook.js
import fs4 from "node:fs";
import path5 from "node:path";

// dist/hooks/background-config.js
import path from "node:path";
async function backgroundConfig(toplevel, commonDir) {
  const stateDir2 = path.join(commonDir, "omni-ship");
  if (toplevel) {
    const loaded = await loadConfigOrPrevious(toplevel, stateDir2);
    return { config: loaded.config, fallback: loaded.fallback ? `config: ${loaded.fallback.reason}` : null };
  }
  const previous = rememberedConfig(stateDir2);
  return {
    config: withDefaults(previous?.values ?? {}, previous?.file ?? null, commonDir).config,
    fallback: `the work tree is gone; using ${previous ? "the previous settings" : "the defaults"}`
  };
}

// dist/hooks/ref-locks.js
import fs from "node:fs";
import path2 from "node:path";
var STALE_LOCK_MS = 6e4;
var OWN_REF_DIRS = ["refs/notes/omni-ship", "refs/omni-ship"];
function removeStaleRefLocks(commonDir, now = Date.now()) {
  const removed = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path2.join(dir, e.name);
      if (e.isDirectory())
        walk(p);
      else if (e.name.endsWith(".lock")) {
        try {
          if (now - fs.statSync(p).mtimeMs > STALE_LOCK_MS) {
            fs.rmSync(p, { force: true });
            removed.push(p);
          }
        } catch {
        }
      }
    }
  };
  for (const d of OWN_REF_DIRS)
    walk(path2.join(commonDir, d));
  for (const p of removed)
    console.log(`${new Date(now).toISOString()} removed ${p}: a git process killed mid-update left it`);
  return removed;
}

// dist/hooks/drain.js
import fs3 from "node:fs";
import path4 from "node:path";

// dist/hooks/spool.js
import fs2 from "node:fs";
import path3 from "node:path";
var STALE_PARTIAL_MS = 6e4;
var HOOKS = /* @__PURE__ */ new Set(["post-commit", "post-rewrite", "post-merge"]);
function parseSpoolLine(line, at) {
  const f = line.split("	");
  if (f[0] !== "1" || !HOOKS.has(f[1] ?? ""))
    return null;
  return { hook: f[1], worktree: f[2] ?? "", gitDir: f[3] ?? "", commit: f[4] ?? "", ref: f[5] ?? "", extra: f[6] ?? "", at };
}
var V2_FIELDS = 7;
function encodeSpoolRecord(e) {
  return ["2", e.hook, e.worktree, e.gitDir, e.commit, e.ref, e.extra, String(e.at.getTime())].map((f) => `${f}\0`).join("") + "\n";
}
function parseSpool(text, mtime) {
  const events = [];
  if (text === "")
    return { events, skipped: 0, complete: false };
  let skipped = 0;
  let pos = 0;
  while (pos < text.length) {
    if (text.startsWith("2\0", pos)) {
      const fields = [];
      let at = pos + 2;
      for (let i = 0; i < V2_FIELDS; i++) {
        const end = text.indexOf("\0", at);
        if (end < 0)
          return { events, skipped, complete: false };
        fields.push(text.slice(at, end));
        at = end + 1;
      }
      if (at >= text.length)
        return { events, skipped, complete: false };
      pos = at + 1;
      const [hook, worktree, gitDir, commit, ref, extra, time] = fields;
      if (text[at] !== "\n") {
        skipped++;
        const next = text.indexOf("\0\n", at);
        pos = next < 0 ? text.length : next + 2;
        continue;
      }
      if (!HOOKS.has(hook)) {
        skipped++;
        continue;
      }
      const ms = Number(time);
      events.push({ hook, worktree, gitDir, commit, ref, extra, at: time !== "" && Number.isFinite(ms) ? new Date(ms) : mtime });
      continue;
    }
    const nl = text.indexOf("\n", pos);
    if (nl < 0)
      return { events, skipped, complete: false };
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (!line)
      continue;
    const event = parseSpoolLine(line, mtime);
    if (event)
      events.push(event);
    else
      skipped++;
  }
  return { events, skipped, complete: true };
}
function readPidFile(file) {
  try {
    const [pid, start] = fs2.readFileSync(file, "utf8").trim().split(/\s+/);
    const n = Number.parseInt(pid ?? "", 10);
    return Number.isInteger(n) && n > 0 ? { pid: n, start: start || null } : null;
  } catch {
    return null;
  }
}
function acquireDrainLock(dir) {
  const file = path3.join(dir, "drain.pid");
  const me = `${process.pid} ${processStartTime(process.pid) ?? ""}`.trim();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs2.writeFileSync(file, `${me}
`, { flag: "wx" });
      fs2.rmSync(path3.join(dir, "drain.starting"), { force: true });
      return true;
    } catch (e) {
      if (e.code !== "EEXIST")
        throw e;
      const owner = readPidFile(file);
      if (owner?.pid === process.pid)
        return true;
      if (owner && sameProcessAlive(owner.pid, owner.start)) {
        const marker = path3.join(dir, "drain.starting");
        if (readPidFile(marker)?.pid === process.pid)
          fs2.rmSync(marker, { force: true });
        return false;
      }
      fs2.rmSync(file, { force: true });
    }
  }
  return false;
}
function releaseDrainLock(dir) {
  const file = path3.join(dir, "drain.pid");
  if (readPidFile(file)?.pid === process.pid)
    fs2.rmSync(file, { force: true });
}
var PENDING = /^(\d+|k\.\d+\.\d+\.\d+)$/;
var CLAIMED = /^(\d+|k\.\d+\.\d+\.\d+)\.claimed\.(\d+)(?:-(\d+))?$/;
function claimSpool(dir, skip = /* @__PURE__ */ new Set()) {
  const spool = path3.join(dir, "spool");
  let names;
  try {
    names = fs2.readdirSync(spool);
  } catch {
    return { files: [], skipped: 0 };
  }
  const me = `${process.pid}-${processStartTime(process.pid) ?? "0"}`;
  const files = [];
  let skipped = 0;
  for (const name of names.sort()) {
    if (name.endsWith(".tmp")) {
      removeIfStale(path3.join(spool, name));
      continue;
    }
    const claimed = CLAIMED.exec(name);
    let base;
    if (claimed) {
      base = claimed[1];
      const owner = Number(claimed[2]);
      if (owner === process.pid)
        continue;
      if (sameProcessAlive(owner, claimed[3] ?? null))
        continue;
    } else if (PENDING.test(name) && !skip.has(name))
      base = name;
    else
      continue;
    const from = path3.join(spool, name);
    const to = path3.join(spool, `${base}.claimed.${me}`);
    let text;
    let mtime;
    try {
      fs2.renameSync(from, to);
      text = fs2.readFileSync(to, "utf8");
      mtime = fs2.statSync(to).mtime;
    } catch {
      continue;
    }
    const parsed = parseSpool(text, mtime);
    if (!parsed.complete) {
      if (Date.now() - mtime.getTime() > STALE_PARTIAL_MS) {
        if (text !== "")
          skipped++;
      } else {
        fs2.renameSync(to, path3.join(spool, base));
        continue;
      }
    }
    skipped += parsed.skipped;
    files.push({ file: to, base, size: Buffer.byteLength(text), events: parsed.events });
  }
  return { files, skipped };
}
function removeIfStale(file) {
  try {
    if (Date.now() - fs2.statSync(file).mtimeMs > STALE_PARTIAL_MS)
      fs2.rmSync(file, { force: true });
  } catch {
  }
}
function finishClaimed(claimed) {
  try {
    if (fs2.statSync(claimed.file).size !== claimed.size) {
      fs2.renameSync(claimed.file, path3.join(path3.dirname(claimed.file), claimed.base));
      return;
    }
  } catch {
    return;
  }
  fs2.rmSync(claimed.file, { force: true });
}
var kept = 0;
function keepForLater(dir, events) {
  const name = `k.${Date.now()}.${process.pid}.${kept++}`;
  const spool = path3.join(dir, "spool");
  const tmp = path3.join(spool, `${name}.tmp`);
  fs2.writeFileSync(tmp, events.map(encodeSpoolRecord).join(""));
  fs2.renameSync(tmp, path3.join(spool, name));
  return name;
}

// dist/hooks/drain.js
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
var LINGER_MS = 300;
var POLL_MS = 40;
var LOG_LIMIT = 1024 * 1024;
function rotateLog(dir) {
  const log = path4.join(dir, "hooks.log");
  try {
    if (fs3.statSync(log).size > LOG_LIMIT)
      fs3.renameSync(log, `${log}.1`);
  } catch {
  }
}
async function drainSpool(dir, handle2) {
  const result = { handled: 0, kept: 0 };
  if (!acquireDrainLock(dir))
    return result;
  const delay = Number(process.env.OMNI_SHIP_HOOK_DELAY_MS ?? 0);
  if (delay > 0)
    await sleep(delay);
  const keptHere = /* @__PURE__ */ new Set();
  const work = async (files) => {
    const done = await handleFiles(dir, files, handle2, keptHere);
    result.handled += done.handled;
    result.kept += done.kept;
  };
  try {
    for (; ; ) {
      let idle = 0;
      let batch = claimSpool(dir, keptHere);
      while (batch.files.length === 0 && idle < LINGER_MS) {
        await sleep(POLL_MS);
        idle += POLL_MS;
        batch = claimSpool(dir, keptHere);
      }
      if (batch.skipped)
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} skipped ${batch.skipped} spool record(s) of an unknown format`);
      if (batch.files.length === 0) {
        releaseDrainLock(dir);
        batch = claimSpool(dir, keptHere);
        if (batch.files.length === 0)
          return result;
        if (!acquireDrainLock(dir)) {
          await work(batch.files);
          return result;
        }
      }
      await work(batch.files);
    }
  } finally {
    releaseDrainLock(dir);
  }
}
async function handleFiles(dir, files, handle2, keptHere) {
  const events = files.flatMap((f) => f.events);
  let failed;
  try {
    failed = new Set(events.length ? await handle2(events) : []);
  } catch (error) {
    console.log(`${(/* @__PURE__ */ new Date()).toISOString()} error: ${error.message}; ${events.length} event(s) kept for the next drain`);
    failed = new Set(events);
  }
  for (const f of files) {
    const later = f.events.filter((e) => failed.has(e));
    if (later.length)
      keptHere.add(keepForLater(dir, later));
    finishClaimed(f);
  }
  return { handled: events.length - failed.size, kept: failed.size };
}

// dist/hooks/events.js
function logEvents(events) {
  for (const e of events) {
    const fields = [e.at.toISOString(), e.hook, e.commit || "-", e.ref || "(detached)", e.extra].filter((f) => f !== "");
    console.log(fields.join(" "));
  }
}

// dist/commands/hook.js
var writtenHere = /* @__PURE__ */ new Map();
async function restoreDropped() {
  for (const [commonDir, events] of writtenHere) {
    try {
      const n = await appendEvents(commonDir, NOTES_REFS.patchsets, events.map((e) => ({ object: e.commit, events: [e] })), redundantPatchset);
      if (n)
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} wrote ${n} patchset event(s) again: a concurrent git notes rewrite had dropped them`);
    } catch (error) {
      console.log(`${(/* @__PURE__ */ new Date()).toISOString()} error in ${commonDir}: ${error.message}`);
    }
  }
}
function repoOf(e, commonDir) {
  try {
    const repo = requireWorkRepo(e.worktree);
    return { cwd: repo.toplevel, commonDir: repo.commonDir, toplevel: repo.toplevel };
  } catch {
    return { cwd: commonDir, commonDir, toplevel: null };
  }
}
async function handle(commonDir, events) {
  logEvents(events);
  const failed = [];
  const byWorktree = /* @__PURE__ */ new Map();
  for (const e of events)
    appendTo(byWorktree, e.worktree, e);
  for (const [worktree, group] of byWorktree) {
    try {
      const repo = repoOf(group[0], commonDir);
      const { config, fallback } = await backgroundConfig(repo.toplevel, repo.commonDir);
      if (fallback)
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} ${fallback}`);
      const candidates = existingCommits(repo.cwd, candidatesFrom(repo.cwd, group));
      const { events: written, skipped } = await recordPatchsets(repo.cwd, repo.commonDir, config, candidates);
      for (const k of skipped)
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} skipped ${k.commit.slice(0, 12)} on ${k.branch ?? "(detached)"}: ${k.reason}`);
      for (const e of written)
        console.log(`${e.at} patchset ${e.task} ${e.commit.slice(0, 12)}${e.supersedes ? ` (replaces ${e.supersedes.slice(0, 12)})` : ""}`);
      for (const e of written)
        appendTo(writtenHere, repo.commonDir, e);
      try {
        const { verifyNewPatchsets } = await import("./background-5KFSRXRZ.js");
        const lines = await verifyNewPatchsets(repo.cwd, repo.commonDir, path5.join(repo.commonDir, "omni-ship"), config, written);
        for (const line of lines)
          console.log(`${(/* @__PURE__ */ new Date()).toISOString()} ${line}`);
      } catch (error) {
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} verify not started: ${error.message.split("\n")[0]}`);
      }
    } catch (error) {
      console.log(`${(/* @__PURE__ */ new Date()).toISOString()} error in ${JSON.stringify(worktree)}: ${error.message}; ${group.length} event(s) kept for the next drain`);
      failed.push(...group);
    }
  }
  if (events.some((e) => e.hook === "post-rewrite"))
    await restoreDropped();
  return failed;
}
function existingCommits(cwd, candidates) {
  if (candidates.length === 0)
    return candidates;
  const out = gitRun(["cat-file", "--batch-check=%(objectname) %(objecttype)"], { cwd, input: `${candidates.map((c) => c.commit).join("\n")}
` }).stdout.split("\n");
  return candidates.filter((c, i) => {
    const ok = out[i] === `${c.commit} commit`;
    if (!ok)
      console.log(`${(/* @__PURE__ */ new Date()).toISOString()} skipped ${c.commit}: no such commit in this repository`);
    return ok;
  });
}
function candidatesFrom(cwd, events) {
  const unresolved = [...new Set(events.filter((e) => !e.commit && e.ref).map((e) => e.ref))];
  const resolved = /* @__PURE__ */ new Map();
  if (unresolved.length) {
    const out = gitRun(["rev-parse", ...unresolved], { cwd }).stdout.split("\n");
    unresolved.forEach((ref, i) => out[i] && isSha(out[i]) && resolved.set(ref, out[i]));
  }
  const candidates = [];
  for (const e of events) {
    const branch = e.ref.startsWith("refs/heads/") ? e.ref.slice("refs/heads/".length) : null;
    if (e.hook === "post-rewrite") {
      const [kind, ...pairs] = e.extra.split(" ");
      for (const pair of pairs) {
        const [old, now] = pair.split(":");
        if (old && now && isSha(now))
          candidates.push({ commit: now, branch, supersedes: isSha(old) && old !== now ? old : null, via: kind === "rebase" ? "rebase" : "amend", at: e.at });
      }
      continue;
    }
    if (e.hook === "post-merge" && e.extra === "1")
      continue;
    const commit = e.commit || resolved.get(e.ref) || "";
    if (isSha(commit))
      candidates.push({ commit, branch, supersedes: null, via: e.hook === "post-merge" ? "merge" : "commit", at: e.at });
  }
  return candidates;
}
async function hookCommand(opts) {
  clearGitLocalEnv();
  process.on("SIGHUP", () => {
  });
  switch (opts.name) {
    case "drain": {
      const dir = opts.commonDir ? path5.join(path5.resolve(opts.cwd, opts.commonDir), "omni-ship") : stateDir(requireRepo(opts.cwd));
      fs4.mkdirSync(dir, { recursive: true });
      rotateLog(dir);
      removeStaleRefLocks(path5.dirname(dir));
      for (const ref of pruneStaleTmpRefs(path5.dirname(dir)))
        console.log(`${(/* @__PURE__ */ new Date()).toISOString()} removed ${ref}: a write killed between its two steps left it`);
      const drained = await drainSpool(dir, (events) => handle(path5.dirname(dir), events));
      await restoreDropped();
      return { data: drained, text: "" };
    }
    case "refresh-config": {
      const repo = requireWorkRepo(opts.cwd);
      const loadedAt = /* @__PURE__ */ new Date();
      try {
        const loaded = await loadConfig(repo.toplevel, repo.toplevel, { codeTrust: "require", stateDir: stateDir(repo) });
        writeHookSettings(repo.gitDir, loaded.config, loaded.file, loadedAt);
        return { data: { file: loaded.file }, text: "" };
      } catch (e) {
        if (e instanceof UserError) {
          throw new UserError(`${e.message}; commits use the previous settings meanwhile`, e.exitCode, e.hint);
        }
        throw e;
      }
    }
    case "post-commit":
    case "post-rewrite":
    case "post-merge": {
      const repo = requireWorkRepo(opts.cwd);
      const head = fs4.readFileSync(path5.join(repo.gitDir, "HEAD"), "utf8").trim();
      const ref = head.startsWith("ref: ") ? head.slice(5) : "";
      const event = {
        hook: opts.name,
        worktree: repo.toplevel,
        gitDir: repo.gitDir,
        commit: ref ? "" : head,
        ref,
        extra: opts.args.join(" "),
        at: /* @__PURE__ */ new Date()
      };
      const failed = await handle(repo.commonDir, [event]);
      if (failed.length)
        throw new Error(`could not record the ${opts.name} event; see the log line above`);
      return { data: { handled: 1 }, text: "" };
    }
    case "verify": {
      const commit = opts.args[0];
      if (!commit || opts.args.length > 1)
        throw badInput("hook verify takes one commit", "omni-ship hook verify <commit> [--task <task>]");
      const { runBackgroundVerify } = await import("./background-run-WIF55GHU.js");
      const outcome = await runBackgroundVerify({ cwd: opts.cwd, commit, task: opts.task ?? null, force: !!opts.force, specFromCommit: !!opts.specFromCommit });
      return { data: outcome, text: "" };
    }
    default:
      throw badInput(`unknown hook event '${opts.name}'`, "one of: drain, refresh-config, post-commit, post-rewrite, post-merge, verify");
  }
}
export {
  hookCommand
};
