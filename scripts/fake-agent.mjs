#!/usr/bin/env node
// A fake coding agent for `omni-ship run` (the tests, `scripts/demo --pipeline` and `scripts/bench pipeline`): a
// real program that does what a real agent does to a repository, decided by the task's text, so every path of the
// pipeline can be driven without a model.
//
//   agent.command: ["node", "scripts/fake-agent.mjs", "{promptFile}", "{taskId}", "{workspace}"]
//
// Lines in the task's description, `fake-agent: <mode>[ <mode>…]`, choose what it does (default: commit):
//   commit        write <task>.txt and commit it, one commit with the trailer (a revision amends it)
//   no-commit     exit 0 without committing
//   fail          exit 3
//   hang          never exit (until it is stopped)
//   two-commits   make two commits
//   cost=N        print {"cost_cents": N} as its last line (agent.costFrom: cost_cents)
//   fail-until=N  exit 3 on its first N-1 runs for the task, then do the rest
//   break-tests   commit a change that the verify step `test ! -e broken` fails, fixed on the revision
//   sleep=S       wait S seconds first
// As the reviewer (a review prompt), it approves with `omni-ship review`, unless `fake-review: request-changes`
// asks for changes to the first patchset.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [promptFile, task, workspace] = process.argv.slice(2);
if (!promptFile || !task || !workspace) {
  process.stderr.write('usage: fake-agent.mjs <promptFile> <taskId> <workspace>\n');
  process.exit(2);
}
// the run that started it may be gone (kill -9): its output then goes nowhere, and it carries on as a real agent would
process.stdout.on('error', () => {});
const prompt = fs.readFileSync(promptFile, 'utf8');
const modes = new Set((prompt.match(/^fake-agent:(.*)$/m)?.[1] ?? 'commit').trim().split(/\s+/));
const value = (name) => [...modes].find((m) => m.startsWith(`${name}=`))?.slice(name.length + 1);
const git = (...args) => execFileSync('git', args, { cwd: workspace, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const revising = /The previous patchset was rejected/.test(prompt);
// the cost line comes last, whatever the run did (a real agent reports what it spent on a failure too)
const reportCost = () => value('cost') && process.stdout.write(`${JSON.stringify({ cost_cents: Number(value('cost')) })}\n`);

if (value('sleep')) await new Promise((r) => setTimeout(r, Number(value('sleep')) * 1000));

if (prompt.startsWith('# Review of task')) {
  const patchset = Number(/\(patchset (\d+)\)/.exec(prompt)?.[1] ?? 1);
  const ask = /^fake-review: request-changes$/m.test(prompt) && patchset === 1;
  execFileSync('omni-ship', ['review', task, ask ? '--request-changes' : '--approve', '-m', ask ? 'please say why in the file' : 'looks right'], { cwd: workspace, stdio: 'inherit' });
  process.exit(0);
}

// this task's runs so far: the prompts omni-ship wrote for it, this one included
const runs = fs.readdirSync(path.dirname(promptFile)).filter((f) => /^prompt-.*\.md$/.test(f)).length;
if (value('fail-until') && runs < Number(value('fail-until'))) {
  process.stdout.write(`run ${runs} of ${task}: failing on purpose\n`);
  reportCost();
  process.exit(3);
}
if (modes.has('hang')) {
  process.stdout.write('hanging\n');
  setInterval(() => {}, 1 << 30);
  await new Promise(() => {});
}
if (modes.has('fail')) {
  reportCost();
  process.exit(3);
}

if (!modes.has('no-commit')) {
  const file = path.join(workspace, `${task}.txt`);
  fs.writeFileSync(file, `${task}: ${revising ? 'revised' : 'first'} work (run ${runs})\n`);
  const paths = [`${task}.txt`];
  if (modes.has('break-tests') && !revising) {
    fs.writeFileSync(path.join(workspace, 'broken'), 'the test fails while this file exists\n');
    paths.push('broken');
  } else if (fs.existsSync(path.join(workspace, 'broken'))) {
    git('rm', '-q', 'broken');
  }
  git('add', '--', ...paths);
  const hasOwn = git('log', '-1', '--format=%B').includes(`Task-Id: ${task}`) && git('rev-parse', '--abbrev-ref', 'HEAD') !== 'HEAD';
  if (revising && hasOwn) git('commit', '-q', '--amend', '--no-edit');
  else git('commit', '-q', '-m', `${task}: the work\n\nTask-Id: ${task}`);
  if (modes.has('two-commits')) {
    fs.appendFileSync(file, 'and a second commit\n');
    git('commit', '-q', '-am', `${task}: more\n\nTask-Id: ${task}`);
  }
}
process.stdout.write(`done with ${task}\n`);
reportCost();
