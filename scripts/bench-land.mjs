#!/usr/bin/env node
// The land benchmark (run by `scripts/bench land`; expects dist/ to be built). In one run, on a synthetic
// repository of 10,000 commits and 5,000 files with a local bare remote:
//
// 1. `omni-ship land t-<n>` end to end, in a clone of the remote: a task of one commit whose base moved on by one
//    commit since it branched (so the candidate is a new commit with a new tree), with the single verify step
//    `true` run in the warm pool: fetch, build the candidate, verify it, push the base, record, delete the branch,
//    sync the notes.
// 2. The floor of any client-side lander, in another clone of the same remote: `node -e ''` + `git fetch origin`
//    (after the remote moved by one commit) + `git push origin <one new commit>:main`. Budget: land at most 4x.
//    The commit pushed is built between the fetch and the push and not counted, so the floor stays a floor.
// 3. For information, the predecessors' ways of producing the landed commit (no fetch, verify or push): a new
//    integration worktree (`git worktree add` + `git cherry-pick` + `git update-ref` + `git worktree remove`), and a
//    persistent one (`git checkout --detach` + `git cherry-pick` + `git update-ref`).
//
// Setup (the task branch, the remote moving on, the untimed fetches that make every run start alike) is never
// timed. Land and the floor alternate which goes first, so both see the same machine load. Environment:
// BENCH_RUNS (timed runs per side, default 10, at least 5: a round takes seconds, most of it the new integration
// worktree's checkout of 5,000 files).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'omni-ship.js');
const COMMITS = 10_000;
const FILES = 5000;
const BUDGET = 4;
const WARMUP = 1;
const runs = Math.max(5, Number.parseInt(process.env.BENCH_RUNS ?? '', 10) || 10);
// the config committed on main: the single step `true`
const CONFIG = { verify: { steps: [{ name: 'ok', run: 'true' }] } };
// task ids of the history, of the tasks the benchmark lands, of the commits others push meanwhile and of the
// floor's pushes: apart, so no task the benchmark lands already has a commit on the base
const HISTORY_TASK = 1;
const BENCH_TASK = 100_001;
const OTHERS_TASK = 200_001;
const FLOOR_TASK = 300_001;

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

/** Runs a program, throwing with its output when it fails. */
function run(cmd, args, cwd, opts = {}) {
  const r = spawnSync(cmd, args, { cwd, env: opts.env ?? ENV, encoding: 'utf8', input: opts.input, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}) in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const git = (cwd, ...args) => run('git', args, cwd);
const gitIn = (cwd, input, ...args) => run('git', args, cwd, { input });

/**
 * CPU time (user + system, ms) of the child processes this one has waited for, theirs included, from /proc (USER_HZ
 * is 100 on Linux); null without /proc. On a shared machine load stretches wall time far more than CPU time.
 */
function childCpu() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime
  } catch {
    return null;
  }
}

/** Wall time and the children's CPU time of `fn`, in ms. */
function timed(fn) {
  const cpu = childCpu();
  const start = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms: wall, cpu: cpu === null ? null : childCpu() - cpu };
}
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
const ms = (v) => `${v.toFixed(1)} ms`;
const spread = (values) => `min ${ms(Math.min(...values))}, max ${ms(Math.max(...values))}`;

/** Local identity and no background work of git's own (auto gc would land in one timed run). */
function configure(dir) {
  for (const [k, v] of [['user.name', 'Bench User'], ['user.email', 'bench@example.com'], ['commit.gpgsign', 'false'], ['gc.auto', '0'], ['maintenance.auto', 'false']]) {
    git(dir, 'config', k, v);
  }
}

/**
 * The bare remote: COMMITS commits on main over FILES files in 50 directories, built with fast-import. The first
 * commit adds every file and the committed config; each later one is a landed task touching one file (every 25th
 * touches four), with its Task-Id trailer, as a repository omni-ship lands into would look.
 */
function makeRemote(parent) {
  const remote = path.join(parent, 'remote.git');
  git(parent, 'init', '-q', '--bare', '--initial-branch=main', remote);
  configure(remote);
  const file = (i) => `src/d${i % 50}/f${i}.txt`;
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const parts = [`commit refs/heads/main\ncommitter Bench User <bench@example.com> 1700000000 +0000\n${data('initial import\n')}`];
  for (let i = 0; i < FILES; i++) parts.push(`M 100644 inline ${file(i)}\n${data(`file ${i}\n${'x'.repeat(200)}\n`)}`);
  parts.push(`M 100644 inline .omni-shiprc.json\n${data(`${JSON.stringify(CONFIG)}\n`)}`);
  for (let k = 1; k < COMMITS; k++) {
    const task = `t-${HISTORY_TASK + k}`;
    parts.push(`commit refs/heads/main\ncommitter Bench User <bench@example.com> ${1700000000 + 60 * k} +0000\n${data(`change ${k}\n\nTask-Id: ${task}\n`)}`);
    for (let j = 0; j < (k % 25 === 0 ? 4 : 1); j++) {
      const i = (k * 7919 + j * 1237) % FILES;
      parts.push(`M 100644 inline ${file(i)}\n${data(`file ${i} at ${k}\n${'x'.repeat(200)}\n`)}`);
    }
  }
  // glibc trims the heap each time fast-import frees its buffers: some twenty brk calls a commit, 10 to 30 s here
  // instead of 1 s. Padding the top of the heap keeps that memory, for this one process.
  const heap = { MALLOC_TOP_PAD_: String(256 << 20), MALLOC_TRIM_THRESHOLD_: String(256 << 20) };
  run('git', ['fast-import', '--quiet'], remote, { input: parts.join(''), env: { ...ENV, ...heap } });
  return remote;
}

/** A clone of the remote, configured. */
function makeClone(parent, remote, name, ...options) {
  const dir = path.join(parent, name);
  git(parent, 'clone', '-q', ...options, remote, dir);
  configure(dir);
  return dir;
}

/** The tree `tree` (null: none yet) with the blob `blob` at the path `parts` (created or replaced), via mktree. */
function treeWith(dir, tree, parts, blob) {
  const [name, ...rest] = parts;
  const entries = tree === null ? [] : git(dir, 'ls-tree', '-z', tree).split('\0').filter(Boolean);
  const at = entries.findIndex((l) => l.slice(l.indexOf('\t') + 1) === name);
  const old = at < 0 ? null : entries[at];
  const entry = rest.length
    ? `040000 tree ${treeWith(dir, old && old.startsWith('040000 tree ') ? old.split(/[ \t]/)[2] : null, rest, blob)}\t${name}`
    : `100644 blob ${blob}\t${name}`;
  if (at < 0) entries.push(entry);
  else entries[at] = entry;
  return gitIn(dir, `${entries.join('\0')}\0`, 'mktree', '-z').trim();
}

/**
 * A new commit on top of `parent` in `dir` whose tree is the parent's with the file at `file` set to `content`;
 * built with plumbing only, so no working tree, index, hook or ref is touched.
 */
function commitOnto(dir, parent, file, content, message) {
  const blob = gitIn(dir, content, 'hash-object', '-w', '--stdin').trim();
  const tree = treeWith(dir, git(dir, 'rev-parse', `${parent}^{tree}`).trim(), file.split('/'), blob);
  return git(dir, 'commit-tree', tree, '-p', parent, '-m', message).trim();
}

/** Someone else lands a task: the remote's main moves on by one commit that touches a file no bench task touches. */
let others = 0;
function moveRemote(remote) {
  const tip = git(remote, 'rev-parse', 'refs/heads/main').trim();
  const n = OTHERS_TASK + others++;
  const next = commitOnto(remote, tip, 'upstream.txt', `upstream ${n}\n`, `another change\n\nTask-Id: t-${n}`);
  git(remote, 'update-ref', 'refs/heads/main', next, tip);
  return next;
}

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-bench-land-')));
let failed = false;
try {
  const started = Date.now();
  const remote = makeRemote(tmp);
  // the lander's clone, with `main` checked out as after `git clone`; no hooks installed: land needs none, and their
  // background verify of each new task commit would run beside the timed land
  const lander = makeClone(tmp, remote, 'lander');
  // the floor's clone needs no work tree: fetch and push never read one
  const floorClone = makeClone(tmp, remote, 'floor', '--no-checkout');
  // the predecessors work in a clone of their own, so the lander's clone holds nothing a lander would not: its
  // work tree is the persistent integration worktree
  const integration = makeClone(tmp, remote, 'integration');
  const fresh = path.join(tmp, 'fresh-integration');
  const noHooks = ['-c', 'core.hooksPath=/dev/null'];
  console.log(`repository: ${COMMITS.toLocaleString('en-US')} commits, ${FILES.toLocaleString('en-US')} files, a local bare remote (set up in ${((Date.now() - started) / 1000).toFixed(1)} s); ${runs} timed runs per side after ${WARMUP} warm-up, alternating`);

  /** Lands a new task t-<n> whose base moved on; returns land's time and what to check and replay. */
  let taskSerial = 0;
  function landOnce() {
    const task = `t-${BENCH_TASK + taskSerial++}`;
    // setup: the lander knows the remote as it is now; the task is one commit on top of that, touching one file
    git(lander, 'fetch', '-q', 'origin');
    const branched = git(lander, 'rev-parse', 'refs/remotes/origin/main').trim();
    const i = (taskSerial * 613) % FILES;
    const commit = commitOnto(lander, branched, `src/d${i % 50}/f${i}.txt`, `changed by ${task}\n`, `change\n\nTask-Id: ${task}`);
    git(lander, 'branch', task, commit);
    git(integration, 'fetch', '-q', lander, `refs/heads/${task}:refs/bench/${task}`);
    // then the base moves on, so the candidate is new
    const moved = moveRemote(remote);
    let out = '';
    const { ms: time, cpu } = timed(() => {
      out = run(process.execPath, [bin, 'land', task, '--json'], lander);
    });
    return { task, commit, moved, time, cpu, out };
  }

  /** Checks that land really did the work timed: a new commit on the moved base, its trailer, a passing note. */
  function checkLanded({ task, commit, moved, out }) {
    const tip = git(remote, 'rev-parse', 'refs/heads/main').trim();
    const problems = [];
    const parent = git(remote, 'rev-parse', `${tip}^`).trim();
    if (parent !== moved) problems.push(`the remote's main ${tip} is not on top of the moved base ${moved}`);
    if (tip === commit) problems.push('the landed commit is the task commit itself, not a new candidate');
    const trailers = git(remote, 'log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', tip).trim();
    if (trailers !== task) problems.push(`the landed commit carries Task-Id "${trailers}", not ${task}`);
    const tree = git(remote, 'rev-parse', `${tip}^{tree}`).trim();
    const note = spawnSync('git', ['notes', '--ref=refs/notes/omni-ship/verify', 'show', tree], { cwd: lander, env: ENV, encoding: 'utf8' });
    if (note.status !== 0 || !/"result":"pass"/.test(note.stdout)) problems.push(`the landed tree ${tree} has no passing verify note in the lander clone`);
    if (spawnSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${task}`], { cwd: lander, env: ENV }).status === 0) problems.push(`the branch ${task} was not deleted`);
    if (problems.length) throw new Error(`${task}: land exited 0 but ${problems.join('; ')}\nland --json printed:\n${out}`);
  }

  /** The floor: node -e '' + git fetch (the remote moved by one commit) + git push of one new commit. */
  let floorSerial = 0;
  function floorOnce() {
    git(floorClone, 'fetch', '-q', 'origin');
    moveRemote(remote);
    const node = timed(() => run(process.execPath, ['-e', ''], floorClone));
    const fetch = timed(() => git(floorClone, 'fetch', '-q', 'origin'));
    const base = git(floorClone, 'rev-parse', 'refs/remotes/origin/main').trim();
    const n = FLOOR_TASK + floorSerial++;
    const commit = commitOnto(floorClone, base, 'floor.txt', `floor ${n}\n`, `floor\n\nTask-Id: t-${n}`);
    const push = timed(() => git(floorClone, 'push', '-q', 'origin', `${commit}:refs/heads/main`));
    const parts = [node, fetch, push];
    return { node: node.ms, fetch: fetch.ms, push: push.ms, total: node.ms + fetch.ms + push.ms, cpu: parts.some((p) => p.cpu === null) ? null : parts.reduce((sum, p) => sum + p.cpu, 0) };
  }

  /**
   * The predecessors' ways of producing the commit land made, the task commit cherry-picked onto the moved base,
   * in the integration clone (which fetched the task branch before land and fetches the moved base now, untimed).
   */
  function predecessorsOnce({ commit, moved }) {
    git(integration, 'fetch', '-q', 'origin');
    const made = timed(() => {
      git(integration, ...noHooks, 'worktree', 'add', '-q', '--detach', fresh, moved);
      git(fresh, ...noHooks, 'cherry-pick', commit);
      git(integration, 'update-ref', 'refs/heads/integration', git(fresh, 'rev-parse', 'HEAD').trim());
      git(integration, 'worktree', 'remove', '--force', fresh);
    }).ms;
    const persistent = timed(() => {
      git(integration, ...noHooks, 'checkout', '-q', '--detach', moved);
      git(integration, ...noHooks, 'cherry-pick', commit);
      git(integration, 'update-ref', 'refs/heads/integration', git(integration, 'rev-parse', 'HEAD').trim());
    }).ms;
    return { made, persistent };
  }

  // warm-up: the first land makes the pool worktree (a checkout of all files), which every later land reuses
  for (let i = 0; i < WARMUP; i++) {
    const landed = landOnce();
    checkLanded(landed);
    predecessorsOnce(landed);
    floorOnce();
  }

  const lands = [];
  const landCpu = [];
  const floors = [];
  const made = [];
  const persistent = [];
  for (let i = 0; i < runs; i++) {
    const sides = [
      () => {
        const landed = landOnce();
        lands.push(landed.time);
        landCpu.push(landed.cpu);
        checkLanded(landed);
        const p = predecessorsOnce(landed);
        made.push(p.made);
        persistent.push(p.persistent);
      },
      () => floors.push(floorOnce()),
    ];
    if (i % 2) sides.reverse();
    for (const side of sides) side();
  }

  const landMedian = median(lands);
  const floorMedian = median(floors.map((f) => f.total));
  const ratio = landMedian / floorMedian;
  const pass = ratio <= BUDGET;
  console.log(`omni-ship land t-<n> (base moved on by one commit, verify step \`true\`, warm pool): median ${ms(landMedian)} (${spread(lands)})`);
  console.log(
    `floor: node -e '' + git fetch + git push of one commit: median ${ms(floorMedian)} (${spread(floors.map((f) => f.total))}; ` +
      `node ${ms(median(floors.map((f) => f.node)))}, fetch ${ms(median(floors.map((f) => f.fetch)))}, push ${ms(median(floors.map((f) => f.push)))})`,
  );
  console.log(`ratio of medians: ${ratio.toFixed(2)}x (budget at most ${BUDGET}x) ${pass ? 'PASS' : 'FAIL'}`);
  if (!pass) failed = true;
  if (!landCpu.includes(null) && !floors.some((f) => f.cpu === null)) {
    const cpuLand = median(landCpu);
    const cpuFloor = median(floors.map((f) => f.cpu));
    console.log(`for information, CPU time (user + system of every process waited for; load stretches it far less than wall time): land ${ms(cpuLand)}, floor ${ms(cpuFloor)}: ${(cpuLand / cpuFloor).toFixed(2)}x`);
  }
  console.log(`check: all ${WARMUP + runs} landed commits are new commits on the moved base, carry their Task-Id and have a passing verify note; their branches are gone`);
  console.log("for information, the predecessors' ways of producing the landed commit (no fetch, no verify, no push):");
  for (const [what, times] of [
    ['a new integration worktree (git worktree add + git cherry-pick + git update-ref + git worktree remove)', made],
    ['a persistent integration worktree (git checkout --detach + git cherry-pick + git update-ref)', persistent],
  ]) {
    console.log(`  ${what}: median ${ms(median(times))}; land end to end takes ${(landMedian / median(times)).toFixed(2)}x of that`);
  }
  console.log(`land benchmark: ${failed ? 'FAIL' : 'PASS'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  console.error(`land benchmark: error: ${error.message}`);
  failed = true;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
