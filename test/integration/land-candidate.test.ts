import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError } from '../../src/git/exec.js';
import { buildCandidate, type Candidate, type CandidateInput } from '../../src/land/candidate.js';
import { cleanupAll, makeRepo, run, tempDir, testEnv, wrapRepo, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

// buildCandidate runs git with this process's environment: take the caller's git variables and global config
// away, so the committer is the test repository's configured identity and nothing else steers git
beforeAll(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
});

/** Files to write (string or bytes), or delete (null), then commit everything with `message`; returns the commit. */
function commit(repo: TestRepo, files: Record<string, string | Buffer | null>, message: string, env?: NodeJS.ProcessEnv): string {
  for (const [file, content] of Object.entries(files)) {
    const p = path.join(repo.dir, file);
    if (content === null) fs.rmSync(p);
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '--allow-empty', '--cleanup=verbatim', '-F', '-'], { input: message, env: env ? testEnv(env) : undefined });
  return rev(repo, 'HEAD');
}

function rev(repo: TestRepo, name: string): string {
  return repo.git(['rev-parse', name]).trim();
}

/** A commit object's raw bytes. */
function rawCommit(dir: string, sha: string): Buffer {
  const r = spawnSync('git', ['cat-file', 'commit', sha], { cwd: dir, env: testEnv() });
  if (r.status !== 0) throw new Error(String(r.stderr));
  return r.stdout;
}

/** A commit's headers (as lines) and exact message bytes. */
function commitParts(dir: string, sha: string): { headers: string[]; message: Buffer } {
  const raw = rawCommit(dir, sha);
  const end = raw.indexOf('\n\n');
  return { headers: raw.subarray(0, end).toString('latin1').split('\n'), message: raw.subarray(end + 2) };
}

function header(dir: string, sha: string, name: string): string[] {
  return commitParts(dir, sha)
    .headers.filter((h) => h.startsWith(`${name} `))
    .map((h) => h.slice(name.length + 1));
}

/** Everything a candidate build must leave alone: work tree status, index bytes, HEAD, refs, files in the git dir. */
function snapshot(repo: TestRepo): unknown {
  const gitDir = repo.git(['rev-parse', '--path-format=absolute', '--git-dir']).trim();
  const index = path.join(gitDir, 'index');
  return {
    status: repo.git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored']),
    index: fs.existsSync(index) ? fs.readFileSync(index).toString('base64') : null,
    head: repo.gitRun(['rev-parse', 'HEAD']).stdout,
    symbolicHead: repo.gitRun(['symbolic-ref', '-q', 'HEAD']).stdout,
    refs: repo.git(['for-each-ref', '--format=%(refname) %(objectname)']),
    gitDirEntries: fs.readdirSync(gitDir).sort(),
  };
}

/** buildCandidate with the repository's task defaults, checking that nothing but objects was written. */
function build(repo: TestRepo, base: string, c: string, extra: Partial<CandidateInput> = {}): Candidate {
  const before = snapshot(repo);
  let result: Candidate | undefined;
  let error: unknown;
  try {
    result = buildCandidate({ cwd: repo.dir, base, commit: c, task: 't-1', trailerKey: 'Task-Id', addTrailer: false, recordOrigin: false, ...extra });
  } catch (e) {
    error = e;
  }
  expect(snapshot(repo)).toEqual(before);
  if (error) throw error;
  return result!;
}

function ready(c: Candidate): { commit: string; tree: string; reused: boolean } {
  if (c.kind !== 'ready') throw new Error(`expected a ready candidate, got ${JSON.stringify(c)}`);
  return c;
}

/** What a real `git cherry-pick <c>` onto `base` gives, done in a throwaway clone that shares the objects. */
function cherryPick(repo: TestRepo, base: string, c: string, args: readonly string[] = []): { tree: string; message: Buffer } {
  const dir = path.join(tempDir('omni-ship-pick-'), 'clone');
  const r = run('git', ['clone', '-q', '--shared', '--no-checkout', repo.dir, dir], { cwd: path.dirname(dir) });
  if (r.code !== 0) throw new Error(r.stderr);
  const clone = wrapRepo(dir);
  clone.git(['checkout', '-q', '--detach', base]);
  clone.git(['cherry-pick', ...args, c]);
  return { tree: rev(clone, 'HEAD^{tree}'), message: commitParts(dir, rev(clone, 'HEAD')).message };
}

/** A repository whose main moved on after branch `task` took one commit; returns base tip and task commit. */
function movedOn(
  taskFiles: Record<string, string | Buffer | null>,
  baseFiles: Record<string, string | Buffer | null>,
  setup: Record<string, string | Buffer | null> = {},
): { repo: TestRepo; base: string; c: string } {
  const repo = makeRepo();
  if (Object.keys(setup).length) commit(repo, setup, 'setup\n');
  repo.git(['switch', '-q', '-c', 'task']);
  const c = commit(repo, taskFiles, 'task change\n\nwhy it matters\n');
  repo.git(['switch', '-q', 'main']);
  const base = commit(repo, baseFiles, 'unrelated\n');
  return { repo, base, c };
}

describe('buildCandidate', () => {
  it('reuses the task commit itself when its parent is the base tip, touching nothing in a dirty work tree', () => {
    const repo = makeRepo();
    const base = rev(repo, 'HEAD');
    repo.git(['switch', '-q', '-c', 'task']);
    const c = commit(repo, { 'a.txt': 'a\n' }, 'add a\n');
    repo.write('README', 'edited, unstaged\n');
    repo.write('staged.txt', 'staged\n');
    repo.git(['add', 'staged.txt']);
    repo.write('untracked.txt', 'untracked\n');
    expect(build(repo, base, c)).toEqual({ kind: 'ready', commit: c, tree: rev(repo, `${c}^{tree}`), reused: true });
    // from the common git dir too, and with names rather than ids
    const fromGitDir = buildCandidate({ cwd: path.join(repo.dir, '.git'), base: 'main', commit: 'task', task: 't-1', trailerKey: 'Task-Id', addTrailer: false, recordOrigin: false });
    expect(fromGitDir).toEqual({ kind: 'ready', commit: c, tree: rev(repo, `${c}^{tree}`), reused: true });
  });

  it('base moved on with unrelated changes: the tree a real cherry-pick makes, on the base, the work tree untouched', () => {
    const { repo, base, c } = movedOn({ 'lines.txt': '1\nTASK\n3\n4\n5\n6\n7\n' }, { 'lines.txt': '1\n2\n3\n4\n5\n6\nBASE\n', 'other.txt': 'o\n' }, { 'lines.txt': '1\n2\n3\n4\n5\n6\n7\n' });
    repo.write('untracked.txt', 'x\n');
    const got = ready(build(repo, base, c));
    expect(got.reused).toBe(false);
    expect(got.tree).toBe(cherryPick(repo, base, c).tree);
    expect(repo.git(['show', `${got.tree}:lines.txt`])).toBe('1\nTASK\n3\n4\n5\n6\nBASE\n');
    expect(header(repo.dir, got.commit, 'parent')).toEqual([base]);
    expect(header(repo.dir, got.commit, 'tree')).toEqual([got.tree]);
    expect(rev(repo, 'main')).toBe(base);
  });

  it('base moved on touching the same lines: a conflict listing exactly the paths, the base untouched', () => {
    const { repo, base, c } = movedOn({ 'f.txt': 'task\n', 'clean.txt': 'task only\n' }, { 'f.txt': 'base\n' }, { 'f.txt': 'orig\n' });
    const got = build(repo, base, c);
    expect(got).toMatchObject({ kind: 'conflict', paths: ['f.txt'] });
    expect(got.kind === 'conflict' && got.message).toMatch(/^t-1: [0-9a-f]{12} conflicts with [0-9a-f]{12} in f\.txt; /);
    expect(rev(repo, 'main')).toBe(base);
  });

  it('lists conflicted paths with spaces and newlines exactly, and a modify/delete conflict', () => {
    const nl = 'new\nline.txt';
    const { repo, base, c } = movedOn(
      { 'a b.txt': 'task\n', [nl]: 'task\n', 'gone.txt': 'task edit\n' },
      { 'a b.txt': 'base\n', [nl]: 'base\n', 'gone.txt': null },
      { 'a b.txt': 'orig\n', [nl]: 'orig\n', 'gone.txt': 'orig\n' },
    );
    const got = build(repo, base, c);
    if (got.kind !== 'conflict') throw new Error(JSON.stringify(got));
    expect(got.paths).toEqual(['a b.txt', 'gone.txt', nl]);
    expect(got.message).toContain('"new\\nline.txt"');
  });

  it('the change already in the base: empty', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 'task']);
    const c = commit(repo, { 'a.txt': 'a\n' }, 'add a\n');
    repo.git(['switch', '-q', 'main']);
    commit(repo, { 'a.txt': 'a\n' }, 'someone landed the same change\n');
    const base = commit(repo, { 'b.txt': 'b\n' }, 'then more\n');
    const got = build(repo, base, c);
    expect(got).toMatchObject({ kind: 'empty' });
    expect(got.kind === 'empty' && got.message).toMatch(/^t-1: nothing to land/);
    // and C already in the base's history (the merge base is C itself)
    expect(build(repo, 'main', 'main~1', { addTrailer: true })).toMatchObject({ kind: 'empty' });
  });

  it("C's parent not an ancestor of the base (base amended after branching): the real cherry-pick's tree", () => {
    const repo = makeRepo();
    commit(repo, { 'a.txt': 'v1\n' }, 'add a\n');
    repo.git(['switch', '-q', '-c', 'task']);
    const c = commit(repo, { 'b.txt': 'task\n' }, 'add b\n');
    repo.git(['switch', '-q', 'main']);
    repo.write('a.txt', 'v2\n');
    repo.git(['commit', '-q', '-a', '--amend', '-m', 'add a, amended']);
    const base = rev(repo, 'HEAD');
    expect(repo.gitRun(['merge-base', '--is-ancestor', `${c}~1`, base]).code).toBe(1);
    // a plain merge-tree of base and C would merge from the initial commit and meet an add/add conflict in a.txt
    const got = ready(build(repo, base, c));
    const picked = cherryPick(repo, base, c);
    expect(got.tree).toBe(picked.tree);
    expect(repo.git(['show', `${got.tree}:a.txt`])).toBe('v2\n');
    expect(header(repo.dir, got.commit, 'parent')).toEqual([base]);
    expect(rev(repo, 'main')).toBe(base);
  });

  it('C on another line conflicting with the base through the constructed merge base', () => {
    const repo = makeRepo();
    commit(repo, { 'f.txt': 'orig\n' }, 'f\n');
    repo.git(['switch', '-q', '-c', 'task']);
    const c = commit(repo, { 'f.txt': 'task\n' }, 'task f\n');
    repo.git(['switch', '-q', 'main']);
    repo.write('f.txt', 'amended\n');
    repo.git(['commit', '-q', '-a', '--amend', '-m', 'f amended']);
    expect(build(repo, 'main', c)).toMatchObject({ kind: 'conflict', paths: ['f.txt'] });
  });

  it('a root commit C lands as a real cherry-pick of it would', () => {
    const repo = makeRepo();
    commit(repo, { 'shared.txt': 'base\n' }, 'base file\n');
    const base = rev(repo, 'HEAD');
    repo.git(['switch', '-q', '--orphan', 'task']);
    const c = commit(repo, { 'root.txt': 'root\n' }, 'root commit\n');
    expect(header(repo.dir, c, 'parent')).toEqual([]);
    repo.git(['switch', '-q', 'main']);
    const got = ready(build(repo, base, c));
    expect(got.tree).toBe(cherryPick(repo, base, c).tree);
    expect(repo.git(['ls-tree', '--name-only', got.tree]).split('\n').filter(Boolean)).toEqual(['README', 'root.txt', 'shared.txt']);
  });

  it('file modes, a rename the base edited, a deletion and a binary file: the real cherry-pick tree, by both routes', () => {
    const setup = { 'script.sh': '#!/bin/sh\necho hi\n', 'old.txt': 'one\ntwo\nthree\nfour\nfive\nsix\n', 'doomed.txt': 'bye\n', 'img.bin': Buffer.from([0, 1, 2, 255, 0, 3]) };
    const repo = makeRepo();
    commit(repo, setup, 'setup\n');
    repo.git(['switch', '-q', '-c', 'task']);
    fs.chmodSync(path.join(repo.dir, 'script.sh'), 0o755);
    repo.git(['mv', 'old.txt', 'new.txt']);
    fs.rmSync(path.join(repo.dir, 'doomed.txt'));
    fs.writeFileSync(path.join(repo.dir, 'img.bin'), Buffer.from([0, 9, 9, 255, 0, 3, 7]));
    repo.git(['add', '-A']);
    repo.git(['commit', '-q', '-m', 'mode, rename, delete, binary']);
    const task = rev(repo, 'HEAD');
    repo.git(['switch', '-q', 'main']);
    const base = commit(repo, { 'old.txt': 'one\ntwo\nthree\nfour\nfive\nSIX\n', 'base.txt': 'b\n' }, 'base edits old.txt\n');

    const got = ready(build(repo, base, task));
    expect(got.tree).toBe(cherryPick(repo, base, task).tree);
    const entries = repo.git(['ls-tree', got.tree]);
    expect(entries).toMatch(/^100755 blob \S+\tscript\.sh$/m);
    expect(entries).not.toMatch(/\told\.txt$|\tdoomed\.txt$/m);
    expect(repo.git(['show', `${got.tree}:new.txt`])).toBe('one\ntwo\nthree\nfour\nfive\nSIX\n');
    expect(rev(repo, `${got.tree}:img.bin`)).toBe(rev(repo, `${task}:img.bin`));

    // the same change over a rewritten base (the setup and base commits squashed) goes through the constructed merge base
    repo.git(['switch', '-q', '--detach', 'main~2']);
    repo.git(['checkout', '-q', 'main', '--', '.']);
    repo.git(['commit', '-q', '-m', 'setup and base edit, squashed']);
    const rewritten = rev(repo, 'HEAD');
    repo.git(['switch', '-q', 'main']);
    expect(repo.gitRun(['merge-base', '--is-ancestor', `${task}~1`, rewritten]).code).toBe(1);
    const again = ready(build(repo, rewritten, task));
    expect(again.tree).toBe(cherryPick(repo, rewritten, task).tree);
    expect(again.tree).toBe(got.tree);
  });

  it('keeps the message and the author (name, email, date) byte for byte; the committer is the current identity', () => {
    const author = { GIT_AUTHOR_NAME: 'Zoë Ünïcode-Ñame', GIT_AUTHOR_EMAIL: 'zoë@exämple.com', GIT_AUTHOR_DATE: '1234567890 +0530' };
    const message = 'Ünïcode subject — ✓\n\nbody with  trailing spaces  \n\t tab line\n\n\n';
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 'task']);
    const c = commit(repo, { 'a.txt': 'a\n' }, message, author);
    repo.git(['switch', '-q', 'main']);
    const base = commit(repo, { 'b.txt': 'b\n' }, 'other\n');
    repo.git(['config', 'user.name', 'Integrator Person']);
    repo.git(['config', 'user.email', 'integrator@example.com']);
    const before = Math.floor(Date.now() / 1000);
    const got = ready(build(repo, base, c));
    const after = Math.ceil(Date.now() / 1000);
    const landed = commitParts(repo.dir, got.commit);
    expect(landed.message.equals(Buffer.from(message, 'utf8'))).toBe(true);
    expect(header(repo.dir, got.commit, 'author')).toEqual(header(repo.dir, c, 'author'));
    expect(Buffer.from(header(repo.dir, got.commit, 'author')[0]!, 'latin1').toString('utf8')).toBe('Zoë Ünïcode-Ñame <zoë@exämple.com> 1234567890 +0530');
    const committer = header(repo.dir, got.commit, 'committer')[0]!;
    const m = /^Integrator Person <integrator@example\.com> (\d+) [+-]\d{4}$/.exec(committer);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(before);
    expect(Number(m![1])).toBeLessThanOrEqual(after);
    expect(header(repo.dir, got.commit, 'encoding')).toEqual([]);
  });

  it('keeps a non-UTF-8 message and its encoding header, whatever the integrator sets', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 'task']);
    const latin1 = Buffer.from('caf\xe9 cr\xe8me\n\nna\xefve body\n', 'latin1');
    fs.writeFileSync(path.join(repo.dir, 'a.txt'), 'a\n');
    const msgFile = path.join(tempDir(), 'msg');
    fs.writeFileSync(msgFile, latin1);
    repo.git(['add', 'a.txt']);
    repo.git(['-c', 'i18n.commitEncoding=ISO-8859-1', 'commit', '-q', '-F', msgFile]);
    const c = rev(repo, 'HEAD');
    expect(header(repo.dir, c, 'encoding')).toEqual(['ISO-8859-1']);
    repo.git(['switch', '-q', 'main']);
    const base = commit(repo, { 'b.txt': 'b\n' }, 'other\n');
    const got = ready(build(repo, base, c));
    expect(header(repo.dir, got.commit, 'encoding')).toEqual(['ISO-8859-1']);
    expect(commitParts(repo.dir, got.commit).message.equals(latin1)).toBe(true);

    // a UTF-8 message stays unlabelled even when the integrator's own commits are ISO-8859-1
    repo.git(['switch', '-q', '-c', 'task2', `${base}~1`]);
    const c2 = commit(repo, { 'd.txt': 'd\n' }, 'ünïcode\n');
    repo.git(['switch', '-q', 'main']);
    repo.git(['config', 'i18n.commitEncoding', 'ISO-8859-1']);
    const got2 = ready(build(repo, base, c2));
    expect(header(repo.dir, got2.commit, 'encoding')).toEqual([]);
    expect(commitParts(repo.dir, got2.commit).message.equals(Buffer.from('ünïcode\n', 'utf8'))).toBe(true);
  });

  describe('addTrailer', () => {
    const cases: Array<[string, string, string]> = [
      ['a body and no trailers', 'subject\n\nbody\n', 'subject\n\nbody\n\nTask-Id: t-1\n'],
      ['a Signed-off-by block', 'subject\n\nbody\n\nSigned-off-by: A <a@example.com>\n', 'subject\n\nbody\n\nSigned-off-by: A <a@example.com>\nTask-Id: t-1\n'],
      ['a subject only, no final newline', 'subject', 'subject\n\nTask-Id: t-1\n'],
      ['trailers git would reformat', 'subject\n\nReviewed-by:x\nSigned-off-by:  B <b@x>  \n', 'subject\n\nReviewed-by:x\nSigned-off-by:  B <b@x>  \nTask-Id: t-1\n'],
      ['a --- line in the body', 'subject\n\nbody\n---\nmore\n', 'subject\n\nbody\n---\nmore\n\nTask-Id: t-1\n'],
      ['the trailer already there', 'subject\n\nTask-Id: t-1\n', 'subject\n\nTask-Id: t-1\n'],
    ];
    for (const [name, message, expected] of cases) {
      it(`puts Task-Id: t-1 in the trailer block exactly once: ${name}`, () => {
        const repo = makeRepo();
        const base = rev(repo, 'HEAD');
        repo.git(['switch', '-q', '-c', 'task']);
        const c = commit(repo, { 'a.txt': 'a\n' }, message);
        const got = ready(build(repo, base, c, { addTrailer: true }));
        expect(got.reused).toBe(false);
        expect(header(repo.dir, got.commit, 'parent')).toEqual([base]);
        expect(commitParts(repo.dir, got.commit).message.toString('utf8')).toBe(expected);
        // git itself reads exactly one Task-Id trailer, with the task's value
        expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly,separator=%x2C)', got.commit]).trim()).toBe('t-1');
      });
    }
  });

  describe('recordOrigin', () => {
    const messages: Array<[string, string]> = [
      ['a body', 'subject\n\nbody\n'],
      ['a Signed-off-by block', 'subject\n\nbody\n\nSigned-off-by: A <a@example.com>\n'],
      ['a subject only', 'subject\n'],
      ['no final newline', 'subject\n\nbody'],
      ['a non-trailer last paragraph with a colon', 'subject\n\nnote: this is prose, not a trailer at all because it goes on\nand on\n'],
    ];
    for (const [name, message] of messages) {
      it(`adds the origin line as git cherry-pick -x does: ${name}`, () => {
        const { repo, base } = movedOn({ 'x.txt': 'x\n' }, { 'y.txt': 'y\n' });
        repo.git(['switch', '-q', 'task']);
        const c = commit(repo, { 'z.txt': 'z\n' }, message);
        repo.git(['switch', '-q', 'main']);
        const got = ready(build(repo, base, `${c}`, { recordOrigin: true }));
        const picked = cherryPick(repo, base, c, ['-x']);
        expect(commitParts(repo.dir, got.commit).message.toString('utf8')).toBe(picked.message.toString('utf8'));
        expect(got.tree).toBe(picked.tree);
      });
    }

    it('with the parent at the base tip the candidate is a new commit; with addTrailer the origin follows the trailer', () => {
      const repo = makeRepo();
      const base = rev(repo, 'HEAD');
      repo.git(['switch', '-q', '-c', 'task']);
      const c = commit(repo, { 'a.txt': 'a\n' }, 'subject\n\nbody\n');
      const got = ready(build(repo, base, c, { recordOrigin: true, addTrailer: true }));
      expect(got.reused).toBe(false);
      expect(got.commit).not.toBe(c);
      expect(got.tree).toBe(rev(repo, `${c}^{tree}`));
      expect(commitParts(repo.dir, got.commit).message.toString('utf8')).toBe(`subject\n\nbody\n\nTask-Id: t-1\n(cherry picked from commit ${c})\n`);
    });
  });

  it('an unknown base throws a GitError and writes nothing', () => {
    const repo = makeRepo();
    expect(() => build(repo, 'no-such-branch', 'HEAD')).toThrow(GitError);
  });
});
