import {
  newNotePath,
  readSomeNotes
} from "./chunk-IIXU77GC.js";
import {
  TMP_REF_PREFIX
} from "./chunk-XXU5WV5T.js";
import {
  encodeEvent
} from "./chunk-XETBP7KF.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/notes/write.js
import os from "node:os";
var ZERO_OID = "0".repeat(40);
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
var MAX_ATTEMPTS = 200;
function fastImportInput(ref, tip, notes, message, merge) {
  const parts = [];
  const msg = Buffer.from(message);
  const now = Math.floor(Date.now() / 1e3);
  parts.push(Buffer.from(`commit ${ref}
committer omni-ship <omni-ship@localhost> ${now} +0000
data ${msg.length}
`), msg, Buffer.from("\n"));
  if (tip)
    parts.push(Buffer.from(`from ${tip}
`));
  if (merge)
    parts.push(Buffer.from(`merge ${merge}
`));
  for (const [path, text] of notes) {
    const data = Buffer.from(text);
    parts.push(Buffer.from(`M 100644 inline ${path}
data ${data.length}
`), data, Buffer.from("\n"));
  }
  parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}
function commitNotesCas(cwd, ref, tip, notes, message, parents = {}) {
  const tmp = tmpRefName();
  const input = fastImportInput(tmp, parents.parent ?? tip, notes, message, parents.merge);
  const written = gitRun(["fast-import", "--quiet", "--date-format=raw"], { cwd, input });
  if (written.exitCode !== 0) {
    gitRun(["update-ref", "-d", tmp], { cwd });
    throw new Error(`git fast-import failed writing ${ref}: ${written.stderr.trim().split("\n")[0]}`);
  }
  const moved = gitRun(["update-ref", "--stdin"], { cwd, input: `update ${ref} ${tmp} ${tip ?? ZERO_OID}
delete ${tmp}
` });
  if (moved.exitCode === 0)
    return true;
  gitRun(["update-ref", "-d", tmp], { cwd });
  if (/is at [0-9a-f]+ but expected|reference already exists/.test(moved.stderr))
    return false;
  if (/File exists/.test(moved.stderr))
    return false;
  if (/invalid <newvalue>/.test(moved.stderr))
    return false;
  if ((readRef(cwd, ref)?.oid ?? null) !== tip)
    return false;
  const complaint = moved.stderr.trim().split("\n")[0].replace(/^fatal: /, "");
  const inTheWay = /'([^']+)' exists; cannot create/.exec(complaint)?.[1];
  if (inTheWay)
    throw refInTheWayError(ref, inTheWay);
  throw new Error(`git update-ref ${ref} failed: ${complaint}`);
}
function refInTheWayError(ref, other) {
  return new UserError(`${other} is in the way of ${ref}: git cannot keep both names; nothing was written`, ExitCode.usage, `look at it (git log -1 ${other}), then move it aside or delete it (git update-ref -d ${other})`);
}
var REF_FORMAT = "--format=%(refname)%00%(objectname)%00%(objecttype)";
function parseRefs(out) {
  const refs = /* @__PURE__ */ new Map();
  for (const line of out.split("\n")) {
    const [name, oid, type] = line.split("\0");
    if (name && oid && type)
      refs.set(name, { oid, type });
  }
  return refs;
}
function readRef(cwd, ref) {
  return parseRefs(gitRun(["for-each-ref", REF_FORMAT, ref], { cwd }).stdout).get(ref) ?? null;
}
function notACommitError(ref, target) {
  const short = target.oid.slice(0, 12);
  return new UserError(`${ref} points at a ${target.type} (${short}), not a notes commit; nothing was written`, ExitCode.usage, `look at it (git cat-file -p ${short}); if it is not worth keeping, delete the ref (git update-ref -d ${ref} ${target.oid}), then run omni-ship sync to get the log back from the remote`);
}
var TMP_STALE_AFTER_MS = 60 * 60 * 1e3;
function hostComponent() {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, "_") || "unknown";
}
function tmpRefName() {
  return `${TMP_REF_PREFIX}${hostComponent()}/${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
function isStaleTmpRef(name, now) {
  const rest = name.slice(TMP_REF_PREFIX.length);
  const slash = rest.lastIndexOf("/");
  const host = slash >= 0 ? rest.slice(0, slash) : null;
  const [pidText, timeText] = rest.slice(slash + 1).split("-");
  const pid = Number(pidText);
  const time = parseInt(timeText ?? "", 36);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isFinite(time))
    return false;
  if (now - time > TMP_STALE_AFTER_MS)
    return true;
  return host === hostComponent() && pid !== process.pid && !processAlive(pid);
}
function deleteStaleTmpRefs(cwd, tmpRefs) {
  const now = Date.now();
  const stale = [...tmpRefs].filter((name) => isStaleTmpRef(name, now));
  if (stale.length)
    gitRun(["update-ref", "--stdin"], { cwd, input: stale.map((name) => `delete ${name}
`).join("") });
  return stale;
}
function pruneStaleTmpRefs(cwd) {
  return deleteStaleTmpRefs(cwd, parseRefs(gitRun(["for-each-ref", REF_FORMAT, TMP_REF_PREFIX], { cwd }).stdout).keys());
}
function appendedNotes(appends, objects, existing, redundant) {
  const updated = /* @__PURE__ */ new Map();
  let count = 0;
  for (const object of objects) {
    const found = existing.get(object) ?? null;
    const text = found?.text ?? "";
    const have = text.split("\n").filter((l) => l !== "");
    const added = [];
    for (const a of appends) {
      if (a.object !== object)
        continue;
      for (const event of a.events) {
        const line = encodeEvent(event);
        if (have.includes(line) || added.includes(line))
          continue;
        if (redundant?.([...have, ...added], event))
          continue;
        added.push(line);
      }
    }
    if (added.length === 0)
      continue;
    count += added.length;
    const base = text === "" || text.endsWith("\n") ? text : `${text}
`;
    updated.set(found?.path ?? newNotePath(object), `${base}${added.join("\n")}
`);
  }
  return { updated, count };
}
async function appendEvents(cwd, ref, appends, redundant, known) {
  const objects = [...new Set(appends.map((a) => a.object))];
  if (objects.length === 0)
    return 0;
  if (known && objects.every((o) => known.notes.has(o))) {
    const lines = appendedNotes(appends, objects, known.notes, redundant);
    if (lines.updated.size === 0)
      return 0;
    if (commitNotesCas(cwd, ref, known.tip, lines.updated, `omni-ship: ${lines.count} event(s)
`))
      return lines.count;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const refs = parseRefs(gitRun(["for-each-ref", REF_FORMAT, ref, ...attempt === 0 ? [TMP_REF_PREFIX] : []], { cwd }).stdout);
    const target = refs.get(ref) ?? null;
    if (target && target.type !== "commit")
      throw notACommitError(ref, target);
    const below = [...refs.keys()].find((name) => name.startsWith(`${ref}/`));
    if (below)
      throw refInTheWayError(ref, below);
    if (attempt === 0)
      deleteStaleTmpRefs(cwd, [...refs.keys()].filter((name) => name.startsWith(TMP_REF_PREFIX)));
    const tip = target?.oid ?? null;
    const existing = tip ? await readSomeNotes(cwd, tip, objects) : /* @__PURE__ */ new Map();
    const { updated, count } = appendedNotes(appends, objects, existing, redundant);
    if (updated.size === 0)
      return 0;
    if (commitNotesCas(cwd, ref, tip, updated, `omni-ship: ${count} event(s)
`))
      return count;
    await sleep(2 + Math.random() * Math.min(200, 5 * (attempt + 1)));
  }
  throw new Error(`gave up writing ${ref} after ${MAX_ATTEMPTS} attempts: other writers kept moving it, or a lock file stays in the way (${ref}.lock in the git dir, left by a git process that crashed: delete it when no git process runs)`);
}

export {
  fastImportInput,
  commitNotesCas,
  notACommitError,
  pruneStaleTmpRefs,
  appendEvents
};
