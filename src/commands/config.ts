import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { CONFIG_KEYS, executesCode, loadConfig, type Config, type ConfigWarning } from '../config.js';
import { ignoredConfigWarnings, missingBaseBranch } from '../config/warnings.js';
import { requireRepo, stateDir } from '../git/repo.js';
import { columns, style, type CommandOutput } from '../output.js';
import type { VerifyConfig } from '../config/verify.js';
import type { LandConfig } from '../config/land.js';
import type { WorktreeConfig } from '../config/worktree.js';
import { agentSummary, type AgentConfig } from '../config/agent.js';

/** One line for the verify settings: the steps by name, and the settings that differ from the defaults. */
function verifySummary(v: VerifyConfig): string {
  const steps = v.steps.length ? `${v.steps.length} step(s): ${v.steps.map((s) => s.name).join(', ')}` : 'no steps';
  return `${steps}; skip code ${v.skipExitCode}; ${v.onCommit ? 'on commit' : 'not on commit'}; concurrency ${v.concurrency}${v.keep.length ? `; keeps ${v.keep.join(', ')}` : ''}${v.cacheKey ? '; cache key command' : ''}${v.shareOutput ? '; shares output' : ''}`;
}

/** One line for the worktree settings: where task worktrees go and what is linked into them. */
function worktreeSummary(w: WorktreeConfig): string {
  return `${w.dir === null ? 'beside the repository' : `in ${w.dir}`}${w.linkDirs.length ? `; links ${w.linkDirs.join(', ')}` : ''}`;
}

/** One line for an object-valued key. */
function objectSummary(v: VerifyConfig | LandConfig | WorktreeConfig | AgentConfig): string {
  if ('steps' in v) return verifySummary(v);
  if ('costFrom' in v) return agentSummary(v);
  if ('linkDirs' in v) return worktreeSummary(v);
  return landSummary(v);
}

/** One line for the land settings: the gates that differ from the defaults. */
function landSummary(l: LandConfig): string {
  const parts = [
    l.allowSkip ? 'skip lands' : 'skip does not land',
    l.trustRemoteResults ? "other clones' results count" : "only this clone's results count",
    ...(l.requireApproval ? ['approval required'] : []),
    ...(l.recordOrigin ? ['records origin'] : []),
    `${l.maxAttempts} attempt(s)`,
    `batches of ${l.batchSize}`,
    ...(l.postVerify ? [`post-verify ${l.postVerify.steps.length} step(s)`] : []),
  ];
  return parts.join('; ');
}

/** One value in `omni-ship config --json`. */
export interface ConfigValueJson {
  value: string | boolean | null | VerifyConfig | LandConfig | WorktreeConfig | AgentConfig;
  /** "file" when set in the config file, "default" otherwise */
  source: 'file' | 'default';
  /** the file path, or how the default was chosen */
  detail: string;
}

/** The JSON shape of `omni-ship config --json`. */
export interface ConfigJson {
  file: string | null;
  values: Record<keyof Config, ConfigValueJson>;
  /** config files between the cwd and the top of the work tree, which omni-ship does not read (nearest first) */
  ignored: string[];
  /** what the user should know: ignored files, a base branch that does not exist (also printed on stderr) */
  warnings: ConfigWarning[];
}

/** Prints the effective configuration, the source of each value, and what looks wrong with it (exit 0: a report). */
export async function configCommand(opts: BaseOptions): Promise<CommandOutput<ConfigJson>> {
  const repo = requireRepo(opts.cwd);
  const root = repo.toplevel ?? opts.cwd;
  const loaded = await loadConfig(opts.cwd, root, { stateDir: stateDir(repo) });
  const values = {} as Record<keyof Config, ConfigValueJson>;
  for (const key of Object.keys(CONFIG_KEYS) as (keyof Config)[]) {
    const source = loaded.sources[key];
    values[key] = {
      value: loaded.config[key],
      source: source.kind,
      detail: source.kind === 'file' ? source.file : source.detail,
    };
  }
  const ignored = repo.toplevel ? ignoredConfigWarnings(opts.cwd, repo.toplevel, loaded.file) : [];
  const missing = missingBaseBranch(root, loaded);
  const warnings = [...ignored, ...(missing ? [missing] : [])];
  const rows = (Object.keys(values) as (keyof Config)[]).map((key) => {
    const v = values[key];
    const where = v.source === 'file' ? path.relative(opts.cwd, v.detail) || v.detail : v.detail;
    const shown = v.value === null ? '(none)' : typeof v.value === 'object' ? objectSummary(v.value) : String(v.value);
    return [key, shown, style('dim', `(${where})`)];
  });
  const header = loaded.file ? `config file: ${loaded.file}` : 'no config file: every value is a default (omni-ship init writes one)';
  const code = loaded.file && executesCode(loaded.file) ? '\nit is JavaScript: omni-ship ran it now; the hooks of this clone use the values it gave until it changes' : '';
  return {
    data: { file: loaded.file, values, ignored: ignored.map((w) => w.file!), warnings },
    text: `${header}${code}\n${columns(rows)}`,
    warnings: warnings.map((w) => `${w.message}\nhint: ${w.hint}`),
  };
}
