#!/usr/bin/env node
// The bundle (dist/bundle/, a few modules where tsc's dist/ has ~130: Node's start pays per module) when the build
// made it (scripts/bundle-vendor.mjs), else tsc's modules.
import fs from 'node:fs';

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const { main } = await import(fs.existsSync(bundle) ? bundle.href : '../dist/main.js');
await main(process.argv);
