#!/usr/bin/env node
// The pipeline benchmark (run by `scripts/bench pipeline`; expects dist/ to be built). In one run:
//
// 1. A small repository with a local bare remote, 50 task records, the fake agent (scripts/fake-agent.mjs) that
//    commits at once, and the single verify step `true`.
// 2. `omni-ship run --until-idle --concurrency 2`, timed. omni-ship's own wall time is the whole run less the
//    time during which an agent or a verify step was running (the union of their intervals, from the agents'
//    durations in the run's events and the steps' in the verify notes), divided by 50.
// 3. The baseline: `node -e ''`, measured in the same run (the median of BASELINE_RUNS).
//
// Budget: omni-ship's own time per task at most 10x `node -e ''`, so the pipeline's overhead stays small next to
// any real agent. For information it prints the git processes and the pushes per task (counted by a `git` on PATH
// that logs each call of omni-ship's own, never the agent's, then runs the real one).
// Environment: BENCH_TASKS (default 50), BENCH_KEEP=1 keeps the scratch folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');
const TASKS = Math.max(4, Number.parseInt(process.env.BENCH_TASKS ?? '', 10) || 50);
const BUDGET = 10;
const BASELINE_RUNS = 11;

function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k.startsWith('OMNI_SHIP_') || k === 'NO_COLOR') continue;
    env[k] = v;
  }
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com', ...extra };
}

function run(cmd, args, cwd, env = cleanEnv()) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}) in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const git = (cwd, ...args) => run('git', args, cwd);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-pipeline-')));
try {
  // --- setup (not timed) ---
  const bare = path.join(scratch, 'origin.git');
  const repo = path.join(scratch, 'repo');
  git(scratch, 'init', '-q', '--bare', bare);
  git(scratch, 'init', '-q', '--initial-branch=main', repo);
  const config = [
    'verify:',
    '  steps:',
    '    - name: ok',
    '      run: "true"',
    'agent:',
    `  command: ${JSON.stringify(['node', path.join(root, 'scripts', 'fake-agent.mjs'), '{promptFile}', '{taskId}', '{workspace}'])}`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(repo, '.omni-shiprc.yaml'), config);
  fs.writeFileSync(path.join(repo, 'README'), 'a small repository\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'initial');
  git(repo, 'remote', 'add', 'origin', bare);
  git(repo, 'push', '-q', 'origin', 'main');
  git(repo, 'fetch', '-q', 'origin');
  for (let i = 1; i <= TASKS; i++) run(process.execPath, [bin, 'task', 'add', `t-${i}`, '--title', `task ${i}`], repo);

  // a git on PATH that logs omni-ship's calls (the agent's environment has no OMNI_SHIP_* variable: not logged)
  const realGit = run('sh', ['-c', 'command -v git'], scratch).trim();
  const shim = path.join(scratch, 'shim');
  const log = path.join(scratch, 'git-calls.log');
  fs.mkdirSync(shim);
  // one line per call: the arguments up to the first newline (a commit message may hold several)
  const script = ['#!/bin/sh', 'if [ -n "$OMNI_SHIP_BENCH_GIT_LOG" ]; then', "  nl='", "'", '  line=$*', '  printf \'%s\\n\' "${line%%"$nl"*}" >> "$OMNI_SHIP_BENCH_GIT_LOG"', 'fi', `exec ${JSON.stringify(realGit)} "$@"`, ''];
  fs.writeFileSync(path.join(shim, 'git'), script.join('\n'), { mode: 0o755 });

  // --- the baseline ---
  const base = [];
  for (let i = 0; i < BASELINE_RUNS; i++) {
    const t = process.hrtime.bigint();
    run(process.execPath, ['-e', ''], scratch);
    base.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const nodeMs = median(base);

  // --- the run (timed) ---
  const env = cleanEnv({ PATH: `${shim}${path.delimiter}${process.env.PATH}`, OMNI_SHIP_BENCH_GIT_LOG: log });
  const t0 = process.hrtime.bigint();
  const out = run(process.execPath, [bin, 'run', '--until-idle', '--concurrency', '2', '--interval', '1', '--json'], repo, env);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const landed = events.filter((e) => e.event === 'landed').length;
  if (landed !== TASKS) throw new Error(`only ${landed} of ${TASKS} tasks landed:\n${out}`);

  // the intervals during which an agent or a step ran: [end - duration, end]
  const intervals = [];
  for (const e of events) if (e.event === 'committed' && typeof e.durationMs === 'number') intervals.push([Date.parse(e.at) - e.durationMs, Date.parse(e.at)]);
  const notes = git(repo, 'log', '-p', '--format=', 'refs/notes/omni-ship/verify');
  for (const line of notes.split('\n')) {
    if (!line.startsWith('+{')) continue;
    const v = JSON.parse(line.slice(1));
    if (v.type === 'verify' && typeof v.durationMs === 'number' && v.result !== 'started') intervals.push([Date.parse(v.at) - v.durationMs, Date.parse(v.at)]);
  }
  intervals.sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let end = -Infinity;
  for (const [s, e] of intervals) {
    if (e <= end) continue;
    busy += e - Math.max(s, end);
    end = e;
  }
  const ownMs = (wallMs - busy) / TASKS;
  const calls = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const pushes = calls.filter((c) => /^push\b|(^| )push /.test(c)).length;
  const ratio = ownMs / nodeMs;
  console.log(`pipeline: ${TASKS} tasks, run --until-idle --concurrency 2: ${(wallMs / 1000).toFixed(1)} s in all, agents and steps running ${(busy / 1000).toFixed(1)} s of it`);
  console.log(`  omni-ship's own time per task: ${ownMs.toFixed(0)} ms; node -e '': ${nodeMs.toFixed(1)} ms; ratio ${ratio.toFixed(2)}x (budget ${BUDGET}x)`);
  console.log(`  git processes per task: ${(calls.length / TASKS).toFixed(1)}; pushes per task: ${(pushes / TASKS).toFixed(1)}`);
  const byCommand = new Map();
  for (const c of calls) {
    const name = c.split(' ').find((w) => !w.startsWith('-') && !w.includes('=')) ?? c;
    byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
  }
  console.log(`  by command: ${[...byCommand].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / TASKS).toFixed(1)}`).join(', ')}`);
  if (ratio > BUDGET) {
    console.log(`pipeline benchmark: over budget (${ratio.toFixed(2)}x > ${BUDGET}x)`);
    process.exitCode = 1;
  } else console.log('pipeline benchmark: within budget');
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`kept ${scratch}`);
  else fs.rmSync(scratch, { recursive: true, force: true });
}
