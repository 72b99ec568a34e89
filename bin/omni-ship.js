#!/usr/bin/env node
// CommonJS (bin/package.json says so): an ES module's import of a built-in builds a facade of all its exports, and
// fs's getters load its streams, which a `status` never uses. Runs the bundle's entry (dist/bundle/main.cjs, see
// scripts/bundle-vendor.mjs) when the build made it, else tsc's modules.
//
// The bundle is compiled with V8's code cache (dist/.cache/main.cjs-<node version>-<arch>.v8): compiling it and the
// functions a `status` runs costs ≈ 6 ms a process, reading them back ≈ 2 ms. The cache is written beside the
// code it caches (as trusted as that code: whoever can write there can change main.cjs), by the first run that
// finds none that fits, at exit, atomically; where dist/ is read-only it is not kept. Its first line names the
// main.cjs it was made from (size, times, inode: a rebuilt or reinstalled bundle has a new change time), and V8
// itself refuses data of another V8 or other flags. OMNI_SHIP_NO_CACHE=1 neither reads nor writes it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'main.cjs');
// main.cjs runs `status` and `sync` itself and hands every other command to the cli's entry beside it: those go
// there at once (main.cjs unread: ≈ 2 ms)
const command = process.argv[2];
let source = null;
if (command === 'status' || command === 'sync') {
  try {
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    /* no bundle: tsc's modules */
  }
}
if (source !== null) runBundle(source);
else if (fs.existsSync(bundle)) import('../dist/bundle/cli.js').then((m) => m.main(process.argv));
else import('../dist/main.js').then((m) => m.main(process.argv));

function runBundle(source) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const keep = !process.env.OMNI_SHIP_NO_CACHE;
  const cacheFile = path.join(__dirname, '..', 'dist', '.cache', `main.cjs-${process.version}-${process.arch}.v8`);
  let stamp = '';
  let cached;
  let by = '';
  if (keep) {
    try {
      const st = fs.statSync(bundle);
      stamp = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
      const data = fs.readFileSync(cacheFile);
      const nl = data.indexOf(10);
      const [made, madeBy] = data.subarray(0, nl).toString('latin1').split(' ');
      if (nl > 0 && made === stamp) {
        cached = data.subarray(nl + 1);
        by = madeBy ?? '';
      }
    } catch {
      /* none yet */
    }
  }
  // CommonJS's wrapper, and one more parameter: the bundle's dynamic import()s come here (a script's own would need
  // an experimental option of Node 20's vm, lost when the script comes from cached data). Relative to the bundle;
  // a package's name from this package's node_modules, as from the bundle's.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __omniShipImportFrom) { ${source}\n});`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData: cached });
  const importFrom = (specifier) => import(specifier.startsWith('./') ? require('node:url').pathToFileURL(path.join(path.dirname(bundle), specifier)).href : specifier);
  const mod = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle), importFrom);
  mod.loaded = true;
  const { main, plainCommand } = mod.exports;
  // the functions a run compiled are in the data made at its end: made again when none fit, or when the one kept
  // was made by another command than `status` (the one run most, and whose functions matter)
  const command = plainCommand(process.argv.slice(2))?.name ?? 'other';
  if (keep && stamp && (cached === undefined || script.cachedDataRejected || (by !== 'status' && command === 'status'))) {
    process.once('exit', () => {
      try {
        const dir = path.dirname(cacheFile);
        fs.mkdirSync(dir, { recursive: true });
        // the temp files of writers killed before their rename (no live process of that id): nothing else removes them
        for (const name of fs.readdirSync(dir)) {
          const pid = /\.(\d+)\.tmp$/.exec(name)?.[1];
          if (pid && !alive(Number(pid))) fs.rmSync(path.join(dir, name), { force: true });
        }
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${stamp} ${command}\n`, 'latin1'), script.createCachedData()]));
        // a crash test's point (see src/failpoint.ts): killed between the temp file and its rename
        if (process.env.OMNI_SHIP_FAILPOINT === 'code-cache:written') process.kill(process.pid, 'SIGKILL');
        fs.renameSync(tmp, cacheFile);
      } catch {
        /* read-only: compiled again next time */
      }
    });
  }
  main(process.argv);
}

/** Whether a process of this id runs (one of another user's answers EPERM: it runs). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
