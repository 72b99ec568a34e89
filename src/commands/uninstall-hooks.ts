import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { ExitCode } from '../errors.js';
import { requireWorkRepo } from '../git/repo.js';
import { uninstallHooks, type UninstallResult } from '../hooks/uninstall.js';
import type { CommandOutput } from '../output.js';

/** Removes the hooks and restores what install-hooks replaced; exit 3 when a file changed since install was left alone. */
export async function uninstallHooksCommand(opts: BaseOptions & { dryRun: boolean }): Promise<CommandOutput<UninstallResult>> {
  const repo = requireWorkRepo(opts.cwd);
  const result = uninstallHooks(repo, { dryRun: opts.dryRun });
  if (!result.installed) return { data: result, text: 'omni-ship hooks are not installed here: nothing to do' };
  const rel = (p: string) => (path.isAbsolute(p) ? path.relative(opts.cwd, p) || p : p);
  const verb: Record<string, string> = {
    removed: 'remove',
    restored: 'restore',
    'removed-block': 'remove omni-ship’s block from',
    'deleted-created-file': 'delete',
    'left-alone': 'leave alone',
    'config-restored': 'restore git config',
  };
  const lines = result.steps.map((s) => `${opts.dryRun ? 'would ' : ''}${verb[s.did]} ${rel(s.path)}${s.note ? ` (${s.note})` : ''}`);
  const head = opts.dryRun ? 'dry run: nothing changed' : 'uninstalled omni-ship hooks';
  const out: CommandOutput<UninstallResult> = { data: result, text: `${head}\n${lines.join('\n')}` };
  if (result.conflicts.length) {
    out.exitCode = ExitCode.conflict;
    out.warnings = result.conflicts.map((c) => `${c} changed after install-hooks wrote it; left as it is`);
  }
  return out;
}
