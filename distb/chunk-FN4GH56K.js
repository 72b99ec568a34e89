import {
  readStateJson,
  writeStateJson
} from "./chunk-USU43FMM.js";
import {
  validateConfig
} from "./chunk-NKDYQLBC.js";

// dist/config/previous.js
import path from "node:path";
var LAST_CONFIG_FILE = "last-config.json";
function rememberConfig(stateDir, file, values) {
  const target = path.join(stateDir, LAST_CONFIG_FILE);
  const old = readStateJson(target);
  if (old && old.file === file && JSON.stringify(old.values) === JSON.stringify(values))
    return;
  writeStateJson(target, { file, values, at: (/* @__PURE__ */ new Date()).toISOString() });
}
function rememberedConfig(stateDir) {
  const data = readStateJson(path.join(stateDir, LAST_CONFIG_FILE));
  if (!data || data.file !== null && typeof data.file !== "string")
    return null;
  try {
    return { file: data.file, values: validateConfig(data.values, data.file ?? LAST_CONFIG_FILE) };
  } catch {
    return null;
  }
}

export {
  LAST_CONFIG_FILE,
  rememberConfig,
  rememberedConfig
};
