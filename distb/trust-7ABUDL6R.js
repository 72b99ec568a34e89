import {
  readStateJson,
  writeStateJson
} from "./chunk-USU43FMM.js";

// dist/config/trust.js
import crypto from "node:crypto";
import path from "node:path";
var TRUST_FILE = "trusted-config.json";
var KEEP = 32;
function trustKey(file, bytes) {
  return crypto.createHash("sha256").update(`${path.resolve(file)}\0`).update(bytes).digest("hex");
}
function entries(stateDir) {
  const data = readStateJson(path.join(stateDir, TRUST_FILE));
  if (!data || data.v !== 1 || !Array.isArray(data.entries))
    return [];
  return data.entries.filter((e) => !!e && typeof e === "object" && typeof e.key === "string");
}
function trustedOutcome(stateDir, file, bytes) {
  const key = trustKey(file, bytes);
  const entry = entries(stateDir).find((e) => e.key === key);
  return entry ? outcomeOf(entry) : null;
}
function outcomeOf(entry) {
  if ("values" in entry && entry.values && typeof entry.values === "object")
    return { values: entry.values };
  if ("error" in entry && entry.error && typeof entry.error.message === "string") {
    return { error: entry.error.hint === void 0 ? { message: entry.error.message } : { message: entry.error.message, hint: entry.error.hint } };
  }
  return null;
}
function recordTrustedOutcome(stateDir, file, bytes, outcome) {
  const key = trustKey(file, bytes);
  const all = entries(stateDir);
  const old = all.find((e) => e.key === key);
  if (old && JSON.stringify(outcomeOf(old)) === JSON.stringify(outcome))
    return;
  const entry = { key, file: path.resolve(file), at: (/* @__PURE__ */ new Date()).toISOString(), ...outcome };
  writeStateJson(path.join(stateDir, TRUST_FILE), { v: 1, entries: [entry, ...all.filter((e) => e.key !== key)].slice(0, KEEP) });
}
export {
  TRUST_FILE,
  recordTrustedOutcome,
  trustKey,
  trustedOutcome
};
