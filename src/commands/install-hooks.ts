import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { ExitCode } from '../errors.js';
import { requireWorkRepo } from '../git/repo.js';
import { changedReason } from '../hooks/edits.js';
import { installHooks, type InstallAction, type InstallResult } from '../hooks/install.js';
import { lifecycleSkip, type InstallSkipped } from '../hooks/lifecycle.js';
import type { CommandOutput } from '../output.js';

function describe(a: InstallAction, cwd: string): string {
  const rel = (p: string) => path.relative(cwd, p) || p;
  switch (a.kind) {
    case 'move':
      return `move ${rel(a.from)} to ${rel(a.to)} (it still runs, after omni-ship's ${a.hook})`;
    case 'write':
      return `${a.replaces === 'omni-ship' ? 'update' : 'write'} ${rel(a.path)}`;
    case 'block':
      return `${a.created ? 'create' : 'add omni-ship’s block to'} ${rel(a.path)}`;
    case 'config':
      if (a.change.how === 'unset') return `git config --fixed-value --unset-all ${a.change.key} ${a.change.value} (an earlier install added it)`;
      return `git config ${a.change.how === 'add' ? '--add ' : ''}${a.change.key} ${a.change.value}`;
  }
}

/**
 * Installs the hooks; with dryRun, only lists what it would change. Exit 3, changing nothing, when a file omni-ship
 * wrote was changed since. Run from a package's install script where there is nothing to install: a notice, exit 0.
 */
export async function installHooksCommand(opts: BaseOptions & { dryRun: boolean }): Promise<CommandOutput<InstallResult | InstallSkipped>> {
  const skipped = lifecycleSkip(opts.cwd, process.env);
  if (skipped) {
    const text = `omni-ship: hooks not installed: ${skipped.message} (run by npm's "${skipped.lifecycleEvent}" script, so not an error; run \`npx omni-ship install-hooks\` in a clone to install them)`;
    return { data: skipped, text };
  }
  const repo = requireWorkRepo(opts.cwd);
  const loadedAt = new Date();
  // hooks run at the top of the work tree, so that is where their config is read from
  const loaded = await loadConfig(repo.toplevel, repo.toplevel);
  const result = installHooks(repo, loaded, { dryRun: opts.dryRun, loadedAt });
  const where = result.husky ? ` (husky: ${result.hooksDir})` : ` in ${result.hooksDir}`;
  if (result.conflicts.length) {
    return {
      data: result,
      text: `nothing changed${where}: ${result.conflicts.length} file(s) omni-ship wrote were changed since`,
      exitCode: ExitCode.conflict,
      warnings: result.conflicts.map((c) => `${c.path} ${changedReason(c.why)}; nothing was installed; ${c.hint}`),
    };
  }
  const lines = result.actions.map((a) => `${opts.dryRun ? 'would ' : ''}${describe(a, opts.cwd)}`);
  if (result.unchanged.length) {
    lines.push(`${opts.dryRun ? 'would leave' : 'left'} unchanged (already up to date): ${result.unchanged.map((p) => path.relative(opts.cwd, p) || p).join(', ')}`);
  }
  const text = opts.dryRun
    ? `dry run: nothing changed${where}\n${lines.join('\n')}`
    : `installed omni-ship hooks${where}\n${lines.join('\n')}\nnext: commit on a task branch, e.g. git switch -c t-1 && git commit -m "first step"`;
  return { data: result, text };
}
