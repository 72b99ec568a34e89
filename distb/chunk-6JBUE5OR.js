import {
  gitAsync,
  gitRun
} from "./chunk-T3IP3O65.js";

// dist/identity.js
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
function cloneId(commonDir) {
  const file = path.join(commonDir, "omni-ship", "clone-id");
  try {
    const id2 = fs.readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{8,}$/.test(id2))
      return id2;
  } catch {
  }
  const id = crypto.randomBytes(4).toString("hex");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, `${id}
`, { flag: "wx" });
    return id;
  } catch {
    return fs.readFileSync(file, "utf8").trim();
  }
}
function hostId(commonDir) {
  return `${os.hostname()}/${cloneId(commonDir)}`;
}
function identityOf(out) {
  const m = /^(.*<[^>]*>)/.exec(out.trim());
  return m ? m[1] : "unknown <unknown>";
}
function gitIdentity(cwd) {
  return identityOf(gitRun(["var", "GIT_COMMITTER_IDENT"], { cwd }).stdout);
}
async function gitIdentityAsync(cwd) {
  return identityOf((await gitAsync(["var", "GIT_COMMITTER_IDENT"], { cwd })).stdout);
}

export {
  cloneId,
  hostId,
  gitIdentity,
  gitIdentityAsync
};
