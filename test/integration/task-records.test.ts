import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRemote, makeRepo, tempDir, testEnv, wrapRepo, type RunResult, type TestRepo } from '../helpers/repo.js';
import { eventsIn, jsonOf, omniAsync, refValue, refsUnder } from '../helpers/state.js';
import type { TaskItem } from '../../src/commands/task.js';

afterAll(cleanupAll);

const TASKS = 'refs/notes/omni-ship/tasks';
const SEQ = 'refs/omni-ship/seq';

/** A record as the task commands print it. */
type Item = TaskItem;

function ok(r: RunResult): RunResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function list(repo: TestRepo, args: string[] = []): { rule: string; parent: string | null; tasks: Item[] } {
  return jsonOf(ok(repo.omni(['task', 'list', '--json', ...args])));
}

/** Everything a refusal must leave as it was: the tasks log, the seq ref, and every other ref. */
function refsNow(repo: TestRepo): string {
  return repo.git(['for-each-ref', '--format=%(refname) %(objectname)']);
}

function refused(repo: TestRepo, args: string[], code: number, message: RegExp): void {
  const before = refsNow(repo);
  const r = repo.omni(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
  expect(refsNow(repo), args.join(' ')).toBe(before);
}

describe('task records (refs/notes/omni-ship/tasks)', () => {
  it('add, list, show, edit, comment, close and reopen, each an event in the one tasks log', () => {
    const repo = makeRepo();
    const spec = path.join(tempDir(), 'spec.md');
    fs.writeFileSync(spec, 'Build the form.\n\nWith validation.\n');
    const added = jsonOf<Item>(ok(repo.omni(['task', 'add', 'T-5', '--title', '  login form ', '-F', spec, '--priority', '1', '--namespace', 'web/', '--json'])));
    expect(added).toMatchObject({ id: 't-5', title: 'login form', description: 'Build the form.\n\nWith validation.\n', parent: null, dependsOn: [], priority: 1, namespace: 'web/', closed: null, state: 'open', ready: true, blockedBy: [] });
    ok(repo.omni(['task', 'add', 't-6', '--title', 'logout', '--depends-on', 't-5,t-4', '--depends-on', 't-4']));
    ok(repo.omni(['task', 'add', 't-5.1', '--title', 'email field', '--parent', 't-5']));
    // one ref holds them all
    expect([...refsUnder(repo, 'refs/notes/omni-ship/').keys()]).toEqual([TASKS]);
    const events = eventsIn(repo, TASKS);
    expect(events.map((e) => `${e.task} ${e.op}`).sort()).toEqual(['t-5 created', 't-5.1 created', 't-6 created']);
    // by priority, then as people count
    expect(list(repo).tasks.map((t) => [t.id, t.blockedBy])).toEqual([
      ['t-5', []],
      ['t-5.1', []],
      ['t-6', ['t-4', 't-5']],
    ]);
    expect(list(repo, ['--parent', 't-5']).tasks.map((t) => t.id)).toEqual(['t-5.1']);
    expect(list(repo, ['--ready']).tasks.map((t) => t.id)).toEqual(['t-5', 't-5.1']);

    const edited = jsonOf<Item>(ok(repo.omni(['task', 'edit', 't-6', '--priority', '0', '--depends-on', 't-5', '--json'])));
    expect(edited).toMatchObject({ priority: 0, dependsOn: ['t-5'], title: 'logout' });
    ok(repo.omni(['task', 'comment', 't-6', '-m', 'needs the session code']));
    const closed = jsonOf<Item>(ok(repo.omni(['task', 'close', 't-5.1', '-m', 'folded into t-5', '--json'])));
    expect(closed.state).toBe('closed');
    expect(closed.closed?.message).toBe('folded into t-5');
    expect(list(repo, ['--ready']).tasks.map((t) => t.id)).toEqual(['t-5']);
    // closing again writes nothing
    const tip = refValue(repo, TASKS);
    expect(ok(repo.omni(['task', 'close', 't-5.1'])).stdout).toBe('t-5.1: closed already\n');
    expect(refValue(repo, TASKS)).toBe(tip);
    ok(repo.omni(['task', 'reopen', 't-5.1']));
    expect(list(repo, ['--ready']).tasks.map((t) => t.id)).toEqual(['t-5', 't-5.1']);

    const shown = ok(repo.omni(['task', 'show', 't-6'])).stdout;
    expect(shown).toContain('t-6: logout');
    expect(shown).toContain('depends   t-5 (not landed: t-5)');
    expect(shown).toContain('needs the session code');
    const json = jsonOf<Item>(ok(repo.omni(['task', 'show', 't-6', '--json'])));
    expect(json.comments.map((c) => c.message)).toEqual(['needs the session code']);
    expect(json.priority).toBe(0);
  });

  it('show gives the record beside the history; a task with a record and no commit yet is open', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'the form', '--depends-on', 't-0']));
    const open = jsonOf<{ state: string; head: string | null; patchsetCount: number; record: Item | null }>(ok(repo.omni(['show', 't-1', '--json'])));
    expect(open).toMatchObject({ state: 'open', head: null, patchsetCount: 0, record: { id: 't-1', title: 'the form' } });
    expect(ok(repo.omni(['show', 't-1'])).stdout).toMatch(/^t-1 {2}open\ntrailer: Task-Id: t-1\ntitle: the form\ndepends on: t-0\n/);
    repo.git(['switch', '-q', '-c', 't-1']);
    repo.write('f.txt', 'f\n');
    repo.git(['add', 'f.txt']);
    repo.git(['commit', '-q', '-m', 'the form\n\nTask-Id: t-1']);
    const shown = jsonOf<{ taskId: string; state: string; record: Item | null }>(ok(repo.omni(['show', 't-1', '--json'])));
    expect(shown.state).toBe('in-progress');
    expect(shown.record).toMatchObject({ id: 't-1', title: 'the form', dependsOn: ['t-0'] });
    expect(ok(repo.omni(['show', 't-1'])).stdout).toContain('title: the form\ndepends on: t-0\n');
    // a task with no record: null, and no process spent on a log that does not exist elsewhere
    const other = makeRepo();
    other.git(['switch', '-q', '-c', 't-2']);
    other.write('g.txt', 'g\n');
    other.git(['add', 'g.txt']);
    other.git(['commit', '-q', '-m', 'other\n\nTask-Id: t-2']);
    expect(jsonOf<{ record: Item | null }>(ok(other.omni(['show', 't-2', '--json']))).record).toBeNull();
  });

  it('a dependency that has landed (its trailer on main) no longer blocks', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'base work']));
    ok(repo.omni(['task', 'add', 't-2', '--title', 'on top', '--depends-on', 't-1']));
    expect(list(repo, ['--ready']).tasks.map((t) => t.id)).toEqual(['t-1']);
    repo.write('a.txt', 'a\n');
    repo.git(['add', 'a.txt']);
    repo.git(['commit', '-q', '-m', 'base work\n\nTask-Id: t-1']);
    const tasks = list(repo).tasks;
    expect(tasks.find((t) => t.id === 't-1')?.state).toBe('landed');
    expect(tasks.find((t) => t.id === 't-2')).toMatchObject({ ready: true, blockedBy: [] });
    expect(list(repo, ['--ready']).tasks.map((t) => t.id)).toEqual(['t-2']);
  });

  it('refuses bad input with exit 2 (exit 3 for a task that exists), writing nothing', () => {
    const repo = makeRepo();
    ok(repo.omni(['task', 'add', 't-1', '--title', 'one']));
    refused(repo, ['task', 'add', 'nope', '--title', 'x'], 2, /"nope" is not a valid task id/);
    refused(repo, ['task', 'add', 't-2'], 2, /a task needs a title/);
    refused(repo, ['task', 'add', 't-2', '--title', '   '], 2, /the title is empty/);
    refused(repo, ['task', 'add', '--title', 'x'], 2, /give a task id or --next/);
    refused(repo, ['task', 'add', 't-2', '--next', '--title', 'x'], 2, /give a task id or --next/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '--description', 'd', '-F', '/dev/null'], 2, /not both/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '-F', '/nonexistent/spec.md'], 2, /cannot read the description from \/nonexistent\/spec\.md: ENOENT/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '--depends-on', 't-2'], 2, /t-2 cannot depend on itself/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '--parent', 't-2'], 2, /t-2 cannot be its own parent/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '--depends-on', 'bad id'], 2, /"bad id" is not a valid task id/);
    refused(repo, ['task', 'add', 't-2', '--title', 'x', '--priority', 'high'], 2, /--priority "high" is not a whole number/);
    refused(repo, ['task', 'add', 't-1', '--title', 'again'], 3, /t-1 has a task record already, "one"/);
    refused(repo, ['task', 'edit', 't-1'], 2, /nothing to change/);
    refused(repo, ['task', 'edit', 't-9', '--title', 'x'], 2, /no task record t-9/);
    refused(repo, ['task', 'comment', 't-1'], 2, /a comment needs a text/);
    refused(repo, ['task', 'comment', 't-9', '-m', 'x'], 2, /no task record t-9/);
    refused(repo, ['task', 'close', 't-9'], 2, /no task record t-9/);
    refused(repo, ['task', 'show', 't-9'], 2, /no task record t-9/);
    refused(repo, ['task', 'list', '--parent', 'x y'], 2, /"x y" is not a valid task id/);
    // --next without a remote
    refused(repo, ['task', 'add', '--next', '--title', 'x'], 2, /--next takes the next number at the remote, and this repository has none/);
    expect(list(repo).tasks.map((t) => t.id)).toEqual(['t-1']);
  });

  it('--next takes numbers by compare-and-swap at the remote: two clones at once never get the same one', async () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    // a number this clone knows in use is skipped
    ok(a.omni(['task', 'add', 't-3', '--title', 'named by hand']));
    expect(jsonOf<Item>(ok(a.omni(['task', 'add', '--next', '--title', 'first', '--json']))).id).toBe('t-4');
    const runs = await Promise.all([...Array(3).keys()].flatMap((i) => [omniAsync(a.dir, ['task', 'add', '--next', '--title', `a${i}`, '--json']), omniAsync(b.dir, ['task', 'add', '--next', '--title', `b${i}`, '--json'])]));
    const ids = runs.map((r) => jsonOf<Item>(ok(r)).id);
    expect(new Set(ids).size).toBe(6);
    expect([...ids].sort((x, y) => Number(x.slice(2)) - Number(y.slice(2)))).toEqual(['t-5', 't-6', 't-7', 't-8', 't-9', 't-10']);
    const seq = JSON.parse(wrapRepo(remote.bare).git(['cat-file', 'blob', `${SEQ}:seq.json`])) as Record<string, number>;
    expect(seq['']).toBe(10);
    // under a parent: the parent's own numbers
    expect(jsonOf<Item>(ok(b.omni(['task', 'add', '--next', '--parent', 't-4', '--title', 'sub', '--json']))).id).toBe('t-4.1');
    expect(jsonOf<Item>(ok(b.omni(['task', 'add', '--next', '--parent', 't-4', '--title', 'sub 2', '--json']))).id).toBe('t-4.2');
  });

  it('--next with the remote out of reach says why, exits 75 and writes nothing (no number, no record)', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    ok(a.omni(['task', 'add', '--next', '--title', 'first']));
    a.git(['remote', 'set-url', 'origin', path.join(tempDir(), 'gone.git')]);
    refused(a, ['task', 'add', '--next', '--title', 'second'], 75, /cannot reach origin to take the next task number: .*gone\.git.*\nhint: nothing was written/);
    expect(list(a).tasks.map((t) => t.id)).toEqual(['t-1']);
  });

  it('--next killed after the remote gave the number, before the record: nothing half-written, the next --next takes the one after', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    ok(a.omni(['task', 'add', '--next', '--title', 'first']));
    const killed = a.omni(['task', 'add', '--next', '--title', 'lost'], { env: testEnv({ OMNI_SHIP_FAILPOINT: 'task:number-taken' }) });
    expect(killed.code).not.toBe(0);
    expect(list(a).tasks.map((t) => t.id)).toEqual(['t-1']);
    expect(jsonOf<Item>(ok(a.omni(['task', 'add', '--next', '--title', 'second', '--json']))).id).toBe('t-3');
    expect(list(a).tasks.map((t) => t.id)).toEqual(['t-1', 't-3']);
    expect(a.git(['for-each-ref', 'refs/omni-ship/tmp/'])).toBe('');
  });

  it('sync carries the records to other clones and merges two clones\' changes to one task by union', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const b = remote.clone('b');
    ok(a.omni(['task', 'add', 't-1', '--title', 'shared']));
    ok(a.omni(['sync']));
    ok(b.omni(['sync']));
    expect(list(b).tasks.map((t) => t.title)).toEqual(['shared']);
    // both change t-1 before either syncs again
    ok(a.omni(['task', 'comment', 't-1', '-m', 'from a']));
    ok(b.omni(['task', 'comment', 't-1', '-m', 'from b']));
    ok(b.omni(['task', 'edit', 't-1', '--priority', '0']));
    ok(a.omni(['sync']));
    ok(b.omni(['sync']));
    ok(a.omni(['sync']));
    for (const clone of [a, b]) {
      const t = jsonOf<Item>(ok(clone.omni(['task', 'show', 't-1', '--json'])));
      expect(t.comments.map((c) => c.message).sort()).toEqual(['from a', 'from b']);
      expect(t.priority).toBe(0);
    }
  });
});

