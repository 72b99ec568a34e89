#!/usr/bin/env node
// The verify benchmark (run by `scripts/bench verify`; expects dist/ to be built). In one run, on a synthetic
// repository of 5,000 files:
//
// 1. A cache hit: `omni-ship verify <commit>` of a verified commit, against `node -e ''` (budget 2x).
// 2. A new commit, warm pool: `omni-ship verify <commit>` of a commit whose tree was never verified, with the
//    single step `true`, against `node -e ''` (budget 4x): start, execa, checkout, clean, the step, the note.
// 3. The predecessors' way, for information: `git worktree add` + the step + `git worktree remove`.
// 4. A burst: 20 amends in a row with verify.onCommit and the hooks installed: how many times the steps ran
//    (budget: at most 2).
//
// Timed sides alternate, so both see the same machine load. Environment: BENCH_RUNS (timed runs per side,
// default 20, at least 10).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');
const FILES = 5000;
const HIT_BUDGET = 2;
const NEW_BUDGET = 4;
const BURST = 20;
const BURST_BUDGET = 2;
const runs = Math.max(10, Number.parseInt(process.env.BENCH_RUNS ?? '', 10) || 20);

/** The environment of every process here: none of the caller's git or omni-ship settings. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k.startsWith('OMNI_SHIP_')) continue;
    env[k] = v;
  }
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...extra };
}
const ENV = cleanEnv();

function run(cmd, args, cwd, opts = {}) {
  const r = spawnSync(cmd, args, { cwd, env: opts.env ?? ENV, encoding: 'utf8', input: opts.input, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0 && !(opts.ok ?? [0]).includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}) in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const git = (cwd, ...args) => run('git', args, cwd);
const omni = (cwd, ...args) => run(process.execPath, [bin, ...args], cwd);

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
const ms = (v) => `${v.toFixed(1)} ms`;

/** A repository of FILES files in 50 directories on main, with a committed verify config, built with fast-import. */
function makeRepo(parent, verify) {
  const dir = path.join(parent, 'repo');
  fs.mkdirSync(dir);
  git(dir, 'init', '-q', '--initial-branch=main');
  for (const [k, v] of [['user.name', 'Bench User'], ['user.email', 'bench@example.com'], ['commit.gpgsign', 'false'], ['gc.auto', '0']]) git(dir, 'config', k, v);
  const parts = ['commit refs/heads/main\ncommitter Bench User <bench@example.com> 1700000000 +0000\ndata 8\nfixture\n'];
  for (let i = 0; i < FILES; i++) {
    const body = `file ${i}\n${'x'.repeat(200)}\n`;
    parts.push(`M 100644 inline src/d${i % 50}/f${i}.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`);
  }
  const config = `${JSON.stringify({ verify })}\n`;
  parts.push(`M 100644 inline .omni-shiprc.json\ndata ${Buffer.byteLength(config)}\n${config}\n`);
  run('git', ['fast-import', '--quiet'], dir, { input: parts.join('') });
  git(dir, 'checkout', '-q', '-f', 'main');
  return dir;
}

/** A new commit on top of HEAD that changes one file (a tree never verified), without hooks. */
let serial = 0;
function newCommit(dir) {
  fs.writeFileSync(path.join(dir, 'src', 'd0', 'changed.txt'), `change ${++serial} ${Date.now()}\n`);
  git(dir, 'add', 'src/d0/changed.txt');
  git(dir, '-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', `change ${serial}`);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-verify-'));
let failed = false;
try {
  const dir = makeRepo(tmp, { steps: [{ name: 'true', run: 'true' }] });
  console.log(`repository: ${FILES} files; ${runs} timed runs per side`);

  // 1. a cache hit
  const verified = newCommit(dir);
  omni(dir, 'verify', verified);
  const hit = [];
  const node = [];
  for (let i = 0; i < 3; i++) omni(dir, 'verify', verified);
  for (let i = 0; i < runs; i++) {
    hit.push(timed(() => omni(dir, 'verify', verified)));
    node.push(timed(() => run(process.execPath, ['-e', ''], dir)));
  }
  const hitRatio = median(hit) / median(node);
  console.log(`cache hit: omni-ship verify ${ms(median(hit))}, node -e '' ${ms(median(node))}: ${hitRatio.toFixed(2)}x (budget ${HIT_BUDGET}x) ${hitRatio <= HIT_BUDGET ? 'PASS' : 'FAIL'}`);
  if (hitRatio > HIT_BUDGET) failed = true;

  // 2. a new commit, warm pool; 3. the predecessors' way, alternating
  const fresh = [];
  const node2 = [];
  const worktree = [];
  const wt = path.join(tmp, 'wt');
  for (let i = 0; i < runs; i++) {
    const sha = newCommit(dir);
    fresh.push(timed(() => omni(dir, 'verify', sha)));
    node2.push(timed(() => run(process.execPath, ['-e', ''], dir)));
    worktree.push(
      timed(() => {
        git(dir, '-c', 'core.hooksPath=/dev/null', 'worktree', 'add', '-q', '--detach', wt, sha);
        run('sh', ['-c', 'true'], wt);
        git(dir, 'worktree', 'remove', '--force', wt);
      }),
    );
  }
  const newRatio = median(fresh) / median(node2);
  console.log(`new commit, warm pool: omni-ship verify ${ms(median(fresh))}, node -e '' ${ms(median(node2))}: ${newRatio.toFixed(2)}x (budget ${NEW_BUDGET}x) ${newRatio <= NEW_BUDGET ? 'PASS' : 'FAIL'}`);
  if (newRatio > NEW_BUDGET) failed = true;
  console.log(`for information, the predecessors' way (git worktree add + the step + git worktree remove): ${ms(median(worktree))}; omni-ship takes ${(median(fresh) / median(worktree)).toFixed(2)}x of that`);

  // 4. a burst of amends with the hooks and verify.onCommit
  const counter = path.join(tmp, 'burst-runs');
  const burstDir = path.join(tmp, 'burst');
  fs.mkdirSync(burstDir);
  const bdir = makeRepo(burstDir, { steps: [{ name: 'count', run: `echo run >> '${counter}'; sleep 1` }] });
  omni(bdir, 'install-hooks');
  git(bdir, 'switch', '-q', '-c', 't-1');
  fs.writeFileSync(path.join(bdir, 'burst.txt'), 'start\n');
  git(bdir, 'add', 'burst.txt');
  git(bdir, 'commit', '-q', '-m', 'burst');
  for (let i = 0; i < BURST; i++) {
    fs.writeFileSync(path.join(bdir, 'burst.txt'), `amend ${i}\n`);
    git(bdir, 'add', 'burst.txt');
    git(bdir, 'commit', '-q', '--amend', '-m', `burst ${i}`);
  }
  const lastTree = git(bdir, 'rev-parse', 'HEAD^{tree}').trim();
  const deadline = Date.now() + 120_000;
  let answered = false;
  while (Date.now() < deadline) {
    const note = spawnSync('git', ['notes', '--ref=refs/notes/omni-ship/verify', 'show', lastTree], { cwd: bdir, env: ENV, encoding: 'utf8' });
    if (note.status === 0 && /"result":"pass"/.test(note.stdout)) {
      answered = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // let any run that is still going end, then count
  await new Promise((r) => setTimeout(r, 3000));
  const ran = fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0;
  const burstOk = answered && ran >= 1 && ran <= BURST_BUDGET;
  console.log(`burst: ${BURST + 1} commits (1 + ${BURST} amends) ran the steps ${ran} time(s) (budget at most ${BURST_BUDGET}); the last patchset ${answered ? 'was verified' : 'was NOT verified'} ${burstOk ? 'PASS' : 'FAIL'}`);
  if (!burstOk) failed = true;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
