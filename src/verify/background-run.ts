import { prepareVerify } from '../commands/verify.js';
import { supersededSignal, wantedCommit } from './background.js';
import { verifyCommit, type VerifyOutcome } from './verify.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a background verify waits before its steps start: a burst of amends settles first. */
function settleMs(): number {
  const v = Number(process.env.OMNI_SHIP_VERIFY_SETTLE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 1000;
}

const stamp = () => new Date().toISOString();

/**
 * What `omni-ship hook verify <commit> [--task t]` does, detached from the commit that started it: waits for a
 * burst to settle, gives up when a newer patchset of the task is wanted (before any step runs, or by killing its
 * steps), else verifies as `omni-ship verify` does and records the answer. Prints a line for the background log.
 */
export async function runBackgroundVerify(opts: { cwd: string; commit: string; task: string | null; force: boolean; specFromCommit: boolean }): Promise<VerifyOutcome | null> {
  const p = await prepareVerify({ cwd: opts.cwd, target: opts.commit, specFromCommit: opts.specFromCommit, background: true });
  const task = opts.task;
  const target = { ...p.target, task };
  const superseded = () => task !== null && wantedCommit(p.stateDir, task) !== null && wantedCommit(p.stateDir, task) !== target.commit;
  await sleep(settleMs());
  if (superseded()) {
    console.log(`${stamp()} ${task} ${target.commit.slice(0, 12)}: not verified: a newer patchset (${wantedCommit(p.stateDir, task!)!.slice(0, 12)}) is wanted`);
    return null;
  }
  const watch = task ? supersededSignal(p.stateDir, task, target.commit) : null;
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('terminated'));
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, stop);
  watch?.signal.addEventListener('abort', () => controller.abort(watch.signal.reason));
  try {
    const shape = task && p.base ? { baseTip: p.base.tip, baseName: p.config.baseBranch } : null;
    const outcome = await verifyCommit({ cwd: p.cwd, commonDir: p.commonDir, stateDir: p.stateDir, config: p.config, spec: p.spec, target, shape, force: opts.force, signal: controller.signal });
    // the word `cancelled` is already printed before it: the reason alone, not "cancelled: cancelled: …"
    const why = outcome.cancelled ? String((controller.signal.reason as Error | undefined)?.message ?? 'stopped') : outcome.summary;
    console.log(`${stamp()} ${task ?? '-'} ${target.commit.slice(0, 12)} tree ${target.tree.slice(0, 12)}: ${outcome.cancelled ? 'cancelled' : outcome.result}${outcome.cached ? ' (cached)' : ''}: ${why}`);
    return outcome;
  } finally {
    watch?.stop();
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, stop);
  }
}
