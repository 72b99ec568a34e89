// dist/output.js
function colorEnabled(stream = process.stdout) {
  if (process.env.NO_COLOR !== void 0 && process.env.NO_COLOR !== "")
    return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0")
    return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}
var codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };
function style(name, text, enabled = colorEnabled()) {
  if (!enabled)
    return text;
  const [open, close] = codes[name];
  return `\x1B[${open}m${text}\x1B[${close}m`;
}
function columns(rows, gap = 2) {
  const visible = (s) => s.replace(/\u001b\[[0-9;]*m/g, "").length;
  const widths = [];
  for (const row of rows)
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, visible(cell)));
  return rows.map((row) => row.map((cell, i) => i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell) + gap)).join("").trimEnd()).join("\n");
}

export {
  colorEnabled,
  style,
  columns
};
