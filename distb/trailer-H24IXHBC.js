import {
  parseTaskId
} from "./chunk-KCAZVUE7.js";
import {
  loadConfig
} from "./chunk-3764SIXL.js";
import {
  findRepo
} from "./chunk-SA47PFBH.js";
import "./chunk-QGTSJKQF.js";
import "./chunk-T3IP3O65.js";
import "./chunk-NKDYQLBC.js";
import "./chunk-LF3CXZX6.js";

// dist/commands/trailer.js
async function trailerCommand(opts) {
  const repo = findRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo?.toplevel ?? null);
  const taskId = parseTaskId(opts.task, config);
  const trailer = `${config.trailerKey}: ${taskId}`;
  return { data: { taskId, trailer }, text: trailer };
}
export {
  trailerCommand
};
