import fs from 'node:fs';
import type { BaseOptions } from '../cli.js';
import { loadConfig } from '../config.js';
import { ExitCode, UserError } from '../errors.js';
import { requireRepo, stateDir as stateDirOf } from '../git/repo.js';
import type { CommandOutput } from '../output.js';
import { writeOut } from '../report.js';
import { taskRequest } from '../verify/background.js';
import type { LogEntry } from '../verify/registry.js';
import { resolveTarget } from '../verify/target.js';
import { runningVerifies } from '../verify/running.js';

/** One log in `omni-ship logs --json`. */
export interface LogJson {
  file: string;
  commit: string | null;
  task: string | null;
  spec: string;
  startedAt: string;
  finishedAt: string | null;
  /** pass, fail, skip, indeterminate, cancelled; null while it runs (or when its run was killed) */
  result: string | null;
  step: string | null;
  exitCode: number | null;
  running: boolean;
}

/** The JSON shape of `omni-ship logs --json`. */
export interface LogsJson {
  target: string;
  commit: string;
  tree: string;
  task: string | null;
  /** newest first */
  logs: LogJson[];
  /** the newest log's text (without --all) */
  content: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The logs of runs of `tree` on this machine, newest first. */
async function logsOf(stateDir: string, tree: string): Promise<LogJson[]> {
  const { readRegistry } = await import('../verify/registry.js');
  const registry = await readRegistry(stateDir);
  const running = new Set(runningVerifies(stateDir).map((r) => r.log));
  return registry.logs
    .filter((l: LogEntry) => l.tree === tree && fs.existsSync(l.file))
    .sort((a: LogEntry, b: LogEntry) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
    .map((l: LogEntry) => ({
      file: l.file,
      commit: l.commit,
      task: l.task,
      spec: l.spec,
      startedAt: l.startedAt,
      finishedAt: l.finishedAt,
      result: l.result,
      step: l.step,
      exitCode: l.exitCode,
      running: running.has(l.file),
    }));
}

/** Prints `file` to stdout as it grows while `alive()` holds, then what is left; stops when the reader went away. */
async function follow(file: string, alive: () => boolean): Promise<void> {
  let offset = 0;
  /** False once stdout's reader is gone. */
  const pump = (): boolean => {
    const size = fs.statSync(file).size;
    if (size <= offset) return true;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      return writeOut(1, buf);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (;;) {
    const going = alive();
    if (!pump() || !going) return;
    await sleep(200);
  }
}

/** `omni-ship logs [<task|rev>] [--follow] [--all]`: the verify log this machine kept for a commit's tree. */
export async function logsCommand(opts: BaseOptions & { target?: string; follow: boolean; all: boolean }): Promise<CommandOutput<LogsJson>> {
  if (opts.follow && (opts.json || opts.all)) throw new UserError('--follow prints the log as it grows: it takes neither --json nor --all', ExitCode.usage, 'omni-ship logs <task> --follow');
  const repo = requireRepo(opts.cwd);
  const cwd = repo.toplevel ?? repo.gitDir;
  const dir = stateDirOf(repo);
  const { config } = await loadConfig(opts.cwd, repo.toplevel, { stateDir: dir });
  const target = await resolveTarget(cwd, config, dir, opts.target);
  const label = opts.target ?? (target.task ? `${target.task} (HEAD)` : 'HEAD');
  let logs = await logsOf(dir, target.tree);
  const request = opts.follow && target.task ? taskRequest(dir, target.task) : null;
  if (request && request.commit === target.commit && request.pending !== false) {
    // a background verify was asked for and has not started yet (it lets a burst of commits settle first). Wait
    // for a log begun after the request, not just any log: after `verify --background --force` the tree already
    // has the previous run's log, and following that would print the old answer at once
    const started = () => logs.some((l) => l.startedAt >= request.at);
    for (let waited = 0; !started() && waited < 30_000; waited += 250) {
      await sleep(250);
      logs = await logsOf(dir, target.tree);
    }
  }
  if (logs.length === 0) {
    throw new UserError(
      `no verify log of ${label} (tree ${target.tree.slice(0, 12)}) on this machine`,
      ExitCode.usage,
      `run it: omni-ship verify ${opts.target ?? ''}`.trimEnd() + '; an answer synced from another clone keeps its log there (omni-ship show gives its summary)',
    );
  }
  const data: LogsJson = { target: label, commit: target.commit, tree: target.tree, task: target.task, logs, content: null };
  if (opts.all) {
    const text = logs.map((l) => `${l.startedAt}  ${l.running ? 'running' : (l.result ?? 'unfinished')}${l.step ? ` in ${l.step}` : ''}  ${l.file}`).join('\n');
    return { data, text };
  }
  const newest = logs[0]!;
  if (opts.follow) {
    await follow(newest.file, () => runningVerifies(dir).some((r) => r.log === newest.file));
    const done = (await logsOf(dir, target.tree)).find((l) => l.file === newest.file);
    const code = done?.result === 'fail' ? ExitCode.refused : done?.result === 'pass' || done?.result === 'skip' ? ExitCode.ok : ExitCode.indeterminate;
    return { data, text: done?.result ? `omni-ship: verify ${done.result}${done.step ? ` in step ${done.step}` : ''}` : '', exitCode: code };
  }
  data.content = fs.readFileSync(newest.file, 'utf8');
  return { data, text: data.content.replace(/\n$/, '') };
}
