#!/usr/bin/env node
// Status benchmark (issue 3): builds synthetic repositories with git fast-import (N tasks, N commits, 3N notes),
// then measures in the same run:
//   - the median wall time of `omni-ship status --json --all` right after a notes ref moved, for the same refs a second
//     time (when status stores its answer), and a third time (when it reads it back); the budget is judged on the
//     slowest of the three; and, for information, of a cold run without the machine-local caches, which re-reads
//     and re-parses every note;
//   - the median of `node -e ''` plus git's own reads (`git notes list | git cat-file --batch` per notes ref, and
//     one `git log` with trailers);
//   - how many git processes `status` spawns at 1,000 and at 10,000 tasks (through a PATH wrapper that logs each).
// Budget: status at most 1.5x node-plus-git-reads, and the same process count at both sizes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');
const RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 15);
const BUDGET = 1.5;
const gitBin = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', NO_COLOR: '1' };
for (const k of Object.keys(env)) if (k.startsWith('GIT_') && !['GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL'].includes(k)) delete env[k];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A repository with `tasks` tasks: 90% landed on main, 10% on task branches; notes: patchset + review per commit, verify per tree. */
function build(dir, tasks) {
  sh('git', ['init', '-q', '--initial-branch=main', dir]);
  const git = (args, opts) => sh('git', ['-C', dir, ...args], opts);
  git(['config', 'user.name', 'Bench']);
  git(['config', 'user.email', 'bench@example.com']);
  const landed = Math.round(tasks * 0.9);
  const parts = [];
  const t0 = 1_700_000_000;
  for (let i = 1; i <= landed; i++) {
    const msg = `task ${i}\n\nTask-Id: t-${i}\n`;
    parts.push(`commit refs/heads/main\nmark :${i}\ncommitter Bench <bench@example.com> ${t0 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`);
    if (i > 1) parts.push(`from :${i - 1}\n`);
    const content = `line ${i}\n`;
    parts.push(`M 100644 inline f${i % 100}\ndata ${content.length}\n${content}\n`);
  }
  for (let i = landed + 1; i <= tasks; i++) {
    const msg = `task ${i}\n\nTask-Id: t-${i}\n`;
    parts.push(`commit refs/heads/t-${i}\nmark :${i}\ncommitter Bench <bench@example.com> ${t0 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}from :${landed}\n`);
    const content = `branch ${i}\n`;
    parts.push(`M 100644 inline g${i}\ndata ${content.length}\n${content}\n`);
  }
  git(['fast-import', '--quiet'], { input: parts.join('') });
  // notes, keyed by commit (patchsets, reviews) and by tree (verify)
  const commits = git(['log', '--all', '--format=%H %T %(trailers:key=Task-Id,valueonly,separator=)']).trim().split('\n');
  const notes = { patchsets: [], reviews: [], verify: [] };
  const at = (i) => new Date((t0 + i) * 1000).toISOString();
  for (const line of commits) {
    const [sha, tree, task] = line.split(' ');
    const i = Number(task.slice(2));
    const base = { v: 1, at: at(i), by: 'Bench <bench@example.com>', host: 'bench/00000000' };
    notes.patchsets.push([sha, { ...base, type: 'patchset', author: 'Bench <bench@example.com>', branch: `t-${i}`, commit: sha, parent: null, supersedes: null, task, tree, via: 'commit' }]);
    notes.reviews.push([sha, { ...base, type: 'review', commit: sha, message: null, task, verdict: 'approve' }]);
    notes.verify.push([tree, { ...base, type: 'verify', commit: sha, exitCode: 0, result: 'pass', spec: 'bench', step: null, summary: null, task, tree }]);
  }
  for (const [log, list] of Object.entries(notes)) {
    const body = [`commit refs/notes/omni-ship/${log}\ncommitter Bench <bench@example.com> ${t0} +0000\ndata 6\nbench\n`];
    for (const [object, event] of list) {
      const text = `${encodeEvent(event)}\n`;
      body.push(`M 100644 inline ${object.slice(0, 2)}/${object.slice(2)}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
    }
    git(['fast-import', '--quiet'], { input: body.join('') });
  }
  git(['gc', '-q']);
  return { commits: commits.length, notes: notes.patchsets.length + notes.reviews.length + notes.verify.length };
}

/** As omni-ship writes an event (src/notes/events.ts encodeEvent): v, type, at, by, host, then the rest sorted. */
function encodeEvent(event) {
  const { v, type, at, by, host, ...rest } = event;
  const ordered = { v, type, at, by, host };
  for (const key of Object.keys(rest).sort()) ordered[key] = rest[key];
  return JSON.stringify(ordered);
}

function timeOnce(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 30, ...opts });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** git's own reads, as the issue names them: per notes ref `git notes list | git cat-file --batch`, and one log. */
function gitReads(dir) {
  let ms = 0;
  for (const log of ['patchsets', 'reviews', 'verify']) {
    ms += timeOnce('sh', ['-c', `git notes --ref=omni-ship/${log} list | git cat-file --batch='%(objectname) %(objecttype) %(objectsize) %(rest)' > /dev/null`], { cwd: dir });
  }
  ms += timeOnce('git', ['log', 'main', '--format=%H%x1f%T%x1f%(trailers:key=Task-Id,valueonly)'], { cwd: dir });
  return ms;
}

function countGitProcesses(dir, wrapperDir, extraEnv = {}) {
  const log = path.join(wrapperDir, 'calls.log');
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, [bin, 'status', '--json', '--all'], {
    cwd: dir,
    env: { ...env, PATH: `${wrapperDir}:${env.PATH}`, OMNI_SHIP_GIT_LOG: log, ...extraEnv },
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-status-'));
try {
  const wrapperDir = path.join(work, 'wrapper');
  fs.mkdirSync(wrapperDir);
  fs.writeFileSync(path.join(wrapperDir, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "$OMNI_SHIP_GIT_LOG"\nexec ${gitBin} "$@"\n`, { mode: 0o755 });

  const small = path.join(work, 'tasks-1000');
  const large = path.join(work, 'tasks-10000');
  process.stdout.write('building synthetic repositories with git fast-import…\n');
  const smallInfo = build(small, 1000);
  const largeInfo = build(large, 10_000);
  process.stdout.write(`  1,000 tasks: ${smallInfo.commits} commits, ${smallInfo.notes} notes\n`);
  process.stdout.write(`  10,000 tasks: ${largeInfo.commits} commits, ${largeInfo.notes} notes\n`);

  // sanity: status must really see the tasks, or the benchmark measures nothing
  const out = JSON.parse(sh(process.execPath, [bin, 'status', '--json', '--all'], { cwd: large }));
  if (out.tasks.length !== 10_000) throw new Error(`status listed ${out.tasks.length} tasks, expected 10000`);

  const moved = [];
  const again = [];
  const steady = [];
  const cold = [];
  const node = [];
  const reads = [];
  // a task on a branch (the last 10% of tasks): reviewing it moves refs/notes/omni-ship/reviews
  let reviewed = 0;
  const moveANotesRef = () => {
    const task = `t-${10_000 - (reviewed++ % 500)}`;
    const r = spawnSync(process.execPath, [bin, 'review', task, '--approve', '-m', `bench ${reviewed}`], { cwd: large, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`review ${task} failed: ${r.stderr}`);
  };
  const statusRun = (extraEnv) => timeOnce(process.execPath, [bin, 'status', '--json', '--all'], { cwd: large, ...(extraEnv ? { env: { ...env, ...extraEnv } } : {}) });
  for (let i = 0; i < 2; i++) statusRun(); // warm-up
  for (let i = 0; i < RUNS; i++) {
    // a notes ref moved (one new review, as in a busy pipeline): the changed notes are read, every event folded again
    moveANotesRef();
    moved.push(statusRun());
    // the same refs a second time: computed again, and the answer stored for the next run
    again.push(statusRun());
    // and from then on, while nothing moves (a status polled in a loop): the stored answer
    steady.push(statusRun());
    // cold: no cache, every note read and parsed again (the first status on a new clone)
    cold.push(statusRun({ OMNI_SHIP_NO_CACHE: '1' }));
    node.push(timeOnce(process.execPath, ['-e', '']));
    reads.push(gitReads(large));
  }
  const n = median(node);
  const g = median(reads);
  // the budget holds for every warm case; the slowest one is judged
  const s = Math.max(median(moved), median(again), median(steady));
  const ratio = s / (n + g);
  // like with like: both sizes with a warm cache, and both cold
  // each size in the same state: with the notes cached but no stored answer (what a moved ref costs), with the
  // stored answer (nothing moved), and cold
  const forget = (dir) => {
    for (const f of ['status-cache.json', 'status-seen']) fs.rmSync(path.join(dir, '.git', 'omni-ship', f), { force: true });
  };
  const counted = (dir) => {
    countGitProcesses(dir, wrapperDir);
    forget(dir);
    const computed = countGitProcesses(dir, wrapperDir);
    countGitProcesses(dir, wrapperDir);
    const stored = countGitProcesses(dir, wrapperDir);
    const cold = countGitProcesses(dir, wrapperDir, { OMNI_SHIP_NO_CACHE: '1' });
    return { computed, stored, cold };
  };
  const smallCounts = counted(small);
  const largeCounts = counted(large);
  const smallCalls = smallCounts.computed;
  const largeCalls = largeCounts.computed;
  const smallCold = smallCounts.cold;
  const largeCold = largeCounts.cold;
  const ratioOk = ratio <= BUDGET;
  const countOk = smallCalls.length === largeCalls.length && smallCold.length === largeCold.length && smallCounts.stored.length === largeCounts.stored.length;
  const f = (x) => `${x.toFixed(1)} ms`;
  process.stdout.write(`\nstatus benchmark, 10,000 tasks, ${RUNS} runs each, medians:\n`);
  const x = (ms) => `${(ms / (n + g)).toFixed(2)}x`;
  process.stdout.write(`  node -e ''                                     ${f(n)}\n`);
  process.stdout.write(`  git reads (3 notes refs + log)                 ${f(g)}\n`);
  process.stdout.write(`  omni-ship status --json --all, a notes ref moved     ${f(median(moved))}  ${x(median(moved))}\n`);
  process.stdout.write(`  ... the same refs again (stores the answer)   ${f(median(again))}  ${x(median(again))}\n`);
  process.stdout.write(`  ... and again, nothing moved (reads it)       ${f(median(steady))}  ${x(median(steady))}\n`);
  process.stdout.write(`  omni-ship status --json --all, cold (no cache)       ${f(median(cold))}  ${x(median(cold))}  (for information: a new clone's first status)\n`);
  process.stdout.write(`  ratio status / (node + git reads) = ${ratio.toFixed(2)}x, the slowest warm case (budget: at most ${BUDGET}x) ${ratioOk ? 'PASS' : 'FAIL'}\n`);
  process.stdout.write(
    `  git processes spawned by status at 1,000 and 10,000 tasks: notes cached ${smallCalls.length} and ${largeCalls.length}; answer stored ${smallCounts.stored.length} and ${largeCounts.stored.length}; cold ${smallCold.length} and ${largeCold.length} ${countOk ? 'PASS (constant)' : 'FAIL (grows with tasks)'}\n`,
  );
  for (const c of largeCold) process.stdout.write(`    git ${c.length > 100 ? `${c.slice(0, 100)}…` : c}\n`);
  process.exitCode = ratioOk && countOk ? 0 : 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
