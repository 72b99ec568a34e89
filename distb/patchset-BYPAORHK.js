import {
  baseCommitsAmong,
  recordPatchsets
} from "./chunk-IOM7O6PL.js";
import {
  unknownTask
} from "./chunk-ZYVUK7VO.js";
import "./chunk-6JBUE5OR.js";
import "./chunk-NVSIXMHN.js";
import {
  loadState
} from "./chunk-QC6GLNLN.js";
import "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import {
  trailerClaim,
  trailerPlaceholder,
  trailerValues
} from "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-ZPUHQCBY.js";
import {
  parseTaskId,
  taskIdFromBranch
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireWorkRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import {
  git
} from "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/commands/patchset.js
async function patchsetCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: stateDir(repo) });
  const id = parseTaskId(opts.task, config);
  let incremented = false;
  if (opts.increment) {
    const branches = git(["for-each-ref", "--format=%(refname:short)%00%(objectname)", "refs/heads"], { cwd: repo.toplevel }).split("\n").map((l) => l.split("\0")).filter(([b]) => b && taskIdFromBranch(b, config) === id);
    const current = git(["symbolic-ref", "-q", "--short", "HEAD"], { cwd: repo.toplevel, okCodes: [1] }).trim();
    const chosen = branches.find(([b]) => b === current) ?? (branches.length === 1 ? branches[0] : void 0);
    if (!chosen) {
      throw new UserError(branches.length ? `${id} has several task branches (${branches.map(([b]) => b).join(", ")})` : `${id} has no task branch here`, ExitCode.usage, branches.length ? "check out the one to record, then run this again" : `create one: git switch -c ${id}`);
    }
    refuseForeignTip(repo.toplevel, config, id, chosen[0], chosen[1]);
    const { written } = await recordPatchsets(repo.toplevel, repo.commonDir, config, [
      { commit: chosen[1], branch: chosen[0], supersedes: null, via: "manual", at: /* @__PURE__ */ new Date() }
    ]);
    incremented = written > 0;
  }
  const task = (await loadState(repo.toplevel, config, stateDir(repo))).tasks.get(id);
  if (!task)
    throw unknownTask(id);
  const count = task.patchsets.length;
  const data = { taskId: id, patchsetCount: count, incremented, trailer: `${config.trailerKey}: ${id}` };
  return { data, text: `${id}: ${count} patchset${count === 1 ? "" : "s"}${opts.increment ? incremented ? " (recorded the branch tip)" : " (the branch tip was recorded already)" : ""}` };
}
function refuseForeignTip(cwd, config, id, branch, sha) {
  if (baseCommitsAmong(cwd, config, [sha]).has(sha)) {
    throw new UserError(`${id} has no commit of its own: branch ${branch} has nothing on top of ${config.baseBranch}`, ExitCode.usage, `commit the work on ${branch} first`);
  }
  const field = git(["log", "-1", `--format=${trailerPlaceholder(config.trailerKey)}`, sha, "--"], { cwd }).replace(/\n+$/, "");
  const claim = trailerClaim(trailerValues(field), config, config.trailerKey);
  if (claim.kind === "bad") {
    throw new UserError(`${branch}'s tip ${sha.slice(0, 12)} is no commit of ${id}: ${claim.reason}`, ExitCode.usage, `commit ${id}'s own work on ${branch} with a ${config.trailerKey}: ${id} trailer`);
  }
  if (claim.kind === "task" && claim.task !== id) {
    throw new UserError(`${branch}'s tip ${sha.slice(0, 12)} belongs to ${claim.task} (its ${config.trailerKey} trailer), not to ${id}`, ExitCode.usage, `commit ${id}'s own work on ${branch} first`);
  }
}
export {
  patchsetCommand
};
