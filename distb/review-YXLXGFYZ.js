import {
  gitIdentity,
  hostId
} from "./chunk-6JBUE5OR.js";
import {
  appendEvents
} from "./chunk-NVSIXMHN.js";
import {
  loadState
} from "./chunk-QC6GLNLN.js";
import "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import {
  NOTES_REFS
} from "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import {
  SCHEMA_VERSION
} from "./chunk-XETBP7KF.js";
import "./chunk-ZPUHQCBY.js";
import {
  parseTaskId
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireWorkRepo,
  stateDir
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode,
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/commands/review.js
async function reviewCommand(opts) {
  if (opts.approve === opts.requestChanges)
    throw badInput("give exactly one of --approve and --request-changes");
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const id = parseTaskId(opts.task, config);
  const task = (await loadState(repo.toplevel, config, stateDir(repo))).tasks.get(id);
  if (!task)
    throw new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, "omni-ship status lists the tasks");
  if (task.state === "landed")
    throw new UserError(`${id} has landed already; there is nothing left to review`, ExitCode.refused);
  if (!task.head) {
    throw new UserError(`${id} has no commit of its own to review: branch ${task.branch ?? id} has nothing on top of ${config.baseBranch}`, ExitCode.usage, `commit the work on ${task.branch ?? id} first`);
  }
  if (task.live.length > 1) {
    throw new UserError(`${id} is diverged: ${task.live.map((c) => c.slice(0, 12)).join(" and ")} both claim it`, ExitCode.conflict, "keep one branch, then review");
  }
  const event = {
    v: SCHEMA_VERSION,
    type: "review",
    at: (/* @__PURE__ */ new Date()).toISOString(),
    by: gitIdentity(repo.toplevel),
    host: hostId(repo.commonDir),
    task: id,
    commit: task.head,
    verdict: opts.approve ? "approve" : "request-changes",
    message: opts.message ?? null
  };
  await appendEvents(repo.toplevel, NOTES_REFS.reviews, [{ object: task.head, events: [event] }]);
  const n = task.patchsets.find((p) => p.commit === task.head)?.n;
  return { data: event, text: `${id}: ${event.verdict} recorded on ${task.head.slice(0, 12)}${n ? ` (patchset ${n})` : ""}` };
}
export {
  reviewCommand
};
