import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ExitCode, UserError } from './errors.js';
import type { CommandOutput } from './output.js';
import { packageVersion } from './paths.js';
import { print, report } from './report.js';

/** Options every command receives. */
export interface BaseOptions {
  cwd: string;
  json: boolean;
}

type Runner = () => Promise<CommandOutput>;

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Resolves -C arguments like git: each one relative to the previous. */
function directoryFrom(program: Command): string {
  const chain = (program.opts().C as string[] | undefined) ?? [];
  let dir = process.cwd();
  for (const step of chain) {
    dir = path.resolve(dir, step);
    let ok = false;
    try {
      ok = fs.statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new UserError(`cannot change to '${step}': no such directory`, ExitCode.usage);
  }
  return dir;
}

/** The usage error commander reported last (see buildProgram), with the command line prefix whose help applies. */
let usage: { prefix: string; text: string } | null = null;

/** Builds the command tree. Every action lazy-imports its module, so `--help` loads commander alone. */
export function buildProgram(run: (json: boolean, runner: Runner) => Promise<void>): Command {
  const program = new Command('omni-ship');
  const cwd = () => directoryFrom(program);
  program
    .description('one commit per task: develop, verify, land, with git as the database')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('-C <path>', 'run as if omni-ship was started in <path> (repeatable, like git -C)', (v: string, prev: string[] = []) => [...prev, v])
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples('npx omni-ship install-hooks', 'git switch -c t-565 && git commit -m "login form"', 'omni-ship trailer t-565', 'omni-ship config --json') +
        '\nExit codes: 0 ok, 1 refused, 2 bad usage or input, 3 conflict or lost race, 70 internal error.\n',
    );

  program
    .command('install-hooks')
    .description('install the commit-msg, post-commit, post-rewrite and post-merge hooks (chains existing hooks)')
    .option('--dry-run', 'print what would change, change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('npx omni-ship install-hooks', 'omni-ship install-hooks --dry-run', 'omni-ship -C ../other-repo install-hooks'))
    .action(async (o: { dryRun?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/install-hooks.js')).installHooksCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })),
    );

  program
    .command('uninstall-hooks')
    .description('remove omni-ship hooks and config, restoring what was there before byte for byte')
    .option('--dry-run', 'print what would change, change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('omni-ship uninstall-hooks', 'omni-ship uninstall-hooks --dry-run'))
    .action(async (o: { dryRun?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/uninstall-hooks.js')).uninstallHooksCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })),
    );

  program
    .command('trailer')
    .description('print the trailer line for a task, e.g. "Task-Id: t-565"')
    .argument('<task>', 'a task id such as t-565 or t-565.2 (case-insensitive)')
    .option('--json', 'print {"taskId", "trailer"}')
    .addHelpText('after', examples('omni-ship trailer t-565', 'omni-ship trailer T-565.2 --json', 'git commit -m "fix" -m "$(omni-ship trailer t-565)"'))
    .action(async (task: string, o: { json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/trailer.js')).trailerCommand({ cwd: cwd(), json: !!o.json, task })),
    );

  program
    .command('config')
    .description('print the effective configuration and where each value comes from')
    .option('--json', 'print {"file", "values": {key: {value, source, detail}}, "ignored", "warnings"}')
    .addHelpText('after', examples('omni-ship config', 'omni-ship config --json'))
    .action(async (o: { json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/config.js')).configCommand({ cwd: cwd(), json: !!o.json })),
    );

  program
    .command('init')
    .description('write a commented .omni-shiprc.yaml at the repository root')
    .option('--dry-run', 'print the file instead of writing it')
    .option('--json', 'print {"file", "written", "content"}')
    .addHelpText('after', examples('omni-ship init', 'omni-ship init --dry-run'))
    .action(async (o: { dryRun?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/init.js')).initCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })),
    );

  program
    .command('status')
    .description('list the tasks in flight (and those landed in the last 3 days): state, branch, head, patchsets, verify, review, landing; with counts per state of every task')
    .option('--json', 'print {"base", "counts", "listing", "tasks": [...], "runs": [...]} (see README)')
    .option('--all', 'every task, landed ones of any age included')
    .option('--state <state>', 'only tasks in this state (open, in-progress, verifying, failed, verified, approved, landed, needs-help, diverged, closed)')
    .option('--parent <task>', 'only this task and its subtasks (t-565 shows t-565.1, t-565.2, …)')
    .option('--task <task>', 'only this task')
    .addHelpText('after', examples('omni-ship status', 'omni-ship status --all', 'omni-ship status --state failed', 'omni-ship status --parent t-565 --json'))
    .action(async (o: { json?: boolean; all?: boolean; state?: string; parent?: string; task?: string }) =>
      run(!!o.json, async () =>
        (await import('./commands/status.js')).statusCommand({ cwd: cwd(), json: !!o.json, all: !!o.all, state: o.state, parent: o.parent, task: o.task }),
      ),
    );

  program
    .command('show')
    .description("one task's whole history: patchsets, verify results, reviews, attempts and the landing")
    .argument('<task>', 'a task id such as t-565')
    .option('--json', 'print the history as JSON (see README)')
    .addHelpText('after', examples('omni-ship show t-565', 'omni-ship show t-565 --json'))
    .action(async (task: string, o: { json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/show.js')).showCommand({ cwd: cwd(), json: !!o.json, task })),
    );

  program
    .command('review')
    .description("record a review verdict on the task's current commit (its current patchset)")
    .argument('<task>', 'a task id such as t-565')
    .option('--approve', 'approve this patchset')
    .option('--request-changes', 'send it back for changes')
    .option('-m, --message <text>', 'a comment to go with the verdict')
    .option('--json', 'print the recorded event')
    .addHelpText('after', examples('omni-ship review t-565 --approve', 'omni-ship review t-565 --request-changes -m "handle the empty list"'))
    .action(async (task: string, o: { approve?: boolean; requestChanges?: boolean; message?: string; json?: boolean }) =>
      run(!!o.json, async () =>
        (await import('./commands/review.js')).reviewCommand({
          cwd: cwd(),
          json: !!o.json,
          task,
          approve: !!o.approve,
          requestChanges: !!o.requestChanges,
          message: o.message,
        }),
      ),
    );

  program
    .command('patchset')
    .description("show a task's patchset count; --increment records the task branch's tip as a patchset")
    .argument('<task>', 'a task id such as t-565')
    .option('--increment', 'record the current task-branch tip (idempotent for the same commit)')
    .option('--json', 'print {"taskId", "patchsetCount", "incremented", "trailer"}')
    .addHelpText('after', examples('omni-ship patchset t-565', 'omni-ship patchset t-565 --increment --json'))
    .action(async (task: string, o: { increment?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/patchset.js')).patchsetCommand({ cwd: cwd(), json: !!o.json, task, increment: !!o.increment })),
    );

  program
    .command('sync')
    .description("fetch, merge (logs by set union, landed notes whole) and push omni-ship's notes and patchset refs with a remote")
    .argument('[remote]', 'the remote (default: the configured remote, origin)')
    .option('--dry-run', 'fetch and report what would merge and push; change no local notes and push nothing')
    .option('--json', 'print {"remote", "merged", "restored", "updatedLocal", "pushed", "skipped", "rounds", "dryRun"} (see README)')
    .addHelpText('after', examples('omni-ship sync', 'omni-ship sync upstream --dry-run'))
    .action(async (remote: string | undefined, o: { dryRun?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/sync.js')).syncCommand({ cwd: cwd(), json: !!o.json, remote, dryRun: !!o.dryRun })),
    );

  program
    .command('cleanup-branches')
    .description('delete task branches whose task landed and that hold nothing else; a dry run unless --apply')
    .option('--apply', 'delete them (default: only list what would be deleted and why)')
    .option('--remote', "also the configured remote's task branches (as last fetched), deleted with a lease on each")
    .option('--json', 'print {"dryRun", "base", "remote", "deleted", "kept", "warnings"} (see README)')
    .addHelpText(
      'after',
      examples('omni-ship cleanup-branches', 'omni-ship cleanup-branches --apply', 'git fetch --prune && omni-ship cleanup-branches --remote --apply') +
        '\nExit codes: 0 ok (branches kept for a reason too), 1 the remote refused a deletion, 2 bad usage or the remote cannot be reached, 3 a branch moved meanwhile (kept).\n',
    )
    .action(async (o: { apply?: boolean; remote?: boolean; json?: boolean }) =>
      run(!!o.json, async () =>
        (await import('./commands/cleanup-branches.js')).cleanupBranchesCommand({ cwd: cwd(), json: !!o.json, apply: !!o.apply, remote: !!o.remote }),
      ),
    );

  program
    .command('verify')
    .description("does this commit's tree pass the team's checks? the cached answer, or the steps run in a private worktree")
    .argument('[target]', 'a task id (its head commit) or any commit; default HEAD')
    .option('--force', 'run the steps even when an answer is cached')
    .option('--background', 'start the run detached and return at once (a cached answer prints at once)')
    .option('--spec-from-commit', "verify under the commit's own spec instead of the base branch's (recorded under that spec's hash)")
    .option('--prune', 'remove idle pool worktrees and logs older than verify.pruneAfterDays, then exit')
    .option('--json', 'print the answer as JSON (see README)')
    .addHelpText(
      'after',
      examples('omni-ship verify', 'omni-ship verify t-565', 'omni-ship verify HEAD~1 --json', 'omni-ship verify t-565 --spec-from-commit', 'omni-ship verify --prune') +
        '\nExit codes: 0 pass or skip, 1 fail, 2 bad usage or no steps configured, 75 indeterminate (timed out, killed, could not run: try again).\n',
    )
    .action(async (target: string | undefined, o: { force?: boolean; background?: boolean; specFromCommit?: boolean; prune?: boolean; json?: boolean }) =>
      run(!!o.json, async () => {
        if (o.prune) {
          if (target !== undefined || o.force || o.background || o.specFromCommit) throw new UserError('--prune takes no target and no other option', ExitCode.usage, 'omni-ship verify --prune [--json]');
          return (await import('./commands/verify-prune.js')).verifyPruneCommand({ cwd: cwd(), json: !!o.json });
        }
        return (await import('./commands/verify.js')).verifyCommand({
          cwd: cwd(),
          json: !!o.json,
          target,
          force: !!o.force,
          background: !!o.background,
          specFromCommit: !!o.specFromCommit,
        });
      }),
    );

  program
    .command('land')
    .alias('ship')
    .description('land verified tasks on the base branch: candidate built without a worktree, verified, then a compare-and-swap push')
    .argument('[tasks...]', 'task ids, landed in this order')
    .option('--all', 'land every verified task, in id order')
    .option('--dry-run', 'say what would happen; write nothing (no fetch, no verify run, no ref, note or object)')
    .option('--no-push', 'land into the local base branch only; the remote is not changed')
    .option('--keep-branch', 'keep the task branch after landing')
    .option('--base <branch>', 'the base branch (default: .git/omni-ship.yaml, else the remote HEAD, main or master)')
    .option('--remote <name>', 'the remote to land through (default: the configured one)')
    .option('--batch-size <n>', 'tasks verified together as one stack (default land.batchSize, 8)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new UserError(`--batch-size must be a whole number from 1 to 100, not '${v}'`, ExitCode.usage);
      return n;
    })
    .option('--require-cached', 'never run verify: land only candidates whose tree already passed')
    .option('--json', 'print {"base", "tasks": [...], ...} (see README)')
    .addHelpText(
      'after',
      examples('omni-ship land t-565', 'omni-ship land t-565 t-566 --json', 'omni-ship land --all --dry-run', 'omni-ship ship t-565 --no-push') +
        '\nExit codes: 0 every task landed (or had), 1 a gate refused, 2 bad usage, unknown task or repository state, 3 conflict or lost race, 75 verify gave no answer.\n',
    )
    .action(async (tasks: string[], o: { all?: boolean; dryRun?: boolean; push?: boolean; keepBranch?: boolean; base?: string; remote?: string; batchSize?: number; requireCached?: boolean; json?: boolean }) =>
      run(!!o.json, async () =>
        (await import('./commands/land.js')).landCommand({
          cwd: cwd(),
          json: !!o.json,
          tasks,
          all: !!o.all,
          dryRun: !!o.dryRun,
          push: o.push !== false,
          keepBranch: !!o.keepBranch,
          base: o.base,
          remote: o.remote,
          batchSize: o.batchSize,
          requireCached: !!o.requireCached,
        }),
      ),
    );

  program
    .command('logs')
    .description("print the verify log of a task's head commit (or any commit) kept on this machine")
    .argument('[target]', 'a task id or a commit; default HEAD')
    .option('-f, --follow', 'keep printing while the run goes on; exit when it ends')
    .option('--all', 'list every log of the target instead of printing the newest')
    .option('--json', 'print {"target", "commit", "tree", "logs": [...]} (see README)')
    .addHelpText('after', examples('omni-ship logs t-565', 'omni-ship logs t-565 --follow', 'omni-ship logs HEAD --all --json'))
    .action(async (target: string | undefined, o: { follow?: boolean; all?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/logs.js')).logsCommand({ cwd: cwd(), json: !!o.json, target, follow: !!o.follow, all: !!o.all })),
    );

  program
    .command('hook', { hidden: true })
    .description('internal: what the installed hooks run in the background')
    .argument('<name>', 'drain | refresh-config | post-commit | post-rewrite | post-merge | verify')
    .argument('[args...]', 'the hook arguments')
    .option('--common-dir <dir>', 'the common git dir (set by the hooks)')
    .option('--task <task>', 'verify: the task the commit is a patchset of')
    .option('--force', 'verify: run even when a result is cached')
    .option('--spec-from-commit', "verify: use the commit's own spec")
    .allowUnknownOption(false)
    .addHelpText('after', examples('omni-ship hook drain', 'omni-ship hook refresh-config', 'omni-ship hook post-commit'))
    .action(async (name: string, args: string[], o: { commonDir?: string; task?: string; force?: boolean; specFromCommit?: boolean }) =>
      run(false, async () => {
        // a hook runs on git's behalf, not the user's: it never executes configuration code the user did not run
        (await import('./config.js')).forbidUntrustedConfigCode();
        return (await import('./commands/hook.js')).hookCommand({
          cwd: cwd(),
          json: false,
          name,
          args,
          commonDir: o.commonDir,
          task: o.task,
          force: o.force,
          specFromCommit: o.specFromCommit,
        });
      }),
    );

  const worktree = program
    .command('worktree')
    .description("a worktree per task, beside the repository: start (create or reuse), list, release")
    .addHelpText(
      'after',
      examples('cd "$(omni-ship worktree start t-7)"', 'omni-ship worktree list --json', 'omni-ship worktree release t-7 --remove') +
        '\nExit codes: 0 ok, 1 refused (uncommitted changes, not made by omni-ship), 2 bad usage, task id or repository, 3 conflict (branch checked out elsewhere, path in the way).\n',
    );
  worktree
    .command('start')
    .description("create the task's worktree on branch <task> (from its latest patchset, else the base branch), or reuse the one it has; prints its path")
    .argument('<task>', 'a task id such as t-7')
    .option('--json', 'print {"task", "path", "branch", "action", "registered", "head", "baseCommit", "from", ...} (see README)')
    .addHelpText('after', examples('omni-ship worktree start t-7', 'cd "$(omni-ship worktree start t-7)"', 'omni-ship worktree start t-7 --json'))
    .action(async (id: string, o: { json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/worktree.js')).worktreeStartCommand({ cwd: cwd(), json: !!o.json, task: id })),
    );
  worktree
    .command('list')
    .description('the worktrees omni-ship made: task, branch, HEAD, clean or dirty, path')
    .option('--json', 'print {"worktrees": [...]} (see README)')
    .action(async (o: { json?: boolean }) => run(!!o.json, async () => (await import('./commands/worktree.js')).worktreeListCommand({ cwd: cwd(), json: !!o.json })));
  worktree
    .command('release')
    .description("forget the task's worktree; --remove also removes it (never one with uncommitted changes); the branch is kept")
    .argument('<task>', 'a task id such as t-7')
    .option('--remove', 'also remove the worktree (git worktree remove, never forced)')
    .option('--json', 'print {"task", "path", "branch", "released", "removed"}')
    .addHelpText('after', examples('omni-ship worktree release t-7', 'omni-ship worktree release t-7 --remove'))
    .action(async (id: string, o: { remove?: boolean; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/worktree.js')).worktreeReleaseCommand({ cwd: cwd(), json: !!o.json, task: id, remove: !!o.remove })),
    );

  program
    .command('run')
    .description('the pipeline: claim ready tasks at the remote, run the dev agent in each one\'s worktree, verify, review (land.requireApproval) and land, with retries, backoff and a circuit breaker')
    .option('--concurrency <n>', 'tasks worked on at once (default 2)')
    .option('--interval <s>', 'seconds between passes, and the first backoff (default 20)')
    .option('--once', 'one pass: claim up to --concurrency ready tasks, take each as far as it goes, exit')
    .option('--until-idle', 'exit once no task is ready, running (here or elsewhere) or backing off')
    .option('--dry-run', 'say which tasks a pass would claim; claim and run nothing')
    .option('--task-id <task>', 'only this task (exits at once when its circuit is open)')
    .option('--parent <task>', "only this task's subtasks")
    .option('--max-retries <n>', 'failed attempts on one patchset (or before the first) before the task needs help; 0 = unlimited (default 5)')
    .option('--max-iter <n>', 'dev runs per task across all its patchsets; 0 = unlimited (default 80)')
    .option('--timeout <s>', "seconds an agent may run before it is stopped; 0 = none (default 1800)")
    .option('--max-cost <cents>', "cents per task, counted from the cost events in git (every machine's); 0 = unlimited (default)")
    .option('--agent <name>', 'the agent named under agent.commands (default: agent.command)')
    .option('--json', 'print one JSON event per line (see README)')
    .addHelpText('after', examples('omni-ship run --until-idle', 'omni-ship run --concurrency 4 --json', 'omni-ship run --once --task-id t-7 --agent codex') + '\nExit codes: 0 stopped as asked (once, idle), 1 --task-id needs help, 2 bad input, 130 interrupted.\n')
    .action(async (o: { concurrency?: string; interval?: string; once?: boolean; untilIdle?: boolean; dryRun?: boolean; taskId?: string; parent?: string; maxRetries?: string; maxIter?: string; timeout?: string; maxCost?: string; agent?: string; json?: boolean }) =>
      run(!!o.json, async () =>
        (await import('./commands/run.js')).runCommand({ cwd: cwd(), json: !!o.json, concurrency: o.concurrency, interval: o.interval, once: !!o.once, untilIdle: !!o.untilIdle, dryRun: !!o.dryRun, taskId: o.taskId, parent: o.parent, maxRetries: o.maxRetries, maxIter: o.maxIter, timeout: o.timeout, maxCost: o.maxCost, agent: o.agent }),
      ),
    );

  const task = program
    .command('task')
    .description('task records for the pipeline, kept in git (refs/notes/omni-ship/tasks): add, list, show, edit, comment, close, reopen')
    .addHelpText('after', examples('omni-ship task add t-7 --title "login form" --depends-on t-5', 'omni-ship task add --next --title "fix the footer"', 'omni-ship task list --ready'));
  const fieldOptions = (c: Command): Command =>
    c
      .option('--title <text>', 'what the task is, in one line')
      .option('--description <text>', 'what to do, in full')
      .option('-F, --file <path>', 'read the description from a file (- for standard input)')
      .option('--parent <task>', 'the task this one is part of (an epic)')
      .option('--depends-on <task...>', 'tasks that must land before this one (repeatable, or comma-separated)')
      .option('--priority <n>', 'a whole number, lower first (default 2)')
      .option('--namespace <path>', 'the part of the repository the task touches')
      .option('--json', 'print the task record (see README)');
  type FieldOpts = { title?: string; description?: string; file?: string; parent?: string; dependsOn?: string[]; priority?: string; namespace?: string; json?: boolean };
  const fields = (o: FieldOpts) => ({ title: o.title, description: o.description, file: o.file, parent: o.parent, dependsOn: o.dependsOn, priority: o.priority, namespace: o.namespace });
  fieldOptions(
    task
      .command('add')
      .description("create a task's record; --next takes the next free number at the remote (compare-and-swap of refs/omni-ship/seq)")
      .argument('[task]', 'the new task id, such as t-7 (or --next)')
      .option('--next', 'take the next free number at the remote (under --parent: the next subtask number)'),
  )
    .addHelpText('after', examples('omni-ship task add t-7 --title "login form" -F spec.md --priority 1', 'omni-ship task add --next --parent t-7 --title "validate the email field"'))
    .action(async (id: string | undefined, o: FieldOpts & { next?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/task.js')).taskAddCommand({ cwd: cwd(), json: !!o.json, task: id, next: !!o.next, ...fields(o) })),
    );
  fieldOptions(task.command('edit').description("change fields of a task's record (those given)").argument('<task>', 'a task id such as t-7'))
    .addHelpText('after', examples('omni-ship task edit t-7 --priority 0', 'omni-ship task edit t-7 --depends-on t-5 t-6'))
    .action(async (id: string, o: FieldOpts) => run(!!o.json, async () => (await import('./commands/task.js')).taskEditCommand({ cwd: cwd(), json: !!o.json, task: id, ...fields(o) })));
  task
    .command('list')
    .description('the task records, by priority then id: state, priority, title, what blocks each')
    .option('--ready', 'only tasks ready to work on: not landed, not closed, every dependency landed')
    .option('--parent <task>', "only this task's subtasks")
    .option('--json', 'print {"rule", "parent", "tasks"} (see README)')
    .addHelpText('after', examples('omni-ship task list', 'omni-ship task list --ready --json'))
    .action(async (o: { ready?: boolean; parent?: string; json?: boolean }) =>
      run(!!o.json, async () => (await import('./commands/task.js')).taskListCommand({ cwd: cwd(), json: !!o.json, ready: !!o.ready, parent: o.parent })),
    );
  task
    .command('show')
    .description("one task's record: fields, state, comments, attempts that made no commit")
    .argument('<task>', 'a task id such as t-7')
    .option('--json', 'print the record (see README)')
    .action(async (id: string, o: { json?: boolean }) => run(!!o.json, async () => (await import('./commands/task.js')).taskShowCommand({ cwd: cwd(), json: !!o.json, task: id })));
  for (const [name, op, description] of [
    ['comment', 'commented', "add a comment to a task's record"],
    ['close', 'closed', 'close a task (it will not be worked on); closing a closed one changes nothing'],
    ['reopen', 'reopened', 'reopen a closed task, or reset the retry circuit of one that needs help (run works on it again); else nothing changes'],
  ] as const) {
    task
      .command(name)
      .description(description)
      .argument('<task>', 'a task id such as t-7')
      .option('-m, --message <text>', name === 'comment' ? 'the comment' : 'why')
      .option('--json', 'print the record (see README)')
      .action(async (id: string, o: { message?: string; json?: boolean }) =>
        run(!!o.json, async () => (await import('./commands/task.js')).taskNoteCommand({ cwd: cwd(), json: !!o.json, task: id, op, message: o.message })),
      );
  }

  // commander's own errors (unknown command or option, a missing argument) take the form of every other error;
  // they are kept here and reported by main, naming the command whose --help applies
  const configure = (command: Command, prefix: string): void => {
    command.configureOutput({ outputError: (text) => (usage = { prefix, text }) });
    for (const sub of command.commands) configure(sub, `${prefix} ${sub.name()}`);
  };
  configure(program, 'omni-ship');
  return program;
}

/** The CLI entry point: parses argv, runs one command, prints its output, sets the exit code. */
export async function main(argv: string[]): Promise<void> {
  const run = async (json: boolean, runner: Runner) => print(json, await runner());
  const program = buildProgram(run);
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    process.exitCode = ExitCode.usage;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
      if (ok) process.exitCode = ExitCode.ok;
      else if (usage) process.exitCode = report((await import('./usage.js')).usageError(usage.prefix, usage.text, error.code));
      else process.exitCode = ExitCode.usage;
      return;
    }
    process.exitCode = report(error);
  }
}
