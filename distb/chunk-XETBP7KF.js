// dist/notes/events.js
var SCHEMA_VERSION = 1;
function encodeEvent(event) {
  const { v, type, at, by, host, ...rest } = event;
  const ordered = { v, type, at, by, host };
  for (const key of Object.keys(rest).sort())
    ordered[key] = rest[key];
  return JSON.stringify(ordered);
}
var SCHEMA = {
  patchset: {
    task: "task",
    commit: "str",
    tree: "str",
    parent: "str?",
    branch: "str?",
    supersedes: "str?",
    author: "str?",
    via: ["commit", "amend", "rebase", "merge", "manual"]
  },
  review: { task: "task", commit: "str", verdict: ["approve", "request-changes"], message: "str?" },
  verify: {
    tree: "str",
    spec: "str",
    result: ["started", "pass", "fail", "skip", "indeterminate"],
    commit: "str?",
    task: "task?",
    step: "str?",
    exitCode: "num?",
    summary: "str?",
    durationMs: "num?",
    output: "str?",
    specFrom: "str?"
  },
  land: { task: "task", commit: "str", landed: "str", base: "str" },
  attempt: { task: "task", commit: "str", role: "str", outcome: ["fail", "needs-help", "reset"], error: "str?" }
};
var TYPES = new Set(Object.keys(SCHEMA));
function fits(value, kind) {
  if (typeof kind !== "string")
    return typeof value === "string" && kind.includes(value);
  const optional = kind.endsWith("?");
  if (optional && (value === null || value === void 0))
    return true;
  if (kind.startsWith("num"))
    return typeof value === "number" && Number.isFinite(value);
  if (typeof value !== "string")
    return false;
  return kind.startsWith("task") ? value !== "" && value === value.toLowerCase() && !/\s/.test(value) : true;
}
var CHECKS = Object.fromEntries(Object.entries(SCHEMA).map(([type, fields]) => [
  type,
  Object.entries(fields).map(([field, kind]) => [
    field,
    kind === "str" ? (v) => typeof v === "string" : kind === "str?" ? (v) => v == null || typeof v === "string" : (v) => fits(v, kind)
  ])
]));
function unusable(value) {
  if (!value || typeof value !== "object" || Array.isArray(value))
    return "not a JSON object";
  const e = value;
  if (e.v !== SCHEMA_VERSION)
    return `unknown schema version ${JSON.stringify(e.v)}`;
  if (typeof e.type !== "string" || !TYPES.has(e.type))
    return `unknown event type ${JSON.stringify(e.type)}`;
  if (typeof e.at !== "string" || Number.isNaN(Date.parse(e.at)))
    return 'no valid "at" time';
  if (typeof e.by !== "string" || typeof e.host !== "string")
    return 'no "by" and "host" (strings)';
  for (const [field, check] of CHECKS[e.type]) {
    if (!check(e[field]))
      return `bad ${field} ${JSON.stringify(e[field]) ?? "(missing)"} in a ${e.type} event`;
  }
  return null;
}
function decodeNote(object, text, events, bad) {
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0)
      end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === "")
      continue;
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      bad.push({ object, line, reason: "not valid JSON" });
      continue;
    }
    const reason = unusable(value);
    if (reason === null)
      events.push(value);
    else
      bad.push({ object, line, reason });
  }
}
function byTime(a, b) {
  if (a.at !== b.at)
    return a.at < b.at ? -1 : 1;
  const ea = encodeEvent(a);
  const eb = encodeEvent(b);
  return ea < eb ? -1 : ea > eb ? 1 : 0;
}

export {
  SCHEMA_VERSION,
  encodeEvent,
  decodeNote,
  byTime
};
