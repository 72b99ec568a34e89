import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { makeRepo, run, tempDir, waitForDrain, type TestRepo } from './repo.js';

/** The hooks install-hooks writes. */
export const HOOKS = ['commit-msg', 'post-commit', 'post-rewrite', 'post-merge'] as const;

const withHooks: TestRepo[] = [];

/** Remembers a repository whose hooks may have started a background drainer (see settleDrainers). */
export function track(repo: TestRepo): TestRepo {
  withHooks.push(repo);
  return repo;
}

/** A new repository (branch main, one commit) with omni-ship's hooks installed; `before` runs first. */
export function installedRepo(before?: (repo: TestRepo) => void): TestRepo {
  const repo = track(makeRepo());
  before?.(repo);
  const r = repo.omni(['install-hooks']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return repo;
}

/** Waits for the background drainers the tests' commits started, so no process outlives its temp directory. */
export async function settleDrainers(): Promise<void> {
  while (withHooks.length) {
    const repo = withHooks.pop()!;
    if (fs.existsSync(repo.dir)) await waitForDrain(repo).catch(() => false);
  }
}

/** The exact message bytes of a commit (what follows the header in `git cat-file commit`). */
export function message(repo: TestRepo, rev = 'HEAD', cwd?: string): string {
  const raw = repo.git(['cat-file', 'commit', rev], { cwd });
  const at = raw.indexOf('\n\n');
  return at < 0 ? '' : raw.slice(at + 2);
}

/** The commit HEAD points at. */
export function head(repo: TestRepo, cwd?: string): string {
  return repo.git(['rev-parse', 'HEAD'], { cwd }).trim();
}

/** Every file under `dir` (recursively) with its mode and bytes; symlinks by their target. */
export function snapshot(dir: string): Record<string, { mode: number; bytes: Buffer | string }> {
  const out: Record<string, { mode: number; bytes: Buffer | string }> = {};
  const walk = (sub: string) => {
    for (const name of fs.readdirSync(path.join(dir, sub)).sort()) {
      const rel = path.join(sub, name);
      const st = fs.lstatSync(path.join(dir, rel));
      if (st.isDirectory()) {
        out[`${rel}/`] = { mode: st.mode, bytes: '' };
        walk(rel);
      } else if (st.isSymbolicLink()) out[rel] = { mode: st.mode, bytes: `-> ${fs.readlinkSync(path.join(dir, rel))}` };
      else out[rel] = { mode: st.mode, bytes: fs.readFileSync(path.join(dir, rel)) };
    }
  };
  walk('');
  return out;
}

/** Writes an executable sh script in a fresh temp directory and returns its path. */
export function script(body: string, name = 'script.sh'): string {
  const file = path.join(tempDir('omni-ship-script-'), name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}`, { mode: 0o755 });
  return file;
}

/** Writes a file outside any repository and returns its path. */
export function tempFile(content: string | Buffer, name = 'file'): string {
  const file = path.join(tempDir('omni-ship-file-'), name);
  fs.writeFileSync(file, content);
  return file;
}

/** A directory of symlinks to the given programs, to serve as a whole PATH. */
export function binDir(programs: readonly string[]): string {
  const dir = tempDir('omni-ship-bin-');
  for (const p of programs) {
    const found = run('/bin/sh', ['-c', `command -v ${p}`], { cwd: dir, env: { PATH: process.env.PATH } }).stdout.trim();
    if (!found.startsWith('/')) throw new Error(`${p} is not on PATH`);
    fs.symlinkSync(found, path.join(dir, p));
  }
  return dir;
}
