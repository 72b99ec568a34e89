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
