import {
  hookSettingsScript,
  shQuote,
  writeHookSettings
} from "./chunk-TDQ7IMWN.js";
import {
  entryPoint,
  packageRoot,
  packageVersion
} from "./chunk-ZPUHQCBY.js";
import {
  CONFIG_FILES,
  isInside,
  stateDir
} from "./chunk-SA47PFBH.js";
import {
  git,
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  ExitCode,
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/hooks/templates.js
import fs from "node:fs";
import path from "node:path";
var HOOK_NAMES = ["commit-msg", "post-commit", "post-rewrite", "post-merge"];
var HOOK_MARKER = "omni-ship-managed-hook";
var BLOCK_BEGIN = "# >>> omni-ship >>> added by `omni-ship install-hooks`; `omni-ship uninstall-hooks` removes it";
var BLOCK_END = "# <<< omni-ship <<<";
var hooksSource = path.join(packageRoot, "hooks");
function read(name) {
  return fs.readFileSync(path.join(hooksSource, name), "utf8");
}
function inlineAwk() {
  const code = read("trailer.awk").split("\n").filter((line) => !/^\s*#/.test(line) && line.trim() !== "").join("\n");
  if (code.includes("'"))
    throw new Error("hooks/trailer.awk must not contain a single quote outside comments");
  return code;
}
function chainedValue(name, chained) {
  if (!chained)
    return "''";
  const call = name === "post-rewrite" ? `printf '%s' "$_os_in" | _os_run_chained "$@"
exit $?` : '_os_run_chained "$@"';
  return `${shQuote(chained)}
${call}`;
}
function renderHook(name, p) {
  const values = {
    "@OMNI_SHIP_LIB@": read("lib.sh").trimEnd(),
    "@OMNI_SHIP_VERSION@": packageVersion(),
    "@OMNI_SHIP_NODE@": shQuote(p.node),
    "@OMNI_SHIP_ENTRY@": shQuote(p.entry),
    "@OMNI_SHIP_CHAINED@": chainedValue(name, p.chained),
    "@OMNI_SHIP_DEFAULTS@": hookSettingsScript(p.config, p.configSource),
    "@OMNI_SHIP_CONFIG_FILES@": CONFIG_FILES.join(" "),
    "@OMNI_SHIP_CR@": "\r"
  };
  let text = read(name);
  if (name === "commit-msg")
    text = text.replace("'@OMNI_SHIP_AWK@'", () => `'${inlineAwk()}'`);
  text = text.replace("@OMNI_SHIP_LIB@", () => values["@OMNI_SHIP_LIB@"]);
  for (const [placeholder, value] of Object.entries(values))
    text = text.split(placeholder).join(value);
  return text;
}
function renderBlock(name) {
  const locate = `_os_h="$(git rev-parse --git-common-dir 2>/dev/null)/omni-ship/hooks/${name}"`;
  const call = name === "post-rewrite" ? (
    // stdin is read once: give omni-ship a copy, then hand the same bytes to the rest of this file
    `if [ -x "$_os_h" ] && _os_t=$(mktemp 2>/dev/null); then cat > "$_os_t"; "$_os_h" "$@" < "$_os_t"; exec < "$_os_t"; rm -f "$_os_t"; fi`
  ) : `if [ -x "$_os_h" ]; then "$_os_h" "$@" || exit $?; fi`;
  return `${BLOCK_BEGIN}
${locate}
${call}
${BLOCK_END}
`;
}

// dist/hooks/edits.js
import { createHash } from "node:crypto";
import fs2 from "node:fs";

// dist/hooks/block.js
var CREATED_SHEBANG = "#!/usr/bin/env sh\n";
function blockSpan(text) {
  const start = text.indexOf(BLOCK_BEGIN);
  if (start < 0)
    return text.includes(BLOCK_END) ? "broken" : null;
  const last = text.indexOf(BLOCK_END, start);
  if (last < 0)
    return "broken";
  const nl = text.indexOf("\n", last);
  return { start, end: nl >= 0 ? nl + 1 : text.length };
}
function blockIn(text) {
  const span = blockSpan(text);
  return span === null || span === "broken" ? span : text.slice(span.start, span.end);
}
function withBlock(text, block) {
  const span = blockSpan(text);
  if (span !== null && span !== "broken")
    return text.slice(0, span.start) + block + text.slice(span.end);
  if (text.startsWith("#!")) {
    const nl = text.indexOf("\n");
    if (nl < 0)
      return `${text}
${block}`;
    return text.slice(0, nl + 1) + block + text.slice(nl + 1);
  }
  return block + text;
}
function withoutBlock(text) {
  const span = blockSpan(text);
  if (span === null || span === "broken")
    return null;
  return text.slice(0, span.start) + text.slice(span.end);
}

// dist/hooks/edits.js
function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}
function ownFileState(file, recorded, render) {
  const bytes = fs2.readFileSync(file);
  if (recorded !== void 0)
    return sha256(bytes) === recorded ? "untouched" : "edited";
  return render !== null && bytes.equals(Buffer.from(render)) ? "untouched" : "unrecorded";
}
function blockState(text, written, render) {
  const found = blockIn(text);
  if (found === null)
    return "absent";
  const recorded = written === null ? null : blockIn(written);
  if (found !== "broken" && (found === render || found === recorded))
    return "untouched";
  return written === null ? "unrecorded" : "edited";
}
var BLOCK_OPENS = BLOCK_BEGIN.split(" ").slice(0, 4).join(" ");
function changedReason(why) {
  return why === "edited" ? "changed after install-hooks wrote it" : "is not what this version of omni-ship writes, and the install that wrote it recorded no hash (an edit, or an older omni-ship\u2019s template: omni-ship cannot tell)";
}
function reinstallFileHint(target, why, chained, slot) {
  const unsure = why === "unrecorded" ? "if you did not change it, delete it and run install-hooks again; otherwise " : "";
  if (chained)
    return `${unsure}to keep your lines, add them to ${chained}, which omni-ship runs after its own hook; then delete ${target} and run install-hooks again`;
  return `${unsure}to keep your lines, replace ${target} with a hook of your own holding only them (install-hooks keeps it as ${slot} and runs it after its own); to drop them, delete ${target}; then run install-hooks again`;
}
function uninstallFileHint(target, why, chained) {
  const unsure = why === "unrecorded" ? "if you did not change it, delete it and run uninstall-hooks again; otherwise " : "";
  const first = chained ? ` (the hook that was there before omni-ship is ${chained}: uninstall-hooks puts it back)` : "";
  return `${unsure}keep what you need of your change${first}, delete ${target}, then run uninstall-hooks again`;
}
function scriptHint(script, target, why, command) {
  const unsure = why === "unrecorded" ? "if you did not change it, just delete it; otherwise " : "";
  return `${unsure}keep what you need of it in ${target}, outside omni-ship's block; delete ${script}; then run ${command} again`;
}
function blockHint(target, command) {
  const take = `take omni-ship's block (the lines from "${BLOCK_OPENS}" to "${BLOCK_END}") out of ${target}, keeping your own lines outside it`;
  return command === "install-hooks" ? `${take}; then run install-hooks again, which adds the block back` : `${take}; then run uninstall-hooks again`;
}

// dist/hooks/manifest.js
import fs3 from "node:fs";
import path2 from "node:path";
function manifestPath(stateDir2) {
  return path2.join(stateDir2, "install.json");
}
function readManifest(stateDir2) {
  try {
    return JSON.parse(fs3.readFileSync(manifestPath(stateDir2), "utf8"));
  } catch (e) {
    if (e.code === "ENOENT")
      return null;
    throw e;
  }
}
function writeManifest(stateDir2, manifest) {
  fs3.mkdirSync(stateDir2, { recursive: true });
  const file = manifestPath(stateDir2);
  fs3.writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}
`);
  fs3.renameSync(`${file}.tmp`, file);
}

// dist/hooks/install.js
import fs5 from "node:fs";
import path4 from "node:path";

// dist/hooks/git-config.js
import { createHash as createHash2 } from "node:crypto";
import fs4 from "node:fs";
import path3 from "node:path";
var WANTED_CONFIG = [
  { key: "notes.displayRef", value: "refs/notes/omni-ship/*", how: "add", why: "git log shows omni-ship notes" },
  // a glob: with a plain name, git warns "notes ref … is invalid" on every amend until the ref exists
  { key: "notes.rewriteRef", value: "refs/notes/omni-ship/patchsets*", how: "add", why: "amend and rebase carry patchset notes" },
  { key: "notes.rewriteMode", value: "cat_sort_uniq", how: "set", why: "carried notes merge as a set union" }
];
function localValues(repo, key) {
  const out = git(["config", "--local", "--null", "--get-all", key], { cwd: repo.commonDir, okCodes: [1] });
  return out.split("\0").filter((v, i, all) => i < all.length - 1 || v !== "");
}
function sectionExists(repo, key) {
  const section = key.slice(0, key.lastIndexOf("."));
  const r = gitRun(["config", "--local", "--name-only", "--get-regexp", `^${section.replace(/\./g, "\\.")}\\.`], { cwd: repo.commonDir });
  return r.exitCode === 0 && r.stdout.trim() !== "";
}
function planConfigChanges(repo, earlier) {
  const changes = [];
  const kept = [];
  for (const want of WANTED_CONFIG) {
    const values = localValues(repo, want.key);
    const record = earlier.find((r) => r.key === want.key && r.value === want.value);
    const satisfied = want.how === "add" ? values.includes(want.value) : values.length === 1 && values[0] === want.value;
    if (satisfied) {
      if (record)
        kept.push(record);
      continue;
    }
    changes.push({ key: want.key, value: want.value, how: want.how, previous: values, newSection: !sectionExists(repo, want.key) });
  }
  return { changes, kept };
}
function applyConfigChanges(repo, plan) {
  const records = [...plan.kept];
  for (const c of plan.changes) {
    if (c.how === "add")
      git(["config", "--local", "--add", c.key, c.value], { cwd: repo.commonDir });
    else
      git(["config", "--local", "--replace-all", c.key, c.value], { cwd: repo.commonDir });
    records.push({ key: c.key, value: c.value, how: c.how, previous: c.previous, newSection: c.newSection });
  }
  return records;
}
function configChangedSinceInstall(repo, records) {
  return records.filter((r) => {
    if (r.how !== "set")
      return false;
    const now = localValues(repo, r.key);
    return !(now.length === 1 && now[0] === r.value);
  });
}
function revertConfig(repo, records) {
  const changed = new Set(configChangedSinceInstall(repo, records));
  for (const r of [...records].reverse()) {
    if (changed.has(r))
      continue;
    if (r.how === "add") {
      git(["config", "--local", "--fixed-value", "--unset-all", r.key, r.value], { cwd: repo.commonDir, okCodes: [5] });
    } else if (r.previous.length === 1) {
      git(["config", "--local", "--replace-all", r.key, r.previous[0]], { cwd: repo.commonDir });
    } else {
      git(["config", "--local", "--unset-all", r.key], { cwd: repo.commonDir, okCodes: [5] });
      for (const v of r.previous)
        git(["config", "--local", "--add", r.key, v], { cwd: repo.commonDir });
    }
  }
  for (const r of records) {
    if (!r.newSection || sectionExists(repo, r.key))
      continue;
    const section = r.key.slice(0, r.key.lastIndexOf("."));
    gitRun(["config", "--local", "--remove-section", section], { cwd: repo.commonDir });
  }
}
function localConfigFile(repo) {
  return path3.join(repo.commonDir, "config");
}
function sha2562(bytes) {
  return createHash2("sha256").update(bytes).digest("hex");
}
function readBytes(file) {
  try {
    return fs4.readFileSync(file);
  } catch (e) {
    if (e.code === "ENOENT")
      return null;
    throw e;
  }
}
function configBytesBeforeInstall(repo, previous) {
  const now = readBytes(localConfigFile(repo));
  if (!previous || previous.gitConfig.length === 0)
    return now;
  const earlier = previous.configFile;
  if (!earlier || now === null || sha2562(now) !== earlier.after)
    return null;
  return Buffer.from(earlier.before, "base64");
}
function recordConfigFile(repo, before) {
  const file = localConfigFile(repo);
  const after = before === null ? null : readBytes(file);
  if (before === null || after === null)
    return void 0;
  return { path: file, before: before.toString("base64"), after: sha2562(after) };
}
function restoreConfigFile(record) {
  if (!record)
    return false;
  const now = readBytes(record.path);
  if (now === null || sha2562(now) !== record.after)
    return false;
  const lock = `${record.path}.lock`;
  const mode = fs4.statSync(record.path).mode & 4095;
  try {
    fs4.writeFileSync(lock, Buffer.from(record.before, "base64"), { flag: "wx", mode });
  } catch (e) {
    if (e.code !== "EEXIST")
      throw e;
    throw new UserError(`${lock} exists: another git process is changing the config`, ExitCode.conflict, "run uninstall-hooks again once it is done");
  }
  fs4.chmodSync(lock, mode);
  fs4.renameSync(lock, record.path);
  return true;
}
function hooksPathOrigin(cwd) {
  const r = gitRun(["config", "--show-origin", "--show-scope", "--null", "--get", "core.hooksPath"], { cwd });
  if (r.exitCode !== 0)
    return null;
  const [scope, origin] = r.stdout.split("\0");
  return scope ? { scope, origin: origin ?? "" } : null;
}

// dist/hooks/install.js
function hookLayout(repo) {
  const hooksDir = repo.hooksDir;
  if (isInside(hooksDir, repo.commonDir) || isInside(hooksDir, repo.gitDir)) {
    return { hooksDir, mode: "file", blockDir: null, husky: false };
  }
  if (isInside(hooksDir, repo.toplevel)) {
    const husky = path4.basename(hooksDir) === "_" && path4.basename(path4.dirname(hooksDir)) === ".husky";
    return { hooksDir, mode: "block", blockDir: husky ? path4.dirname(hooksDir) : hooksDir, husky };
  }
  throw badInput(`core.hooksPath is ${hooksDir}, outside this repository; omni-ship only writes hooks inside the repository`, `${hooksPathHint(repo.toplevel)}, then run install-hooks again`);
}
function hooksPathHint(cwd) {
  const into = "point it into this repository (git config core.hooksPath .githooks; a local value wins over the others)";
  const where = hooksPathOrigin(cwd);
  const file = where?.origin.startsWith("file:") ? ` in ${where.origin.slice("file:".length)}` : "";
  switch (where?.scope) {
    case "local":
      return `${into} or unset it (git config --unset core.hooksPath)`;
    case "global":
    case "system":
    case "worktree":
      return `it is set in the ${where.scope} config${file}: ${into}, or unset it there (git config --${where.scope} --unset core.hooksPath)`;
    case "command":
      return "it is set for this command only (git -c, or GIT_CONFIG_PARAMETERS/GIT_CONFIG_COUNT in the environment): run without it";
    default:
      return `${into}; git config --show-origin --show-scope core.hooksPath says where it is set`;
  }
}
function chainedPath(hooksDir, name) {
  return path4.join(hooksDir, `${name}.omni-ship-chained`);
}
function isOurs(file) {
  try {
    const fd = fs5.openSync(file, "r");
    try {
      const buf = Buffer.alloc(512);
      const n = fs5.readSync(fd, buf, 0, 512, 0);
      return buf.subarray(0, n).toString("utf8").includes(HOOK_MARKER);
    } finally {
      fs5.closeSync(fd);
    }
  } catch {
    return false;
  }
}
function holds(file, text, mode) {
  try {
    const st = fs5.lstatSync(file);
    return st.isFile() && (st.mode & 4095) === mode && fs5.readFileSync(file, "utf8") === text;
  } catch {
    return false;
  }
}
function exists(file) {
  try {
    fs5.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
function installHooks(repo, loaded, opts) {
  const layout = hookLayout(repo);
  const dir = stateDir(repo);
  const previous = readManifest(dir);
  const node = process.execPath;
  const entry = entryPoint();
  const actions = [];
  const unchanged = [];
  const conflicts = [];
  const records = [];
  const writes = [];
  const moves = [];
  const blocks = [];
  for (const name of HOOK_NAMES) {
    if (layout.mode === "file") {
      const target = path4.join(layout.hooksDir, name);
      const slot = chainedPath(layout.hooksDir, name);
      const earlier = previous?.hooks.find((h) => h.name === name && h.mode === "file");
      let chained = earlier?.chained && exists(earlier.chained) ? earlier.chained : null;
      if (chained && chained !== slot) {
        if (exists(slot))
          throw slotInUse(slot, target);
        moves.push({ from: chained, to: slot });
        actions.push({ kind: "move", from: chained, to: slot, hook: name });
        chained = slot;
      }
      if (exists(target) && !isOurs(target)) {
        if (chained) {
          throw new UserError(`${target} was replaced after omni-ship installed its hook, and the hook that was there first is saved at ${chained}`, ExitCode.conflict, `move one of them away, then run install-hooks again`);
        }
        if (exists(slot))
          throw slotInUse(slot, target);
        chained = slot;
        moves.push({ from: target, to: slot });
        actions.push({ kind: "move", from: target, to: slot, hook: name });
      }
      const replaces = exists(target) && isOurs(target) ? "omni-ship" : "nothing";
      const text = renderHook(name, { node, entry, chained, config: loaded.config, configSource: loaded.file });
      if (replaces === "omni-ship" && holds(target, text, 493))
        unchanged.push(target);
      else {
        const state = replaces === "omni-ship" ? ownFileState(target, earlier?.path === target ? earlier.sha256 : void 0, text) : "untouched";
        if (state !== "untouched")
          conflicts.push({ path: target, hook: name, why: state, hint: reinstallFileHint(target, state, chained, slot) });
        writes.push({ path: target, text, mode: 493 });
        actions.push({ kind: "write", path: target, hook: name, replaces });
      }
      records.push({ name, mode: "file", path: target, chained, sha256: sha256(text) });
    } else {
      const target = path4.join(layout.blockDir, name);
      const earlier = previous?.hooks.find((h) => h.name === name && h.mode === "block" && h.path === target);
      const script = path4.join(dir, "hooks", name);
      const scriptText = renderHook(name, { node, entry, chained: null, config: loaded.config, configSource: loaded.file });
      if (!holds(script, scriptText, 493)) {
        const state2 = exists(script) ? ownFileState(script, earlier?.scriptSha256, scriptText) : "untouched";
        if (state2 !== "untouched")
          conflicts.push({ path: script, hook: name, why: state2, hint: scriptHint(script, target, state2, "install-hooks") });
        writes.push({ path: script, text: scriptText, mode: 493 });
      }
      const present = exists(target);
      const created = present ? earlier?.created ?? false : true;
      const current = present ? fs5.readFileSync(target, "utf8") : CREATED_SHEBANG;
      const block = renderBlock(name);
      const state = blockState(current, earlier?.written ?? null, block);
      if (state === "edited" || state === "unrecorded")
        conflicts.push({ path: target, hook: name, why: state, hint: blockHint(target, "install-hooks") });
      const text = withBlock(current, block);
      const original = earlier ? earlier.original ?? null : present ? current : null;
      if (present && text === current)
        unchanged.push(target);
      else {
        blocks.push({ path: target, text, created: !present });
        actions.push({ kind: "block", path: target, hook: name, created: !present });
      }
      records.push({ name, mode: "block", path: target, created, script, original, written: text, scriptSha256: sha256(scriptText) });
    }
  }
  const result = { hooksDir: layout.hooksDir, mode: layout.mode, husky: layout.husky, dryRun: opts.dryRun };
  if (conflicts.length)
    return { ...result, actions: [], unchanged: [], conflicts };
  const configChanges = planConfigChanges(repo, previous?.gitConfig ?? []);
  for (const change of configChanges.changes)
    actions.push({ kind: "config", change });
  const createdHooksDir = !layout.husky && (previous?.createdHooksDir ?? !exists(layout.hooksDir));
  if (!opts.dryRun) {
    const configBefore = configBytesBeforeInstall(repo, previous);
    for (const m of moves) {
      fs5.mkdirSync(path4.dirname(m.to), { recursive: true });
      fs5.renameSync(m.from, m.to);
    }
    for (const w of writes)
      writeExecutable(w.path, w.text, w.mode);
    for (const b of blocks) {
      if (b.created)
        writeExecutable(b.path, b.text, 493);
      else
        writeKeepingMode(b.path, b.text);
    }
    const gitConfig = applyConfigChanges(repo, configChanges);
    const manifest = {
      format: 1,
      version: packageVersion(),
      hooksDir: layout.hooksDir,
      createdHooksDir,
      hooks: records,
      gitConfig,
      configFile: recordConfigFile(repo, configBefore)
    };
    writeManifest(dir, manifest);
    writeHookSettings(repo.gitDir, loaded.config, loaded.file, opts.loadedAt);
    for (const d of worktreeStateDirs(repo))
      fs5.rmSync(path4.join(d, BRANCH_TASK_CACHE), { force: true });
  }
  return { ...result, actions, unchanged, conflicts };
}
function slotInUse(slot, target) {
  return new UserError(`${slot} is in the way: omni-ship keeps the hook that was at ${target} there, and that file is not one it recorded`, ExitCode.conflict, `move ${slot} away, then run install-hooks again`);
}
function writeExecutable(file, text, mode) {
  fs5.mkdirSync(path4.dirname(file), { recursive: true });
  const tmp = `${file}.omni-ship-tmp`;
  fs5.writeFileSync(tmp, text, { mode });
  fs5.chmodSync(tmp, mode);
  fs5.renameSync(tmp, file);
}
function writeKeepingMode(file, text) {
  const mode = fs5.statSync(file).mode & 4095;
  const tmp = `${file}.omni-ship-tmp`;
  fs5.writeFileSync(tmp, text, { mode });
  fs5.chmodSync(tmp, mode);
  fs5.renameSync(tmp, file);
}
var BRANCH_TASK_CACHE = "branch-task.sh";
function worktreeStateDirs(repo) {
  const dirs = [path4.join(repo.commonDir, "omni-ship")];
  const worktrees = path4.join(repo.commonDir, "worktrees");
  try {
    for (const name of fs5.readdirSync(worktrees))
      dirs.push(path4.join(worktrees, name, "omni-ship"));
  } catch {
  }
  return dirs;
}

export {
  renderHook,
  renderBlock,
  CREATED_SHEBANG,
  withoutBlock,
  ownFileState,
  blockState,
  changedReason,
  uninstallFileHint,
  scriptHint,
  blockHint,
  configChangedSinceInstall,
  revertConfig,
  restoreConfigFile,
  manifestPath,
  readManifest,
  writeManifest,
  isOurs,
  exists,
  installHooks,
  writeKeepingMode,
  BRANCH_TASK_CACHE,
  worktreeStateDirs
};
