import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { looseCommitTree, looseObject, looseTreeEntries, looseType } from '../../src/git/loose.js';
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
