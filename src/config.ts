import fs from 'node:fs';
import path from 'node:path';
import { UserError, badInput } from './errors.js';
import { gitRun } from './git/exec.js';

/** The validated, fully defaulted configuration every command receives. */
export interface Config {
  /** the branch tasks land on */
  baseBranch: string;
  /** the remote clones coordinate through; null when the repository has none */
  remote: string | null;
  /** POSIX ERE (no intervals) a task id must match, after lower-casing */
  taskPattern: string;
  /** POSIX ERE (no intervals) whose first match in a branch name is the task id */
  branchPattern: string;
  /** the trailer key that names a commit's task */
  trailerKey: string;
  /** reject commits that carry no task id */
  requireTaskId: boolean;
}

/** Keys whose default is computed from the repository rather than fixed. */
type DynamicKey = 'baseBranch' | 'remote';

interface KeySpec {
  type: 'string' | 'boolean' | 'pattern' | 'trailer-key' | 'branch-name' | 'remote-name';
  doc: string;
  fixedDefault?: string | boolean;
}

/** The schema: every key a config file may set. Later issues add keys here. */
export const CONFIG_KEYS: Record<keyof Config, KeySpec> = {
  baseBranch: { type: 'branch-name', doc: "the branch tasks land on (default: the remote's HEAD, else main, else master)" },
  remote: { type: 'remote-name', doc: "the remote to sync and land through (default: origin if it exists)" },
  taskPattern: { type: 'pattern', doc: 'what a task id looks like', fixedDefault: '^t-[0-9]+(\\.[0-9]+)*$' },
  branchPattern: {
    type: 'pattern',
    doc: 'finds the task id in a branch name (t-565, t-565.2, feat/t-565-login)',
    fixedDefault: '(^|/)t-[0-9]+(\\.[0-9]+)*($|[-_/])',
  },
  trailerKey: { type: 'trailer-key', doc: 'the trailer that names the task', fixedDefault: 'Task-Id' },
  requireTaskId: { type: 'boolean', doc: 'reject commits without a task id', fixedDefault: false },
};

/** The file names searched in each directory, from cwd up to the repository root, in this order. */
export const CONFIG_FILES = [
  'package.json',
  '.omni-shiprc',
  '.omni-shiprc.json',
  '.omni-shiprc.yaml',
  '.omni-shiprc.yml',
  '.omni-shiprc.js',
  '.omni-shiprc.mjs',
  '.omni-shiprc.cjs',
  'omni-ship.config.js',
  'omni-ship.config.mjs',
  'omni-ship.config.cjs',
] as const;

/** Where one effective value came from. */
export type ValueSource = { kind: 'file'; file: string } | { kind: 'default'; detail: string };

/** The effective configuration together with where each value came from. */
export interface LoadedConfig {
  config: Config;
  /** the config file that was found, or null when every value is a default */
  file: string | null;
  sources: Record<keyof Config, ValueSource>;
}

/** Checks a pattern: a valid regular expression in the ERE subset that both JavaScript and the hook's awk read alike. */
export function checkPattern(value: string): string | null {
  if (value === '') return 'must not be empty';
  try {
    new RegExp(value);
  } catch (e) {
    return `is not a valid regular expression (${(e as Error).message})`;
  }
  if (/\\[dDwWsSbB]/.test(value)) return 'uses a JavaScript-only escape (\\d, \\w, \\s, \\b); write [0-9], [a-z0-9_], [ \\t] instead';
  if (/\(\?/.test(value)) return 'uses (?…) groups, which POSIX awk does not read; use plain ( )';
  if (/\{[0-9]*,?[0-9]*\}/.test(value)) return 'uses an interval {n,m}, which mawk does not read; repeat the item or use + and *';
  if (/\[:[a-z]+:\]/.test(value)) return 'uses a POSIX class like [:digit:], which JavaScript does not read; use [0-9]';
  return null;
}

function checkValue(key: keyof Config, value: unknown): string | null {
  const spec = CONFIG_KEYS[key];
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : `must be true or false, not ${describe(value)}`;
    case 'pattern':
      return typeof value === 'string' ? checkPattern(value) : `must be a string, not ${describe(value)}`;
    case 'trailer-key':
      if (typeof value !== 'string') return `must be a string, not ${describe(value)}`;
      return /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(value) ? null : 'must be letters, digits and dashes, like Task-Id';
    case 'branch-name':
      if (typeof value !== 'string') return `must be a string, not ${describe(value)}`;
      return isValidBranchName(value) ? null : `${JSON.stringify(value)} is not a valid branch name`;
    case 'remote-name':
      if (value === null) return null;
      if (typeof value !== 'string') return `must be a string or null, not ${describe(value)}`;
      return /^[A-Za-z0-9._-]+$/.test(value) && !value.startsWith('.') ? null : `${JSON.stringify(value)} is not a valid remote name`;
    case 'string':
      return typeof value === 'string' ? null : `must be a string, not ${describe(value)}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `${typeof value} ${JSON.stringify(value)}`;
}

/** Branch-name rules of `git check-ref-format --branch`, without spawning git. */
export function isValidBranchName(name: string): boolean {
  if (!name || name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name === '@' || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** Validates raw config data read from `file`; throws a user error naming the file and the key. */
export function validateConfig(raw: unknown, file: string): Partial<Config> {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw badInput(`${file}: the omni-ship config must be an object of settings, not ${describe(raw)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    // own keys only: `in` would take "constructor" or "__proto__" for settings
    if (!Object.hasOwn(CONFIG_KEYS, key)) {
      throw badInput(`${file}: unknown key '${key}'`, `known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    }
    const problem = checkValue(key as keyof Config, value);
    if (problem) throw badInput(`${file}: '${key}' ${problem}`);
    out[key] = value;
  }
  return out as Partial<Config>;
}

/** The file system calls checkConfigFilesReadable makes; a test passes its own to stand in for a denied read. */
export interface ReadProbe {
  statSync(file: string): fs.Stats;
  accessSync(file: string, mode: number): void;
}

/**
 * Refuses a config file in `dir` that exists but cannot be read: cosmiconfig skips such a file (EACCES, EISDIR) as
 * if it were not there, and the user's settings would be silently replaced by the defaults (or by a file further up).
 */
export function checkConfigFilesReadable(dir: string, probe: ReadProbe = fs): void {
  for (const name of CONFIG_FILES) {
    const file = path.join(dir, name);
    try {
      if (probe.statSync(file).isDirectory()) {
        throw badInput(`${file}: cannot read the config: it is a directory`, `rename or remove it: omni-ship reads its config from a file by that name`);
      }
      probe.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      // not there (a dangling symlink included), or dir is not a directory: nothing to read, as cosmiconfig sees it
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      const problem = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : firstLine((e as Error).message);
      throw badInput(`${file}: cannot read the config: ${problem}`, `make it readable (chmod a+r ${file}) or remove it`);
    }
  }
}

async function readConfigFile(dir: string, root: string): Promise<{ file: string; data: unknown } | null> {
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  // the file `omni-ship init` writes has every key commented out, which YAML reads as null and cosmiconfig as
  // "no file here": it is still the repository's config file, all defaults
  const yaml = async (filepath: string, content: string) => (await defaultLoaders['.yaml'](filepath, content)) ?? undefined;
  const explorer = cosmiconfig('omni-ship', {
    searchPlaces: [...CONFIG_FILES],
    searchStrategy: 'none',
    cache: false,
    ignoreEmptySearchPlaces: false,
    loaders: { '.yaml': yaml, '.yml': yaml, noExt: yaml },
  });
  // walk up from dir to the repository root ourselves: cosmiconfig's 'global' strategy would also read
  // ~/.config/omni-ship, which the hooks could not watch for changes
  let current = dir;
  for (;;) {
    let result;
    checkConfigFilesReadable(current);
    try {
      result = await explorer.search(current);
    } catch (e) {
      const err = e as Error & { filepath?: string; code?: string };
      const where = err.filepath ?? current;
      throw badInput(`${where}: cannot read the config: ${firstLine(err.message)}`);
    }
    if (result) return { file: result.filepath, data: result.config };
    if (path.resolve(current) === path.resolve(root)) return null;
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** Computes a default that depends on the repository: the remote, or the base branch. */
export function dynamicDefault(key: DynamicKey, cwd: string, remote: string | null): { value: string | null; detail: string } {
  if (key === 'remote') {
    const remotes = gitRun(['remote'], { cwd }).stdout.split('\n').filter(Boolean);
    return remotes.includes('origin')
      ? { value: 'origin', detail: 'default: origin exists' }
      : { value: null, detail: remotes.length ? `default: no remote named origin (have ${remotes.join(', ')})` : 'default: no remote' };
  }
  const refs = ['refs/heads/main', 'refs/heads/master'];
  if (remote) refs.unshift(`refs/remotes/${remote}/HEAD`);
  const out = gitRun(['for-each-ref', '--format=%(refname)%00%(symref)', ...refs], { cwd }).stdout;
  const found = new Map(out.split('\n').filter(Boolean).map((l) => l.split('\0') as [string, string]));
  const remoteHead = remote ? found.get(`refs/remotes/${remote}/HEAD`) : undefined;
  if (remoteHead && remoteHead.startsWith(`refs/remotes/${remote}/`)) {
    return { value: remoteHead.slice(`refs/remotes/${remote}/`.length), detail: `default: ${remote}/HEAD` };
  }
  if (found.has('refs/heads/main')) return { value: 'main', detail: 'default: branch main exists' };
  if (found.has('refs/heads/master')) return { value: 'master', detail: 'default: branch master exists' };
  return { value: 'main', detail: 'default: main' };
}

/**
 * Loads the effective configuration: the first config file found from `cwd` up to `root` (the repository root),
 * validated, with every missing key defaulted. `root` null means "not in a repository": only cwd is searched and
 * the repository-dependent defaults are fixed ones.
 */
export async function loadConfig(cwd: string, root: string | null): Promise<LoadedConfig> {
  const found = await readConfigFile(cwd, root ?? cwd);
  const values = found ? validateConfig(found.data, found.file) : {};
  const sources = {} as Record<keyof Config, ValueSource>;
  const config = {} as Record<keyof Config, unknown>;
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    if (values[key] !== undefined) {
      config[key] = values[key];
      sources[key] = { kind: 'file', file: found!.file };
    }
  }
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    if (key in config) continue;
    const spec = CONFIG_KEYS[key];
    if (spec.fixedDefault !== undefined) {
      config[key] = spec.fixedDefault;
      sources[key] = { kind: 'default', detail: 'default' };
    }
  }
  // baseBranch and remote cost git processes: resolve them on first use only (trailer and the hooks never ask)
  for (const key of ['remote', 'baseBranch'] as const) {
    if (key in config) continue;
    let resolved: { value: string | null; detail: string } | undefined;
    const resolve = () =>
      (resolved ??= root
        ? dynamicDefault(key, root, key === 'remote' ? null : (config as unknown as Config).remote)
        : { value: key === 'remote' ? null : 'main', detail: 'default: not in a repository' });
    Object.defineProperty(config, key, { enumerable: true, configurable: true, get: () => resolve().value });
    Object.defineProperty(sources, key, {
      enumerable: true,
      configurable: true,
      get: (): ValueSource => ({ kind: 'default', detail: resolve().detail }),
    });
  }
  return { config: config as unknown as Config, file: found?.file ?? null, sources };
}

/** True when a config file with one of the searched names exists in `dir`. */
export function configFileIn(dir: string): string | null {
  for (const name of CONFIG_FILES) {
    const p = path.join(dir, name);
    if (name === 'package.json') {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>;
        if (pkg && typeof pkg === 'object' && 'omni-ship' in pkg) return p;
      } catch {
        /* no package.json, or not ours to judge here */
      }
      continue;
    }
    if (fs.existsSync(p)) return p;
  }
  return null;
}
