import {
  tryTaskId
} from "./chunk-KCAZVUE7.js";

// dist/notes/claim.js
var ENTRY = "";
var VALUE = "";
function trailerPlaceholder(trailerKey) {
  return `%(trailers:key=${trailerKey},separator=%x1d,key_value_separator=%x1c)`;
}
function trailerValues(field) {
  if (field.trim() === "")
    return [];
  return field.split(ENTRY).map((entry) => {
    const at = entry.indexOf(VALUE);
    return (at < 0 ? entry : entry.slice(at + 1)).trim();
  });
}
function trailerClaim(values, patterns, trailerKey = "Task-Id") {
  if (values.length === 0)
    return { kind: "none" };
  const ids = /* @__PURE__ */ new Set();
  for (const value of values) {
    const id = tryTaskId(value, patterns);
    if (!id)
      return { kind: "bad", reason: `its ${trailerKey} '${value}' is not a valid task id` };
    ids.add(id);
  }
  if (ids.size > 1)
    return { kind: "bad", reason: `it names several tasks (${[...ids].join(", ")})` };
  return { kind: "task", task: [...ids][0] };
}

export {
  trailerPlaceholder,
  trailerValues,
  trailerClaim
};
