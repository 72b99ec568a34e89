import fs from 'node:fs';

/**
 * Pause points, for the tests that need another process to act between two steps (a race made certain): with
 * OMNI_SHIP_PAUSEPOINT=<name>=<file>, the process creates <file> on reaching that point and waits until it is
 * removed. Unset, it costs one environment lookup.
 */
export function pausepoint(name: string): void {
  const spec = process.env.OMNI_SHIP_PAUSEPOINT;
  if (!spec || !spec.startsWith(`${name}=`)) return;
  const file = spec.slice(name.length + 1);
  fs.writeFileSync(file, `${process.pid}\n`);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (fs.existsSync(file)) Atomics.wait(pause, 0, 0, 20);
}
