import type { LoadedConfig } from '../config.js';
import { isValidBranchName } from '../config.js';
import { dynamicDefault } from '../config/defaults.js';
import { landProblem, landWithDefaults, type LandConfig } from '../config/land.js';
import { parseJsonConfig, parseYamlConfig } from '../config/parse.js';
import { badInput } from '../errors.js';
import { committedConfig, localConfig, type CommittedConfig } from '../verify/spec.js';

/** Where a gating value came from, for messages and `land --json`. */
export type GateSource = 'option' | 'local' | 'base' | 'default';

/** The data values of a committed config (never executed: a JavaScript config gives none, and says so). */
export async function committedValues(found: CommittedConfig, what: string): Promise<Record<string, unknown>> {
  if (!found) return {};
  const label = `${found.file} on ${what}`;
  if (found.code) {
    throw badInput(
      `${label} is JavaScript: omni-ship never executes a config taken from a ref, so it cannot read the land settings there`,
      `put land and verify in a data file (.omni-shiprc.yaml, .omni-shiprc.json or package.json) on ${what}, or in this clone's local config (.git/omni-ship.yaml)`,
    );
  }
  let data: unknown;
  if (found.file === 'package.json') data = (parseJsonConfig(label, found.text) as Record<string, unknown>)['omni-ship'];
  else if (found.text.trim() === '') data = undefined;
  else data = found.file.endsWith('.json') ? parseJsonConfig(label, found.text) : await parseYamlConfig(label, found.text);
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/**
 * The base branch land moves: `--base`, else this clone's local config, else the remote's HEAD (main, master). Never
 * the config in the work tree or a task's commit: a task must not choose where it lands or which checks gate it.
 */
export async function resolveBaseName(cwd: string, commonDir: string, loaded: LoadedConfig, option: string | undefined): Promise<{ name: string; source: GateSource; ignored: string | null }> {
  const worktreeValue = loaded.sources.baseBranch?.kind === 'file' ? loaded.config.baseBranch : null;
  let name: string;
  let source: GateSource;
  if (option !== undefined) {
    if (!isValidBranchName(option)) throw badInput(`--base ${JSON.stringify(option)} is not a valid branch name`);
    name = option;
    source = 'option';
  } else {
    const local = await localConfig(commonDir);
    if (local?.values.baseBranch) {
      name = local.values.baseBranch;
      source = 'local';
    } else {
      name = dynamicDefault('baseBranch', cwd, loaded.config.remote).value ?? 'main';
      source = 'default';
    }
  }
  return { name, source, ignored: worktreeValue && worktreeValue !== name ? worktreeValue : null };
}

/** The land settings in effect, and what the base tip's committed config says the base branch is. */
export interface LandSettings {
  land: LandConfig;
  landSource: GateSource;
  /** the baseBranch the committed config on the base tip names, or null */
  committedBase: string | null;
  /** the config file committed on the base tip, as read (resolveSpec reads the verify spec from it) */
  committed: CommittedConfig;
}

/**
 * The `land` settings: this clone's local config when it sets land (whole), else the committed data config on the
 * base tip, else the defaults. Read from objects, never from a work tree, never by running JavaScript.
 */
export async function resolveLandSettings(cwd: string, commonDir: string, baseTip: string, baseName: string): Promise<LandSettings> {
  const committed = await committedConfig(cwd, baseTip);
  const values = await committedValues(committed, `${baseName} (${baseTip.slice(0, 12)})`);
  const committedBase = typeof values.baseBranch === 'string' ? values.baseBranch : null;
  const local = await localConfig(commonDir);
  let raw: unknown;
  let landSource: GateSource = 'default';
  if (local?.values.land !== undefined) {
    raw = local.values.land;
    landSource = 'local';
  } else if (values.land !== undefined) {
    const problem = landProblem(values.land);
    if (problem) throw badInput(`the config on ${baseName} (${baseTip.slice(0, 12)}): 'land' ${problem}`, `fix it on ${baseName}, or set land in this clone's local config (.git/omni-ship.yaml)`);
    raw = values.land;
    landSource = 'base';
  }
  return { land: landWithDefaults(raw), landSource, committedBase, committed };
}
