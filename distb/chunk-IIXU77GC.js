import {
  catFileBatch,
  catFileStream,
  lsTree
} from "./chunk-JHUBOML5.js";
import {
  gitAsync
} from "./chunk-T3IP3O65.js";

// dist/notes/read.js
function objectFromNotePath(path) {
  return path.replace(/\//g, "");
}
async function readAllNotes(cwd, tips, paths, onNote) {
  const result = new Map(tips.map((t) => [t.ref, /* @__PURE__ */ new Map()]));
  await Promise.all(tips.map(async (t) => {
    const entries = await lsTree(cwd, t.tip);
    const objectsOf = /* @__PURE__ */ new Map();
    const pathMap = paths ? /* @__PURE__ */ new Map() : null;
    for (const entry of entries) {
      if (entry.type !== "blob")
        continue;
      const object = objectFromNotePath(entry.path);
      pathMap?.set(object, entry.path);
      const list = objectsOf.get(entry.oid);
      if (list)
        list.push(object);
      else
        objectsOf.set(entry.oid, [object]);
    }
    if (pathMap)
      paths?.set(t.ref, pathMap);
    const texts = result.get(t.ref);
    await catFileStream(cwd, [...objectsOf.keys()], (oid, content) => {
      const text = content.toString("utf8");
      for (const object of objectsOf.get(oid) ?? []) {
        if (onNote)
          onNote(t.ref, object, text);
        else
          texts.set(object, text);
      }
    });
  }));
  return result;
}
function notePathCandidates(object) {
  return [object, `${object.slice(0, 2)}/${object.slice(2)}`, `${object.slice(0, 2)}/${object.slice(2, 4)}/${object.slice(4)}`];
}
async function readSomeNotes(cwd, tip, objects) {
  const requests = [];
  for (const object of objects)
    for (const p of notePathCandidates(object))
      requests.push(`${tip}:${p}`);
  const answers = await catFileBatch(cwd, requests);
  const notes = /* @__PURE__ */ new Map();
  objects.forEach((object, i) => {
    for (let k = 0; k < 3; k++) {
      const a = answers[i * 3 + k];
      if (a?.content && a.type === "blob") {
        notes.set(object, { text: a.content.toString("utf8"), path: notePathCandidates(object)[k] });
        break;
      }
    }
  });
  return notes;
}
function newNotePath(object) {
  return `${object.slice(0, 2)}/${object.slice(2)}`;
}
async function readChangedNotes(cwd, from, to, onDelete, onNote) {
  const out = await gitAsync(["diff-tree", "-r", "-z", "--no-renames", from, to], { cwd });
  if (out.exitCode !== 0)
    throw new Error(`git diff-tree ${from} ${to} failed: ${out.stderr.trim()}`);
  const fields = out.stdout.split("\0");
  const objectsOf = /* @__PURE__ */ new Map();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i].split(" ");
    const object = objectFromNotePath(fields[i + 1]);
    const status = meta[4];
    const blob = meta[3];
    onDelete(object);
    if (status === "D")
      continue;
    const list = objectsOf.get(blob);
    if (list)
      list.push(object);
    else
      objectsOf.set(blob, [object]);
  }
  await catFileStream(cwd, [...objectsOf.keys()], (oid, content) => {
    const text = content.toString("utf8");
    for (const object of objectsOf.get(oid) ?? [])
      onNote(object, text);
  });
}

export {
  objectFromNotePath,
  readAllNotes,
  notePathCandidates,
  readSomeNotes,
  newNotePath,
  readChangedNotes
};
