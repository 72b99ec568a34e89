// dist/hooks/process.js
import fs from "node:fs";
function processStartTime(pid) {
  const fields = statFields(pid);
  return fields?.[19] ?? null;
}
function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}
function sameProcessAlive(pid, start) {
  if (!Number.isInteger(pid) || pid <= 0)
    return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== "EPERM")
      return false;
  }
  const fields = statFields(pid);
  if (!fields)
    return true;
  if (fields[0] === "Z" || fields[0] === "X")
    return false;
  if (start !== null)
    return fields[19] === start;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a, i) => a === "hook" && argv[i + 1] === "drain");
  } catch {
    return false;
  }
}

export {
  processStartTime,
  sameProcessAlive
};
