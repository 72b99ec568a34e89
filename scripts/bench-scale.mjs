#!/usr/bin/env node
// The scale benchmark (issue 10; run by `scripts/bench scale`, expects dist/ to be built). It builds, with
// `git fast-import`, a bare remote whose `main` holds COMMITS commits, every third one a landed task's (TASKS
// tasks), with the notes omni-ship keeps for each (a patchset, a verify result, a landing; a review on every tenth)
// and a patchset ref each, as the design keeps them today; three long-lived branches off `main` (`next`, `seen`,
// `todo`, SIDE commits each, as git.git's are); and a handful of tasks in flight. A clone of it (packed, as a clone
// is), synced, is where omni-ship runs. In one run it measures, each against a baseline measured alongside:
//
//   1. `status --json` warm, after one new commit on main: node -e '' + `git log -1` of that commit (budget 1.5x);
//   2. `status --json` warm, after one new event in each notes log: node -e '' + one `git cat-file --batch` of
//      those five notes (budget 1.5x);
//   3. `status --json` warm, after one new commit on a task branch, with the long-lived branches: node -e '' +
//      `git log -1` of that commit (budget 1.5x);
//   4. `status --all --json` warm: printed for information;
//   5. `status --json` in another repository with INFLIGHT tasks in flight (branches with trailers, no notes),
//      nothing moved, refs packed: node -e '' + `git for-each-ref` of those branches with their trailers (1.5x);
//   6. cold `status --json` (no machine-local cache, as a fresh clone's first): node -e '' + git's read of every
//      note (`git notes list | git cat-file --batch` per log) and of the base's trailers (budget 3x);
//   7. `sync` with nothing new: node -e '' + `git fetch` of the same refspecs with nothing new (budget 1.5x);
//   8. the refs under refs/omni-ship/ in the synced clone: at most a few hundred (budget 500).
//
// Environment: BENCH_SCALE_COMMITS (default 300000), BENCH_SCALE_TASKS (default COMMITS/3), BENCH_SCALE_SIDE
// (commits per long-lived branch, default 3000), BENCH_SCALE_INFLIGHT (default 10000), BENCH_RUNS (timed runs per
// measurement, default 11, and 5 for the slow cases 4 and 6; at least 3), BENCH_SCALE_ONLY (the cases to run, by number: "7,8"; default all), BENCH_SCALE_KEEP (keep the
// repositories and print where), BENCH_SCALE_REUSE (the directory such a run kept: measure there again, without
// building; the cases add commits and events to it, as they would to a repository in use). Smaller
// values make a quick trial run; the budgets hold at the defaults.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');
const { encodeEvent } = await import(path.join(root, 'dist', 'notes', 'events.js'));
const num = (name, fallback) => {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const COMMITS = num('BENCH_SCALE_COMMITS', 300_000);
const TASKS = Math.min(num('BENCH_SCALE_TASKS', Math.floor(COMMITS / 3)), Math.floor(COMMITS / 3));
const SIDE = num('BENCH_SCALE_SIDE', 3000);
const INFLIGHT = num('BENCH_SCALE_INFLIGHT', 10_000);
// a warm run takes tens of milliseconds, and a loaded machine moves one run by as much: eleven of them make a steady
// median. A run of the slow cases (4 and 6) takes seconds, and five do
const RUNS = Math.max(3, num('BENCH_RUNS', 11));
const SLOW_RUNS = Math.max(3, num('BENCH_RUNS', 5));
const IN_FLIGHT_HERE = 5;
const REFS_BUDGET = 500;
const T0 = 1_700_000_000;
const WHO = 'Bench <bench@example.com>';

const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', NO_COLOR: '1' };
const ONLY = (process.env.BENCH_SCALE_ONLY ?? '').split(',').map((n) => Number.parseInt(n, 10)).filter(Number.isInteger);
/** Whether case n is measured in this run. */
const wanted = (n) => ONLY.length === 0 || ONLY.includes(n);
for (const k of Object.keys(env)) if ((k.startsWith('GIT_') && !['GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL'].includes(k)) || k.startsWith('OMNI_SHIP_')) delete env[k];
// glibc trims the heap each time fast-import frees its buffers (see bench-land.mjs): keep that memory
const heap = { MALLOC_TOP_PAD_: String(256 << 20), MALLOC_TRIM_THRESHOLD_: String(256 << 20) };

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}
const gitIn = (dir, args, opts) => sh('git', ['-C', dir, ...args], opts);

function timeOnce(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return ms;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const node = () => timeOnce(process.execPath, ['-e', '']);
const omni = (cwd, args, extraEnv = {}) => timeOnce(process.execPath, [bin, ...args], { cwd, env: { ...env, ...extraEnv } });
const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
const notePath = (oid) => `${oid.slice(0, 2)}/${oid.slice(2)}`;
const at = (i) => new Date((T0 + i) * 1000).toISOString();

/** The bare remote, built with fast-import (see the header). */
function buildRemote(dir) {
  sh('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
  const parts = [];
  for (let i = 1; i <= COMMITS; i++) {
    const task = i % 3 === 0 && i / 3 <= TASKS ? `t-${i / 3}` : null;
    const msg = task ? `change ${i}\n\nTask-Id: ${task}\n` : `change ${i}\n`;
    parts.push(`commit refs/heads/main\nmark :${i}\ncommitter ${WHO} ${T0 + i} +0000\n${data(msg)}`);
    if (i > 1) parts.push(`from :${i - 1}\n`);
    parts.push(`M 100644 inline d${i % 64}/f${i % 4096}\n${data(`line ${i}\n`)}`);
  }
  // long-lived branches off main, well behind its tip
  const fork = Math.max(1, COMMITS - 5000);
  let mark = COMMITS;
  for (const name of ['next', 'seen', 'todo']) {
    for (let j = 1; j <= SIDE; j++) {
      mark++;
      const msg = `${name} work ${j}\n`;
      parts.push(`commit refs/heads/${name}\nmark :${mark}\ncommitter ${WHO} ${T0 + fork + j} +0000\n${data(msg)}from :${j === 1 ? fork : mark - 1}\n`);
      parts.push(`M 100644 inline ${name}/f${j % 512}\n${data(`${name} ${j}\n`)}`);
    }
  }
  // a handful of tasks in flight: one commit each on the tip of main
  for (let k = 1; k <= IN_FLIGHT_HERE; k++) {
    mark++;
    const task = `t-${TASKS + k}`;
    const msg = `work on ${task}\n\nTask-Id: ${task}\n`;
    parts.push(`commit refs/heads/${task}\nmark :${mark}\ncommitter ${WHO} ${T0 + COMMITS + k} +0000\n${data(msg)}from :${COMMITS}\n`);
    parts.push(`M 100644 inline ${task}.txt\n${data(`${task}\n`)}`);
  }
  sh('git', ['-C', dir, 'fast-import', '--quiet', `--export-marks=${path.join(dir, 'marks')}`], { input: parts.join(''), env: { ...env, ...heap } });

  // the task commits and their trees
  const log = gitIn(dir, ['log', '--format=%H %T %(trailers:key=Task-Id,valueonly,separator=)', 'main']).trim().split('\n');
  const tasks = [];
  for (const line of log) {
    const [sha, tree, task] = line.split(' ');
    if (task) tasks.push({ sha, tree, task });
  }
  const logs = { patchsets: [], verify: [], lands: [], reviews: [] };
  for (const { sha, tree, task } of tasks) {
    const i = Number(task.slice(2)) * 3;
    const base = { v: 1, at: at(i), by: WHO, host: 'bench/00000000' };
    logs.patchsets.push([sha, { ...base, type: 'patchset', author: WHO, branch: task, commit: sha, parent: null, supersedes: null, task, tree, via: 'commit' }]);
    logs.verify.push([tree, { ...base, type: 'verify', commit: sha, exitCode: 0, result: 'pass', spec: 'bench', step: null, summary: 'all 1 step(s) passed', task, tree }]);
    logs.lands.push([sha, { ...base, type: 'land', base: 'main', commit: sha, landed: sha, newTip: sha, oldTip: null, patchset: 1, task }]);
    if (Number(task.slice(2)) % 10 === 0) logs.reviews.push([sha, { ...base, type: 'review', commit: sha, message: 'lgtm', task, verdict: 'approve' }]);
  }
  // an attempts log with a little in it, so every log exists
  logs.attempts = tasks.slice(0, 100).map(({ sha, task }) => [sha, { v: 1, type: 'attempt', at: at(1), by: WHO, host: 'bench/00000000', commit: sha, error: 'a conflict', outcome: 'fail', role: 'land', task }]);
  const notes = [];
  for (const [name, list] of Object.entries(logs)) {
    notes.push(`commit refs/notes/omni-ship/${name}\ncommitter ${WHO} ${T0} +0000\n${data('bench')}`);
    for (const [object, event] of list) notes.push(`M 100644 inline ${notePath(object)}\n${data(`${encodeEvent(event)}\n`)}`);
  }
  // every patchset commit kept by the kept ref, one keeper per patchset as the hooks make them (src/notes/kept.ts)
  tasks.forEach(({ sha }, i) => {
    const msg = `omni-ship: keeps 1 patchset commit reachable\n\nOmni-Ship-Keeper: generation ${i + 1}, keepers ${i ? 1 : 0}\n`;
    notes.push(`commit refs/omni-ship/kept\ncommitter omni-ship <omni-ship@localhost> ${T0 + i} +0000\n${data(msg)}${i ? '' : `from ${sha}\n`}${i ? `merge ${sha}\n` : ''}deleteall\n\n`);
  });
  sh('git', ['-C', dir, 'fast-import', '--quiet'], { input: notes.join(''), env: { ...env, ...heap } });
  gitIn(dir, ['pack-refs', '--all']);
  gitIn(dir, ['gc', '-q']);
  return { tasks: tasks.length };
}

/** The other repository: a short base and INFLIGHT task branches with trailers, no notes, refs packed. */
function buildInFlight(dir) {
  sh('git', ['init', '-q', '--initial-branch=main', dir]);
  const parts = [];
  for (let i = 1; i <= 1000; i++) {
    parts.push(`commit refs/heads/main\nmark :${i}\ncommitter ${WHO} ${T0 + i} +0000\n${data(`base ${i}\n`)}${i > 1 ? `from :${i - 1}\n` : ''}M 100644 inline f${i % 100}\n${data(`base ${i}\n`)}`);
  }
  for (let k = 1; k <= INFLIGHT; k++) {
    const task = `t-${k}`;
    parts.push(`commit refs/heads/${task}\nmark :${1000 + k}\ncommitter ${WHO} ${T0 + 1000 + k} +0000\n${data(`work on ${task}\n\nTask-Id: ${task}\n`)}from :1000\nM 100644 inline ${task}.txt\n${data(`${task}\n`)}`);
  }
  sh('git', ['-C', dir, 'fast-import', '--quiet'], { input: parts.join(''), env: { ...env, ...heap } });
  gitIn(dir, ['config', 'user.name', 'Bench']);
  gitIn(dir, ['config', 'user.email', 'bench@example.com']);
  gitIn(dir, ['pack-refs', '--all']);
  gitIn(dir, ['gc', '-q']);
}

const results = [];
/** Records one measurement: omni-ship's median against the baseline's, with its budget (null: for information). */
function report(what, omniMs, baseMs, budget, baseWhat) {
  const ratio = omniMs / baseMs;
  const pass = budget === null || ratio <= budget;
  results.push({ what, pass });
  const verdict = budget === null ? '(for information)' : `(budget ${budget}x) ${pass ? 'PASS' : 'FAIL'}`;
  console.log(`${what}: ${omniMs.toFixed(0)} ms vs ${baseWhat} ${baseMs.toFixed(0)} ms: ${ratio.toFixed(2)}x ${verdict}`);
}

const REUSE = process.env.BENCH_SCALE_REUSE;
const tmp = REUSE ? fs.realpathSync(REUSE) : fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-scale-')));
let failed = false;
try {
  const started = Date.now();
  const remote = path.join(tmp, 'remote.git');
  const work = path.join(tmp, 'work');
  let tasks = TASKS;
  if (!REUSE) {
    ({ tasks } = buildRemote(remote));
    sh('git', ['clone', '-q', remote, work]);
    gitIn(work, ['config', 'user.name', 'Bench']);
    gitIn(work, ['config', 'user.email', 'bench@example.com']);
    gitIn(work, ['config', 'gc.auto', '0']);
    for (const b of ['next', 'seen', 'todo', ...Array.from({ length: IN_FLIGHT_HERE }, (_, k) => `t-${TASKS + k + 1}`)]) gitIn(work, ['branch', '-q', b, `origin/${b}`]);
    omni(work, ['sync']);
  }
  console.log(`repository: ${COMMITS.toLocaleString('en-US')} commits on main, ${tasks.toLocaleString('en-US')} landed tasks with notes, 3 long-lived branches of ${SIDE.toLocaleString('en-US')} commits, ${IN_FLIGHT_HERE} tasks in flight (built and synced in ${((Date.now() - started) / 1000).toFixed(0)} s); ${RUNS} runs per measurement (${SLOW_RUNS} for --all and cold), medians`);
  omni(work, ['status', '--json']);
  omni(work, ['status', '--json']);

  // 1. one new commit on main
  if (wanted(1)) {
    const o = [];
    const b = [];
    for (let r = 0; r < RUNS; r++) {
      const tip = gitIn(work, ['rev-parse', 'main']).trim();
      const commit = gitIn(work, ['commit-tree', `${tip}^{tree}`, '-p', tip, '-m', `moved ${r}\n\nTask-Id: t-${TASKS + 100 + r}`]).trim();
      gitIn(work, ['update-ref', 'refs/heads/main', commit, tip]);
      o.push(omni(work, ['status', '--json']));
      b.push(node() + timeOnce('git', ['log', '-1', '--format=%H%x1f%T%x1f%(trailers:key=Task-Id,valueonly)', commit], { cwd: work }));
    }
    report('status, after one new commit on main', median(o), median(b), 1.5, "node + git log of it");
  }
  // 2. one new event in each notes log
  if (wanted(2)) {
    const o = [];
    const b = [];
    const object = gitIn(work, ['rev-parse', 'main']).trim();
    const tree = gitIn(work, ['rev-parse', 'main^{tree}']).trim();
    for (let r = 0; r < RUNS; r++) {
      const blobs = [];
      for (const log of ['patchsets', 'verify', 'lands', 'attempts', 'reviews']) {
        const target = log === 'verify' ? tree : object;
        // a valid event of each log's type, as omni-ship writes them (a task in flight's: its view is built again)
        const task = `t-${TASKS + 1}`;
        const head = { v: 1, at: new Date().toISOString(), by: WHO, host: 'bench/00000000' };
        const event = {
          patchsets: { ...head, type: 'patchset', task, commit: object, tree, parent: null, branch: null, supersedes: null, via: 'manual' },
          verify: { ...head, type: 'verify', tree, spec: 'bench', result: 'pass', commit: object, task, step: null, exitCode: 0, summary: `round ${r}` },
          lands: { ...head, type: 'land', task, commit: object, landed: object, base: 'main' },
          attempts: { ...head, type: 'attempt', task, commit: object, role: 'dev', outcome: 'fail', error: `round ${r}` },
          reviews: { ...head, type: 'review', task, commit: object, verdict: 'approve', message: `round ${r}` },
        }[log];
        gitIn(work, ['notes', `--ref=omni-ship/${log}`, 'append', '-m', encodeEvent(event), target]);
        blobs.push(`refs/notes/omni-ship/${log}:${notePath(target)}`);
      }
      o.push(omni(work, ['status', '--json']));
      b.push(node() + timeOnce('git', ['cat-file', '--batch'], { cwd: work, input: `${blobs.join('\n')}\n` }));
    }
    report('status, after one new event in each notes log', median(o), median(b), 1.5, 'node + cat-file of those notes');
  }
  // 3. one new commit on a task branch, with the long-lived branches off main
  if (wanted(3)) {
    const o = [];
    const b = [];
    const branch = `t-${TASKS + 1}`;
    for (let r = 0; r < RUNS; r++) {
      const tip = gitIn(work, ['rev-parse', branch]).trim();
      const commit = gitIn(work, ['commit-tree', `${tip}^{tree}`, '-p', `${tip}^`, '-m', `work on ${branch}, take ${r}\n\nTask-Id: ${branch}`]).trim();
      gitIn(work, ['update-ref', `refs/heads/${branch}`, commit, tip]);
      o.push(omni(work, ['status', '--json']));
      b.push(node() + timeOnce('git', ['log', '-1', '--format=%H%x1f%T%x1f%P%x1f%(trailers:key=Task-Id,valueonly)', commit], { cwd: work }));
    }
    report('status, after one new commit on a task branch (long-lived branches off main)', median(o), median(b), 1.5, 'node + git log of it');
  }
  // 4. status --all --json, warm
  if (wanted(4)) {
    omni(work, ['status', '--json', '--all']);
    const o = [];
    const b = [];
    for (let r = 0; r < SLOW_RUNS; r++) {
      o.push(omni(work, ['status', '--json', '--all']));
      b.push(node());
    }
    report('status --all --json, warm, nothing moved', median(o), median(b), null, 'node');
  }
  // 5. INFLIGHT tasks in flight, nothing moved
  if (wanted(5)) {
    const many = path.join(tmp, 'in-flight');
    buildInFlight(many);
    omni(many, ['status', '--json']);
    omni(many, ['status', '--json']);
    const o = [];
    const b = [];
    for (let r = 0; r < RUNS; r++) {
      o.push(omni(many, ['status', '--json']));
      b.push(node() + timeOnce('git', ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(trailers:key=Task-Id,valueonly)', 'refs/heads'], { cwd: many }));
    }
    report(`status, ${INFLIGHT.toLocaleString('en-US')} tasks in flight, nothing moved`, median(o), median(b), 1.5, 'node + for-each-ref with trailers');
  }
  // 6. cold status
  if (wanted(6)) {
    const o = [];
    const b = [];
    for (let r = 0; r < SLOW_RUNS; r++) {
      o.push(omni(work, ['status', '--json'], { OMNI_SHIP_NO_CACHE: '1' }));
      let ms = node();
      for (const log of ['patchsets', 'verify', 'lands', 'attempts', 'reviews']) {
        ms += timeOnce('sh', ['-c', `git notes --ref=omni-ship/${log} list | git cat-file --batch > /dev/null`], { cwd: work });
      }
      ms += timeOnce('git', ['log', 'main', '--format=%H%x1f%(trailers:key=Task-Id,valueonly)'], { cwd: work });
      b.push(ms);
    }
    report('status, cold (no machine-local cache)', median(o), median(b), 3, "node + git's read of every note and the base's trailers");
  }
  // 7. sync with nothing new
  if (wanted(7)) {
    omni(work, ['sync']);
    const specs = ['+refs/notes/omni-ship/*:refs/omni-ship/remote-notes/origin/*', '+refs/omni-ship/kept*:refs/omni-ship/remote-kept/origin/kept*', '+refs/omni-ship/patchsets/*:refs/omni-ship/remote-patchsets/origin/*', '+refs/notes/omni-ship-landed*:refs/omni-ship/remote-display/origin/omni-ship-landed*'];
    const o = [];
    const b = [];
    for (let r = 0; r < RUNS; r++) {
      o.push(omni(work, ['sync']));
      b.push(node() + timeOnce('git', ['fetch', '-q', '--no-tags', 'origin', ...specs], { cwd: work }));
    }
    report('sync, nothing new', median(o), median(b), 1.5, 'node + git fetch of the same refs');
  }
  // 8. refs under refs/omni-ship/
  if (wanted(8)) {
    const count = gitIn(work, ['for-each-ref', '--format=%(refname)', 'refs/omni-ship/']).split('\n').filter(Boolean).length;
    const pass = count <= REFS_BUDGET;
    results.push({ what: 'refs', pass });
    console.log(`refs under refs/omni-ship/ with ${tasks.toLocaleString('en-US')} landed tasks: ${count.toLocaleString('en-US')} (budget at most ${REFS_BUDGET}) ${pass ? 'PASS' : 'FAIL'}`);
  }
  failed = results.some((r) => !r.pass);
  console.log(`scale benchmark: ${failed ? 'FAIL' : 'PASS'} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
} catch (error) {
  console.error(`scale benchmark: error: ${error.message}`);
  failed = true;
} finally {
  if (process.env.BENCH_SCALE_KEEP || REUSE) console.log(`kept for inspection: ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
