import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PASS, landRemote } from '../helpers/land.js';
import { cleanupAll, tempDir, testEnv, type RunResult, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, head, jsonOf, omniAsync } from '../helpers/state.js';

afterAll(cleanupAll);

/**
 * The guard of status's caches (DESIGN.md section 6: answers stored per ref snapshot, notes and the base read
 * incrementally): whatever happened in the repository, and whatever state the machine-local files under
 * .git/omni-ship/ are in, a warm answer is byte for byte the answer of a cold computation.
 *
 * A cold answer here is OMNI_SHIP_NO_CACHE=1 run while .git/omni-ship/ is moved aside, so no file of it (a cache
 * that forgot the variable, the verify spec memo) can make the cold answer as stale as the warm one. No verify runs
 * in the background (verify.onCommit is off) and nothing else writes while the answers are compared.
 */

const COLD = testEnv({ OMNI_SHIP_NO_CACHE: '1' });
const ME = 'Test Author <author@example.com>';
const DAY = 86_400_000;

/** The read commands compared after every step (show is added for the tasks a step touched). */
const VIEWS: string[][] = [
  ['status', '--json'],
  ['status'],
  ['status', '--all', '--json'],
  ['status', '--state', 'landed', '--json'],
  ['status', '--parent', 't-1', '--json'],
];

function stateDirOf(repo: TestRepo): string {
  return path.join(repo.dir, '.git', 'omni-ship');
}

/** Runs `commands` cold and at once: OMNI_SHIP_NO_CACHE=1, .git/omni-ship/ moved aside meanwhile and put back as it was. */
async function coldAnswers(repo: TestRepo, commands: readonly string[][]): Promise<RunResult[]> {
  const dir = stateDirOf(repo);
  const aside = `${dir}.aside`;
  const had = fs.existsSync(dir);
  if (had) fs.renameSync(dir, aside);
  try {
    return await Promise.all(commands.map((args) => omniAsync(repo.dir, args, COLD)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    if (had) fs.renameSync(aside, dir);
  }
}

/** Checks a warm run against the cold one: both exit 0, same stdout, same stderr. */
function expectSame(warm: RunResult, cold: RunResult, what: string): void {
  expect(cold.code, `${what} (cold): ${cold.stderr}`).toBe(0);
  expect(warm.code, `${what} (warm): ${warm.stderr}`).toBe(0);
  expect(warm.stdout, `${what}: stdout`).toBe(cold.stdout);
  expect(warm.stderr, `${what}: stderr`).toBe(cold.stderr);
}

/** One event line with the keys in encodeEvent's order (v, type, at, by, host, the rest sorted), unless `shuffled`. */
function eventLine(type: string, fields: Record<string, unknown>, opts: { at?: Date; shuffled?: boolean } = {}): string {
  const head = { v: 1, type, at: (opts.at ?? new Date()).toISOString(), by: ME, host: 'test-host/0a1b2c3d' };
  const rest = Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  // a line written by another tool (or by hand) need not follow that order: the cache must keep it as it was
  return JSON.stringify(opts.shuffled ? { ...rest, ...head } : { ...head, ...rest });
}

/** Appends one line to the note on `object` in one of omni-ship's notes logs, as a person or another tool would. */
function appendNote(repo: TestRepo, log: keyof typeof NOTES, object: string, line: string): void {
  repo.git(['notes', `--ref=${NOTES[log]}`, 'append', '-m', line, object]);
}

/** Commits a change of `file` on the current branch, its message carrying `Task-Id: <task>` (none for null); returns the commit. */
function trailered(repo: TestRepo, subject: string, task: string | null, file = 'work.txt'): string {
  return commitChange(repo, task ? `${subject}\n\nTask-Id: ${task}` : subject, { file });
}

/** Records the commit HEAD is on as a patchset, as the post-commit hook does (in the foreground). */
function recordCommit(repo: TestRepo): void {
  const r = repo.omni(['hook', 'post-commit']);
  expect(r.code, r.stderr).toBe(0);
}

function treeOf(repo: TestRepo, rev: string): string {
  return head(repo, repo.dir, `${rev}^{tree}`);
}

const byId = (s: any): Record<string, any> => Object.fromEntries(s.tasks.map((t: any) => [t.id, t]));
const ids = (s: any): string[] => s.tasks.map((t: any) => t.id);

/**
 * The comparison after a step: every view and `show` of the tasks the step touched, cold (all at once), then warm
 * one after another. The warm order turns with each step, so every view is sometimes the first to see what
 * changed (it brings the caches forward) and sometimes answers from what the others left (the stored answer is
 * written on the second run of the same refs). Returns the cold answers: each view (the JSON ones parsed), show by task.
 */
async function compare(repo: TestRepo, step: number, what: string, opts: { show?: string[]; twice?: boolean } = {}) {
  const commands = [...VIEWS, ...(opts.show ?? []).map((t) => ['show', t, '--json'])];
  const cold = await coldAnswers(repo, commands);
  const order = commands.map((_, i) => (i + step) % commands.length);
  for (const i of order) {
    const warm = repo.omni(commands[i]!);
    expectSame(warm, cold[i]!, `step ${step} (${what}): ${commands[i]!.join(' ')}`);
    // the same refs again: the answer stored for them
    if (opts.twice && i === 0) expectSame(repo.omni(commands[0]!), cold[0]!, `step ${step} (${what}): status --json, again`);
  }
  const show: Record<string, any> = {};
  (opts.show ?? []).forEach((t, k) => (show[t] = JSON.parse(cold[VIEWS.length + k]!.stdout)));
  const [status, text, all, landed, parent] = cold.map((r) => r.stdout);
  return { status: JSON.parse(status!), text: text!, all: JSON.parse(all!), landed: JSON.parse(landed!), parent: JSON.parse(parent!), show };
}

describe('status answers warm exactly as cold, step after step', () => {
  it('through patchsets, reviews, verify, lands, landings by hand, reverts, attempts, claims, rewrites, warnings and config changes', async () => {
    const fx = landRemote({ steps: [PASS], onCommit: false });
    const repo = fx.a;
    let step = 1;
    const switchTo = (branch: string, from?: string) => repo.git(from ? ['switch', '-q', '-c', branch, from] : ['switch', '-q', branch]);

    // 1. task branches with a commit each: t-1 and its subtask t-1.1 recorded as patchsets, t-2 known by its
    // trailer only
    switchTo('t-1', 'main');
    let t1 = trailered(repo, 'work on t-1', 't-1', 't-1.txt');
    recordCommit(repo);
    switchTo('t-1.1', 'main');
    const t11 = trailered(repo, 'work on t-1.1', 't-1.1', 't-1.1.txt');
    recordCommit(repo);
    switchTo('t-2', 'main');
    const t2 = trailered(repo, 'work on t-2', 't-2', 't-2.txt');
    let s = await compare(repo, step++, 'task branches', { show: ['t-1.1'] });
    const spec0 = s.status.spec;
    expect(spec0).toMatch(/^[0-9a-f]{64}$/);
    expect(ids(s.status)).toEqual(['t-1', 't-1.1', 't-2']);
    expect(byId(s.status)['t-1']).toMatchObject({ state: 'in-progress', patchsets: 1, head: t1 });
    expect(byId(s.status)['t-2']).toMatchObject({ state: 'in-progress', patchsets: 0, head: t2 });
    expect(ids(s.parent)).toEqual(['t-1', 't-1.1']);

    // 2. t-2 recorded, verified (a real run) and approved; t-1 amended (a second patchset) and sent back;
    // t-1.1's tree failed (an event written by hand)
    recordCommit(repo);
    const v = repo.omni(['verify', 't-2', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(repo.omni(['review', 't-2', '--approve', '-m', 'ok']).code).toBe(0);
    switchTo('t-1');
    repo.git(['commit', '-q', '--amend', '-m', 'work on t-1, amended', '-m', 'Task-Id: t-1']);
    const t1v2 = head(repo);
    expect(repo.omni(['hook', 'post-rewrite', 'amend', `${t1}:${t1v2}`]).code).toBe(0);
    t1 = t1v2;
    expect(repo.omni(['review', 't-1', '--request-changes', '-m', 'not yet']).code).toBe(0);
    const tree11 = treeOf(repo, t11);
    appendNote(repo, 'verify', tree11, eventLine('verify', { tree: tree11, spec: spec0, result: 'fail', commit: t11, task: 't-1.1', step: 'ok', exitCode: 1, summary: 'step ok failed (exit 1)' }));
    s = await compare(repo, step++, 'patchsets, verify results and reviews', { show: ['t-1'] });
    expect(byId(s.status)['t-1']).toMatchObject({ patchsets: 2, head: t1, review: { verdict: 'request-changes' } });
    expect(s.show['t-1'].patchsetHistory.map((p: any) => p.via)).toEqual(['commit', 'amend']);
    expect(byId(s.status)['t-2']).toMatchObject({ state: 'approved', verify: { result: 'pass' } });
    expect(byId(s.status)['t-1.1'].state).toBe('failed');

    // 3. t-2 lands (into the local main only); land deletes its branch
    switchTo('main');
    const l2 = repo.omni(['land', 't-2', '--no-push', '--json']);
    expect(l2.code, l2.stderr).toBe(0);
    s = await compare(repo, step++, 'a land', { show: ['t-2'] });
    expect(byId(s.status)['t-2']).toMatchObject({ state: 'landed', branch: 'main', landedCommit: t2 });
    expect(byId(s.status)['t-2'].landing.landed).toBe(head(repo, repo.dir, 'main'));

    // 4. landed without omni-ship: t-3 and t-4, commits on main with their trailers (no land event, so no time);
    // land events by hand: t-5's ten days ago, t-6's just now (each on its commit on main); main pushed
    trailered(repo, 'landed by hand', 't-3', 'landed-3.txt');
    trailered(repo, 'landed by hand too', 't-4', 'landed-4.txt');
    const old = trailered(repo, 'landed long ago', 't-5', 'landed-5.txt');
    appendNote(repo, 'lands', old, eventLine('land', { task: 't-5', commit: old, landed: old, base: 'main', patchset: null, oldTip: null, newTip: old }, { at: new Date(Date.now() - 10 * DAY) }));
    const recent = trailered(repo, 'landed just now', 't-6', 'landed-6.txt');
    appendNote(repo, 'lands', recent, eventLine('land', { task: 't-6', commit: recent, landed: recent, base: 'main', patchset: null, oldTip: old, newTip: recent }, { shuffled: true }));
    repo.git(['push', '-q', 'origin', 'main']);
    s = await compare(repo, step++, 'landings by hand, old and recent', { show: ['t-6'] });
    // the default listing: in flight, and landed by omni-ship in the last 3 days; the others counted as hidden
    expect(ids(s.status)).toEqual(['t-1', 't-1.1', 't-2', 't-6']);
    expect(s.status.listing).toEqual({ rule: 'in-flight', landedWithinDays: 3, hidden: 3 });
    expect(s.status.counts.landed).toBe(5);
    expect(ids(s.all)).toEqual(['t-1', 't-1.1', 't-2', 't-3', 't-4', 't-5', 't-6']);
    expect(byId(s.all)['t-3']).toMatchObject({ state: 'landed', landing: null });
    expect(byId(s.all)['t-5'].landing.at < new Date(Date.now() - 3 * DAY).toISOString()).toBe(true);
    expect(ids(s.landed)).toEqual(['t-2', 't-3', 't-4', 't-5', 't-6']);
    expect(s.text).toMatch(/^t-6\s+landed/m);
    expect(s.text).not.toMatch(/^t-[345]\s/m);
    expect(s.text).toContain('3 more landed: --all lists them');

    // 5. t-6 reverted (a revert commit on main, a revert event on the landed commit); attempts: two failures and a
    // call for help on t-1's patchset, a failure on t-1.1's
    repo.git(['revert', '--no-edit', recent]);
    const revertCommit = head(repo);
    appendNote(repo, 'lands', recent, eventLine('revert', { task: 't-6', commit: recent, landed: recent, revert: revertCommit, base: 'main', reason: 'post-land suite failed' }));
    repo.git(['push', '-q', 'origin', 'main']);
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'implement', outcome: 'fail', error: 'tests fail' }, { at: new Date(Date.now() - 60_000) }));
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'implement', outcome: 'fail', error: 'tests still fail' }, { shuffled: true }));
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'implement', outcome: 'needs-help', error: null }));
    appendNote(repo, 'attempts', t11, eventLine('attempt', { task: 't-1.1', commit: t11, role: 'implement', outcome: 'fail', error: null }));
    s = await compare(repo, step++, 'a revert and attempts', { show: ['t-1'] });
    expect(byId(s.status)['t-6']).toMatchObject({ state: 'in-progress', landing: null, landedCommit: null, reverted: { revert: revertCommit } });
    expect(byId(s.status)['t-1'].state).toBe('needs-help');
    expect(s.show['t-1'].attempts).toHaveLength(3);
    expect(s.status.listing.hidden).toBe(3);

    // 6. claims: branch t-8 whose tip carries t-1.1's trailer above t-8's own commit; branch wip with t-9's commit
    switchTo('t-8', 'main');
    const t8 = trailered(repo, 'work on t-8', 't-8', 't-8.txt');
    recordCommit(repo);
    const foreign = trailered(repo, 'more of t-1.1, made on t-8', 't-1.1', 't-8-more.txt');
    switchTo('wip', 'main');
    const t9 = trailered(repo, 'work on t-9 on a branch of no task', 't-9', 't-9.txt');
    s = await compare(repo, step++, 'claims', { show: ['t-1.1'] });
    expect(byId(s.status)['t-1.1']).toMatchObject({ state: 'diverged', live: [t11, foreign] });
    expect(byId(s.status)['t-8']).toMatchObject({ head: t8, branch: 't-8' });
    expect(byId(s.status)['t-9']).toMatchObject({ head: t9, branch: 'wip', state: 'in-progress' });

    // 7. many changes at once: a new subtask recorded, approved and landed, t-9's tree passed, t-1 left on the
    // remote only
    switchTo('t-1.2', 'main');
    const t12 = trailered(repo, 'work on t-1.2', 't-1.2', 't-1.2.txt');
    recordCommit(repo);
    expect(repo.omni(['review', 't-1.2', '--approve']).code).toBe(0);
    const tree9 = treeOf(repo, t9);
    appendNote(repo, 'verify', tree9, eventLine('verify', { tree: tree9, spec: spec0, result: 'pass', commit: t9, task: 't-9', step: null, exitCode: 0, summary: 'all 1 step(s) passed' }));
    repo.git(['push', '-q', 'origin', 't-1']);
    repo.git(['branch', '-q', '-D', 't-1']);
    switchTo('main');
    const l12 = repo.omni(['land', 't-1.2', '--no-push', '--json']); // land verifies it
    expect(l12.code, l12.stderr).toBe(0);
    s = await compare(repo, step++, 'many changes at once', { show: ['t-1.2'], twice: true });
    expect(byId(s.status)['t-1']).toMatchObject({ branch: 'origin/t-1', head: t1, state: 'needs-help' });
    expect(byId(s.status)['t-1.2']).toMatchObject({ state: 'landed', landedCommit: t12, review: { verdict: 'approve' } });
    expect(byId(s.status)['t-9'].state).toBe('verified');
    expect(ids(s.parent)).toEqual(['t-1', 't-1.1', 't-1.2']);

    // 8. main rewritten (not a fast-forward), here and on the remote: it no longer holds t-4's commit and those
    // after it (t-8 and wip, made from the old main, still do: they are off the base now). t-1.1's branch deleted;
    // branches made again for landed tasks (t-3 from main, t-2 with new work)
    const t4 = repo.git(['log', '-1', '--format=%H', '--grep=Task-Id: t-4', 'main']).trim();
    repo.git(['reset', '-q', '--hard', `${t4}~1`]);
    const t10 = trailered(repo, 'landed by hand after the rewrite', 't-10', 'landed-10.txt');
    repo.git(['push', '-q', '--force', 'origin', 'main']);
    repo.git(['branch', '-q', '-D', 't-1.1']);
    repo.git(['branch', 't-3', 'main']);
    switchTo('t-2', 'main');
    trailered(repo, 'more on t-2 after it landed', 't-2', 't-2-more.txt');
    recordCommit(repo);
    s = await compare(repo, step++, 'main rewritten, branches deleted and made again', { show: ['t-4', 't-1.1'] });
    expect(byId(s.all)['t-4']).toMatchObject({ state: 'in-progress', landedCommit: null, head: t4 });
    expect(byId(s.all)['t-10']).toMatchObject({ state: 'landed', landedCommit: t10 });
    // landed by its land event still, no longer by a commit on main
    expect(byId(s.all)['t-1.2']).toMatchObject({ state: 'landed', landedCommit: null });
    expect(byId(s.all)['t-5']).toMatchObject({ state: 'landed', landedCommit: null });
    expect(byId(s.all)['t-1.1']).toMatchObject({ branch: 't-8', head: foreign });
    expect(byId(s.all)['t-3']).toMatchObject({ state: 'landed', branch: 't-3' });
    expect(byId(s.all)['t-2']).toMatchObject({ state: 'landed', branch: 't-2', patchsets: 2 });

    // 9. a note line that is not JSON, the attempts log replaced by a ref to a blob, and a note removed by hand
    // (t-1.2's approval)
    appendNote(repo, 'reviews', t1, 'this line is not JSON');
    repo.git(['notes', `--ref=${NOTES.reviews}`, 'remove', t12]);
    const attemptsTip = head(repo, repo.dir, NOTES.attempts);
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: 'not a notes commit\n' }).trim();
    repo.git(['update-ref', NOTES.attempts, blob]);
    s = await compare(repo, step++, 'unreadable notes', { show: ['t-1'] });
    expect(s.status.warnings).toEqual([
      `skipped ${NOTES.attempts}: it points at a blob, not a notes commit`,
      expect.stringContaining(`skipped 1 unreadable line(s) in ${NOTES.reviews}`),
    ]);
    expect(byId(s.status)['t-1'].state).toBe('in-progress');
    expect(byId(s.status)['t-1.2']).toMatchObject({ state: 'landed', review: null });

    // 10. the working tree's config (not committed: no ref moves) narrows the task ids: no subtasks
    repo.write('.omni-shiprc.json', JSON.stringify({ taskPattern: '^t-[0-9]+$', verify: { steps: [PASS], onCommit: false } }));
    s = await compare(repo, step++, 'the task pattern narrowed', { show: ['t-1'] });
    expect(ids(s.all)).toEqual(['t-1', 't-2', 't-3', 't-4', 't-5', 't-6', 't-8', 't-9', 't-10']);
    expect(ids(s.parent)).toEqual(['t-1']);

    // 11. this clone's own verify config: a file, not a ref, changes the spec (no ref moved since the last step)
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.json'), JSON.stringify({ verify: { steps: [PASS, { name: 'lint', run: 'true' }], onCommit: false } }));
    s = await compare(repo, step++, 'a local verify config', { show: ['t-9'] });
    const spec1 = s.status.spec;
    expect(spec1).not.toBe(spec0);
    expect(byId(s.status)['t-9']).toMatchObject({ state: 'in-progress', verify: null, verifyOtherSpec: { result: 'pass', spec: spec0 } });

    // 12. the attempts log restored, the working tree's config as committed, the local config gone, and main given
    // another verify spec by a commit made without checking it out
    repo.git(['update-ref', NOTES.attempts, attemptsTip]);
    repo.git(['checkout', '--', '.omni-shiprc.json']);
    fs.rmSync(path.join(repo.dir, '.git', 'omni-ship.json'));
    const env = testEnv({ GIT_INDEX_FILE: path.join(tempDir('omni-ship-index-'), 'index') });
    repo.git(['read-tree', 'main'], { env });
    const config = repo.git(['hash-object', '-w', '--stdin'], { input: JSON.stringify({ verify: { steps: [{ name: 'other', run: 'true' }], onCommit: false } }) }).trim();
    repo.git(['update-index', '--add', '--cacheinfo', `100644,${config},.omni-shiprc.json`], { env });
    const commit = repo.git(['commit-tree', repo.git(['write-tree'], { env }).trim(), '-p', 'main', '-m', 'another verify spec']).trim();
    repo.git(['update-ref', 'refs/heads/main', commit]);
    s = await compare(repo, step++, 'the committed verify spec changed', { show: ['t-9'] });
    expect(s.status.spec).not.toBe(spec0);
    expect(s.status.spec).not.toBe(spec1);
    expect(byId(s.status)['t-9'].verifyOtherSpec).toMatchObject({ result: 'pass', spec: spec0 });
    expect(s.status.warnings).toEqual([expect.stringContaining(`skipped 1 unreadable line(s) in ${NOTES.reviews}`)]);
    expect(byId(s.status)['t-1'].state).toBe('needs-help');

    // 13. nothing changed
    const again = await compare(repo, step++, 'no change', { show: ['t-1'], twice: true });
    expect(again.all).toEqual(s.all);
  });
});

/** The status table the last warm default `status` wrote (src/state/status-table.ts). */
function tableOf(repo: TestRepo): any {
  return JSON.parse(fs.readFileSync(path.join(stateDirOf(repo), 'status-table.json'), 'utf8'));
}

describe('listed views kept while nothing they read changed', () => {
  it('a view is built again when a change names its task, its tree, its landing, a branch, the commits off the base or a verify run, and only then', async () => {
    const fx = landRemote({ steps: [PASS], onCommit: false });
    const repo = fx.a;
    let step = 1;
    const switchTo = (branch: string, from?: string) => repo.git(from ? ['switch', '-q', '-c', branch, from] : ['switch', '-q', branch]);
    switchTo('t-1', 'main');
    const t1 = trailered(repo, 'work on t-1', 't-1', 't-1.txt');
    recordCommit(repo);
    switchTo('t-2', 'main');
    trailered(repo, 'work on t-2', 't-2', 't-2.txt');
    recordCommit(repo);
    switchTo('main');
    expect(repo.omni(['land', 't-2', '--no-push', '--json']).code).toBe(0);
    switchTo('t-3', 'main');
    trailered(repo, 'work on t-3', 't-3', 't-3.txt');
    switchTo('main');
    let s = await compare(repo, step++, 'tasks in flight and one landed');
    const spec = s.status.spec;
    expect(ids(s.status)).toEqual(['t-1', 't-2', 't-3']);
    // the table knows each listed view's tree, and what they all read
    const table = tableOf(repo);
    expect(table.trees['t-1']).toBe(treeOf(repo, t1));
    expect(table.inputs).toMatch(/^[0-9a-f]{16}\./);

    // a view kept is not built again: t-1's row in the table, changed by hand, stays as it is when only main moves
    // (by a commit naming another task), and is built again once something names t-1
    const marked = tableOf(repo);
    marked.listed.find((t: any) => t.id === 't-1').branch = 'kept by the table';
    fs.writeFileSync(path.join(stateDirOf(repo), 'status-table.json'), JSON.stringify(marked));
    trailered(repo, 'landed by hand', 't-40', 'landed-40.txt');
    const kept = jsonOf(repo.omni(['status', '--json']));
    expect(byId(kept)['t-1'].branch).toBe('kept by the table');
    expect(byId(kept)['t-40']).toBeUndefined(); // landed by hand: no land event, not listed
    expect(kept.counts.landed).toBe(2);
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'implement', outcome: 'fail', error: 'flaky' }));
    expect(byId(jsonOf(repo.omni(['status', '--json'])))['t-1'].branch).toBe('t-1');
    s = await compare(repo, step++, 'main moved, then an attempt on t-1');

    // a verify result of t-1's tree that names another task: t-1 shows it
    const tree1 = treeOf(repo, t1);
    appendNote(repo, 'verify', tree1, eventLine('verify', { tree: tree1, spec, result: 'pass', commit: t1, task: 't-99', step: null, exitCode: 0, summary: 'all 1 step(s) passed' }));
    s = await compare(repo, step++, "a result for t-1's tree naming t-99");
    expect(byId(s.status)['t-1']).toMatchObject({ state: 'verified', verify: { result: 'pass' } });

    // a revert of t-2's landing that names another task, in a note on another commit (the one on t-2's landed
    // commit names t-2 already): t-2 shows it reverted
    const landed2 = byId(s.status)['t-2'].landing.landed;
    const root = repo.git(['rev-list', '--max-parents=0', 'main']).trim();
    appendNote(repo, 'lands', root, eventLine('revert', { task: 't-77', commit: landed2, landed: landed2, revert: landed2, base: 'main', reason: 'named another task' }));
    s = await compare(repo, step++, "a revert of t-2's landing naming t-77");
    expect(byId(s.status)['t-2']).toMatchObject({ state: 'verified', landing: null, reverted: { reason: 'named another task' } });

    // a branch renamed (no commit moves): t-3's view names the branch its commit is on now
    repo.git(['branch', '-m', 't-3', 't-4']);
    s = await compare(repo, step++, 'a branch renamed');
    expect(byId(s.status)['t-3']).toMatchObject({ branch: 't-4' });

    // the base takes in a branch's commit that names no task (a fast-forward; no trailer names t-5): t-5's branch
    // tip is on the base now, and its view has no head
    switchTo('t-5', 'main');
    const plain = commitChange(repo, 'no trailer here', { file: 't-5.txt' });
    switchTo('main');
    s = await compare(repo, step++, 'a branch whose tip names no task');
    expect(byId(s.status)['t-5']).toMatchObject({ head: plain, branch: 't-5' });
    repo.git(['merge', '-q', '--ff-only', plain]);
    s = await compare(repo, step++, 'the base fast-forwarded onto that tip');
    expect(byId(s.status)['t-5']).toMatchObject({ head: null, branch: 't-5' });

    // a note removed by hand from the patchsets log: whom it named is not known any more
    repo.git(['notes', `--ref=${NOTES.patchsets}`, 'remove', t1]);
    s = await compare(repo, step++, "t-1's patchset note removed");
    expect(byId(s.status)['t-1'].patchsets).toBe(0);

    // a verify run in progress on this machine (no ref moves while it runs): t-1's view says since when
    const marker = path.join(tempDir(), 'started');
    const release = path.join(tempDir(), 'release');
    fs.writeFileSync(path.join(repo.dir, '.git', 'omni-ship.json'), JSON.stringify({ verify: { steps: [{ name: 'slow', run: `touch '${marker}'; while [ ! -e '${release}' ]; do sleep 0.05; done` }], onCommit: false } }));
    s = await compare(repo, step++, 'another spec, nothing running');
    expect(byId(s.status)['t-1'].verifyingSince).toBeNull();
    const running = omniAsync(repo.dir, ['verify', 't-1', '--json']);
    for (let i = 0; i < 400 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    expect(fs.existsSync(marker)).toBe(true);
    const during = jsonOf(repo.omni(['status', '--json']));
    expect(byId(during)['t-1']).toMatchObject({ state: 'verifying', verifyingSince: expect.any(String) });
    fs.writeFileSync(release, '');
    expect((await running).code).toBe(0);
    s = await compare(repo, step++, 'the run done');
    expect(byId(s.status)['t-1']).toMatchObject({ state: 'verified', verifyingSince: null });
  });
});

/** Every ref but symbolic ones (origin/HEAD), with the object it points at. */
function refsNow(repo: TestRepo): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of repo.git(['for-each-ref', '--format=%(refname) %(objectname) %(symref)']).split('\n')) {
    const [name, oid, symref] = line.split(' ');
    if (name && oid && !symref) map.set(name, oid);
  }
  return map;
}

/** Puts every ref back as `target` has it (made, moved or deleted), in one transaction. */
function setRefs(repo: TestRepo, target: Map<string, string>): void {
  const now = refsNow(repo);
  const lines = [...target].filter(([ref, oid]) => now.get(ref) !== oid).map(([ref, oid]) => `update ${ref} ${oid}`);
  for (const ref of now.keys()) if (!target.has(ref)) lines.push(`delete ${ref}`);
  if (lines.length) repo.git(['update-ref', '--stdin'], { input: `${lines.join('\n')}\n` });
  expect(refsNow(repo)).toEqual(target);
}

/** Every file under `dir`, relative, sorted; verify's pool worktrees are checkouts of the repository, not its state, and are left out. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .filter((f) => !/^pool\/[^/]+\//.test(f))
    .sort();
}

/** Makes .git/omni-ship/ exactly the copy at `from` (times kept: a status answer may be keyed by a file's time). */
function restoreStateDir(repo: TestRepo, from: string): void {
  fs.rmSync(stateDirOf(repo), { recursive: true, force: true });
  fs.cpSync(from, stateDirOf(repo), { recursive: true, preserveTimestamps: true });
}

function copyStateDir(repo: TestRepo): string {
  const to = path.join(tempDir('omni-ship-state-'), 'omni-ship');
  fs.cpSync(stateDirOf(repo), to, { recursive: true, preserveTimestamps: true });
  return to;
}

describe('damaged, deleted and out-of-date files under .git/omni-ship/', () => {
  it('never change an answer: each file in turn truncated, garbled, deleted or taken from another state', async () => {
    const fx = landRemote({ steps: [PASS], onCommit: false });
    const repo = fx.a;
    // state S1: a recorded and verified task, a task known by its trailer, a review, an attempt, an unreadable line,
    // landings on main with and without a land event
    repo.git(['switch', '-q', '-c', 't-1', 'main']);
    let t1 = trailered(repo, 'work on t-1', 't-1', 't-1.txt');
    recordCommit(repo);
    expect(repo.omni(['verify', 't-1', '--json']).code).toBe(0);
    repo.git(['switch', '-q', '-c', 't-2', 'main']);
    const t2 = trailered(repo, 'work on t-2', 't-2', 't-2.txt');
    appendNote(repo, 'reviews', t2, eventLine('review', { task: 't-2', commit: t2, verdict: 'approve', message: 'ok' }));
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'land', outcome: 'fail', error: null }, { shuffled: true }));
    appendNote(repo, 'patchsets', t2, 'not an event');
    repo.git(['switch', '-q', 'main']);
    const t3 = trailered(repo, 'landed long ago', 't-3', 't-3.txt');
    appendNote(repo, 'lands', t3, eventLine('land', { task: 't-3', commit: t3, landed: t3, base: 'main', patchset: null, oldTip: null, newTip: t3 }, { at: new Date(Date.now() - 10 * DAY) }));
    const spec = jsonOf(repo.omni(['status', '--json'])).spec; // the base read whole
    trailered(repo, 'landed by hand', 't-4', 't-4.txt');
    repo.git(['push', '-q', 'origin', 'main']);
    // the base read from where the last read left it; the same refs again: the answer stored
    for (let i = 0; i < 2; i++) jsonOf(repo.omni(['status', '--json']));
    repo.git(['switch', '-q', '--detach']);
    const s1 = refsNow(repo);
    const s1Dir = copyStateDir(repo);

    // state S2: a new patchset, a verify failure, a call for help, a revert, main forward, a new branch, and the
    // reviews log rewritten (its new history does not hold the old one: no fast-forward)
    repo.git(['switch', '-q', 't-1']);
    repo.git(['commit', '-q', '--amend', '-m', 'work on t-1, amended', '-m', 'Task-Id: t-1']);
    expect(repo.omni(['hook', 'post-rewrite', 'amend', `${t1}:${head(repo)}`]).code).toBe(0);
    t1 = head(repo);
    appendNote(repo, 'verify', treeOf(repo, t1), eventLine('verify', { tree: treeOf(repo, t1), spec, result: 'fail', commit: t1, task: 't-1', step: 'ok', exitCode: 1, summary: null }));
    appendNote(repo, 'attempts', t1, eventLine('attempt', { task: 't-1', commit: t1, role: 'implement', outcome: 'needs-help', error: null }));
    appendNote(repo, 'lands', t3, eventLine('revert', { task: 't-3', commit: t3, landed: t3, revert: t3, base: 'main', reason: null }));
    repo.git(['switch', '-q', 'main']);
    trailered(repo, 'landed by hand later', 't-5', 't-5.txt');
    repo.git(['branch', 't-6', 'main']);
    repo.git(['switch', '-q', 't-6']);
    trailered(repo, 'work on t-6', 't-6', 't-6.txt');
    repo.git(['notes', '--ref=omni-ship/rewritten', 'add', '-m', eventLine('review', { task: 't-2', commit: t2, verdict: 'request-changes', message: null }), t2]);
    repo.git(['update-ref', NOTES.reviews, 'refs/notes/omni-ship/rewritten']);
    repo.git(['update-ref', '-d', 'refs/notes/omni-ship/rewritten']);
    repo.git(['switch', '-q', '--detach']);
    // twice: the answer stored is S2's (S1's would answer for S1's refs without reading any cache part)
    for (let i = 0; i < 2; i++) jsonOf(repo.omni(['status', '--json']));
    const s2 = refsNow(repo);
    const s2Dir = copyStateDir(repo);

    const ASK = { status: ['status', '--json'], all: ['status', '--all', '--json'], show: ['show', 't-1', '--json'] };
    const coldAt = async (refs: Map<string, string>) => {
      setRefs(repo, refs);
      const [status, all, show] = await coldAnswers(repo, [ASK.status, ASK.all, ASK.show]);
      return { status: status!, all: all!, show: show! };
    };
    const cold1 = await coldAt(s1);
    const cold2 = await coldAt(s2);
    // the states differ in every answer: a stale one would show
    for (const k of ['status', 'all', 'show'] as const) expect(cold2[k].stdout).not.toBe(cold1[k].stdout);

    const files = filesUnder(s1Dir);
    expect(files.length).toBeGreaterThan(0);
    const warmWith = (refs: Map<string, string>, stateCopy: string, damage: () => void, args: string[]) => {
      setRefs(repo, refs);
      restoreStateDir(repo, stateCopy);
      damage();
      return repo.omni(args);
    };
    // the whole state of S2 while the refs are back at S1
    expectSame(warmWith(s1, s2Dir, () => {}, ASK.all), cold1.all, 'the state dir of a later state');
    files.forEach((file, i) => {
      const target = path.join(stateDirOf(repo), file);
      const other = path.join(s2Dir, file);
      const damages = {
        truncated: () => fs.writeFileSync(target, fs.readFileSync(target).subarray(0, Math.floor(fs.statSync(target).size / 2))),
        deleted: () => fs.rmSync(target),
        garbled: () => fs.writeFileSync(target, `${'\u0000garbage{"tip":"'.repeat(3)}${'f'.repeat(40)}`),
        // as it was in the other state (or gone, where that had none)
        'from another state': () => (fs.existsSync(other) ? fs.cpSync(other, target, { preserveTimestamps: true }) : fs.rmSync(target)),
      };
      // each file twice: with the refs the answer was stored for, and with refs that moved since (the caches are
      // brought forward); the damages take turns
      const [still, moved] = i % 2 ? (['from another state', 'garbled'] as const) : (['truncated', 'deleted'] as const);
      const ask = i % 2 ? 'show' : 'status';
      expectSame(warmWith(s1, s1Dir, damages[still], ASK[ask]), cold1[ask], `${file} ${still}, refs as stored`);
      expectSame(warmWith(s2, s1Dir, damages[moved], ASK.all), cold2.all, `${file} ${moved}, refs moved`);
    });
  });
});
