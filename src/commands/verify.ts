import type { BaseOptions } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { colorEnabled, style, type CommandOutput } from '../output.js';
import { describeSource, type SpecSource } from '../verify/spec.js';
import { prepareVerify, type PreparedVerify } from '../verify/prepare.js';
import type { VerifyOutcome } from '../verify/verify.js';

/** The JSON shape of `omni-ship verify --json`. */
export interface VerifyJson {
  result: VerifyOutcome['result'];
  cached: boolean;
  coalesced: boolean;
  cancelled: boolean;
  commit: string;
  tree: string;
  task: string | null;
  spec: string;
  specSource: SpecSource;
  step: string | null;
  exitCode: number | null;
  summary: string;
  durationMs: number | null;
  log: string | null;
  /** who recorded the answer, where and when (a cached answer may come from another clone); null when nothing was recorded */
  recorded: { by: string; host: string; at: string } | null;
}

/** The JSON shape of `omni-ship verify --background --json`. */
export interface VerifyBackgroundJson {
  started: boolean;
  pid: number | null;
  commit: string;
  tree: string;
  task: string | null;
  spec: string;
  /** the cached answer when there was one (then nothing was started) */
  cached: VerifyJson | null;
}

/** Options of `omni-ship verify`. */
export interface VerifyOptions extends BaseOptions {
  target?: string;
  force: boolean;
  background: boolean;
  specFromCommit: boolean;
}

export { prepareVerify, type PreparedVerify } from '../verify/prepare.js';

/** The JSON view of an outcome. */
export function verifyJson(o: VerifyOutcome, source: SpecSource): VerifyJson {
  return {
    result: o.result,
    cached: o.cached,
    coalesced: o.coalesced,
    cancelled: o.cancelled,
    commit: o.commit,
    tree: o.tree,
    task: o.task,
    spec: o.spec,
    specSource: source,
    step: o.step,
    exitCode: o.exitCode,
    summary: o.summary,
    durationMs: o.durationMs,
    log: o.log,
    recorded: o.event ? { by: o.event.by, host: o.event.host, at: o.event.at } : null,
  };
}

/** The human text of an outcome. */
function verifyText(o: VerifyOutcome, p: PreparedVerify, tail: string): string {
  const color = colorEnabled();
  const what = `${o.task ? `${o.task} ` : ''}${o.commit.slice(0, 12)} (tree ${o.tree.slice(0, 12)})`;
  const word = o.result === 'pass' ? style('green', 'pass', color) : o.result === 'fail' ? style('red', 'fail', color) : style('yellow', o.result, color);
  const lines = [`${what}: ${word}: ${o.summary}`];
  if (o.cached && o.event) lines.push(`cached: recorded by ${o.event.by} on ${o.event.host} at ${o.event.at}${o.coalesced ? ' (the run this one waited for)' : ''}`);
  lines.push(`spec ${o.spec.slice(0, 12)} from ${describeSource(p.spec.source, p.config.baseBranch)}`);
  if (o.log) lines.push(`log: ${o.log}`);
  if (tail) lines.push('', tail);
  if (o.result === 'fail' && o.step === 'shape') lines.push('', 'hint: fix the branch shape; no step ran and nothing was recorded');
  else if (o.result === 'fail') lines.push('', `hint: fix it and amend the commit (git commit --amend); omni-ship logs ${o.task ?? o.commit.slice(0, 12)} shows the whole log`);
  // a shallow clone that cannot check the shape gets the same answer until it fetches: "run it again" would loop
  else if (o.result === 'indeterminate' && o.step === 'shape') lines.push('', 'hint: fetch the missing history (git fetch --deepen=50, or --unshallow), then run omni-ship verify again; nothing was recorded');
  else if (o.result === 'indeterminate') lines.push('', 'hint: nothing was cached as a failure: run omni-ship verify again');
  return lines.join('\n');
}

/** `omni-ship verify`: the answer for a commit's tree under the team's spec, from the notes or by running the steps. */
export async function verifyCommand(opts: VerifyOptions): Promise<CommandOutput<VerifyJson | VerifyBackgroundJson>> {
  // what comes after preparing loads while preparing waits for git (the main thread is idle then)
  const later = Promise.all([import('../verify/verify.js'), import('../verify/progress.js')]);
  later.catch(() => {});
  const p = await prepareVerify(opts);
  const [{ exitCodeOf, verifyCommit }, { progressPrinter }] = await later;
  const shape = p.target.task && p.base ? { baseTip: p.base.tip, baseName: p.config.baseBranch } : null;
  if (opts.background) return background(opts, p);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, stop);
  const printer = opts.json ? null : progressPrinter(process.stderr, colorEnabled(process.stderr));
  let outcome: VerifyOutcome;
  try {
    outcome = await verifyCommit({
      cwd: p.cwd,
      commonDir: p.commonDir,
      stateDir: p.stateDir,
      config: p.config,
      spec: p.spec,
      target: p.target,
      shape,
      force: opts.force,
      treeEvents: p.treeEvents,
      known: p.known,
      signal: controller.signal,
      onProgress: printer?.onProgress,
    });
  } finally {
    printer?.done();
    for (const s of signals) process.off(s, stop);
  }
  let tail = '';
  if (outcome.log && (outcome.result === 'fail' || outcome.result === 'indeterminate')) {
    const { tailLines } = await import('../verify/steps.js');
    tail = tailLines(outcome.log, 15);
  } else if (outcome.cached && outcome.event?.output) tail = outcome.event.output;
  return { data: verifyJson(outcome, p.spec.source), text: verifyText(outcome, p, tail), exitCode: outcome.cancelled ? ExitCode.indeterminate : exitCodeOf(outcome.result) };
}

/** `verify --background`: a cached answer at once, else a detached run started (its answer lands in the notes). */
async function background(opts: VerifyOptions, p: PreparedVerify): Promise<CommandOutput<VerifyBackgroundJson>> {
  const { verifyCommit } = await import('../verify/verify.js');
  const { cachedResult } = await import('../verify/fold.js');
  const base = { commit: p.target.commit, tree: p.target.tree, task: p.target.task, spec: p.spec.hash };
  if (p.spec.verify.steps.length === 0) {
    // the same refusal as a foreground run: never a silent nothing
    await verifyCommit({ cwd: p.cwd, commonDir: p.commonDir, stateDir: p.stateDir, config: p.config, spec: p.spec, target: p.target });
  }
  const hit = opts.force ? null : cachedResult(p.treeEvents, p.target.tree, p.spec.hash);
  if (hit) {
    const { fromCachedEvent } = await import('../verify/verify.js');
    const json = verifyJson(fromCachedEvent(p.target, p.spec.hash, hit), p.spec.source);
    return { data: { ...base, started: false, pid: null, cached: json }, text: `${p.target.commit.slice(0, 12)}: ${hit.result} (cached): ${hit.summary ?? ''}`.trimEnd() };
  }
  const { requestTaskVerify, spawnBackgroundVerify } = await import('../verify/background.js');
  if (p.target.task) requestTaskVerify(p.stateDir, p.target.task, p.target.commit);
  const pid = spawnBackgroundVerify(p.cwd, p.stateDir, p.target.commit, p.target.task, { force: opts.force, specFromCommit: opts.specFromCommit });
  return {
    data: { ...base, started: true, pid, cached: null },
    text: `verifying ${p.target.task ? `${p.target.task} ` : ''}${p.target.commit.slice(0, 12)} in the background (pid ${pid ?? '?'}); omni-ship logs ${p.target.task ?? p.target.commit.slice(0, 12)} --follow shows it`,
  };
}
