import {
  byTime
} from "./chunk-XETBP7KF.js";

// dist/verify/fold.js
function isConclusive(e) {
  return e.result === "pass" || e.result === "fail" || e.result === "skip";
}
function foldVerify(events) {
  const out = /* @__PURE__ */ new Map();
  for (const e of [...events].sort(byTime)) {
    let bySpec = out.get(e.tree);
    if (!bySpec)
      out.set(e.tree, bySpec = /* @__PURE__ */ new Map());
    let v = bySpec.get(e.spec);
    if (!v)
      bySpec.set(e.spec, v = { conclusive: null, latest: null });
    v.latest = e;
    if (isConclusive(e))
      v.conclusive = e;
  }
  return out;
}
function cachedResult(events, tree, spec) {
  return foldVerify(events.filter((e) => e.tree === tree && e.spec === spec)).get(tree)?.get(spec)?.conclusive ?? null;
}
function otherSpecResult(bySpec, spec) {
  let best = null;
  for (const [hash, v] of bySpec ?? []) {
    if (hash === spec || !v.conclusive)
      continue;
    if (!best || byTime(best, v.conclusive) < 0)
      best = v.conclusive;
  }
  return best;
}

export {
  isConclusive,
  foldVerify,
  cachedResult,
  otherSpecResult
};
