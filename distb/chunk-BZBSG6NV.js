import {
  readLock,
  releaseLock,
  waitForLock
} from "./chunk-ROLFLMZX.js";

// dist/verify/registry.js
import fs from "node:fs";
import path from "node:path";
import { Low } from "lowdb";
import { JSONFile } from "lowdb/node";
var REGISTRY_FILE = "registry.json";
var LOCK_TIMEOUT_MS = 12e4;
async function readRegistry(stateDir) {
  return (await load(path.join(stateDir, REGISTRY_FILE))).data;
}
async function updateRegistry(stateDir, change) {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, REGISTRY_FILE);
  const lockFile = `${file}.lock`;
  if (!await waitForLock(lockFile, { timeoutMs: LOCK_TIMEOUT_MS, pollMs: 20 })) {
    throw new Error(`the verify registry ${file} stayed locked by pid ${readLock(lockFile)?.pid ?? "?"} for ${LOCK_TIMEOUT_MS / 1e3} s`);
  }
  try {
    const { db, damaged } = await load(file);
    if (damaged)
      fs.copyFileSync(file, `${file}.bad`);
    const result = change(db.data);
    await db.write();
    return result;
  } finally {
    releaseLock(lockFile);
  }
}
function empty() {
  return { version: 1, pool: [], logs: [] };
}
async function load(file) {
  const db = new Low(new JSONFile(file), empty());
  let damaged = false;
  try {
    await db.read();
    if (!isRegistry(db.data))
      damaged = true;
  } catch (e) {
    if (!(e instanceof SyntaxError))
      throw e;
    damaged = true;
  }
  if (damaged)
    db.data = empty();
  return { db, data: db.data, damaged };
}
var isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
var str = (v) => typeof v === "string";
var strOrNull = (v) => v === null || typeof v === "string";
var intOrNull = (v) => v === null || Number.isInteger(v);
function isPoolEntry(v) {
  return isObject(v) && Number.isInteger(v.slot) && str(v.path) && strOrNull(v.commit) && strOrNull(v.tree) && str(v.createdAt) && str(v.lastUsed);
}
function isLogEntry(v) {
  return isObject(v) && str(v.id) && str(v.file) && str(v.tree) && str(v.spec) && strOrNull(v.commit) && strOrNull(v.task) && str(v.startedAt) && strOrNull(v.finishedAt) && strOrNull(v.result) && strOrNull(v.step) && intOrNull(v.exitCode) && Number.isInteger(v.pid);
}
function isRegistry(v) {
  return isObject(v) && v.version === 1 && Array.isArray(v.pool) && Array.isArray(v.logs) && v.pool.every(isPoolEntry) && v.logs.every(isLogEntry);
}

export {
  REGISTRY_FILE,
  readRegistry,
  updateRegistry
};
