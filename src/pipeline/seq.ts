import { ExitCode, UserError } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { randomId } from '../hash.js';
import { gitReason, lastLine, lostRace, pause, singleFileCommit } from './remote-ref.js';

/**
 * `task add --next`: the next free task number, taken by a compare-and-swap of one ref at the remote,
 * refs/omni-ship/seq. Its commit holds `seq.json`, the last number given per scope ("" for top-level ids, a parent's
 * id for its subtasks). A clone fetches it, writes a commit one higher on top, and pushes with a lease on the value
 * it read (or on its absence): of two clones asking at once, one push wins and the other reads again. No server,
 * and no number given twice. The remote must be reachable: a number taken from a stale local copy could be taken
 * twice, so when it is not, nothing is written.
 */
export const SEQ_REF = 'refs/omni-ship/seq';
/** Where the remote's seq ref is fetched to, per remote (never pushed, never synced). */
export function seqTrackingRef(remote: string): string {
  return `refs/omni-ship/remote-seq/${remote}/seq`;
}

/** Rounds before giving up on a remote that other clones keep moving. */
const MAX_ROUNDS = 30;

/** What git said when the remote could not be reached (exit 75: try again). */
function unreachable(remote: string, stderr: string): UserError {
  return new UserError(`cannot reach ${remote} to take the next task number: ${gitReason(stderr)}`, ExitCode.indeterminate, 'nothing was written; try again once the remote answers, or name the task yourself');
}

/**
 * Takes the next number in `scope` at `remote`: one more than both the remote's counter and `floor` (the highest
 * number this clone already knows in use there). Returns it once the remote holds it.
 */
export function takeNextNumber(cwd: string, remote: string, scope: string, floor: number): number {
  const tracking = seqTrackingRef(remote);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // a glob: a remote without the ref yet is no error, and --prune drops a tracking ref the remote no longer has
    const fetched = gitRun(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--prune', remote, `+${SEQ_REF}*:${tracking}*`], { cwd });
    if (fetched.exitCode !== 0) {
      // another command of this clone moved the tracking ref meanwhile: fetch again
      if (lostRace(fetched.stderr) || /File exists/.test(fetched.stderr)) {
        pause(round);
        continue;
      }
      throw unreachable(remote, fetched.stderr);
    }
    const old = gitRun(['rev-parse', '-q', '--verify', `${tracking}^{commit}`], { cwd });
    const oldTip = old.exitCode === 0 ? old.stdout.trim() : null;
    const counters = oldTip ? readCounters(cwd, oldTip) : {};
    const n = Math.max(counters[scope] ?? 0, floor) + 1;
    const next = { ...counters, [scope]: n };
    // a nonce in every commit: two clones that took the same number in the same second would otherwise build the
    // very same commit, and the second push would find the remote at it already, and succeed
    const commit = writeCounters(cwd, next, oldTip, `${scope === '' ? `next task number ${n}` : `next number under ${scope}: ${n}`}\n\nnonce: ${randomId()}`);
    const pushed = gitRun(['push', '--quiet', '--porcelain', `--force-with-lease=${SEQ_REF}:${oldTip ?? ''}`, remote, `${commit}:${SEQ_REF}`], { cwd });
    if (pushed.exitCode === 0) {
      gitRun(['update-ref', tracking, commit], { cwd });
      return n;
    }
    // another clone took a number since the fetch (the lease failed here, or the remote's own compare-and-swap
    // there): read again. A push the remote refused for another reason (a hook) is no race, and says so
    const said = `${pushed.stdout}\n${pushed.stderr}`;
    if (lostRace(said)) {
      pause(round);
      continue;
    }
    if (/\[remote rejected\]|\[rejected\]/.test(said)) {
      throw new UserError(`${remote} refused the next task number: ${lastLine(said)}`, ExitCode.refused, 'nothing was written');
    }
    throw unreachable(remote, pushed.stderr);
  }
  throw new UserError(`gave up taking the next task number at ${remote}: other clones kept taking numbers (${MAX_ROUNDS} rounds)`, ExitCode.conflict, 'try again');
}

/** The counters in a seq commit; {} for one that holds none this build can read. */
function readCounters(cwd: string, commit: string): Record<string, number> {
  const r = gitRun(['cat-file', 'blob', `${commit}:seq.json`], { cwd });
  if (r.exitCode !== 0) return {};
  try {
    const value = JSON.parse(r.stdout) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => Number.isSafeInteger(e[1]) && (e[1] as number) >= 0));
  } catch {
    return {};
  }
}

/** A commit holding `counters` as seq.json, on top of `parent`. */
function writeCounters(cwd: string, counters: Record<string, number>, parent: string | null, message: string): string {
  const sorted = Object.fromEntries(Object.keys(counters).sort().map((k) => [k, counters[k]]));
  return singleFileCommit(cwd, 'seq.json', `${JSON.stringify(sorted, null, 1)}\n`, parent, `omni-ship: ${message}`);
}

/**
 * The literal text a top-level task id starts with under `taskPattern` (`t-` for `^t-[0-9]+(\.[0-9]+)*$`), or null
 * when the pattern has no numbered form this can build (then `--next` asks for a name).
 */
export function numberedPrefix(taskPattern: string, test: (id: string) => boolean): string | null {
  const m = /^\^?((?:[A-Za-z0-9_/-]|\\[-_./])*)/.exec(taskPattern);
  const prefix = (m?.[1] ?? '').replace(/\\(.)/g, '$1').toLowerCase();
  return test(`${prefix}1`) && test(`${prefix}12`) ? prefix : null;
}
