import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigOrPrevious, UntrustedConfigError } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { message, settleDrainers, track } from '../helpers/hooks.js';
import { cleanupAll, makeRemote, makeRepo, tempDir, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

/** A CommonJS config that appends one "x" to `marker` each time it is executed. */
function markingConfig(marker: string, trailerKey: string): string {
  return `require('fs').appendFileSync(${JSON.stringify(marker)}, 'x');\nmodule.exports = { trailerKey: ${JSON.stringify(trailerKey)} };\n`;
}

/** How many times the config holding `marker` was executed. */
const runs = (marker: string) => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').length : 0);

/** The state dir omni-ship keeps for `repo`. */
const stateDirOf = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship');

describe('a JavaScript config that arrives with a merge is not run by hooks or background processes', () => {
  it('pulled, then committed on: never executed until an omni-ship command runs it; then the hooks use its values', async () => {
    const remote = makeRemote();
    const mine = track(remote.clone('mine'));
    const install = mine.omni(['install-hooks']);
    expect(install.code).toBe(0);
    mine.git(['commit', '-q', '--allow-empty', '-m', 'local work']);

    const marker = path.join(tempDir('omni-ship-marker-'), 'ran');
    const theirs = remote.clone('theirs');
    theirs.git(['switch', '-q', '-c', 'feature']);
    theirs.write('.omni-shiprc.cjs', markingConfig(marker, 'Cjs-Task'));
    theirs.git(['add', '.omni-shiprc.cjs']);
    theirs.git(['commit', '-q', '-m', 'add a config']);
    theirs.git(['push', '-q', 'origin', 'feature']);

    // a real merge: commit-msg (refresh-config) and post-merge (the drainer) both run
    const pull = mine.gitRun(['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'feature'], { env: testEnv() });
    expect(pull.code).toBe(0);
    expect(fs.existsSync(path.join(mine.dir, '.omni-shiprc.cjs'))).toBe(true);
    expect(mine.git(['rev-list', '--count', '--merges', 'HEAD']).trim()).toBe('1');
    expect(await waitForDrain(mine)).toBe(true);
    expect(runs(marker)).toBe(0);

    // the next commit: the hook says why it keeps the previous settings, and still tags the commit
    mine.git(['switch', '-q', '-c', 't-1']);
    const file = path.join(mine.dir, '.omni-shiprc.cjs');
    const commit = mine.gitRun(['commit', '-q', '--allow-empty', '-m', 'first'], { env: testEnv() });
    expect(commit.code).toBe(0);
    expect(commit.stderr).toContain(`omni-ship: ${file}: not loaded: this config is JavaScript, which executes code, and no omni-ship command has run this version of it in this clone`);
    expect(commit.stderr).toContain('hint: review it, then run any omni-ship command to load it (e.g. npx omni-ship config)');
    expect(message(mine)).toBe('first\n\nTask-Id: t-1\n');
    expect(await waitForDrain(mine)).toBe(true);
    expect(runs(marker)).toBe(0);
    expect(fs.readFileSync(path.join(stateDirOf(mine), 'hooks.log'), 'utf8')).toContain(`${file}: not loaded`);
    // and the drainer, like the hook, goes on with the previous settings: the commit is a patchset all the same
    expect(mine.git(['notes', '--ref=refs/notes/omni-ship/patchsets', 'show', 'HEAD'])).toContain('"task":"t-1"');

    // the user runs it: once
    const config = mine.omni(['config', '--json']);
    expect(config.code).toBe(0);
    expect(runs(marker)).toBe(1);
    expect((JSON.parse(config.stdout) as { values: { trailerKey: { value: string } } }).values.trailerKey.value).toBe('Cjs-Task');

    // now the hooks use its values, without running it again
    const next = mine.gitRun(['commit', '-q', '--allow-empty', '-m', 'second'], { env: testEnv() });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(message(mine)).toBe('second\n\nCjs-Task: t-1\n');
    expect(await waitForDrain(mine)).toBe(true);
    expect(runs(marker)).toBe(1);
    expect(mine.git(['notes', '--ref=refs/notes/omni-ship/patchsets', 'show', 'HEAD'])).toContain('"task":"t-1"');

    // changed bytes are not the ones the user ran: untrusted again
    fs.appendFileSync(file, '// changed\n');
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(file, future, future);
    const third = mine.gitRun(['commit', '-q', '--allow-empty', '-m', 'third'], { env: testEnv() });
    expect(third.code).toBe(0);
    expect(third.stderr).toContain(`${file}: not loaded`);
    expect(await waitForDrain(mine)).toBe(true);
    expect(runs(marker)).toBe(1);
  });
});

describe('loadConfig with codeTrust "require" (what hooks and background processes call)', () => {
  it('refuses a JavaScript config no omni-ship command ran, loads data formats, and takes a JS config once it was run', async () => {
    const repo = makeRepo();
    const stateDir = stateDirOf(repo);
    const marker = path.join(tempDir('omni-ship-marker-'), 'ran');
    repo.write('omni-ship.config.cjs', markingConfig(marker, 'Js-Task'));
    const file = path.join(repo.dir, 'omni-ship.config.cjs');
    let caught: unknown;
    try {
      await loadConfig(repo.dir, repo.dir, { codeTrust: 'require', stateDir });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UntrustedConfigError);
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).exitCode).toBe(2);
    expect((caught as UserError).message).toBe(
      `${file}: not loaded: this config is JavaScript, which executes code, and no omni-ship command has run this version of it in this clone`,
    );
    expect((caught as UntrustedConfigError).file).toBe(file);
    expect(runs(marker)).toBe(0);
    // nothing written by a refusal
    expect(fs.existsSync(stateDir)).toBe(false);

    // a foreground load runs it and records it
    const fg = await loadConfig(repo.dir, repo.dir);
    expect(fg.config.trailerKey).toBe('Js-Task');
    expect(runs(marker)).toBe(1);
    const bg = await loadConfig(repo.dir, repo.dir, { codeTrust: 'require', stateDir });
    expect(bg.config.trailerKey).toBe('Js-Task');
    expect(bg.file).toBe(file);
    expect(runs(marker)).toBe(1);

    // a data format is always loaded
    fs.rmSync(file);
    repo.write('.omni-shiprc.yaml', 'trailerKey: Yaml-Task\n');
    expect((await loadConfig(repo.dir, repo.dir, { codeTrust: 'require', stateDir })).config.trailerKey).toBe('Yaml-Task');
  });

  it('the trust is for the exact path: the same bytes under another name are not trusted', async () => {
    const repo = makeRepo();
    const stateDir = stateDirOf(repo);
    repo.write('.omni-shiprc.cjs', "module.exports = { trailerKey: 'A' };\n");
    await loadConfig(repo.dir, repo.dir);
    fs.renameSync(path.join(repo.dir, '.omni-shiprc.cjs'), path.join(repo.dir, '.omni-shiprc.js'));
    await expect(loadConfig(repo.dir, repo.dir, { codeTrust: 'require', stateDir })).rejects.toBeInstanceOf(UntrustedConfigError);
  });
});

describe('a JavaScript config where the run cannot be recorded', () => {
  it('a foreground command still answers (the state dir is unusable): only the hooks go without this version', () => {
    const repo = makeRepo();
    // a file where the state dir belongs: nothing can be written there, as in a read-only .git
    fs.writeFileSync(stateDirOf(repo), 'not a directory\n');
    repo.write('.omni-shiprc.cjs', "module.exports = { trailerKey: 'Js-Task' };\n");
    const r = repo.omni(['config', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { values: { trailerKey: { value: string } } }).values.trailerKey.value).toBe('Js-Task');
    expect(repo.omni(['trailer', 't-1']).stdout).toBe('Js-Task: t-1\n');
  });
});

describe('loadConfigOrPrevious (the background drainer)', () => {
  it('the current config when it loads; else the previous good values; else the defaults; never throws', async () => {
    const repo = makeRepo();
    const stateDir = stateDirOf(repo);
    const yaml = path.join(repo.dir, '.omni-shiprc.yaml');

    // nothing there yet, and a broken config: the defaults, with the reason
    repo.write('.omni-shiprc.yaml', 'trailerKey: [\n');
    const none = await loadConfigOrPrevious(repo.dir, stateDir);
    expect(none.config.trailerKey).toBe('Task-Id');
    expect(none.config.baseBranch).toBe('main');
    expect(none.file).toBeNull();
    expect(none.fallback?.reason).toContain(`${yaml}: cannot parse the config (YAML)`);
    expect(none.fallback?.reason).toContain('the defaults');

    // a good config: used, and remembered
    repo.write('.omni-shiprc.yaml', 'trailerKey: Good-Task\nrequireTaskId: true\n');
    const good = await loadConfigOrPrevious(repo.dir, stateDir);
    expect(good.fallback).toBeNull();
    expect(good.file).toBe(yaml);
    expect(good.config).toMatchObject({ trailerKey: 'Good-Task', requireTaskId: true, baseBranch: 'main', remote: null });
    expect(JSON.parse(fs.readFileSync(path.join(stateDir, 'last-config.json'), 'utf8'))).toMatchObject({
      file: yaml,
      values: { trailerKey: 'Good-Task', requireTaskId: true },
    });

    // an invalid one: the previous values, and why
    repo.write('.omni-shiprc.yaml', 'trailerKey: 5\n');
    const bad = await loadConfigOrPrevious(repo.dir, stateDir);
    expect(bad.config).toMatchObject({ trailerKey: 'Good-Task', requireTaskId: true, baseBranch: 'main' });
    expect(bad.file).toBe(yaml);
    expect(bad.fallback?.reason).toContain(`${yaml}: 'trailerKey' must be a string`);
    expect(bad.fallback?.reason).toContain(`the previous settings (from ${yaml})`);

    // an untrusted JavaScript config: the previous values, not executed
    fs.rmSync(yaml);
    const marker = path.join(tempDir('omni-ship-marker-'), 'ran');
    repo.write('.omni-shiprc.cjs', markingConfig(marker, 'Evil-Task'));
    const untrusted = await loadConfigOrPrevious(repo.dir, stateDir);
    expect(untrusted.config.trailerKey).toBe('Good-Task');
    expect(untrusted.fallback?.reason).toContain('not loaded: this config is JavaScript');
    expect(runs(marker)).toBe(0);

    // a previous record that is itself unreadable: the defaults
    fs.writeFileSync(path.join(stateDir, 'last-config.json'), '{not json');
    const garbled = await loadConfigOrPrevious(repo.dir, stateDir);
    expect(garbled.config.trailerKey).toBe('Task-Id');
    expect(garbled.file).toBeNull();
    expect(runs(marker)).toBe(0);
  });
});
