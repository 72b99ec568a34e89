import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refFromFiles } from '../git/refs-fs.js';

/** git's reading of a boolean variable (git_env_bool): true, false, or null when git would refuse it. */
function envBool(value: string): boolean | null {
  if (value === '' || /^(false|no|off)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) return true;
  return /^-?\d+$/.test(value) ? Number(value) !== 0 : null;
}

/**
 * The config files git reads for a repository, in its order: system, global (both XDG and ~/.gitconfig), the
 * repository's own; null when a variable that changes the list says something this does not read as git does.
 */
function configFiles(commonDir: string): string[] | null {
  const env = process.env;
  const files: string[] = [];
  const noSystem = env.GIT_CONFIG_NOSYSTEM === undefined ? false : envBool(env.GIT_CONFIG_NOSYSTEM);
  if (noSystem === null) return null;
  if (!noSystem) files.push(env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig');
  if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
  else {
    const home = env.HOME ?? os.homedir();
    files.push(path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'), path.join(home, '.gitconfig'));
  }
  files.push(path.join(commonDir, 'config'));
  return files;
}

/** A section header as git's parser accepts it (config.c get_base_var): `[name]` or `[name "sub"]`, nothing else. */
const HEADER = /^\[([A-Za-z0-9.-]*)(?:\s+"((?:[^"\\]|\\.)*)")?\]/;

/**
 * The remotes one config file defines (`[remote "<name>"]` sections holding at least one key), [] for a missing
 * file, or null when the file cannot settle it: unreadable, an include, an old-style `[remote.x]` section, a header
 * git would refuse, a value continued onto the next line, a name git treats specially.
 */
function remotesInFile(file: string): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    return null;
  }
  const remotes = new Set<string>();
  let section: string | null = null;
  // git skips a UTF-8 byte order mark
  for (const raw of text.replace(/^\uFEFF/, '').split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = HEADER.exec(line);
      if (!m) return null;
      const name = m[1]!.toLowerCase();
      if (name.startsWith('include') || name.startsWith('remote.')) return null;
      section = name === 'remote' && m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : null;
      // git warns about and skips a name starting with '/', and mangles an empty one: git decides
      if (section !== null && (section === '' || section.startsWith('/'))) return null;
      line = line.slice(m[0].length).trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    }
    // a backslash at the end continues the value: the next line is not a header or a key
    if (/\\$/.test(line)) return null;
    if (section !== null && /^[A-Za-z]/.test(line)) remotes.add(section);
  }
  return [...remotes];
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
  const files = configFiles(commonDir);
  if (files === null) return null;
  const remotes = new Set<string>();
  for (const file of files) {
    const found = remotesInFile(file);
    if (found === null) return null;
    for (const r of found) remotes.add(r);
  }
  // config.worktree counts only under extensions.worktreeConfig: a remote there is git's to judge
  const worktree = remotesInFile(path.join(gitDir, 'config.worktree'));
  if (worktree === null || worktree.length > 0) return null;
  return [...remotes];
}

/**
 * Whether `ref` exists as a branch-like ref (refFromFiles: the loose file, else packed-refs); null when the files
 * do not settle it (a symbolic ref, garbage, an unreadable file), which git must judge.
 */
function refExists(commonDir: string, ref: string): boolean | null {
  const value = refFromFiles(commonDir, ref);
  return value === undefined ? null : value !== null;
}

/**
 * The base branch default read from files: the remote's HEAD (a symbolic ref, which git always keeps as a loose
 * file) when the branch it names exists, else main, else master, else main; null when a file says something this
 * cannot read (then git decides).
 */
export function baseBranchFromFiles(commonDir: string, remote: string | null): string | null {
  return baseDefaultFromFiles(commonDir, remote)?.value ?? null;
}

/** baseBranchFromFiles with the detail `omni-ship config` prints, the same words dynamicDefault gives. */
export function baseDefaultFromFiles(commonDir: string, remote: string | null): { value: string; detail: string } | null {
  if (remote) {
    try {
      const head = fs.readFileSync(path.join(commonDir, 'refs', 'remotes', remote, 'HEAD'), 'utf8').trim();
      const prefix = `ref: refs/remotes/${remote}/`;
      if (!head.startsWith(prefix)) return null; // a detached remote HEAD (an object id): git's for-each-ref decides
      // for-each-ref skips a HEAD whose branch is gone (pruned): then main or master decide
      const target = refExists(commonDir, head.slice('ref: '.length));
      if (target === null) return null;
      if (target) return { value: head.slice(prefix.length), detail: `default: ${remote}/HEAD` };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') return null;
    }
  }
  const main = refExists(commonDir, 'refs/heads/main');
  if (main === null) return null;
  if (main) return { value: 'main', detail: 'default: branch main exists' };
  const master = refExists(commonDir, 'refs/heads/master');
  if (master === null) return null;
  return master ? { value: 'master', detail: 'default: branch master exists' } : { value: 'main', detail: 'default: main' };
}

/**
 * What git's config says about trailers, as text to key caches by: every line of every `[trailer]` and
 * `[trailer "<token>"]` section of the files git reads (in its order, following `include.path` and
 * `includeIf.*.path`, whose lines are part of it), and the variables that add config from the environment.
 * `trailer.separators` and `trailer.<token>.key` change which trailers `git log --format=%(trailers)` reports, so
 * a scan read under other settings is not the scan of these. Null when the files cannot settle it: one that exists
 * but cannot be read, includes nested past 10, or an `onbranch:` include that sets trailers (it holds on some
 * branches only).
 */
export function trailerConfigText(commonDir: string): string | null {
  const files = configFiles(commonDir);
  if (!files) return null;
  const env = process.env;
  const out: string[] = [];
  for (const name of ['GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT']) if (env[name] !== undefined) out.push(`${name}=${env[name]}`);
  const count = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  for (let i = 0; i < count && i < 1000; i++) out.push(`${env[`GIT_CONFIG_KEY_${i}`]}=${env[`GIT_CONFIG_VALUE_${i}`]}`);
  let trailerLines = 0;
  const visit = (file: string, depth: number): boolean => {
    if (depth > 10) return false;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR';
    }
    let section = '';
    for (const raw of text.split('\n')) {
      let line = raw.trim();
      if (line.startsWith('[')) {
        const m = HEADER.exec(line);
        section = m ? `${m[1]!.toLowerCase()}${m[2] !== undefined ? ` "${m[2]}"` : ''}` : '?';
        line = line.slice(m ? m[0].length : line.length).trim();
        if (!line) continue;
      }
      if (section === 'trailer' || section.startsWith('trailer "')) {
        out.push(`${file}\0${section}\0${line}`);
        trailerLines++;
        continue;
      }
      if (section !== 'include' && !section.startsWith('includeif "')) continue;
      const kv = /^path\s*=\s*(.*)$/i.exec(line);
      if (!kv) continue;
      out.push(`${file}\0${section}\0${line}`);
      let target = kv[1]!.trim().replace(/^"(.*)"$/, '$1');
      if (target.startsWith('~/')) target = path.join(env.HOME ?? os.homedir(), target.slice(2));
      else if (!path.isAbsolute(target)) target = path.join(path.dirname(file), target);
      const before = trailerLines;
      if (!visit(target, depth + 1)) return false;
      if (section.startsWith('includeif "onbranch:') && trailerLines > before) return false;
    }
    return true;
  };
  for (const file of files) if (!visit(file, 0)) return null;
  return out.join('\n');
}
