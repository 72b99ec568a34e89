import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRepo, tempDir, waitForDrain, type TestRepo } from '../helpers/repo.js';
import { NOTES, commitChange, eventsIn, installHooks, jsonOf, noteOn, omniAsync, patchsetEvents, keptCommits, refsUnder, repoWithTask, runAsync, status } from '../helpers/state.js';

afterAll(cleanupAll);

describe('parallel writers lose nothing', () => {
  it('40 concurrent `omni-ship review` processes each append their line to the same note', async () => {
    const { repo, commit } = repoWithTask('t-1');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => omniAsync(repo.dir, ['review', 't-1', '--approve', '-m', `review number ${i}`])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const note = noteOn(repo, NOTES.reviews, commit);
    expect(note).not.toBeNull();
    const lines = note!.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(40);
    const messages = lines.map((l) => (JSON.parse(l) as { message: string }).message).sort();
    expect(messages).toEqual(Array.from({ length: 40 }, (_, i) => `review number ${i}`).sort());
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ v: 1, type: 'review', task: 't-1', commit, verdict: 'approve' });
    // no private ref of an attempt is left behind
    expect([...refsUnder(repo, 'refs/omni-ship/tmp').keys()]).toEqual([]);
  });

  it('40 commits made at once in 40 worktrees give exactly one patchset event per task', async () => {
    const repo = makeRepo();
    installHooks(repo);
    const trees = tempDir('omni-ship-worktrees-');
    const worktrees: { task: string; dir: string }[] = [];
    for (let i = 1; i <= 40; i++) {
      const dir = path.join(trees, `wt-${i}`);
      repo.git(['worktree', 'add', '-q', '-b', `t-${i}`, dir, 'main']);
      fs.writeFileSync(path.join(dir, 'work.txt'), `task ${i}\n`);
      repo.git(['add', 'work.txt'], { cwd: dir });
      worktrees.push({ task: `t-${i}`, dir });
    }
    const commits = await Promise.all(worktrees.map((w) => runAsync('git', ['commit', '-q', '-m', `work on ${w.task}`], { cwd: w.dir })));
    for (const r of commits) expect(r.code, r.stderr).toBe(0);
    expect(await waitForDrain(repo)).toBe(true);

    const events = patchsetEvents(repo);
    expect(events).toHaveLength(40);
    const kept = keptCommits(repo);
    for (const w of worktrees) {
      const sha = repo.git(['rev-parse', 'HEAD'], { cwd: w.dir }).trim();
      // the commit-msg hook put the trailer in, so the commit names its task
      expect(repo.git(['log', '-1', '--format=%(trailers:key=Task-Id,valueonly)', sha]).trim()).toBe(w.task);
      const mine = events.filter((e) => e.task === w.task);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ commit: sha, branch: w.task, via: 'commit', supersedes: null });
      expect(kept.has(sha), w.task).toBe(true);
    }
    expect(refsUnder(repo, 'refs/omni-ship/patchsets/')).toEqual(new Map());

    const s = status(repo);
    expect(s.tasks.map((t) => t.id)).toEqual(Array.from({ length: 40 }, (_, i) => `t-${i + 1}`));
    for (const t of s.tasks) expect(t).toMatchObject({ patchsets: 1, state: 'in-progress' });
    expect(s.counts['in-progress']).toBe(40);
  });

  it('40 hook processes recording patchsets at the same moment, one per worktree, leave 40 events', async () => {
    // the installed hooks funnel a burst into one drainer; here 40 Node processes write the notes ref at once,
    // so only the compare-and-swap keeps every event
    const repo = makeRepo();
    const trees = tempDir('omni-ship-worktrees-');
    const worktrees: { task: string; dir: string; sha: string }[] = [];
    for (let i = 1; i <= 40; i++) {
      const dir = path.join(trees, `wt-${i}`);
      repo.git(['worktree', 'add', '-q', '-b', `t-${i}`, dir, 'main']);
      const sha = commitChange(repo, `work on t-${i}\n\nTask-Id: t-${i}`, { cwd: dir });
      worktrees.push({ task: `t-${i}`, dir, sha });
    }
    const runs = await Promise.all(worktrees.map((w) => omniAsync(w.dir, ['hook', 'post-commit'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const events = patchsetEvents(repo);
    expect(events).toHaveLength(40);
    for (const w of worktrees) expect(events.filter((e) => e.task === w.task)).toEqual([expect.objectContaining({ commit: w.sha })]);
    expect([...refsUnder(repo, 'refs/omni-ship/tmp').keys()]).toEqual([]);
  });
});

describe('git rewriting notes at the same time', () => {
  it('amends in one worktree (git copies notes without compare-and-swap) while other worktrees commit lose no event', async () => {
    const repo = makeRepo();
    installHooks(repo);
    const trees = tempDir('omni-ship-worktrees-');
    const tasks = Array.from({ length: 30 }, (_, i) => `t-${i + 1}`);
    for (const task of tasks) {
      const dir = path.join(trees, task);
      repo.git(['worktree', 'add', '-q', '-b', task, dir, 'main']);
      fs.writeFileSync(path.join(dir, 'work.txt'), `${task}\n`);
      repo.git(['add', 'work.txt'], { cwd: dir });
    }
    repo.git(['switch', '-q', '-c', 't-99']);
    commitChange(repo, 'first version');
    expect(await waitForDrain(repo)).toBe(true);

    const amends = 60;
    const [amending, committing] = await Promise.all([
      runAsync('sh', ['-c', `i=0; while [ $i -lt ${amends} ]; do i=$((i+1)); echo $i >> work.txt; git commit -q -a --amend --no-edit || exit 1; done`], { cwd: repo.dir }),
      runAsync('sh', ['-c', `for t in ${tasks.join(' ')}; do git -C "${trees}/$t" commit -q -m "work on $t" || exit 1; sleep 0.03; done`], { cwd: repo.dir }),
    ]);
    expect(amending.code, amending.stderr).toBe(0);
    expect(committing.code, committing.stderr).toBe(0);
    expect(await waitForDrain(repo)).toBe(true);

    // the invariant under test: every event the drainer wrote (and logged) is still in the notes at the end
    const events = patchsetEvents(repo);
    const log = fs.readFileSync(path.join(repo.dir, '.git', 'omni-ship', 'hooks.log'), 'utf8');
    const written = [...log.matchAll(/ patchset (t-[0-9]+) ([0-9a-f]{12})/g)].map((m) => ({ task: m[1]!, prefix: m[2]! }));
    expect(written.length).toBeGreaterThan(amends);
    const missing = written.filter((w) => !events.some((e) => e.task === w.task && String(e.commit).startsWith(w.prefix)));
    expect(missing, log).toEqual([]);
    for (const task of tasks) {
      const sha = repo.git(['rev-parse', task]).trim();
      // (a hook event that never reached the drainer is another matter: see the spool)
      if (log.includes(`post-commit ${sha}`)) expect(events.filter((e) => e.task === task).map((e) => e.commit), task).toEqual([sha]);
    }
    const shown = jsonOf(repo.omni(['show', 't-99', '--json']));
    expect(shown.patchsetCount).toBe(amends + 1);
    expect(shown.patchsetHistory.at(-1)).toMatchObject({ commit: repo.git(['rev-parse', 'HEAD']).trim(), current: true });
  });
});

describe('notes config set by install-hooks', () => {
  const localConfig = (repo: TestRepo) => fs.readFileSync(path.join(repo.dir, '.git', 'config'), 'utf8');
  const values = (repo: TestRepo, key: string) => repo.gitRun(['config', '--local', '--get-all', key]).stdout.split('\n').filter(Boolean);

  it('sets notes.displayRef, notes.rewriteRef and notes.rewriteMode; uninstall leaves .git/config byte-identical', () => {
    const repo = makeRepo();
    const before = localConfig(repo);
    installHooks(repo);
    expect(values(repo, 'notes.displayRef')).toEqual(['refs/notes/omni-ship-landed']);
    const rewriteRefs = values(repo, 'notes.rewriteRef');
    expect(rewriteRefs).toHaveLength(1);
    expect(rewriteRefs[0]).toMatch(/^refs\/notes\/omni-ship\/patchsets\*?$/);
    expect(values(repo, 'notes.rewriteMode')).toEqual(['cat_sort_uniq']);

    const r = repo.omni(['uninstall-hooks']);
    expect(r.code, r.stderr).toBe(0);
    expect(localConfig(repo)).toBe(before);
    expect(repo.gitRun(['config', '--local', '--get-regexp', '^notes\\.']).code).toBe(1);
  });

  it("keeps the user's own notes.displayRef and restores their notes.rewriteMode, byte for byte", () => {
    const repo = makeRepo();
    repo.git(['config', '--add', 'notes.displayRef', 'refs/notes/review']);
    repo.git(['config', 'notes.rewriteMode', 'concatenate']);
    repo.git(['config', '--add', 'notes.displayRef', 'refs/notes/other']);
    repo.git(['config', 'user.signingkey', 'ABCDEF']);
    const before = localConfig(repo);

    installHooks(repo);
    expect(values(repo, 'notes.displayRef')).toEqual(['refs/notes/review', 'refs/notes/other', 'refs/notes/omni-ship-landed']);
    expect(values(repo, 'notes.rewriteMode')).toEqual(['cat_sort_uniq']);

    const r = repo.omni(['uninstall-hooks']);
    expect(r.code, r.stderr).toBe(0);
    expect(values(repo, 'notes.displayRef')).toEqual(['refs/notes/review', 'refs/notes/other']);
    expect(values(repo, 'notes.rewriteMode')).toEqual(['concatenate']);
    expect(values(repo, 'notes.rewriteRef')).toEqual([]);
    expect(localConfig(repo)).toBe(before);
  });

  it('keeps the JSON lines of a task commit out of `git log`; they are one --notes away', async () => {
    const repo = makeRepo();
    installHooks(repo);
    repo.git(['switch', '-q', '-c', 't-2']);
    const commit = commitChange(repo, 'shown in log');
    expect(await waitForDrain(repo)).toBe(true);
    expect(noteOn(repo, NOTES.patchsets, commit)).toContain(`"commit":"${commit}"`);
    const log = repo.git(['log', '-1']);
    expect(log).not.toContain('Notes');
    expect(log).not.toContain('"type"');
    const withLog = repo.git(['log', '-1', `--notes=${NOTES.patchsets}`]);
    expect(withLog).toContain('Notes (omni-ship/patchsets):');
    expect(withLog).toContain(`"commit":"${commit}"`);
  });
});

describe('appends keep what is there', () => {
  it('a write to a note with lines it cannot read keeps those lines byte for byte', () => {
    const { repo, commit } = repoWithTask('t-3');
    repo.git(['notes', `--ref=${NOTES.reviews}`, 'add', '-m', 'not json at all', commit]);
    const r = repo.omni(['review', 't-3', '--request-changes', '-m', 'fix the tests']);
    expect(r.code, r.stderr).toBe(0);
    const note = noteOn(repo, NOTES.reviews, commit)!;
    expect(note.startsWith('not json at all\n')).toBe(true);
    expect(eventsIn(repo, NOTES.reviews)).toEqual([expect.objectContaining({ type: 'review', verdict: 'request-changes', message: 'fix the tests', commit })]);
    // the review counts although the note holds a bad line
    const t = jsonOf(repo.omni(['show', 't-3', '--json']));
    expect(t.review).toMatchObject({ verdict: 'request-changes', message: 'fix the tests' });
  });
});

describe('private refs of killed writes', () => {
  it('the next write deletes a leftover tmp ref whose writer died on this host, or that is over an hour old, and keeps the others', async () => {
    const { repo, commit } = repoWithTask('t-4');
    const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_') || 'unknown';
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const live = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      const now = Date.now().toString(36);
      const old = (Date.now() - 2 * 60 * 60 * 1000).toString(36);
      const tmp = 'refs/omni-ship/tmp/';
      const refs = {
        deadHere: `${tmp}${host}/${dead}-${now}-aaaaaa`,
        liveHere: `${tmp}${host}/${live.pid}-${now}-bbbbbb`,
        // another machine's pid means nothing here: only its age counts
        elsewhere: `${tmp}some-other-host/${dead}-${now}-cccccc`,
        oldElsewhere: `${tmp}some-other-host/${live.pid}-${old}-dddddd`,
        // the name earlier builds used, without the host
        oldUnnamed: `${tmp}${dead}-${old}-eeeeee`,
        // made ten minutes ago by a process since gone, whose pid a process started now took (pids wrap around:
        // a test run that starts thousands of processes drew this)
        reusedHere: `${tmp}${host}/${live.pid}-${(Date.now() - 10 * 60 * 1000).toString(36)}-ffffff`,
      };
      for (const ref of Object.values(refs)) repo.git(['update-ref', ref, commit]);

      const r = repo.omni(['review', 't-4', '--approve']);
      expect(r.code, r.stderr).toBe(0);
      expect([...refsUnder(repo, tmp).keys()].sort()).toEqual([refs.elsewhere, refs.liveHere].sort());
      expect(noteOn(repo, NOTES.reviews, commit)).toContain('"verdict":"approve"');
    } finally {
      live.kill();
    }
  });
});
