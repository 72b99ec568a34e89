#!/usr/bin/env node
// Part of `npm run build`, after tsc. Node loads an ES module per file: it resolves, reads, compiles and links each,
// and that per-module cost, not the code's size, is most of a command's start. So:
// - dist/bundle/: omni-ship itself, from src/main.ts, bundled by esbuild into one module per entry and per
//   dynamically imported part (code splitting): `status` loads a handful of files instead of ~30. bin/omni-ship.js
//   runs it when it exists, else tsc's dist/main.js (whose per-file modules the tests import one by one).
// - dist/vendor/execa.js: execa (~150 ES modules) in one file; verify pays its load on every run that starts a
//   step. src/verify/load-execa.ts imports it when it exists, else execa itself.
// Each bundle is written beside its place and renamed into it: a command started meanwhile loads the old one or the
// new one whole.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

async function into(dir, options) {
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await build({ platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', bundle: true, ...options(tmp) });
  const old = `${dir}.${process.pid}.old`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

await into(path.join(dist, 'vendor'), (out) => ({
  entryPoints: [path.join(root, 'node_modules', 'execa', 'index.js')],
  outfile: path.join(out, 'execa.js'),
  legalComments: 'inline',
  // execa's CommonJS dependencies call require(): give the ES module bundle one
  banner: { js: "import { createRequire as __omniShipCreateRequire } from 'node:module'; const require = __omniShipCreateRequire(import.meta.url);" },
}));

await into(path.join(dist, 'bundle'), (out) => ({
  entryPoints: [path.join(root, 'src', 'main.ts')],
  outdir: out,
  splitting: true,
  // the dependencies stay in node_modules, loaded (lazily, as the code asks) from there
  packages: 'external',
  chunkNames: 'chunk-[hash]',
}));
