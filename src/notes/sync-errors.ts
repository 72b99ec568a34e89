import { gitRun } from '../git/exec.js';

/**
 * What another clone's push between our fetch and our push looks like, on our side or the remote's: a lease that no
 * longer holds, a ref that moved or appeared, a ref the remote could not lock, or the rest of an atomic push that
 * failed for one of those ("atomic transaction failed" on the remote, "atomic push failed" here). Retried.
 */
export const LOST_RACE =
  /stale info|fetch first|non-fast-forward|already exists|cannot lock ref|failed to (update|lock)|incorrect old value|atomic (transaction|push) failed/i;

/** Sync could not talk to the remote at all (bad URL, no network, no access): not a race and not a bug. */
export class RemoteUnreachableError extends Error {
  constructor(
    readonly remote: string,
    readonly url: string,
    readonly operation: 'fetch' | 'push',
    readonly reason: string,
  ) {
    super(`cannot ${operation} ${operation === 'fetch' ? 'from' : 'to'} remote '${remote}' (${url})${reason ? `: ${reason}` : ''}`);
    this.name = 'RemoteUnreachableError';
  }
}

/** The remote refused the push for a reason of its own (a hook, a protected ref, permissions): not a race. */
export class RemoteDeclinedError extends Error {
  constructor(
    readonly remote: string,
    readonly ref: string,
    /** git's summary of the refusal, e.g. "pre-receive hook declined" */
    readonly reason: string,
    /** what the remote itself printed (its `remote:` lines: a hook's reason, a hosting service's rule) */
    readonly said: readonly string[] = [],
  ) {
    const words = said.length === 1 ? `: ${said[0]}` : said.length ? `; it said:\n  ${said.join('\n  ')}` : '';
    super(`remote '${remote}' refused the push of ${ref} (${reason})${words}`);
    this.name = 'RemoteDeclinedError';
  }
}

/** Most lines of the remote's own words worth quoting. */
const MAX_QUOTED = 20;

/**
 * The remote's own words from git's stderr: its `remote:` lines (what its hooks printed), without terminal control
 * sequences (a remote must not be able to drive our terminal) and without blank lines.
 */
export function remoteSaid(stderr: string): string[] {
  const said: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    if (!raw.startsWith('remote:')) continue;
    const line = raw.slice('remote:'.length).replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
    if (line) said.push(line);
  }
  return said.length > MAX_QUOTED ? [...said.slice(0, MAX_QUOTED), `(${said.length - MAX_QUOTED} more lines)`] : said;
}

/** Another clone pushed between our fetch and our push, round after round. */
export class SyncRaceError extends Error {
  constructor(
    readonly remote: string,
    readonly rounds: number,
  ) {
    super(`sync with ${remote} lost the race ${rounds} times in a row; run it again`);
    this.name = 'SyncRaceError';
  }
}

/** git's first line of complaint, without its "fatal: " prefix. */
export function firstComplaint(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/^(fatal|error): /, '').trim();
}

/** The URL git uses to fetch from (or push to) `remote`, for messages; the name itself if git cannot tell. */
export function remoteUrl(cwd: string, remote: string, push: boolean): string {
  const r = gitRun(['remote', 'get-url', ...(push ? ['--push'] : []), remote], { cwd });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : remote;
}
