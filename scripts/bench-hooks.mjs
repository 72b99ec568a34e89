#!/usr/bin/env node
// The hooks benchmark (run by `scripts/bench hooks`; expects dist/ to be built).
//
// 1. Cost: `git commit` in a repository with omni-ship's hooks (A) against the same repository without them (B),
//    alternating A and B so both see the same machine load, including A's own background drainer. Prints the
//    medians and their ratio against the budget, and checks that A's commits really got the Task-Id trailer
//    (otherwise the benchmark measured hooks that do nothing).
// 2. Detachment: with the drainer told to sleep first (OMNI_SHIP_HOOK_DELAY_MS), `git commit | cat` must return
//    while the background hook process is still running, and the event must reach hooks.log afterwards.
//
// Environment: BENCH_RUNS (timed commits per repository, default 40, at least 30).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');

const BUDGET = 2;
const WARMUP = 5;
const MIN_RUNS = 30;
const runs = Math.max(MIN_RUNS, Number.parseInt(process.env.BENCH_RUNS ?? '', 10) || 40);
const HOOK_DELAY_MS = 3000;
const TASK = 't-1';

/** The environment every git and omni-ship process here gets: none of the caller's git or omni-ship settings. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GIT_') || k.startsWith('OMNI_SHIP_')) continue;
    env[k] = v;
  }
  // a global core.hooksPath would send install-hooks to the user's own hooks; a global config could also
  // add work to every commit on one side only
  Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
  return { ...env, ...extra };
}
const ENV = cleanEnv();

/** Runs a program, throwing with its output when it fails. */
function run(cmd, args, cwd, env = ENV) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}) in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const git = (cwd, ...args) => run('git', args, cwd);

/** Makes a repository on branch t-1 with one commit, the same way for both sides. */
function makeRepo(parent, name) {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  git(dir, 'init', '-q', '--initial-branch=main');
  git(dir, 'config', 'user.name', 'Bench User');
  git(dir, 'config', 'user.email', 'bench@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'gc.auto', '0');
  fs.writeFileSync(path.join(dir, 'README'), 'bench\n');
  git(dir, 'add', 'README');
  git(dir, 'commit', '-q', '-m', 'initial');
  git(dir, 'switch', '-q', '-c', TASK);
  return dir;
}

/** Times one `git commit -q --allow-empty -m <msg> [-m <body>]`, in milliseconds. */
function timedCommit(dir, message = 'x', body = null) {
  const start = process.hrtime.bigint();
  const r = spawnSync('git', ['commit', '-q', '--allow-empty', '-m', message, ...(body ? ['-m', body] : [])], { cwd: dir, env: ENV, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`git commit failed (exit ${r.status}) in ${dir}:\n${r.stdout}${r.stderr}`);
  return ms;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True while process `pid` runs. An exited process nobody has reaped yet (a zombie) does not count. */
function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill -0 is all there is
  }
}

/** The pid in a drain.pid / drain.starting file, or null. */
function pidIn(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The live background hook process of a state dir: the one that holds drain.pid, or the one a hook just started. */
function drainer(stateDir) {
  for (const name of ['drain.pid', 'drain.starting']) {
    const pid = pidIn(path.join(stateDir, name));
    if (pid !== null && alive(pid)) return pid;
  }
  return null;
}

/** Waits until no drainer is alive and the spool is empty; returns whether that happened in time. */
async function waitForIdle(stateDir, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const spool = path.join(stateDir, 'spool');
    const pending = fs.existsSync(spool) ? fs.readdirSync(spool).length : 0;
    if (drainer(stateDir) === null && pending === 0) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

function readLog(stateDir) {
  try {
    return fs.readFileSync(path.join(stateDir, 'hooks.log'), 'utf8');
  } catch {
    return '';
  }
}

const fmt = (ms) => ms.toFixed(1);

async function main() {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-')));
  let ok = true;
  try {
    const a = makeRepo(tmp, 'with-hooks');
    const b = makeRepo(tmp, 'without-hooks');
    run(process.execPath, [bin, 'install-hooks'], a);
    const stateDir = path.join(a, '.git', 'omni-ship');
    const baseA = git(a, 'rev-parse', 'HEAD').trim();
    const baseB = git(b, 'rev-parse', 'HEAD').trim();

    // --- 1. cost per commit ---
    console.log(`git commit -q --allow-empty: ${runs} timed runs per repository (after ${WARMUP} warm-up runs), alternating`);
    for (let i = 0; i < WARMUP; i++) {
      timedCommit(a);
      timedCommit(b);
    }
    const timesA = [];
    const timesB = [];
    for (let i = 0; i < runs; i++) {
      // swap which side goes first each round, so neither always follows the other's leftovers
      if (i % 2 === 0) {
        timesA.push(timedCommit(a));
        timesB.push(timedCommit(b));
      } else {
        timesB.push(timedCommit(b));
        timesA.push(timedCommit(a));
      }
    }
    const medA = median(timesA);
    const medB = median(timesB);
    const ratio = medA / medB;
    const pass = ratio <= BUDGET;
    console.log(`  without hooks (B): median ${fmt(medB)} ms  (min ${fmt(Math.min(...timesB))}, max ${fmt(Math.max(...timesB))})`);
    console.log(`  with hooks    (A): median ${fmt(medA)} ms  (min ${fmt(Math.min(...timesA))}, max ${fmt(Math.max(...timesA))})`);
    console.log(`  ratio of medians: ${ratio.toFixed(2)}x`);
    console.log(`  budget: at most ${BUDGET}x`);
    console.log(`  ${pass ? 'PASS' : 'FAIL'}: ${ratio.toFixed(2)}x is ${pass ? 'within' : 'over'} the budget`);
    if (!pass) ok = false;

    // --- 1b. the same with a body, as agents and scripts commit (`-m subject -m body`): a message of several
    // paragraphs, which the hook places its trailer in without a process when the body cannot be a trailer block
    const bodyA = [];
    const bodyB = [];
    for (let i = 0; i < runs; i++) {
      const pair = [
        () => bodyA.push(timedCommit(a, 'fix: the thing', `why it was wrong, round ${i}\nand how it is fixed`)),
        () => bodyB.push(timedCommit(b, 'fix: the thing', `why it was wrong, round ${i}\nand how it is fixed`)),
      ];
      if (i % 2) pair.reverse();
      for (const f of pair) f();
    }
    const bodyRatio = median(bodyA) / median(bodyB);
    const bodyPass = bodyRatio <= BUDGET;
    console.log(`git commit -q --allow-empty -m "fix: the thing" -m "<two-line body>": ${runs} timed runs per repository, alternating`);
    console.log(`  without hooks (B): median ${fmt(median(bodyB))} ms; with hooks (A): median ${fmt(median(bodyA))} ms`);
    console.log(`  ratio of medians: ${bodyRatio.toFixed(2)}x (budget: at most ${BUDGET}x) ${bodyPass ? 'PASS' : 'FAIL'}`);
    if (!bodyPass) ok = false;

    // the hooks must have done their job, or the ratio measures nothing
    const expected = WARMUP + 2 * runs;
    // one marked line per commit: its Task-Id values joined by commas (the marker makes the count exact whatever
    // git puts between records; with notes.displayRef set, -z output gains a final NUL)
    const trailers = (dir, base) =>
      git(dir, 'log', '--format=@%(trailers:key=Task-Id,valueonly,separator=%x2C)', `${base}..HEAD`)
        .split('\n')
        .filter((l) => l.startsWith('@'))
        .map((l) => l.slice(1));
    const trailersA = trailers(a, baseA);
    const tagged = trailersA.filter((t) => t === TASK).length;
    const trailersB = trailers(b, baseB).join('');
    if (trailersA.length !== expected || tagged !== expected) {
      console.log(`  FAIL: only ${tagged} of ${expected} commits in A carry exactly "Task-Id: ${TASK}"; the hooks did not run`);
      ok = false;
    } else {
      console.log(`  check: all ${expected} commits in A carry "Task-Id: ${TASK}"`);
    }
    if (trailersB !== '') {
      console.log('  FAIL: commits in B (no hooks) carry a Task-Id trailer; the baseline is not a baseline');
      ok = false;
    }

    // --- 2. the hook returns while its background process still runs ---
    console.log('');
    console.log(`git commit | cat with the background hook process delayed ${HOOK_DELAY_MS} ms (OMNI_SHIP_HOOK_DELAY_MS)`);
    if (!(await waitForIdle(stateDir))) {
      console.log(`  FAIL: the background hook process from part 1 is still running after 60 s (see ${stateDir}/hooks.log)`);
      return false;
    }
    const delayed = cleanEnv({ OMNI_SHIP_HOOK_DELAY_MS: String(HOOK_DELAY_MS) });
    const start = process.hrtime.bigint();
    const piped = spawnSync('sh', ['-c', 'git commit -q --allow-empty -m y | cat'], { cwd: a, env: delayed, encoding: 'utf8' });
    const pipeMs = Number(process.hrtime.bigint() - start) / 1e6;
    // look at once, before anything else: the pid file the hook wrote (or the one the drainer took over)
    let pid = drainer(stateDir);
    const stillRunning = pid !== null;
    if (piped.error) throw piped.error;
    if (piped.status !== 0) throw new Error(`git commit | cat failed (exit ${piped.status}):\n${piped.stdout}${piped.stderr}`);
    const sha = git(a, 'rev-parse', 'HEAD').trim();
    const loggedEarly = readLog(stateDir).split('\n').some((l) => l.includes('post-commit') && l.includes(sha));
    if (!stillRunning || loggedEarly) {
      console.log(`  FAIL: git commit | cat returned in ${fmt(pipeMs)} ms, but no background hook process was running by then` +
        (loggedEarly ? ' (the event was already logged)' : ''));
      ok = false;
    } else {
      console.log(`  git commit | cat returned in ${fmt(pipeMs)} ms while background hook process ${pid} was still running`);
    }

    // wait for it to finish, then the event must be in the log
    const end = Date.now() + HOOK_DELAY_MS + 30_000;
    while (pid !== null && alive(pid) && Date.now() < end) await sleep(50);
    if (pid !== null && alive(pid)) {
      console.log(`  FAIL: background hook process ${pid} still runs ${fmt((HOOK_DELAY_MS + 30_000) / 1000)} s later`);
      ok = false;
    }
    if (!(await waitForIdle(stateDir, 30_000))) {
      console.log('  FAIL: the spool did not drain');
      ok = false;
    }
    const line = readLog(stateDir).split('\n').find((l) => l.includes('post-commit') && l.includes(sha));
    if (line) {
      console.log(`  check: hooks.log has the event: ${line}`);
    } else {
      console.log(`  FAIL: hooks.log has no post-commit line for ${sha}:`);
      console.log(readLog(stateDir).split('\n').slice(-10).map((l) => `    ${l}`).join('\n'));
      ok = false;
    }
    // errors the background process logged are product bugs worth seeing, though not this benchmark's verdict
    const errors = readLog(stateDir).split('\n').filter((l) => / error /i.test(l));
    if (errors.length) {
      console.log(`  warning: hooks.log holds ${errors.length} error line(s), e.g.: ${errors[0]}`);
    }
    return ok;
  } finally {
    // a drainer still running would write into the removed directory; it has been waited for above when things went well
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (ok) => {
    console.log('');
    console.log(`hooks benchmark: ${ok ? 'PASS' : 'FAIL'}`);
    process.exitCode = ok ? 0 : 1;
  },
  (error) => {
    console.error(`hooks benchmark: error: ${error.message}`);
    process.exitCode = 1;
  },
);
