import type { BaseOptions } from '../cli.js';
import { deleteLocalBranch, deleteRemoteBranches, type DeleteOutcome } from '../cleanup/delete.js';
import { byBranch, planCleanup, type DeletedBranch, type KeepReason, type KeptBranch } from '../cleanup/plan.js';
import { loadConfig, type Config } from '../config.js';
import { failpoint } from '../failpoint.js';
import { taskIdFromBranch } from '../ids.js';
import { ExitCode, badInput } from '../errors.js';
import { gitRun } from '../git/exec.js';
import { requireWorkRepo, stateDir } from '../git/repo.js';
import { branchesInUse } from '../git/worktrees.js';
import type { CommandOutput } from '../output.js';
import { loadState, readRefSnapshot, type RepoState } from '../state/tasks.js';
import { badLineWarnings } from './status.js';

/** The JSON shape of `omni-ship cleanup-branches --json` (README). */
export interface CleanupJson {
  /** true without --apply: `deleted` lists what would be deleted, and nothing was */
  dryRun: boolean;
  base: string;
  /** the remote whose branches were judged too (--remote), else null */
  remote: string | null;
  deleted: DeletedBranch[];
  kept: KeptBranch[];
  /** what also went to stderr: unreadable notes, a remote that refused or could not be reached, lost races */
  warnings: string[];
}

/**
 * Deletes task branches whose task landed and which hold nothing that did not land (dry run unless `apply`):
 * local ones, and with `remote` the configured remote's too. Never the base branch, never a branch a worktree uses.
 */
export async function cleanupBranchesCommand(opts: BaseOptions & { apply: boolean; remote: boolean }): Promise<CommandOutput<CleanupJson>> {
  const repo = requireWorkRepo(opts.cwd);
  const cwd = repo.toplevel;
  const { config } = await loadConfig(opts.cwd, cwd);
  const remote = opts.remote ? requireRemote(cwd, config.remote) : null;
  const refSnapshot = await readRefSnapshot(cwd);
  const state = await loadState(cwd, config, stateDir(repo), refSnapshot);
  const plan = planCleanup({ cwd, config, refSnapshot, state, inUse: branchesInUse(cwd, repo.commonDir), remote });
  const warnings = badLineWarnings(state);
  const data: CleanupJson = { dryRun: !opts.apply, base: config.baseBranch, remote, deleted: [], kept: plan.keep, warnings };
  let exitCode: CommandOutput['exitCode'] = ExitCode.ok;

  if (!opts.apply) data.deleted = plan.delete;
  else {
    const keep = (b: DeletedBranch, reason: KeepReason, detail: string) => data.kept.push({ branch: b.branch, remote: b.remote, task: b.task, commit: b.commit, reason, detail });
    const settle = (b: DeletedBranch, outcome: DeleteOutcome) => {
      if (outcome.kind === 'deleted') data.deleted.push(b);
      else keep(b, outcome.kind === 'lost-race' ? 'lost-race' : 'remote-refused', outcome.detail);
    };
    // local branches first: a remote that cannot be reached takes nothing away from them
    for (const b of plan.delete.filter((d) => d.remote === null)) settle(b, deleteLocalBranch(cwd, b.branch, b.commit));
    // what a run killed between a branch's ref and its config left: the config of a landed task's branch that is gone
    removeOrphanConfig(cwd, config, state);
    failpoint('cleanup:local-done');
    const onRemote = plan.delete.filter((d) => d.remote !== null);
    if (remote && onRemote.length) {
      const pushed = deleteRemoteBranches(cwd, remote, onRemote);
      if (pushed.kind === 'unreachable') {
        for (const b of onRemote) keep(b, 'remote-unreachable', pushed.message);
        warnings.push(`${pushed.message}; no branch of ${remote} was deleted: check the URL (git remote get-url --push ${remote}) and your network, then run cleanup-branches --remote --apply again`);
        exitCode = ExitCode.usage;
      } else {
        for (const b of onRemote) settle(b, pushed.outcomes.get(b.branch)!);
      }
    }
    const refused = data.kept.filter((k) => k.reason === 'remote-refused');
    const lost = data.kept.filter((k) => k.reason === 'lost-race');
    for (const detail of new Set(refused.map((k) => k.detail))) warnings.push(detail);
    if (lost.length) {
      warnings.push(`${lost.length} branch(es) moved since they were judged and were kept: ${lost.map(label).join(', ')}; ${remote ? `git fetch --prune ${remote}, then ` : ''}run cleanup-branches again`);
    }
    data.kept.sort(byBranch);
    // README "Exit codes": unreachable 2 (set above), else refused 1, else lost race 3
    if (exitCode === ExitCode.ok) exitCode = refused.length ? ExitCode.refused : lost.length ? ExitCode.conflict : ExitCode.ok;
  }
  return { data, text: opts.json ? '' : render(data), exitCode, warnings };
}

/**
 * Removes the `branch.<name>.*` config of task branches that no longer exist and whose task landed: what
 * deleteLocalBranch removes right after the ref, left behind when a run was killed between the two.
 */
function removeOrphanConfig(cwd: string, config: Config, state: RepoState): void {
  const listed = gitRun(['config', '--local', '--name-only', '--get-regexp', '^branch\\.'], { cwd });
  if (listed.exitCode !== 0) return; // none (exit 1), or no readable config: nothing to do
  const names = new Set<string>();
  for (const key of listed.stdout.split('\n')) {
    const last = key.lastIndexOf('.');
    if (key.startsWith('branch.') && last > 'branch.'.length) names.add(key.slice('branch.'.length, last));
  }
  for (const name of names) {
    const task = taskIdFromBranch(name, config);
    if (!task || state.tasks.get(task)?.state !== 'landed') continue;
    if (gitRun(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`], { cwd }).exitCode === 0) continue;
    gitRun(['config', '--remove-section', `branch.${name}`], { cwd });
  }
}

/** The configured remote, which must exist (exit 2 otherwise). */
function requireRemote(cwd: string, remote: string | null): string {
  if (!remote) throw badInput('--remote: no remote configured', 'add one (git remote add origin <url>) or set "remote" in the config');
  const remotes = gitRun(['remote'], { cwd }).stdout.split('\n').filter(Boolean);
  if (!remotes.includes(remote)) throw badInput(`--remote: no remote named '${remote}'`, remotes.length ? `remotes here: ${remotes.join(', ')}` : 'this repository has no remotes');
  return remote;
}

/** `t-1` for a local branch, `origin/t-1` for a remote's. */
function label(b: { branch: string; remote: string | null }): string {
  return b.remote ? `${b.remote}/${b.branch}` : b.branch;
}

/** The human report: each branch deleted (or that would be) with its commit and why, then each kept task branch and why. */
function render(data: CleanupJson): string {
  const lines: string[] = [];
  const verb = data.dryRun ? 'would delete' : 'deleted';
  for (const d of data.deleted) lines.push(`${verb} ${label(d)} (${d.commit.slice(0, 12)}): ${d.detail}`);
  const others = data.kept.filter((k) => k.reason === 'not-task-branch');
  for (const k of data.kept) if (k.reason !== 'not-task-branch') lines.push(`kept ${label(k)}: ${k.detail}`);
  if (others.length) lines.push(`kept ${others.length} branch(es) that are not task branches`);
  const n = data.deleted.length;
  if (data.dryRun) lines.push(n ? `dry run: ${n} branch(es) would be deleted; run omni-ship cleanup-branches --apply${data.remote ? ' --remote' : ''} to delete them` : 'dry run: no branch to delete');
  else if (!n) lines.push('no branch deleted');
  else {
    const restore = data.deleted.some((d) => d.remote) ? 'git branch <name> <commit>, or git push <remote> <commit>:refs/heads/<name>' : 'git branch <name> <commit>';
    lines.push(`deleted ${n} branch(es); to restore one: ${restore} (the commits above)`);
  }
  return lines.join('\n');
}
