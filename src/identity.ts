import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitAsync, gitRun } from './git/exec.js';
import { nodeCrypto } from './hash.js';

/** This clone's random id, kept in omni-ship's machine-local state dir (made on first use). */
export function cloneId(commonDir: string): string {
  const file = path.join(commonDir, 'omni-ship', 'clone-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{8,}$/.test(id)) return id;
  } catch {
    /* first use */
  }
  const id = nodeCrypto().randomBytes(4).toString('hex');
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

/** "Name <email>" out of `git var GIT_COMMITTER_IDENT`'s output; "unknown <unknown>" when git has none. */
function identityOf(out: string): string {
  const m = /^(.*<[^>]*>)/.exec(out.trim());
  return m ? m[1]! : 'unknown <unknown>';
}

/** The committer identity git would use here, "Name <email>"; "unknown <unknown>" when git has none. */
export function gitIdentity(cwd: string): string {
  return identityOf(gitRun(['var', 'GIT_COMMITTER_IDENT'], { cwd }).stdout);
}

/** gitIdentity without waiting: a caller starts it, does other work meanwhile, and awaits it when needed. */
export async function gitIdentityAsync(cwd: string): Promise<string> {
  return identityOf((await gitAsync(['var', 'GIT_COMMITTER_IDENT'], { cwd })).stdout);
}
