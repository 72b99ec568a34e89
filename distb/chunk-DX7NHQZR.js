import {
  isShallow
} from "./chunk-UEJZBPSB.js";
import {
  baseRefCandidates
} from "./chunk-XXU5WV5T.js";
import {
  gitRun
} from "./chunk-T3IP3O65.js";

// dist/verify/base.js
function findBaseTip(cwd, config) {
  const refs = baseRefCandidates(config);
  const out = gitRun(["for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", ...refs], { cwd }).stdout;
  const found = new Map(out.split("\n").map((l) => l.split(" ")).filter(([, , type]) => type === "commit").map(([ref, oid]) => [ref, oid]));
  for (const ref of refs) {
    const tip = found.get(ref);
    if (tip)
      return { tip, ref, name: config.baseBranch };
  }
  return null;
}
function fetchBaseTip(cwd, config) {
  const here = findBaseTip(cwd, config);
  if (here)
    return { base: here, why: null };
  if (!config.remote)
    return { base: null, why: `the base branch ${config.baseBranch} is not in this clone and there is no remote to fetch it from` };
  const ref = `refs/remotes/${config.remote}/${config.baseBranch}`;
  const args = ["fetch", "--quiet", "--no-tags", ...isShallow(cwd) ? ["--depth=1"] : [], config.remote, `+refs/heads/${config.baseBranch}:${ref}`];
  const r = gitRun(args, { cwd });
  if (r.exitCode !== 0) {
    return { base: null, why: `the base branch ${config.baseBranch} is not in this clone, and fetching it from ${config.remote} failed: ${r.stderr.trim().split("\n").pop()}` };
  }
  return { base: findBaseTip(cwd, config), why: null };
}

export {
  findBaseTip,
  fetchBaseTip
};
