import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, makeRemote, makeRepo, tempDir, testEnv, wrapRepo, type RunResult, type TestRepo } from '../helpers/repo.js';
import { commitChange, head, jsonOf, refValue, refsUnder } from '../helpers/state.js';

afterAll(cleanupAll);

interface Entry {
  branch: string;
  remote: string | null;
  task: string | null;
  commit: string;
  reason: string;
  landed?: string | null;
  detail: string;
}
interface CleanupJson {
  dryRun: boolean;
  base: string;
  remote: string | null;
  deleted: Entry[];
  kept: Entry[];
  warnings: string[];
}

/** A branch from main with one commit carrying `task`'s trailer, made without hooks; main stays checked out. */
function taskBranch(repo: TestRepo, branch: string, task = branch): string {
  repo.git(['switch', '-q', '-c', branch, 'main']);
  const sha = commitChange(repo, `work on ${task}\n\nTask-Id: ${task}`, { file: `${branch.replace(/\//g, '_')}.txt` });
  repo.git(['switch', '-q', 'main']);
  return sha;
}

/** Lands a task branch by fast-forwarding main to it (its tip is then in main). */
function landByFastForward(repo: TestRepo, branch: string): void {
  repo.git(['merge', '-q', '--ff-only', branch]);
}

/** Lands a task branch's tip as a cherry-pick onto main (a new commit, the same change, the trailer kept). */
function landByCherryPick(repo: TestRepo, branch: string): string {
  repo.git(['cherry-pick', branch]);
  return head(repo);
}

function cleanup(repo: TestRepo, args: string[] = []): RunResult {
  return repo.omni(['cleanup-branches', ...args]);
}

function cleanupJson(repo: TestRepo, args: string[] = []): CleanupJson {
  return jsonOf<CleanupJson>(cleanup(repo, ['--json', ...args]));
}

/** Every ref and what it points at, for "nothing was written". */
function allRefs(repo: TestRepo): Map<string, string> {
  return refsUnder(repo, 'refs/');
}

function names(entries: Entry[]): string[] {
  return entries.map((e) => (e.remote ? `${e.remote}/${e.branch}` : e.branch));
}

function keptAs(json: CleanupJson, branch: string, remote: string | null = null): Entry | undefined {
  return json.kept.find((k) => k.branch === branch && k.remote === remote);
}

describe('cleanup-branches (local branches)', () => {
  it('a dry run lists what it would delete and why, and changes no ref', () => {
    const repo = makeRepo();
    const t1 = taskBranch(repo, 't-1');
    const t2 = taskBranch(repo, 't-2');
    landByFastForward(repo, 't-1');
    const picked = landByCherryPick(repo, 't-2');
    const before = allRefs(repo);

    const json = cleanupJson(repo);
    expect(json.dryRun).toBe(true);
    expect(json.base).toBe('main');
    expect(json.remote).toBeNull();
    expect(json.warnings).toEqual([]);
    expect(json.deleted).toEqual([
      { branch: 't-1', remote: null, task: 't-1', commit: t1, reason: 'in-base', landed: t1, detail: `t-1 landed; ${t1.slice(0, 12)} is in main` },
      {
        branch: 't-2',
        remote: null,
        task: 't-2',
        commit: t2,
        reason: 'landed-copy',
        landed: picked,
        detail: `t-2 landed; the same change landed as ${picked.slice(0, 12)} on main`,
      },
    ]);
    expect(json.kept).toEqual([]);
    expect(allRefs(repo)).toEqual(before);

    const text = cleanup(repo);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain(`would delete t-1 (${t1.slice(0, 12)}): t-1 landed`);
    expect(text.stdout).toContain(`would delete t-2 (${t2.slice(0, 12)}): t-2 landed`);
    expect(text.stdout).toContain('dry run: 2 branch(es) would be deleted; run omni-ship cleanup-branches --apply to delete them');
    expect(allRefs(repo)).toEqual(before);
  });

  it('--apply deletes the landed task branches (compare-and-swap) and their branch config, and nothing else', () => {
    const repo = makeRepo();
    const t1 = taskBranch(repo, 't-1');
    taskBranch(repo, 't-2');
    landByFastForward(repo, 't-1');
    landByCherryPick(repo, 't-2');
    repo.git(['config', 'branch.t-1.description', 'the login form']);
    const before = allRefs(repo);

    const json = cleanupJson(repo, ['--apply']);
    expect(json.dryRun).toBe(false);
    expect(names(json.deleted)).toEqual(['t-1', 't-2']);
    expect(json.deleted[0]).toMatchObject({ branch: 't-1', task: 't-1', commit: t1, reason: 'in-base' });
    expect(refValue(repo, 'refs/heads/t-1')).toBeNull();
    expect(refValue(repo, 'refs/heads/t-2')).toBeNull();
    expect(repo.gitRun(['config', '--get', 'branch.t-1.description']).code).toBe(1);
    const after = allRefs(repo);
    before.delete('refs/heads/t-1');
    before.delete('refs/heads/t-2');
    expect(after).toEqual(before);

    // nothing left to do: a second run deletes nothing and says so
    const again = cleanup(repo, ['--apply']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('no branch deleted');
  });

  it('keeps the branch of a task that has not landed, and a branch that is no task branch, even one merged into main', () => {
    const repo = makeRepo();
    const t3 = taskBranch(repo, 't-3');
    repo.git(['switch', '-q', '-c', 'feature/login', 'main']);
    const feature = commitChange(repo, 'no task here', { file: 'feature.txt' });
    repo.git(['switch', '-q', 'main']);
    landByFastForward(repo, 'feature/login');
    const before = allRefs(repo);

    const json = cleanupJson(repo, ['--apply']);
    expect(json.deleted).toEqual([]);
    expect(json.kept).toEqual([
      { branch: 't-3', remote: null, task: 't-3', commit: t3, reason: 'not-landed', detail: 't-3 is in-progress, not landed' },
      { branch: 'feature/login', remote: null, task: null, commit: feature, reason: 'not-task-branch', detail: 'not a task branch' },
    ].sort((a, b) => (a.branch < b.branch ? -1 : 1)));
    // the base branch is never a candidate, not even listed
    expect(names(json.kept)).not.toContain('main');
    expect(allRefs(repo)).toEqual(before);

    const text = cleanup(repo);
    expect(text.stdout).toContain('kept t-3: t-3 is in-progress, not landed');
    expect(text.stdout).toContain('kept 1 branch(es) that are not task branches');
    expect(text.stdout).toContain('dry run: no branch to delete');
  });

  it('keeps a landed branch checked out in a linked worktree (or in this one), and says where', () => {
    const repo = makeRepo();
    taskBranch(repo, 't-4');
    landByFastForward(repo, 't-4');
    taskBranch(repo, 't-5');
    landByFastForward(repo, 't-5');
    const wt = path.join(tempDir('omni-ship-wt-'), 'linked');
    repo.git(['worktree', 'add', '-q', wt, 't-4']);
    // the main worktree moves to t-5: omni-ship runs from the linked one
    repo.git(['switch', '-q', 't-5']);
    const before = allRefs(repo);

    const json = jsonOf<CleanupJson>(wrapRepo(wt).omni(['cleanup-branches', '--apply', '--json']));
    expect(json.deleted).toEqual([]);
    expect(keptAs(json, 't-4')).toMatchObject({ task: 't-4', reason: 'checked-out', detail: `t-4 landed, but the branch is checked out in the worktree ${wt}` });
    expect(keptAs(json, 't-5')).toMatchObject({ task: 't-5', reason: 'checked-out', detail: `t-5 landed, but the branch is checked out in the worktree ${repo.dir}` });
    expect(allRefs(repo)).toEqual(before);
  });

  it('keeps a branch being rebased in a worktree (git shows its HEAD detached)', () => {
    const repo = makeRepo();
    taskBranch(repo, 't-6');
    landByFastForward(repo, 't-6');
    repo.git(['switch', '-q', 't-6']);
    // what `git rebase` leaves while it stops: HEAD detached, the branch named in rebase-merge/head-name
    repo.git(['switch', '-q', '--detach']);
    fs.mkdirSync(path.join(repo.dir, '.git', 'rebase-merge'));
    fs.writeFileSync(path.join(repo.dir, '.git', 'rebase-merge', 'head-name'), 'refs/heads/t-6\n');
    const json = cleanupJson(repo, ['--apply']);
    expect(keptAs(json, 't-6')).toMatchObject({ reason: 'checked-out', detail: `t-6 landed, but the branch is being rebased in the worktree ${repo.dir}` });
    expect(refValue(repo, 'refs/heads/t-6')).not.toBeNull();
  });

  it('keeps a landed task branch that holds more than what landed', () => {
    const repo = makeRepo();
    // landed by fast-forward, then another commit on the branch
    taskBranch(repo, 't-7');
    landByFastForward(repo, 't-7');
    repo.git(['switch', '-q', 't-7']);
    const extra = commitChange(repo, 'follow-up\n\nTask-Id: t-7', { file: 'extra.txt' });
    repo.git(['switch', '-q', 'main']);
    // two commits, only the top one cherry-picked onto main
    repo.git(['switch', '-q', '-c', 't-8', 'main']);
    commitChange(repo, 'helper', { file: 'helper.txt' });
    commitChange(repo, 'work on t-8\n\nTask-Id: t-8', { file: 't-8.txt' });
    repo.git(['switch', '-q', 'main']);
    landByCherryPick(repo, 't-8');
    // cherry-picked, then amended (a new patchset after the landing): a different change
    const t9 = taskBranch(repo, 't-9');
    landByCherryPick(repo, 't-9');
    repo.git(['switch', '-q', 't-9']);
    repo.write('t-9.txt', 'changed after landing\n');
    repo.git(['commit', '-q', '-a', '--amend', '--no-edit']);
    const amended = head(repo);
    expect(amended).not.toBe(t9);
    repo.git(['switch', '-q', 'main']);
    const before = allRefs(repo);

    const json = cleanupJson(repo, ['--apply']);
    expect(json.deleted).toEqual([]);
    expect(keptAs(json, 't-7')).toMatchObject({ reason: 'unlanded-commits', commit: extra });
    expect(keptAs(json, 't-7')!.detail).toMatch(/^t-7 landed, but its commit [0-9a-f]{12} differs from the change that landed as [0-9a-f]{12} on main \(patch-id\)$/);
    expect(keptAs(json, 't-8')).toMatchObject({ reason: 'unlanded-commits', detail: "t-8 landed, but 2 commits not in main; only t-8's own commit may be above it" });
    expect(keptAs(json, 't-9')).toMatchObject({ reason: 'unlanded-commits', commit: amended });
    expect(keptAs(json, 't-9')!.detail).toContain('differs from the change that landed');
    expect(allRefs(repo)).toEqual(before);
  });

  it("keeps a landed task's branch whose only commit is another task's", () => {
    const repo = makeRepo();
    // t-11 landed by a commit made on main itself; its branch holds t-12's commit alone above main
    commitChange(repo, 'work on t-11\n\nTask-Id: t-11', { file: 't-11.txt' });
    const tip = taskBranch(repo, 't-11', 't-12');
    const before = allRefs(repo);
    const json = cleanupJson(repo, ['--apply']);
    expect(json.deleted).toEqual([]);
    expect(keptAs(json, 't-11')).toEqual({
      branch: 't-11',
      remote: null,
      task: 't-11',
      commit: tip,
      reason: 'unlanded-commits',
      detail: `t-11 landed, but its commit ${tip.slice(0, 12)} is not t-11's own commit (not its head, a patchset, or a commit whose trailer names it)`,
    });
    expect(allRefs(repo)).toEqual(before);
  });
});

describe('cleanup-branches --apply killed half way (OMNI_SHIP_FAILPOINT)', () => {
  const killedAt = (repo: TestRepo, point: string, args: string[]) => repo.omni(['cleanup-branches', '--apply', ...args], { env: testEnv({ OMNI_SHIP_FAILPOINT: point }) });

  it("between a branch's ref and its config: the next run deletes the rest and the config left behind", () => {
    const repo = makeRepo();
    taskBranch(repo, 't-1');
    taskBranch(repo, 't-2');
    landByFastForward(repo, 't-1');
    landByCherryPick(repo, 't-2');
    repo.git(['config', 'branch.t-1.description', 'the login form']);
    repo.git(['config', 'branch.t-2.description', 'the logout button']);
    // an unlanded task's branch config, and a task branch's config with no branch (never made): not ours to drop
    taskBranch(repo, 't-3');
    repo.git(['config', 'branch.t-3.description', 'not landed']);
    repo.git(['config', 'branch.t-9.description', 'no such branch, no such landing']);
    const killed = killedAt(repo, 'cleanup:ref-deleted', []);
    expect(killed.code).toBe(128);
    expect(refValue(repo, 'refs/heads/t-1')).toBeNull();
    expect(repo.git(['config', '--get', 'branch.t-1.description']).trim()).toBe('the login form');
    expect(refValue(repo, 'refs/heads/t-2')).not.toBeNull();

    const json = cleanupJson(repo, ['--apply']);
    expect(names(json.deleted)).toEqual(['t-2']);
    expect(refValue(repo, 'refs/heads/t-2')).toBeNull();
    for (const t of ['t-1', 't-2']) expect(repo.gitRun(['config', '--get', `branch.${t}.description`]).code, t).toBe(1);
    expect(repo.git(['config', '--get', 'branch.t-3.description']).trim()).toBe('not landed');
    expect(repo.git(['config', '--get', 'branch.t-9.description']).trim()).toBe('no such branch, no such landing');
    expect(cleanupJson(repo, ['--apply']).deleted).toEqual([]);
  });

  it("after the local deletions, before the remote's: the next run deletes the remote's", () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const bare = wrapRepo(remote.bare);
    const t1 = taskBranch(a, 't-1');
    a.git(['push', '-q', 'origin', 't-1']);
    landByFastForward(a, 't-1');
    a.git(['push', '-q', 'origin', 'main']);
    const killed = killedAt(a, 'cleanup:local-done', ['--remote']);
    expect(killed.code).toBe(128);
    expect(refValue(a, 'refs/heads/t-1')).toBeNull();
    expect(refValue(bare, 'refs/heads/t-1')).toBe(t1);

    const json = cleanupJson(a, ['--remote', '--apply']);
    expect(names(json.deleted)).toEqual(['origin/t-1']);
    expect(refValue(bare, 'refs/heads/t-1')).toBeNull();
    expect(refValue(bare, 'refs/heads/main')).toBe(t1);
  });
});

describe('cleanup-branches --remote', () => {
  /** A remote and a clone that pushed task branch t-1 and landed it (main fast-forwarded and pushed), plus t-2 unlanded. */
  function landedOnRemote(): { bare: TestRepo; a: TestRepo; t1: string; t2: string } {
    const remote = makeRemote();
    const a = remote.clone('a');
    const t1 = taskBranch(a, 't-1');
    const t2 = taskBranch(a, 't-2');
    a.git(['push', '-q', 'origin', 't-1', 't-2']);
    landByFastForward(a, 't-1');
    a.git(['push', '-q', 'origin', 'main']);
    return { bare: wrapRepo(remote.bare), a, t1, t2 };
  }

  it("deletes the remote's landed task branches too; a dry run lists them and pushes nothing", () => {
    const { bare, a, t1, t2 } = landedOnRemote();
    const bareBefore = allRefs(bare);
    const dry = cleanupJson(a, ['--remote']);
    expect(dry.remote).toBe('origin');
    expect(names(dry.deleted)).toEqual(['t-1', 'origin/t-1']);
    expect(dry.deleted[1]).toMatchObject({ remote: 'origin', task: 't-1', commit: t1, reason: 'in-base', detail: `t-1 landed; ${t1.slice(0, 12)} is in origin/main` });
    expect(keptAs(dry, 't-2', 'origin')).toMatchObject({ reason: 'not-landed', commit: t2 });
    expect(allRefs(bare)).toEqual(bareBefore);

    const json = cleanupJson(a, ['--remote', '--apply']);
    expect(names(json.deleted)).toEqual(['t-1', 'origin/t-1']);
    expect(refValue(bare, 'refs/heads/t-1')).toBeNull();
    expect(refValue(bare, 'refs/heads/t-2')).toBe(t2);
    expect(refValue(bare, 'refs/heads/main')).toBe(t1);
    // git dropped the remote-tracking ref of the deleted branch
    expect(refValue(a, 'refs/remotes/origin/t-1')).toBeNull();
    expect(refValue(a, 'refs/heads/t-1')).toBeNull();
  });

  it('without --remote, leaves the remote alone', () => {
    const { bare, a } = landedOnRemote();
    const bareBefore = allRefs(bare);
    const json = cleanupJson(a, ['--apply']);
    expect(names(json.deleted)).toEqual(['t-1']);
    expect(names(json.kept)).toEqual(['t-2']);
    expect(allRefs(bare)).toEqual(bareBefore);
  });

  it('a remote branch judged on the local base only is kept: the remote must hold it in its own base', () => {
    const remote = makeRemote();
    const a = remote.clone('a');
    const t1 = taskBranch(a, 't-1');
    a.git(['push', '-q', 'origin', 't-1']);
    landByFastForward(a, 't-1'); // landed here, main not pushed
    const json = cleanupJson(a, ['--remote', '--apply']);
    expect(names(json.deleted)).toEqual(['t-1']);
    expect(keptAs(json, 't-1', 'origin')).toMatchObject({ reason: 'unlanded-commits', detail: 't-1 landed, but no commit on origin/main carries t-1 yet' });
    expect(refValue(wrapRepo(remote.bare), 'refs/heads/t-1')).toBe(t1);
  });

  it('lease: a remote branch someone pushed to since our fetch is not deleted (exit 3), local deletions still reported', () => {
    const { bare, a } = landedOnRemote();
    // another clone pushes to t-1 after a last fetched it
    const b = wrapRepo(path.join(path.dirname(a.dir), 'b'));
    bare.git(['clone', '-q', bare.dir, b.dir]);
    b.git(['switch', '-q', 't-1']);
    const theirs = commitChange(b, 'more on t-1\n\nTask-Id: t-1', { file: 'more.txt' });
    b.git(['push', '-q', 'origin', 't-1']);

    const r = cleanup(a, ['--remote', '--apply', '--json']);
    expect(r.code).toBe(3);
    const json = JSON.parse(r.stdout) as CleanupJson;
    expect(names(json.deleted)).toEqual(['t-1']);
    expect(keptAs(json, 't-1', 'origin')).toMatchObject({ reason: 'lost-race' });
    expect(keptAs(json, 't-1', 'origin')!.detail).toMatch(/^origin\/t-1 is no longer at [0-9a-f]{12} on origin \(stale info\)$/);
    expect(refValue(bare, 'refs/heads/t-1')).toBe(theirs);
    expect(r.stderr).toBe('omni-ship: 1 branch(es) moved since they were judged and were kept: origin/t-1; git fetch --prune origin, then run cleanup-branches again\n');
  });

  it('a remote that cannot be reached: exit 2 naming it and its URL; the local deletions are made and reported', () => {
    const { a } = landedOnRemote();
    a.git(['remote', 'set-url', 'origin', '/nonexistent/remote.git']);
    const r = cleanup(a, ['--remote', '--apply', '--json']);
    expect(r.code).toBe(2);
    const json = JSON.parse(r.stdout) as CleanupJson;
    expect(names(json.deleted)).toEqual(['t-1']);
    expect(refValue(a, 'refs/heads/t-1')).toBeNull();
    expect(keptAs(json, 't-1', 'origin')).toMatchObject({ reason: 'remote-unreachable' });
    expect(r.stderr).toMatch(/^omni-ship: cannot push to remote 'origin' \(\/nonexistent\/remote\.git\): .+; no branch of origin was deleted: check the URL \(git remote get-url --push origin\) and your network, then run cleanup-branches --remote --apply again\n$/);
    // the text form says the same
    a.git(['branch', 't-1', 'origin/t-1']);
    const text = cleanup(a, ['--remote', '--apply']);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^deleted t-1 \(/m);
    expect(text.stdout).toMatch(/^kept origin\/t-1: cannot push to remote 'origin'/m);
  });

  it("a remote that refuses the deletion: exit 1, quoting the remote's words; the branch stays there", () => {
    const { bare, a, t1 } = landedOnRemote();
    const hook = path.join(bare.dir, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, '#!/bin/sh\necho "task branches are deleted by the bot" >&2\nexit 1\n', { mode: 0o755 });
    const r = cleanup(a, ['--remote', '--apply', '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as CleanupJson;
    expect(names(json.deleted)).toEqual(['t-1']);
    const kept = keptAs(json, 't-1', 'origin')!;
    expect(kept.reason).toBe('remote-refused');
    expect(kept.detail).toBe("remote 'origin' refused the push of refs/heads/t-1 (pre-receive hook declined): task branches are deleted by the bot");
    expect(r.stderr).toBe(`omni-ship: ${kept.detail}\n`);
    expect(refValue(bare, 'refs/heads/t-1')).toBe(t1);
  });

  it('--remote without a remote is bad usage (exit 2), and nothing is deleted', () => {
    const repo = makeRepo();
    taskBranch(repo, 't-1');
    landByFastForward(repo, 't-1');
    const r = cleanup(repo, ['--remote', '--apply']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('omni-ship: --remote: no remote configured\nhint: add one (git remote add origin <url>) or set "remote" in the config\n');
    expect(refValue(repo, 'refs/heads/t-1')).not.toBeNull();
  });
});
