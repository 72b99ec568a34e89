import {
  style
} from "./chunk-J6TYBACV.js";

// dist/verify/progress.js
var seconds = (ms) => `${(ms / 1e3).toFixed(1)} s`;
function progressPrinter(stream = process.stderr, color = false) {
  const tty = Boolean(stream.isTTY);
  let timer = null;
  let live = "";
  const clear = () => {
    if (timer)
      clearInterval(timer);
    timer = null;
    if (tty && live)
      stream.write("\r\x1B[2K");
    live = "";
  };
  const onProgress = (p) => {
    if (p.kind === "waiting") {
      clear();
      stream.write(`omni-ship: ${p.why}
`);
      return;
    }
    if (p.kind === "step-start") {
      clear();
      if (!tty)
        return;
      const started = Date.now();
      const draw = () => {
        live = `[${p.index + 1}/${p.total}] ${p.name} ${style("dim", seconds(Date.now() - started), color)}`;
        stream.write(`\r\x1B[2K${live}`);
      };
      draw();
      timer = setInterval(draw, 1e3);
      timer.unref();
      return;
    }
    clear();
    const o = p.outcome;
    const how = o.timedOut ? "timed out" : o.signal ? `killed by ${o.signal}` : !o.started ? "could not start" : o.exitCode === 0 ? style("green", "ok", color) : style("red", `exit ${o.exitCode}`, color);
    stream.write(`[${p.index + 1}/${p.total}] ${p.name}: ${how} (${seconds(o.durationMs)})
`);
  };
  return { onProgress, done: clear };
}
export {
  progressPrinter
};
