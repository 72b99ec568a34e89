import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's root directory (holds bin/, dist/, hooks/, templates/): the nearest directory above this
 * code with a package.json (this code is in dist/, dist/bundle/ or, under the tests, src/).
 */
export const packageRoot: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

/** The absolute, symlink-free path of the bin entry point that hooks call back into. */
export function entryPoint(): string {
  return fs.realpathSync(path.join(packageRoot, 'bin', 'omni-ship.js'));
}

/** This package's version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
let version: string | undefined;
