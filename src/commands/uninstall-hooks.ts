import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { ExitCode } from '../errors.js';
import { requireWorkRepo, stateDir, type WorkRepo } from '../git/repo.js';
import { readManifest } from '../hooks/manifest.js';
import { renderHook } from '../hooks/templates.js';
import { uninstallHooks, type HookRender, type UninstallResult } from '../hooks/uninstall.js';
import type { CommandOutput } from '../output.js';
import { entryPoint } from '../paths.js';

/**
 * What this version would write for each hook, needed only for a manifest of an earlier version that recorded no
 * hashes. The config is read as install-hooks reads it; when it cannot be read, no file counts as untouched.
 */
async function renderForOldManifest(repo: WorkRepo): Promise<HookRender | undefined> {
  const manifest = readManifest(stateDir(repo));
  if (!manifest?.hooks.some((h) => (h.mode === 'file' ? h.sha256 === undefined : h.scriptSha256 === undefined))) return undefined;
  const loaded = await loadConfig(repo.toplevel, repo.toplevel).catch(() => null);
  if (!loaded) return undefined;
  const node = process.execPath;
  const entry = entryPoint();
  return (name, chained) => renderHook(name, { node, entry, chained, config: loaded.config, configSource: loaded.file });
}

/** Removes the hooks and restores what install-hooks replaced; exit 3 when a file changed since install was left alone. */
export async function uninstallHooksCommand(opts: BaseOptions & { dryRun: boolean }): Promise<CommandOutput<UninstallResult>> {
  const repo = requireWorkRepo(opts.cwd);
  const result = uninstallHooks(repo, { dryRun: opts.dryRun, render: await renderForOldManifest(repo) });
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
    out.warnings = result.conflicts.map((c) => {
      const step = result.steps.find((s) => s.path === c && s.hint);
      return `${c} ${step?.note ?? 'changed after install-hooks wrote it'}; left as it is${step ? `; ${step.hint}` : ''}`;
    });
  }
  return out;
}
