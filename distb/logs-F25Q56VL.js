import {
  taskRequest
} from "./chunk-AB7GA2BM.js";
import {
  resolveTarget
} from "./chunk-NTEFXZ54.js";
import "./chunk-ZYVUK7VO.js";
import {
  runningVerifies
} from "./chunk-ZF2EADDJ.js";
import "./chunk-ROLFLMZX.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-ZPUHQCBY.js";
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
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/commands/logs.js
import fs from "node:fs";
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function logsOf(stateDir2, tree) {
  const { readRegistry } = await import("./registry-OVOWDZCK.js");
  const registry = await readRegistry(stateDir2);
  const running = new Set(runningVerifies(stateDir2).map((r) => r.log));
  return registry.logs.filter((l) => l.tree === tree && fs.existsSync(l.file)).sort((a, b) => a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0).map((l) => ({
    file: l.file,
    commit: l.commit,
    task: l.task,
    spec: l.spec,
    startedAt: l.startedAt,
    finishedAt: l.finishedAt,
    result: l.result,
    step: l.step,
    exitCode: l.exitCode,
    running: running.has(l.file)
  }));
}
async function follow(file, alive) {
  let offset = 0;
  const pump = () => {
    const size = fs.statSync(file).size;
    if (size <= offset)
      return;
    const fd = fs.openSync(file, "r");
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      process.stdout.write(buf);
      offset = size;
    } finally {
      fs.closeSync(fd);
    }
  };
  for (; ; ) {
    const going = alive();
    pump();
    if (!going)
      return;
    await sleep(200);
  }
}
async function logsCommand(opts) {
  if (opts.follow && (opts.json || opts.all))
    throw new UserError("--follow prints the log as it grows: it takes neither --json nor --all", ExitCode.usage, "omni-ship logs <task> --follow");
  const repo = requireRepo(opts.cwd);
  const cwd = repo.toplevel ?? repo.commonDir;
  const dir = stateDir(repo);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
  const target = await resolveTarget(cwd, config, dir, opts.target);
  const label = opts.target ?? (target.task ? `${target.task} (HEAD)` : "HEAD");
  let logs = await logsOf(dir, target.tree);
  const request = opts.follow && target.task ? taskRequest(dir, target.task) : null;
  if (request && request.commit === target.commit && request.pending !== false) {
    const started = () => logs.some((l) => l.startedAt >= request.at);
    for (let waited = 0; !started() && waited < 3e4; waited += 250) {
      await sleep(250);
      logs = await logsOf(dir, target.tree);
    }
  }
  if (logs.length === 0) {
    throw new UserError(`no verify log of ${label} (tree ${target.tree.slice(0, 12)}) on this machine`, ExitCode.usage, `run it: omni-ship verify ${opts.target ?? ""}`.trimEnd() + "; an answer synced from another clone keeps its log there (omni-ship show gives its summary)");
  }
  const data = { target: label, commit: target.commit, tree: target.tree, task: target.task, logs, content: null };
  if (opts.all) {
    const text = logs.map((l) => `${l.startedAt}  ${l.running ? "running" : l.result ?? "unfinished"}${l.step ? ` in ${l.step}` : ""}  ${l.file}`).join("\n");
    return { data, text };
  }
  const newest = logs[0];
  if (opts.follow) {
    await follow(newest.file, () => runningVerifies(dir).some((r) => r.log === newest.file));
    const done = (await logsOf(dir, target.tree)).find((l) => l.file === newest.file);
    const code = done?.result === "fail" ? ExitCode.refused : done?.result === "pass" || done?.result === "skip" ? ExitCode.ok : ExitCode.indeterminate;
    return { data, text: done?.result ? `omni-ship: verify ${done.result}${done.step ? ` in step ${done.step}` : ""}` : "", exitCode: code };
  }
  data.content = fs.readFileSync(newest.file, "utf8");
  return { data, text: data.content.replace(/\n$/, "") };
}
export {
  logsCommand
};
