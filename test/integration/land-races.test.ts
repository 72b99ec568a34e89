import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, tempDir, testEnv, waitFor, type TestRepo } from '../helpers/repo.js';
import { liveGroupMembers } from '../helpers/children.js';
import { NOTES, omniAsync } from '../helpers/state.js';
import {
  bareBranch,
  checkoutSnapshot,
  gitDirOf,
  killGroups,
  noteEvents,
  omniInGroup,
  originWith,
  processesMentioning,
  refLocks,
  seeded,
  signalGroup,
  sleep,
  taskCommitOn,
  trailerCommits,
  withLine,
} from '../helpers/land-race.js';

afterEach(killGroups);
afterAll(cleanupAll);

/** `omni-ship land … --json` as a user runs it: whatever the exit code, stdout is the LandResult. */
async function landJson(repo: TestRepo, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string; json: any }> {
  const r = await omniAsync(repo.dir, ['land', ...args, '--json'], env);
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    /* not JSON: the assertions below show stdout and stderr */
  }
  expect(json, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBeNull();
  return { code: r.code, stderr: r.stderr, json };
}

/** `omni-ship sync` (checked to exit 0). */
async function syncNotes(repo: TestRepo): Promise<void> {
  const r = await omniAsync(repo.dir, ['sync']);
  expect(r.code, r.stderr).toBe(0);
}

/** The land events a repository's lands log holds. */
function landEvents(repo: TestRepo): Record<string, any>[] {
  return noteEvents(repo, NOTES.lands).filter((e) => e.type === 'land');
}

/** The trees the repository's verify log has a pass for under `spec`. */
function passedTrees(repo: TestRepo, spec: string): Set<string> {
  return new Set(noteEvents(repo, NOTES.verify).filter((e) => e.type === 'verify' && e.result === 'pass' && e.spec === spec).map((e) => e.tree as string));
}

const taskIds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t-${from + i}`);

describe('three clones land 30 tasks at the same time', () => {
  it('lands every task that does not conflict exactly once, keeps main linear with a verified tree at every tip, and refuses the conflicting ones with their paths', async () => {
    const shared = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const origin = originWith({ verify: { steps: [{ name: 't', run: 'true' }] }, land: { maxAttempts: 20 } }, { 'shared.txt': shared });
    const firstTip = origin.tip;
    // tasks that change the same line of shared.txt conflict with each other: the first to reach main lands, the
    // others are refused. Tasks that change other lines of it (at least four lines apart) merge cleanly.
    const conflictGroups: string[][] = [
      ['t-3', 't-14', 't-25'], // line 5, one task in each clone
      ['t-7', 't-8'], // line 20, both in the first clone (so in one batch)
      ['t-19', 't-30'], // line 35, the second and third clone
    ];
    const sharedLine: Record<string, number> = { 't-3': 5, 't-14': 5, 't-25': 5, 't-7': 20, 't-8': 20, 't-19': 35, 't-30': 35, 't-1': 10, 't-12': 15, 't-23': 25, 't-9': 30 };
    const conflicting = new Set(conflictGroups.flat());

    const clones = [origin.clone('c1'), origin.clone('c2'), origin.clone('c3')];
    const idsOf = [taskIds(1, 10), taskIds(11, 20), taskIds(21, 30)];
    const heads = new Map<string, string>();
    clones.forEach((clone, k) => {
      for (const id of idsOf[k]!) {
        const files: Record<string, string> = { [`${id}.txt`]: `${id} work\n` };
        if (sharedLine[id]) files['shared.txt'] = withLine(shared, sharedLine[id]!, `${id} was here`);
        heads.set(id, taskCommitOn(clone, id, firstTip, files));
      }
      clone.git(['push', '-q', 'origin', ...idsOf[k]!.map((id) => `refs/heads/${id}:refs/heads/${id}`)]);
    });

    const results = await Promise.all(clones.map((clone, k) => landJson(clone, idsOf[k]!)));

    // every task is in its clone's answer, landed or refused with a reason; the exit code says which
    const outcome = new Map<string, any>();
    results.forEach((r, k) => {
      expect(r.json.tasks.map((t: any) => t.task)).toEqual(idsOf[k]);
      for (const t of r.json.tasks) outcome.set(t.task, t);
      const refused = r.json.tasks.filter((t: any) => t.outcome !== 'landed');
      expect(r.code, r.stderr).toBe(refused.length ? 3 : 0);
    });
    expect(outcome.size).toBe(30);
    const landed = [...outcome.values()].filter((t) => t.outcome === 'landed').map((t) => t.task as string);
    const refused = [...outcome.values()].filter((t) => t.outcome !== 'landed');
    for (const t of refused) {
      expect(conflicting.has(t.task), `${t.task} was refused: ${t.reason}`).toBe(true);
      expect(t).toMatchObject({ outcome: 'refused', gate: 'conflict', conflicts: ['shared.txt'], exitCode: 3, landed: null });
      expect(t.reason).toContain('shared.txt');
      expect(t.hint).toBeTruthy();
    }
    // each conflict group lands exactly one of its tasks (they conflict with nothing else)
    for (const group of conflictGroups) expect(group.filter((id) => landed.includes(id)), group.join(' ')).toHaveLength(1);
    for (const id of outcome.keys()) if (!conflicting.has(id)) expect(landed, `${id}: ${outcome.get(id).reason}`).toContain(id);
    expect(refused).toHaveLength(4);
    const attempts = [...outcome.values()].filter((t) => t.outcome === 'landed').map((t) => t.attempts as number);
    console.log(`three clones: ${landed.length} landed, ${refused.length} refused; attempts of the landed: ${JSON.stringify(attempts)}`);

    // origin's main: linear, each landed task in exactly one commit (the one its JSON names), no refused task
    const tip = bareBranch(origin.bare)!;
    expect(origin.bare.git(['rev-list', '--merges', tip])).toBe('');
    expect(origin.bare.git(['rev-list', '--count', `${firstTip}..${tip}`]).trim()).toBe(String(landed.length));
    const onMain = trailerCommits(origin.bare, tip);
    for (const id of landed) expect(onMain.get(id), id).toEqual([outcome.get(id).landed]);
    for (const t of refused) expect(onMain.get(t.task), t.task).toBeUndefined();
    // nothing was lost in the merges: every landed task's files are in main's tree as it wrote them
    const finalShared = origin.bare.git(['show', `${tip}:shared.txt`]).split('\n');
    for (const id of landed) {
      expect(origin.bare.git(['show', `${tip}:${id}.txt`])).toBe(`${id} work\n`);
      if (sharedLine[id]) expect(finalShared[sharedLine[id]! - 1], id).toBe(`${id} was here`);
    }
    // landed tasks' branches are gone from origin; refused ones are kept, at the commit that was pushed
    for (const id of landed) expect(bareBranch(origin.bare, id), id).toBeNull();
    for (const t of refused) expect(bareBranch(origin.bare, t.task), t.task).toBe(heads.get(t.task));

    // after a final sync everywhere, origin holds one land event per landed task, naming the landed commit
    for (const clone of clones) await syncNotes(clone);
    for (const clone of clones) await syncNotes(clone);
    const events = landEvents(origin.bare);
    expect(events).toHaveLength(landed.length);
    for (const id of landed) expect(events.filter((e) => e.task === id).map((e) => e.landed), id).toEqual([outcome.get(id).landed]);

    // every tip main had came from a land whose tree passed verify under the spec: the (oldTip, newTip) pairs of the
    // land events chain from the first tip to the last, and each newTip's tree has a pass recorded on it
    const spec = results[0]!.json.spec as string;
    for (const r of results) expect(r.json.spec).toBe(spec);
    const moves = new Map<string, string>();
    for (const e of events) {
      expect(e.newTip, `${e.task}: a land event without newTip`).toBeTruthy();
      const seen = moves.get(e.oldTip);
      expect(seen === undefined || seen === e.newTip, `main moved from ${e.oldTip} to both ${seen} and ${e.newTip}`).toBe(true);
      moves.set(e.oldTip, e.newTip);
    }
    const tips: string[] = [];
    for (let at = firstTip; at !== tip; ) {
      const next = moves.get(at);
      expect(next, `no land moved main on from ${at}`).toBeTruthy();
      tips.push(next!);
      at = next!;
    }
    expect(tips).toHaveLength(moves.size);
    const passed = passedTrees(origin.bare, spec);
    for (const t of tips) {
      const tree = origin.bare.git(['rev-parse', `${t}^{tree}`]).trim();
      expect(passed.has(tree), `main tip ${t} (tree ${tree}) has no pass under ${spec}`).toBe(true);
    }
    // each landed task's JSON names the tree of the tip its batch made
    for (const id of landed) {
      const e = events.find((x) => x.task === id)!;
      expect(outcome.get(id).tree).toBe(origin.bare.git(['rev-parse', `${e.newTip}^{tree}`]).trim());
      expect(outcome.get(id).verify.result).toBe('pass');
    }
  }, 600_000);
});

describe('a land killed at random points', () => {
  it('leaves origin at the old tip or the landed commit and the checkout as it was; landing again finishes the job, once', async () => {
    // LR_MARK (the test's own variable, not part of the spec) lets a trial see that the step has started
    const origin = originWith({ verify: { steps: [{ name: 't', run: 'test -z "$LR_MARK" || touch "$LR_MARK"; sleep 0.2' }] } });
    const k = origin.clone('lander');
    const mover = origin.clone('mover');
    // origin is a server: its receive-pack is not in the lander's process group, so killing the lander's group
    // does not kill the remote's half of a push (locally it would, and leave the remote's own ref locks behind)
    k.git(['config', 'remote.origin.receivepack', 'setsid git-receive-pack']);
    const kGitDir = gitDirOf(k);
    // the user works on another branch, with staged, unstaged and untracked changes land must never touch
    k.git(['switch', '-q', '-c', 'desk']);
    k.write('README', 'hello, edited\n');
    k.write('staged.txt', 'staged\n');
    k.git(['add', 'staged.txt']);
    k.write('untracked.txt', 'untracked\n');
    const before = checkoutSnapshot(k);
    expect(before.status).toContain('A  staged.txt');
    const marks = tempDir('omni-ship-marks-');

    /** A task on the lander's view of main, then main moves on origin: the land builds a new candidate. */
    const prepare = (n: number): { task: string; commit: string; oldTip: string } => {
      const task = `t-${n}`;
      k.git(['fetch', '-q', 'origin']);
      const commit = taskCommitOn(k, task, k.git(['rev-parse', 'refs/remotes/origin/main']).trim(), { [`${task}.txt`]: `${task} work\n` });
      k.git(['push', '-q', 'origin', `refs/heads/${task}:refs/heads/${task}`]);
      mover.git(['fetch', '-q', 'origin']);
      mover.git(['reset', '-q', '--hard', 'refs/remotes/origin/main']);
      mover.write(`mover-${n}.txt`, `moved before ${task}\n`);
      mover.git(['add', '-A']);
      mover.git(['commit', '-q', '-m', `unrelated change before ${task}`]);
      mover.git(['push', '-q', 'origin', 'HEAD:main']);
      return { task, commit, oldTip: mover.git(['rev-parse', 'HEAD']).trim() };
    };
    /** Waits until nothing of a run is left: its group, and the remote's processes for it. */
    const settle = async (pgid: number) => {
      expect(await waitFor(() => liveGroupMembers(pgid).length === 0 && processesMentioning(origin.bare.dir).length === 0, 60_000)).toBe(true);
    };
    const landedTasks: { task: string; landed: string }[] = [];
    /** The checks after a land (killed or not) and a land again, of one task. */
    const recoverAndCheck = async (t: { task: string; commit: string; oldTip: string }, label: string) => {
      // origin is at the old tip or at the landed commit: nothing else
      const after = bareBranch(origin.bare)!;
      let landedByKilled: string | null = null;
      if (after !== t.oldTip) {
        landedByKilled = after;
        expect(origin.bare.git(['rev-list', '--parents', '-n', '1', after]).trim(), `${label}: origin's main is ${after}`).toBe(`${after} ${t.oldTip}`);
        expect(origin.bare.git(['diff', '--name-only', t.oldTip, after]).trim(), label).toBe(`${t.task}.txt`);
        expect(trailerCommits(origin.bare, after).get(t.task), label).toEqual([after]);
      }
      expect(checkoutSnapshot(k), label).toEqual(before);

      const again = await landJson(k, [t.task]);
      expect(again.code, `${label}: ${again.stderr}\n${JSON.stringify(again.json.tasks)}`).toBe(0);
      const out = again.json.tasks[0];
      expect(out.task).toBe(t.task);
      if (landedByKilled) expect(out, label).toMatchObject({ outcome: 'already-landed', landed: landedByKilled });
      else expect(out.outcome, label).toBe('landed');
      const tip = bareBranch(origin.bare)!;
      expect(tip, label).toBe(out.landed);
      expect(origin.bare.git(['rev-list', '--parents', '-n', '1', tip]).trim(), label).toBe(`${tip} ${t.oldTip}`);
      expect(trailerCommits(origin.bare, tip).get(t.task), label).toEqual([tip]);
      expect(refLocks(kGitDir), label).toEqual([]);
      expect(refLocks(origin.bare.dir), label).toEqual([]);
      expect(landEvents(k).filter((e) => e.task === t.task).map((e) => e.landed), label).toEqual([tip]);
      // the task branch is gone, here and on origin; the checkout is still untouched
      expect(k.gitRun(['rev-parse', '-q', '--verify', `refs/heads/${t.task}`]).code, label).not.toBe(0);
      expect(bareBranch(origin.bare, t.task), label).toBeNull();
      expect(checkoutSnapshot(k), label).toEqual(before);
      landedTasks.push({ task: t.task, landed: tip });
    };

    // one whole land, to learn how long one takes here and now
    const first = prepare(0);
    const full = omniInGroup(k.dir, ['land', first.task, '--json']);
    const fullRun = await full.done;
    expect(fullRun.code, fullRun.stderr).toBe(0);
    const fullJson = JSON.parse(fullRun.stdout);
    expect(fullJson.tasks[0].outcome).toBe('landed');
    const spec = fullJson.spec as string;
    await settle(full.pgid);
    const fullMs = fullRun.ms;
    await recoverAndCheck(first, 'the whole land');

    const random = seeded(20261130);
    const kinds = { delay: 0, inVerify: 0, afterPush: 0, term: 0 };
    const seen = { killedBeforePush: 0, killedAfterPush: 0, finished: 0 };
    const trials = 36;
    for (let i = 1; i <= trials; i++) {
      const t = prepare(i);
      const label = `trial ${i}`;
      const mark = path.join(marks, `verify-${i}`);
      const run = omniInGroup(k.dir, ['land', t.task, '--json'], testEnv({ LR_MARK: mark }));
      // most trials: SIGKILL after a random delay within a whole land; every sixth a SIGTERM to the group instead;
      // and, so each part is hit for sure, some at the verify step's start and some right after origin moved
      const kind = i % 6 === 0 ? 'term' : i % 6 === 4 ? 'inVerify' : i % 6 === 5 ? 'afterPush' : 'delay';
      kinds[kind]++;
      let exited = false;
      void run.done.then(() => (exited = true));
      if (kind === 'inVerify') {
        await waitFor(() => exited || fs.existsSync(mark), 120_000, 5);
        await sleep(random() * 300);
      } else if (kind === 'afterPush') {
        await waitFor(() => exited || bareBranch(origin.bare) !== t.oldTip, 120_000, 2);
        await sleep(random() * 150);
      } else {
        await sleep(random() * fullMs);
      }
      const signal = kind === 'term' ? 'SIGTERM' : 'SIGKILL';
      signalGroup(run.pgid, signal);
      const r = await run.done;
      await settle(run.pgid);
      if (r.signal) {
        expect(r.signal, label).toBe(signal);
        if (bareBranch(origin.bare) === t.oldTip) seen.killedBeforePush++;
        else seen.killedAfterPush++;
      } else {
        // it finished before the signal came: it must have landed
        expect(r.code, `${label}: ${r.stderr}`).toBe(0);
        seen.finished++;
      }
      await recoverAndCheck(t, `${label} (${kind}, ${r.signal ?? `exit ${r.code}`})`);
    }
    const tmpRefs = k.git(['for-each-ref', '--format=%(refname)', 'refs/omni-ship/tmp/']).split('\n').filter(Boolean).length;
    console.log(`land kill trials: ${JSON.stringify({ fullMs, kinds, ...seen, tmpRefsLeft: tmpRefs })}`);
    expect(seen.killedBeforePush + seen.killedAfterPush).toBeGreaterThanOrEqual(20);
    // private refs of notes a killed land staged are removed by the next land: none is left after the last one
    expect(tmpRefs).toBe(0);

    // after a sync, origin holds one land event per task, and every tree the lander made a main tip passed verify
    await syncNotes(k);
    const events = landEvents(origin.bare);
    const passed = passedTrees(origin.bare, spec);
    for (const { task, landed } of landedTasks) {
      expect(events.filter((e) => e.task === task).map((e) => e.landed), task).toEqual([landed]);
      const tree = origin.bare.git(['rev-parse', `${landed}^{tree}`]).trim();
      expect(passed.has(tree), `${task}: the tree of ${landed} has no pass under ${spec}`).toBe(true);
    }
    expect(landedTasks).toHaveLength(trials + 1);
    expect(origin.bare.git(['rev-list', '--merges', 'main'])).toBe('');
  }, 1_800_000);
});

describe('a lost race is retried', () => {
  // LR_STEP (the test's own variable, not part of the spec) is what the step does besides passing
  const config = { verify: { steps: [{ name: 't', run: 'test -z "$LR_STEP" || eval "$LR_STEP"' }] }, land: { maxAttempts: 20 } };

  it('when main moves on origin while the candidate verifies: the land fetches, builds again, verifies the new candidate and lands on top', async () => {
    const origin = originWith(config);
    const b = origin.clone('b');
    const third = origin.clone('third');
    b.git(['fetch', '-q', 'origin']);
    const taskCommit = taskCommitOn(b, 't-2', origin.tip, { 't-2.txt': 't-2 work\n' });
    // a commit of someone else's, pushed to origin's main by the verify step while it runs (once)
    third.write('unrelated.txt', 'pushed during the verify\n');
    third.git(['add', 'unrelated.txt']);
    third.git(['commit', '-q', '-m', 'unrelated, pushed while t-2 verifies']);
    const unrelated = third.git(['rev-parse', 'HEAD']).trim();
    const dir = tempDir('omni-ship-step-');
    const once = path.join(dir, 'pushed');
    const runs = path.join(dir, 'runs');
    const step = `echo run >> "${runs}"; if mkdir "${once}" 2>/dev/null; then git -C "${third.dir}" push -q origin HEAD:main; fi`;

    const r = await landJson(b, ['t-2'], testEnv({ LR_STEP: step }));
    expect(r.code, r.stderr).toBe(0);
    const t = r.json.tasks[0];
    expect(t).toMatchObject({ task: 't-2', outcome: 'landed', commit: taskCommit, gate: null });
    expect(t.attempts).toBeGreaterThanOrEqual(2);
    // the step ran once per candidate: the first (built on the old tip, then outraced) and the rebuilt one
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(t.attempts);
    // the unrelated commit is still on main, the task on top of it; the candidate that landed is the one verified
    const tip = bareBranch(origin.bare)!;
    expect(tip).toBe(t.landed);
    expect(origin.bare.git(['rev-list', '--parents', '-n', '1', tip]).trim()).toBe(`${tip} ${unrelated}`);
    expect(origin.bare.git(['rev-list', '--merges', tip])).toBe('');
    expect(origin.bare.git(['diff', '--name-only', unrelated, tip]).trim()).toBe('t-2.txt');
    expect(trailerCommits(origin.bare, tip).get('t-2')).toEqual([tip]);
    expect(r.json).toMatchObject({ oldTip: origin.tip, newTip: tip });
    const tree = origin.bare.git(['rev-parse', `${tip}^{tree}`]).trim();
    expect(t.tree).toBe(tree);
    expect(t.verify).toMatchObject({ result: 'pass', cached: false, spec: r.json.spec });
    expect(passedTrees(b, r.json.spec).has(tree)).toBe(true);
    expect(landEvents(b).filter((e) => e.task === 't-2')).toMatchObject([{ landed: tip, oldTip: unrelated, newTip: tip }]);
  }, 300_000);

  it('two clones landing at the same moment, again and again: both land every time, and the one outraced retries', async () => {
    const origin = originWith(config);
    const a = origin.clone('a');
    const b = origin.clone('b');
    const barriers = tempDir('omni-ship-barrier-');
    // each land waits in its verify step until the other is verifying too: both built their candidate on the same
    // tip, so exactly one push keeps the lease and the other must fetch, rebuild and retry
    const barrier = (dir: string, name: string) =>
      `mkdir -p "${dir}"; touch "${dir}/${name}"; n=0; while [ "$(ls "${dir}" | wc -l)" -lt 2 ] && [ $n -lt 2400 ]; do sleep 0.05; n=$((n+1)); done`;
    let tip = origin.tip;
    for (let round = 1; round <= 3; round++) {
      const ta = `t-${round * 10 + 1}`;
      const tb = `t-${round * 10 + 2}`;
      for (const [clone, task] of [[a, ta], [b, tb]] as const) {
        clone.git(['fetch', '-q', 'origin']);
        taskCommitOn(clone, task, clone.git(['rev-parse', 'refs/remotes/origin/main']).trim(), { [`${task}.txt`]: `${task} work\n` });
      }
      const dir = path.join(barriers, `round-${round}`);
      const [ra, rb] = await Promise.all([
        landJson(a, [ta], testEnv({ LR_STEP: barrier(dir, 'a') })),
        landJson(b, [tb], testEnv({ LR_STEP: barrier(dir, 'b') })),
      ]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      const oa = ra.json.tasks[0];
      const ob = rb.json.tasks[0];
      expect(oa.outcome).toBe('landed');
      expect(ob.outcome).toBe('landed');
      // one kept the lease at its first try; the other lost it once and landed on top of the winner
      const [winner, loser] = oa.attempts === 1 ? [oa, ob] : [ob, oa];
      expect(winner.attempts, `round ${round}: attempts ${oa.attempts} and ${ob.attempts}`).toBe(1);
      expect(loser.attempts, `round ${round}`).toBe(2);
      const now = bareBranch(origin.bare)!;
      expect(now).toBe(loser.landed);
      expect(origin.bare.git(['rev-list', '--parents', '-n', '1', loser.landed]).trim()).toBe(`${loser.landed} ${winner.landed}`);
      expect(origin.bare.git(['rev-list', '--parents', '-n', '1', winner.landed]).trim()).toBe(`${winner.landed} ${tip}`);
      const onMain = trailerCommits(origin.bare, now);
      expect(onMain.get(ta)).toEqual([oa.landed]);
      expect(onMain.get(tb)).toEqual([ob.landed]);
      tip = now;
    }
    expect(origin.bare.git(['rev-list', '--merges', tip])).toBe('');
    expect(origin.bare.git(['rev-list', '--count', `${origin.tip}..${tip}`]).trim()).toBe('6');
  }, 600_000);
});
