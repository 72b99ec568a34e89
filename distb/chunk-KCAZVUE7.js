import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/ids.js
var compiled = /* @__PURE__ */ new Map();
function regex(source) {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(source);
    compiled.set(source, re);
  }
  return re;
}
function tryTaskId(raw, patterns) {
  const id = raw.trim().toLowerCase();
  return id !== "" && regex(patterns.taskPattern).test(id) ? id : null;
}
function parseTaskId(raw, patterns) {
  const id = tryTaskId(raw, patterns);
  if (!id) {
    throw badInput(`${JSON.stringify(raw)} is not a valid task id`, `a task id matches ${patterns.taskPattern} (for example t-565 or t-565.2)`);
  }
  return id;
}
function taskIdFromBranch(branch, patterns) {
  const m = regex(patterns.branchPattern).exec(branch) ?? regex(patterns.branchPattern).exec(branch.toLowerCase());
  if (!m)
    return null;
  const raw = m[0].replace(/^[-_/]+/, "").replace(/[-_/]+$/, "");
  return tryTaskId(raw, patterns);
}
function isSha(s) {
  return /^[0-9a-f]{40}$/.test(s);
}

export {
  tryTaskId,
  parseTaskId,
  taskIdFromBranch,
  isSha
};
