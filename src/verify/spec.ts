import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILES, LOCAL_CONFIG_FILES, executesCode } from '../config/files.js';
import { parseDataConfig, parseJsonConfig, parseYamlConfig } from '../config/parse.js';
import { validateConfig } from '../config/schema.js';
import { verifyWithDefaults, type VerifyConfig } from '../config/verify.js';
import { badInput } from '../errors.js';
import { catFileBatch, type BatchObject } from '../git/batch.js';
import { sha256Hex } from './sha256.js';

/** Where the spec in effect was read from. */
export interface SpecSource {
  /** `base`: the committed config on the base branch tip; `local`: this clone's own file; `commit`: the verified commit's own config */
  kind: 'base' | 'local' | 'commit';
  /** the file it came from (a path in the commit for base and commit; an absolute path for local); null: no config there */
  file: string | null;
  /** the commit read (base and commit), or null */
  commit: string | null;
}

/** A verify spec: the settings, the hash results are recorded under, and where it came from. */
export interface VerifySpec {
  verify: VerifyConfig;
  hash: string;
  source: SpecSource;
  /** the output of verify.cacheKey that went into the hash, or null without one */
  cacheKeyOutput: string | null;
}

export { LOCAL_CONFIG_FILES } from '../config/files.js';
/** Keys a local config may set: the gating ones, which no work tree may set for this clone. */
const LOCAL_KEYS = ['verify', 'land', 'agent', 'baseBranch'];

/** A config file as found in a commit: its path and text, or a JavaScript one (which is never run from a ref). */
export type CommittedConfig = { file: string; text: string; code: boolean } | null;

/** The cat-file requests for the config files at the top of `rev` (a commit id or a ref), in search order. */
export function configRequests(rev: string): string[] {
  return CONFIG_FILES.map((name) => `${rev}:${name}`);
}

/** The config file at the top of `commit`'s tree, as findConfig would pick it in a checkout (one cat-file process). */
export async function committedConfig(cwd: string, commit: string): Promise<CommittedConfig> {
  return committedConfigFrom(await catFileBatch(cwd, configRequests(commit)));
}

/** The config file among the answers to configRequests (in the same order), as findConfig would pick it. */
export function committedConfigFrom(answers: readonly BatchObject[]): CommittedConfig {
  for (const a of answers) {
    if (!a.content || a.type !== 'blob') continue;
    const file = a.request.slice(a.request.indexOf(':') + 1);
    const text = a.content.toString('utf8');
    if (file === 'package.json') {
      if (text.trim() === '') continue;
      let pkg: unknown;
      try {
        pkg = JSON.parse(text);
      } catch {
        continue; // not ours to judge: a package.json that does not parse holds no omni-ship key
      }
      if (!pkg || typeof pkg !== 'object' || !Object.hasOwn(pkg, 'omni-ship')) continue;
    }
    return { file, text, code: executesCode(file) };
  }
  return null;
}

/** The `verify` value of a committed config, validated (the whole file is, as a checkout would be), or undefined. */
async function verifyOfCommitted(found: NonNullable<CommittedConfig>, commit: string, what: string): Promise<unknown> {
  const label = `${found.file} on ${what} (${commit.slice(0, 12)})`;
  if (found.code) {
    throw badInput(
      `${label} is JavaScript: omni-ship never executes a config taken from a ref, so it cannot read the verify spec there`,
      `put verify in a data file (.omni-shiprc.yaml, .omni-shiprc.json or package.json) on ${what}, or in this clone's local config (.git/omni-ship.yaml)`,
    );
  }
  let data: unknown;
  if (found.file === 'package.json') data = (parseJsonConfig(label, found.text) as Record<string, unknown>)['omni-ship'];
  else if (found.text.trim() === '') data = undefined;
  else data = found.file.endsWith('.json') ? parseJsonConfig(label, found.text) : await parseYamlConfig(label, found.text);
  return validateConfig(data, label).verify;
}

/** This clone's local config: its file and the gating values it sets (validated), or null when there is none. */
export async function localConfig(commonDir: string): Promise<{ file: string; values: { verify?: unknown; land?: unknown; agent?: unknown; baseBranch?: string } } | null> {
  for (const name of LOCAL_CONFIG_FILES) {
    const file = path.join(commonDir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw badInput(`${file}: cannot read the local config: ${(e as Error).message.split('\n')[0]}`);
    }
    const data = text.trim() === '' ? {} : await parseDataConfig(file, text);
    if (data === null || data === undefined) return { file, values: {} };
    if (typeof data !== 'object' || Array.isArray(data)) throw badInput(`${file}: the local config must be an object of settings`);
    for (const key of Object.keys(data)) {
      if (!LOCAL_KEYS.includes(key)) {
        throw badInput(`${file}: the local config sets '${key}'; it may set only ${LOCAL_KEYS.join(', ')}`, `the other settings belong in the committed config`);
      }
    }
    // the same checks as a committed file's, naming this file and the key
    const values = validateConfig(data, file) as { verify?: unknown; land?: unknown; agent?: unknown; baseBranch?: string };
    return { file, values };
  }
  return null;
}

/** This clone's local config: its file and `verify` value, or null when there is none. */
export async function localVerifyConfig(commonDir: string): Promise<{ file: string; verify: unknown } | null> {
  const local = await localConfig(commonDir);
  return local ? { file: local.file, verify: local.values.verify } : null;
}

/** JSON with sorted keys: the same settings always give the same bytes, whatever order a file wrote them in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The spec hash: sha256 of everything that changes a result: each step's name, command, effective timeout and env,
 * the skip code, the kept globs, and the cache key command with its output. Not onCommit, concurrency,
 * shareOutput or pruneAfterDays, which change when and where a verify runs, not its answer.
 */
export function specHash(verify: VerifyConfig, cacheKeyOutput: string | null): string {
  const spec = {
    v: 1,
    steps: verify.steps.map((s) => ({ name: s.name, run: s.run, timeout: s.timeout ?? verify.timeout, env: s.env })),
    skipExitCode: verify.skipExitCode,
    keep: verify.keep,
    cacheKey: verify.cacheKey === null ? null : { command: verify.cacheKey, output: cacheKeyOutput },
  };
  return sha256Hex(canonical(spec));
}

const CACHE_KEY_FILE = 'cache-keys.json';

/** The output of the cacheKey command last run in this clone, keyed by the command: status never runs it. */
export function recordedCacheKey(stateDir: string, command: string | string[]): string | null {
  try {
    const all = JSON.parse(fs.readFileSync(path.join(stateDir, 'verify', CACHE_KEY_FILE), 'utf8')) as Record<string, unknown>;
    const out = all[canonical(command)];
    return typeof out === 'string' ? out : null;
  } catch {
    return null;
  }
}

function recordCacheKey(stateDir: string, command: string | string[], output: string): void {
  const file = path.join(stateDir, 'verify', CACHE_KEY_FILE);
  try {
    let all: Record<string, unknown> = {};
    try {
      all = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      /* first one, or a damaged cache */
    }
    if (all[canonical(command)] === output) return;
    all[canonical(command)] = output;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all));
    fs.renameSync(tmp, file);
  } catch {
    /* only a cache for status */
  }
}

/** Runs verify.cacheKey in `cwd` and returns its output (trimmed); a command that fails is a config problem. */
export function runCacheKey(cwd: string, stateDir: string, command: string | string[]): string {
  const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
  const r = spawnSync(file, args, { cwd, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const shown = typeof command === 'string' ? command : command.join(' ');
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`;
    throw badInput(`verify.cacheKey \`${shown}\` failed (${why})${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`, 'fix the command: its output joins the spec hash');
  }
  const output = r.stdout.trim();
  recordCacheKey(stateDir, command, output);
  return output;
}

/** Options of resolveSpec. */
export interface SpecOptions {
  cwd: string;
  commonDir: string;
  stateDir: string;
  /** the base branch tip whose committed config holds the team's spec; null when there is none */
  baseTip: string | null;
  /** the base tip's config file when the caller read it already (undefined: read it here) */
  baseConfig?: CommittedConfig;
  /** read the spec from this commit's own config instead (verify --spec-from-commit) */
  fromCommit?: string | null;
  /** run verify.cacheKey (verify does); false: use its last recorded output (status, which runs nothing) */
  runCacheKey: boolean;
  /** what to call the base in messages (e.g. "main") */
  baseName: string;
}

/**
 * The verify spec in effect. From the commit itself when `fromCommit` is given; else this clone's local config when
 * it sets verify; else the committed config on the base branch tip. Never from a work tree, and never by running a
 * JavaScript config: a commit must not be able to rewrite the checks that judge it.
 */
export async function resolveSpec(opts: SpecOptions): Promise<VerifySpec> {
  let source: SpecSource;
  let raw: unknown;
  if (opts.fromCommit) {
    const found = await committedConfig(opts.cwd, opts.fromCommit);
    raw = found ? await verifyOfCommitted(found, opts.fromCommit, `commit ${opts.fromCommit.slice(0, 12)}`) : undefined;
    source = { kind: 'commit', file: found?.file ?? null, commit: opts.fromCommit };
  } else {
    const local = await localVerifyConfig(opts.commonDir);
    if (local?.verify !== undefined) {
      raw = local.verify;
      source = { kind: 'local', file: local.file, commit: null };
    } else if (opts.baseTip) {
      const found = opts.baseConfig !== undefined ? opts.baseConfig : await committedConfig(opts.cwd, opts.baseTip);
      raw = found ? await verifyOfCommitted(found, opts.baseTip, opts.baseName) : undefined;
      source = { kind: 'base', file: found?.file ?? null, commit: opts.baseTip };
    } else {
      source = { kind: 'base', file: null, commit: null };
    }
  }
  const verify = verifyWithDefaults(raw);
  let cacheKeyOutput: string | null = null;
  if (verify.cacheKey !== null) {
    cacheKeyOutput = opts.runCacheKey ? runCacheKey(opts.cwd, opts.stateDir, verify.cacheKey) : recordedCacheKey(opts.stateDir, verify.cacheKey);
  }
  return { verify, hash: specHash(verify, cacheKeyOutput), source, cacheKeyOutput };
}

/** How a spec's source reads in messages: "main's .omni-shiprc.yaml", "the local config .git/omni-ship.yaml", … */
export function describeSource(source: SpecSource, baseName: string): string {
  if (source.kind === 'local') return `the local config ${source.file}`;
  if (source.kind === 'commit') return source.file ? `${source.file} of commit ${source.commit?.slice(0, 12)}` : `commit ${source.commit?.slice(0, 12)}, which has no config`;
  if (!source.commit) return `no base branch (${baseName} does not exist here)`;
  return source.file ? `${source.file} on ${baseName} (${source.commit.slice(0, 12)})` : `${baseName} (${source.commit.slice(0, 12)}), which has no config file`;
}
