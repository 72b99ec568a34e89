import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeRefs, readLooseRefs, readPackedRefs } from '../../src/git/refs-fs.js';
import { SNAPSHOT_PATTERNS, readRefSnapshot } from '../../src/state/ref-snapshot.js';
import { rememberBuildFingerprint } from '../../src/state/build.js';
import { cleanupAll, makeRemote, makeRepo, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

/** What git itself lists: the text readRefSnapshot must equal, whether it read the files or ran git. */
function forEachRef(repo: TestRepo): string {
  return repo.git(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...SNAPSHOT_PATTERNS]);
}
const memo = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'state-cache', 'refs.txt');
/** The refs as the snapshot reads them from the files (loose, then packed-refs), or undefined: left to git. */
function fromFiles(repo: TestRepo): Map<string, string> | undefined {
  const loose = readLooseRefs(path.join(repo.dir, '.git'), SNAPSHOT_PATTERNS);
  const packed = loose && readPackedRefs(path.join(repo.dir, '.git'));
  return loose && packed !== undefined ? mergeRefs(loose, packed, SNAPSHOT_PATTERNS) : undefined;
}

/** readRefSnapshot in a command that then writes its caches (which writes the memo too). */
async function snapshot(dir: string): Promise<string> {
  const text = await readRefSnapshot(dir);
  rememberBuildFingerprint();
  return text;
}

/** Checks the snapshot against git's, read from the files (the memo before and after), and returns it. */
async function same(repo: TestRepo, what: string): Promise<string> {
  const want = forEachRef(repo);
  expect(await snapshot(repo.dir), what).toBe(want);
  // again, now with every type in the memo: no process, same text
  expect(await snapshot(repo.dir), `${what} (from the memo)`).toBe(want);
  return want;
}

describe('the ref snapshot read from git files', () => {
  it('equals for-each-ref: loose and packed refs, a loose ref over its packed line, remote-tracking refs and their HEAD, notes, tags aside', async () => {
    const { clone } = makeRemote();
    const repo = clone();
    const main = repo.git(['rev-parse', 'HEAD']).trim();
    repo.git(['branch', 't-1']);
    repo.git(['branch', 'feature/deep/name']);
    repo.git(['notes', '--ref=omni-ship/patchsets', 'add', '-m', '{}', main]);
    repo.git(['tag', 'v1']);
    expect(fromFiles(repo)?.get('refs/remotes/origin/HEAD')).toBe(main);
    await same(repo, 'loose');
    repo.git(['pack-refs', '--all']);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'refs', 'heads', 't-1'))).toBe(false);
    await same(repo, 'packed');
    // a branch moved after packing: its loose file wins over the packed line
    repo.write('f.txt', 'x\n');
    repo.git(['add', 'f.txt']);
    repo.git(['commit', '-q', '-m', 'moved']);
    repo.git(['branch', '-f', 't-1', 'HEAD']);
    const text = await same(repo, 'loose over packed');
    expect(text).toContain(`refs/heads/t-1\0${repo.git(['rev-parse', 'HEAD']).trim()}\0commit\n`);
    // a deleted packed branch is gone from both
    repo.git(['branch', '-D', 'feature/deep/name']);
    expect(await same(repo, 'deleted')).not.toContain('feature/deep/name');
  });

  it('types every object as git does (a branch at a tag object, a notes ref at a blob) and learns new ones', async () => {
    const repo = makeRepo();
    repo.git(['tag', '-a', '-m', 'annotated', 'v1']);
    const tag = repo.git(['rev-parse', 'v1']).trim();
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: 'not a commit\n' }).trim();
    // git refuses a branch at a tag object; a hand can write one
    fs.writeFileSync(path.join(repo.dir, '.git', 'refs', 'heads', 'at-tag'), `${tag}\n`);
    repo.git(['update-ref', 'refs/remotes/origin/at-tag', tag]);
    repo.git(['update-ref', 'refs/notes/omni-ship/verify', blob]);
    const text = await same(repo, 'odd objects');
    expect(text).toContain(`refs/heads/at-tag\0${tag}\0tag\n`);
    expect(text).toContain(`refs/remotes/origin/at-tag\0${tag}\0tag\n`);
    expect(text).toContain(`refs/notes/omni-ship/verify\0${blob}\0blob\n`);
    const kept = fs.readFileSync(memo(repo), 'utf8');
    expect(kept.slice(kept.indexOf('\n') + 1)).toBe(text);
    // a memo whose text does not match the sum its first line gives is no memo, its types included
    fs.writeFileSync(memo(repo), kept.replace(`refs/heads/at-tag\0${tag}\0tag\n`, `refs/heads/at-tag\0${tag}\0xyz\n`));
    await same(repo, 'a memo edited');
    fs.writeFileSync(memo(repo), kept.replace(`refs/heads/at-tag\0${tag}\0tag\n`, `refs/heads/at-tag\0${tag}\0xyz\n`));
    repo.git(['branch', 'more']);
    await same(repo, 'a memo edited, a ref added');
    fs.writeFileSync(memo(repo), kept.slice(0, -10));
    await same(repo, 'a memo cut short');
    // a memo that is damaged or gone only costs a cat-file
    fs.writeFileSync(memo(repo), 'garbage\0\0\nrefs/heads/main\0');
    await same(repo, 'damaged memo');
    fs.rmSync(memo(repo));
    await same(repo, 'no memo');
  });

  it('writes its memo only with the caches a command writes: a command that writes none (a refusal) leaves none', async () => {
    const repo = makeRepo();
    repo.git(['branch', 't-1']);
    const want = forEachRef(repo);
    expect(await readRefSnapshot(repo.dir)).toBe(want);
    expect(fs.existsSync(memo(repo))).toBe(false);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship'))).toBe(false);
    // the next command that writes a cache writes the memo of the snapshot it read
    rememberBuildFingerprint();
    expect(fs.readFileSync(memo(repo), 'utf8')).toContain(want);
  });

  it('skips what git skips (locks, dot names) and leaves what git would warn of to git', async () => {
    const repo = makeRepo();
    const heads = path.join(repo.dir, '.git', 'refs', 'heads');
    const main = repo.git(['rev-parse', 'HEAD']).trim();
    fs.writeFileSync(path.join(heads, 'main.lock'), `${'0'.repeat(40)}\n`);
    fs.writeFileSync(path.join(heads, '.hidden'), `${main}\n`);
    expect(fromFiles(repo)).toBeDefined();
    await same(repo, 'a lock and a dot name');
    // a loose ref that is no object id: git warns and skips it; the files do not settle it
    fs.rmSync(path.join(heads, 'main.lock'));
    fs.writeFileSync(path.join(heads, 'broken'), 'not an id\n');
    expect(fromFiles(repo)).toBeUndefined();
    await same(repo, 'a broken loose ref');
    fs.rmSync(path.join(heads, 'broken'));
    // a symbolic ref to a ref that does not exist
    fs.writeFileSync(path.join(heads, 'dangling'), 'ref: refs/heads/nowhere\n');
    expect(fromFiles(repo)).toBeUndefined();
    await same(repo, 'a dangling symbolic ref');
    fs.rmSync(path.join(heads, 'dangling'));
    // a branch at an object this repository lacks: for-each-ref's own refusal
    fs.writeFileSync(path.join(heads, 'missing'), `${'1'.repeat(40)}\n`);
    expect(fromFiles(repo)?.get('refs/heads/missing')).toBe('1'.repeat(40));
    const r = repo.gitRun(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', ...SNAPSHOT_PATTERNS]);
    expect(r.code).not.toBe(0);
    await expect(snapshot(repo.dir)).resolves.toBe(r.stdout);
  });

  it('orders names bytewise as for-each-ref does, non-ASCII names included', async () => {
    const repo = makeRepo();
    for (const b of ['Z', 'a', 'a-b', 'a.b', 'b/c', 'é', 'z', 'ä/x', '日本']) repo.git(['branch', b]);
    await same(repo, 'loose');
    repo.git(['pack-refs', '--all']);
    repo.git(['branch', 'ü']);
    await same(repo, 'mixed');
  });

  it('from a linked worktree reads the common dir', async () => {
    const repo = makeRepo();
    repo.git(['branch', 't-2']);
    const wt = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-wt`);
    repo.git(['worktree', 'add', '-q', wt, 't-2']);
    try {
      const want = forEachRef(repo);
      expect(await snapshot(wt)).toBe(want);
      expect(await snapshot(wt)).toBe(want);
    } finally {
      fs.rmSync(wt, { recursive: true, force: true });
    }
  });
});
