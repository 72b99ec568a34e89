import {
  gitAsync,
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  CONFIG_KEYS,
  verifyWithDefaults
} from "./chunk-NKDYQLBC.js";

// dist/config/defaults-fs.js
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
function configFiles(commonDir, gitDir) {
  const env = process.env;
  const files = [];
  if (!env.GIT_CONFIG_NOSYSTEM)
    files.push(env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig");
  if (env.GIT_CONFIG_GLOBAL !== void 0)
    files.push(env.GIT_CONFIG_GLOBAL);
  else {
    const home = env.HOME ?? os.homedir();
    files.push(path.join(env.XDG_CONFIG_HOME || path.join(home, ".config"), "git", "config"), path.join(home, ".gitconfig"));
  }
  files.push(path.join(commonDir, "config"), path.join(gitDir, "config.worktree"));
  return files;
}
function remotesFromConfigFiles(commonDir, gitDir) {
  if (/remote\./i.test(process.env.GIT_CONFIG_PARAMETERS ?? ""))
    return null;
  const count = Number(process.env.GIT_CONFIG_COUNT ?? 0);
  for (let i = 0; i < count; i++)
    if (/^remote\./i.test(process.env[`GIT_CONFIG_KEY_${i}`] ?? ""))
      return null;
  const remotes = /* @__PURE__ */ new Set();
  for (const file of configFiles(commonDir, gitDir)) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if (e.code === "ENOENT" || e.code === "ENOTDIR")
        continue;
      return null;
    }
    let section = null;
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";"))
        continue;
      if (line.startsWith("[")) {
        if (/^\[\s*include/i.test(line) || /^\[\s*remote\./i.test(line))
          return null;
        const m = /^\[\s*remote\s+"((?:[^"\\]|\\.)*)"\s*\]/i.exec(line);
        section = m ? m[1].replace(/\\(.)/g, "$1") : null;
        if (section !== null && /\]\s*[A-Za-z]/.test(line))
          remotes.add(section);
        continue;
      }
      if (section !== null && /^[A-Za-z]/.test(line))
        remotes.add(section);
    }
  }
  return [...remotes];
}
function refExists(commonDir, ref) {
  if (fs.existsSync(path.join(commonDir, ref)))
    return true;
  try {
    const packed = fs.readFileSync(path.join(commonDir, "packed-refs"), "utf8");
    return packed.includes(` ${ref}
`);
  } catch {
    return false;
  }
}
function baseBranchFromFiles(commonDir, remote) {
  if (remote) {
    try {
      const head = fs.readFileSync(path.join(commonDir, "refs", "remotes", remote, "HEAD"), "utf8").trim();
      const prefix = `ref: refs/remotes/${remote}/`;
      if (head.startsWith(prefix))
        return head.slice(prefix.length);
      return null;
    } catch (e) {
      if (e.code !== "ENOENT" && e.code !== "ENOTDIR")
        return null;
    }
  }
  if (refExists(commonDir, "refs/heads/main"))
    return "main";
  if (refExists(commonDir, "refs/heads/master"))
    return "master";
  return "main";
}

// dist/config/defaults.js
function remoteFrom(out) {
  const remotes = out.split("\n").filter(Boolean);
  return remotes.includes("origin") ? { value: "origin", detail: "default: origin exists" } : { value: null, detail: remotes.length ? `default: no remote named origin (have ${remotes.join(", ")})` : "default: no remote" };
}
function baseDefaultRefs(remote) {
  return [...remote ? [`refs/remotes/${remote}/HEAD`] : [], "refs/heads/main", "refs/heads/master"];
}
function dynamicDefault(key, cwd, remote) {
  if (key === "remote")
    return remoteFrom(gitRun(["remote"], { cwd }).stdout);
  return baseFrom(remote, gitRun(["for-each-ref", "--format=%(refname)%00%(symref)", ...baseDefaultRefs(remote)], { cwd }).stdout);
}
async function dynamicDefaultsAsync(cwd, explicitRemote, dirs) {
  if (dirs) {
    const remotes2 = explicitRemote === void 0 ? remotesFromConfigFiles(dirs.commonDir, dirs.gitDir) : [];
    if (remotes2 !== null) {
      const remote2 = explicitRemote === void 0 ? remotes2.includes("origin") ? "origin" : null : explicitRemote;
      const baseBranch = baseBranchFromFiles(dirs.commonDir, remote2);
      if (baseBranch !== null)
        return { remote: remote2, baseBranch };
    }
  }
  const [remotes, refs] = await Promise.all([
    explicitRemote === void 0 ? gitAsync(["remote"], { cwd }) : Promise.resolve(null),
    gitAsync(["for-each-ref", "--format=%(refname)%00%(symref)", "refs/remotes/*/HEAD", "refs/heads/main", "refs/heads/master"], { cwd })
  ]);
  const remote = explicitRemote === void 0 ? remoteFrom(remotes.stdout).value : explicitRemote;
  const out = remote?.includes("/") ? gitRun(["for-each-ref", "--format=%(refname)%00%(symref)", ...baseDefaultRefs(remote)], { cwd }).stdout : refs.stdout;
  return { remote, baseBranch: baseFrom(remote, out).value };
}
function baseFrom(remote, out) {
  const found = new Map(out.split("\n").filter(Boolean).map((l) => l.split("\0")));
  const remoteHead = remote ? found.get(`refs/remotes/${remote}/HEAD`) : void 0;
  if (remoteHead && remoteHead.startsWith(`refs/remotes/${remote}/`)) {
    return { value: remoteHead.slice(`refs/remotes/${remote}/`.length), detail: `default: ${remote}/HEAD` };
  }
  if (found.has("refs/heads/main"))
    return { value: "main", detail: "default: branch main exists" };
  if (found.has("refs/heads/master"))
    return { value: "master", detail: "default: branch master exists" };
  return { value: "main", detail: "default: main" };
}
function withDefaults(values, file, root) {
  const sources = {};
  const config = {};
  for (const key of Object.keys(CONFIG_KEYS)) {
    if (values[key] !== void 0) {
      config[key] = key === "verify" ? verifyWithDefaults(values[key]) : values[key];
      sources[key] = { kind: "file", file };
    }
  }
  for (const key of Object.keys(CONFIG_KEYS)) {
    if (key in config)
      continue;
    const spec = CONFIG_KEYS[key];
    if (spec.fixedDefault !== void 0) {
      config[key] = key === "verify" ? verifyWithDefaults({}) : spec.fixedDefault;
      sources[key] = { kind: "default", detail: "default" };
    }
  }
  for (const key of ["remote", "baseBranch"]) {
    if (key in config)
      continue;
    let resolved;
    const resolve = () => resolved ??= root ? dynamicDefault(key, root, key === "remote" ? null : config.remote) : { value: key === "remote" ? null : "main", detail: "default: not in a repository" };
    Object.defineProperty(config, key, { enumerable: true, configurable: true, get: () => resolve().value });
    Object.defineProperty(sources, key, {
      enumerable: true,
      configurable: true,
      get: () => ({ kind: "default", detail: resolve().detail })
    });
  }
  const dynamic = ["remote", "baseBranch"].filter((k) => values[k] === void 0);
  return { config, file, sources, dynamic };
}

export {
  dynamicDefault,
  dynamicDefaultsAsync,
  withDefaults
};
