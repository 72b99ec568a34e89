import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UntrustedConfigError, UserError } from './errors.js';
import { gitRun } from './git/exec.js';
import { withDefaults, type LoadedConfig } from './config/defaults.js';
import { findConfig, runCodeConfig } from './config/read.js';
import { GATING_KEYS, validateConfig, type Config } from './config/schema.js';

export { CONFIG_KEYS, GATING_KEYS, checkPattern, isValidBranchName, validateConfig, type Config, type KeySpec } from './config/schema.js';
export { CONFIG_FILES, checkConfigFilesReadable, configFileIn, configFilesIn, executesCode, ignoredConfigFiles, type ReadProbe } from './config/files.js';
export { dynamicDefault, withDefaults, type LoadedConfig, type ValueSource } from './config/defaults.js';
export type { ConfigWarning } from './config/warnings.js';
export { UntrustedConfigError } from './errors.js';

/**
 * Whether a JavaScript config may be executed. `record`: yes, and this version is recorded as run (foreground
 * commands: the user ran omni-ship, as `npm test` runs the repository's code). `require`: only its recorded
 * result is used, and a version no omni-ship command ran is refused (hooks and background processes).
 */
export type CodeTrust = 'record' | 'require';

/** Options of loadConfig. */
export interface LoadOptions {
  /** default `record`; `require` in hooks and background processes (see forbidUntrustedConfigCode) */
  codeTrust?: CodeTrust;
  /** the repository's machine-local state dir (`<git-common-dir>/omni-ship`); found with git when needed and not given */
  stateDir?: string;
}

/** The policy of this process: set once, at the entry point of a hook or background process. */
let processTrust: CodeTrust = 'record';

/**
 * Makes every later loadConfig of this process behave as `codeTrust: 'require'`, whatever its caller passes: the
 * CLI calls it before running `omni-ship hook …`, so no code path of a hook can execute a config the user did not run.
 */
export function forbidUntrustedConfigCode(): void {
  processTrust = 'require';
}

/** The state dir of the repository whose work tree is `root`, or null when git does not know one. */
function stateDirOf(root: string): string | null {
  const r = gitRun(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root });
  const dir = r.stdout.trim();
  return r.exitCode === 0 && dir ? path.join(dir, 'omni-ship') : null;
}

/** Runs a JavaScript config the user asked for, and records this version and what it gave for the hooks. */
async function runAndRecord(file: string, bytes: Buffer, stateDir: string | null): Promise<Partial<Config>> {
  // only a version that was really the one run is recorded: the file may change (or go) while it runs. A record
  // that cannot be written (a read-only .git) costs the hooks this version, never the command its answer
  // loaded only for a JavaScript config: data configs (and every read command on one) never pay for node:crypto
  const { recordTrustedOutcome } = await import('./config/trust.js');
  const record = (outcome: Parameters<typeof recordTrustedOutcome>[3]) => {
    try {
      if (stateDir && fs.readFileSync(file).equals(bytes)) recordTrustedOutcome(stateDir, file, bytes, outcome);
    } catch {
      /* not recorded: the hooks will say the config was not run, and how to fix that */
    }
  };
  let values: Partial<Config>;
  try {
    values = refuseGatingKeysInCode(file, validateConfig(await runCodeConfig(file), file));
  } catch (e) {
    if (e instanceof UserError) record({ error: e.hint === undefined ? { message: e.message } : { message: e.message, hint: e.hint } });
    throw e;
  }
  record({ values });
  return values;
}

/**
 * Refuses a JavaScript config that sets a key deciding what may land (the verify spec) or what the pipeline runs
 * (the agent): a background verify or `run` must never execute a config taken from a ref, so those keys live in
 * data files, which are read without running them.
 */
function refuseGatingKeysInCode(file: string, values: Partial<Config>): Partial<Config> {
  const gating = GATING_KEYS.filter((k) => values[k] !== undefined);
  if (gating.length === 0) return values;
  throw new UserError(
    `${file}: sets ${gating.map((k) => `'${k}'`).join(', ')}, which decides what may land${gating.includes('agent') ? ' or what the pipeline runs' : ''}; omni-ship reads that only from a data file, never from JavaScript`,
    ExitCode.usage,
    `move ${gating.join(', ')} to .omni-shiprc.yaml, .omni-shiprc.json or the "omni-ship" key of package.json (and keep the rest in ${path.basename(file)}), or into this clone's local config (.git/omni-ship.yaml)`,
  );
}

/** The values a recorded run of this exact version of a JavaScript config gave; refuses a version never run. */
async function recordedValues(file: string, bytes: Buffer, stateDir: string | null): Promise<Partial<Config>> {
  const { trustedOutcome } = await import('./config/trust.js');
  const outcome = stateDir ? trustedOutcome(stateDir, file, bytes) : null;
  if (!outcome) throw new UntrustedConfigError(file);
  if ('error' in outcome) throw new UserError(outcome.error.message, ExitCode.usage, outcome.error.hint);
  return refuseGatingKeysInCode(file, validateConfig(outcome.values, file));
}

/**
 * Loads the effective configuration: the config file at the top of the work tree `root`, validated, with every
 * missing key defaulted. The configuration is one per repository, as the state it describes is: a config file in
 * a subdirectory is never read, whatever `cwd` is (`omni-ship config` reports it). `root` null means "not in a
 * repository": the config is looked for in `cwd`, and the repository-dependent defaults are fixed ones.
 *
 * A JavaScript config is executed only under `codeTrust: 'record'` (the default, for foreground commands), which
 * records this version and its result in the state dir; under `require` the recorded result is used and a
 * version never run throws UntrustedConfigError. Data formats (JSON, YAML, package.json) always load. Under
 * `require`, a config that loads is remembered in the state dir for loadConfigOrPrevious.
 */
export async function loadConfig(cwd: string, root: string | null, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const trust: CodeTrust = processTrust === 'require' ? 'require' : (opts.codeTrust ?? 'record');
  const found = await findConfig(root ?? cwd);
  let stateDir = opts.stateDir ?? null;
  let values: Partial<Config> = {};
  if (found?.kind === 'data') values = validateConfig(found.data, found.file);
  else if (found?.kind === 'code') {
    stateDir ??= root ? stateDirOf(root) : null;
    values = trust === 'require' ? await recordedValues(found.file, found.bytes, stateDir) : await runAndRecord(found.file, found.bytes, stateDir);
  }
  // what the hooks and background processes last worked with is what they fall back on; a foreground command
  // (a read, a refusal) leaves the state dir alone, unless it ran a JavaScript config and recorded that
  if (trust === 'require') {
    stateDir ??= root ? stateDirOf(root) : null;
    try {
      if (stateDir) (await import('./config/previous.js')).rememberConfig(stateDir, found?.file ?? null, values);
    } catch {
      /* a fallback that cannot be stored is no reason to fail a load that worked */
    }
  }
  return withDefaults(values, found?.file ?? null, root);
}

/** What loadConfigOrPrevious returns: the configuration to work with, and why it is not the current file's, if not. */
export interface ConfigOrPrevious extends LoadedConfig {
  /** null when the current config loaded; else why not, and what is used instead */
  fallback: null | { reason: string };
}

/**
 * For hooks and background processes, which must never lose work over a config: the current config if it loads
 * (a JavaScript one only as an omni-ship command ran it), else the values of the last config that loaded in
 * this clone (with the defaults for the rest), else the defaults. Never throws for a bad or untrusted config.
 */
export async function loadConfigOrPrevious(root: string, stateDir: string): Promise<ConfigOrPrevious> {
  try {
    return { ...(await loadConfig(root, root, { codeTrust: 'require', stateDir })), fallback: null };
  } catch (e) {
    const problem = e instanceof Error ? e.message : String(e);
    const previous = (await import('./config/previous.js')).rememberedConfig(stateDir);
    const instead = previous ? `the previous settings (${previous.file ? `from ${previous.file}` : 'the defaults'})` : 'the defaults';
    const loaded = withDefaults(previous?.values ?? {}, previous?.file ?? null, root);
    return { ...loaded, fallback: { reason: `${problem}; using ${instead}` } };
  }
}
