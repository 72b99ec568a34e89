import {
  hostId
} from "./chunk-6JBUE5OR.js";
import {
  appendEvents
} from "./chunk-NVSIXMHN.js";
import {
  NOTES_REFS,
  PATCHSET_REF_PREFIX,
  baseRefCandidates,
  patchsetRef
} from "./chunk-XXU5WV5T.js";
import {
  trailerClaim,
  trailerPlaceholder,
  trailerValues
} from "./chunk-7AMGEYTX.js";
import {
  SCHEMA_VERSION
} from "./chunk-XETBP7KF.js";
import {
  taskIdFromBranch
} from "./chunk-KCAZVUE7.js";
import {
  git,
  gitRun
} from "./chunk-T3IP3O65.js";

// dist/notes/patchsets.js
function commitFacts(cwd, commits, trailerKey) {
  const out = git(["log", "--no-walk=unsorted", "--stdin", `--format=%H%x1f%T%x1f%P%x1f%cn <%ce>%x1f%an <%ae>%x1f${trailerPlaceholder(trailerKey)}%x1e`], { cwd, input: `${commits.join("\n")}
` });
  const facts = /* @__PURE__ */ new Map();
  for (const record of out.split("")) {
    const [sha, tree, parents, committer, author, trailers] = record.replace(/^\n+/, "").split("");
    if (!sha || !tree)
      continue;
    facts.set(sha, {
      tree,
      parent: parents?.split(" ")[0] || null,
      committer: committer ?? "unknown <unknown>",
      author: author ?? "unknown <unknown>",
      trailerTasks: trailerValues(trailers ?? "")
    });
  }
  return facts;
}
function baseCommitsAmong(cwd, config, commits) {
  if (commits.length === 0)
    return /* @__PURE__ */ new Set();
  const existing = git(["for-each-ref", "--format=%(refname)", ...baseRefCandidates(config)], { cwd }).split("\n").filter(Boolean);
  if (existing.length === 0)
    return /* @__PURE__ */ new Set();
  const off = new Set(git(["rev-list", ...new Set(commits), "--not", ...existing, "--"], { cwd }).split("\n").filter(Boolean));
  return new Set(commits.filter((c) => !off.has(c)));
}
var redundantPatchset = (existing, event) => {
  if (event.type !== "patchset")
    return false;
  for (const line of existing) {
    try {
      const e = JSON.parse(line);
      if (e.type === "patchset" && e.commit === event.commit && e.task === event.task && (event.supersedes === null || e.supersedes === event.supersedes)) {
        return true;
      }
    } catch {
    }
  }
  return false;
};
async function recordPatchsets(cwd, commonDir, config, candidates) {
  const onBase = baseCommitsAmong(cwd, config, candidates.map((c) => c.commit));
  const onTaskBranch = candidates.filter((c) => c.branch && taskIdFromBranch(c.branch, config) && !onBase.has(c.commit));
  if (onTaskBranch.length === 0)
    return { events: [], written: 0, skipped: [] };
  const facts = commitFacts(cwd, [...new Set(onTaskBranch.map((c) => c.commit))], config.trailerKey);
  const host = hostId(commonDir);
  const events = [];
  const skipped = [];
  for (const c of onTaskBranch) {
    const f = facts.get(c.commit);
    if (!f)
      continue;
    const claim = trailerClaim(f.trailerTasks, config, config.trailerKey);
    if (claim.kind === "bad") {
      if (!skipped.some((s) => s.commit === c.commit))
        skipped.push({ commit: c.commit, branch: c.branch, reason: `not a patchset of any task: ${claim.reason}` });
      continue;
    }
    const task = claim.kind === "task" ? claim.task : taskIdFromBranch(c.branch, config);
    events.push({
      v: SCHEMA_VERSION,
      type: "patchset",
      at: c.at.toISOString(),
      by: f.committer,
      host,
      task,
      commit: c.commit,
      tree: f.tree,
      parent: f.parent,
      branch: c.branch,
      // `git commit --amend` that changed nothing in the same second makes the same commit, and post-rewrite
      // reports old == new (a rebase can too): a commit never replaces itself
      supersedes: c.supersedes === c.commit ? null : c.supersedes,
      author: f.author,
      via: c.via
    });
  }
  const merged = events.filter((e, i) => e.supersedes !== null || !events.some((o, k) => o.commit === e.commit && o.task === e.task && (o.supersedes !== null || k < i)));
  const written = await appendEvents(cwd, NOTES_REFS.patchsets, merged.map((e) => ({ object: e.commit, events: [e] })), redundantPatchset);
  keepReachable(cwd, merged);
  return { events: written ? merged : [], written, skipped };
}
function keepReachable(cwd, events) {
  const tasks = [...new Set(events.map((e) => e.task))];
  if (tasks.length === 0)
    return;
  for (let attempt = 0; attempt < 5; attempt++) {
    const out = git(["for-each-ref", "--format=%(refname)%00%(objectname)", ...tasks.map((t) => `${PATCHSET_REF_PREFIX}${t}/`)], { cwd });
    const have = /* @__PURE__ */ new Map();
    const entryOf = (task) => have.get(task) ?? have.set(task, { max: 0, commits: /* @__PURE__ */ new Set() }).get(task);
    for (const line of out.split("\n")) {
      const [name, oid] = line.split("\0");
      if (!name || !oid)
        continue;
      const rest = name.slice(PATCHSET_REF_PREFIX.length);
      const slash = rest.lastIndexOf("/");
      const entry = entryOf(rest.slice(0, slash));
      const n = Number(rest.slice(slash + 1));
      if (Number.isInteger(n))
        entry.max = Math.max(entry.max, n);
      entry.commits.add(oid);
    }
    const lines = [];
    for (const e of [...events].sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0)) {
      const entry = entryOf(e.task);
      if (entry.commits.has(e.commit))
        continue;
      entry.max += 1;
      entry.commits.add(e.commit);
      lines.push(`create ${patchsetRef(e.task, entry.max)} ${e.commit}`);
    }
    if (lines.length === 0)
      return;
    if (gitRun(["update-ref", "--stdin"], { cwd, input: `${lines.join("\n")}
` }).exitCode === 0)
      return;
  }
}

export {
  baseCommitsAmong,
  redundantPatchset,
  recordPatchsets
};
