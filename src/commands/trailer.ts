import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { findRepo } from '../git/repo.js';
import { parseTaskId } from '../ids.js';
import type { CommandOutput } from '../output.js';

/** The JSON shape of `omni-ship trailer --json`. */
export interface TrailerJson {
  taskId: string;
  trailer: string;
}

/** Prints the canonical trailer for a task; works outside a repository too (with the defaults). */
export async function trailerCommand(opts: BaseOptions & { task: string }): Promise<CommandOutput<TrailerJson>> {
  const repo = findRepo(opts.cwd);
  const { config } = await loadConfig(opts.cwd, repo?.toplevel ?? null);
  const taskId = parseTaskId(opts.task, config);
  const trailer = `${config.trailerKey}: ${taskId}`;
  return { data: { taskId, trailer }, text: trailer };
}
