import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { CONFIG_KEYS, checkConfigFilesReadable, checkPattern, isValidBranchName, validateConfig, type ReadProbe } from '../../src/config.js';
import { jsonSyntaxError, lineColumn } from '../../src/config/json-syntax.js';
import { UserError } from '../../src/errors.js';

const FILE = '/repo/.omni-shiprc.json';

/** The UserError validateConfig throws for `raw`, or fails the test. */
function rejection(raw: unknown): UserError {
  try {
    validateConfig(raw, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error(`validateConfig accepted ${JSON.stringify(raw)}`);
}

describe('checkPattern', () => {
  it('accepts the default patterns', () => {
    expect(checkPattern(CONFIG_KEYS.taskPattern.fixedDefault as string)).toBeNull();
    expect(checkPattern(CONFIG_KEYS.branchPattern.fixedDefault as string)).toBeNull();
  });

  it.each(['^t-[0-9]+$', '(^|/)[a-z]+-[0-9]+($|[-_/])', '^(proj|t)-[0-9]+(\\.[0-9]+)*$', 'a|b', '[{]'])('accepts %s', (p) => {
    expect(checkPattern(p)).toBeNull();
  });

  it.each([
    ['^t-\\d+$', '\\d'],
    ['^t-\\w+$', '\\w'],
    ['\\bt-1', '\\b'],
    ['^(?:t)-[0-9]+$', '(?'],
    ['^(?<id>t-[0-9]+)$', '(?'],
    ['^t-[0-9]{2}$', 'interval'],
    ['^t-[0-9]{1,3}$', 'interval'],
    ['^t-[[:digit:]]+$', '[:digit:]'],
    ['^t-(', 'not a valid regular expression'],
    ['', 'empty'],
  ])('rejects %s', (p, mentions) => {
    const problem = checkPattern(p);
    expect(problem).not.toBeNull();
    expect(problem).toContain(mentions);
  });
});

describe('validateConfig', () => {
  it('passes known keys through and treats an empty file as no settings', () => {
    expect(validateConfig({}, FILE)).toEqual({});
    expect(validateConfig(null, FILE)).toEqual({});
    expect(validateConfig(undefined, FILE)).toEqual({});
    const all = {
      baseBranch: 'develop',
      remote: 'upstream',
      taskPattern: '^t-[0-9]+$',
      branchPattern: '(^|/)t-[0-9]+',
      trailerKey: 'Task',
      requireTaskId: true,
    };
    expect(validateConfig(all, FILE)).toEqual(all);
    expect(validateConfig({ remote: null }, FILE)).toEqual({ remote: null });
  });

  it('an unknown key names the file and the key, and lists the known ones', () => {
    const e = rejection({ trailerKey: 'Task', requireTaskID: true });
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`${FILE}: unknown key 'requireTaskID'`);
    expect(e.hint).toContain('requireTaskId');
  });

  it.each(['constructor', 'toString', '__proto__'])('"%s" is an unknown key, not a property of every object', (key) => {
    expect(rejection(JSON.parse(`{"${key}": {}}`)).message).toBe(`${FILE}: unknown key '${key}'`);
  });

  it.each([
    [{ requireTaskId: 'yes' }, 'requireTaskId', 'must be true or false, not the string "yes"'],
    [{ requireTaskId: 1 }, 'requireTaskId', 'must be true or false'],
    [{ trailerKey: 5 }, 'trailerKey', 'must be a string, not number 5'],
    [{ trailerKey: 'Task Id' }, 'trailerKey', 'letters, digits and dashes'],
    [{ trailerKey: 'Task-Id:' }, 'trailerKey', 'letters, digits and dashes'],
    [{ trailerKey: '' }, 'trailerKey', 'letters, digits and dashes'],
    [{ taskPattern: ['^t-'] }, 'taskPattern', 'must be a string, not a list'],
    [{ taskPattern: '^t-\\d+$' }, 'taskPattern', '\\d'],
    [{ branchPattern: '(?:^|/)t-[0-9]+' }, 'branchPattern', '(?'],
    [{ baseBranch: 'a..b' }, 'baseBranch', 'not a valid branch name'],
    [{ baseBranch: null }, 'baseBranch', 'must be a string, not null'],
    [{ remote: '.hidden' }, 'remote', 'not a valid remote name'],
    [{ remote: 'a b' }, 'remote', 'not a valid remote name'],
    [{ remote: false }, 'remote', 'must be a string or null'],
  ])('%j: a wrong value names the file and the key', (raw, key, problem) => {
    const e = rejection(raw);
    expect(e.exitCode).toBe(2);
    expect(e.message.startsWith(`${FILE}: '${key}' `)).toBe(true);
    expect(e.message).toContain(problem);
  });

  it.each([[['a list']], ['a string'], [42]])('a config that is not an object (%j) is refused', (raw) => {
    const e = rejection(raw);
    expect(e.message).toContain(FILE);
    expect(e.message).toContain('must be an object');
  });

  it('property: any object with a key outside the schema is refused, naming that key', () => {
    const known = new Set(Object.keys(CONFIG_KEYS));
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'), fc.string({ minLength: 1 })).filter((k) => !known.has(k)),
        fc.jsonValue(),
        (key, value) => {
          // JSON.parse makes "__proto__" an own key, as a config file would
          const e = rejection(JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`));
          expect(e.message).toBe(`${FILE}: unknown key '${key}'`);
        },
      ),
    );
  });

  it('property: requireTaskId takes booleans only', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        if (typeof value === 'boolean') expect(validateConfig({ requireTaskId: value }, FILE)).toEqual({ requireTaskId: value });
        else expect(rejection({ requireTaskId: value }).message).toContain("'requireTaskId' must be true or false");
      }),
    );
  });
});

describe('isValidBranchName', () => {
  it.each(['main', 't-565', 'feat/t-565-login', 't-565.2', 'a/b/c', 'release-1.0'])('accepts %s', (name) => {
    expect(isValidBranchName(name)).toBe(true);
  });

  it.each(['', '-x', '/x', 'x/', 'x.', 'a..b', 'a//b', 'a b', 'a~b', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a\\b', 'x.lock', 'a/.b', '@', 'a@{b'])(
    'rejects %j',
    (name) => {
      expect(isValidBranchName(name)).toBe(false);
    },
  );
});

describe('checkConfigFilesReadable', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: fake`), { code });
  /** A probe where every file is missing except `files`, which stat as given and fail access with `denied`. */
  const probe = (files: Record<string, { dir?: boolean; denied?: string }>): ReadProbe => ({
    statSync(file) {
      const f = files[file];
      if (!f) throw errno('ENOENT');
      return { isDirectory: () => f.dir === true } as fs.Stats;
    },
    accessSync(file) {
      const denied = files[file]?.denied;
      if (denied) throw errno(denied);
    },
  });

  it('passes when no config file is there, or the ones there can be read', () => {
    expect(() => checkConfigFilesReadable('/repo', probe({}))).not.toThrow();
    expect(() => checkConfigFilesReadable('/repo', probe({ '/repo/.omni-shiprc.json': {} }))).not.toThrow();
    // a name under a path that is not a directory is not there either
    const notADirectory: ReadProbe = {
      ...probe({}),
      statSync: () => {
        throw errno('ENOTDIR');
      },
    };
    expect(() => checkConfigFilesReadable('/repo', notADirectory)).not.toThrow();
  });

  it.each([
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['EIO', 'EIO: fake'],
  ])('a file that exists but cannot be read (%s) is a user error naming it', (code, problem) => {
    let caught: unknown;
    try {
      checkConfigFilesReadable('/repo', probe({ '/repo/.omni-shiprc.yaml': { denied: code } }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).exitCode).toBe(2);
    expect((caught as UserError).message).toBe(`/repo/.omni-shiprc.yaml: cannot read the config: ${problem}`);
    expect((caught as UserError).hint).toContain('chmod a+r /repo/.omni-shiprc.yaml');
  });

  it('a directory in the place of a config file is a user error naming it', () => {
    expect(() => checkConfigFilesReadable('/repo', probe({ '/repo/package.json': {}, '/repo/.omni-shiprc': { dir: true } }))).toThrow(
      '/repo/.omni-shiprc: cannot read the config: it is a directory',
    );
  });
});

describe('jsonSyntaxError', () => {
  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    ['{"a": }', "expected a value, found '}'", 1, 7],
    ['{\n  "a": 1,\n}\n', "expected a property name in double quotes, found '}'", 3, 1],
    ['{\n "a": 1\n "b": 2\n}', `expected ',' or '}' after a property value, found '"'`, 3, 2],
    ['[1, 2', 'unexpected end of the file', 1, 6],
    ['[1 2]', "expected ',' or ']' after a list item, found '2'", 1, 4],
    ['{"a" 1}', "expected ':' after the property name, found '1'", 1, 6],
    ['{"a": "x\ny"}', 'a control character (U+000A) inside a string', 1, 9],
    ['{"a": "\\q"}', 'an invalid escape \\q inside a string', 1, 8],
    ['{"a": 01}', 'an invalid number', 1, 8],
    ['{"a": tru}', "expected a value, found 'tru'", 1, 7],
    ['{"a": yes}', "expected a value, found 'yes'", 1, 7],
    ['{"a": true1}', "expected ',' or '}' after a property value, found '1'", 1, 11],
    ['{} x', "unexpected 'x' after the end of the JSON value", 1, 4],
    ['', 'unexpected end of the file', 1, 1],
    ['{"é": ü}', "expected a value, found 'ü'", 1, 7],
  ])('%j: %s at line %i, column %i', (text, reason, line, column) => {
    expect(parses(text)).toBe(false);
    const found = jsonSyntaxError(text);
    expect(found?.reason).toBe(reason);
    expect(lineColumn(text, found!.offset)).toEqual({ line, column });
  });

  it('property: valid JSON has no syntax error', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonSyntaxError(text)).toBeNull();
      }),
    );
  });

  it('property: it finds an error exactly when JSON.parse fails (JSON with a character inserted or removed)', () => {
    const alphabet = fc.constantFrom(...'{}[]",:0123456789.-+eE \n\t\\abtrufnl\u0001');
    fc.assert(
      fc.property(fc.json(), fc.nat(), alphabet, fc.boolean(), (json, at, ch, insert) => {
        const i = json.length ? at % (json.length + (insert ? 1 : 0)) : 0;
        const text = insert ? json.slice(0, i) + ch + json.slice(i) : json.slice(0, i) + json.slice(i + 1);
        expect(jsonSyntaxError(text) === null).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });
});
