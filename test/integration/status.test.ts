import fs from 'node:fs';
import path from 'node:path';
import { SortedLines } from '../../src/state/sorted-lines.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRemote, makeRepo, testEnv, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, head, installHooks, jsonOf, noteOn, refValue, status, taskStatus } from '../helpers/state.js';
import { PASS, landLocal, makeTask } from '../helpers/land.js';

afterAll(cleanupAll);

const STATES = ['open', 'in-progress', 'verifying', 'failed', 'verified', 'approved', 'landed', 'needs-help', 'diverged', 'closed'];
const TASK_KEYS = ['id', 'parent', 'state', 'branch', 'head', 'patchsets', 'verify', 'verifyOtherSpec', 'verifyingSince', 'review', 'landing', 'reverted', 'landedCommit', 'live', 'record'];

async function drained(repo: TestRepo): Promise<void> {
  expect(await waitForDrain(repo)).toBe(true);
}

/** A commit carrying the task's trailer on a new branch from main, made without hooks. */
function taskBranch(repo: TestRepo, branch: string, task: string): string {
  repo.git(['switch', '-q', '-c', branch, 'main']);
  const sha = commitChange(repo, `work on ${task}\n\nTask-Id: ${task}`, { file: `${branch.replace(/\//g, '_')}.txt` });
  repo.git(['switch', '-q', 'main']);
  return sha;
}

describe('status lists what is in flight by default', () => {
  /**
   * t-1 in progress; t-2 landed by omni-ship just now; t-3 landed by hand (a commit with its trailer on main, no
   * land event); t-4 landed by omni-ship ten days ago (its land event says so).
   */
  function repoWithHistory(): TestRepo {
    const repo = landLocal({ steps: [PASS] });
    for (const t of ['t-2', 't-4']) {
      makeTask(repo, t);
      repo.git(['switch', '-q', '--detach']);
      expect(repo.omni(['land', t]).code).toBe(0);
      repo.git(['switch', '-q', 'main']);
    }
    // t-4's land event, as if written ten days ago
    const landed4 = repo.git(['log', '-1', '--format=%H', '--grep=Task-Id: t-4', 'main']).trim();
    const note = repo.git(['notes', '--ref', NOTES.lands, 'show', landed4]);
    const old = new Date(Date.now() - 10 * 86_400_000).toISOString();
    repo.git(['notes', '--ref', NOTES.lands, 'add', '-f', '-m', note.replace(/"at":"[^"]+"/, `"at":"${old}"`).trim(), landed4]);
    commitChange(repo, 'landed by hand\n\nTask-Id: t-3');
    taskBranch(repo, 't-1', 't-1');
    return repo;
  }

  it('the tasks not landed and those landed in the last 3 days; counts of every task; the rule in --json', () => {
    const repo = repoWithHistory();
    const s = jsonOf(repo.omni(['status', '--json']));
    expect(s.tasks.map((t: any) => t.id)).toEqual(['t-1', 't-2']);
    expect(s.counts).toMatchObject({ 'in-progress': 1, landed: 3 });
    expect(s.listing).toEqual({ rule: 'in-flight', landedWithinDays: 3, hidden: 2 });

    const text = repo.omni(['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^t-1\s+in-progress/m);
    expect(text.stdout).toMatch(/^t-2\s+landed/m);
    expect(text.stdout).not.toMatch(/^t-[34]\s/m);
    expect(text.stdout).toContain('in-progress 1, landed 3 (all tasks; shown: in flight, and landed by omni-ship in the last 3 days; 2 more landed: --all lists them)');
  });

  it('--all lists every task; a filter selects from every task', () => {
    const repo = repoWithHistory();
    const all = jsonOf(repo.omni(['status', '--json', '--all']));
    expect(all.tasks.map((t: any) => t.id)).toEqual(['t-1', 't-2', 't-3', 't-4']);
    expect(all.listing).toEqual({ rule: 'all', landedWithinDays: null, hidden: 0 });
    const landed = jsonOf(repo.omni(['status', '--json', '--state', 'landed']));
    expect(landed.tasks.map((t: any) => t.id)).toEqual(['t-2', 't-3', 't-4']);
    expect(landed.listing).toEqual({ rule: 'filter', landedWithinDays: null, hidden: 1 });
    expect(jsonOf(repo.omni(['status', '--json', '--task', 't-4'])).tasks.map((t: any) => t.id)).toEqual(['t-4']);
    expect(repo.omni(['status', '--all']).stdout).toMatch(/^t-4\s+landed/m);
  });

  it('says so when nothing is in flight', () => {
    const repo = landLocal({ steps: [PASS] });
    commitChange(repo, 'landed by hand\n\nTask-Id: t-3');
    const text = repo.omni(['status']);
    expect(text.stdout).toContain('nothing in flight, nothing landed in the last 3 days');
    expect(text.stdout).toContain('landed 1 (all tasks; --all lists them)');
  });
});

describe('status --json', () => {
  it('has the documented shape: base, counts of all ten states, each task with its fields, and the active runs', () => {
    const repo = makeRepo();
    const sha = taskBranch(repo, 't-1', 't-1');
    const s = status(repo);
    expect(Object.keys(s).sort()).toEqual(['base', 'counts', 'listing', 'runs', 'spec', 'tasks', 'warnings']);
    expect((s as unknown as { runs: unknown[] }).runs).toEqual([]);
    expect(s.listing).toEqual({ rule: 'all', landedWithinDays: null, hidden: 0 });
    expect(s.warnings).toEqual([]);
    expect(s.base).toBe('main');
    expect(Object.keys(s.counts).sort()).toEqual([...STATES].sort());
    for (const n of Object.values(s.counts)) expect(typeof n).toBe('number');
    expect(s.counts['in-progress']).toBe(1);
    expect(s.tasks).toHaveLength(1);
    expect(Object.keys(s.tasks[0]).sort()).toEqual([...TASK_KEYS].sort());
    expect(s.tasks[0]).toEqual({
      id: 't-1',
      parent: null,
      state: 'in-progress',
      branch: 't-1',
      head: sha,
      patchsets: 0,
      verify: null,
      verifyOtherSpec: null,
      verifyingSince: null,
      review: null,
      landing: null,
      reverted: null,
      landedCommit: null,
      live: [sha],
      record: null,
    });
  });

  it('works in a fresh repository with a task branch and no notes ref at all', () => {
    const repo = makeRepo();
    taskBranch(repo, 't-4', 't-4');
    expect(refValue(repo, NOTES.patchsets)).toBeNull();
    const r = repo.omni(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).tasks.map((t: { id: string }) => t.id)).toEqual(['t-4']);
  });

  it('lists nothing, with all counts zero, in a repository without tasks', () => {
    const repo = makeRepo();
    const s = status(repo);
    expect(s.tasks).toEqual([]);
    expect(Object.values(s.counts)).toEqual(STATES.map(() => 0));
    const text = repo.omni(['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/no tasks/);
  });
});

describe('task states', () => {
  it('in-progress after a commit, approved after --approve, in-progress after --request-changes, and again after a new patchset', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-1']);
    const first = commitChange(repo, 'first');
    await drained(repo);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'in-progress', head: first, patchsets: 1, review: null });

    expect(repo.omni(['review', 't-1', '--approve', '-m', 'looks good']).code).toBe(0);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'approved', review: { verdict: 'approve', message: 'looks good', by: 'Test Author <author@example.com>' } });

    expect(repo.omni(['review', 't-1', '--request-changes', '-m', 'one more thing']).code).toBe(0);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'in-progress', review: { verdict: 'request-changes', message: 'one more thing' } });

    expect(repo.omni(['review', 't-1', '--approve']).code).toBe(0);
    expect(taskStatus(repo, 't-1').state).toBe('approved');
    // reviews belong to a patchset: the amended commit starts with none
    repo.write('work.txt', 'amended\n');
    repo.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    const second = head(repo);
    await drained(repo);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'in-progress', head: second, patchsets: 2, review: null, live: [second] });
    // the approval is still there, on the old commit, and not carried to the new one
    expect(noteOn(repo, NOTES.reviews, first)).toContain('"verdict":"approve"');
    expect(noteOn(repo, NOTES.reviews, second)).toBeNull();
    const shown = jsonOf(repo.omni(['show', 't-1', '--json']));
    expect(shown.reviews.map((r: { verdict: string; commit: string }) => [r.verdict, r.commit])).toEqual([
      ['approve', first],
      ['request-changes', first],
      ['approve', first],
    ]);
  });

  it('landed when a commit with the task trailer is on main; review then refuses (exit 1) and writes nothing', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-2']);
    const commit = commitChange(repo, 'the work');
    await drained(repo);
    repo.git(['switch', '-q', 'main']);
    repo.git(['cherry-pick', commit]);
    const landed = head(repo);
    await drained(repo);
    expect(taskStatus(repo, 't-2')).toMatchObject({ state: 'landed', landedCommit: landed });
    expect(status(repo).counts.landed, JSON.stringify(status(repo).tasks)).toBe(1);

    const r = repo.omni(['review', 't-2', '--approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/t-2 has landed already/);
    expect(refValue(repo, NOTES.reviews)).toBeNull();
  });

  it('diverged when two task branches hold different commits of one task; review then refuses (exit 3)', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-9']);
    const a = commitChange(repo, 'one way', { file: 'a.txt' });
    repo.git(['switch', '-q', '-c', 'feat/t-9-x', 'main']);
    const b = commitChange(repo, 'another way', { file: 'b.txt' });
    await drained(repo);
    // the hook named the task from the second branch's name too
    expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', b]).trim()).toBe('t-9');
    const t = taskStatus(repo, 't-9');
    expect(t.state).toBe('diverged');
    expect([...t.live].sort()).toEqual([a, b].sort());
    expect(status(repo).counts.diverged).toBe(1);

    const r = repo.omni(['review', 't-9', '--approve']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/t-9 is diverged/);
    expect(refValue(repo, NOTES.reviews)).toBeNull();
  });
});

describe('status filters and output', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = makeRepo();
    for (const id of ['t-3', 't-3.1', 't-3.2', 't-30', 't-1']) taskBranch(repo, id, id);
    const r = repo.omni(['review', 't-1', '--approve']);
    expect(r.code, r.stderr).toBe(0);
  });
  const ids = (args: string[]) => status(repo, args).tasks.map((t) => t.id);

  it('lists tasks in natural order with their parents', () => {
    const s = status(repo);
    expect(s.tasks.map((t) => [t.id, t.parent])).toEqual([
      ['t-1', null],
      ['t-3', null],
      ['t-3.1', 't-3'],
      ['t-3.2', 't-3'],
      ['t-30', null],
    ]);
  });

  it('--parent shows the task and its subtasks only', () => {
    expect(ids(['--parent', 't-3'])).toEqual(['t-3', 't-3.1', 't-3.2']);
    expect(ids(['--parent', 'T-3'])).toEqual(['t-3', 't-3.1', 't-3.2']);
    expect(ids(['--parent', 't-3.1'])).toEqual(['t-3.1']);
  });

  it('--task shows one task; --state one state; counts still count every task', () => {
    expect(ids(['--task', 't-3.2'])).toEqual(['t-3.2']);
    const approved = status(repo, ['--state', 'approved']);
    expect(approved.tasks.map((t) => t.id)).toEqual(['t-1']);
    expect(approved.counts).toMatchObject({ approved: 1, 'in-progress': 4 });
    expect(ids(['--state', 'in-progress'])).toEqual(['t-3', 't-3.1', 't-3.2', 't-30']);
    expect(ids(['--state', 'landed'])).toEqual([]);
    expect(ids(['--parent', 't-3', '--state', 'approved'])).toEqual([]);
  });

  it('--state with an unknown state exits 2 and names the valid ones', () => {
    const r = repo.omni(['status', '--state', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown state 'bogus'/);
    expect(r.stderr).toMatch(/in-progress/);
    expect(r.stdout).toBe('');
  });

  it('piped output is plain text without ANSI escapes', () => {
    const r = repo.omni(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\u001b\[/);
    expect(r.stdout).toMatch(/^TASK\s+STATE\s+BRANCH/);
    expect(r.stdout).toMatch(/^t-1\s+approved\s+t-1/m);
    expect(r.stdout).toMatch(/approved 1, in-progress 4|in-progress 4, .*approved 1/);
  });
});

describe('corrupt notes', () => {
  it('status skips unreadable lines with a warning naming the ref, and never deletes them', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-6']);
    const commit = commitChange(repo, 'work');
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    const garbage = [
      'not json',
      '{"v":99,"type":"patchset"}',
      // the right version and type but not the fields a patchset needs
      '{"v":1,"type":"patchset","at":"2025-01-01T00:00:00.000Z"}',
      '{"v":1,"type":"patchset","at":"2025-01-01T00:00:00.000Z","task":5,"commit":7}',
    ];
    for (const line of garbage) repo.git(['notes', '--ref=omni-ship/patchsets', 'append', '-m', line, commit]);
    // a note on another object that holds nothing but garbage
    repo.git(['notes', '--ref=omni-ship/patchsets', 'add', '-m', '{{{', 'main']);
    const before = noteOn(repo, NOTES.patchsets, commit);

    for (let run = 0; run < 2; run++) {
      // twice: the second run may answer from the local cache, and must warn all the same
      const r = repo.omni(['status', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/refs\/notes\/omni-ship\/patchsets/);
      expect(r.stderr).toMatch(/skipped 5 unreadable line/);
      const s = JSON.parse(r.stdout);
      expect(s.tasks).toEqual([expect.objectContaining({ id: 't-6', patchsets: 1, head: commit, state: 'in-progress' })]);
    }
    const show = repo.omni(['show', 't-6']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stderr).toMatch(/refs\/notes\/omni-ship\/patchsets/);

    expect(noteOn(repo, NOTES.patchsets, commit)).toBe(before);
    for (const line of garbage) expect(before).toContain(`${line}\n`);
    expect(noteOn(repo, NOTES.patchsets, head(repo, repo.dir, 'main'))).toBe('{{{\n');
  });

  it('a new event appended to a note with garbage keeps the garbage', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-7']);
    const commit = commitChange(repo, 'work');
    repo.git(['notes', '--ref=omni-ship/patchsets', 'add', '-m', 'garbage first', commit]);
    const r = repo.omni(['patchset', 't-7', '--increment', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ patchsetCount: 1, incremented: true });
    const note = noteOn(repo, NOTES.patchsets, commit)!;
    expect(note.startsWith('garbage first\n')).toBe(true);
    expect(note).toContain(`"commit":"${commit}"`);
  });
});

describe('the machine-local state cache', () => {
  it('a status repeated while no ref moved reads its last answer (no git log, no notes read); a config change or a moved ref reads again', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-3']);
    commitChange(repo, 'work');
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    const first = status(repo);
    expect(first.tasks.map((t) => t.id)).toEqual(['t-3']);
    // a key seen twice gets its answer stored: the third run reads it
    expect(status(repo)).toEqual(first);
    const traced = repo.omni(['status', '--json', '--all'], { env: testEnv({ OMNI_SHIP_TRACE_GIT: '1' }) });
    expect(traced.code, traced.stderr).toBe(0);
    expect(JSON.parse(traced.stdout)).toEqual(first);
    // the refs read from git's files, the answer from the last run: no git process at all
    expect(traced.stderr).not.toMatch(/\[git\]/);
    // the config is part of the key: a branch pattern that no longer names t-3 changes the answer
    repo.write('.omni-shiprc.json', JSON.stringify({ branchPattern: '^task/[0-9]+$', taskPattern: '^[0-9]+$' }));
    expect(status(repo).tasks).toEqual([]);
    fs.rmSync(path.join(repo.dir, '.omni-shiprc.json'));
    expect(status(repo)).toEqual(first);
    // a moved ref: a review moves refs/notes/omni-ship/reviews
    expect(repo.omni(['review', 't-3', '--approve']).code).toBe(0);
    expect(status(repo).tasks[0]).toMatchObject({ id: 't-3', state: 'approved' });
  });

  it('answers exactly as a cold read does: after a first read, after new notes, after a note is replaced, and for odd events', () => {
    const repo = makeRepo();
    const cold = testEnv({ OMNI_SHIP_NO_CACHE: '1' });
    const same = (args: string[]) => {
      const warm = repo.omni(args);
      const fresh = repo.omni(args, { env: cold });
      expect(warm.code, warm.stderr).toBe(0);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(warm.stdout).toBe(fresh.stdout);
      expect(warm.stderr).toBe(fresh.stderr);
      return JSON.parse(warm.stdout);
    };
    repo.git(['switch', '-q', '-c', 't-8']);
    const first = commitChange(repo, 'work');
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    same(['status', '--json']); // fills the cache
    // and the next read uses it: nothing changed, so no part is written again (show: no status snapshot in the way)
    const cacheDir = path.join(repo.dir, '.git', 'omni-ship', 'state-cache');
    const parts = fs.readdirSync(cacheDir);
    expect(parts).toContain('refs_notes_omni-ship_patchsets.json');
    const past = new Date('2020-01-01T00:00:00Z');
    for (const p of parts) fs.utimesSync(path.join(cacheDir, p), past, past);
    expect(repo.omni(['show', 't-8', '--json']).code).toBe(0);
    for (const p of parts) expect(fs.statSync(path.join(cacheDir, p)).mtime).toEqual(past);
    // an event with a field more, and one without an optional field: the cache must give back what the note says
    const extra = { v: 1, type: 'review', at: '2030-01-01T00:00:00.000Z', by: 'A <a@x>', host: 'h/1', task: 't-8', commit: first, verdict: 'approve', message: null, note: 'x' };
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-m', JSON.stringify(extra), first]);
    expect(same(['show', 't-8', '--json']).reviews).toEqual([expect.objectContaining({ verdict: 'approve' })]);
    expect(same(['status', '--json']).tasks[0]).toMatchObject({ id: 't-8', state: 'approved' });
    // a replaced note (incremental read of what changed): the old verdict is gone, the new one counts
    const changes = { ...extra, at: '2030-01-02T00:00:00.000Z', verdict: 'request-changes', message: 'no' };
    delete (changes as Record<string, unknown>).note;
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-f', '-m', JSON.stringify(changes), first]);
    expect(same(['status', '--json']).tasks[0]).toMatchObject({ id: 't-8', state: 'in-progress', review: { verdict: 'request-changes', message: 'no' } });
    same(['show', 't-8', '--json']);
    // a second patchset
    repo.git(['commit', '-q', '--amend', '-m', 'work again']);
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    expect(same(['status', '--json']).tasks[0]).toMatchObject({ patchsets: 2 });
    same(['show', 't-8', '--json']);
    // events as omni-ship writes them (packed in the cache): a read that hits the cache prints them alike
    expect(repo.omni(['review', 't-8', '--approve', '-m', 'ok']).code).toBe(0);
    same(['show', 't-8', '--json']);
    const shown = same(['show', 't-8', '--json']);
    expect(shown.reviews).toContainEqual(expect.objectContaining({ verdict: 'approve', message: 'ok' }));
  });
});

describe('a note larger than many pipe chunks', () => {
  it('is read whole, by a cold read and by the incremental read of a moved ref', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const commit = commitChange(repo, 'work');
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    // ~1.5 MB of review lines on one commit: two dozen 64 KiB pipe chunks, cut anywhere inside lines
    const line = (i: number) =>
      JSON.stringify({ v: 1, type: 'review', at: new Date(Date.UTC(2030, 0, 1) + i).toISOString(), by: 'A <a@x>', host: 'h/1', task: 't-1', commit, verdict: 'request-changes', message: `m${i} ${'x'.repeat(200 + (i % 37))}` });
    const many = Array.from({ length: 6000 }, (_, i) => line(i)).join('\n');
    const file = path.join(repo.dir, '.git', 'big-note');
    fs.writeFileSync(file, `${many}\n`);
    expect(fs.statSync(file).size).toBeGreaterThan(1_400_000);
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-F', file, commit]);
    const cold = jsonOf(repo.omni(['show', 't-1', '--json'], { env: testEnv({ OMNI_SHIP_NO_CACHE: '1' }) }));
    expect(cold.reviews).toHaveLength(6000);
    expect(cold.reviews[5999].message).toBe(`m5999 ${'x'.repeat(200 + (5999 % 37))}`);
    expect(cold.review).toMatchObject({ verdict: 'request-changes', message: cold.reviews[5999].message });
    // fill the cache, then move the ref by one line more: the changed note is read again, whole
    jsonOf(repo.omni(['show', 't-1', '--json']));
    fs.appendFileSync(file, `${line(6000).replace('request-changes', 'approve')}\n`);
    repo.git(['notes', '--ref=omni-ship/reviews', 'add', '-f', '-F', file, commit]);
    const warm = jsonOf(repo.omni(['show', 't-1', '--json']));
    expect(warm.reviews).toHaveLength(6001);
    expect(warm.state).toBe('approved');
  });
});

describe('a cached notes tip that gc pruned', () => {
  it('is read whole again (and its cache part rewritten) when the ref was rewritten to a new history', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const commit = commitChange(repo, 'work');
    expect(repo.omni(['hook', 'post-commit']).code).toBe(0);
    expect(repo.omni(['review', 't-1', '--request-changes', '-m', 'no']).code).toBe(0);
    expect(jsonOf(repo.omni(['show', 't-1', '--json'])).state).toBe('in-progress'); // fills the state cache
    const oldTip = refValue(repo, NOTES.reviews)!;
    // the ref rewritten outside omni-ship: a new root notes commit with another verdict
    const approve = JSON.stringify({ v: 1, type: 'review', at: '2030-01-01T00:00:00.000Z', by: 'A <a@x>', host: 'h/1', task: 't-1', commit, verdict: 'approve', message: 'ok' });
    const blob = repo.git(['hash-object', '-w', '--stdin'], { input: `${approve}\n` }).trim();
    const tree = repo.git(['mktree'], { input: `100644 blob ${blob}\t${commit}\n` }).trim();
    const fresh = repo.git(['commit-tree', tree, '-m', 'rewritten'], { input: '' }).trim();
    repo.git(['update-ref', NOTES.reviews, fresh]);
    repo.git(['reflog', 'expire', '--expire=now', '--all']);
    repo.git(['gc', '-q', '--prune=now']);
    expect(repo.gitRun(['cat-file', '-e', oldTip]).code).not.toBe(0);

    for (const args of [['show', 't-1', '--json'], ['status', '--json']]) {
      const r = repo.omni(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const cold = repo.omni(args, { env: testEnv({ OMNI_SHIP_NO_CACHE: '1' }) });
      expect(r.stdout).toBe(cold.stdout);
    }
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'approved', review: { verdict: 'approve', message: 'ok' } });
    // the part now holds the new tip: the next read is incremental again, not a second full read
    const part = SortedLines.open(path.join(repo.dir, '.git', 'omni-ship', 'state-cache', 'refs_notes_omni-ship_reviews.json'))!;
    expect(part.header.tip).toBe(fresh);
    part.close();
  });
});

describe('a baseBranch that does not exist', () => {
  const expectWarning = (text: string, refs: string[]) => {
    expect(text).toMatch(/base branch 'mian' not found/);
    for (const ref of refs) expect(text).toContain(ref);
    expect(text).toMatch(/baseBranch/);
  };

  it('status and show say so on stderr and in --json, naming the refs looked for and the fix', () => {
    const repo = makeRepo();
    repo.git(['switch', '-q', '-c', 't-1']);
    const landed = commitChange(repo, 'landed work\n\nTask-Id: t-1');
    repo.git(['switch', '-q', 'main']);
    repo.git(['merge', '-q', '--ff-only', 't-1']);
    repo.git(['branch', '-q', '-D', 't-1']);
    expect(taskStatus(repo, 't-1')).toMatchObject({ state: 'landed', landedCommit: landed });
    expect(status(repo).warnings).toEqual([]);

    repo.write('.omni-shiprc.json', JSON.stringify({ baseBranch: 'mian' }));
    // three times: the third reads the stored answer, which must warn as well
    for (let i = 0; i < 3; i++) {
      const r = repo.omni(['status', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expectWarning(r.stderr, ['refs/heads/mian']);
      const s = JSON.parse(r.stdout);
      expect(s.warnings).toHaveLength(1);
      expectWarning(s.warnings[0], ['refs/heads/mian']);
      expect(s.base).toBe('mian');
    }
    const text = repo.omni(['status']);
    expect(text.code).toBe(0);
    expectWarning(text.stderr, ['refs/heads/mian']);
    const show = repo.omni(['show', 't-1', '--json']);
    expect(show.code, show.stderr).toBe(0);
    expectWarning(show.stderr, ['refs/heads/mian']);
    expectWarning(JSON.parse(show.stdout).warnings[0], ['refs/heads/mian']);
    expectWarning(repo.omni(['show', 't-1']).stderr, ['refs/heads/mian']);
  });

  it('with a remote, names the remote-tracking branch it looked for too', () => {
    const remote = makeRemote();
    const repo = remote.clone();
    repo.write('.omni-shiprc.json', JSON.stringify({ baseBranch: 'mian' }));
    const r = repo.omni(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectWarning(r.stderr, ['refs/heads/mian', 'refs/remotes/origin/mian']);
    expect(JSON.parse(r.stdout).warnings).toHaveLength(1);
  });

  it('says nothing in a repository without any commit yet', () => {
    const repo = makeRepo({ initialCommit: false });
    const r = repo.omni(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).warnings).toEqual([]);
  });
});
