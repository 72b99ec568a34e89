import {
  prepareVerify
} from "./chunk-2UYFNPRI.js";
import {
  supersededSignal,
  wantedCommit
} from "./chunk-AB7GA2BM.js";
import {
  verifyCommit
} from "./chunk-NMLSM6RE.js";
import "./chunk-J6TYBACV.js";
import "./chunk-LIUXXDUE.js";
import "./chunk-X3DBBVZN.js";
import "./chunk-IIXU77GC.js";
import "./chunk-XXU5WV5T.js";
import "./chunk-JHUBOML5.js";
import "./chunk-S5HPCCKI.js";
import "./chunk-XETBP7KF.js";
import "./chunk-ZPUHQCBY.js";
import "./chunk-KCAZVUE7.js";
import "./chunk-3764SIXL.js";
import "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";

// dist/verify/background-run.js
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function settleMs() {
  const v = Number(process.env.OMNI_SHIP_VERIFY_SETTLE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 1e3;
}
var stamp = () => (/* @__PURE__ */ new Date()).toISOString();
async function runBackgroundVerify(opts) {
  const p = await prepareVerify({ cwd: opts.cwd, target: opts.commit, specFromCommit: opts.specFromCommit, background: true });
  const task = opts.task;
  const target = { ...p.target, task };
  const superseded = () => task !== null && wantedCommit(p.stateDir, task) !== null && wantedCommit(p.stateDir, task) !== target.commit;
  await sleep(settleMs());
  if (superseded()) {
    console.log(`${stamp()} ${task} ${target.commit.slice(0, 12)}: not verified: a newer patchset (${wantedCommit(p.stateDir, task).slice(0, 12)}) is wanted`);
    return null;
  }
  const watch = task ? supersededSignal(p.stateDir, task, target.commit) : null;
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("terminated"));
  for (const s of ["SIGTERM", "SIGINT"])
    process.on(s, stop);
  watch?.signal.addEventListener("abort", () => controller.abort(watch.signal.reason));
  try {
    const shape = task && p.base ? { baseTip: p.base.tip, baseName: p.config.baseBranch } : null;
    const outcome = await verifyCommit({ cwd: p.cwd, commonDir: p.commonDir, stateDir: p.stateDir, config: p.config, spec: p.spec, target, shape, force: opts.force, signal: controller.signal });
    const why = outcome.cancelled ? String(controller.signal.reason?.message ?? "stopped") : outcome.summary;
    console.log(`${stamp()} ${task ?? "-"} ${target.commit.slice(0, 12)} tree ${target.tree.slice(0, 12)}: ${outcome.cancelled ? "cancelled" : outcome.result}${outcome.cached ? " (cached)" : ""}: ${why}`);
    return outcome;
  } finally {
    watch?.stop();
    for (const s of ["SIGTERM", "SIGINT"])
      process.off(s, stop);
  }
}
export {
  runBackgroundVerify
};
