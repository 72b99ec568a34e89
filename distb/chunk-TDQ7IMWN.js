// dist/hooks/settings.js
import fs from "node:fs";
import path from "node:path";

// dist/shell.js
function shQuote(value) {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// dist/hooks/settings.js
function hookSettingsScript(config, source) {
  return [
    `OS_KEY=${shQuote(config.trailerKey)}`,
    `OS_TASK_RE=${shQuote(config.taskPattern)}`,
    `OS_BRANCH_RE=${shQuote(config.branchPattern)}`,
    `OS_REQUIRE=${config.requireTaskId ? 1 : 0}`,
    `OS_SRC=${shQuote(source ?? "")}`
  ].join("\n");
}
var HOOK_SETTINGS_END = "_os_cfgok=1";
function hookSettingsPath(gitDir) {
  return path.join(gitDir, "omni-ship", "hook-config.sh");
}
function writeHookSettings(gitDir, config, source, loadedAt) {
  const file = hookSettingsPath(gitDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = `# written by omni-ship from ${source ?? "its defaults"}; rewritten when the config changes
${hookSettingsScript(config, source)}
${HOOK_SETTINGS_END}
`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.utimesSync(tmp, loadedAt, loadedAt);
  fs.renameSync(tmp, file);
  return file;
}

export {
  shQuote,
  hookSettingsScript,
  writeHookSettings
};
