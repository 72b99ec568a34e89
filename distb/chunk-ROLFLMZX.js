import {
  processStartTime,
  sameProcessAlive
} from "./chunk-LIUXXDUE.js";

// dist/verify/lock.js
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
var GARBAGE_STALE_MS = 5e3;
var BREAK_STALE_MS = 1e4;
var OTHER_HOST_STALE_MS = 24 * 60 * 60 * 1e3;
var myStart = () => processStartTime(process.pid);
function tryLock(file, data = {}, opts = {}) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let round = 0; ; round++) {
    if (create(file, data))
      return true;
    if (round === 3)
      return false;
    const seen = readRaw(file);
    if (seen === void 0)
      continue;
    if (!isStale(seen))
      return false;
    breakStale(file, opts);
  }
}
function readLock(file) {
  return readRaw(file)?.info ?? null;
}
function updateLock(file, data) {
  const info = readLock(file);
  if (!info || !isMine(info))
    throw new Error(`cannot update lock ${file}: this process does not hold it`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...info, data }));
  fs.renameSync(tmp, file);
}
function releaseLock(file) {
  const info = readLock(file);
  if (info && isMine(info))
    fs.rmSync(file, { force: true });
}
async function waitForLock(file, opts = {}) {
  const end = opts.timeoutMs === void 0 ? Infinity : Date.now() + opts.timeoutMs;
  let told = false;
  for (; ; ) {
    if (tryLock(file, opts.data, { onBreak: opts.onBreak }))
      return true;
    if (!told) {
      told = true;
      opts.onWait?.(readLock(file));
    }
    if (Date.now() >= end)
      return false;
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(opts.pollMs ?? 50, end - Date.now()))));
  }
}
function ownerAlive(info) {
  if (info.host === os.hostname())
    return sameProcessAlive(info.pid, info.start);
  const at = Date.parse(info.at);
  return Number.isFinite(at) && Date.now() - at <= OTHER_HOST_STALE_MS;
}
function create(file, data) {
  let fd;
  try {
    fd = fs.openSync(file, "wx");
  } catch (e) {
    if (e.code === "EEXIST")
      return false;
    throw e;
  }
  try {
    const info = { pid: process.pid, start: myStart(), host: os.hostname(), at: (/* @__PURE__ */ new Date()).toISOString(), data };
    fs.writeSync(fd, JSON.stringify(info));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
function readRaw(file) {
  let text;
  let mtimeMs;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e.code === "ENOENT")
      return void 0;
    return { info: null, mtimeMs: Date.now() };
  }
  return { info: parse(text), mtimeMs };
}
function parse(text) {
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== "object" || !Number.isInteger(v.pid) || typeof v.host !== "string" || typeof v.at !== "string")
      return null;
    if (v.start !== null && typeof v.start !== "string")
      return null;
    const data = v.data && typeof v.data === "object" && !Array.isArray(v.data) ? v.data : {};
    return { pid: v.pid, start: v.start, host: v.host, at: v.at, data };
  } catch {
    return null;
  }
}
function isStale(raw) {
  if (raw.info)
    return !ownerAlive(raw.info);
  return Date.now() - raw.mtimeMs > GARBAGE_STALE_MS;
}
function isMine(info) {
  return info.pid === process.pid && info.start === myStart() && info.host === os.hostname();
}
function breakStale(file, opts) {
  const breakFile = `${file}.break`;
  if (!create(breakFile, {})) {
    removeStaleBreakLock(breakFile);
    return;
  }
  try {
    const now = readRaw(file);
    if (now && isStale(now)) {
      opts.onBreak?.(now.info);
      fs.rmSync(file, { force: true });
    }
  } finally {
    fs.rmSync(breakFile, { force: true });
  }
}
function removeStaleBreakLock(breakFile) {
  try {
    const st = fs.statSync(breakFile);
    if (Date.now() - st.mtimeMs <= BREAK_STALE_MS)
      return;
    const again = fs.statSync(breakFile);
    if (again.ino === st.ino && again.mtimeMs === st.mtimeMs)
      fs.rmSync(breakFile, { force: true });
  } catch {
  }
}

export {
  tryLock,
  readLock,
  updateLock,
  releaseLock,
  waitForLock,
  ownerAlive
};
