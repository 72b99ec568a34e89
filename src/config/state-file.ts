import fs from 'node:fs';
import path from 'node:path';

/** Reads a JSON file omni-ship wrote in its state dir; null when it is missing or not JSON (a cache, never fatal). */
export function readStateJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Writes a JSON file atomically (a temp file renamed over it): a reader never sees half of it, a crash leaves the old one. */
export function writeStateJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
