import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/usage.js
function usageError(command, text, code) {
  const [first = "", ...rest] = text.trim().split("\n");
  const suggestion = /^\(Did you mean (.*)\?\)$/.exec(rest.join(" ").trim())?.[1];
  const message = first.replace(/^error: /, "").replace(/\. ([A-Z])/g, (_m, c) => `: ${c.toLowerCase()}`).replace(/\.$/, "");
  const where = code === "commander.unknownCommand" ? `${command} --help lists the commands` : code === "commander.unknownOption" ? `${command} --help lists its options` : `${command} --help shows how to call it`;
  return new UserError(message, ExitCode.usage, suggestion ? `did you mean ${suggestion}? (${where})` : where);
}
export {
  usageError
};
