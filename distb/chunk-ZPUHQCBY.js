// dist/paths.js
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
var packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
function entryPoint() {
  return fs.realpathSync(path.join(packageRoot, "bin", "omni-ship.js"));
}
function packageVersion() {
  version ??= JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")).version;
  return version;
}
var version;

export {
  packageRoot,
  entryPoint,
  packageVersion
};
