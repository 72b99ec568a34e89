import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOKS, head, installedRepo, message, script, settleDrainers, snapshot, tempFile, track } from '../helpers/hooks.js';
import { cleanupAll, makeRepo, projectRoot, run, tempDir, testEnv, waitForDrain, wrapRepo, type TestRepo } from '../helpers/repo.js';
import { otherUserCli } from '../helpers/other-user.js';

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const hooksDir = (repo: TestRepo) => path.join(repo.dir, '.git', 'hooks');
const gitConfig = (repo: TestRepo) => fs.readFileSync(path.join(repo.dir, '.git', 'config'));

/** The hook script's code: comment lines dropped and single-quoted strings (messages, the awk program) blanked. */
function unquoted(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/'[^']*'/g, "''");
}

describe('install-hooks', () => {
  it('installs four executable hooks that call node by its absolute path, never npx', () => {
    const repo = track(makeRepo());
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`installed omni-ship hooks in ${hooksDir(repo)}`);
    const entry = fs.realpathSync(path.join(projectRoot, 'bin', 'omni-ship.js'));
    for (const name of HOOKS) {
      const file = path.join(hooksDir(repo), name);
      const st = fs.statSync(file);
      expect(st.mode & 0o111, name).toBe(0o111);
      const text = fs.readFileSync(file, 'utf8');
      expect(text.startsWith('#!/bin/sh\n'), name).toBe(true);
      expect(text).toContain(`_os_node='${process.execPath}'`);
      expect(text).toContain(`_os_entry='${entry}'`);
      expect(text).toContain('"$_os_node" "$_os_entry"');
      const code = unquoted(text);
      expect(code, name).not.toMatch(/\bnpx\b/);
      // the check itself sees the code that starts node
      expect(code).toContain('"$_os_node" "$_os_entry" hook');
      expect(text).not.toMatch(/@OMNI_SHIP_[A-Z_]+@/);
      // dash must accept it
      expect(run('/bin/sh', ['-n', file], { cwd: repo.dir }).code, name).toBe(0);
    }
    expect(repo.git(['config', '--get-all', 'notes.displayRef'])).toBe('refs/notes/omni-ship-landed\n');
    expect(repo.git(['config', '--get-all', 'notes.rewriteRef'])).toBe('refs/notes/omni-ship/patchsets*\n');
    expect(repo.git(['config', '--get-all', 'notes.rewriteMode'])).toBe('cat_sort_uniq\n');
  });

  it('--dry-run prints what it would do and writes nothing', () => {
    const repo = makeRepo();
    repo.write('.git/hooks/commit-msg', '#!/bin/sh\nexit 0\n');
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('dry run: nothing changed');
    expect(r.stdout).toContain('would move .git/hooks/commit-msg to .git/hooks/commit-msg.omni-ship-chained');
    for (const name of HOOKS) expect(r.stdout).toContain(`would write .git/hooks/${name}`);
    expect(r.stdout).toContain('would git config --add notes.displayRef refs/notes/omni-ship-landed');
    expect(r.stdout).toContain('would git config notes.rewriteMode cat_sort_uniq');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);

    const json = repo.omni(['install-hooks', '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout) as { dryRun: boolean; mode: string; actions: { kind: string }[] };
    expect(data.dryRun).toBe(true);
    expect(data.mode).toBe('file');
    expect(data.actions.filter((a) => a.kind === 'write')).toHaveLength(4);
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('reinstalling is idempotent: same files, one chained hook, no duplicated config', () => {
    const repo = track(makeRepo());
    const foreign = '#!/bin/sh\necho foreign >/dev/null\n';
    repo.write('.git/hooks/commit-msg', foreign);
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    const original = gitConfig(repo);

    expect(repo.omni(['install-hooks']).code).toBe(0);
    const first = snapshot(hooksDir(repo));
    const firstConfig = gitConfig(repo);
    const second = repo.omni(['install-hooks']);
    expect(second.code).toBe(0);
    // the same bytes: nothing to update, move or configure
    expect(second.stdout).not.toMatch(/^(update|write|move|git config|create|add) /m);
    expect(second.stdout).toMatch(/^left unchanged \(already up to date\): .*commit-msg/m);
    expect(repo.omni(['install-hooks']).code).toBe(0);

    expect(snapshot(hooksDir(repo))).toEqual(first);
    expect(gitConfig(repo).equals(firstConfig)).toBe(true);
    expect(fs.readdirSync(hooksDir(repo)).filter((f) => f.endsWith('.omni-ship-chained'))).toEqual(['commit-msg.omni-ship-chained']);
    expect(fs.readFileSync(path.join(hooksDir(repo), 'commit-msg.omni-ship-chained'), 'utf8')).toBe(foreign);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'chained'))).toBe(false);
    expect(repo.git(['config', '--get-all', 'notes.displayRef'])).toBe('refs/notes/omni-ship-landed\n');
    expect(repo.git(['config', '--get-all', 'notes.rewriteRef'])).toBe('refs/notes/omni-ship/patchsets*\n');

    // and one uninstall still undoes all of it
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(gitConfig(repo).equals(original)).toBe(true);
    expect(fs.readFileSync(path.join(hooksDir(repo), 'commit-msg'), 'utf8')).toBe(foreign);
  });

  it('refuses to install over a hook that replaced omni-ship’s while its first hook is still kept (exit 3)', () => {
    const repo = track(makeRepo());
    repo.write('.git/hooks/commit-msg', '#!/bin/sh\nexit 0\n');
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    fs.writeFileSync(path.join(hooksDir(repo), 'commit-msg'), '#!/bin/sh\n# another tool\n', { mode: 0o755 });
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('was replaced after omni-ship installed its hook');
    expect(r.stderr).toContain('hint:');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });
});

describe('foreign hooks keep running', () => {
  it('a foreign commit-msg hook runs after omni-ship’s, with the same arguments, and sees the trailer', () => {
    const repo = track(makeRepo());
    const out = tempDir('omni-ship-out-');
    repo.write('.git/hooks/commit-msg', `#!/bin/sh\n{ printf '%s\\n' "$#" "$@"; cat "$1"; } > '${out}/seen'\n`);
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'before install']);
    const argsWithoutOmniShip = fs.readFileSync(path.join(out, 'seen'), 'utf8').split('\n').slice(0, 2);
    expect(argsWithoutOmniShip).toEqual(['1', '.git/COMMIT_EDITMSG']);

    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'after install']);
    const seen = fs.readFileSync(path.join(out, 'seen'), 'utf8');
    expect(seen).toBe(`${argsWithoutOmniShip.join('\n')}\nafter install\n\nTask-Id: t-5\n`);
    expect(message(repo)).toBe('after install\n\nTask-Id: t-5\n');
  });

  it('a foreign commit-msg hook that exits 1 still fails the commit', () => {
    const repo = track(makeRepo());
    repo.write('.git/hooks/commit-msg', '#!/bin/sh\necho foreign-says-no >&2\nexit 1\n');
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.git(['switch', '-q', '-c', 't-5']);
    const before = head(repo);
    const r = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'refused']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('foreign-says-no');
    expect(head(repo)).toBe(before);
  });

  it('a foreign post-rewrite hook gets the same stdin and arguments (amend and rebase)', () => {
    const repo = track(makeRepo());
    const out = tempDir('omni-ship-out-');
    repo.write('.git/hooks/post-rewrite', `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}/args'\ncat > '${out}/stdin'\n`);
    fs.chmodSync(path.join(hooksDir(repo), 'post-rewrite'), 0o700);
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'one']);

    // what git hands the hook without omni-ship, to be sure of the expectation
    let old = head(repo);
    repo.git(['commit', '-q', '--allow-empty', '--amend', '-m', 'one, amended']);
    expect(fs.readFileSync(path.join(out, 'stdin'), 'utf8')).toBe(`${old} ${head(repo)}\n`);

    expect(repo.omni(['install-hooks']).code).toBe(0);
    old = head(repo);
    repo.git(['commit', '-q', '--allow-empty', '--amend', '-m', 'one, amended again']);
    expect(fs.readFileSync(path.join(out, 'args'), 'utf8')).toBe('amend\n');
    expect(fs.readFileSync(path.join(out, 'stdin'), 'utf8')).toBe(`${old} ${head(repo)}\n`);

    // a rebase hands over one line per commit
    repo.git(['commit', '-q', '--allow-empty', '-m', 'two']);
    const olds = repo.git(['rev-list', '--reverse', 'main..HEAD']).trim().split('\n');
    repo.git(['switch', '-q', 'main']);
    repo.write('base.txt', 'moved\n');
    repo.git(['add', 'base.txt']);
    repo.git(['commit', '-q', '-m', 'main moves']);
    repo.git(['switch', '-q', 't-5']);
    repo.git(['rebase', '-q', 'main']);
    const news = repo.git(['rev-list', '--reverse', 'main..HEAD']).trim().split('\n');
    expect(olds).toHaveLength(2);
    expect(fs.readFileSync(path.join(out, 'args'), 'utf8')).toBe('rebase\n');
    expect(fs.readFileSync(path.join(out, 'stdin'), 'utf8')).toBe(`${olds[0]} ${news[0]}\n${olds[1]} ${news[1]}\n`);
  });
});

describe('foreign hooks run from where they were', () => {
  it('a relative symlink, and a hook that finds its helpers and its own name through $0 (husky 4), keep working; uninstall restores them exactly', () => {
    const repo = track(makeRepo());
    const out = tempFile('', 'seen');
    // a hook kept in the work tree and linked relative to .git/hooks
    repo.write('tools/commit-msg', `#!/bin/sh\nprintf 'tool %s %s\\n' "$(basename "$0")" "$1" >> '${out}'\n`);
    fs.chmodSync(path.join(repo.dir, 'tools', 'commit-msg'), 0o755);
    fs.symlinkSync('../../tools/commit-msg', path.join(hooksDir(repo), 'commit-msg'));
    // husky 4: `. "$(dirname "$0")/husky.sh"`, which runs the hook named `basename "$0"`
    repo.write('.git/hooks/husky.sh', `run_hook() { printf 'husky %s %s\\n' "$1" "$2" >> '${out}'; }\n`);
    repo.write('.git/hooks/post-commit', '#!/bin/sh\n. "$(dirname "$0")/husky.sh"\nrun_hook "$(basename "$0")" "$#"\n');
    fs.chmodSync(path.join(hooksDir(repo), 'post-commit'), 0o755);
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'before install']);
    const withoutOmniShip = fs.readFileSync(out, 'utf8');
    expect(withoutOmniShip).toBe('tool commit-msg .git/COMMIT_EDITMSG\nhusky post-commit 0\n');
    const before = snapshot(hooksDir(repo));

    const r = repo.omni(['install-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(hooksDir(repo), 'commit-msg.omni-ship-chained'))).toBe('../../tools/commit-msg');
    fs.writeFileSync(out, '');
    const c = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'after install']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(message(repo)).toBe('after install\n\nTask-Id: t-5\n');
    expect(fs.readFileSync(out, 'utf8')).toBe(withoutOmniShip);

    // its failure still fails the commit
    fs.appendFileSync(path.join(repo.dir, 'tools', 'commit-msg'), 'echo tool-says-no >&2\nexit 1\n');
    const at = head(repo);
    const refused = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'refused']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tool-says-no');
    expect(head(repo)).toBe(at);
    repo.write('tools/commit-msg', `#!/bin/sh\nprintf 'tool %s %s\\n' "$(basename "$0")" "$1" >> '${out}'\n`);

    // reinstall is idempotent
    const installed = snapshot(hooksDir(repo));
    const again = repo.omni(['install-hooks']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('move');
    expect(snapshot(hooksDir(repo))).toEqual(installed);

    const u = repo.omni(['uninstall-hooks']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(snapshot(hooksDir(repo))).toEqual(before);
    expect(fs.lstatSync(path.join(hooksDir(repo), 'commit-msg')).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(hooksDir(repo), 'commit-msg'))).toBe('../../tools/commit-msg');
  });

  it('a bash hook runs with the same $0 too, a program of another kind by its own path beside the hook', () => {
    const repo = track(makeRepo());
    const out = tempFile('', 'seen');
    repo.write('.git/hooks/post-commit', `#!/usr/bin/env bash\nset -e\necho "bash $(basename "$0")" >> '${out}'\n`);
    fs.chmodSync(path.join(hooksDir(repo), 'post-commit'), 0o755);
    repo.write('.git/hooks/post-merge', `#!${process.execPath}\nrequire('fs').appendFileSync('${out}', 'node ' + require('path').dirname(process.argv[1]) + '\\n')\n`);
    fs.chmodSync(path.join(hooksDir(repo), 'post-merge'), 0o755);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.git(['switch', '-q', '-c', 'side']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'on the side']);
    repo.git(['switch', '-q', 'main']);
    repo.git(['merge', '-q', '--no-ff', '-m', 'merge', 'side']);
    expect(fs.readFileSync(out, 'utf8')).toBe(`bash post-commit\nnode ${hooksDir(repo)}\n`);
  });

  it('a chained hook that is not executable is skipped with a warning, as git itself skips it', () => {
    const repo = track(makeRepo());
    const out = tempFile('', 'seen');
    repo.write('.git/hooks/post-commit', `#!/bin/sh\necho ran >> '${out}'\n`);
    fs.chmodSync(path.join(hooksDir(repo), 'post-commit'), 0o644);
    // git says so with a hint and commits
    const plain = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'without omni-ship']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('not set as executable');
    fs.symlinkSync('../../tools/gone', path.join(hooksDir(repo), 'commit-msg'));
    expect(repo.omni(['install-hooks']).code).toBe(0);

    const r = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'with omni-ship']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${path.join(hooksDir(repo), 'post-commit.omni-ship-chained')} did not run: it is not an executable file`);
    expect(r.stderr).toContain(`${path.join(hooksDir(repo), 'commit-msg.omni-ship-chained')} did not run`);
    expect(r.stderr).toContain('chmod +x');
    expect(message(repo)).toBe('with omni-ship\n');
    expect(fs.readFileSync(out, 'utf8')).toBe('');
  });

  it('an install from the earlier layout (.git/omni-ship/chained/) still uninstalls exactly, and a reinstall moves the hook beside omni-ship’s', () => {
    /** A repository installed the way earlier versions did: the foreign hook moved into .git/omni-ship/chained/. */
    const oldLayout = () => {
      const repo = track(makeRepo());
      const out = tempFile('', 'seen');
      repo.write('tools/commit-msg', `#!/bin/sh\necho tool ran >> '${out}'\n`);
      fs.chmodSync(path.join(repo.dir, 'tools', 'commit-msg'), 0o755);
      fs.symlinkSync('../../tools/commit-msg', path.join(hooksDir(repo), 'commit-msg'));
      const before = snapshot(hooksDir(repo));
      const config = gitConfig(repo);
      expect(repo.omni(['install-hooks']).code).toBe(0);
      const old = path.join(repo.dir, '.git', 'omni-ship', 'chained', 'commit-msg');
      fs.mkdirSync(path.dirname(old));
      fs.renameSync(path.join(hooksDir(repo), 'commit-msg.omni-ship-chained'), old);
      const manifestFile = path.join(repo.dir, '.git', 'omni-ship', 'install.json');
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { hooks: { name: string; chained: string | null }[]; configFile?: unknown };
      manifest.hooks.find((h) => h.name === 'commit-msg')!.chained = old;
      delete manifest.configFile;
      fs.writeFileSync(manifestFile, JSON.stringify(manifest));
      return { repo, out, before, config, old };
    };

    const a = oldLayout();
    const u = a.repo.omni(['uninstall-hooks']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(snapshot(hooksDir(a.repo))).toEqual(a.before);
    expect(gitConfig(a.repo).equals(a.config)).toBe(true);
    expect(fs.existsSync(path.dirname(a.old))).toBe(false);

    const b = oldLayout();
    const r = b.repo.omni(['install-hooks']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('move .git/omni-ship/chained/commit-msg to .git/hooks/commit-msg.omni-ship-chained');
    b.repo.git(['commit', '-q', '--allow-empty', '-m', 'runs again']);
    expect(fs.readFileSync(b.out, 'utf8')).toBe('tool ran\n');
    expect(b.repo.omni(['install-hooks']).stdout).not.toContain('move');
    expect(b.repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(snapshot(hooksDir(b.repo))).toEqual(b.before);
    expect(gitConfig(b.repo).equals(b.config)).toBe(true);
  });

  it('refuses to chain a hook when the place it would be kept is taken (exit 3) and writes nothing', () => {
    const repo = track(makeRepo());
    repo.write('.git/hooks/commit-msg', '#!/bin/sh\nexit 0\n');
    repo.write('.git/hooks/commit-msg.omni-ship-chained', 'someone else’s\n');
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('commit-msg.omni-ship-chained is in the way');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });
});

describe('install-hooks reports what it leaves as it is', () => {
  it('--dry-run after an install lists nothing to update when the bytes are the same', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const before = snapshot(path.join(repo.dir, '.git'));
    const dry = repo.omni(['install-hooks', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain('would update');
    expect(dry.stdout).not.toContain('would write');
    const json = JSON.parse(repo.omni(['install-hooks', '--dry-run', '--json']).stdout) as { actions: unknown[]; unchanged: string[] };
    expect(json.actions).toEqual([]);
    expect(json.unchanged).toEqual(HOOKS.map((h) => path.join(hooksDir(repo), h)));
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);

    // a hook whose render changed (commit-msg carries the config's defaults) is the one to update; a hook the user
    // edited is never overwritten (test/integration/install-edits.test.ts)
    repo.write('.omni-shiprc.yaml', 'trailerKey: Task\n');
    const one = repo.omni(['install-hooks', '--dry-run']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('would update .git/hooks/commit-msg');
    expect(one.stdout).not.toContain('would update .git/hooks/post-merge');
  });
});

describe('uninstall-hooks', () => {
  it('restores foreign hooks (bytes and mode) and .git/config byte for byte', () => {
    const repo = track(makeRepo());
    repo.write('.git/hooks/commit-msg', '#!/bin/sh\n# mine\r\nexit 0');
    fs.chmodSync(path.join(hooksDir(repo), 'commit-msg'), 0o755);
    repo.write('.git/hooks/post-rewrite', '#!/bin/sh\ncat >/dev/null\n');
    fs.chmodSync(path.join(hooksDir(repo), 'post-rewrite'), 0o700);
    // the user's own notes settings, in an order a naive restore would change
    repo.git(['config', 'notes.rewriteMode', 'concatenate']);
    repo.git(['config', 'notes.displayRef', 'refs/notes/review']);
    const hooksBefore = snapshot(hooksDir(repo));
    const configBefore = gitConfig(repo);

    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(snapshot(hooksDir(repo))).not.toEqual(hooksBefore);
    expect(repo.git(['config', 'notes.rewriteMode']).trim()).toBe('cat_sort_uniq');
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'with hooks']);

    const r = repo.omni(['uninstall-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('restore .git/hooks/commit-msg');
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
    expect(gitConfig(repo).equals(configBefore)).toBe(true);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'install.json'))).toBe(false);

    // a second uninstall has nothing to do
    const again = repo.omni(['uninstall-hooks']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('not installed');
  });

  it('with no foreign hooks, leaves .git/hooks and .git/config exactly as git init made them', () => {
    const repo = track(makeRepo());
    const hooksBefore = snapshot(hooksDir(repo));
    const configBefore = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const dry = repo.omni(['uninstall-hooks', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would remove .git/hooks/commit-msg');
    expect(fs.existsSync(path.join(hooksDir(repo), 'commit-msg'))).toBe(true);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
    expect(gitConfig(repo).equals(configBefore)).toBe(true);
  });

  it('leaves notes.rewriteMode alone when the user changed it after install (exit 3)', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.git(['config', 'notes.rewriteMode', 'concatenate']);
    const r = repo.omni(['uninstall-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('git config notes.rewriteMode');
    expect(repo.git(['config', '--get-all', 'notes.rewriteMode'])).toBe('concatenate\n');
    // the rest is undone
    for (const name of HOOKS) expect(fs.existsSync(path.join(hooksDir(repo), name)), name).toBe(false);
    expect(repo.gitRun(['config', '--get-all', 'notes.displayRef']).stdout).toBe('');
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'install.json'))).toBe(false);
  });

  it('gives .git/config back byte for byte when the user wrote notes.rewriteMode in their own spelling, after a reinstall too', () => {
    const repo = track(makeRepo());
    fs.appendFileSync(path.join(repo.dir, '.git', 'config'), '[notes]\n\trewritemode=concatenate ; my comment\n');
    const before = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(repo.git(['config', 'notes.rewriteMode']).trim()).toBe('cat_sort_uniq');
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const r = repo.omni(['uninstall-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(gitConfig(repo).toString()).toBe(before.toString());
  });

  it('a config changed between two installs: uninstall keeps that change and undoes only omni-ship’s keys', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.git(['config', 'core.autocrlf', 'false']);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(repo.git(['config', 'core.autocrlf']).trim()).toBe('false');
    expect(repo.gitRun(['config', '--get-regexp', '^notes\\.']).stdout).toBe('');
  });

  it('leaves a hook someone replaced after install alone (exit 3)', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const theirs = '#!/bin/sh\n# written by another tool\n';
    fs.writeFileSync(path.join(hooksDir(repo), 'post-merge'), theirs);
    const r = repo.omni(['uninstall-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('post-merge changed after install-hooks wrote it');
    expect(fs.readFileSync(path.join(hooksDir(repo), 'post-merge'), 'utf8')).toBe(theirs);
    expect(fs.existsSync(path.join(hooksDir(repo), 'commit-msg'))).toBe(false);
  });
});

describe('upgrade from an install that showed the JSON logs in git log', () => {
  const OLD = 'refs/notes/omni-ship/*';
  const NEW = 'refs/notes/omni-ship-landed';
  const manifestFile = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'install.json');
  const displayRefs = (repo: TestRepo) => repo.gitRun(['config', '--local', '--get-all', 'notes.displayRef']).stdout.split('\n').filter(Boolean);
  const manifestValues = (repo: TestRepo) =>
    (JSON.parse(fs.readFileSync(manifestFile(repo), 'utf8')) as { gitConfig: { key: string; value: string }[] }).gitConfig
      .filter((r) => r.key === 'notes.displayRef')
      .map((r) => r.value);

  /**
   * Makes a fresh install look exactly like one by an earlier version: notes.displayRef holds `refs/notes/omni-ship/*`
   * in the config, and the manifest records that value as added by install (with the config file's hash to match).
   */
  function asEarlierInstall(repo: TestRepo): void {
    repo.git(['config', '--local', '--fixed-value', '--replace-all', 'notes.displayRef', OLD, NEW]);
    const manifest = JSON.parse(fs.readFileSync(manifestFile(repo), 'utf8')) as {
      gitConfig: { key: string; value: string }[];
      configFile?: { after: string };
    };
    for (const r of manifest.gitConfig) if (r.key === 'notes.displayRef' && r.value === NEW) r.value = OLD;
    if (manifest.configFile) manifest.configFile.after = createHash('sha256').update(gitConfig(repo)).digest('hex');
    fs.writeFileSync(manifestFile(repo), JSON.stringify(manifest));
    expect(displayRefs(repo)).toContain(OLD);
    expect(displayRefs(repo)).not.toContain(NEW);
  }

  it('a reinstall replaces the old value with the display ref; git log shows the landed note, not JSON; uninstall gives .git/config back', () => {
    const repo = track(makeRepo());
    const original = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    asEarlierInstall(repo);
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    repo.git(['notes', '--ref=refs/notes/omni-ship/patchsets', 'add', '-m', '{"type":"patchset"}', head]);
    repo.git(['notes', `--ref=${NEW}`, 'add', '-m', 'Task-Id: t-1\nLanded-By: Ann <a@x>', head]);
    expect(repo.git(['log', '-1'])).toContain('{"type":"patchset"}');

    const before = snapshot(path.join(repo.dir, '.git'));
    const dry = repo.omni(['install-hooks', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would git config --fixed-value --unset-all notes.displayRef ${OLD} (an earlier install added it)`);
    expect(dry.stdout).toContain(`would git config --add notes.displayRef ${NEW}`);
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);

    const r = repo.omni(['install-hooks', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const changes = (JSON.parse(r.stdout) as { actions: { kind: string; change?: { how: string; value: string } }[] }).actions
      .filter((a) => a.kind === 'config')
      .map((a) => [a.change!.how, a.change!.value]);
    expect(changes).toEqual([
      ['unset', OLD],
      ['add', NEW],
    ]);
    expect(displayRefs(repo)).toEqual([NEW]);
    expect(manifestValues(repo)).toEqual([NEW]);
    const log = repo.git(['log', '-1']);
    expect(log).toContain('Notes (omni-ship-landed):\n    Task-Id: t-1\n    Landed-By: Ann <a@x>\n');
    expect(log).not.toContain('"type"');
    // and the next install has nothing more to change
    expect(repo.omni(['install-hooks']).stdout).not.toContain('git config');

    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(gitConfig(repo).equals(original)).toBe(true);
  });

  it("keeps the user's own displayRef through the upgrade and the uninstall, key by key when the config changed in between", () => {
    const repo = track(makeRepo());
    repo.git(['config', 'notes.displayRef', 'refs/notes/review']);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    asEarlierInstall(repo);
    expect(displayRefs(repo)).toEqual(['refs/notes/review', OLD]);
    // a change of the user's since: the file is no longer what install left, so no byte copy can be given back
    repo.git(['config', 'user.signingkey', 'ABCDEF']);

    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(displayRefs(repo)).toEqual(['refs/notes/review', NEW]);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(displayRefs(repo)).toEqual(['refs/notes/review']);
    expect(repo.gitRun(['config', '--local', '--get-all', 'notes.rewriteRef']).stdout).toBe('');
    expect(repo.gitRun(['config', '--local', '--get-all', 'notes.rewriteMode']).stdout).toBe('');
    expect(repo.git(['config', 'user.signingkey']).trim()).toBe('ABCDEF');
  });

  it('an old value the user took out already is not taken out again; the new one is added', () => {
    const repo = track(makeRepo());
    const original = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    asEarlierInstall(repo);
    repo.git(['config', '--local', '--fixed-value', '--unset-all', 'notes.displayRef', OLD]);
    const r = repo.omni(['install-hooks']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('--unset-all');
    expect(displayRefs(repo)).toEqual([NEW]);
    expect(manifestValues(repo)).toEqual([NEW]);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(repo.gitRun(['config', '--local', '--get-regexp', '^notes\\.']).code).toBe(1);
    // undone key by key (the user's edit means no byte copy is given back), and the [notes] section the first
    // install created goes with the new value too
    expect(gitConfig(repo).toString()).toBe(original.toString());
  });
});

describe('husky 9', () => {
  it('writes a block into .husky/<hook>, keeps the user’s hook running, and uninstall restores it', () => {
    const repo = track(makeRepo());
    repo.write('package.json', '{\n  "name": "husky-test",\n  "version": "1.0.0"\n}\n');
    const husky = run(process.execPath, [path.join(projectRoot, 'node_modules', 'husky', 'bin.js')], { cwd: repo.dir });
    expect(husky.code).toBe(0);
    expect(repo.git(['config', 'core.hooksPath']).trim()).toBe('.husky/_');
    const out = tempDir('omni-ship-out-');
    const userHook = `echo husky-ran "$1" >> '${out}/husky.log'\n`;
    repo.write('.husky/commit-msg', userHook);
    const huskyBefore = snapshot(path.join(repo.dir, '.husky'));
    const shimsBefore = snapshot(path.join(repo.dir, '.husky', '_'));
    const configBefore = gitConfig(repo);
    const gitHooksBefore = snapshot(hooksDir(repo));

    const r = repo.omni(['install-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('husky');
    const withBlock = repo.read('.husky/commit-msg');
    expect(withBlock).toContain('# >>> omni-ship >>>');
    expect(withBlock.endsWith(userHook)).toBe(true);
    // husky's own shims and .git/hooks are not touched
    expect(snapshot(path.join(repo.dir, '.husky', '_'))).toEqual(shimsBefore);
    expect(snapshot(hooksDir(repo))).toEqual(gitHooksBefore);

    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'through husky']);
    expect(message(repo)).toBe('through husky\n\nTask-Id: t-5\n');
    expect(fs.readFileSync(path.join(out, 'husky.log'), 'utf8')).toBe('husky-ran .git/COMMIT_EDITMSG\n');

    // a failing user hook still fails the commit
    fs.appendFileSync(path.join(repo.dir, '.husky', 'commit-msg'), 'exit 1\n');
    const before = head(repo);
    expect(repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'refused']).code).not.toBe(0);
    expect(head(repo)).toBe(before);
    fs.writeFileSync(path.join(repo.dir, '.husky', 'commit-msg'), withBlock);

    const u = repo.omni(['uninstall-hooks']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(snapshot(path.join(repo.dir, '.husky'))).toEqual(huskyBefore);
    expect(repo.read('.husky/commit-msg')).toBe(userHook);
    expect(gitConfig(repo).equals(configBefore)).toBe(true);
  });
});

describe('where hooks go', () => {
  it('refuses a core.hooksPath outside the repository (exit 2) and writes nothing', () => {
    const repo = makeRepo();
    const outside = tempDir('omni-ship-hookspath-');
    repo.git(['config', 'core.hooksPath', outside]);
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('core.hooksPath');
    expect(r.stderr).toContain('outside this repository');
    expect(r.stderr).toContain('hint:');
    expect(r.stdout).toBe('');
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('a core.hooksPath outside the repository set in the global config: the hint names that scope and file', () => {
    const repo = makeRepo();
    const outside = tempDir('omni-ship-hookspath-');
    const global = tempFile(`[core]\n\thooksPath = ${outside}\n`, 'gitconfig');
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks'], { env: testEnv({ GIT_CONFIG_GLOBAL: global }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('outside this repository');
    expect(r.stderr).toContain(`global config in ${global}`);
    expect(r.stderr).toContain('git config --global --unset core.hooksPath');
    // a plain --unset would change nothing: not offered
    expect(r.stderr).not.toContain('git config --unset core.hooksPath');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
    // set locally, the local --unset is the hint
    repo.git(['config', 'core.hooksPath', outside]);
    expect(repo.omni(['install-hooks']).stderr).toContain('git config --unset core.hooksPath');
  });

  it('a linked worktree: install from the main worktree, commit in the linked one', () => {
    const repo = installedRepo();
    const wt = path.join(tempDir('omni-ship-wt-'), 'wt');
    repo.git(['worktree', 'add', '-q', wt, '-b', 't-8']);
    const linked = wrapRepo(wt);
    const r = linked.gitRun(['commit', '-q', '--allow-empty', '-m', 'in the worktree']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(message(linked)).toBe('in the worktree\n\nTask-Id: t-8\n');
    // and the main worktree still works on its own branch
    repo.git(['switch', '-q', '-c', 't-9']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'in the main worktree']);
    expect(message(repo)).toBe('in the main worktree\n\nTask-Id: t-9\n');
    expect(message(linked, 't-8')).toBe('in the worktree\n\nTask-Id: t-8\n');
  });

  it('install-hooks run from inside a linked worktree installs into the common hooks directory', () => {
    const repo = track(makeRepo());
    const wt = path.join(tempDir('omni-ship-wt-'), 'wt');
    repo.git(['worktree', 'add', '-q', wt, '-b', 't-10']);
    const linked = wrapRepo(wt);
    expect(linked.omni(['install-hooks']).code).toBe(0);
    for (const name of HOOKS) expect(fs.existsSync(path.join(hooksDir(repo), name)), name).toBe(true);
    linked.git(['commit', '-q', '--allow-empty', '-m', 'linked']);
    expect(message(linked)).toBe('linked\n\nTask-Id: t-10\n');
  });
});

describe('bad input: nothing is written', () => {
  it('not a git repository: exit 2', () => {
    const dir = tempDir();
    const r = wrapRepo(dir).omni(['install-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a git repository');
    expect(r.stdout).toBe('');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a bare repository: exit 2', () => {
    const dir = tempDir();
    run('git', ['init', '-q', '--bare', dir], { cwd: dir });
    const before = snapshot(dir);
    const r = wrapRepo(dir).omni(['install-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bare');
    expect(snapshot(dir)).toEqual(before);
  });

  it.each([
    ['an unknown key', '.omni-shiprc.json', '{"requireTaskID": true}\n', ["unknown key 'requireTaskID'", 'known keys:']],
    ['a wrong type', '.omni-shiprc.json', '{"requireTaskId": "yes"}\n', ["'requireTaskId' must be true or false", 'the string "yes"']],
    ['a pattern awk cannot read', '.omni-shiprc.json', '{"taskPattern": "^t-\\\\d+$"}\n', ["'taskPattern'", '\\d']],
    ['unparseable JSON', '.omni-shiprc.json', '{"requireTaskId": tru\n', ["cannot parse the config (JSON): expected a value, found 'tru' at line 1, column 19"]],
    ['unparseable YAML', '.omni-shiprc.yaml', 'trailerKey: [unclosed\n', ['cannot parse the config (YAML)', 'at line 2, column 1']],
    ['a wrong type in package.json', 'package.json', '{"name": "x", "omni-ship": {"trailerKey": "Task Id"}}\n', ["'trailerKey'"]],
  ])('an invalid config (%s): exit 2 naming the file and the problem', (_what, file, content, mentions) => {
    const repo = makeRepo();
    repo.write(file, content);
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(repo.dir, file));
    for (const m of mentions) expect(r.stderr).toContain(m);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('a config path that is a directory: exit 2 naming it, nothing written', () => {
    const repo = makeRepo();
    fs.mkdirSync(path.join(repo.dir, '.omni-shiprc.json'));
    const before = snapshot(path.join(repo.dir, '.git'));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(repo.dir, '.omni-shiprc.json')}: cannot read the config: it is a directory`);
    expect(r.stdout).toBe('');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  // root reads any file, so the refusal is checked as another user when the tests run as root
  const otherUser = otherUserCli();
  if (otherUser.skip) console.warn(`skipped: a config file the user cannot read: ${otherUser.skip}`);
  it.skipIf(otherUser.skip !== null)('a config file the user cannot read (chmod 000): exit 2 naming it, nothing written', () => {
    const repo = makeRepo();
    repo.write('.omni-shiprc.yaml', 'trailerKey: Task\n');
    const file = path.join(repo.dir, '.omni-shiprc.yaml');
    fs.chmodSync(file, 0o000);
    // the other user must reach the repository, and git must accept a repository owned by root
    fs.chmodSync(repo.dir, 0o755);
    const global = path.join(tempDir('omni-ship-global-'), 'gitconfig');
    fs.writeFileSync(global, '[safe]\n\tdirectory = *\n');
    fs.chmodSync(path.dirname(global), 0o755);
    fs.chmodSync(global, 0o644);
    const before = snapshot(path.join(repo.dir, '.git'));
    const [cmd, ...pre] = otherUser.argv!;
    const r = run(cmd!, [...pre, 'install-hooks'], { cwd: repo.dir, env: testEnv({ GIT_CONFIG_GLOBAL: global }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: cannot read the config: permission denied`);
    expect(r.stdout).toBe('');
    expect(snapshot(path.join(repo.dir, '.git'))).toEqual(before);
  });

  it('an invalid config written after install: commits keep the previous settings, with a message', () => {
    const repo = installedRepo();
    repo.git(['switch', '-q', '-c', 't-5']);
    repo.write('.omni-shiprc.json', '{"trailerKey": 5}\n');
    const r = repo.gitRun(['commit', '-q', '--allow-empty', '-m', 'still tagged'], { env: testEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("'trailerKey' must be a string");
    expect(r.stderr).toContain('previous settings');
    expect(message(repo)).toBe('still tagged\n\nTask-Id: t-5\n');
  });
});

// a hooks directory inside the work tree that is not husky's: blocks in its files, undone by uninstall
describe('core.hooksPath inside the work tree', () => {
  it('adds blocks to the existing files and creates the missing ones; uninstall restores the directory', () => {
    const repo = track(makeRepo());
    const out = tempFile('', 'post-rewrite.stdin');
    repo.write('.githooks/post-rewrite', `#!/bin/sh\ncat > '${out}'\n`);
    fs.chmodSync(path.join(repo.dir, '.githooks', 'post-rewrite'), 0o755);
    repo.git(['config', 'core.hooksPath', '.githooks']);
    const before = snapshot(path.join(repo.dir, '.githooks'));
    const configBefore = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(fs.readdirSync(path.join(repo.dir, '.githooks')).sort()).toEqual([...HOOKS].sort());

    repo.git(['switch', '-q', '-c', 't-5']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'one']);
    expect(message(repo)).toBe('one\n\nTask-Id: t-5\n');
    const old = head(repo);
    repo.git(['commit', '-q', '--allow-empty', '--amend', '-m', 'one, amended']);
    expect(fs.readFileSync(out, 'utf8')).toBe(`${old} ${head(repo)}\n`);

    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(snapshot(path.join(repo.dir, '.githooks'))).toEqual(before);
    expect(gitConfig(repo).equals(configBefore)).toBe(true);
  });
});

describe('uninstall gives back exactly what was there', () => {
  it('a hook file in the work tree holding only a shebang without a final newline', () => {
    const repo = track(makeRepo());
    repo.write('.githooks/commit-msg', '#!/bin/sh');
    fs.chmodSync(path.join(repo.dir, '.githooks', 'commit-msg'), 0o755);
    repo.git(['config', 'core.hooksPath', '.githooks']);
    const before = snapshot(path.join(repo.dir, '.githooks'));
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(repo.read('.githooks/commit-msg')).toContain('omni-ship');
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(snapshot(path.join(repo.dir, '.githooks'))).toEqual(before);
    expect(repo.read('.githooks/commit-msg')).toBe('#!/bin/sh');
  });

  it('core.hooksPath naming a directory that does not exist yet: uninstall removes the directory install made', () => {
    const repo = track(makeRepo());
    repo.git(['config', 'core.hooksPath', '.githooks']);
    const configBefore = gitConfig(repo);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(fs.readdirSync(path.join(repo.dir, '.githooks')).sort()).toEqual([...HOOKS].sort());
    // a reinstall changes nothing and still knows install made it
    const again = JSON.parse(repo.omni(['install-hooks', '--json']).stdout) as { actions: unknown[]; unchanged: string[] };
    expect(again.actions).toEqual([]);
    expect(again.unchanged).toHaveLength(HOOKS.length);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(fs.existsSync(path.join(repo.dir, '.githooks'))).toBe(false);
    expect(gitConfig(repo).equals(configBefore)).toBe(true);
  });

  it('a hooks directory install made but that holds a file of the user’s is kept', () => {
    const repo = track(makeRepo());
    repo.git(['config', 'core.hooksPath', '.githooks']);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    repo.write('.githooks/pre-push', '#!/bin/sh\n');
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(fs.readdirSync(path.join(repo.dir, '.githooks'))).toEqual(['pre-push']);
  });

  it('a hooks directory that did not exist before install is gone after uninstall', () => {
    const repo = track(makeRepo());
    fs.rmSync(path.join(repo.dir, '.git', 'hooks'), { recursive: true, force: true });
    expect(repo.omni(['install-hooks']).code).toBe(0);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'hooks', 'commit-msg'))).toBe(true);
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'hooks'))).toBe(false);
  });
});

describe('submodules', () => {
  it('installs into the submodule’s own hooks directory; its commits get the trailer and a patchset', async () => {
    const origin = makeRepo();
    const sup = track(makeRepo());
    sup.git(['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', origin.dir, 'lib']);
    sup.git(['commit', '-q', '-m', 'add the submodule']);
    const lib = track(wrapRepo(path.join(sup.dir, 'lib')));
    const r = lib.omni(['install-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const hooksDir = lib.git(['rev-parse', '--path-format=absolute', '--git-path', 'hooks']).trim();
    expect(hooksDir).toBe(path.join(sup.dir, '.git', 'modules', 'lib', 'hooks'));
    expect(fs.readFileSync(path.join(hooksDir, 'commit-msg'), 'utf8')).toContain('omni-ship-managed-hook');
    // the superproject's own hooks are not touched
    expect(fs.existsSync(path.join(sup.dir, '.git', 'hooks', 'commit-msg'))).toBe(false);
    lib.git(['switch', '-q', '-c', 't-12']);
    lib.git(['commit', '-q', '--allow-empty', '-m', 'in the submodule']);
    expect(message(lib)).toBe('in the submodule\n\nTask-Id: t-12\n');
    expect(await waitForDrain(lib)).toBe(true);
    const status = JSON.parse(lib.omni(['status', '--json']).stdout) as { tasks: { id: string; patchsets: number }[] };
    expect(status.tasks.find((t) => t.id === 't-12')?.patchsets).toBe(1);
  });
});
