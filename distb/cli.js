import {
  packageVersion
} from "./chunk-ZPUHQCBY.js";
import {
  GitError
} from "./chunk-T3IP3O65.js";
import {
  ExitCode,
  UserError
} from "./chunk-LF3CXZX6.js";

// dist/cli.js
import fs from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
function examples(...lines) {
  return `
Examples:
${lines.map((l) => `  $ ${l}`).join("\n")}
`;
}
function directoryFrom(program) {
  const chain = program.opts().C ?? [];
  let dir = process.cwd();
  for (const step of chain) {
    dir = path.resolve(dir, step);
    let ok = false;
    try {
      ok = fs.statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UserError(`cannot change to '${step}': no such directory`, ExitCode.usage);
  }
  return dir;
}
function report(error) {
  if (error instanceof UserError) {
    process.stderr.write(`omni-ship: ${error.message}
`);
    if (error.hint)
      process.stderr.write(`hint: ${error.hint}
`);
    return error.exitCode;
  }
  if (error instanceof GitError) {
    process.stderr.write(`omni-ship: ${error.message}
`);
    return ExitCode.internal;
  }
  const e = error;
  process.stderr.write(`omni-ship: internal error: ${e?.message ?? String(error)}
`);
  if (process.env.OMNI_SHIP_DEBUG && e?.stack)
    process.stderr.write(`${e.stack}
`);
  return ExitCode.internal;
}
var usage = null;
function buildProgram(run) {
  const program = new Command("omni-ship");
  const cwd = () => directoryFrom(program);
  program.description("one commit per task: develop, verify, land, with git as the database").version(packageVersion(), "-V, --version", "print the version").helpOption("-h, --help", "show help").option("-C <path>", "run as if omni-ship was started in <path> (repeatable, like git -C)", (v, prev = []) => [...prev, v]).exitOverride().showSuggestionAfterError(true).addHelpText("after", examples("npx omni-ship install-hooks", 'git switch -c t-565 && git commit -m "login form"', "omni-ship trailer t-565", "omni-ship config --json") + "\nExit codes: 0 ok, 1 refused, 2 bad usage or input, 3 conflict or lost race, 70 internal error.\n");
  program.command("install-hooks").description("install the commit-msg, post-commit, post-rewrite and post-merge hooks (chains existing hooks)").option("--dry-run", "print what would change, change nothing").option("--json", "print the result as JSON").addHelpText("after", examples("npx omni-ship install-hooks", "omni-ship install-hooks --dry-run", "omni-ship -C ../other-repo install-hooks")).action(async (o) => run(!!o.json, async () => (await import("./install-hooks-TYCNNMEN.js")).installHooksCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })));
  program.command("uninstall-hooks").description("remove omni-ship hooks and config, restoring what was there before byte for byte").option("--dry-run", "print what would change, change nothing").option("--json", "print the result as JSON").addHelpText("after", examples("omni-ship uninstall-hooks", "omni-ship uninstall-hooks --dry-run")).action(async (o) => run(!!o.json, async () => (await import("./uninstall-hooks-RTHDTDDA.js")).uninstallHooksCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })));
  program.command("trailer").description('print the trailer line for a task, e.g. "Task-Id: t-565"').argument("<task>", "a task id such as t-565 or t-565.2 (case-insensitive)").option("--json", 'print {"taskId", "trailer"}').addHelpText("after", examples("omni-ship trailer t-565", "omni-ship trailer T-565.2 --json", 'git commit -m "fix" -m "$(omni-ship trailer t-565)"')).action(async (task, o) => run(!!o.json, async () => (await import("./trailer-H24IXHBC.js")).trailerCommand({ cwd: cwd(), json: !!o.json, task })));
  program.command("config").description("print the effective configuration and where each value comes from").option("--json", 'print {"file", "values": {key: {value, source, detail}}, "ignored", "warnings"}').addHelpText("after", examples("omni-ship config", "omni-ship config --json")).action(async (o) => run(!!o.json, async () => (await import("./config-5E7FV4JI.js")).configCommand({ cwd: cwd(), json: !!o.json })));
  program.command("init").description("write a commented .omni-shiprc.yaml at the repository root").option("--dry-run", "print the file instead of writing it").option("--json", 'print {"file", "written", "content"}').addHelpText("after", examples("omni-ship init", "omni-ship init --dry-run")).action(async (o) => run(!!o.json, async () => (await import("./init-6TZ7AP7W.js")).initCommand({ cwd: cwd(), json: !!o.json, dryRun: !!o.dryRun })));
  program.command("status").description("list every task: state, branch, head, patchsets, verify, review, landing; with counts per state").option("--json", 'print {"base", "counts", "tasks": [...]} (see README)').option("--state <state>", "only tasks in this state (in-progress, verifying, failed, verified, approved, landed, needs-help, diverged)").option("--parent <task>", "only this task and its subtasks (t-565 shows t-565.1, t-565.2, \u2026)").option("--task <task>", "only this task").addHelpText("after", examples("omni-ship status", "omni-ship status --state failed", "omni-ship status --parent t-565 --json")).action(async (o) => run(!!o.json, async () => (await import("./status-GG3XWKGM.js")).statusCommand({ cwd: cwd(), json: !!o.json, state: o.state, parent: o.parent, task: o.task })));
  program.command("show").description("one task's whole history: patchsets, verify results, reviews, attempts and the landing").argument("<task>", "a task id such as t-565").option("--json", "print the history as JSON (see README)").addHelpText("after", examples("omni-ship show t-565", "omni-ship show t-565 --json")).action(async (task, o) => run(!!o.json, async () => (await import("./show-IDIC5E3W.js")).showCommand({ cwd: cwd(), json: !!o.json, task })));
  program.command("review").description("record a review verdict on the task's current commit (its current patchset)").argument("<task>", "a task id such as t-565").option("--approve", "approve this patchset").option("--request-changes", "send it back for changes").option("-m, --message <text>", "a comment to go with the verdict").option("--json", "print the recorded event").addHelpText("after", examples("omni-ship review t-565 --approve", 'omni-ship review t-565 --request-changes -m "handle the empty list"')).action(async (task, o) => run(!!o.json, async () => (await import("./review-YXLXGFYZ.js")).reviewCommand({
    cwd: cwd(),
    json: !!o.json,
    task,
    approve: !!o.approve,
    requestChanges: !!o.requestChanges,
    message: o.message
  })));
  program.command("patchset").description("show a task's patchset count; --increment records the task branch's tip as a patchset").argument("<task>", "a task id such as t-565").option("--increment", "record the current task-branch tip (idempotent for the same commit)").option("--json", 'print {"taskId", "patchsetCount", "incremented", "trailer"}').addHelpText("after", examples("omni-ship patchset t-565", "omni-ship patchset t-565 --increment --json")).action(async (task, o) => run(!!o.json, async () => (await import("./patchset-BYPAORHK.js")).patchsetCommand({ cwd: cwd(), json: !!o.json, task, increment: !!o.increment })));
  program.command("sync").description("fetch, merge (set union) and push omni-ship's notes and patchset refs with a remote").argument("[remote]", "the remote (default: the configured remote, origin)").option("--dry-run", "fetch and report what would merge and push; change no local notes and push nothing").option("--json", 'print {"remote", "merged", "restored", "updatedLocal", "pushed", "skipped", "rounds", "dryRun"} (see README)').addHelpText("after", examples("omni-ship sync", "omni-ship sync upstream --dry-run")).action(async (remote, o) => run(!!o.json, async () => (await import("./sync-UXVJBICK.js")).syncCommand({ cwd: cwd(), json: !!o.json, remote, dryRun: !!o.dryRun })));
  program.command("verify").description("does this commit's tree pass the team's checks? the cached answer, or the steps run in a private worktree").argument("[target]", "a task id (its head commit) or any commit; default HEAD").option("--force", "run the steps even when an answer is cached").option("--background", "start the run detached and return at once (a cached answer prints at once)").option("--spec-from-commit", "verify under the commit's own spec instead of the base branch's (recorded under that spec's hash)").option("--prune", "remove idle pool worktrees and logs older than verify.pruneAfterDays, then exit").option("--json", "print the answer as JSON (see README)").addHelpText("after", examples("omni-ship verify", "omni-ship verify t-565", "omni-ship verify HEAD~1 --json", "omni-ship verify t-565 --spec-from-commit", "omni-ship verify --prune") + "\nExit codes: 0 pass or skip, 1 fail, 2 bad usage or no steps configured, 75 indeterminate (timed out, killed, could not run: try again).\n").action(async (target, o) => run(!!o.json, async () => {
    if (o.prune) {
      if (target !== void 0 || o.force || o.background || o.specFromCommit)
        throw new UserError("--prune takes no target and no other option", ExitCode.usage, "omni-ship verify --prune [--json]");
      return (await import("./verify-prune-BWDM3ASF.js")).verifyPruneCommand({ cwd: cwd(), json: !!o.json });
    }
    return (await import("./verify-UQZ4XRGD.js")).verifyCommand({
      cwd: cwd(),
      json: !!o.json,
      target,
      force: !!o.force,
      background: !!o.background,
      specFromCommit: !!o.specFromCommit
    });
  }));
  program.command("logs").description("print the verify log of a task's head commit (or any commit) kept on this machine").argument("[target]", "a task id or a commit; default HEAD").option("-f, --follow", "keep printing while the run goes on; exit when it ends").option("--all", "list every log of the target instead of printing the newest").option("--json", 'print {"target", "commit", "tree", "logs": [...]} (see README)').addHelpText("after", examples("omni-ship logs t-565", "omni-ship logs t-565 --follow", "omni-ship logs HEAD --all --json")).action(async (target, o) => run(!!o.json, async () => (await import("./logs-F25Q56VL.js")).logsCommand({ cwd: cwd(), json: !!o.json, target, follow: !!o.follow, all: !!o.all })));
  program.command("hook", { hidden: true }).description("internal: what the installed hooks run in the background").argument("<name>", "drain | refresh-config | post-commit | post-rewrite | post-merge | verify").argument("[args...]", "the hook arguments").option("--common-dir <dir>", "the common git dir (set by the hooks)").option("--task <task>", "verify: the task the commit is a patchset of").option("--force", "verify: run even when a result is cached").option("--spec-from-commit", "verify: use the commit's own spec").allowUnknownOption(false).addHelpText("after", examples("omni-ship hook drain", "omni-ship hook refresh-config", "omni-ship hook post-commit")).action(async (name, args, o) => run(false, async () => {
    (await import("./config-F3TEIDAA.js")).forbidUntrustedConfigCode();
    return (await import("./hook-RG6C4QJ7.js")).hookCommand({
      cwd: cwd(),
      json: false,
      name,
      args,
      commonDir: o.commonDir,
      task: o.task,
      force: o.force,
      specFromCommit: o.specFromCommit
    });
  }));
  for (const command of [program, ...program.commands]) {
    const prefix = command === program ? "omni-ship" : `omni-ship ${command.name()}`;
    command.configureOutput({ outputError: (text) => usage = { prefix, text } });
  }
  return program;
}
async function main(argv) {
  const run = async (json, runner) => {
    const out = await runner();
    for (const w of out.warnings ?? [])
      process.stderr.write(`omni-ship: ${w}
`);
    if (json)
      process.stdout.write(`${JSON.stringify(out.data, null, 2)}
`);
    else if (out.text)
      process.stdout.write(out.text.endsWith("\n") ? out.text : `${out.text}
`);
    process.exitCode = out.exitCode ?? ExitCode.ok;
  };
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
      const ok = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code);
      if (ok)
        process.exitCode = ExitCode.ok;
      else if (usage)
        process.exitCode = report((await import("./usage-4HARHKDP.js")).usageError(usage.prefix, usage.text, error.code));
      else
        process.exitCode = ExitCode.usage;
      return;
    }
    process.exitCode = report(error);
  }
}
export {
  buildProgram,
  main
};
