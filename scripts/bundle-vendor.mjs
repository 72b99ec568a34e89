#!/usr/bin/env node
// Part of `npm run build`, after tsc. Node loads an ES module per file: it resolves, reads, compiles and links each,
// and that per-module cost, not the code's size, is most of a command's start. So:
// - dist/bundle/: omni-ship itself, bundled by esbuild: main.cjs (src/main.ts with `status`'s whole path, one file)
//   and the other commands' entries with their chunks (code splitting). bin/omni-ship.js runs main.cjs when it
//   exists, else tsc's dist/main.js (whose per-file modules the tests import one by one).
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

const common = { platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', bundle: true };

async function into(dir, make) {
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await make(tmp);
  const old = `${dir}.${process.pid}.old`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

await into(path.join(dist, 'vendor'), (out) => build({
  ...common,
  entryPoints: [path.join(root, 'node_modules', 'execa', 'index.js')],
  outfile: path.join(out, 'execa.js'),
  legalComments: 'inline',
  // execa's CommonJS dependencies call require(): give the ES module bundle one
  banner: { js: "import { createRequire as __omniShipCreateRequire } from 'node:module'; const require = __omniShipCreateRequire(import.meta.url);" },
}));

// dist/bundle/main.cjs, the entry file, holds `status`'s whole path as one CommonJS module: Node's start pays per
// module (one file of it loads ≈ 12 ms sooner than the same code in a dozen chunks), and an ES module's import of a
// built-in (node:fs) builds a facade of all its exports, whose getters load modules status never uses (fs's
// streams), ≈ 5 ms more. `sync`'s plain path is in it too (as a split entry it measured 1.53× where the scale budget
// is 1.5×; in the one file 1.14×). The other commands are the cli's split ES module entry beside it, which it imports.
await into(path.join(dist, 'bundle'), async (out) => {
  await build({
    ...common,
    entryPoints: { cli: path.join(root, 'src', 'cli.ts') },
    outdir: out,
    splitting: true,
    // the dependencies stay in node_modules, loaded (lazily, as the code asks) from there
    packages: 'external',
    chunkNames: 'chunk-[hash]',
  });
  await build({
    ...common,
    format: 'cjs',
    entryPoints: [path.join(root, 'src', 'main.ts')],
    outfile: path.join(out, 'main.cjs'),
    packages: 'external',
    // the modules' own address, as an ES module has it
    define: { 'import.meta.url': '__omniShipModuleUrl' },
    // strict, as an ES module is (a banner comes before esbuild's own "use strict", which then is no directive).
    // __omniShipBuiltin: a default import of a built-in (import fs from 'node:fs') comes out as
    // __toESM(require('node:fs'), 1), which copies each of the module's ~100 properties onto a new object as a
    // getter, once per importing module (~2 ms in all); an object whose prototype is the module, with the module as
    // its default, reads the same (put in its place below)
    banner: {
      js: [
        '"use strict";',
        'const __omniShipModuleUrl = require("node:url").pathToFileURL(__filename).href;',
        'const __omniShipBuiltin = (m) => Object.create(m, { default: { value: m, enumerable: true } });',
        // dynamic import(): through the function bin/omni-ship.js passes when it compiles this file with V8's code
        // cache (a vm.Script, where Node 20 resolves an import() only through an experimental option, and loses
        // it when the script comes from cached data); required the plain way, import() itself
        'const __omniShipImport = typeof __omniShipImportFrom === "function" ? __omniShipImportFrom : (s) => import(s);',
      ].join('\n'),
    },
    plugins: [{
      name: 'cli-entry',
      setup(b) {
        // main.ts's import of the cli stays an import, of the split entry built beside it
        b.onResolve({ filter: /^\.\/cli\.js$/ }, (args) => (args.importer === path.join(root, 'src', 'main.ts') ? { path: args.path, external: true } : undefined));
      },
    }],
  });
  const entry = path.join(out, 'main.cjs');
  const text = fs.readFileSync(entry, 'utf8');
  // after the banner (whose own import() is the fallback), every dynamic import() goes through __omniShipImport
  const bannerEnd = text.indexOf('\n', text.indexOf('const __omniShipImport ='));
  const code = text.slice(0, bannerEnd) + text.slice(bannerEnd)
    .replace(/__toESM\((require\("node:[a-z_/]+"\)), 1\)/g, '__omniShipBuiltin($1)')
    .replace(/(?<![\w$.])import\(/g, '__omniShipImport(');
  fs.writeFileSync(entry, code);
  // the build's own check: the entry must not require() an ES module (Node 20 refuses), nor load a package eagerly
  const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).filter((m) => !m.startsWith('node:'));
  if (required.length) throw new Error(`dist/bundle/main.cjs requires ${required.join(', ')}: only built-ins may be required there`);
});
