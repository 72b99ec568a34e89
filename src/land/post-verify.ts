import { ExitCode } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { gitRun } from '../git/exec.js';
import { appendAttempt } from '../notes/attempts.js';
import { SCHEMA_VERSION, type RevertEvent } from '../notes/events.js';
import { NOTES_REFS } from '../notes/refs.js';
import { appendEvents } from '../notes/write.js';
import { sha256Hex } from '../verify/sha256.js';
import { specHash, type VerifySpec } from '../verify/spec.js';
import { currentBuildTip, refuse, type Run, type Stacked } from './land.js';
import { moveBase } from './base-ref.js';
import { buildCandidate } from './candidate.js';
import { refusal } from './gates.js';
import { trusted, verifyCandidate } from './verify-candidate.js';
import { cachedResult } from '../verify/fold.js';
import { treeVerifyEvents } from '../verify/verify.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The post-land suite as a spec of its own: its hash is marked, so it never shares answers with the landing spec. */
function postSpec(run: Run): VerifySpec {
  const verify = run.land.postVerify!;
  return { verify, hash: sha256Hex(`post-verify:${specHash(verify, null)}`), source: run.spec.source, cacheKeyOutput: null };
}

/** Whether the post-land suite has no answer (trusted here) for `tip`'s tree yet. */
export async function postVerifyPending(run: Run, tip: string): Promise<boolean> {
  const tree = gitRun(['rev-parse', '--verify', '--quiet', `${tip}^{tree}`], { cwd: run.cwd }).stdout.trim();
  if (!tree) return false;
  const spec = postSpec(run);
  const events = (await treeVerifyEvents(run.cwd, tree)).filter((e) => trusted(run.vctx, e));
  return cachedResult(events, tree, spec.hash) === null;
}

/** A commit whose tree is `landed`'s parent's, on top of `landed`: cherry-picked onto any tip, it is the revert. */
function revertCommit(run: Run, landed: string, why: string): string {
  const subject = gitRun(['log', '-1', '--format=%s', landed], { cwd: run.cwd }).stdout.trim();
  // no task trailer: the revert must not read as the task landing again
  const message = `Revert "${subject}"\n\nThis reverts commit ${landed}.\n\nomni-ship: ${why}\n`;
  const r = gitRun(['commit-tree', `${landed}^1^{tree}`, '-p', landed, '-F', '-'], { cwd: run.cwd, input: message });
  if (r.exitCode !== 0) throw new Error(`git commit-tree failed making the revert of ${landed}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * land.postVerify: the slower suite runs on the new base tip after the base moved. When it fails, the batch's
 * landed commits are reverted (newest first) by commits built like any candidate, verified under the base's spec
 * (the base never goes red), and landed through the same compare-and-swap; each task gets a revert event and a
 * needs-help attempt with the failure, and is reported refused (gate post-verify).
 */
export async function runPostVerify(run: Run, stack: readonly Stacked[], newTip: string): Promise<void> {
  const spec = postSpec(run);
  const tree = gitRun(['rev-parse', `${newTip}^{tree}`], { cwd: run.cwd }).stdout.trim();
  run.progress(null, 'verify', `land.postVerify: running the post-land suite on ${run.target.name} ${newTip.slice(0, 12)}`);
  const verdict = await verifyCandidate({ ...run.vctx, requireCached: false }, { commit: newTip, tree, task: stack.length === 1 ? stack[0]!.item.task : null }, spec);
  if (verdict.kind !== 'answer' || verdict.outcome.result === 'pass' || verdict.outcome.result === 'skip') return;
  const o = verdict.outcome;
  if (o.result === 'indeterminate') {
    run.warnings.push(`land.postVerify gave no answer on ${newTip.slice(0, 12)} (${o.summary}); nothing was reverted: run it again (omni-ship verify ${newTip.slice(0, 12)})`);
    return;
  }
  const why = `land.postVerify failed${o.step ? ` in step ${o.step}` : ''}: ${o.summary}`;
  const needsHelp = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const tip = attempt === 1 ? run.tip : await currentBuildTip(run);
    let parent = tip;
    let top: { commit: string; tree: string } | null = null;
    const reverts: { s: Stacked; revert: string }[] = [];
    for (const s of [...stack].reverse()) {
      const c = buildCandidate({ cwd: run.cwd, base: parent, commit: revertCommit(run, s.commit, why), task: s.item.task, trailerKey: run.config.trailerKey, addTrailer: false, recordOrigin: false });
      if (c.kind === 'conflict') {
        run.warnings.push(`${s.item.task}: ${why}, and its revert conflicts with ${run.target.name} in ${c.paths.join(', ')}: revert it by hand`);
        continue;
      }
      if (c.kind === 'empty') continue;
      reverts.push({ s, revert: c.commit });
      parent = c.commit;
      top = c;
    }
    if (!top) break;
    const check = await verifyCandidate({ ...run.vctx, requireCached: false }, { commit: top.commit, tree: top.tree, task: null }, run.spec);
    if (check.kind !== 'answer' || check.outcome.result !== 'pass') {
      run.warnings.push(`${why}; the revert does not pass ${run.target.name}'s checks (${check.kind === 'answer' ? check.outcome.summary : 'no answer'}), so it was not landed: fix ${run.target.name} by hand`);
      break;
    }
    const moved = await moveBase(run.target, tip, top.commit);
    if (moved.kind === 'moved') {
      run.tip = top.commit;
      const note = await moved.follow;
      if (note) run.warnings.push(note);
      // the needs-help attempt before the revert event: a kill between them leaves a task that reads landed (the
      // next land of it finds the revert on the base and records it: finishRevert), never one that reads as
      // not landed with its circuit closed (which would land the failing change again)
      failpoint('land:revert-pushed');
      for (const r of reverts) {
        await appendNeedsHelp(run, r.s.item.task, r.s.item.head, why);
        needsHelp.add(r.s.item.task);
        failpoint('land:needs-help-recorded');
        await recordRevert(run, r.s.item.task, r.s.item.head, r.s.commit, r.revert, why);
      }
      break;
    }
    if (moved.kind === 'refused' || attempt >= run.land.maxAttempts) {
      run.warnings.push(`${why}; the revert could not be landed (${moved.kind === 'refused' ? moved.reason : 'others kept moving the base'}): revert it by hand`);
      break;
    }
    await sleep(50 + Math.random() * 250 * attempt);
  }
  for (const s of stack) {
    if (!needsHelp.has(s.item.task)) await appendNeedsHelp(run, s.item.task, s.item.head, why);
    const out = run.outcomes.get(s.item.task)!;
    refuse(out, refusal('post-verify', `${s.item.task}: landed as ${s.commit.slice(0, 12)}, then ${why}; ${out.reverted ? `reverted by ${out.reverted.slice(0, 12)}` : 'not reverted'}`, `omni-ship logs ${newTip.slice(0, 12)}; fix the task and amend, then land again`, ExitCode.refused));
  }
}

/** The revert event, on the landed commit; the outcome names the revert commit. */
async function recordRevert(run: Run, task: string, commit: string, landed: string, revert: string, why: string): Promise<void> {
  const event: RevertEvent = { v: SCHEMA_VERSION, type: 'revert', at: new Date().toISOString(), by: run.by, host: run.host, task, commit, landed, revert, base: run.target.name, reason: why };
  await appendEvents(run.cwd, NOTES_REFS.lands, [{ object: landed, events: [event] }]);
  run.outcomes.get(task)!.reverted = revert;
  run.wrote = true;
  const { writeDisplayNote } = await import('../notes/display.js');
  await writeDisplayNote(run.cwd, revert, `${run.config.trailerKey}: ${task}\nReverts: ${landed.slice(0, 12)} (${why})\nReverted-By: ${run.by} on ${run.host} at ${event.at}\n`);
}

/** Opens the task's retry circuit: its patchset needs a person (the predecessors' revert-on-failure). */
async function appendNeedsHelp(run: Run, task: string, commit: string, why: string): Promise<void> {
  await appendAttempt(run.cwd, run, { task, commit, role: 'post-verify', outcome: 'needs-help', error: why });
  run.wrote = true;
}

/** The marker a revert land made carries before its reason (revertCommit). */
const REASON_AT = '\nomni-ship: ';

/**
 * The revert land.postVerify pushed of `landed`, when the base (`landed`..tip) holds one: a land killed after that
 * push, before it recorded the revert, left it there. Its commit and the reason its message gives; null when none.
 */
export function revertOnBase(run: Run, landed: string): { revert: string; why: string } | null {
  const r = gitRun(['log', '--format=%H%x1f%B%x1e', '--fixed-strings', `--grep=This reverts commit ${landed}.`, `${landed}..${run.tip}`, '--'], { cwd: run.cwd });
  if (r.exitCode !== 0) return null;
  for (const record of r.stdout.split('\x1e')) {
    const [sha, body = ''] = record.replace(/^\n+/, '').split('\x1f');
    const at = body.indexOf(REASON_AT);
    // only omni-ship's own reverts (a person's `git revert` says nothing of a post-land suite)
    if (!sha || at < 0 || !body.startsWith('Revert ')) continue;
    return { revert: sha, why: body.slice(at + REASON_AT.length).split('\n')[0]!.trim() };
  }
  return null;
}

/**
 * Finishes what a land killed after pushing a revert left undone: the task's needs-help attempt and revert event
 * (recorded now, as the land would have), and its outcome: refused by the post-land suite, reverted.
 */
export async function finishRevert(run: Run, task: string, commit: string, landed: string, found: { revert: string; why: string }): Promise<void> {
  await appendNeedsHelp(run, task, commit, found.why);
  await recordRevert(run, task, commit, landed, found.revert, found.why);
  const out = run.outcomes.get(task)!;
  refuse(out, refusal('post-verify', `${task}: landed as ${landed.slice(0, 12)}, then ${found.why}; reverted by ${found.revert.slice(0, 12)}`, `fix the task and amend, then land again`, ExitCode.refused));
}
