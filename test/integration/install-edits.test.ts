import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOKS, message, settleDrainers, snapshot, track } from '../helpers/hooks.js';
import { cleanupAll, makeRepo, projectRoot, run, type TestRepo } from '../helpers/repo.js';

// A user's edits to the files omni-ship wrote are theirs: neither uninstall-hooks nor a reinstall overwrites them.

afterAll(async () => {
  await settleDrainers();
  cleanupAll();
});

const hooksDir = (repo: TestRepo) => path.join(repo.dir, '.git', 'hooks');
const hook = (repo: TestRepo, name: string) => path.join(hooksDir(repo), name);
const gitDir = (repo: TestRepo) => path.join(repo.dir, '.git');
const manifestFile = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship', 'install.json');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface ManifestHook {
  name: string;
  mode: string;
  path: string;
  sha256?: string;
  scriptSha256?: string;
}
function readManifest(repo: TestRepo): { version: string; hooks: ManifestHook[] } {
  return JSON.parse(fs.readFileSync(manifestFile(repo), 'utf8')) as { version: string; hooks: ManifestHook[] };
}
function editManifest(repo: TestRepo, edit: (m: { version: string; hooks: ManifestHook[] }) => void): void {
  const m = readManifest(repo);
  edit(m);
  fs.writeFileSync(manifestFile(repo), JSON.stringify(m, null, 2));
}

/** A repository with a foreign commit-msg hook and omni-ship installed over it. */
function installedWithForeignHook(): { repo: TestRepo; foreign: string; hooksBefore: ReturnType<typeof snapshot>; configBefore: Buffer } {
  const repo = track(makeRepo());
  const foreign = '#!/bin/sh\necho foreign >/dev/null\n';
  fs.writeFileSync(hook(repo, 'commit-msg'), foreign, { mode: 0o755 });
  const hooksBefore = snapshot(hooksDir(repo));
  const configBefore = fs.readFileSync(path.join(gitDir(repo), 'config'));
  const r = repo.omni(['install-hooks']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { repo, foreign, hooksBefore, configBefore };
}

describe('uninstall-hooks leaves an omni-ship file the user edited', () => {
  it('a line added: the file and its chained hook stay, the other hooks go, exit 3; once the user deletes it, uninstall finishes', () => {
    const { repo, foreign, hooksBefore, configBefore } = installedWithForeignHook();
    fs.appendFileSync(hook(repo, 'commit-msg'), 'echo hi\n');
    const edited = fs.readFileSync(hook(repo, 'commit-msg'), 'utf8');

    const all = snapshot(gitDir(repo));
    const dry = repo.omni(['uninstall-hooks', '--dry-run', '--json']);
    expect(dry.code).toBe(3);
    expect((JSON.parse(dry.stdout) as { conflicts: string[] }).conflicts).toEqual([hook(repo, 'commit-msg')]);
    expect(snapshot(gitDir(repo))).toEqual(all);

    const r = repo.omni(['uninstall-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.git/hooks/commit-msg changed after install-hooks wrote it; left as it is');
    // what to do: the user's original hook is named, and running uninstall again finishes
    expect(r.stderr).toContain('.git/hooks/commit-msg.omni-ship-chained');
    expect(r.stderr).toContain('uninstall-hooks again');
    expect(fs.readFileSync(hook(repo, 'commit-msg'), 'utf8')).toBe(edited);
    expect(fs.readFileSync(hook(repo, 'commit-msg.omni-ship-chained'), 'utf8')).toBe(foreign);
    for (const name of HOOKS.filter((h) => h !== 'commit-msg')) expect(fs.existsSync(hook(repo, name)), name).toBe(false);
    expect(fs.readFileSync(path.join(gitDir(repo), 'config')).equals(configBefore)).toBe(true);

    // the user keeps what they need, deletes the file, and runs uninstall again: the original hook comes back
    fs.unlinkSync(hook(repo, 'commit-msg'));
    const again = repo.omni(['uninstall-hooks']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
    expect(fs.existsSync(manifestFile(repo))).toBe(false);
  });

  it('a line removed: left as it is, exit 3', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const text = fs.readFileSync(hook(repo, 'post-merge'), 'utf8');
    const edited = text.replace(/\nexit 0\n$/, '\n');
    expect(edited).not.toBe(text);
    fs.writeFileSync(hook(repo, 'post-merge'), edited);
    const r = repo.omni(['uninstall-hooks', '--json']);
    expect(r.code).toBe(3);
    expect((JSON.parse(r.stdout) as { conflicts: string[] }).conflicts).toEqual([hook(repo, 'post-merge')]);
    expect(fs.readFileSync(hook(repo, 'post-merge'), 'utf8')).toBe(edited);
    expect(fs.existsSync(hook(repo, 'commit-msg'))).toBe(false);
  });

  it('a config changed after install does not make an untouched commit-msg look edited: uninstall removes it', () => {
    const repo = track(makeRepo());
    const hooksBefore = snapshot(hooksDir(repo));
    expect(repo.omni(['install-hooks']).code).toBe(0);
    // commit-msg carries the config's defaults: what install-hooks would write now differs from what it wrote
    repo.write('.omni-shiprc.yaml', 'trailerKey: Task\n');
    const r = repo.omni(['uninstall-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
  });

  it('after an uninstall that left an edited hook behind, installing and uninstalling again still gives .git/config back byte for byte', () => {
    const repo = track(makeRepo());
    fs.appendFileSync(path.join(gitDir(repo), 'config'), '[notes]\n\trewritemode=concatenate ; my comment\n');
    const configBefore = fs.readFileSync(path.join(gitDir(repo), 'config'));
    const hooksBefore = snapshot(hooksDir(repo));
    expect(repo.omni(['install-hooks']).code).toBe(0);
    fs.appendFileSync(hook(repo, 'post-commit'), 'echo hi\n');
    expect(repo.omni(['uninstall-hooks']).code).toBe(3);
    expect(fs.readFileSync(path.join(gitDir(repo), 'config')).toString()).toBe(configBefore.toString());
    fs.unlinkSync(hook(repo, 'post-commit'));
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const r = repo.omni(['uninstall-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(gitDir(repo), 'config')).toString()).toBe(configBefore.toString());
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
  });

  it('an install by a version that recorded no hashes: files that are what this version writes are removed, others left (exit 3)', () => {
    const repo = track(makeRepo());
    const hooksBefore = snapshot(hooksDir(repo));
    expect(repo.omni(['install-hooks']).code).toBe(0);
    fs.appendFileSync(hook(repo, 'post-rewrite'), '# older\n');
    editManifest(repo, (m) => {
      for (const h of m.hooks) delete h.sha256;
    });
    const r = repo.omni(['uninstall-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('post-rewrite is not what this version of omni-ship writes, and the install that wrote it recorded no hash');
    expect(r.stderr).toContain('if you did not change it, delete it and run uninstall-hooks again');
    for (const name of HOOKS.filter((h) => h !== 'post-rewrite')) expect(fs.existsSync(hook(repo, name)), name).toBe(false);
    fs.unlinkSync(hook(repo, 'post-rewrite'));
    expect(repo.omni(['uninstall-hooks']).code).toBe(0);
    expect(snapshot(hooksDir(repo))).toEqual(hooksBefore);
  });

  it('husky: a block edited inside .husky/<hook> is left as it is (exit 3); the other hooks’ blocks go', () => {
    const repo = track(makeRepo());
    repo.write('package.json', '{\n  "name": "husky-test",\n  "version": "1.0.0"\n}\n');
    expect(run(process.execPath, [path.join(projectRoot, 'node_modules', 'husky', 'bin.js')], { cwd: repo.dir }).code).toBe(0);
    const userHook = 'echo husky-ran\n';
    repo.write('.husky/commit-msg', userHook);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const file = path.join(repo.dir, '.husky', 'commit-msg');
    // the user lets a failing omni-ship hook pass
    const edited = fs.readFileSync(file, 'utf8').replace('|| exit $?', '|| true');
    expect(edited).not.toBe(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, edited);

    const r = repo.omni(['uninstall-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.husky/commit-msg changed after install-hooks wrote it; left as it is');
    expect(r.stderr).toContain('uninstall-hooks again');
    expect(fs.readFileSync(file, 'utf8')).toBe(edited);
    // the files omni-ship created for the other hooks are gone
    for (const name of HOOKS.filter((h) => h !== 'commit-msg')) expect(fs.existsSync(path.join(repo.dir, '.husky', name)), name).toBe(false);

    // the user takes the block out, keeping their own line: uninstall finishes
    fs.writeFileSync(file, userHook);
    const again = repo.omni(['uninstall-hooks']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(userHook);
    expect(fs.existsSync(path.join(repo.dir, '.git', 'omni-ship', 'hooks'))).toBe(false);
    expect(fs.existsSync(manifestFile(repo))).toBe(false);
  });
});

describe('install-hooks again does not overwrite an omni-ship file the user edited', () => {
  it('refuses with exit 3 naming the file and what to do, and writes nothing (plain, --dry-run, --json)', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    fs.appendFileSync(hook(repo, 'post-merge'), 'echo hi\n');
    // a config change that would update commit-msg: the refusal updates nothing at all
    repo.write('.omni-shiprc.yaml', 'trailerKey: Task\n');
    const before = snapshot(gitDir(repo));

    for (const args of [['install-hooks'], ['install-hooks', '--dry-run']]) {
      const r = repo.omni(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain('.git/hooks/post-merge changed after install-hooks wrote it; nothing was installed');
      expect(r.stderr).toContain('.git/hooks/post-merge.omni-ship-chained');
      expect(r.stderr).toContain('install-hooks again');
      expect(r.stdout).not.toMatch(/^(would )?(update|write)/m);
      expect(snapshot(gitDir(repo))).toEqual(before);
    }
    const json = repo.omni(['install-hooks', '--json']);
    expect(json.code).toBe(3);
    const data = JSON.parse(json.stdout) as { actions: unknown[]; conflicts: { hint: string }[] };
    expect(data.conflicts).toEqual([{ path: hook(repo, 'post-merge'), hook: 'post-merge', why: 'edited', hint: expect.stringContaining('install-hooks again') }]);
    expect(data.actions).toEqual([]);
    expect(snapshot(gitDir(repo))).toEqual(before);

    // the advice works: the user's line goes into a hook of their own, which install-hooks then chains
    fs.writeFileSync(hook(repo, 'post-merge'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const r = repo.omni(['install-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(hook(repo, 'post-merge.omni-ship-chained'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(fs.readFileSync(hook(repo, 'commit-msg'), 'utf8')).toContain("OS_KEY='Task'");
  });

  it('an edited file whose hook already chains one: the hint says to add the lines there', () => {
    const { repo } = installedWithForeignHook();
    fs.appendFileSync(hook(repo, 'commit-msg'), 'echo hi\n');
    const before = snapshot(gitDir(repo));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`to keep your lines, add them to ${hook(repo, 'commit-msg.omni-ship-chained')}, which omni-ship runs after its own hook`);
    expect(snapshot(gitDir(repo))).toEqual(before);
  });

  it('an upgrade still updates an untouched file: a new template, and a config that renders commit-msg differently', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const current = fs.readFileSync(hook(repo, 'post-merge'), 'utf8');
    // what an older omni-ship wrote, with the hash it recorded
    const older = current.replace(/\(omni-ship [^)]*\)/, '(omni-ship 0.0.1)').replace('exit 0\n', 'true\nexit 0\n');
    fs.writeFileSync(hook(repo, 'post-merge'), older);
    editManifest(repo, (m) => {
      m.version = '0.0.1';
      m.hooks.find((h) => h.name === 'post-merge')!.sha256 = sha256(older);
    });
    repo.write('.omni-shiprc.yaml', 'trailerKey: Task\n');

    const r = repo.omni(['install-hooks']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('update .git/hooks/post-merge');
    expect(r.stdout).toContain('update .git/hooks/commit-msg');
    expect(fs.readFileSync(hook(repo, 'post-merge'), 'utf8')).toBe(current);
    expect(fs.readFileSync(hook(repo, 'commit-msg'), 'utf8')).toContain("OS_KEY='Task'");
    // the new bytes are what the manifest records: uninstall takes them for omni-ship's
    repo.git(['switch', '-q', '-c', 't-3']);
    repo.git(['commit', '-q', '--allow-empty', '-m', 'with the new key']);
    expect(message(repo)).toBe('with the new key\n\nTask: t-3\n');
    const u = repo.omni(['uninstall-hooks']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    for (const name of HOOKS) expect(fs.existsSync(hook(repo, name)), name).toBe(false);
  });

  it('an install by a version that recorded no hashes: a file that is what this version writes is kept and recorded; any other refused', () => {
    const repo = track(makeRepo());
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const stripHashes = () =>
      editManifest(repo, (m) => {
        for (const h of m.hooks) delete h.sha256;
      });
    stripHashes();
    const same = repo.omni(['install-hooks', '--json']);
    expect(same.code).toBe(0);
    expect((JSON.parse(same.stdout) as { unchanged: string[] }).unchanged).toHaveLength(HOOKS.length);
    for (const h of readManifest(repo).hooks) expect(h.sha256, h.name).toBe(sha256(fs.readFileSync(h.path, 'utf8')));

    // an older template, or an edit: omni-ship cannot tell which, so it keeps the file
    stripHashes();
    fs.appendFileSync(hook(repo, 'post-rewrite'), '# older\n');
    const before = snapshot(gitDir(repo));
    const r = repo.omni(['install-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.git/hooks/post-rewrite is not what this version of omni-ship writes, and the install that wrote it recorded no hash');
    expect(r.stderr).toContain('delete it');
    expect(snapshot(gitDir(repo))).toEqual(before);
    const u = repo.omni(['uninstall-hooks', '--dry-run', '--json']);
    expect(u.code).toBe(3);
    expect((JSON.parse(u.stdout) as { conflicts: string[] }).conflicts).toContain(hook(repo, 'post-rewrite'));

    // deleted as the hint says: reinstalled
    fs.unlinkSync(hook(repo, 'post-rewrite'));
    const again = repo.omni(['install-hooks']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('write .git/hooks/post-rewrite');
  });

  it('block mode: an edited block, or an edited script in .git/omni-ship/hooks, is refused and nothing written', () => {
    const repo = track(makeRepo());
    repo.git(['config', 'core.hooksPath', '.githooks']);
    repo.write('.githooks/commit-msg', '#!/bin/sh\necho mine\n');
    fs.chmodSync(path.join(repo.dir, '.githooks', 'commit-msg'), 0o755);
    expect(repo.omni(['install-hooks']).code).toBe(0);
    const file = path.join(repo.dir, '.githooks', 'commit-msg');
    const written = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, written.replace('|| exit $?', '|| true'));
    const snap = () => ({ git: snapshot(gitDir(repo)), hooks: snapshot(path.join(repo.dir, '.githooks')) });
    let before = snap();
    let r = repo.omni(['install-hooks']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.githooks/commit-msg changed after install-hooks wrote it; nothing was installed');
    expect(snap()).toEqual(before);

    fs.writeFileSync(file, written);
    const script = path.join(repo.dir, '.git', 'omni-ship', 'hooks', 'post-commit');
    fs.appendFileSync(script, 'echo hi\n');
    before = snap();
    r = repo.omni(['install-hooks', '--dry-run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.git/omni-ship/hooks/post-commit changed after install-hooks wrote it; nothing was installed');
    expect(snap()).toEqual(before);
    const u = repo.omni(['uninstall-hooks']);
    expect(u.code).toBe(3);
    expect(fs.readFileSync(script, 'utf8')).toMatch(/echo hi\n$/);
    expect(repo.read('.githooks/commit-msg')).toBe('#!/bin/sh\necho mine\n');
  });
});
