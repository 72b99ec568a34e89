import { gitAsync, gitRun } from '../git/exec.js';
import { readAllNotes } from './read.js';
import { fastImportInput } from './write.js';
import { NOTES_PREFIX, PATCHSET_REF_PREFIX, remoteNotesPrefix, remotePatchsetPrefix } from './refs.js';

const ZERO = '0000000000000000000000000000000000000000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_ROUNDS = 8;

/** What one sync did (or, dry, would do). */
export interface SyncResult {
  remote: string;
  dryRun: boolean;
  /** notes logs merged by set union (both sides had lines the other lacked) */
  merged: string[];
  /** local refs moved to the remote's value (fast-forward or new) */
  updatedLocal: string[];
  /** refs pushed to the remote */
  pushed: string[];
  /** rounds needed: more than one when another clone pushed between our fetch and push */
  rounds: number;
}

/**
 * What another clone's push between our fetch and our push looks like, on our side or the remote's: a lease that no
 * longer holds, a ref that moved or appeared, a ref the remote could not lock, or the rest of an atomic push that
 * failed for one of those ("atomic transaction failed" on the remote, "atomic push failed" here). Retried.
 */
const LOST_RACE =
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
    readonly detail: string,
  ) {
    super(`remote '${remote}' refused the push: ${detail}`);
    this.name = 'RemoteDeclinedError';
  }
}

/** Another clone pushed between our fetch and our push, round after round. */
export class SyncRaceError extends Error {
  constructor(readonly remote: string) {
    super(`sync with ${remote} lost the race ${MAX_ROUNDS} times in a row; run it again`);
    this.name = 'SyncRaceError';
  }
}

/** git's first line of complaint, without its "fatal: " prefix. */
function firstComplaint(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/^(fatal|error): /, '').trim();
}

/** The URL git uses to fetch from (or push to) `remote`, for messages; the name itself if git cannot tell. */
function remoteUrl(cwd: string, remote: string, push: boolean): string {
  const r = gitRun(['remote', 'get-url', ...(push ? ['--push'] : []), remote], { cwd });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : remote;
}

function refMap(cwd: string, patterns: string[]): Map<string, string> {
  const out = gitRun(['for-each-ref', '--format=%(refname)%00%(objectname)', ...patterns], { cwd }).stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, oid] = line.split('\0');
    if (name && oid) map.set(name, oid);
  }
  return map;
}

function isAncestor(cwd: string, a: string, b: string): boolean {
  return gitRun(['merge-base', '--is-ancestor', a, b], { cwd }).exitCode === 0;
}

/** The union of two notes' lines, sorted and without duplicates: what `git notes merge -s cat_sort_uniq` gives. */
export function unionNote(a: string, b: string): string {
  const lines = [...new Set([...a.split('\n'), ...b.split('\n')].filter((l) => l !== ''))].sort();
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * Merges notes commit `remote` into local `ref` (at `local`) as a set union, writing a merge commit with
 * git fast-import. No `git notes merge`, so no NOTES_MERGE_* state can be left behind; fast-import's
 * fast-forward-only update is the compare-and-swap (a local writer that moved the ref makes it refuse).
 */
async function unionMerge(cwd: string, ref: string, local: string, remote: string): Promise<boolean> {
  const paths = new Map<string, Map<string, string>>();
  const notes = await readAllNotes(
    cwd,
    [
      { ref: 'local', tip: local },
      { ref: 'remote', tip: remote },
    ],
    paths,
  );
  const mine = notes.get('local')!;
  const theirs = notes.get('remote')!;
  const changed = new Map<string, string>();
  for (const [object, text] of theirs) {
    const merged = unionNote(mine.get(object) ?? '', text);
    if (merged === (mine.get(object) ?? '')) continue;
    // where the note already sits here, else where the remote keeps it
    changed.set(paths.get('local')!.get(object) ?? paths.get('remote')!.get(object)!, merged);
  }
  const input = fastImportInput(ref, local, changed, `omni-ship sync: union of ${remote.slice(0, 12)}\n`, remote);
  return gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input }).exitCode === 0;
}

/**
 * Syncs omni-ship's notes and patchset refs with `remote`: fetch into refs/omni-ship/remote-notes/<remote>/,
 * merge by set union, push with explicit leases (`--force-with-lease=<ref>:<oid>`), and start again with jitter
 * when another clone pushed first. Never edits remote.*.fetch or remote.*.push; never overwrites the remote's lines.
 */
export async function syncNotes(cwd: string, remote: string, dryRun: boolean): Promise<SyncResult> {
  const notesTrack = remoteNotesPrefix(remote);
  const psTrack = remotePatchsetPrefix(remote);
  const result: SyncResult = { remote, dryRun, merged: [], updatedLocal: [], pushed: [], rounds: 0 };
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    result.rounds = round;
    result.merged = [];
    result.updatedLocal = [];
    result.pushed = [];
    // --prune makes the tracking refs mirror the remote exactly: a ref the remote lost (deleted, or a new URL)
    // must not keep its old value here, or the lease below would expect it and the push would never go through.
    // With refspecs on the command line, git prunes only their destinations (checked on git 2.39: branches,
    // tags and other refs are left alone, whatever remote.*.prune or fetch.pruneTags say).
    const fetched = await gitAsync(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--prune',
        '--no-prune-tags',
        '--no-write-fetch-head',
        remote,
        `+${NOTES_PREFIX}*:${notesTrack}*`,
        `+${PATCHSET_REF_PREFIX}*:${psTrack}*`,
      ],
      { cwd, env: { GIT_TERMINAL_PROMPT: '0' } },
    );
    // 128 is git's "fatal": it could not talk to the remote (a local ref update failing exits 1)
    if (fetched.exitCode === 128) throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, false), 'fetch', firstComplaint(fetched.stderr));
    if (fetched.exitCode !== 0) throw new Error(`git fetch ${remote} failed: ${firstComplaint(fetched.stderr)}`);
    const refs = refMap(cwd, [NOTES_PREFIX, notesTrack, PATCHSET_REF_PREFIX, psTrack]);
    const leases: string[] = [];
    const pushSpecs: string[] = [];
    let raced = false;

    const logs = new Set<string>();
    for (const name of refs.keys()) {
      if (name.startsWith(NOTES_PREFIX)) logs.add(name.slice(NOTES_PREFIX.length));
      else if (name.startsWith(notesTrack)) logs.add(name.slice(notesTrack.length));
    }
    for (const log of [...logs].sort()) {
      const ref = `${NOTES_PREFIX}${log}`;
      const local = refs.get(ref);
      const theirs = refs.get(`${notesTrack}${log}`);
      let next = local;
      if (!theirs) {
        // the remote lacks this log (never had it, lost it, or is a new URL): push ours whole, leased on
        // "must not exist"; never delete ours because the remote has none
        next = local;
      } else if (!local) {
        result.updatedLocal.push(ref);
        if (!dryRun && gitRun(['update-ref', ref, theirs, ZERO], { cwd }).exitCode !== 0) raced = true;
        next = theirs;
      } else if (local === theirs || isAncestor(cwd, theirs, local)) {
        next = local;
      } else if (isAncestor(cwd, local, theirs)) {
        result.updatedLocal.push(ref);
        if (!dryRun && gitRun(['update-ref', ref, theirs, local], { cwd }).exitCode !== 0) raced = true;
        next = theirs;
      } else {
        result.merged.push(ref);
        if (!dryRun) {
          if (!(await unionMerge(cwd, ref, local, theirs))) raced = true;
          next = gitRun(['rev-parse', ref], { cwd }).stdout.trim();
        }
      }
      if (next && next !== theirs) {
        leases.push(`--force-with-lease=${ref}:${theirs ?? ''}`);
        pushSpecs.push(`${dryRun ? next : ref}:${ref}`);
        result.pushed.push(ref);
      }
    }
    if (raced) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }

    // patchset refs: take the remote's; push ours that the remote lacks; a number both sides used for
    // different commits gets our commit a new number, so no commit becomes unreachable
    const takenNumbers = new Map<string, number>();
    const noteNumber = (task: string, n: number) => takenNumbers.set(task, Math.max(takenNumbers.get(task) ?? 0, n));
    const split = (name: string, prefix: string) => {
      const rest = name.slice(prefix.length);
      const slash = rest.lastIndexOf('/');
      return { task: rest.slice(0, slash), n: Number(rest.slice(slash + 1)) };
    };
    for (const name of refs.keys()) {
      if (name.startsWith(PATCHSET_REF_PREFIX)) {
        const { task, n } = split(name, PATCHSET_REF_PREFIX);
        noteNumber(task, n);
      } else if (name.startsWith(psTrack)) {
        const { task, n } = split(name, psTrack);
        noteNumber(task, n);
      }
    }
    const updates: string[] = [];
    const remoteCommits = new Map<string, Set<string>>();
    for (const [name, oid] of refs) {
      if (!name.startsWith(psTrack)) continue;
      const { task } = split(name, psTrack);
      (remoteCommits.get(task) ?? remoteCommits.set(task, new Set()).get(task)!).add(oid);
      const localName = `${PATCHSET_REF_PREFIX}${name.slice(psTrack.length)}`;
      const mine = refs.get(localName);
      if (mine === oid) continue;
      if (mine) {
        const n = (takenNumbers.get(task) ?? 0) + 1;
        takenNumbers.set(task, n);
        updates.push(`create ${PATCHSET_REF_PREFIX}${task}/${n} ${mine}`);
        updates.push(`update ${localName} ${oid} ${mine}`);
      } else updates.push(`create ${localName} ${oid}`);
      result.updatedLocal.push(localName);
    }
    for (const line of updates) {
      const [, name, oid] = line.split(' ');
      if (line.startsWith('create') && name && oid && !refs.has(`${psTrack}${name.slice(PATCHSET_REF_PREFIX.length)}`)) {
        // a renumbered local commit: the remote lacks it
        leases.push(`--force-with-lease=${name}:`);
        pushSpecs.push(`${oid}:${name}`);
        result.pushed.push(name);
      }
    }
    for (const [name, oid] of refs) {
      if (!name.startsWith(PATCHSET_REF_PREFIX)) continue;
      const tracked = refs.get(`${psTrack}${name.slice(PATCHSET_REF_PREFIX.length)}`);
      const { task } = split(name, PATCHSET_REF_PREFIX);
      if (tracked || remoteCommits.get(task)?.has(oid)) continue;
      leases.push(`--force-with-lease=${name}:`);
      pushSpecs.push(`${oid}:${name}`);
      result.pushed.push(name);
    }
    if (!dryRun && updates.length && gitRun(['update-ref', '--stdin'], { cwd, input: `${updates.join('\n')}\n` }).exitCode !== 0) {
      await sleep(20 + Math.random() * 100 * round);
      continue;
    }
    if (dryRun || pushSpecs.length === 0) return result;
    // one atomic push: every notes log and patchset ref moves, or none does
    const pushed = await gitAsync(['push', '--porcelain', '--atomic', '--no-verify', ...leases, remote, ...pushSpecs], {
      cwd,
      env: { GIT_TERMINAL_PROMPT: '0' },
    });
    if (pushed.exitCode === 0) return result;
    // 128 is git's "fatal" (no connection, no access); a refused ref exits 1 with --porcelain lines
    if (pushed.exitCode === 128) throw new RemoteUnreachableError(remote, remoteUrl(cwd, remote, true), 'push', firstComplaint(pushed.stderr));
    // the remote itself said no (a pre-receive hook, a protected ref, no permission): no retry will change that
    const declined = pushed.stdout.split('\n').find((l) => /\[remote rejected\]/.test(l) && !LOST_RACE.test(l));
    if (declined) throw new RemoteDeclinedError(remote, declined.split('\t').slice(1).join(' ').trim());
    if (LOST_RACE.test(pushed.stdout + pushed.stderr)) {
      await sleep(20 + Math.random() * 150 * round);
      continue;
    }
    throw new Error(`git push ${remote} failed: ${(pushed.stderr || pushed.stdout).trim().split('\n')[0]}`);
  }
  throw new SyncRaceError(remote);
}
