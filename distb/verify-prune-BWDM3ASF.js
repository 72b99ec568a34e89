import {
  findBaseTip
} from "./chunk-DX7NHQZR.js";
import "./chunk-UEJZBPSB.js";
import {
  resolveSpec
} from "./chunk-X3DBBVZN.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-KCAZVUE7.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";

// dist/commands/verify-prune.js
import fs from "node:fs";
import path from "node:path";
function oldFiles(dir, cutoff) {
  const out = [];
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory())
      out.push(...oldFiles(p, cutoff));
    else if (e.name.endsWith(".log") && fs.statSync(p).mtimeMs < cutoff)
      out.push(p);
  }
  return out;
}
async function verifyPruneCommand(opts) {
  const repo = requireRepo(opts.cwd);
  const cwd = repo.toplevel ?? repo.commonDir;
  const dir = stateDir(repo);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
  const base = findBaseTip(cwd, config);
  const spec = await resolveSpec({ cwd, commonDir: repo.commonDir, stateDir: dir, baseTip: base?.tip ?? null, runCacheKey: false, baseName: config.baseBranch });
  const days = spec.verify.pruneAfterDays;
  const cutoff = Date.now() - days * 864e5;
  const { prunePool } = await import("./pool-N7U7WKZ3.js");
  const { updateRegistry } = await import("./registry-OVOWDZCK.js");
  const { runningVerifies } = await import("./running-4X4OP5JN.js");
  const pool = await prunePool({ cwd, commonDir: repo.commonDir, stateDir: dir, olderThanMs: days * 864e5 });
  const running = new Set(runningVerifies(dir).map((r) => r.log));
  const removedLogs = [];
  for (const file of oldFiles(path.join(dir, "verify", "logs"), cutoff)) {
    if (running.has(file))
      continue;
    fs.rmSync(file, { force: true });
    removedLogs.push(file);
  }
  const gone = new Set(removedLogs);
  await updateRegistry(dir, (r) => {
    r.logs = r.logs.filter((l) => !gone.has(l.file) && fs.existsSync(l.file));
  });
  const data = { olderThanDays: days, removedWorktrees: pool.removed, keptWorktrees: pool.kept, removedLogs };
  const text = `removed ${pool.removed.length} pool worktree(s) and ${removedLogs.length} log(s) older than ${days} day(s); kept ${pool.kept.length} worktree(s)`;
  return { data, text };
}
export {
  verifyPruneCommand
};
