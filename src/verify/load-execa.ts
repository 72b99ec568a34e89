import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';

type Execa = typeof import('execa');

/** The bundle `npm run build` makes of execa (see scripts/bundle-vendor.mjs). */
const BUNDLE = pathToFileURL(path.join(packageRoot, 'dist', 'vendor', 'execa.js'));

let loading: Promise<Execa> | null = null;

/**
 * execa, loaded once: from the one-file bundle when the build made it (about half the load time of execa's ~150
 * modules), else from node_modules. Never on a cache hit: only a run that starts a step calls this.
 */
export function loadExeca(): Promise<Execa> {
  loading ??= fs.existsSync(BUNDLE) ? (import(BUNDLE.href) as Promise<Execa>) : import('execa');
  return loading;
}
