import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { failpoint } from '../failpoint.js';
import { gitRun } from '../git/exec.js';
import { stateDir as stateDirOf, requireWorkRepo } from '../git/repo.js';
import { hostId } from '../identity.js';
import { refValue } from '../land/base-ref.js';
import { appendAttempt } from '../notes/attempts.js';
import { recordPatchsets } from '../notes/patchsets.js';
import { loadState } from '../state/tasks.js';
import { agentArgv, runAgent, type AgentResult } from './agent-run.js';
import { devPrompt } from './prompt.js';
import { appendTaskEvent, type TaskRecord } from './tasks.js';
import { readStatus } from './worktree-files.js';
import { startWorktree } from './worktrees.js';

/**
 * The pipeline's dev step for one task (what `omni-ship run` does for each task it claimed): the task's worktree
 * (from its latest patchset, else the base), a prompt from templates/dev.md, the agent run there, and then what
 * it left judged. Exactly one commit of the task on top of the base that was not there before is a new patchset
 * (recorded as the post-commit hook would). No new commit, two commits, a non-zero exit, a timeout or an agent that
 * could not start is a failed attempt, and so is a worktree the agent must not start in (changes to tracked files, an
 * operation in progress, two commits on the base): on the task's current commit in the attempts log (counted per patchset),
 * or, when the task has no commit yet, in its task record (so an agent that never commits still reaches the
 * retry circuit). An abort (Ctrl-C) is no attempt and records nothing.
 */
export type DevOutcome = 'committed' | 'no-commit' | 'several-commits' | 'agent-failed' | 'timed-out' | 'not-started' | 'aborted' | 'not-ready';

export interface DevResult {
  task: string;
  outcome: DevOutcome;
  /** the new patchset's commit (committed only) */
  commit: string | null;
  /** the patchset the agent was asked for */
  patchset: number;
  worktree: string;
  promptFile: string;
  log: string;
  agent: AgentResult;
  /** why it is a failed attempt (null when committed or aborted) */
  error: string | null;
}

export interface DevInput {
  cwd: string;
  config: Config;
  record: TaskRecord;
  /** the agent's argv before substitution (chosenAgent) */
  argv: readonly string[];
  timeoutMs: number;
  /** why the previous patchset was rejected, for the prompt */
  feedback: string | null;
  /** who records the events, "Name <email>" */
  by: string;
  signal?: AbortSignal;
  /** added to the agent's environment (run puts this build's omni-ship first on PATH) */
  env?: Record<string, string>;
  onStart?: (info: { pid: number; pgid: number }) => void;
}

export async function developTask(input: DevInput): Promise<DevResult> {
  const repo = requireWorkRepo(input.cwd);
  const { config, record } = input;
  const id = record.id;
  const started = await startWorktree(repo.toplevel, id);
  const worktree = started.data.path;
  const view = (await loadState(repo.toplevel, config, stateDirOf(repo), undefined, undefined, { only: new Set([id]) as never })).tasks.get(id as never);
  const before = headOf(worktree);
  // the task's own commits are those on top of the base branch (a revision starts from its patchset, not the base)
  const base = mergeBase(worktree, baseTip(repo.toplevel, config));
  const patchset = (view?.patchsets.length ?? 0) + 1;
  const dir = path.join(stateDirOf(repo), 'run', id);
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const promptFile = path.join(dir, `prompt-${stamp}.md`);
  const log = path.join(dir, `agent-${stamp}.log`);
  fs.writeFileSync(
    promptFile,
    devPrompt({ taskId: id, title: record.title, description: record.description, branch: started.data.branch ?? id, baseBranch: config.baseBranch, workspace: worktree, patchset, trailer: `${config.trailerKey}: ${id}`, feedback: input.feedback }),
  );
  // the worktree must be as the task's commits left it: changes to tracked files or an operation in progress (an
  // agent stopped mid-work, a person working there) are never the agent's to commit or to lose, and two commits on
  // the base are no task's shape. Untracked files (build output an agent left) are left to the agent
  const status = readStatus(worktree, false);
  const onBase = base && before ? Number(gitRun(['rev-list', '--count', `${base}..${before}`], { cwd: worktree }).stdout.trim() || 0) : 0;
  const notReady = !status
    ? `git cannot read the worktree ${worktree}`
    : status.changes.length
      ? `the worktree ${worktree} has uncommitted changes (${status.changes.slice(0, 3).join(', ')}${status.changes.length > 3 ? ', …' : ''}): commit or discard them there (git -C ${worktree} status), then omni-ship task reopen ${id} if it needs help`
      : onBase > 1
        ? `the branch in ${worktree} has ${onBase} commits on top of ${config.baseBranch}; a task is one commit: squash them there (git -C ${worktree} rebase -i ${config.baseBranch})`
        : null;
  const agent = notReady
    ? ({ exitCode: null, signal: null, timedOut: false, aborted: false, startError: null, durationMs: 0, costCents: null, lastLine: null, pid: null, pgid: null } satisfies AgentResult)
    : await runAgent({
    argv: agentArgv(input.argv, { promptFile, taskId: id, workspace: worktree }),
    cwd: worktree,
    timeoutMs: input.timeoutMs,
    logFile: log,
    costFrom: config.agent.costFrom,
    signal: input.signal,
    env: input.env,
    onStart: input.onStart,
  });
  // what the agent spent is recorded first, as soon as it is known: a kill later loses no cost (--max-cost counts them)
  const who = { by: input.by, host: hostId(repo.commonDir) };
  if (agent.costCents !== null && agent.costCents > 0) await appendTaskEvent(repo.toplevel, who, id, 'cost', { role: 'dev', cost: agent.costCents });
  // killed here, a commit the agent made is on the task's branch unrecorded: the next run records it (run.ts)
  failpoint('develop:agent-done');
  const after = headOf(worktree);
  const result: DevResult = { task: id, outcome: 'committed', commit: null, patchset, worktree, promptFile, log, agent, error: null };
  if (agent.aborted) return { ...result, outcome: 'aborted' };
  const count = base && after ? Number(gitRun(['rev-list', '--count', `${base}..${after}`], { cwd: worktree }).stdout.trim() || 0) : 0;
  if (notReady) Object.assign(result, { outcome: 'not-ready', error: `the agent was not started: ${notReady}` });
  else if (agent.startError) Object.assign(result, { outcome: 'not-started', error: `the agent could not start: ${agent.startError}` });
  else if (agent.timedOut) Object.assign(result, { outcome: 'timed-out', error: `the agent ran past its timeout (${Math.round(input.timeoutMs / 1000)} s) and was stopped` });
  else if (agent.exitCode !== 0) Object.assign(result, { outcome: 'agent-failed', error: `the agent exited ${agent.exitCode ?? `on ${agent.signal}`}` });
  else if (after === before || count === 0) Object.assign(result, { outcome: 'no-commit', error: 'the agent made no new commit' });
  else if (count > 1) Object.assign(result, { outcome: 'several-commits', error: `the agent left ${count} commits on top of ${config.baseBranch}; a task is one commit (amend on revision)` });
  if (result.outcome === 'committed' && after) {
    await recordPatchsets(repo.toplevel, repo.commonDir, config, [{ commit: after, branch: started.data.branch, supersedes: view?.head ?? null, via: view?.head ? 'amend' : 'commit', at: new Date() }]);
    return { ...result, commit: after };
  }
  // a failed attempt: on the task's current commit when it has one, else on its record
  if (view?.head) await appendAttempt(repo.toplevel, who, { task: id, commit: view.head, role: 'dev', outcome: 'fail', error: result.error });
  else await appendTaskEvent(repo.toplevel, who, id, 'attempt', { role: 'dev', message: result.error });
  return result;
}

function headOf(dir: string): string | null {
  const r = gitRun(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd: dir });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** The base branch's tip: the remote-tracking one when there is one (what the task lands on), else the local. */
function baseTip(cwd: string, config: Config): string | null {
  for (const ref of [...(config.remote ? [`refs/remotes/${config.remote}/${config.baseBranch}`] : []), `refs/heads/${config.baseBranch}`]) {
    const tip = refValue(cwd, ref);
    if (tip) return tip;
  }
  return null;
}

/** Where the task's own commits begin: HEAD's merge base with the base tip. */
function mergeBase(dir: string, base: string | null): string | null {
  if (!base) return null;
  const r = gitRun(['merge-base', 'HEAD', base], { cwd: dir });
  return r.exitCode === 0 ? r.stdout.trim() : base;
}
