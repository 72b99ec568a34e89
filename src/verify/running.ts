import fs from 'node:fs';
import path from 'node:path';
import { ownerAlive, readLock } from './lock.js';

/** The machine-local lock one run of a tree under a spec holds: a second run of the same waits and takes its answer. */
export function runLockFile(stateDir: string, tree: string, spec: string): string {
  return path.join(stateDir, 'verify', 'running', `${tree}-${spec.slice(0, 16)}.lock`);
}

/** A run of this machine in progress, as status shows it ("verifying for 12 s"). */
export interface RunningVerify {
  tree: string;
  spec: string;
  commit: string | null;
  task: string | null;
  startedAt: string;
  log: string | null;
}

/** The verify runs in progress on this machine whose owner is alive (plain fs: status reads it on its hot path). */
export function runningVerifies(stateDir: string): RunningVerify[] {
  const dir = path.join(stateDir, 'verify', 'running');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: RunningVerify[] = [];
  for (const name of names) {
    if (!name.endsWith('.lock')) continue;
    const info = readLock(path.join(dir, name));
    if (!info || !ownerAlive(info)) continue;
    const d = info.data as Record<string, unknown>;
    if (typeof d.tree !== 'string' || typeof d.spec !== 'string') continue;
    out.push({
      tree: d.tree,
      spec: d.spec,
      commit: typeof d.commit === 'string' ? d.commit : null,
      task: typeof d.task === 'string' ? d.task : null,
      startedAt: typeof d.startedAt === 'string' ? d.startedAt : info.at,
      log: typeof d.log === 'string' ? d.log : null,
    });
  }
  return out;
}

