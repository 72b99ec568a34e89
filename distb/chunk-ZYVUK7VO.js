import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/messages.js
function unknownTask(id) {
  return new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, "omni-ship status lists the tasks this repository knows");
}

export {
  unknownTask
};
