import {
  gitRun
} from "./chunk-T3IP3O65.js";
import {
  UserError,
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/git/repo.js
import path from "node:path";
function findRepo(cwd) {
  const asked = [["--git-dir"], ["--git-common-dir"], ["--git-path", "hooks"], ["--is-bare-repository"], ["--show-toplevel"]];
  const r = gitRun(["rev-parse", "--path-format=absolute", ...asked.flat()], { cwd });
  let lines = r.stdout.split("\n");
  if (lines.length > (r.exitCode === 0 ? asked.length : asked.length - 1) + 1) {
    lines = asked.map((a) => {
      const one = gitRun(["rev-parse", "--path-format=absolute", ...a], { cwd });
      return one.exitCode === 0 ? one.stdout.replace(/\n$/, "") : "";
    });
  }
  const [gitDir, commonDir, hooksDir, bare, toplevel] = lines;
  if (!gitDir || !commonDir || !hooksDir || !bare) {
    if (/not a git repository/i.test(r.stderr))
      return null;
    if (/cannot change to|No such file/i.test(r.stderr))
      throw badInput(`cannot use ${cwd}: no such directory`);
    if (r.exitCode !== 0)
      return null;
  }
  const isBare = bare === "true";
  return {
    cwd,
    toplevel: isBare || !toplevel ? null : toplevel,
    gitDir,
    commonDir,
    isBare,
    hooksDir
  };
}
function requireRepo(cwd) {
  const repo = findRepo(cwd);
  if (!repo) {
    throw badInput(`not a git repository: ${cwd}`, "run omni-ship inside a repository, or pass -C <path>");
  }
  return repo;
}
function requireWorkRepo(cwd) {
  const repo = requireRepo(cwd);
  if (!repo.isBare && !repo.toplevel) {
    throw badInput(`${cwd} is inside the git directory, not the work tree`, `run omni-ship from the work tree (cd ${path.dirname(repo.commonDir)})`);
  }
  if (repo.isBare || !repo.toplevel) {
    throw badInput(`${repo.gitDir} is a bare repository: omni-ship needs a work tree`, "run it in a clone of this repository (git clone <bare> <dir>)");
  }
  return repo;
}
function stateDir(repo) {
  return path.join(repo.commonDir, "omni-ship");
}
function isInside(child, parent) {
  const rel = path.relative(parent, child);
  return rel === "" || !rel.startsWith("..") && !path.isAbsolute(rel);
}

// dist/config/files.js
import fs from "node:fs";
import path2 from "node:path";
var CONFIG_FILES = [
  "package.json",
  ".omni-shiprc",
  ".omni-shiprc.json",
  ".omni-shiprc.yaml",
  ".omni-shiprc.yml",
  ".omni-shiprc.js",
  ".omni-shiprc.mjs",
  ".omni-shiprc.cjs",
  "omni-ship.config.js",
  "omni-ship.config.mjs",
  "omni-ship.config.cjs"
];
function executesCode(file) {
  return /\.(js|mjs|cjs)$/.test(file);
}
function checkConfigFilesReadable(dir, probe = fs) {
  for (const name of CONFIG_FILES) {
    const file = path2.join(dir, name);
    try {
      if (probe.statSync(file).isDirectory()) {
        throw badInput(`${file}: cannot read the config: it is a directory`, `rename or remove it: omni-ship reads its config from a file by that name`);
      }
      probe.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      if (e instanceof UserError)
        throw e;
      const code = e.code;
      if (code === "ENOENT" || code === "ENOTDIR")
        continue;
      const problem = code === "EACCES" || code === "EPERM" ? "permission denied" : e.message.split("\n")[0] ?? "";
      throw badInput(`${file}: cannot read the config: ${problem}`, `make it readable (chmod a+r ${file}) or remove it`);
    }
  }
}
function configFilesIn(dir) {
  const found = [];
  for (const name of CONFIG_FILES) {
    const p = path2.join(dir, name);
    if (name === "package.json") {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, "utf8"));
        if (pkg && typeof pkg === "object" && Object.hasOwn(pkg, "omni-ship"))
          found.push(p);
      } catch {
      }
      continue;
    }
    if (fs.existsSync(p))
      found.push(p);
  }
  return found;
}
function configFileIn(dir) {
  return configFilesIn(dir)[0] ?? null;
}
function ignoredConfigFiles(cwd, root) {
  let dir;
  let top;
  try {
    dir = fs.realpathSync(cwd);
    top = fs.realpathSync(root);
  } catch {
    return [];
  }
  if (!isInside(dir, top))
    return [];
  const found = [];
  for (; dir !== top && isInside(dir, top); dir = path2.dirname(dir))
    found.push(...configFilesIn(dir));
  return found;
}

// dist/config/parse.js
import path3 from "node:path";

// dist/config/json-syntax.js
function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: [...before.slice(lineStart)].length + 1 };
}
function jsonSyntaxError(text) {
  let i = 0;
  const fail = (reason, at = i) => {
    throw Object.assign(new Error(reason), { jsonOffset: at });
  };
  const shown = (at) => {
    if (at >= text.length)
      return "the end of the file";
    const c = text.codePointAt(at);
    return c > 32 && c !== 127 ? `'${String.fromCodePoint(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  };
  const word = (at) => {
    const bare = /[A-Za-z_$][A-Za-z0-9_$]*/y;
    bare.lastIndex = at;
    const m = bare.exec(text);
    return m ? `'${m[0]}'` : shown(at);
  };
  const end = (what) => i >= text.length ? fail(`unexpected end of the file${what}`) : void 0;
  const ws = () => {
    while (i < text.length && " 	\n\r".includes(text[i]))
      i++;
  };
  const literal = (expected) => {
    const start = i;
    for (const ch of expected) {
      if (text[i] !== ch)
        fail(`expected a value, found ${word(start)}`, start);
      i++;
    }
  };
  const string = () => {
    i++;
    for (; ; ) {
      end(" inside a string");
      const ch = text[i];
      if (ch === '"')
        return void i++;
      if (ch.charCodeAt(0) < 32)
        fail(`a control character (${shown(i)}) inside a string`);
      if (ch === "\\") {
        i++;
        end(" inside a string");
        const e = text[i];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5)))
            fail("an invalid \\u escape: it takes four hex digits", i - 1);
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e))
          fail(`an invalid escape \\${e} inside a string`, i - 1);
      }
      i++;
    }
  };
  const number = () => {
    const grammar = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    grammar.lastIndex = i;
    const m = grammar.exec(text);
    if (!m)
      fail("an invalid number");
    i += m[0].length;
    if (i < text.length && /[0-9.eE+-]/.test(text[i]))
      fail(`an invalid number`, i);
  };
  const value = () => {
    ws();
    end("");
    const ch = text[i];
    if (ch === "{")
      return object();
    if (ch === "[")
      return array();
    if (ch === '"')
      return string();
    if (ch === "t")
      return literal("true");
    if (ch === "f")
      return literal("false");
    if (ch === "n")
      return literal("null");
    if (ch === "-" || ch >= "0" && ch <= "9")
      return number();
    fail(`expected a value, found ${word(i)}`);
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === "}")
      return void i++;
    for (; ; ) {
      ws();
      end("");
      if (text[i] !== '"')
        fail(`expected a property name in double quotes, found ${shown(i)}`);
      string();
      ws();
      end("");
      if (text[i] !== ":")
        fail(`expected ':' after the property name, found ${shown(i)}`);
      i++;
      value();
      ws();
      end("");
      if (text[i] === "}")
        return void i++;
      if (text[i] !== ",")
        fail(`expected ',' or '}' after a property value, found ${shown(i)}`);
      i++;
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === "]")
      return void i++;
    for (; ; ) {
      value();
      ws();
      end("");
      if (text[i] === "]")
        return void i++;
      if (text[i] !== ",")
        fail(`expected ',' or ']' after a list item, found ${shown(i)}`);
      i++;
    }
  };
  try {
    value();
    ws();
    if (i < text.length)
      fail(`unexpected ${shown(i)} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (e instanceof RangeError)
      return null;
    const offset = e.jsonOffset;
    if (offset === void 0)
      throw e;
    return { offset, reason: e.message };
  }
}

// dist/config/parse.js
function syntaxError(file, format, reason, line, column) {
  return badInput(`${file}: cannot parse the config (${format}): ${reason} at line ${line}, column ${column}`, `fix ${file}:${line}:${column}, then check it with: omni-ship config`);
}
function parseJsonConfig(file, text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    const found = jsonSyntaxError(text);
    if (!found)
      throw badInput(`${file}: cannot parse the config (JSON): ${e.message}`);
    const { line, column } = lineColumn(text, found.offset);
    throw syntaxError(file, "JSON", found.reason, line, column);
  }
}
async function parseYamlConfig(file, text) {
  const { defaultLoaders } = await import("cosmiconfig");
  try {
    return await defaultLoaders[".yaml"](file, text);
  } catch (e) {
    const err = e;
    if (err.mark && err.reason)
      throw syntaxError(file, "YAML", err.reason, err.mark.line + 1, err.mark.column + 1);
    throw badInput(`${file}: cannot parse the config (YAML): ${err.message.split("\n").slice(1).join(" ").trim() || err.message}`);
  }
}
async function parseDataConfig(file, text) {
  return path3.extname(file) === ".json" ? parseJsonConfig(file, text) : await parseYamlConfig(file, text);
}

export {
  findRepo,
  requireRepo,
  requireWorkRepo,
  stateDir,
  isInside,
  CONFIG_FILES,
  executesCode,
  checkConfigFilesReadable,
  configFilesIn,
  configFileIn,
  ignoredConfigFiles,
  parseJsonConfig,
  parseYamlConfig,
  parseDataConfig
};
