import fs from 'node:fs';
import { appendTo } from '../collections.js';
import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { UserError, badInput } from '../errors.js';
import { clearGitLocalEnv, gitRun } from '../git/exec.js';
import { isSha } from '../ids.js';
import type { PatchsetEvent } from '../notes/events.js';
import { recordPatchsets, redundantPatchset, type PatchsetCandidate } from '../notes/patchsets.js';
import { NOTES_REFS } from '../notes/refs.js';
import { appendEvents, pruneStaleTmpRefs } from '../notes/write.js';
import { requireRepo, requireWorkRepo, stateDir } from '../git/repo.js';
import { backgroundConfig } from '../hooks/background-config.js';
import { drainSpool, rotateLog } from '../hooks/drain.js';
import { reportRemovedLocks } from '../git/stale-lock.js';
import { logEvents } from '../hooks/events.js';
import { writeHookSettings } from '../hooks/settings.js';
import type { HookEvent, SpooledHook } from '../hooks/spool.js';
import type { CommandOutput } from '../output.js';

/** Patchset events this process wrote, by common git dir: written again if something dropped them. */
const writtenHere = new Map<string, PatchsetEvent[]>();

/**
 * Appends again the patchset events this process wrote that the notes ref no longer holds. git's own notes
 * rewrite (notes.rewriteRef, on amend and rebase) moves the ref without checking its old value, so an event we
 * wrote while such a git process ran in another worktree is dropped from the ref. That git process then runs
 * post-rewrite, which brings the drainer here again. appendEvents writes only the lines that are missing.
 */
async function restoreDropped(): Promise<void> {
  for (const [commonDir, events] of writtenHere) {
    try {
      const n = await appendEvents(commonDir, NOTES_REFS.patchsets, events.map((e) => ({ object: e.commit, events: [e] })), redundantPatchset);
      if (n) console.log(`${new Date().toISOString()} wrote ${n} patchset event(s) again: a concurrent git notes rewrite had dropped them`);
    } catch (error) {
      console.log(`${new Date().toISOString()} error in ${commonDir}: ${(error as Error).message}`);
    }
  }
}

/**
 * The repository an event belongs to: its work tree, or, when that is gone (a worktree removed before the drainer
 * ran), the common git dir of the spool it came from: the commits are in the shared object store whatever happened
 * to the work tree.
 */
function repoOf(e: HookEvent, commonDir: string): { cwd: string; commonDir: string; toplevel: string | null } {
  try {
    const repo = requireWorkRepo(e.worktree);
    return { cwd: repo.toplevel, commonDir: repo.commonDir, toplevel: repo.toplevel };
  } catch {
    return { cwd: commonDir, commonDir, toplevel: null };
  }
}

/**
 * Handles a batch of hook events: logs them, then records the patchsets they make, one work tree at a time.
 * Returns the events that could not be written now (the drainer keeps them for a later drain): one bad work tree
 * must not stop the others, and must not lose its own events either.
 */
async function handle(commonDir: string, events: HookEvent[]): Promise<HookEvent[]> {
  logEvents(events);
  const failed: HookEvent[] = [];
  const byWorktree = new Map<string, HookEvent[]>();
  for (const e of events) appendTo(byWorktree, e.worktree, e);
  for (const [worktree, group] of byWorktree) {
    try {
      const repo = repoOf(group[0]!, commonDir);
      const { config, fallback } = await backgroundConfig(repo.toplevel, repo.commonDir);
      if (fallback) console.log(`${new Date().toISOString()} ${fallback}`);
      const candidates = existingCommits(repo.cwd, candidatesFrom(repo.cwd, group));
      const { events: written, skipped } = await recordPatchsets(repo.cwd, repo.commonDir, config, candidates);
      for (const k of skipped) console.log(`${new Date().toISOString()} skipped ${k.commit.slice(0, 12)} on ${k.branch ?? '(detached)'}: ${k.reason}`);
      for (const e of written) console.log(`${e.at} patchset ${e.task} ${e.commit.slice(0, 12)}${e.supersedes ? ` (replaces ${e.supersedes.slice(0, 12)})` : ''}`);
      for (const e of written) appendTo(writtenHere, repo.commonDir, e);
      // verify is the next step of each new patchset; failing to start it loses no event (a verify can run any time)
      try {
        const { verifyNewPatchsets } = await import('../verify/background.js');
        const lines = await verifyNewPatchsets(repo.cwd, repo.commonDir, path.join(repo.commonDir, 'omni-ship'), config, written);
        for (const line of lines) console.log(`${new Date().toISOString()} ${line}`);
      } catch (error) {
        console.log(`${new Date().toISOString()} verify not started: ${(error as Error).message.split('\n')[0]}`);
      }
    } catch (error) {
      console.log(`${new Date().toISOString()} error in ${JSON.stringify(worktree)}: ${(error as Error).message}; ${group.length} event(s) kept for the next drain`);
      failed.push(...group);
    }
  }
  // only a rewrite makes git move the notes ref behind our back, and its post-rewrite hook brings us here after
  if (events.some((e) => e.hook === 'post-rewrite')) await restoreDropped();
  return failed;
}

/** Drops candidates whose commit is not in the repository (one `cat-file --batch-check`), logging them. */
function existingCommits(cwd: string, candidates: PatchsetCandidate[]): PatchsetCandidate[] {
  if (candidates.length === 0) return candidates;
  const out = gitRun(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { cwd, input: `${candidates.map((c) => c.commit).join('\n')}\n` }).stdout.split('\n');
  return candidates.filter((c, i) => {
    const ok = out[i] === `${c.commit} commit`;
    if (!ok) console.log(`${new Date().toISOString()} skipped ${c.commit}: no such commit in this repository`);
    return ok;
  });
}

/** Turns spooled hook events into patchset candidates; only lines of old hooks need a ref resolved. */
function candidatesFrom(cwd: string, events: readonly HookEvent[]): PatchsetCandidate[] {
  const unresolved = [...new Set(events.filter((e) => !e.commit && e.ref).map((e) => e.ref))];
  const resolved = new Map<string, string>();
  if (unresolved.length) {
    const out = gitRun(['rev-parse', ...unresolved], { cwd }).stdout.split('\n');
    unresolved.forEach((ref, i) => out[i] && isSha(out[i]!) && resolved.set(ref, out[i]!));
  }
  const candidates: PatchsetCandidate[] = [];
  for (const e of events) {
    const branch = e.ref.startsWith('refs/heads/') ? e.ref.slice('refs/heads/'.length) : null;
    if (e.hook === 'post-rewrite') {
      const [kind, ...pairs] = e.extra.split(' ');
      for (const pair of pairs) {
        const [old, now] = pair.split(':');
        // a no-op amend (same tree, message and second) gives the same commit: it replaces nothing
        if (old && now && isSha(now)) candidates.push({ commit: now, branch, supersedes: isSha(old) && old !== now ? old : null, via: kind === 'rebase' ? 'rebase' : 'amend', at: e.at });
      }
      continue;
    }
    if (e.hook === 'post-merge' && e.extra === '1') continue; // a squash merge makes no commit
    const commit = e.commit || resolved.get(e.ref) || '';
    if (isSha(commit)) candidates.push({ commit, branch, supersedes: null, via: e.hook === 'post-merge' ? 'merge' : 'commit', at: e.at });
  }
  return candidates;
}

/** `omni-ship hook <name>`: what the installed hooks run. Not for people, but safe to run by hand. */
export async function hookCommand(
  opts: BaseOptions & { name: string; args: string[]; commonDir?: string; task?: string; force?: boolean; specFromCommit?: boolean },
): Promise<CommandOutput> {
  // hooks run with git's GIT_DIR, GIT_INDEX_FILE, …: they would point nested git at the wrong place
  clearGitLocalEnv();
  process.on('SIGHUP', () => {}); // outlive the terminal that made the commit
  switch (opts.name) {
    case 'drain': {
      const dir = opts.commonDir ? path.join(path.resolve(opts.cwd, opts.commonDir), 'omni-ship') : stateDir(requireRepo(opts.cwd));
      fs.mkdirSync(dir, { recursive: true });
      rotateLog(dir);
      // what a drainer or a git process killed mid-write left behind must not block or stay forever (a ref lock it
      // left is removed by the write that meets it: src/git/stale-lock.ts)
      reportRemovedLocks((lock) => console.log(`${new Date().toISOString()} removed ${lock}: a git process killed mid-update left it`));
      for (const ref of pruneStaleTmpRefs(path.dirname(dir))) console.log(`${new Date().toISOString()} removed ${ref}: a write killed between its two steps left it`);
      const drained = await drainSpool(dir, (events) => handle(path.dirname(dir), events));
      // a rewrite that ran without hooks (OMNI_SHIP_SKIP=1) brings no event: look once more on the way out
      await restoreDropped();
      return { data: drained, text: '' };
    }
    case 'refresh-config': {
      const repo = requireWorkRepo(opts.cwd);
      const loadedAt = new Date();
      try {
        // a hook runs this: a JS config runs only as recorded by a command the user ran (see config/trust)
        const loaded = await loadConfig(repo.toplevel, repo.toplevel, { codeTrust: 'require', stateDir: stateDir(repo) });
        writeHookSettings(repo.gitDir, loaded.config, loaded.file, loadedAt);
        return { data: { file: loaded.file }, text: '' };
      } catch (e) {
        if (e instanceof UserError) {
          throw new UserError(`${e.message}; commits use the previous settings meanwhile`, e.exitCode, e.hint);
        }
        throw e;
      }
    }
    case 'post-commit':
    case 'post-rewrite':
    case 'post-merge': {
      // run by hand: handle one event now, in the foreground
      const repo = requireWorkRepo(opts.cwd);
      const head = fs.readFileSync(path.join(repo.gitDir, 'HEAD'), 'utf8').trim();
      const ref = head.startsWith('ref: ') ? head.slice(5) : '';
      const event: HookEvent = {
        hook: opts.name as SpooledHook,
        worktree: repo.toplevel,
        gitDir: repo.gitDir,
        commit: ref ? '' : head,
        ref,
        extra: opts.args.join(' '),
        at: new Date(),
      };
      const failed = await handle(repo.commonDir, [event]);
      if (failed.length) throw new Error(`could not record the ${opts.name} event; see the log line above`);
      return { data: { handled: 1 }, text: '' };
    }
    case 'verify': {
      // started by the drainer (or verify --background): one commit, in the background
      const commit = opts.args[0];
      if (!commit || opts.args.length > 1) throw badInput('hook verify takes one commit', 'omni-ship hook verify <commit> [--task <task>]');
      const { runBackgroundVerify } = await import('../verify/background-run.js');
      const outcome = await runBackgroundVerify({ cwd: opts.cwd, commit, task: opts.task ?? null, force: !!opts.force, specFromCommit: !!opts.specFromCommit });
      return { data: outcome, text: '' };
    }
    default:
      throw badInput(`unknown hook event '${opts.name}'`, 'one of: drain, refresh-config, post-commit, post-rewrite, post-merge, verify');
  }
}
