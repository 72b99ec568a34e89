import {
  unknownTask
} from "./chunk-ZYVUK7VO.js";
import {
  taskIdFromBranch,
  tryTaskId
} from "./chunk-KCAZVUE7.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/verify/target.js
function commitAndTree(cwd, rev) {
  const r = gitRun(["log", "-1", "--no-walk", "--format=%H %T", "--end-of-options", `${rev}^{commit}`, "--"], { cwd });
  const [commit, tree] = r.stdout.trim().split(" ");
  return r.exitCode === 0 && commit && tree ? { commit, tree } : null;
}
async function resolveTarget(cwd, config, stateDir, arg) {
  if (arg === void 0) {
    const head = commitAndTree(cwd, "HEAD");
    if (!head)
      throw badInput("HEAD has no commit yet: nothing to verify", "commit first, or name a task or a commit");
    const branch = gitRun(["symbolic-ref", "-q", "--short", "HEAD"], { cwd }).stdout.trim();
    const task2 = branch && branch !== config.baseBranch ? taskIdFromBranch(branch, config) : null;
    return { ...head, task: task2 };
  }
  const task = tryTaskId(arg, config);
  if (task) {
    const { loadState } = await import("./tasks-Z5GWPL6J.js");
    const state = await loadState(cwd, config, stateDir);
    const view = state.tasks.get(task);
    if (!view)
      throw unknownTask(task);
    if (!view.head)
      throw badInput(`${task} has no commit yet: nothing to verify`, `commit on its branch first (git switch ${view.branch ?? task})`);
    const found2 = commitAndTree(cwd, view.head);
    if (!found2)
      throw badInput(`${task}'s commit ${view.head.slice(0, 12)} is not in this clone`, "fetch it (git fetch), then run this again");
    return { ...found2, task };
  }
  const found = commitAndTree(cwd, arg);
  if (!found)
    throw badInput(`'${arg}' is neither a task id nor a commit here`, "name a task (t-565), a branch, a tag or a commit id");
  return { ...found, task: null };
}

export {
  commitAndTree,
  resolveTarget
};
