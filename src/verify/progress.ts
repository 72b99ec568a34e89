import { style } from '../output.js';
import type { VerifyProgress } from './verify.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Shows verify progress on stderr: on a TTY one live line (the step and its elapsed time, redrawn each second);
 * piped, one line per step as it ends. `done()` clears the live line.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, color = false): { onProgress: (p: VerifyProgress) => void; done: () => void } {
  const tty = Boolean(stream.isTTY);
  let timer: NodeJS.Timeout | null = null;
  let live = '';
  const clear = () => {
    if (timer) clearInterval(timer);
    timer = null;
    if (tty && live) stream.write('\r\u001b[2K');
    live = '';
  };
  const onProgress = (p: VerifyProgress) => {
    if (p.kind === 'waiting') {
      clear();
      stream.write(`omni-ship: ${p.why}\n`);
      return;
    }
    if (p.kind === 'step-start') {
      clear();
      if (!tty) return;
      const started = Date.now();
      const draw = () => {
        live = `[${p.index + 1}/${p.total}] ${p.name} ${style('dim', seconds(Date.now() - started), color)}`;
        stream.write(`\r\u001b[2K${live}`);
      };
      draw();
      timer = setInterval(draw, 1000);
      timer.unref();
      return;
    }
    clear();
    const o = p.outcome;
    const how = o.timedOut
      ? 'timed out'
      : o.signal
        ? `killed by ${o.signal}`
        : !o.started
          ? 'could not start'
          : o.exitCode === 0
            ? style('green', 'ok', color)
            : style('red', `exit ${o.exitCode}`, color);
    stream.write(`[${p.index + 1}/${p.total}] ${p.name}: ${how} (${seconds(o.durationMs)})\n`);
  };
  return { onProgress, done: clear };
}
