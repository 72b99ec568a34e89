import fs from 'node:fs';

type Execa = typeof import('execa');

/** The bundle `npm run build` makes of execa (see scripts/bundle-vendor.mjs). */
const BUNDLE = new URL('../vendor/execa.js', import.meta.url);

let loading: Promise<Execa> | null = null;

/**
 * execa, loaded once: from the one-file bundle when the build made it (about half the load time of execa's ~150
 * modules), else from node_modules. Never on a cache hit: only a run that starts a step calls this.
 */
export function loadExeca(): Promise<Execa> {
  loading ??= fs.existsSync(BUNDLE) ? (import(BUNDLE.href) as Promise<Execa>) : import('execa');
  return loading;
}
