import fs from 'node:fs';
import path from 'node:path';
import { projectRoot, run, tempDir } from './repo.js';

/** How to spawn the built CLI as a user who cannot read a chmod 000 file, or why that cannot be done here. */
export type OtherUserCli = { argv: string[]; skip: null } | { argv: null; skip: string };

const SETPRIV = ['/usr/bin/setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** True when `nobody` can run `argv` (exit 0). */
function nobodyCan(argv: readonly string[]): boolean {
  const [cmd, ...args] = [...SETPRIV, ...argv];
  return run(cmd!, args, { cwd: '/' }).code === 0;
}

/** The directory of `name` as node would resolve it from `from` (a package dir), looking up to `top`. */
function resolvePackage(name: string, from: string, top: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === top || path.dirname(dir) === dir) return null;
  }
}

/** Copies the runtime dependencies of the package at `from` (its `dependencies`, transitively) into `to`. */
function copyRuntimeDependencies(from: string, to: string): void {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const dir = queue.pop()!;
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const found = resolvePackage(name, dir, from);
      if (!found || seen.has(found)) continue;
      seen.add(found);
      const target = path.join(to, path.relative(from, found));
      if (!fs.existsSync(target)) fs.cpSync(fs.realpathSync(found), target, { recursive: true, dereference: true });
      queue.push(found);
    }
  }
}

/**
 * The built CLI, runnable by another user. As root, a chmod 000 file is readable, so the refusal is checked as
 * `nobody`, who may not reach a checkout under a private directory (a home with mode 700, a `mktemp -d` folder):
 * the package (bin, dist, hooks, templates, package.json and its runtime dependencies) is copied to a
 * world-readable temp directory first. Returns why not, instead, where even that cannot work.
 */
export function otherUserCli(): OtherUserCli {
  const bin = path.join(projectRoot, 'bin', 'omni-ship.js');
  if (process.getuid?.() !== 0) return { argv: [process.execPath, bin], skip: null };
  if (!fs.existsSync(SETPRIV[0]!)) return { argv: null, skip: `${SETPRIV[0]} is missing: cannot run the CLI as another user` };
  if (!nobodyCan([process.execPath, '-e', ''])) return { argv: null, skip: `user nobody cannot run ${process.execPath}` };
  const copy = tempDir('omni-ship-package-');
  fs.chmodSync(copy, 0o755);
  for (const part of ['bin', 'dist', 'hooks', 'templates', 'package.json']) {
    fs.cpSync(path.join(projectRoot, part), path.join(copy, part), { recursive: true });
  }
  const modules = fs.realpathSync(path.join(projectRoot, 'node_modules'));
  // the project's node_modules (a symlink in a worktree) is used in place when nobody can read it, else copied
  if (nobodyCan([process.execPath, '-e', `require(${JSON.stringify(path.join(modules, 'commander', 'package.json'))})`])) {
    fs.symlinkSync(modules, path.join(copy, 'node_modules'));
  } else {
    copyRuntimeDependencies(projectRoot, copy);
  }
  const copiedBin = path.join(copy, 'bin', 'omni-ship.js');
  if (!nobodyCan([process.execPath, copiedBin, '--version'])) {
    return { argv: null, skip: `user nobody cannot run a copy of the CLI in ${copy} (is the temp directory ${path.dirname(copy)} private?)` };
  }
  return { argv: [...SETPRIV, process.execPath, copiedBin], skip: null };
}
