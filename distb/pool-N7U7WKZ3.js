import {
  readRegistry,
  updateRegistry
} from "./chunk-BZBSG6NV.js";
import {
  GIT_LOCATION_ENV_VARS,
  killGroup,
  killMarked,
  ownerMark
} from "./chunk-G5MGBX4U.js";
import "./chunk-OVXBPWYW.js";
import {
  ownerAlive,
  readLock,
  releaseLock,
  tryLock,
  updateLock
} from "./chunk-ROLFLMZX.js";
import {
  processStartTime
} from "./chunk-LIUXXDUE.js";
import {
  GitError,
  git,
  gitAsync,
  gitRun
} from "./chunk-T3IP3O65.js";

// dist/verify/pool.js
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
var LOCK_REASON = "omni-ship verify pool";
var SLOT_POLL_MS = 200;
function poolGitEnv(base = process.env) {
  const env = {};
  for (const [k, v] of Object.entries(base))
    if (v !== void 0 && !GIT_LOCATION_ENV_VARS.includes(k))
      env[k] = v;
  const count = Number(env.GIT_CONFIG_COUNT ?? "0");
  const n = Number.isInteger(count) && count >= 0 ? count : 0;
  env[`GIT_CONFIG_KEY_${n}`] = "core.hooksPath";
  env[`GIT_CONFIG_VALUE_${n}`] = "/dev/null";
  env.GIT_CONFIG_COUNT = String(n + 1);
  env.OMNI_SHIP_SKIP = "1";
  return env;
}
async function acquireWorkspace(opts) {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
    throw new Error(`verify concurrency must be a positive integer, not ${opts.concurrency}`);
  let waited = false;
  for (; ; ) {
    for (let slot = 0; slot < opts.concurrency; slot++) {
      const lockFile = slotLock(opts.stateDir, slot);
      const data = { slot, commit: opts.commit };
      if (!tryLock(lockFile, data, { onBreak: killOrphans }))
        continue;
      try {
        const dir = await prepareSlot(opts, slot);
        return workspace(opts.stateDir, slot, dir, lockFile, data);
      } catch (e) {
        releaseLock(lockFile);
        throw e;
      }
    }
    if (!waited) {
      waited = true;
      opts.onWait?.();
    }
    await new Promise((r) => setTimeout(r, SLOT_POLL_MS));
  }
}
async function prunePool(opts) {
  const removed = [];
  const kept = [];
  for (const slot of await knownSlots(opts.stateDir)) {
    const dir = slotDir(opts.stateDir, slot);
    const lockFile = slotLock(opts.stateDir, slot);
    if (opts.dryRun) {
      const owner = readLock(lockFile);
      const busy = owner !== null && ownerAlive(owner);
      (!busy && await idleFor(opts.stateDir, slot) > opts.olderThanMs ? removed : kept).push(dir);
      continue;
    }
    if (!tryLock(lockFile, { slot, prune: true }, { onBreak: killOrphans })) {
      kept.push(dir);
      continue;
    }
    try {
      if (await idleFor(opts.stateDir, slot) <= opts.olderThanMs) {
        kept.push(dir);
        continue;
      }
      removeWorktree(opts.cwd, opts.commonDir, dir);
      await updateRegistry(opts.stateDir, (r) => {
        r.pool = r.pool.filter((p) => p.slot !== slot);
      });
      removed.push(dir);
    } finally {
      releaseLock(lockFile);
    }
  }
  return { removed, kept };
}
function slotDir(stateDir, slot) {
  return path.join(stateDir, "pool", String(slot));
}
function slotLock(stateDir, slot) {
  return path.join(stateDir, "pool", `${slot}.lock`);
}
function gitEnv() {
  return { ...poolGitEnv(), ...Object.fromEntries(GIT_LOCATION_ENV_VARS.map((v) => [v, void 0])) };
}
function killOrphans(stale) {
  if (!stale || stale.host !== os.hostname())
    return;
  const { pgid, groupStart } = stale.data;
  if (typeof pgid === "number")
    killGroup(pgid, { since: typeof groupStart === "string" ? groupStart : null });
  killMarked(ownerMark(stale.pid, stale.start));
}
function workspace(stateDir, slot, dir, lockFile, data) {
  let released = false;
  return {
    slot,
    dir,
    lockFile,
    setGroup(pgid) {
      updateLock(lockFile, pgid === null ? data : { ...data, pgid, groupStart: processStartTime(pgid) });
    },
    async release() {
      if (released)
        return;
      released = true;
      try {
        await updateRegistry(stateDir, (r) => {
          const entry = r.pool.find((p) => p.slot === slot);
          if (entry)
            entry.lastUsed = (/* @__PURE__ */ new Date()).toISOString();
        });
      } finally {
        releaseLock(lockFile);
      }
    }
  };
}
async function prepareSlot(opts, slot) {
  const dir = slotDir(opts.stateDir, slot);
  const commonDir = path.resolve(opts.cwd, opts.commonDir);
  const env = gitEnv();
  let created = false;
  const adminDir = healthyAdminDir(dir, commonDir);
  if (adminDir === null || (await gitAsync(["checkout", "--detach", "--force", "--quiet", opts.commit], { cwd: dir, env })).exitCode !== 0) {
    git(["rev-parse", "--verify", "--quiet", `${opts.commit}^{commit}`], { cwd: opts.cwd, env });
    removeWorktree(opts.cwd, commonDir, dir);
    git(["worktree", "add", "--detach", "--force", dir, opts.commit], { cwd: opts.cwd, env });
    created = true;
  }
  const admin = created ? healthyAdminDir(dir, commonDir) : adminDir;
  if (admin === null)
    throw new Error(`verify pool worktree ${dir} is broken right after git made it`);
  if (!fs.existsSync(path.join(admin, "locked")))
    git(["worktree", "lock", "--reason", LOCK_REASON, dir], { cwd: opts.cwd, env });
  const cleaned = await gitAsync(["clean", "-ffdxq", ...opts.keep.flatMap((k) => ["-e", k])], { cwd: dir, env });
  if (cleaned.exitCode !== 0)
    throw new GitError(["clean", "-ffdxq"], cleaned.exitCode, cleaned.stderr);
  if (fs.existsSync(path.join(dir, ".gitmodules"))) {
    git(["submodule", "update", "--init", "--recursive", "--force"], { cwd: dir, env });
    git(["submodule", "foreach", "--quiet", "--recursive", "git clean -ffdxq"], { cwd: dir, env });
  }
  const head = opts.commit;
  const tree = opts.tree ?? (gitRun(["rev-parse", "--verify", "-q", `${opts.commit}^{tree}`], { cwd: opts.cwd, env }).stdout.trim() || null);
  await updateRegistry(opts.stateDir, (r) => {
    const now = (/* @__PURE__ */ new Date()).toISOString();
    const i = r.pool.findIndex((p) => p.slot === slot);
    const prev = i >= 0 ? r.pool[i] : void 0;
    const entry = { ...prev, slot, path: dir, commit: head, tree, createdAt: !created && prev ? prev.createdAt : now, lastUsed: now };
    if (i >= 0)
      r.pool[i] = entry;
    else
      r.pool.push(entry);
  });
  return dir;
}
function healthyAdminDir(dir, commonDir) {
  try {
    const m = /^gitdir: (.+?)\s*$/.exec(fs.readFileSync(path.join(dir, ".git"), "utf8"));
    if (!m?.[1])
      return null;
    const admin = fs.realpathSync(path.resolve(dir, m[1]));
    const worktrees = fs.realpathSync(path.join(commonDir, "worktrees"));
    if (path.dirname(admin) !== worktrees || !fs.statSync(admin).isDirectory())
      return null;
    const back = fs.readFileSync(path.join(admin, "gitdir"), "utf8").trim();
    if (!samePath(back, path.join(dir, ".git")))
      return null;
    return admin;
  } catch {
    return null;
  }
}
function removeWorktree(cwd, commonDir, dir) {
  const env = gitEnv();
  gitRun(["worktree", "unlock", dir], { cwd, env });
  gitRun(["worktree", "remove", "--force", dir], { cwd, env });
  const worktrees = path.join(commonDir, "worktrees");
  const target = path.join(dir, ".git");
  for (const name of safeReaddir(worktrees)) {
    try {
      const gitdir = fs.readFileSync(path.join(worktrees, name, "gitdir"), "utf8").trim();
      if (samePath(gitdir, target))
        fs.rmSync(path.join(worktrees, name), { recursive: true, force: true });
    } catch {
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  gitRun(["worktree", "prune"], { cwd, env });
}
function samePath(a, b) {
  if (path.resolve(a) === path.resolve(b))
    return true;
  try {
    return fs.realpathSync(path.dirname(a)) === fs.realpathSync(path.dirname(b)) && path.basename(a) === path.basename(b);
  } catch {
    return false;
  }
}
function safeReaddir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
async function knownSlots(stateDir) {
  const slots = new Set((await readRegistry(stateDir)).pool.map((p) => p.slot));
  for (const name of safeReaddir(path.join(stateDir, "pool"))) {
    const m = /^(\d+)(\.lock)?$/.exec(name);
    if (m)
      slots.add(Number(m[1]));
  }
  return [...slots].sort((a, b) => a - b);
}
async function idleFor(stateDir, slot) {
  const entry = (await readRegistry(stateDir)).pool.find((p) => p.slot === slot);
  let last = entry ? Date.parse(entry.lastUsed) : NaN;
  if (!Number.isFinite(last)) {
    try {
      last = fs.statSync(slotDir(stateDir, slot)).mtimeMs;
    } catch {
      last = 0;
    }
  }
  return Date.now() - last;
}
export {
  acquireWorkspace,
  poolGitEnv,
  prunePool
};
