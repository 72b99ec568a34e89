import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, testEnv, type RunResult, type TestRepo } from '../helpers/repo.js';
import { commitChange, jsonOf } from '../helpers/state.js';
import { taskObject } from '../../src/pipeline/tasks.js';
import { activeRuns, removeActiveRun, writeActiveRun, type ActiveRunFile } from '../../src/state/active-runs.js';

afterAll(cleanupAll);

/**
 * status and show with task records (`omni-ship task`, refs/notes/omni-ship/tasks) and with the agents `omni-ship
 * run` has at work (issue 11 parts 1 and 8): a record alone is an open task, a closed record a closed task (settled
 * as landed tasks are, counted apart), the tasks log read as the other logs are (cached, brought forward by what
 * changed), and the run files under .git/omni-ship/runs/ shown while their process lives.
 */

const COLD = testEnv({ OMNI_SHIP_NO_CACHE: '1' });
const TRACE = testEnv({ OMNI_SHIP_TRACE_GIT: '1' });
const TASKS = 'refs/notes/omni-ship/tasks';

function ok(r: RunResult): RunResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const stateDirOf = (repo: TestRepo) => path.join(repo.dir, '.git', 'omni-ship');
const byId = (s: any): Record<string, any> => Object.fromEntries(s.tasks.map((t: any) => [t.id, t]));

/** Runs `args` warm (the caches as they are) and cold (none): both exit 0 with the same output; returns the warm run. */
function sameAsCold(repo: TestRepo, args: string[], what: string): RunResult {
  const warm = repo.omni(args);
  const cold = repo.omni(args, { env: COLD });
  expect(warm.code, `${what}: ${warm.stderr}`).toBe(0);
  expect(cold.code, `${what} (cold): ${cold.stderr}`).toBe(0);
  expect(warm.stdout, what).toBe(cold.stdout);
  expect(warm.stderr, what).toBe(cold.stderr);
  return warm;
}

/** The machine-local status table (src/state/status-table.ts) as the last status wrote it. */
function statusTable(repo: TestRepo): any {
  return JSON.parse(fs.readFileSync(path.join(stateDirOf(repo), 'status-table.json'), 'utf8'));
}

/** A task branch off main with one commit carrying the task's trailer; back on main after. */
function taskCommit(repo: TestRepo, id: string): string {
  repo.git(['switch', '-q', '-c', id, 'main']);
  const sha = commitChange(repo, `work on ${id}\n\nTask-Id: ${id}`, { file: `${id}.txt` });
  repo.git(['switch', '-q', 'main']);
  return sha;
}

describe('status with task records', () => {
  it('lists a task that has only a record as open, with its title in the text and its record in --json', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'the login form', '--priority', '1']));
    ok(repo.omni(['task', 'add', 't-1.1', '--title', `a title far too long for one line of a table: ${'word '.repeat(20)}end`, '--parent', 't-1', '--depends-on', 't-0']));
    const s = jsonOf(sameAsCold(repo, ['status', '--json'], 'status --json'));
    expect(s.counts).toMatchObject({ open: 2, 'in-progress': 0, closed: 0, landed: 0 });
    expect(s.tasks.map((t: any) => [t.id, t.state])).toEqual([
      ['t-1', 'open'],
      ['t-1.1', 'open'],
    ]);
    expect(byId(s)['t-1']).toMatchObject({ branch: null, head: null, patchsets: 0, live: [], record: { title: 'the login form', parent: null, dependsOn: [], priority: 1, closed: false } });
    expect(byId(s)['t-1.1'].record).toEqual({ title: expect.stringMatching(/^a title far too long/), parent: 't-1', dependsOn: ['t-0'], priority: 2, closed: false });
    // the stored answer (the third run of the same refs) prints the same
    expect(repo.omni(['status', '--json']).stdout).toBe(repo.omni(['status', '--json']).stdout);
    expect(jsonOf(repo.omni(['status', '--json']))).toEqual(s);

    const text = sameAsCold(repo, ['status'], 'status').stdout;
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^TASK\s+STATE\s+BRANCH\s+HEAD\s+PS\s+VERIFY\s+REVIEW\s+LANDED\s+TITLE$/);
    expect(text).toMatch(/^t-1\s+open\s+-\s+-\s+0\s+-\s+-\s+-\s+the login form$/m);
    // cut to 60 characters when stdout is no terminal, ending in …
    const long = lines.find((l) => l.startsWith('t-1.1 '))!;
    expect(long).toMatch(/\sa title far too long for one line of a table: word word.*…$/);
    expect(long.slice(long.indexOf('a title'))).toHaveLength(60);
    expect(text).toContain('\n\nopen 2\n');
    expect(ok(repo.omni(['status', '--state', 'open', '--json'])).stdout).toContain('"state": "open"');
  });

  it('a task with a record and a commit shows its state from the commit, and the record\'s fields', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-2', '--title', 'logout', '--depends-on', 't-1', '--priority', '0']));
    const sha = taskCommit(repo, 't-2');
    // a task with a commit and no record: null, and no title column for it alone
    taskCommit(repo, 't-3');
    const s = jsonOf(sameAsCold(repo, ['status', '--json'], 'status --json'));
    expect(byId(s)['t-2']).toMatchObject({ state: 'in-progress', branch: 't-2', head: sha, record: { title: 'logout', parent: null, dependsOn: ['t-1'], priority: 0, closed: false } });
    expect(byId(s)['t-3']).toMatchObject({ state: 'in-progress', record: null });
    const text = sameAsCold(repo, ['status'], 'status').stdout;
    expect(text).toMatch(new RegExp(`^t-2\\s+in-progress\\s+t-2\\s+${sha.slice(0, 10)}\\s+0\\s+-\\s+-\\s+-\\s+logout$`, 'm'));
    expect(text).toMatch(/^t-3\s+in-progress\s+t-3\s+[0-9a-f]{10}\s+0\s+-\s+-\s+-$/m);
    // an edit shows at once
    ok(repo.omni(['task', 'edit', 't-2', '--title', 'log out']));
    expect(byId(jsonOf(sameAsCold(repo, ['status', '--json'], 'after an edit')))['t-2'].record.title).toBe('log out');
    // without a record on any task shown: no TITLE column
    const only3 = ok(repo.omni(['status', '--task', 't-3'])).stdout;
    expect(only3.split('\n')[0]).toMatch(/LANDED$/);
  });

  it('a closed task that has not landed is closed: counted apart from landed, settled out of the default listing, back when reopened', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'in flight']));
    ok(repo.omni(['task', 'add', 't-2', '--title', 'dropped']));
    ok(repo.omni(['task', 'add', 't-3', '--title', 'landed, then closed']));
    ok(repo.omni(['task', 'add', 't-4', '--title', 'record only, closed']));
    taskCommit(repo, 't-1');
    taskCommit(repo, 't-2');
    // t-3 lands by hand (its trailer on main)
    commitChange(repo, 'landed\n\nTask-Id: t-3', { file: 't-3.txt' });
    // the table of the listing, for the changes below to be brought forward from
    const before = jsonOf(sameAsCold(repo, ['status', '--json'], 'before any close'));
    expect(before.counts).toMatchObject({ 'in-progress': 2, landed: 1, open: 1, closed: 0 });

    for (const id of ['t-2', 't-3', 't-4']) ok(repo.omni(['task', 'close', id, '-m', 'no longer wanted']));
    const s = jsonOf(sameAsCold(repo, ['status', '--json'], 'after the closes'));
    // landing is a fact: t-3 stays landed; t-2 (with a commit) and t-4 (a record alone) are closed, not landed
    expect(s.counts).toMatchObject({ 'in-progress': 1, landed: 1, open: 0, closed: 2 });
    expect(s.tasks.map((t: any) => t.id)).toEqual(['t-1']);
    expect(s.listing).toEqual({ rule: 'in-flight', landedWithinDays: 3, hidden: 3 });
    // settled as landed tasks are, in a set of their own
    const table = statusTable(repo);
    expect(table.listed.map((t: any) => t.id)).toEqual(['t-1']);
    expect([...table.closed.added].sort()).toEqual(['t-2', 't-4']);
    expect(table.settled.added).toEqual(['t-3']);
    const text = sameAsCold(repo, ['status'], 'status after the closes').stdout;
    expect(text).toContain('in-progress 1, landed 1, closed 2 (all tasks; shown: in flight, and landed by omni-ship in the last 3 days; 1 more landed, 2 closed: --all lists them)');
    // listed by --all and --state closed, with the record closed
    const all = jsonOf(sameAsCold(repo, ['status', '--all', '--json'], 'status --all'));
    expect(all.tasks.map((t: any) => [t.id, t.state, t.record.closed])).toEqual([
      ['t-1', 'in-progress', false],
      ['t-2', 'closed', true],
      ['t-3', 'landed', true],
      ['t-4', 'closed', true],
    ]);
    expect(all.counts).toEqual(s.counts);
    expect(jsonOf(repo.omni(['status', '--state', 'closed', '--json'])).tasks.map((t: any) => t.id)).toEqual(['t-2', 't-4']);
    expect(ok(repo.omni(['status', '--all'])).stdout).toMatch(/^t-2\s+closed\s+t-2\s/m);
    // task list agrees
    const list = jsonOf(repo.omni(['task', 'list', '--json'])).tasks;
    expect(list.map((t: any) => [t.id, t.state])).toEqual([
      ['t-1', 'in-progress'],
      ['t-2', 'closed'],
      ['t-3', 'landed'],
      ['t-4', 'closed'],
    ]);

    // reopened: unsettled, back in the listing with the state its commit gives
    ok(repo.omni(['task', 'reopen', 't-2']));
    const reopened = jsonOf(sameAsCold(repo, ['status', '--json'], 'after a reopen'));
    expect(reopened.counts).toMatchObject({ 'in-progress': 2, landed: 1, closed: 1 });
    expect(reopened.tasks.map((t: any) => [t.id, t.state])).toEqual([
      ['t-1', 'in-progress'],
      ['t-2', 'in-progress'],
    ]);
    expect(statusTable(repo).closed.added).toEqual(['t-4']);
  });

  it('after one more task event, status reads that note alone (the tasks log brought forward, not read whole) and answers as a cold read', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'first']));
    ok(repo.omni(['task', 'add', 't-2', '--title', 'second']));
    // (the task commands read the state too, bringing the cache forward as they go: read whole once here)
    const cache = path.join(stateDirOf(repo), 'state-cache');
    fs.rmSync(cache, { recursive: true, force: true });
    sameAsCold(repo, ['status', '--json'], 'first read');
    const bulk = path.join(cache, 'refs_notes_omni-ship_tasks.json');
    const bulkBefore = fs.readFileSync(bulk, 'utf8');
    expect(bulkBefore).toContain('"second"');
    // nothing moved: no git process at all (the refs from git's files, the answer stored)
    ok(repo.omni(['status', '--json']));
    const still = ok(repo.omni(['status', '--json'], { env: TRACE }));
    expect(still.stderr).not.toMatch(/\[git\]/);

    // one event appended by hand (as another tool, or a sync, would): the note on t-2's key object
    const key = repo.git(['hash-object', '-w', '--stdin'], { input: 'omni-ship task t-2\n' }).trim();
    expect(key).toBe(taskObject('t-2'));
    const edit = { v: 1, type: 'task', at: new Date(Date.now() + 1000).toISOString(), by: 'Test Author <author@example.com>', host: 'test-host/0a1b2c3d', op: 'edited', task: 't-2', title: 'second, renamed' };
    repo.git(['notes', `--ref=${TASKS}`, 'append', '-m', JSON.stringify(edit), key]);

    const traced = ok(repo.omni(['status', '--json'], { env: TRACE }));
    expect(byId(JSON.parse(traced.stdout))['t-2'].record.title).toBe('second, renamed');
    // no whole read of any notes ref (ls-tree of its tip), and the bulk of the tasks log is not written again: what
    // changed (the one note) is in the overlay over it
    expect(traced.stderr.split('\n').filter((l) => l.startsWith('[git] ls-tree'))).toEqual([]);
    expect(fs.readFileSync(bulk, 'utf8')).toBe(bulkBefore);
    const overlay = JSON.parse(fs.readFileSync(path.join(cache, 'notes.newer.json'), 'utf8').replace(/^[^]*?,"value":/, '').slice(0, -1));
    expect(overlay[TASKS].set.map(([object]: [string]) => object)).toEqual([key]);
    expect(overlay[TASKS].tip).toBe(repo.git(['rev-parse', TASKS]).trim());
    sameAsCold(repo, ['status', '--json'], 'after the event');
    sameAsCold(repo, ['status', '--all', '--json'], 'status --all after the event');
  });

  it('a repository without the tasks log reads and writes nothing for it', () => {
    const repo = makeRepo();
    taskCommit(repo, 't-1');
    const s = jsonOf(ok(repo.omni(['status', '--json'])));
    expect(s.tasks.map((t: any) => [t.id, t.record])).toEqual([['t-1', null]]);
    expect(fs.readdirSync(path.join(stateDirOf(repo), 'state-cache')).filter((f) => f.includes('tasks'))).toEqual([]);
  });
});

describe('show with task records', () => {
  it('prints the title, parent and dependencies of a record, its whole record in --json; a record alone is an open task', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-5', '--title', 'the parent']));
    ok(repo.omni(['task', 'add', 't-5.1', '--title', 'the child', '--parent', 't-5', '--depends-on', 't-4,t-3', '--description', 'what to do']));
    ok(repo.omni(['task', 'comment', 't-5.1', '-m', 'a remark']));
    const openText = ok(repo.omni(['show', 't-5.1'])).stdout;
    expect(openText).toMatch(/^t-5\.1 {2}open\ntrailer: Task-Id: t-5\.1\ntitle: the child\nparent: t-5\ndepends on: t-3, t-4\n/);
    expect(openText).toContain('patchsets (0):\n  none recorded');
    const open = jsonOf(ok(repo.omni(['show', 't-5.1', '--json'])));
    expect(open).toMatchObject({ taskId: 't-5.1', state: 'open', head: null, patchsetCount: 0 });
    // show's record is the whole record (description, comments, when it was closed), not status's summary of it
    expect(open.record).toMatchObject({ id: 't-5.1', title: 'the child', parent: 't-5', dependsOn: ['t-3', 't-4'], description: 'what to do', closed: null, comments: [{ message: 'a remark' }] });

    const sha = taskCommit(repo, 't-5.1');
    const shown = jsonOf(sameAsCold(repo, ['show', 't-5.1', '--json'], 'show --json with a commit'));
    expect(shown).toMatchObject({ state: 'in-progress', head: sha, record: { title: 'the child' } });
    ok(repo.omni(['task', 'close', 't-5.1']));
    const closed = jsonOf(sameAsCold(repo, ['show', 't-5.1', '--json'], 'show --json closed'));
    expect(closed.state).toBe('closed');
    expect(closed.record.closed).toMatchObject({ by: 'Test Author <author@example.com>' });
    expect(ok(repo.omni(['show', 't-5.1'])).stdout).toMatch(/^t-5\.1 {2}closed {2}branch t-5\.1 {2}head [0-9a-f]{12}\ntrailer: Task-Id: t-5\.1\ntitle: the child \(closed\)\n/);
    // no record, no task: as before
    const none = repo.omni(['show', 't-9']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no task t-9 here/);
  });
});

describe('status with active runs (.git/omni-ship/runs/<pid>.json)', () => {
  /** A pid no process has: one that ran and exited. */
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
    expect(r.status).toBe(0);
    return r.pid!;
  }

  const runFile = (pid: number, agents: ActiveRunFile['agents'], startedAt = new Date().toISOString()): ActiveRunFile => ({ v: 1, pid, host: 'test-host/0a1b2c3d', startedAt, agents });

  it('shows the agents of a run whose process lives; skips a dead process, a garbled file and a pid reused since', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-3', '--title', 'worked on']));
    const dir = stateDirOf(repo);
    const runs = path.join(dir, 'runs');
    // none yet: nothing printed, runs: []
    expect(jsonOf(ok(repo.omni(['status', '--json']))).runs).toEqual([]);
    expect(ok(repo.omni(['status'])).stdout).not.toContain('running');

    const started = new Date(Date.now() - 192_000).toISOString();
    // this test's own process stands for a live run
    writeActiveRun(dir, runFile(process.pid, [
      { task: 't-3', role: 'dev', startedAt: started, attempt: 2, costCents: 12 },
      { task: 't-4', role: 'review', startedAt: new Date().toISOString(), attempt: 1, costCents: null },
    ]));
    // written whole: no temp file left beside it
    expect(fs.readdirSync(runs)).toEqual([`${process.pid}.json`]);
    const dead = deadPid();
    writeActiveRun(dir, runFile(dead, [{ task: 't-7', role: 'dev', startedAt: started, attempt: 1, costCents: 3 }]));
    fs.writeFileSync(path.join(runs, '424242.json'), '{"v":1,"pid":424242,"agents":[{"task":');
    fs.writeFileSync(path.join(runs, '424243.json'), JSON.stringify({ v: 1, pid: process.pid, host: 'h', startedAt: new Date().toISOString(), agents: [{ task: 't-8' }] }));
    // this process's pid, named by a run that started long before it did: another process that got the pid since
    fs.writeFileSync(path.join(runs, '1.json'), JSON.stringify(runFile(process.pid, [{ task: 't-9', role: 'dev', startedAt: '2020-01-01T00:00:00.000Z', attempt: 1, costCents: null }], '2020-01-01T00:00:00.000Z')));
    fs.writeFileSync(path.join(runs, `${process.pid}.json.99.tmp`), 'half a fi');

    const s = jsonOf(ok(repo.omni(['status', '--json'])));
    expect(s.runs).toEqual([
      { task: 't-3', role: 'dev', startedAt: started, elapsedMs: expect.any(Number), attempt: 2, costCents: 12, pid: process.pid },
      { task: 't-4', role: 'review', startedAt: expect.any(String), elapsedMs: expect.any(Number), attempt: 1, costCents: null, pid: process.pid },
    ]);
    expect(s.runs[0].elapsedMs).toBeGreaterThanOrEqual(192_000);
    expect(s.runs[0].elapsedMs).toBeLessThan(300_000);
    // the stored answer (the third run of the same refs) carries the runs as they are now, laid out alike
    const second = ok(repo.omni(['status', '--json'])).stdout;
    const third = ok(repo.omni(['status', '--json'])).stdout;
    expect(JSON.parse(third).runs.map((r: any) => r.task)).toEqual(['t-3', 't-4']);
    expect(third.replace(/"elapsedMs": \d+/g, '')).toBe(second.replace(/"elapsedMs": \d+/g, ''));
    const text = ok(repo.omni(['status'])).stdout;
    expect(text).toMatch(/\n\nrunning\n {2}t-3 {2}dev {5}3m1\ds {2}attempt 2 {2}\$0\.12\n {2}t-4 {2}review {2}\d+s +attempt 1 {2}-\n$/);
    // a filter shows the runs of the tasks it selects
    expect(jsonOf(ok(repo.omni(['status', '--task', 't-4', '--json']))).runs.map((r: any) => r.task)).toEqual(['t-4']);
    expect(activeRuns(dir).map((r) => r.task)).toEqual(['t-3', 't-4']);

    // the run ends: its file goes, and status shows no runs (the stored answer too)
    removeActiveRun(dir, process.pid);
    expect(jsonOf(ok(repo.omni(['status', '--json']))).runs).toEqual([]);
    expect(ok(repo.omni(['status'])).stdout).not.toContain('running');
  });
});
