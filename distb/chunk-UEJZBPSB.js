import {
  trailerClaim,
  trailerPlaceholder,
  trailerValues
} from "./chunk-7AMGEYTX.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";

// dist/verify/shape.js
import fs from "node:fs";
import path from "node:path";
function isShallow(cwd) {
  return gitRun(["rev-parse", "--is-shallow-repository"], { cwd }).stdout.trim() === "true";
}
function checkShape(cwd, config, task, commit, baseTip, baseName, commonDir) {
  const log = gitRun(["log", `--format=%H%x1f%P%x1f${trailerPlaceholder(config.trailerKey)}%x1e`, `${baseTip}..${commit}`, "--"], { cwd });
  if (log.exitCode !== 0)
    return { ok: false, problem: `cannot read the history between ${baseName} and ${commit.slice(0, 12)}`, missing: true };
  const records = log.stdout.split("").map((r) => r.replace(/^\n+/, "")).filter(Boolean).map((r) => r.split(""));
  const short = commit.slice(0, 12);
  if (records.length === 0)
    return { ok: false, problem: `commit ${short} is already on ${baseName}: ${task} has no commit of its own` };
  const [, parents, trailers] = records[0];
  const claim = trailerClaim(trailerValues(trailers ?? ""), config, config.trailerKey);
  if (claim.kind === "bad")
    return { ok: false, problem: `commit ${short} belongs to no task: ${claim.reason}; amend its message to name ${task} alone` };
  if (claim.kind === "task" && claim.task !== task) {
    return { ok: false, problem: `commit ${short} names ${claim.task}, not ${task}; amend its ${config.trailerKey} trailer, or verify ${claim.task}` };
  }
  if ((parents ?? "").split(" ").filter(Boolean).length > 1)
    return { ok: false, problem: `commit ${short} is a merge; a task is one plain commit on top of ${baseName} (rebase it: git rebase ${baseName})` };
  const shallow = commonDir ? fs.existsSync(path.join(commonDir, "shallow")) : isShallow(cwd);
  if (shallow || records.length > 1) {
    if (gitRun(["merge-base", baseTip, commit], { cwd }).exitCode !== 0) {
      if (shallow) {
        return { ok: false, missing: true, problem: `this shallow clone lacks the history between ${baseName} and ${short}, so the one-commit rule cannot be checked; fetch it (git fetch --deepen=50 or --unshallow)` };
      }
      return { ok: false, problem: `commit ${short} shares no history with ${baseName}` };
    }
  }
  if (records.length === 1)
    return { ok: true };
  return { ok: false, problem: `${task} is ${records.length} commits on top of ${baseName}; a task is one commit: squash them (git rebase -i ${baseName}), or rebase onto ${baseName} if it moved` };
}

export {
  isShallow,
  checkShape
};
