/** The `land` settings: which results let a task land, and what landing does. Gating: read like `verify`. */
import { verifyProblem, verifyWithDefaults, type VerifyConfig } from './verify.js';
import { describe, isObject } from './values.js';

/** The validated, defaulted `land` object. */
export interface LandConfig {
  /** a `skip` result lets a task land (default false: an untested tree does not land unless the team says so) */
  allowSkip: boolean;
  /** results recorded by other clones (synced) count; default false: only this clone's own runs count */
  trustRemoteResults: boolean;
  /** a task lands only with an approving review of its current patchset */
  requireApproval: boolean;
  /** the landed commit's message ends with "(cherry picked from commit …)", as `git cherry-pick -x` writes */
  recordOrigin: boolean;
  /** tries when another clone moved the base first (fetch, rebuild, verify, push again), 1 to 20 */
  maxAttempts: number;
  /** tasks verified together as one stack by `land --all` or several ids (the base moves once per batch) */
  batchSize: number;
  /** a slower suite run on the new base tip after it moved; its failure lands a revert (null: none) */
  postVerify: VerifyConfig | null;
}

/** The defaults of every `land` key. */
export const LAND_DEFAULTS: LandConfig = {
  allowSkip: false,
  trustRemoteResults: false,
  requireApproval: false,
  recordOrigin: false,
  maxAttempts: 5,
  batchSize: 8,
  postVerify: null,
};

/** What each `land` key holds, for messages and the README. */
export const LAND_KEYS: Record<keyof LandConfig, string> = {
  allowSkip: 'a skip result lets a task land (default false)',
  trustRemoteResults: "results synced from other clones count, not only this clone's own (default false)",
  requireApproval: 'land only with an approving review of the current patchset (default false)',
  recordOrigin: 'add "(cherry picked from commit …)" to the landed message (default false)',
  maxAttempts: 'tries when another clone landed first (default 5)',
  batchSize: 'tasks verified together by land --all (default 8)',
  postVerify: 'a slower suite {steps, …} run after the base moved; a failure lands a revert (default none)',
};


/** Why `value` is not a valid `land` object, or null; names the sub-key. */
export function landProblem(value: unknown): string | null {
  if (!isObject(value)) return `must be an object of land settings, not ${describe(value)}`;
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(LAND_DEFAULTS, key)) return `has an unknown key '${key}' (known: ${Object.keys(LAND_DEFAULTS).join(', ')})`;
    let problem: string | null = null;
    switch (key as keyof LandConfig) {
      case 'allowSkip':
      case 'trustRemoteResults':
      case 'requireApproval':
      case 'recordOrigin':
        problem = typeof v === 'boolean' ? null : `must be true or false, not ${describe(v)}`;
        break;
      case 'maxAttempts':
        problem = Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 20 ? null : `must be a whole number from 1 to 20, not ${describe(v)}`;
        break;
      case 'batchSize':
        problem = Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 100 ? null : `must be a whole number from 1 to 100, not ${describe(v)}`;
        break;
      case 'postVerify': {
        if (v === null) break;
        const p = verifyProblem(v);
        problem = p ? p.replace(/^must be an object of verify settings/, 'must be an object like verify ({steps, timeout, …})') : null;
        if (!problem && (!isObject(v) || !Array.isArray(v.steps) || v.steps.length === 0)) problem = 'must list at least one step (or be null)';
        break;
      }
    }
    if (problem) return `${key} ${problem}`;
  }
  return null;
}

/** The validated `land` object with every missing key defaulted (call landProblem first). */
export function landWithDefaults(value: unknown): LandConfig {
  const v = (isObject(value) ? value : {}) as Partial<Record<keyof LandConfig, unknown>>;
  return {
    ...LAND_DEFAULTS,
    ...(v as Partial<LandConfig>),
    postVerify: v.postVerify ? verifyWithDefaults(v.postVerify) : null,
  };
}
