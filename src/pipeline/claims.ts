import { ExitCode, UserError } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { randomId } from '../hash.js';
import { gitReason, lastLine, lostRace, singleFileCommit } from './remote-ref.js';

/**
 * Pipeline claims: which machine works on a task, decided at the remote with no coordinator. A machine claims a
 * task by pushing `refs/omni-ship/claims/<task>` with a lease that the ref must not exist yet; the remote's atomic
 * ref update is the lock. A claim is renewed while the agent works (a new commit on top, pushed with a lease on the
 * one it holds), deleted on release (with the same lease), and taken over once expired (a lease on the expired
 * commit). Every claim commit is unique (holder, expiry and a random nonce): two machines that built the same
 * commit would both see their push succeed. Claims live at the remote only: `sync` never copies them; reading
 * them fetches the remote's into `refs/omni-ship/remote-claims/<remote>/`, this clone's view, never pushed.
 */
export const CLAIMS_PREFIX = 'refs/omni-ship/claims/';

/** Where a remote's claims are fetched to, to be read. */
export function remoteClaimsPrefix(remote: string): string {
  return `refs/omni-ship/remote-claims/${remote}/`;
}

/** What a claim commit says (its `claim.json`). */
export interface ClaimInfo {
  task: string;
  /** who holds it: `<hostname>/<clone id>` */
  host: string;
  /** the holding process */
  pid: number;
  /** the git identity of whoever runs it */
  by: string;
  role: string;
  at: string;
  /** when it lapses unless renewed (ISO time) */
  expires: string;
  nonce: string;
}

/** A claim as the remote holds it. */
export interface Claim extends ClaimInfo {
  /** the claim commit (what a renewal or release must find there) */
  commit: string;
}

/** What claiming answered: ours, or held by another until it expires. */
export type ClaimResult = { claimed: true; claim: Claim; tookOver: Claim | null } | { claimed: false; heldBy: Claim };

function unreachable(remote: string, stderr: string): UserError {
  return new UserError(`cannot reach ${remote} to claim tasks: ${gitReason(stderr)}`, ExitCode.indeterminate, 'no task is worked on without a claim; try again once the remote answers');
}

/** Every claim the remote holds now (one fetch of them all), by task. */
export function readClaims(cwd: string, remote: string): Map<string, Claim> {
  const local = remoteClaimsPrefix(remote);
  // a glob, and --prune: a remote with none is no error, and a released claim's copy goes
  const fetched = gitRun(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--prune', remote, `+${CLAIMS_PREFIX}*:${local}*`], { cwd });
  if (fetched.exitCode !== 0 && !lostRace(fetched.stderr)) throw unreachable(remote, fetched.stderr);
  const claims = new Map<string, Claim>();
  const listed = gitRun(['for-each-ref', '--format=%(objectname) %(refname)', local], { cwd });
  for (const line of listed.stdout.split('\n')) {
    const [commit, ref] = line.split(' ');
    if (!commit || !ref) continue;
    const info = claimInfo(cwd, commit);
    if (info) claims.set(ref.slice(local.length), { ...info, commit });
  }
  return claims;
}

/** The claim a commit records, or null when it is no claim commit this build reads (then it is taken as expired). */
function claimInfo(cwd: string, commit: string): ClaimInfo | null {
  const r = gitRun(['cat-file', 'blob', `${commit}:claim.json`], { cwd });
  if (r.exitCode !== 0) return null;
  try {
    const v = JSON.parse(r.stdout) as Partial<ClaimInfo>;
    if (typeof v.task !== 'string' || typeof v.host !== 'string' || typeof v.expires !== 'string' || Number.isNaN(Date.parse(v.expires))) return null;
    return { task: v.task, host: v.host, pid: Number(v.pid) || 0, by: String(v.by ?? ''), role: String(v.role ?? ''), at: String(v.at ?? ''), expires: v.expires, nonce: String(v.nonce ?? '') };
  } catch {
    return null;
  }
}

/** Whether a claim has lapsed at `now`. */
export function expired(claim: Pick<ClaimInfo, 'expires'>, now = Date.now()): boolean {
  return Date.parse(claim.expires) <= now;
}

/** A new claim commit for `info` (on top of `parent`: a renewal or a takeover keeps the chain). */
function claimCommit(cwd: string, info: ClaimInfo, parent: string | null): string {
  const message = `omni-ship: ${info.task} claimed by ${info.host} (pid ${info.pid}) until ${info.expires}\n\nnonce: ${info.nonce}\n`;
  return singleFileCommit(cwd, 'claim.json', `${JSON.stringify(info, null, 1)}\n`, parent, message);
}

/** Moves the remote's claim ref from `expect` (null: must not exist) to `commit` (null: delete); false when it lost. */
function pushClaim(cwd: string, remote: string, task: string, expect: string | null, commit: string | null): boolean {
  const ref = `${CLAIMS_PREFIX}${task}`;
  const pushed = gitRun(['push', '--quiet', '--porcelain', `--force-with-lease=${ref}:${expect ?? ''}`, remote, `${commit ?? ''}:${ref}`], { cwd });
  if (pushed.exitCode === 0) return true;
  const said = `${pushed.stdout}\n${pushed.stderr}`;
  if (lostRace(said) || /\[rejected\]/.test(said)) return false;
  if (/\[remote rejected\]/.test(said)) throw new UserError(`${remote} refused the claim of ${task}: ${lastLine(said)}`, ExitCode.refused);
  throw unreachable(remote, pushed.stderr);
}

/**
 * Claims `task` at `remote` for `leaseMs`: creates the claim ref if no one holds it, or takes over one that has
 * expired (or that no build reads). Never takes a live claim.
 */
export function claimTask(cwd: string, remote: string, task: string, who: { host: string; by: string; role: string; pid?: number }, leaseMs: number, known?: Map<string, Claim>): ClaimResult {
  for (let round = 0; round < 3; round++) {
    const claims = round === 0 && known ? known : readClaims(cwd, remote);
    const held = claims.get(task) ?? null;
    if (held && !expired(held)) return { claimed: false, heldBy: held };
    const now = Date.now();
    const info: ClaimInfo = { task, host: who.host, pid: who.pid ?? process.pid, by: who.by, role: who.role, at: new Date(now).toISOString(), expires: new Date(now + leaseMs).toISOString(), nonce: randomId() };
    const commit = claimCommit(cwd, info, held?.commit ?? null);
    if (pushClaim(cwd, remote, task, held?.commit ?? null, commit)) return { claimed: true, claim: { ...info, commit }, tookOver: held };
    // another machine moved it first: look again (it may hold it now)
  }
  const held = readClaims(cwd, remote).get(task);
  if (held) return { claimed: false, heldBy: held };
  throw new UserError(`could not claim ${task} at ${remote}: the claim kept moving`, ExitCode.conflict, 'try again');
}

/** Renews a claim this process holds for another `leaseMs`; null when it was lost (expired and taken over, or released). */
export function renewClaim(cwd: string, remote: string, claim: Claim, leaseMs: number): Claim | null {
  const now = Date.now();
  const info: ClaimInfo = { ...claim, at: new Date(now).toISOString(), expires: new Date(now + leaseMs).toISOString(), nonce: randomId() };
  delete (info as Partial<Claim>).commit;
  const commit = claimCommit(cwd, info, claim.commit);
  return pushClaim(cwd, remote, claim.task, claim.commit, commit) ? { ...info, commit } : null;
}

/** Releases a claim this process holds (deletes the ref, if it is still ours); false when it was not ours any more. */
export function releaseClaim(cwd: string, remote: string, claim: Claim): boolean {
  return pushClaim(cwd, remote, claim.task, claim.commit, null);
}
