import { describe, isObject } from './values.js';
/** The `verify` settings: the team's checks, how they run, and what joins the spec hash. */

/** One configured step. `run`: a shell string (run by /bin/sh -c) or an argv array (run as is). */
export interface VerifyStepConfig {
  name: string;
  run: string | string[];
  /** seconds; null: verify.timeout */
  timeout: number | null;
  env: Record<string, string>;
}

/** The validated, defaulted `verify` object. */
export interface VerifyConfig {
  steps: VerifyStepConfig[];
  /** a step exiting with it makes the result `skip` (git bisect run's 125; never 2, which make and grep use for errors) */
  skipExitCode: number;
  /** verify each new task patchset in the background after a commit */
  onCommit: boolean;
  /** verify runs at once on this machine (pool worktrees) */
  concurrency: number;
  /** globs of untracked build state a reused pool worktree keeps between runs */
  keep: string[];
  /** a command whose output joins the spec hash (toolchain versions, the OS); null: none */
  cacheKey: string | string[] | null;
  /** put the last lines of a failing run's output into the shared note (they may hold secrets) */
  shareOutput: boolean;
  /** seconds a step may run when it sets no timeout of its own */
  timeout: number;
  /** days after which `verify --prune` removes idle pool worktrees and logs */
  pruneAfterDays: number;
}

/** The defaults of every `verify` key. */
export const VERIFY_DEFAULTS: VerifyConfig = {
  steps: [],
  skipExitCode: 125,
  onCommit: true,
  concurrency: 1,
  keep: [],
  cacheKey: null,
  shareOutput: false,
  timeout: 1800,
  pruneAfterDays: 14,
};

/** What each `verify` key holds, for messages and the README. */
export const VERIFY_KEYS: Record<keyof VerifyConfig, string> = {
  steps: 'the checks, in order: a list of {name, run, timeout?, env?}; run is a shell string or an argv array',
  skipExitCode: 'a step exiting with this code makes the result skip (default 125, as git bisect run)',
  onCommit: 'verify each new task patchset in the background after a commit (default true)',
  concurrency: 'verify runs at once on this machine (default 1)',
  keep: 'globs of untracked build state a reused pool worktree keeps, e.g. node_modules (default none)',
  cacheKey: 'a command whose output joins the spec hash, e.g. "node --version" (default none)',
  shareOutput: 'put the last lines of output into the shared note (default false: output can hold secrets)',
  timeout: 'seconds a step may run unless it sets its own timeout (default 1800)',
  pruneAfterDays: 'days after which verify --prune removes idle pool worktrees and logs (default 14)',
};


/** Checks a command: a non-empty shell string or a non-empty argv array of strings. */
function commandProblem(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? 'must not be empty' : null;
  if (Array.isArray(value)) {
    if (value.length === 0) return 'must not be an empty list';
    return value.every((a) => typeof a === 'string') && value[0] !== '' ? null : 'must be a list of strings, the program first';
  }
  return `must be a shell string or an argv list, not ${describe(value)}`;
}

function positive(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max ? null : `must be ${what}, not ${describe(value)}`;
}

function stepProblem(step: unknown, i: number, names: Set<string>): string | null {
  const at = `steps[${i}]`;
  if (!isObject(step)) return `${at} must be an object {name, run, timeout?, env?}, not ${describe(step)}`;
  for (const key of Object.keys(step)) {
    if (!['name', 'run', 'timeout', 'env'].includes(key)) return `${at} has an unknown key '${key}' (known: name, run, timeout, env)`;
  }
  const name = step.name;
  if (typeof name !== 'string' || name.trim() === '' || /[\n\r\0]/.test(name)) return `${at}.name must be a non-empty one-line string, not ${describe(name)}`;
  if (names.has(name)) return `${at}.name '${name}' is used twice: step names must differ (messages and logs name them)`;
  names.add(name);
  const run = commandProblem(step.run);
  if (run) return `${at}.run ${run}`;
  if (step.timeout !== undefined && step.timeout !== null) {
    const t = positive(step.timeout, 'a number of seconds above 0');
    if (t) return `${at}.timeout ${t}`;
  }
  if (step.env !== undefined && step.env !== null) {
    if (!isObject(step.env)) return `${at}.env must be an object of NAME: value, not ${describe(step.env)}`;
    for (const [k, v] of Object.entries(step.env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return `${at}.env has an invalid variable name ${JSON.stringify(k)}`;
      if (typeof v !== 'string') return `${at}.env.${k} must be a string, not ${describe(v)} (quote numbers in YAML)`;
    }
  }
  return null;
}

/** Why `value` is not a valid `verify` object, or null; names the sub-key. */
export function verifyProblem(value: unknown): string | null {
  if (!isObject(value)) return `must be an object of verify settings, not ${describe(value)}`;
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(VERIFY_DEFAULTS, key)) return `has an unknown key '${key}' (known: ${Object.keys(VERIFY_DEFAULTS).join(', ')})`;
    let problem: string | null = null;
    switch (key as keyof VerifyConfig) {
      case 'steps': {
        if (!Array.isArray(v)) problem = `must be a list of steps, not ${describe(v)}`;
        else {
          const names = new Set<string>();
          for (let i = 0; i < v.length && !problem; i++) problem = stepProblem(v[i], i, names);
          if (problem) return problem;
        }
        break;
      }
      case 'skipExitCode':
        problem =
          Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 255 && v !== 126 && v !== 127
            ? null
            : `must be an exit code from 1 to 255 other than 126 and 127 (the shell's "cannot run"), not ${describe(v)}`;
        break;
      case 'onCommit':
      case 'shareOutput':
        problem = typeof v === 'boolean' ? null : `must be true or false, not ${describe(v)}`;
        break;
      case 'concurrency':
        problem = Number.isInteger(v) ? positive(v, 'a whole number from 1 to 64', 64) : `must be a whole number from 1 to 64, not ${describe(v)}`;
        break;
      case 'keep':
        problem = Array.isArray(v) && v.every((g) => typeof g === 'string' && g !== '') ? null : `must be a list of globs (strings), not ${describe(v)}`;
        break;
      case 'cacheKey':
        problem = v === null ? null : commandProblem(v);
        break;
      case 'timeout':
        problem = positive(v, 'a number of seconds above 0');
        break;
      case 'pruneAfterDays':
        problem = positive(v, 'a number of days above 0');
        break;
    }
    if (problem) return `${key} ${problem}`;
  }
  return null;
}

/** The validated `verify` object with every missing key defaulted (call verifyProblem first). */
export function verifyWithDefaults(value: unknown): VerifyConfig {
  const v = (isObject(value) ? value : {}) as Partial<Record<keyof VerifyConfig, unknown>>;
  const steps = ((v.steps as unknown[] | undefined) ?? []).map((s) => {
    const step = s as Record<string, unknown>;
    return {
      name: step.name as string,
      run: step.run as string | string[],
      timeout: (step.timeout as number | null | undefined) ?? null,
      env: { ...((step.env as Record<string, string> | null | undefined) ?? {}) },
    };
  });
  return { ...VERIFY_DEFAULTS, ...(v as Partial<VerifyConfig>), steps };
}
