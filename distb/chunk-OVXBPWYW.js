// dist/verify/load-execa.js
import fs from "node:fs";
var BUNDLE = new URL("../vendor/execa.js", import.meta.url);
var loading = null;
function loadExeca() {
  loading ??= fs.existsSync(BUNDLE) ? import(BUNDLE.href) : import("execa");
  return loading;
}

export {
  loadExeca
};
