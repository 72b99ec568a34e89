import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitRun } from './git/exec.js';

/** This clone's random id, kept in omni-ship's machine-local state dir (made on first use). */
export function cloneId(commonDir: string): string {
  const file = path.join(commonDir, 'omni-ship', 'clone-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{8,}$/.test(id)) return id;
  } catch {
    /* first use */
  }
  const id = crypto.randomBytes(4).toString('hex');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, `${id}\n`, { flag: 'wx' });
    return id;
  } catch {
    return fs.readFileSync(file, 'utf8').trim(); // another process made it first
  }
}

/** "<hostname>/<clone id>": which machine and clone wrote an event. */
export function hostId(commonDir: string): string {
  return `${os.hostname()}/${cloneId(commonDir)}`;
}

/** The committer identity git would use here, "Name <email>"; "unknown <unknown>" when git has none. */
export function gitIdentity(cwd: string): string {
  const r = gitRun(['var', 'GIT_COMMITTER_IDENT'], { cwd });
  const m = /^(.*<[^>]*>)/.exec(r.stdout.trim());
  return m ? m[1]! : 'unknown <unknown>';
}
