import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { looseCommit, looseCommitTree, looseDiffCommits, looseObject, looseTreeEntries, looseType, type LooseTreeChange } from '../../src/git/loose.js';
import { plainTrailerValues, trailerPlaceholder, trailerValues } from '../../src/notes/claim.js';
import { readChangedNotesMany } from '../../src/notes/read.js';
import { configIdentity } from '../../src/verify/current.js';
import { cleanupAll, makeRepo, testEnv, type TestRepo } from '../helpers/repo.js';
import { commitChange, jsonOf } from '../helpers/state.js';
import { commitVerifyConfig } from '../helpers/verify.js';

afterAll(cleanupAll);

const gitDir = (repo: TestRepo) => path.join(repo.dir, '.git');
const rev = (repo: TestRepo, r: string) => repo.git(['rev-parse', r]).trim();

describe('loose objects read from their files', () => {
  it('give what cat-file gives: type, body, a commit tree, tree entries (names with spaces and non-ASCII, modes)', () => {
    const repo = makeRepo();
    repo.write('a b.txt', 'spaced\n');
    repo.write('dir/é.txt', 'accent\n');
    repo.write('run.sh', '#!/bin/sh\n');
    fs.chmodSync(path.join(repo.dir, 'run.sh'), 0o755);
    fs.symlinkSync('run.sh', path.join(repo.dir, 'link'));
    repo.git(['add', '-A']);
    repo.git(['commit', '-q', '-m', 'files']);
    repo.git(['tag', '-a', '-m', 'tagged', 'v1']);
    const commit = rev(repo, 'HEAD');
    const tree = rev(repo, 'HEAD^{tree}');
    for (const oid of [commit, tree, rev(repo, 'HEAD:a b.txt'), rev(repo, 'v1'), rev(repo, 'HEAD:dir')]) {
      expect(looseType(gitDir(repo), oid)).toBe(repo.git(['cat-file', '-t', oid]).trim());
      const o = looseObject(gitDir(repo), oid)!;
      expect(o.type).toBe(repo.git(['cat-file', '-t', oid]).trim());
      expect(o.body.equals(Buffer.from(repo.git(['cat-file', o.type, oid], { env: testEnv() }), 'utf8'))).toBe(o.type !== 'tree');
    }
    expect(looseCommitTree(gitDir(repo), commit)).toBe(tree);
    const entries = looseTreeEntries(gitDir(repo), tree)!;
    const listed = repo.git(['ls-tree', '-z', tree]).split('\0').filter(Boolean);
    expect(entries.size).toBe(listed.length);
    for (const line of listed) {
      const [info, name] = line.split('\t') as [string, string];
      const [mode, , oid] = info.split(' ');
      // git prints a tree's mode as 040000; the object holds 40000
      expect(entries.get(name)).toEqual({ mode: mode === '040000' ? '40000' : mode, oid });
    }
    expect(looseTreeEntries(gitDir(repo), commit)).toBeNull();
    expect(looseCommitTree(gitDir(repo), tree)).toBeNull();
  });

  it('answer null for what is not loose: packed, missing, not an id, a damaged file', () => {
    const repo = makeRepo();
    const commit = rev(repo, 'HEAD');
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    expect(looseType(gitDir(repo), commit)).toBeNull();
    expect(looseObject(gitDir(repo), commit)).toBeNull();
    expect(looseType(gitDir(repo), '1'.repeat(40))).toBeNull();
    expect(looseType(gitDir(repo), 'HEAD')).toBeNull();
    commitChange(repo, 'loose again', { file: 'x.txt' });
    const loose = rev(repo, 'HEAD');
    const file = path.join(gitDir(repo), 'objects', loose.slice(0, 2), loose.slice(2));
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'not deflated');
    expect(looseType(gitDir(repo), loose)).toBeNull();
    expect(looseObject(gitDir(repo), loose)).toBeNull();
  });
});

describe('the verify spec of a base that moved', () => {
  const steps = (name: string) => ({ steps: [{ name, run: 'true' }] });
  it('is the last one while the config files at the top of the tree are the same objects; read again when they change or are not loose', () => {
    const repo = makeRepo();
    commitVerifyConfig(repo, steps('one'));
    const cold = () => jsonOf(repo.omni(['status', '--json'], { env: testEnv({ OMNI_SHIP_NO_CACHE: '1' }) })).spec;
    const warm = () => {
      const r = repo.omni(['status', '--json'], { env: testEnv({ OMNI_SHIP_TRACE_GIT: '1' }) });
      expect(r.code, r.stderr).toBe(0);
      return { spec: JSON.parse(r.stdout).spec as string, catFile: /\[git\] cat-file --batch\n/.test(r.stderr) };
    };
    const first = warm();
    expect(first.spec).toBe(cold());
    const identity = configIdentity(gitDir(repo), rev(repo, 'HEAD'));
    // a commit that changes another file: the same config object, the spec without reading it
    commitChange(repo, 'other work', { file: 'work.txt' });
    expect(configIdentity(gitDir(repo), rev(repo, 'HEAD'))?.files).toBe(identity?.files);
    expect(warm()).toEqual({ spec: first.spec, catFile: false });
    // a commit that changes the config: read again
    const changed = commitVerifyConfig(repo, steps('two'));
    expect(configIdentity(gitDir(repo), changed)?.files).not.toBe(identity?.files);
    const second = warm();
    expect(second.spec).not.toBe(first.spec);
    expect(second.spec).toBe(cold());
    expect(second.catFile).toBe(true);
    // the config back as it was (the same object as the first): the first spec again
    commitVerifyConfig(repo, steps('one'));
    expect(warm().spec).toBe(first.spec);
    expect(cold()).toBe(first.spec);
    // every object packed: no identity from the files, the config read with git
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    expect(configIdentity(gitDir(repo), rev(repo, 'HEAD'))).toBeNull();
    expect(warm()).toEqual({ spec: first.spec, catFile: false });
    repo.git(['commit', '-q', '--allow-empty', '-m', 'empty']);
    const tip = rev(repo, 'HEAD');
    // the new commit is loose, its tree (the last one's) packed: the same tree, the same spec, from the commit alone
    expect(looseType(gitDir(repo), tip)).toBe('commit');
    expect(configIdentity(gitDir(repo), tip)).toEqual({ tree: rev(repo, 'HEAD^{tree}'), files: null });
    expect(warm()).toEqual({ spec: first.spec, catFile: false });
    // another tree, packed: read with git
    repo.write('more.txt', 'more\n');
    repo.git(['add', 'more.txt']);
    repo.git(['commit', '-q', '-m', 'more']);
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    expect(configIdentity(gitDir(repo), rev(repo, 'HEAD'))).toBeNull();
    expect(warm()).toEqual({ spec: first.spec, catFile: true });
  });
});

describe('a diff of two commits read from their loose objects', () => {
  // names that sort differently as a blob and as a tree ('a' as a tree sorts as 'a/', after 'a.b' and 'a-')
  const NAMES = ['a', 'a.b', 'a-', 'ab', 'b', 'é', 'a b'];
  const MODES = ['100644', '100755', '120000'];
  type State = Map<string, { mode: string; blob: number }>;

  /** Paths from the generated entries, dropping any that would be a file and a directory at once. */
  function stateOf(entries: readonly { segments: number[]; mode: number; blob: number }[]): State {
    const state: State = new Map();
    for (const e of entries) {
      const p = e.segments.map((k) => NAMES[k]!).join('/');
      const clash = [...state.keys()].some((q) => q === p || q.startsWith(`${p}/`) || p.startsWith(`${q}/`));
      if (!clash) state.set(p, { mode: MODES[e.mode]!, blob: e.blob });
    }
    return state;
  }

  /** A commit of `state` (its trees written loose by write-tree), on a scratch index. */
  function commitOf(repo: TestRepo, blobs: readonly string[], state: State, index: string): string {
    fs.rmSync(index, { force: true });
    const env = { ...testEnv(), GIT_INDEX_FILE: index };
    const lines = [...state].map(([p, { mode, blob }]) => `${mode} ${blobs[blob]}\t${p}\n`).join('');
    if (lines) repo.git(['update-index', '--add', '--index-info'], { env, input: lines });
    const tree = repo.git(['write-tree'], { env }).trim();
    return repo.git(['commit-tree', tree, '-m', 'state'], { env }).trim();
  }

  /** What `git diff-tree -r --no-renames` reports, as looseDiffCommits gives it. */
  function gitDiff(repo: TestRepo, from: string, to: string): LooseTreeChange[] {
    const fields = repo.git(['diff-tree', '-r', '-z', '--no-renames', from, to]).split('\0');
    const out: LooseTreeChange[] = [];
    for (let i = 0; i < fields.length; i++) {
      if (!fields[i]!.startsWith(':')) continue;
      const [, , oldBlob, newBlob, status] = fields[i]!.split(' ');
      out.push({ status: status as LooseTreeChange['status'], oldBlob: oldBlob!, newBlob: newBlob!, path: fields[++i]! });
    }
    return out;
  }
  const sorted = (changes: readonly LooseTreeChange[]) => [...changes].sort((x, y) => (x.path + x.status < y.path + y.status ? -1 : 1));

  it('is what git diff-tree -r reports, for any two trees (property: nesting, modes, a blob that becomes a tree)', () => {
    const repo = makeRepo();
    const blobs = ['x', 'y', 'z'].map((c) => repo.git(['hash-object', '-w', '--stdin'], { input: `${c}\n` }).trim());
    const index = path.join(gitDir(repo), 'scratch-index');
    const entry = fc.record({ segments: fc.array(fc.integer({ min: 0, max: NAMES.length - 1 }), { minLength: 1, maxLength: 3 }), mode: fc.integer({ min: 0, max: 2 }), blob: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.array(entry, { maxLength: 8 }), fc.array(entry, { maxLength: 3 }), (common, before, after) => {
        const from = commitOf(repo, blobs, stateOf([...before, ...common]), index);
        const to = commitOf(repo, blobs, stateOf([...after, ...common]), index);
        const loose = looseDiffCommits(gitDir(repo), from, to);
        expect(loose).not.toBeNull();
        expect(sorted(loose!)).toEqual(sorted(gitDiff(repo, from, to)));
      }),
      { numRuns: 40 },
    );
  });

  it('is null when a tree it has to open is packed, or an entry is a submodule', () => {
    const repo = makeRepo();
    const blobs = ['x', 'y'].map((c) => repo.git(['hash-object', '-w', '--stdin'], { input: `${c}\n` }).trim());
    const index = path.join(gitDir(repo), 'scratch-index');
    const from = commitOf(repo, blobs, new Map([['d/e', { mode: '100644', blob: 0 }], ['f', { mode: '100644', blob: 0 }]]), index);
    repo.git(['update-ref', 'refs/keep', from]);
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    const to = commitOf(repo, blobs, new Map([['d/e', { mode: '100644', blob: 1 }], ['f', { mode: '100644', blob: 0 }]]), index);
    expect(looseDiffCommits(gitDir(repo), from, to)).toBeNull();
    // the same change, from a loose commit whose packed subtree it need not open: read
    const toF = commitOf(repo, blobs, new Map([['d/e', { mode: '100644', blob: 0 }], ['f', { mode: '100644', blob: 1 }]]), index);
    const toF2 = commitOf(repo, blobs, new Map([['d/e', { mode: '100644', blob: 0 }], ['f', { mode: '100755', blob: 1 }]]), index);
    expect(looseDiffCommits(gitDir(repo), toF, toF2)).toEqual([{ status: 'M', oldBlob: blobs[1], newBlob: blobs[1], path: 'f' }]);
    const env = { ...testEnv(), GIT_INDEX_FILE: index };
    repo.git(['update-index', '--add', '--cacheinfo', `160000,${rev(repo, 'HEAD')},sub`], { env });
    const withSub = repo.git(['commit-tree', repo.git(['write-tree'], { env }).trim(), '-m', 'sub']).trim();
    expect(looseDiffCommits(gitDir(repo), toF2, withSub)).toBeNull();
  });
});

describe('changed notes read from loose objects', () => {
  it('are the changes the git path reads: added, edited, removed notes in several logs at once', async () => {
    const repo = makeRepo();
    const objects = [0, 1, 2].map((k) => commitChange(repo, `c${k}`, { file: `c${k}.txt` }));
    for (const o of objects) repo.git(['notes', '--ref=a', 'add', '-m', `first ${o}`, o]);
    repo.git(['notes', '--ref=b', 'add', '-m', 'b0', objects[0]!]);
    const before = { a: rev(repo, 'refs/notes/a'), b: rev(repo, 'refs/notes/b') };
    repo.git(['notes', '--ref=a', 'append', '-m', 'more', objects[1]!]);
    repo.git(['notes', '--ref=a', 'remove', objects[2]!]);
    repo.git(['notes', '--ref=b', 'add', '-m', 'b1', objects[1]!]);
    const after = { a: rev(repo, 'refs/notes/a'), b: rev(repo, 'refs/notes/b') };
    const readAll = async (commonDir?: string) => {
      const seen: string[] = [];
      const reads = (['a', 'b'] as const).map((ref) => ({
        from: before[ref],
        to: after[ref],
        onDelete: (object: string) => seen.push(`${ref} delete ${object}`),
        onNote: (object: string, text: string) => seen.push(`${ref} note ${object} ${JSON.stringify(text)}`),
      }));
      await readChangedNotesMany(repo.dir, reads, commonDir);
      return seen.sort();
    };
    const viaGit = await readAll();
    expect(viaGit).toHaveLength(5);
    expect(await readAll(gitDir(repo))).toEqual(viaGit);
    // packed: the same, through git
    repo.git(['repack', '-adq']);
    repo.git(['prune-packed']);
    expect(await readAll(gitDir(repo))).toEqual(viaGit);
  });
});

describe('trailers read from a message as git reads them', () => {
  // pieces of messages: trailers of the key in any case and spacing, other trailers, prose, and what git reads
  // with rules of its own (continuations, comments, a patch divider, a carriage return, a space before the colon)
  const PIECES = [
    'Task-Id: t-1', 'task-id: t-2', 'TASK-ID:t-3', 'Task-Id:   t-4  ', 'Task-Id:', 'Task-Id: not an id',
    'Signed-off-by: A <a@e>', 'Reviewed-by: B', 'Closes: #9', 'X-y: z',
    'just prose', 'Task-Id is t-5', 'Task-Id : t-6', 'Task-Id\t: t-7', 'Task Id: t-8', ': t-9', '(cherry picked from commit 1234)',
    ' continued', '\tcontinued', '# a comment', '--- a/x', 'a\rb', '', '   ',
  ];
  const message = fc.array(fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }).map((paragraphs) => `${paragraphs.map((p) => p.join('\n')).join('\n\n')}\n`);

  it('are the values git log gives wherever the plain reading answers (property), and it answers for the usual messages', () => {
    const repo = makeRepo();
    const tree = rev(repo, 'HEAD^{tree}');
    const placeholder = trailerPlaceholder('Task-Id');
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        const shas = messages.map((m) => repo.git(['commit-tree', tree, '-F', '-'], { input: m }).trim());
        const out = repo.git(['log', '--no-walk=unsorted', `--format=%H%x1f${placeholder}%x1e`, ...shas]).split('\x1e').map((r) => r.replace(/^\n/, '')).filter(Boolean);
        const byGit = new Map(out.map((r) => [r.slice(0, 40), trailerValues(r.slice(41))]));
        for (const [k, sha] of shas.entries()) {
          const c = looseCommit(gitDir(repo), sha)!;
          expect(c.message).toBe(messages[k]);
          const plain = plainTrailerValues(c.message, 'Task-Id');
          if (plain !== null) expect(plain, JSON.stringify(messages[k])).toEqual(byGit.get(sha));
        }
      }),
      { numRuns: 60 },
    );
    for (const m of ['subject\n\nTask-Id: t-1\n', 'subject\n\nbody\nmore\n\nSigned-off-by: A <a@e>\nTask-Id: t-2\n', 'subject\n\nbody\n', 'subject\n\nbody: with a colon later\n', 'subject\n']) {
      const values = plainTrailerValues(m, 'Task-Id');
      if (m === 'subject\n') expect(values).toBeNull();
      else expect(values, m).not.toBeNull();
    }
  });

  it('reads a loose commit: tree, parents (a merge, a signature), and null for an encoding header', () => {
    const repo = makeRepo();
    const a = commitChange(repo, 'a');
    const b = repo.git(['commit-tree', rev(repo, 'HEAD^{tree}'), '-p', a, '-p', rev(repo, 'HEAD~1'), '-m', 'merge']).trim();
    expect(looseCommit(gitDir(repo), b)).toEqual({ tree: rev(repo, 'HEAD^{tree}'), parents: [a, rev(repo, 'HEAD~1')], message: 'merge\n' });
    const raw = repo.git(['cat-file', 'commit', b]);
    const odd = repo.git(['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'], { input: raw.replace('\n\n', '\nencoding ISO-8859-1\n\n') }).trim();
    expect(looseCommit(gitDir(repo), odd)).toBeNull();
  });
});
