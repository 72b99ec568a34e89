import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, projectRoot, run, tempDir, testEnv, type TestRepo } from '../helpers/repo.js';

afterAll(cleanupAll);

/** A copy of the built package (its dist/ may be edited, its cache written, without touching the project's). */
function packageCopy(): string {
  const pkg = tempDir('omni-ship-pkg-');
  for (const part of ['bin', 'dist', 'hooks', 'templates', 'package.json']) fs.cpSync(path.join(projectRoot, part), path.join(pkg, part), { recursive: true });
  fs.rmSync(path.join(pkg, 'dist', '.cache'), { recursive: true, force: true });
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(pkg, 'node_modules'));
  return pkg;
}

const cacheFileOf = (pkg: string) => path.join(pkg, 'dist', '.cache', `main.cjs-${process.version}-${process.arch}.v8`);

function omniIn(pkg: string, repo: TestRepo, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [path.join(pkg, 'bin', 'omni-ship.js'), ...args], { cwd: repo.dir, env: testEnv(env) });
}

function taskRepo(): TestRepo {
  const repo = makeRepo();
  repo.git(['switch', '-q', '-c', 't-3']);
  repo.write('w.txt', 'w\n');
  repo.git(['add', 'w.txt']);
  repo.git(['commit', '-q', '-m', 'work']);
  return repo;
}

describe("the bundle's compile cache (dist/.cache/)", () => {
  it('is written by the first run, names the main.cjs it was made from, and gives the same answers', () => {
    const pkg = packageCopy();
    const repo = taskRepo();
    const cold = omniIn(pkg, repo, ['status', '--json'], { OMNI_SHIP_NO_CACHE: '1' });
    expect(cold.code, cold.stderr).toBe(0);
    // OMNI_SHIP_NO_CACHE: neither read nor written
    expect(fs.existsSync(cacheFileOf(pkg))).toBe(false);
    const first = omniIn(pkg, repo, ['status', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(cold.stdout);
    const data = fs.readFileSync(cacheFileOf(pkg));
    const st = fs.statSync(path.join(pkg, 'dist', 'bundle', 'main.cjs'));
    expect(data.subarray(0, data.indexOf(10)).toString()).toBe(`${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino} status`);
    expect(data.length).toBeGreaterThan(10_000);
    // used, not written again; answers as before, stderr clean (no warning of Node's)
    const second = omniIn(pkg, repo, ['status', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(cold.stdout);
    expect(second.stderr).toBe('');
    expect(fs.readFileSync(cacheFileOf(pkg))).toEqual(data);
    // a command outside the bundle's entry (the cli's chunks, through its import) still runs from it
    const show = omniIn(pkg, repo, ['show', 't-3', '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).id).toBe('t-3');
    expect(omniIn(pkg, repo, ['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a run killed between its temp file and the rename leaves no cache; the next run writes it and removes that temp file', () => {
    const pkg = packageCopy();
    const repo = taskRepo();
    const killed = omniIn(pkg, repo, ['status', '--json'], { OMNI_SHIP_FAILPOINT: 'code-cache:written' });
    expect(killed.code).toBe(128);
    // killed at exit: the answer was printed before
    expect(JSON.parse(killed.stdout).tasks[0]).toMatchObject({ id: 't-3' });
    expect(fs.existsSync(cacheFileOf(pkg))).toBe(false);
    const dir = path.dirname(cacheFileOf(pkg));
    expect(fs.readdirSync(dir)).toEqual([expect.stringMatching(/\.v8\.\d+\.tmp$/)]);
    const next = omniIn(pkg, repo, ['status', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toBe(killed.stdout);
    expect(fs.readdirSync(dir)).toEqual([path.basename(cacheFileOf(pkg))]);
  });

  it('is never used for a main.cjs changed since, even to the same length, and data V8 refuses is made again', () => {
    const pkg = packageCopy();
    const repo = taskRepo();
    expect(omniIn(pkg, repo, ['status', '--json']).code).toBe(0);
    const made = fs.readFileSync(cacheFileOf(pkg));
    // status logic edited in place to a text of the very same length: V8 itself checks only the length
    const main = path.join(pkg, 'dist', 'bundle', 'main.cjs');
    const source = fs.readFileSync(main, 'utf8');
    expect(source).toContain('parent: t.parent,');
    const edited = source.replace('parent: t.parent,', "parent: 'build2',");
    expect(edited.length).toBe(source.length);
    fs.writeFileSync(main, edited);
    const after = omniIn(pkg, repo, ['status', '--json', '--all']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).tasks[0]).toMatchObject({ id: 't-3', parent: 'build2' });
    const remade = fs.readFileSync(cacheFileOf(pkg));
    expect(remade).not.toEqual(made);
    const st = fs.statSync(main);
    expect(remade.subarray(0, remade.indexOf(10)).toString().split(' ')[0]).toBe(`${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`);
    // the right first line over data that is not V8's: refused by V8, compiled anew, written again
    fs.writeFileSync(cacheFileOf(pkg), Buffer.concat([remade.subarray(0, remade.indexOf(10) + 1), Buffer.alloc(5000, 7)]));
    const again = omniIn(pkg, repo, ['status', '--json', '--all']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(after.stdout);
    expect(again.stderr).toBe('');
    expect(fs.readFileSync(cacheFileOf(pkg)).length).toBeGreaterThan(10_000);
  });
});

describe("the build's fingerprint, remembered under its files' signature", () => {
  const memoOf = (repo: TestRepo) => JSON.parse(fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'state-cache', 'build-fingerprint.json'), 'utf8'));

  it('status signs main.cjs alone, the other commands every file; a file changed is found by the next command that signs it', () => {
    const pkg = packageCopy();
    const repo = taskRepo();
    expect(omniIn(pkg, repo, ['status', '--json']).code).toBe(0);
    const first = memoOf(repo);
    expect(first.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(Object.keys(first.signatures).sort()).toEqual(['all', 'entry']);
    // show runs from the cli's chunks and signs every file: the same build, nothing hashed or written again
    expect(omniIn(pkg, repo, ['show', 't-3', '--json']).code).toBe(0);
    expect(memoOf(repo)).toEqual(first);
    // a chunk edited in place (main.cjs untouched): status's own code did not change, and it keeps the hash; the
    // next command run from the chunks finds the change and hashes the build, and status takes that hash after it
    const bundle = path.join(pkg, 'dist', 'bundle');
    const chunk = fs.readdirSync(bundle).find((f) => f.startsWith('chunk-'))!;
    fs.appendFileSync(path.join(bundle, chunk), '\n// edited\n');
    repo.write('x.txt', 'x\n'); // a change, so that status writes its caches
    repo.git(['add', 'x.txt']);
    repo.git(['commit', '-q', '-m', 'more']);
    expect(omniIn(pkg, repo, ['status', '--json']).code).toBe(0);
    expect(memoOf(repo)).toEqual(first);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'more again']);
    expect(omniIn(pkg, repo, ['show', 't-3', '--json']).code).toBe(0);
    const second = memoOf(repo);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.signatures.entry).toBe(first.signatures.entry);
    expect(second.signatures.all).not.toBe(first.signatures.all);
    expect(omniIn(pkg, repo, ['status', '--json']).code).toBe(0);
    expect(memoOf(repo)).toEqual(second);
    // main.cjs edited: status hashes a new build
    fs.appendFileSync(path.join(bundle, 'main.cjs'), '\n// edited\n');
    repo.git(['commit', '-q', '--allow-empty', '-m', 'and again']);
    expect(omniIn(pkg, repo, ['status', '--json']).code).toBe(0);
    const third = memoOf(repo);
    expect(third.fingerprint).not.toBe(second.fingerprint);
    expect(third.signatures.entry).not.toBe(second.signatures.entry);
  });
});
