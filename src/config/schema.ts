import { badInput } from '../errors.js';
import { VERIFY_DEFAULTS, verifyProblem, type VerifyConfig } from './verify.js';
import { LAND_DEFAULTS, landProblem, type LandConfig } from './land.js';
import { WORKTREE_DEFAULTS, worktreeProblem, type WorktreeConfig } from './worktree.js';
import { AGENT_DEFAULTS, agentProblem, type AgentConfig } from './agent.js';
import { describe } from './values.js';

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
  /** the team's checks (see config/verify.ts); read for verify from the base branch or the local config only */
  verify: VerifyConfig;
  /** what lets a task land and what landing does (see config/land.ts); read for land from the base branch or the local config only */
  land: LandConfig;
  /** where `omni-ship worktree start` puts task worktrees and what it links into them (see config/worktree.ts) */
  worktree: WorktreeConfig;
  /** the coding agent `omni-ship run` starts (see config/agent.ts); read for run from the base branch or the local config only */
  agent: AgentConfig;
}

/** Keys whose default is computed from the repository rather than fixed. */
export type DynamicKey = 'baseBranch' | 'remote';

/** What a config key holds, how it is documented, and its fixed default if it has one. */
export interface KeySpec {
  type: 'string' | 'boolean' | 'pattern' | 'trailer-key' | 'branch-name' | 'remote-name' | 'verify' | 'land' | 'worktree' | 'agent';
  doc: string;
  fixedDefault?: string | boolean | VerifyConfig | LandConfig | WorktreeConfig | AgentConfig;
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
  verify: { type: 'verify', doc: "the team's checks: steps, skipExitCode, onCommit, concurrency, keep, cacheKey, shareOutput, timeout, pruneAfterDays", fixedDefault: VERIFY_DEFAULTS },
  land: { type: 'land', doc: 'what lets a task land: allowSkip, trustRemoteResults, requireApproval, recordOrigin, maxAttempts, batchSize, postVerify', fixedDefault: LAND_DEFAULTS },
  worktree: { type: 'worktree', doc: 'task worktrees (omni-ship worktree start): dir, linkDirs', fixedDefault: WORKTREE_DEFAULTS },
  agent: { type: 'agent', doc: 'the coding agent omni-ship run starts: command, commands, costFrom', fixedDefault: AGENT_DEFAULTS },
};

/** Keys that decide whether a commit may land: read only from data files (never from a JavaScript config). */
export const GATING_KEYS: readonly (keyof Config)[] = ['verify', 'land', 'agent'];

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
    case 'verify':
      return verifyProblem(value);
    case 'land':
      return landProblem(value);
    case 'worktree':
      return worktreeProblem(value);
    case 'agent':
      return agentProblem(value);
  }
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
