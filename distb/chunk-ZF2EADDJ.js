import {
  ownerAlive,
  readLock
} from "./chunk-ROLFLMZX.js";

// dist/verify/running.js
import fs from "node:fs";
import path from "node:path";
function runLockFile(stateDir, tree, spec) {
  return path.join(stateDir, "verify", "running", `${tree}-${spec.slice(0, 16)}.lock`);
}
function runningVerifies(stateDir) {
  const dir = path.join(stateDir, "verify", "running");
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    if (!name.endsWith(".lock"))
      continue;
    const info = readLock(path.join(dir, name));
    if (!info || !ownerAlive(info))
      continue;
    const d = info.data;
    if (typeof d.tree !== "string" || typeof d.spec !== "string")
      continue;
    out.push({
      tree: d.tree,
      spec: d.spec,
      commit: typeof d.commit === "string" ? d.commit : null,
      task: typeof d.task === "string" ? d.task : null,
      startedAt: typeof d.startedAt === "string" ? d.startedAt : info.at,
      log: typeof d.log === "string" ? d.log : null
    });
  }
  return out;
}

export {
  runLockFile,
  runningVerifies
};
