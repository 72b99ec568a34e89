import {
  badLineWarnings,
  readVerifyContext,
  taskJson
} from "./chunk-C3RJA7YE.js";
import {
  columns
} from "./chunk-J6TYBACV.js";
import "./chunk-ZF2EADDJ.js";
import "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-X3DBBVZN.js";
import {
  loadState,
  readRefSnapshot
} from "./chunk-QC6GLNLN.js";
import "./chunk-BRY4P75L.js";
import "./chunk-IIXU77GC.js";
import {
  PATCHSET_REF_PREFIX
} from "./chunk-XXU5WV5T.js";
import "./chunk-7AMGEYTX.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import {
  byTime
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
import {
  git
} from "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/commands/show.js
async function showCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const id = parseTaskId(opts.task, config);
  const refs = await readRefSnapshot(repo.toplevel);
  const judged = await readVerifyContext(repo.toplevel, repo.commonDir, stateDir(repo), config, refs).load();
  const state = await loadState(repo.toplevel, config, stateDir(repo), refs, judged.context);
  const task = state.tasks.get(id);
  if (!task) {
    throw new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, "omni-ship status lists the tasks this repository knows");
  }
  const trees = new Set(task.patchsets.map((p) => p.tree));
  const keptBy = /* @__PURE__ */ new Map();
  for (const line of git(["for-each-ref", "--format=%(objectname) %(refname)", `${PATCHSET_REF_PREFIX}${id}/`], { cwd: repo.toplevel }).split("\n")) {
    const [commit, ref] = line.split(" ");
    if (commit && ref && !keptBy.has(commit))
      keptBy.set(commit, ref);
  }
  const verifyEvents = state.events.verify.filter((e) => trees.has(e.tree) || e.task === id).sort(byTime).map((e) => ({ ...e, currentSpec: e.spec === judged.context.spec }));
  const reviews = state.events.review.filter((e) => e.task === id).sort(byTime);
  const attempts = state.events.attempt.filter((e) => e.task === id).sort(byTime);
  const warnings = [...badLineWarnings(state), ...judged.warning ? [judged.warning] : []];
  const data = {
    taskId: id,
    trailer: `${config.trailerKey}: ${id}`,
    patchsetCount: task.patchsets.length,
    ...taskJson(task),
    patchsetHistory: task.patchsets.map((p) => ({ ...p, current: p.commit === task.head, ref: keptBy.get(p.commit) ?? null })),
    verifyEvents,
    spec: judged.context.spec,
    reviews,
    attempts,
    warnings
  };
  const lines = [
    `${id}  ${task.state}${task.branch ? `  branch ${task.branch}` : ""}${task.head ? `  head ${task.head.slice(0, 12)}` : ""}`,
    `trailer: ${data.trailer}`
  ];
  if (task.live.length > 1)
    lines.push(`diverged: ${task.live.map((c) => c.slice(0, 12)).join(", ")} all claim ${id}`);
  lines.push("", `patchsets (${task.patchsets.length}):`);
  if (task.patchsets.length) {
    lines.push(columns(task.patchsets.map((p) => [
      `${p.commit === task.head ? "*" : " "} ${p.n}`,
      p.commit.slice(0, 12),
      p.at,
      p.author && p.author !== p.by ? `${p.author} (committed by ${p.by})` : p.by,
      p.via + (p.supersedes.length ? ` (replaces ${p.supersedes.map((s) => s.slice(0, 12)).join(", ")})` : ""),
      // the slot a sync gave it can differ from the number: say where it is kept then
      keptBy.get(p.commit) && keptBy.get(p.commit) !== `${PATCHSET_REF_PREFIX}${id}/${p.n}` ? `kept as ${keptBy.get(p.commit)}` : ""
    ])));
  } else
    lines.push("  none recorded");
  if (task.verifyingSince)
    lines.push("", `verifying on this machine since ${task.verifyingSince}`);
  if (verifyEvents.length) {
    lines.push("", "verify:", ...verifyEvents.map((e) => `  ${e.at} ${e.result}${e.step ? ` in ${e.step}` : ""}${e.summary ? `: ${e.summary}` : ""} (tree ${e.tree.slice(0, 12)}, by ${e.by} on ${e.host}${e.currentSpec ? "" : `, under another spec ${e.spec.slice(0, 12)}`})`));
  }
  if (reviews.length)
    lines.push("", "reviews:", ...reviews.map((e) => `  ${e.at} ${e.verdict} by ${e.by} on ${e.commit.slice(0, 12)}${e.message ? `: ${e.message}` : ""}`));
  if (attempts.length)
    lines.push("", "attempts:", ...attempts.map((e) => `  ${e.at} ${e.role} ${e.outcome}${e.error ? `: ${e.error}` : ""}`));
  if (task.landing)
    lines.push("", `landed: ${task.landing.landed.slice(0, 12)} on ${task.landing.base} at ${task.landing.at} by ${task.landing.by}`);
  else if (task.landedCommit)
    lines.push("", `landed: ${task.landedCommit.slice(0, 12)} is on ${state.base}`);
  return { data, text: lines.join("\n"), warnings };
}
export {
  showCommand
};
