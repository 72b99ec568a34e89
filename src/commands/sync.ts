import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { ExitCode, UserError, badInput } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { discoverWorkRepo, requireWorkRepo } from '../git/repo.js';
import { remotesFromConfigFiles } from '../config/defaults-fs.js';
import { DISPLAY_REF, KEPT_REF, startSyncFetch } from '../notes/refs.js';
import type { SyncResult } from '../notes/sync.js';
import type { CommandOutput } from '../output.js';

/** Fetches, merges (logs by set union, display notes whole) and pushes omni-ship's notes and patchset refs with one remote. */
export async function syncCommand(opts: BaseOptions & { remote?: string; dryRun: boolean }): Promise<CommandOutput<SyncResult>> {
  // from the file system when it settles it (no process), as land does; else git says
  const found = discoverWorkRepo(opts.cwd);
  const repo = found?.toplevel ? { ...found, toplevel: found.toplevel } : requireWorkRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo.toplevel);
  const remote = opts.remote ?? config.remote;
  if (!remote) throw badInput('no remote to sync with', 'add one (git remote add origin <url>), name one (omni-ship sync <remote>), or set "remote" in the config');
  const remotes = remotesFromConfigFiles(repo.commonDir, repo.gitDir) ?? gitRun(['remote'], { cwd: repo.toplevel }).stdout.split('\n').filter(Boolean);
  if (!remotes.includes(remote)) throw badInput(`no remote named '${remote}'`, remotes.length ? `remotes here: ${remotes.join(', ')}` : 'this repository has no remotes');
  // git fetches while the merge code loads
  const fetching = startSyncFetch(repo.toplevel, remote);
  const { RemoteDeclinedError, RemoteUnreachableError, SyncRaceError, syncNotes } = await import('../notes/sync.js');
  let result: SyncResult;
  try {
    result = await syncNotes(repo.toplevel, remote, opts.dryRun, { fetching });
  } catch (e) {
    // a remote that cannot be reached is the user's remote (README "Exit codes": 2 covers a bad remote), not our bug
    if (e instanceof RemoteUnreachableError) {
      const show = e.operation === 'push' ? `git remote get-url --push ${remote}` : `git remote get-url ${remote}`;
      throw new UserError(e.message, ExitCode.usage, `check the URL (${show}) and your network, then run omni-ship sync again`);
    }
    if (e instanceof SyncRaceError) throw new UserError(e.message, ExitCode.conflict);
    if (e instanceof RemoteDeclinedError) {
      // local notes are as they were, or hold a union of both sides (which loses nothing): the next sync pushes them
      throw new UserError(e.message, ExitCode.refused, `the remote's own rules refused refs/notes/omni-ship/*, ${DISPLAY_REF} or ${KEPT_REF} (or the deletion of refs/omni-ship/patchsets/*): ask its admin to allow them, then run omni-ship sync again`);
    }
    throw new UserError((e as Error).message, ExitCode.internal);
  }
  const lines = [
    `${opts.dryRun ? 'dry run: ' : ''}synced with ${remote}${result.rounds > 1 ? ` (${result.rounds} rounds: another clone pushed meanwhile)` : ''}`,
    ...result.merged.map((r) => `${opts.dryRun ? 'would merge' : 'merged'} ${r} (${r === DISPLAY_REF ? 'whole notes' : 'set union'})`),
    ...result.updatedLocal.map((r) => `${opts.dryRun ? 'would update' : 'updated'} ${r} from ${remote}`),
    ...result.restored.map(
      (r) => `${opts.dryRun ? 'would restore' : 'restored'} lines of ${r} that ${remote} had lost (notes removed or rewritten there without omni-ship)`,
    ),
    ...result.pushed.map((r) => `${opts.dryRun ? 'would push' : 'pushed'} ${r}`),
    ...(result.folded ? [`${opts.dryRun ? 'would fold' : 'folded'} ${result.folded} per-patchset ref${result.folded === 1 ? '' : 's'} (refs/omni-ship/patchsets/…, here and on ${remote}) into ${KEPT_REF}${opts.dryRun ? '' : ', and deleted them'}`] : []),
  ];
  if (lines.length === 1) lines.push(result.skipped.length ? 'nothing else to do' : 'already in sync');
  return { data: result, text: lines.join('\n'), warnings: result.skipped.map((s) => `skipped ${s.ref}: ${s.reason}`) };
}
