import fs from 'node:fs';
import path from 'node:path';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { UserError, badInput } from '../errors.js';
import { clearGitLocalEnv } from '../git/exec.js';
import { requireRepo, requireWorkRepo, stateDir } from '../git/repo.js';
import { drainSpool, rotateLog } from '../hooks/drain.js';
import { logEvents } from '../hooks/events.js';
import { writeHookSettings } from '../hooks/settings.js';
import type { HookEvent, SpooledHook } from '../hooks/spool.js';
import type { CommandOutput } from '../output.js';

/** Handles a batch of hook events: logs them (later issues give this process more work). */
async function handle(events: HookEvent[]): Promise<void> {
  logEvents(events);
}

/** `omni-ship hook <name>`: what the installed hooks run. Not for people, but safe to run by hand. */
export async function hookCommand(opts: BaseOptions & { name: string; args: string[]; commonDir?: string }): Promise<CommandOutput> {
  // hooks run with git's GIT_DIR, GIT_INDEX_FILE, …: they would point nested git at the wrong place
  clearGitLocalEnv();
  process.on('SIGHUP', () => {}); // outlive the terminal that made the commit
  switch (opts.name) {
    case 'drain': {
      const dir = opts.commonDir ? path.join(path.resolve(opts.cwd, opts.commonDir), 'omni-ship') : stateDir(requireRepo(opts.cwd));
      fs.mkdirSync(dir, { recursive: true });
      rotateLog(dir);
      const { handled } = await drainSpool(dir, handle);
      return { data: { handled }, text: '' };
    }
    case 'refresh-config': {
      const repo = requireWorkRepo(opts.cwd);
      const loadedAt = new Date();
      try {
        const loaded = await loadConfig(repo.toplevel, repo.toplevel);
        writeHookSettings(repo.gitDir, loaded.config, loaded.file, loadedAt);
        return { data: { file: loaded.file }, text: '' };
      } catch (e) {
        if (e instanceof UserError) {
          throw new UserError(`${e.message}; commits use the previous settings until it is fixed`, e.exitCode, e.hint);
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
      await handle([event]);
      return { data: { handled: 1 }, text: '' };
    }
    default:
      throw badInput(`unknown hook event '${opts.name}'`, 'one of: drain, refresh-config, post-commit, post-rewrite, post-merge');
  }
}
