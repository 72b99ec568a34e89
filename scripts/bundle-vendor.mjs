#!/usr/bin/env node
// Part of `npm run build`: bundles execa into one file, dist/vendor/execa.js. execa is ~150 ES modules; Node
// resolves, reads and links each, which costs ~100-250 ms here, and verify pays it on every run that starts a step.
// One bundled file loads in about half that time. src/verify/load-execa.ts imports the bundle when it exists, else
// execa itself (a build without this step, such as the test setup's plain tsc, still works).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(root, 'node_modules', 'execa', 'index.js')],
  outfile: path.join(root, 'dist', 'vendor', 'execa.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'inline',
  // execa's CommonJS dependencies call require(): give the ES module bundle one
  banner: { js: "import { createRequire as __omniShipCreateRequire } from 'node:module'; const require = __omniShipCreateRequire(import.meta.url);" },
});
