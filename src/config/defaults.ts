import { gitAsync, gitRun } from '../git/exec.js';
import fs from 'node:fs';
import { discoverWorkRepo } from '../git/repo.js';
import { baseBranchFromFiles, baseDefaultFromFiles, remotesFromConfigFiles } from './defaults-fs.js';
import { CONFIG_KEYS, type Config, type DynamicKey } from './schema.js';
import { verifyWithDefaults } from './verify.js';
import { landWithDefaults } from './land.js';
import { worktreeWithDefaults } from './worktree.js';
import { agentWithDefaults } from './agent.js';

/** Where one effective value came from. */
export type ValueSource = { kind: 'file'; file: string } | { kind: 'default'; detail: string };

/** The effective configuration together with where each value came from. */
export interface LoadedConfig {
  config: Config;
  /** the config file that was found, or null when every value is a default */
  file: string | null;
  /** the keys whose default depends on the repository and is not resolved yet (each costs a git process on first use) */
  dynamic: readonly DynamicKey[];
  sources: Record<keyof Config, ValueSource>;
}

/** The default remote from `git remote`'s output: origin if it exists. */
function remoteFrom(out: string): { value: string | null; detail: string } {
  const remotes = out.split('\n').filter(Boolean);
  return remotes.includes('origin')
    ? { value: 'origin', detail: 'default: origin exists' }
    : { value: null, detail: remotes.length ? `default: no remote named origin (have ${remotes.join(', ')})` : 'default: no remote' };
}

/** The refs the base branch default looks at, for `remote`. */
function baseDefaultRefs(remote: string | null): string[] {
  return [...(remote ? [`refs/remotes/${remote}/HEAD`] : []), 'refs/heads/main', 'refs/heads/master'];
}

/**
 * Computes a default that depends on the repository: the remote, or the base branch. Read from git's own files
 * when they settle it (every command pays two git processes less; see defaults-fs.ts), else asked of git.
 */
export function dynamicDefault(key: DynamicKey, cwd: string, remote: string | null): { value: string | null; detail: string } {
  const dirs = discoverWorkRepo(cwd);
  if (dirs && dirs.toplevel === realPath(cwd)) {
    if (key === 'remote') {
      const remotes = remotesFromConfigFiles(dirs.commonDir, dirs.gitDir);
      if (remotes !== null) return remoteFrom(remotes.join('\n'));
    } else {
      const found = baseDefaultFromFiles(dirs.commonDir, remote);
      if (found) return found;
    }
  }
  if (key === 'remote') return remoteFrom(gitRun(['remote'], { cwd }).stdout);
  return baseFrom(remote, gitRun(['for-each-ref', '--format=%(refname)%00%(symref)', ...baseDefaultRefs(remote)], { cwd }).stdout);
}

function realPath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/**
 * Both dynamic defaults at once, their two git processes run side by side (verify's fast path): `explicitRemote`
 * is the configured remote when the file sets one (undefined: default it too). The same answers as dynamicDefault.
 */
export async function dynamicDefaultsAsync(
  cwd: string,
  explicitRemote: string | null | undefined,
  dirs?: { commonDir: string; gitDir: string },
): Promise<{ remote: string | null; baseBranch: string }> {
  if (dirs) {
    // no process at all when the config files and refs settle it (they almost always do)
    const remotes = explicitRemote === undefined ? remotesFromConfigFiles(dirs.commonDir, dirs.gitDir) : [];
    if (remotes !== null) {
      const remote = explicitRemote === undefined ? (remotes.includes('origin') ? 'origin' : null) : explicitRemote;
      const baseBranch = baseBranchFromFiles(dirs.commonDir, remote);
      if (baseBranch !== null) return { remote, baseBranch };
    }
  }
  // every remote's HEAD is asked for: the remote is not known until `git remote` answers
  const [remotes, refs] = await Promise.all([
    explicitRemote === undefined ? gitAsync(['remote'], { cwd }) : Promise.resolve(null),
    gitAsync(['for-each-ref', '--format=%(refname)%00%(symref)', 'refs/remotes/*/HEAD', 'refs/heads/main', 'refs/heads/master'], { cwd }),
  ]);
  const remote = explicitRemote === undefined ? remoteFrom(remotes!.stdout).value : explicitRemote;
  // `*` stops at a slash: a remote named a/b has its HEAD looked up on its own
  const out = remote?.includes('/') ? gitRun(['for-each-ref', '--format=%(refname)%00%(symref)', ...baseDefaultRefs(remote)], { cwd }).stdout : refs.stdout;
  return { remote, baseBranch: baseFrom(remote, out).value! };
}

/** The default base branch from for-each-ref output of baseDefaultRefs (extra lines are ignored). */
function baseFrom(remote: string | null, out: string): { value: string | null; detail: string } {
  const found = new Map(out.split('\n').filter(Boolean).map((l) => l.split('\0') as [string, string]));
  const remoteHead = remote ? found.get(`refs/remotes/${remote}/HEAD`) : undefined;
  if (remoteHead && remoteHead.startsWith(`refs/remotes/${remote}/`)) {
    return { value: remoteHead.slice(`refs/remotes/${remote}/`.length), detail: `default: ${remote}/HEAD` };
  }
  if (found.has('refs/heads/main')) return { value: 'main', detail: 'default: branch main exists' };
  if (found.has('refs/heads/master')) return { value: 'master', detail: 'default: branch master exists' };
  return { value: 'main', detail: 'default: main' };
}

/** An object key's value with the defaults of the sub-keys it leaves out (a copy: the defaults are shared); undefined for other keys. */
function objectWithDefaults(key: keyof Config, value: unknown): unknown {
  if (key === 'verify') return verifyWithDefaults(value);
  if (key === 'land') return landWithDefaults(value);
  if (key === 'worktree') return worktreeWithDefaults(value);
  if (key === 'agent') return agentWithDefaults(value);
  return undefined;
}

/**
 * The effective configuration from the values a config file set: every missing key defaulted. `root` null means
 * "not in a repository": the repository-dependent defaults are then fixed ones.
 */
export function withDefaults(values: Partial<Config>, file: string | null, root: string | null): LoadedConfig {
  const sources = {} as Record<keyof Config, ValueSource>;
  const config = {} as Record<keyof Config, unknown>;
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    if (values[key] !== undefined) {
      // an object value gets the defaults of the sub-keys it leaves out
      config[key] = objectWithDefaults(key, values[key]) ?? values[key];
      sources[key] = { kind: 'file', file: file! };
    }
  }
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    if (key in config) continue;
    const spec = CONFIG_KEYS[key];
    if (spec.fixedDefault !== undefined) {
      config[key] = objectWithDefaults(key, {}) ?? spec.fixedDefault;
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
  const dynamic = (['remote', 'baseBranch'] as const).filter((k) => values[k] === undefined);
  return { config: config as unknown as Config, file, sources, dynamic };
}
