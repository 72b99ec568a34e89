import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOKS, snapshot, track } from '../helpers/hooks.js';
import { binPath, cleanupAll, makeRepo, omniShip, run, tempDir, testEnv } from '../helpers/repo.js';

// `"prepare": "omni-ship install-hooks"` in package.json runs wherever `npm install` runs: in a CI job or a Docker
// build without .git too. There it must not fail the install; run by hand it still says what is wrong.

afterAll(() => cleanupAll());

/** The environment without npm's lifecycle variables (the tests themselves may run under `npx` or `npm test`). */
function byHand(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = testEnv();
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];
  return { ...env, ...extra };
}

/** The variables npm sets when it runs a package's lifecycle script. */
function underNpm(event: string, pkgDir: string, initCwd = pkgDir): NodeJS.ProcessEnv {
  return byHand({
    npm_lifecycle_event: event,
    npm_lifecycle_script: 'omni-ship install-hooks',
    npm_package_json: path.join(pkgDir, 'package.json'),
    INIT_CWD: initCwd,
  });
}

function packageDir(dir = tempDir('omni-ship-pkg-')): string {
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, scripts: { prepare: `node ${binPath} install-hooks` } }, null, 2)}\n`,
  );
  return dir;
}

describe('install-hooks from an npm lifecycle script', () => {
  it('outside a git repository: exit 0 with a notice, nothing written; by hand (or through npx) still exit 2', () => {
    const dir = packageDir();
    const before = snapshot(dir);
    for (const event of ['prepare', 'postinstall']) {
      const r = omniShip(['install-hooks'], { cwd: dir, env: underNpm(event, dir) });
      expect(r.code, event).toBe(0);
      expect(r.stdout).toContain(`hooks not installed: not a git repository: ${dir}`);
      expect(r.stdout).toContain(`run by npm's "${event}" script`);
      expect(r.stderr).toBe('');
      expect(snapshot(dir)).toEqual(before);
    }
    const json = omniShip(['install-hooks', '--json'], { cwd: dir, env: underNpm('prepare', dir) });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      skipped: true,
      why: 'no-repository',
      lifecycleEvent: 'prepare',
      message: `not a git repository: ${dir}`,
    });

    // npx sets npm_lifecycle_event=npx: that is a person running it
    for (const env of [byHand(), underNpm('npx', dir)]) {
      const r = omniShip(['install-hooks'], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not a git repository');
      expect(r.stdout).toBe('');
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it('a real `npm run prepare`: skips outside a repository, installs inside one', () => {
    const env = byHand({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_offline: 'true' });
    const outside = packageDir();
    const r = run('npm', ['run', 'prepare'], { cwd: outside, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hooks not installed: not a git repository');
    expect(fs.readdirSync(outside)).toEqual(['package.json']);

    const repo = track(makeRepo());
    packageDir(repo.dir);
    const inside = run('npm', ['run', 'prepare'], { cwd: repo.dir, env });
    expect(inside.code).toBe(0);
    expect(inside.stdout).toContain('installed omni-ship hooks');
    for (const name of HOOKS) expect(fs.existsSync(path.join(repo.dir, '.git', 'hooks', name)), name).toBe(true);
  });

  it('a bare repository, or a directory inside the git dir: exit 0 with a notice under npm, exit 2 by hand', () => {
    const bare = tempDir('omni-ship-bare-');
    run('git', ['init', '-q', '--bare', bare], { cwd: bare });
    const repo = makeRepo();
    for (const dir of [bare, path.join(repo.dir, '.git')]) {
      const before = snapshot(dir);
      const r = omniShip(['install-hooks'], { cwd: dir, env: underNpm('prepare', dir) });
      expect(r.code, dir).toBe(0);
      expect(r.stdout).toContain('hooks not installed:');
      expect(r.stdout).toContain('no work tree');
      expect(snapshot(dir)).toEqual(before);
      const h = omniShip(['install-hooks'], { cwd: dir, env: byHand() });
      expect(h.code).toBe(2);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  it('a dependency’s install script (its package under node_modules of a repository) leaves that repository’s hooks alone', () => {
    const repo = makeRepo();
    const dep = path.join(repo.dir, 'node_modules', 'some-dep');
    fs.mkdirSync(dep, { recursive: true });
    packageDir(dep);
    const before = snapshot(path.join(repo.dir, '.git'));
    for (const event of ['postinstall', 'prepare']) {
      const r = omniShip(['install-hooks'], { cwd: dep, env: underNpm(event, dep, repo.dir) });
      expect(r.code, event).toBe(0);
      expect(r.stdout).toContain('hooks not installed:');
      expect(r.stdout).toContain(`${dep} is a dependency`);
      expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
    }
  });
});
