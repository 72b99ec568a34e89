import {
  packageRoot
} from "./chunk-ZPUHQCBY.js";
import "./chunk-3764SIXL.js";
import {
  configFileIn,
  requireWorkRepo
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import {
  badInput
} from "./chunk-LF3CXZX6.js";

// dist/commands/init.js
import fs from "node:fs";
import path from "node:path";
async function initCommand(opts) {
  const repo = requireWorkRepo(opts.cwd);
  const existing = configFileIn(repo.toplevel);
  const file = path.join(repo.toplevel, ".omni-shiprc.yaml");
  const template = fs.readFileSync(path.join(packageRoot, "templates", "omni-shiprc.yaml"), "utf8");
  if (existing) {
    throw badInput(`a config already exists: ${existing}`, "edit it, or remove it and run omni-ship init again");
  }
  if (opts.dryRun)
    return { data: { file, written: false, content: template }, text: template };
  try {
    fs.writeFileSync(file, template, { flag: "wx" });
  } catch (e) {
    if (e.code === "EEXIST")
      throw badInput(`a config already exists: ${file}`, "edit it, or remove it and run omni-ship init again");
    throw e;
  }
  return { data: { file, written: true, content: template }, text: `wrote ${file}
next: edit it, then check the result with: omni-ship config` };
}
export {
  initCommand
};
