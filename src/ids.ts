import { badInput } from './errors.js';

declare const brand: unique symbol;
/** A validated, lower-cased task id such as `t-565` or `t-565.2`. */
export type TaskId = string & { readonly [brand]: 'TaskId' };
/** A full 40-hex object id. */
export type Sha = string & { readonly [brand]: 'Sha' };

/** The patterns that decide what a task id is; see Config. */
export interface TaskPatterns {
  taskPattern: string;
  branchPattern: string;
}

const compiled = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(source);
    compiled.set(source, re);
  }
  return re;
}

/** Lower-cases and checks a task id; returns null when it does not match taskPattern. */
export function tryTaskId(raw: string, patterns: Pick<TaskPatterns, 'taskPattern'>): TaskId | null {
  const id = raw.trim().toLowerCase();
  return id !== '' && regex(patterns.taskPattern).test(id) ? (id as TaskId) : null;
}

/** Like tryTaskId, but an invalid id is a user error (exit 2) that says what a task id looks like. */
export function parseTaskId(raw: string, patterns: Pick<TaskPatterns, 'taskPattern'>): TaskId {
  const id = tryTaskId(raw, patterns);
  if (!id) {
    throw badInput(
      `${JSON.stringify(raw)} is not a valid task id`,
      `a task id matches ${patterns.taskPattern} (for example t-565 or t-565.2)`,
    );
  }
  return id;
}

/**
 * Takes the task id out of a branch name, the same way the commit-msg hook does in awk: the first match of
 * branchPattern (in the branch name as it is, else lower-cased), with leading and trailing `-`, `_` and `/`
 * trimmed, lower-cased, and checked against taskPattern.
 */
export function taskIdFromBranch(branch: string, patterns: TaskPatterns): TaskId | null {
  // ids are lower-cased, so a branch named T-7 names t-7 under a pattern written in lower case
  const m = regex(patterns.branchPattern).exec(branch) ?? regex(patterns.branchPattern).exec(branch.toLowerCase());
  if (!m) return null;
  const raw = m[0].replace(/^[-_/]+/, '').replace(/[-_/]+$/, '');
  return tryTaskId(raw, patterns);
}

/** True for a full lower-case 40-hex object id. */
export function isSha(s: string): s is Sha {
  return /^[0-9a-f]{40}$/.test(s);
}
