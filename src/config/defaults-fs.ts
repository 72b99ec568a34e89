import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The config files git reads for a repository, in its order: system, global (both XDG and ~/.gitconfig), the
 * repository's own, the worktree's. Variables that change the list count as git counts them.
 */
function configFiles(commonDir: string, gitDir: string): string[] {
  const env = process.env;
  const files: string[] = [];
  if (!env.GIT_CONFIG_NOSYSTEM) files.push(env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig');
  if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
  else {
    const home = env.HOME ?? os.homedir();
    files.push(path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'), path.join(home, '.gitconfig'));
  }
  files.push(path.join(commonDir, 'config'), path.join(gitDir, 'config.worktree'));
  return files;
}

/**
 * The remotes `git remote` would list, read from the config files themselves (verify's cache hit spends no process
 * on it), or null when the files cannot settle it: an include (whose target could define one), an old-style
 * `[remote.x]` section, a file that exists but cannot be read, or a remote set through the environment (`git -c`,
 * GIT_CONFIG_COUNT). A remote is a `[remote "<name>"]` section holding at least one key, as git lists them.
 */
export function remotesFromConfigFiles(commonDir: string, gitDir: string): string[] | null {
  if (/remote\./i.test(process.env.GIT_CONFIG_PARAMETERS ?? '')) return null;
  const count = Number(process.env.GIT_CONFIG_COUNT ?? 0);
  for (let i = 0; i < count; i++) if (/^remote\./i.test(process.env[`GIT_CONFIG_KEY_${i}`] ?? '')) return null;
  const remotes = new Set<string>();
  for (const file of configFiles(commonDir, gitDir)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      return null;
    }
    let section: string | null = null;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      if (line.startsWith('[')) {
        if (/^\[\s*include/i.test(line) || /^\[\s*remote\./i.test(line)) return null;
        const m = /^\[\s*remote\s+"((?:[^"\\]|\\.)*)"\s*\]/i.exec(line);
        section = m ? m[1]!.replace(/\\(.)/g, '$1') : null;
        // a key on the header's line: `[remote "x"] url = …`
        if (section !== null && /\]\s*[A-Za-z]/.test(line)) remotes.add(section);
        continue;
      }
      if (section !== null && /^[A-Za-z]/.test(line)) remotes.add(section);
    }
  }
  return [...remotes];
}

/** Whether `ref` exists as a loose ref or in packed-refs (symbolic refs are always loose). */
function refExists(commonDir: string, ref: string): boolean {
  if (fs.existsSync(path.join(commonDir, ref))) return true;
  try {
    const packed = fs.readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
    return packed.includes(` ${ref}\n`);
  } catch {
    return false;
  }
}

/**
 * The base branch default read from files: the remote's HEAD (a symbolic ref, which git always keeps as a loose
 * file), else main, else master, else main; null when a file says something this cannot read (then git decides).
 */
export function baseBranchFromFiles(commonDir: string, remote: string | null): string | null {
  if (remote) {
    try {
      const head = fs.readFileSync(path.join(commonDir, 'refs', 'remotes', remote, 'HEAD'), 'utf8').trim();
      const prefix = `ref: refs/remotes/${remote}/`;
      if (head.startsWith(prefix)) return head.slice(prefix.length);
      return null; // a detached remote HEAD (an object id): git's for-each-ref decides
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') return null;
    }
  }
  if (refExists(commonDir, 'refs/heads/main')) return 'main';
  if (refExists(commonDir, 'refs/heads/master')) return 'master';
  return 'main';
}
