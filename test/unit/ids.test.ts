import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { isSha, parseTaskId, taskIdFromBranch, tryTaskId } from '../../src/ids.js';

const patterns = {
  taskPattern: CONFIG_KEYS.taskPattern.fixedDefault as string,
  branchPattern: CONFIG_KEYS.branchPattern.fixedDefault as string,
};

const n = fc.nat({ max: 1_000_000 });
/** `t-<n>` with zero or more `.<m>` parts. */
const taskId = fc.tuple(n, fc.array(n, { maxLength: 3 })).map(([a, parts]) => ['t-' + a, ...parts].join('.'));
/** Branch-name material that often holds something task-like. */
const branchish = fc
  .array(fc.constantFrom('t', 'T', '-', '_', '/', '.', '0', '1', '7', 'a', 'x', 'feat/', 't-', 'T-', '-login'), { maxLength: 12 })
  .map((parts) => parts.join(''));

describe('tryTaskId', () => {
  it('property: t-<n>.<m>… is a task id, whatever its case and surrounding blanks', () => {
    fc.assert(
      fc.property(taskId, fc.boolean(), fc.constantFrom('', ' ', '\t', '\n'), (id, upper, pad) => {
        const raw = pad + (upper ? id.toUpperCase() : id) + pad;
        expect(tryTaskId(raw, patterns)).toBe(id);
      }),
    );
  });

  it('property: for any n and m, t-n.m is valid', () => {
    fc.assert(
      fc.property(n, n, (a, b) => {
        expect(tryTaskId(`t-${a}.${b}`, patterns)).toBe(`t-${a}.${b}`);
      }),
    );
  });

  it('property: whatever it returns is lower-case and matches the pattern', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), branchish, taskId.map((s) => s.toUpperCase())), (raw) => {
        const id = tryTaskId(raw, patterns);
        if (id !== null) {
          expect(id).toBe(id.toLowerCase());
          expect(new RegExp(patterns.taskPattern).test(id)).toBe(true);
        }
      }),
    );
  });

  it.each(['', 't', 't-', 't-x', 't-1.', 't-1..2', 't--1', 'x-1', ' t-1 x', 't-1;rm -rf /', 't-1\nt-2', 'tt-1'])('rejects %j', (raw) => {
    expect(tryTaskId(raw, patterns)).toBeNull();
  });

  it('follows a custom taskPattern', () => {
    const custom = { taskPattern: '^proj-[0-9]+$' };
    expect(tryTaskId('PROJ-12', custom)).toBe('proj-12');
    expect(tryTaskId('t-12', custom)).toBeNull();
  });
});

describe('parseTaskId', () => {
  it('returns the lower-cased id', () => {
    expect(parseTaskId('T-565.2', patterns)).toBe('t-565.2');
  });

  it('an invalid id is a user error (exit 2) that says what an id looks like', () => {
    let error: unknown;
    try {
      parseTaskId('t-565;rm', patterns);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toBe('"t-565;rm" is not a valid task id');
    expect((error as UserError).hint).toContain(patterns.taskPattern);
  });
});

describe('taskIdFromBranch', () => {
  it.each([
    ['t-5', 't-5'],
    ['t-565.2', 't-565.2'],
    ['feat/t-565-login', 't-565'],
    ['fix/t-12_typo', 't-12'],
    ['t-3/sub', 't-3'],
    ['T-7', 't-7'],
    ['Feat/T-8-Login', 't-8'],
    ['a/b/t-9', 't-9'],
    ['t-1-t-2', 't-1'],
  ])('%s gives %s', (branch, id) => {
    expect(taskIdFromBranch(branch, patterns)).toBe(id);
  });

  it.each(['main', 'master', 'at-5', 'feature-t-5', 't-x', 't-5x', 't-5.', 'xt-5/y', ''])('%j names no task', (branch) => {
    expect(taskIdFromBranch(branch, patterns)).toBeNull();
  });

  it('property: feat/t-<n>-x gives t-<n>', () => {
    fc.assert(
      fc.property(n, (a) => {
        expect(taskIdFromBranch(`feat/t-${a}-x`, patterns)).toBe(`t-${a}`);
      }),
    );
  });

  it('property: a branch named after a task id gives that id, in any case, under any prefix', () => {
    fc.assert(
      fc.property(taskId, fc.boolean(), fc.constantFrom('', 'feat/', 'user/wip/'), fc.constantFrom('', '-login', '_x', '/more'), (id, upper, prefix, suffix) => {
        const branch = prefix + (upper ? id.toUpperCase() : id) + suffix;
        expect(taskIdFromBranch(branch, patterns)).toBe(id);
      }),
    );
  });

  it('property: whatever it returns is a valid, lower-case task id', () => {
    fc.assert(
      fc.property(fc.oneof(branchish, fc.string()), (branch) => {
        const id = taskIdFromBranch(branch, patterns);
        if (id !== null) {
          expect(id).toBe(id.toLowerCase());
          expect(tryTaskId(id, patterns)).toBe(id);
        }
      }),
    );
  });

  it('a pattern written in upper case still matches the branch as it is', () => {
    const upper = { taskPattern: '^proj-[0-9]+$', branchPattern: '(^|/)PROJ-[0-9]+' };
    expect(taskIdFromBranch('PROJ-4-x', upper)).toBe('proj-4');
    expect(taskIdFromBranch('proj-4-x', upper)).toBeNull();
  });
});

describe('isSha', () => {
  it('accepts 40 lower-case hex digits only', () => {
    expect(isSha('a'.repeat(40))).toBe(true);
    expect(isSha('A'.repeat(40))).toBe(false);
    expect(isSha('a'.repeat(39))).toBe(false);
    expect(isSha('g'.repeat(40))).toBe(false);
  });
});
