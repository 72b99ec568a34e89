#!/usr/bin/env node
// CommonJS (bin/package.json says so): an ES module's import of a built-in builds a facade of all its exports, and
// fs's getters load its streams, which a `status` never uses. Runs the bundle's entry (dist/bundle/main.cjs, see
// scripts/bundle-vendor.mjs) when the build made it, else tsc's modules.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'main.cjs');
if (fs.existsSync(bundle)) require(bundle).main(process.argv);
else import('../dist/main.js').then((m) => m.main(process.argv));
