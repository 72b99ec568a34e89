import {
  commitNotesCas
} from "./chunk-NVSIXMHN.js";
import {
  objectFromNotePath
} from "./chunk-IIXU77GC.js";
import {
  NOTES_PREFIX,
  PATCHSET_REF_PREFIX,
  remoteNotesPrefix,
  remotePatchsetPrefix
} from "./chunk-XXU5WV5T.js";
import {
  catFileStream
} from "./chunk-JHUBOML5.js";
import "./chunk-XETBP7KF.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  requireWorkRepo
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import {
  gitAsync,
  gitRun
} from "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  ExitCode,
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/notes/union.js
function unionNote(a, b) {
  const lines = [...new Set([...a.split("\n"), ...b.split("\n")].filter((l) => l !== ""))].sort();
  return lines.length ? `${lines.join("\n")}
` : "";
}
var NOTE_PATH = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
async function planUnion(cwd, ours, theirs) {
  const out = await gitAsync(["diff-tree", "-r", "-z", "--no-renames", ours, theirs], { cwd });
  if (out.exitCode !== 0)
    throw new Error(`git diff-tree ${ours} ${theirs} failed: ${out.stderr.trim()}`);
  const fields = out.stdout.split("\0");
  const sides = /* @__PURE__ */ new Map();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, , oldBlob, newBlob, status] = fields[i].split(" ");
    const path = fields[i + 1];
    const object = objectFromNotePath(path);
    if (!NOTE_PATH.test(object))
      continue;
    const entry = sides.get(object) ?? {};
    if (status !== "A")
      entry.ours = { blob: oldBlob, path };
    if (status !== "D")
      entry.theirs = { blob: newBlob, path };
    sides.set(object, entry);
  }
  const wanted = /* @__PURE__ */ new Set();
  for (const { ours: o, theirs: t } of sides.values()) {
    if (o && t && o.blob === t.blob)
      continue;
    if (o)
      wanted.add(o.blob);
    if (t)
      wanted.add(t.blob);
  }
  const texts = /* @__PURE__ */ new Map();
  await catFileStream(cwd, [...wanted], (oid, content) => texts.set(oid, content.toString("utf8")));
  const plan = { ontoOurs: /* @__PURE__ */ new Map(), ontoTheirs: /* @__PURE__ */ new Map(), oursLacks: 0, theirsLacks: 0 };
  for (const { ours: o, theirs: t } of sides.values()) {
    if (o && t && o.blob === t.blob)
      continue;
    const mine = o ? textOf(texts, o.blob) : "";
    const yours = t ? textOf(texts, t.blob) : "";
    const mineLines = new Set(mine.split("\n").filter((l) => l !== ""));
    const yourLines = new Set(yours.split("\n").filter((l) => l !== ""));
    const oursLacks = [...yourLines].filter((l) => !mineLines.has(l)).length;
    const theirsLacks = [...mineLines].filter((l) => !yourLines.has(l)).length;
    plan.oursLacks += oursLacks;
    plan.theirsLacks += theirsLacks;
    if (oursLacks === 0 && theirsLacks === 0)
      continue;
    const union = unionNote(mine, yours);
    if (oursLacks)
      plan.ontoOurs.set(o?.path ?? t.path, union);
    if (theirsLacks)
      plan.ontoTheirs.set(t?.path ?? o.path, union);
  }
  return plan;
}
function textOf(texts, blob) {
  const text = texts.get(blob);
  if (text === void 0)
    throw new Error(`note blob ${blob} is missing from the object store`);
  return text;
}

// dist/notes/sync-errors.js
var LOST_RACE = /stale info|fetch first|non-fast-forward|already exists|cannot lock ref|failed to (update|lock)|incorrect old value|atomic (transaction|push) failed/i;
var RemoteUnreachableError = class extends Error {
  remote;
  url;
  operation;
  reason;
  constructor(remote, url, operation, reason) {
    super(`cannot ${operation} ${operation === "fetch" ? "from" : "to"} remote '${remote}' (${url})${reason ? `: ${reason}` : ""}`);
    this.remote = remote;
    this.url = url;
    this.operation = operation;
    this.reason = reason;
    this.name = "RemoteUnreachableError";
  }
};
var RemoteDeclinedError = class extends Error {
  remote;
  ref;
  reason;
  said;
  constructor(remote, ref, reason, said = []) {
    const words = said.length === 1 ? `: ${said[0]}` : said.length ? `; it said:
  ${said.join("\n  ")}` : "";
    super(`remote '${remote}' refused the push of ${ref} (${reason})${words}`);
    this.remote = remote;
    this.ref = ref;
    this.reason = reason;
    this.said = said;
    this.name = "RemoteDeclinedError";
  }
};
var MAX_QUOTED = 20;
function remoteSaid(stderr) {
  const said = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    if (!raw.startsWith("remote:"))
      continue;
    const line = raw.slice("remote:".length).replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
    if (line)
      said.push(line);
  }
  return said.length > MAX_QUOTED ? [...said.slice(0, MAX_QUOTED), `(${said.length - MAX_QUOTED} more lines)`] : said;
}
var SyncRaceError = class extends Error {
  remote;
  rounds;
  constructor(remote, rounds) {
    super(`sync with ${remote} lost the race ${rounds} times in a row; run it again`);
    this.remote = remote;
    this.rounds = rounds;
    this.name = "SyncRaceError";
  }
};
function firstComplaint(stderr) {
  const line = stderr.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/^(fatal|error): /, "").trim();
}
function remoteUrl(cwd, remote, push) {
  const r = gitRun(["remote", "get-url", ...push ? ["--push"] : [], remote], { cwd });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : remote;
}

// dist/notes/sync.js
var ZERO = "0000000000000000000000000000000000000000";
var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
var MAX_ROUNDS = 8;
function refMap(cwd, patterns) {
  const out = gitRun(["for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)", ...patterns], { cwd }).stdout;
  const map = /* @__PURE__ */ new Map();
  for (const line of out.split("\n")) {
    const [name, oid, type] = line.split("\0");
    if (name && oid && type)
      map.set(name, { oid, type });
  }
  return map;
}
function isAncestor(cwd, a, b) {
  return gitRun(["merge-base", "--is-ancestor", a, b], { cwd }).exitCode === 0;
}
async function syncLog(cwd, ref, local, theirs, dryRun, result) {
  if (!theirs)
    return { next: local, raced: false };
  if (!local) {
    result.updatedLocal.push(ref);
    const raced = !dryRun && gitRun(["update-ref", ref, theirs, ZERO], { cwd }).exitCode !== 0;
    return { next: theirs, raced };
  }
  if (local === theirs)
    return { next: local, raced: false };
  const remoteDescends = isAncestor(cwd, local, theirs);
  const localDescends = !remoteDescends && isAncestor(cwd, theirs, local);
  const plan = await planUnion(cwd, local, theirs);
  const message = `omni-ship sync: union with ${theirs.slice(0, 12)}
`;
  if (remoteDescends) {
    if (plan.theirsLacks === 0) {
      result.updatedLocal.push(ref);
      const raced = !dryRun && gitRun(["update-ref", ref, theirs, local], { cwd }).exitCode !== 0;
      return { next: theirs, raced };
    }
    result.restored.push(ref);
    return commitUnion(cwd, ref, local, plan.ontoTheirs, message, { parent: theirs }, dryRun);
  }
  if (localDescends && plan.oursLacks === 0)
    return { next: local, raced: false };
  result.merged.push(ref);
  return commitUnion(cwd, ref, local, plan.ontoOurs, message, localDescends ? {} : { merge: theirs }, dryRun);
}
function commitUnion(cwd, ref, local, notes, message, parents, dryRun) {
  if (dryRun)
    return { next: local, raced: false };
  if (!commitNotesCas(cwd, ref, local, notes, message, parents))
    return { next: void 0, raced: true };
  return { next: gitRun(["rev-parse", "--verify", ref], { cwd }).stdout.trim(), raced: false };
}
async function syncNotes(cwd, remote, dryRun) {
  const notesTrack = remoteNotesPrefix(remote);
  const psTrack = remotePatchsetPrefix(remote);
  const result = { remote, dryRun, merged: [], updatedLocal: [], pushed: [], restored: [], skipped: [], rounds: 0 };
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    result.rounds = round;
    result.merged = [];
    result.updatedLocal = [];
    result.pushed = [];
    result.restored = [];
    result.skipped = [];
    const fetched = await gitAsync([
      "fetch",
      "--quiet",
      "--no-tags",
      "--prune",
      "--no-prune-tags",
      "--no-write-fetch-head",
      remote,
      `+${NOTES_PREFIX}*:${notesTrack}*`,
      `+${PATCHSET_REF_PREFIX}*:${psTrack}*`
    ], { cwd, env: { GIT_TERMINAL_PROMPT: "0" } });
    if (fetched.exitCode === 128)
      throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, false), "fetch", firstComplaint(fetched.stderr));
    if (fetched.exitCode !== 0)
      throw new Error(`git fetch ${remote} failed: ${firstComplaint(fetched.stderr)}`);
    const refs = refMap(cwd, [NOTES_PREFIX, notesTrack, PATCHSET_REF_PREFIX, psTrack]);
    const leases = [];
    const pushSpecs = [];
    let raced = false;
    const logs = /* @__PURE__ */ new Set();
    for (const name of refs.keys()) {
      if (name.startsWith(NOTES_PREFIX))
        logs.add(name.slice(NOTES_PREFIX.length));
      else if (name.startsWith(notesTrack))
        logs.add(name.slice(notesTrack.length));
    }
    for (const log of [...logs].sort()) {
      const ref = `${NOTES_PREFIX}${log}`;
      const local = refs.get(ref);
      const theirs = refs.get(`${notesTrack}${log}`);
      if (local && local.type !== "commit") {
        result.skipped.push({ ref, reason: `it points at a ${local.type} (${local.oid.slice(0, 12)}) here, not a notes commit; look at it (git cat-file -p ${local.oid.slice(0, 12)}), then delete it (git update-ref -d ${ref}) to get the remote's log` });
        continue;
      }
      if (theirs && theirs.type !== "commit") {
        result.skipped.push({ ref, reason: `it points at a ${theirs.type} (${theirs.oid.slice(0, 12)}) on ${remote}, not a notes commit; once whoever pushed it agrees, delete it there (git push ${remote} :${ref}) and sync again` });
        continue;
      }
      const step = await syncLog(cwd, ref, local?.oid, theirs?.oid, dryRun, result);
      if (step.raced)
        raced = true;
      if (step.next && step.next !== theirs?.oid) {
        leases.push(`--force-with-lease=${ref}:${theirs?.oid ?? ""}`);
        pushSpecs.push(`${step.next}:${ref}`);
        result.pushed.push(ref);
      }
    }
    if (raced) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }
    const psRefs = /* @__PURE__ */ new Map();
    for (const [name, target] of refs) {
      if (!name.startsWith(PATCHSET_REF_PREFIX) && !name.startsWith(psTrack))
        continue;
      if (target.type === "commit")
        psRefs.set(name, target.oid);
      else {
        const local = name.startsWith(PATCHSET_REF_PREFIX);
        const ref = local ? name : `${PATCHSET_REF_PREFIX}${name.slice(psTrack.length)}`;
        result.skipped.push({ ref, reason: `it points at a ${target.type} (${target.oid.slice(0, 12)})${local ? " here" : ` on ${remote}`}, not a commit` });
      }
    }
    const takenNumbers = /* @__PURE__ */ new Map();
    const noteNumber = (task, n) => takenNumbers.set(task, Math.max(takenNumbers.get(task) ?? 0, n));
    const split = (name, prefix) => {
      const rest = name.slice(prefix.length);
      const slash = rest.lastIndexOf("/");
      return { task: rest.slice(0, slash), n: Number(rest.slice(slash + 1)) };
    };
    for (const name of refs.keys()) {
      if (name.startsWith(PATCHSET_REF_PREFIX)) {
        const { task, n } = split(name, PATCHSET_REF_PREFIX);
        noteNumber(task, n);
      } else if (name.startsWith(psTrack)) {
        const { task, n } = split(name, psTrack);
        noteNumber(task, n);
      }
    }
    const updates = [];
    const remoteCommits = /* @__PURE__ */ new Map();
    for (const [name, oid] of psRefs) {
      if (!name.startsWith(psTrack))
        continue;
      const { task } = split(name, psTrack);
      (remoteCommits.get(task) ?? remoteCommits.set(task, /* @__PURE__ */ new Set()).get(task)).add(oid);
      const localName = `${PATCHSET_REF_PREFIX}${name.slice(psTrack.length)}`;
      const mine = psRefs.get(localName);
      if (mine === oid)
        continue;
      if (mine) {
        const n = (takenNumbers.get(task) ?? 0) + 1;
        takenNumbers.set(task, n);
        updates.push(`create ${PATCHSET_REF_PREFIX}${task}/${n} ${mine}`);
        updates.push(`update ${localName} ${oid} ${mine}`);
      } else
        updates.push(`create ${localName} ${oid}`);
      result.updatedLocal.push(localName);
    }
    for (const line of updates) {
      const [, name, oid] = line.split(" ");
      if (line.startsWith("create") && name && oid && !refs.has(`${psTrack}${name.slice(PATCHSET_REF_PREFIX.length)}`)) {
        leases.push(`--force-with-lease=${name}:`);
        pushSpecs.push(`${oid}:${name}`);
        result.pushed.push(name);
      }
    }
    for (const [name, oid] of psRefs) {
      if (!name.startsWith(PATCHSET_REF_PREFIX))
        continue;
      const tracked = psRefs.get(`${psTrack}${name.slice(PATCHSET_REF_PREFIX.length)}`);
      const { task } = split(name, PATCHSET_REF_PREFIX);
      if (tracked || remoteCommits.get(task)?.has(oid))
        continue;
      leases.push(`--force-with-lease=${name}:`);
      pushSpecs.push(`${oid}:${name}`);
      result.pushed.push(name);
    }
    if (!dryRun && updates.length && gitRun(["update-ref", "--stdin"], { cwd, input: `${updates.join("\n")}
` }).exitCode !== 0) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }
    if (dryRun || pushSpecs.length === 0)
      return result;
    const pushed = await gitAsync(["push", "--porcelain", "--atomic", "--no-verify", ...leases, remote, ...pushSpecs], {
      cwd,
      env: { GIT_TERMINAL_PROMPT: "0" }
    });
    if (pushed.exitCode === 0)
      return result;
    if (pushed.exitCode === 128)
      throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, true), "push", firstComplaint(pushed.stderr));
    const declined = pushed.stdout.split("\n").find((l) => /\[remote rejected\]/.test(l) && !LOST_RACE.test(l));
    if (declined) {
      const [, spec = "", summary = ""] = declined.split("	");
      const reason = /\((.*)\)\s*$/.exec(summary)?.[1] ?? summary.trim();
      throw new RemoteDeclinedError(remote, spec.slice(spec.lastIndexOf(":") + 1), reason, remoteSaid(pushed.stderr));
    }
    if (LOST_RACE.test(pushed.stdout + pushed.stderr)) {
      await sleep(20 + Math.random() * 150 * round);
      continue;
    }
    throw new Error(`git push ${remote} failed: ${(pushed.stderr || pushed.stdout).trim().split("\n")[0]}`);
  }
  throw new SyncRaceError(remote, MAX_ROUNDS);
}

// dist/commands/sync.js
async function syncCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const remote = opts.remote ?? config.remote;
  if (!remote)
    throw badInput("no remote to sync with", 'add one (git remote add origin <url>), name one (omni-ship sync <remote>), or set "remote" in the config');
  const remotes = gitRun(["remote"], { cwd: repo.toplevel }).stdout.split("\n").filter(Boolean);
  if (!remotes.includes(remote))
    throw badInput(`no remote named '${remote}'`, remotes.length ? `remotes here: ${remotes.join(", ")}` : "this repository has no remotes");
  let result;
  try {
    result = await syncNotes(repo.toplevel, remote, opts.dryRun);
  } catch (e) {
    if (e instanceof RemoteUnreachableError) {
      const show = e.operation === "push" ? `git remote get-url --push ${remote}` : `git remote get-url ${remote}`;
      throw new UserError(e.message, ExitCode.usage, `check the URL (${show}) and your network, then run omni-ship sync again`);
    }
    if (e instanceof SyncRaceError)
      throw new UserError(e.message, ExitCode.conflict);
    if (e instanceof RemoteDeclinedError) {
      throw new UserError(e.message, ExitCode.refused, `the remote's own rules refused refs/notes/omni-ship/* or refs/omni-ship/patchsets/*: ask its admin to allow them, then run omni-ship sync again`);
    }
    throw new UserError(e.message, ExitCode.internal);
  }
  const lines = [
    `${opts.dryRun ? "dry run: " : ""}synced with ${remote}${result.rounds > 1 ? ` (${result.rounds} rounds: another clone pushed meanwhile)` : ""}`,
    ...result.merged.map((r) => `${opts.dryRun ? "would merge" : "merged"} ${r} (set union)`),
    ...result.updatedLocal.map((r) => `${opts.dryRun ? "would update" : "updated"} ${r} from ${remote}`),
    ...result.restored.map((r) => `${opts.dryRun ? "would restore" : "restored"} lines of ${r} that ${remote} had lost (notes removed or rewritten there without omni-ship)`),
    ...result.pushed.map((r) => `${opts.dryRun ? "would push" : "pushed"} ${r}`)
  ];
  if (lines.length === 1)
    lines.push(result.skipped.length ? "nothing else to do" : "already in sync");
  return { data: result, text: lines.join("\n"), warnings: result.skipped.map((s) => `skipped ${s.ref}: ${s.reason}`) };
}
export {
  syncCommand
};
