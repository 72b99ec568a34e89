import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Builds dist/ once before the tests, so the e2e tests spawn the code under test (scripts/test builds too). */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  // rebuild only when dist/ is older than a source file: a build rewrites dist/ in place, and a hook starting
  // Node meanwhile (another test run) could load a half-written file
  if (upToDate(root)) return;
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  // and the bundles bin/omni-ship.js runs (as `npm run build` makes them)
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle-vendor.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bundle failed:\n${b.stdout}${b.stderr}`);
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

function upToDate(root: string): boolean {
  try {
    const built = fs.statSync(path.join(root, 'dist', 'cli.js')).mtimeMs;
    const sources = Math.max(newest(path.join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => fs.statSync(path.join(root, f)).mtimeMs));
    return built >= sources && newest(path.join(root, 'dist')) >= sources;
  } catch {
    return false;
  }
}
