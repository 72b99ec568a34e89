import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentProblem, agentWithDefaults, chosenAgent } from '../../src/config/agent.js';
import { parseYamlConfig } from '../../src/config/parse.js';
import { UserError } from '../../src/errors.js';
import { devPrompt, renderTemplate, reviewPrompt } from '../../src/pipeline/prompt.js';
import { projectRoot } from '../helpers/repo.js';

describe('the agent config key', () => {
  it('takes argv lists, named agents and a cost field; refuses anything else, naming the sub-key', () => {
    expect(agentProblem({})).toBeNull();
    expect(agentProblem({ command: ['claude', '-p', '{promptFile}'], commands: { aider: ['aider', '--message-file', '{promptFile}'] }, costFrom: 'usage.cents' })).toBeNull();
    const bad: [unknown, RegExp][] = [
      ['claude -p', /must be an object of agent settings/],
      [{ command: 'claude -p {promptFile}' }, /command must be a list of arguments \(the program first\), not the string .*: it runs with no shell/],
      [{ command: [] }, /command is an empty list/],
      [{ command: ['', '-p'] }, /command has an empty program/],
      [{ command: ['claude', 3] }, /command must hold strings, not number 3/],
      [{ commands: { 'a b': ['x'] } }, /commands: "a b" is not a name/],
      [{ commands: { codex: 'codex' } }, /commands\.codex must be a list of arguments/],
      [{ costFrom: 'usage cost' }, /costFrom must be a field name/],
      [{ model: 'x' }, /unknown key 'model' \(known: command, commands, costFrom\)/],
    ];
    for (const [value, message] of bad) expect(agentProblem(value), JSON.stringify(value)).toMatch(message);
  });

  it('defaults every key, and chooses the agent to run: the named one, else the default, else says how to set one', () => {
    expect(agentWithDefaults({})).toEqual({ command: null, commands: {}, costFrom: null });
    const config = agentWithDefaults({ command: ['claude', '-p', 'x'], commands: { aider: ['aider'] } });
    expect(chosenAgent(config)).toEqual({ name: 'default', argv: ['claude', '-p', 'x'] });
    expect(chosenAgent(config, 'aider')).toEqual({ name: 'aider', argv: ['aider'] });
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as UserError;
      }
      throw new Error('no refusal');
    };
    const unknown = refusal(() => chosenAgent(config, 'codex'));
    expect([unknown.message, unknown.hint, unknown.exitCode]).toEqual(['no agent named "codex" in agent.commands', 'known: aider', 2]);
    const none = refusal(() => chosenAgent(agentWithDefaults({})));
    expect([none.message, none.exitCode]).toEqual(['no agent configured: agent.command is not set', 2]);
  });

  it("the shipped examples are valid agent settings (templates/agents.example.yaml)", async () => {
    const file = path.join(projectRoot, 'templates', 'agents.example.yaml');
    const examples = (await parseYamlConfig(file, fs.readFileSync(file, 'utf8'))) as { agent: unknown };
    expect(agentProblem(examples.agent)).toBeNull();
    expect(Object.keys(agentWithDefaults(examples.agent).commands).length).toBeGreaterThan(2);
  });
});

describe('agent prompts (templates/dev.md, templates/review.md)', () => {
  it('replace each {{name}} once: a value that holds {{…}} is not read again; an unknown name stays', () => {
    expect(renderTemplate('a {{x}} b {{y}} {{nope}}', { x: '{{y}}', y: 'Y' })).toBe('a {{y}} b Y {{nope}}');
  });

  it('the dev prompt names the task, its branch, the one-commit rule, the trailer and the feedback of the last rejection', () => {
    const base = { taskId: 't-7', title: 'login form', description: 'Build it.\n', branch: 't-7', baseBranch: 'main', workspace: '/w/t-7', patchset: 1, trailer: 'Task-Id: t-7', feedback: null };
    const first = devPrompt(base);
    expect(first).toContain('# Task t-7: login form');
    expect(first).toContain('Build it.');
    expect(first).toContain('on branch t-7');
    expect(first).toContain('Make exactly one commit on branch t-7 on top of main');
    expect(first).toContain('`Task-Id: t-7`');
    expect(first).not.toContain('rejected');
    expect(first).not.toMatch(/\{\{|\n\n\n/);
    const again = devPrompt({ ...base, patchset: 2, feedback: 'verify failed in step test (exit 1):\nexpected 2, got 3' });
    expect(again).toContain('This is patchset 2');
    expect(again).toContain('## The previous patchset was rejected\n\nverify failed in step test (exit 1):\nexpected 2, got 3\n');
    // a description with template syntax is text, not a field
    expect(devPrompt({ ...base, description: 'print {{trailer}} literally' })).toContain('print {{trailer}} literally');
  });

  it('the review prompt names the commit and the two verdict commands', () => {
    const p = reviewPrompt({ taskId: 't-7', title: 'login form', description: null, commit: 'abc123', patchset: 3, branch: 't-7', baseBranch: 'main', workspace: '/w/t-7' });
    expect(p).toContain('Review the commit abc123 (patchset 3)');
    expect(p).toContain('omni-ship review t-7 --approve');
    expect(p).toContain('omni-ship review t-7 --request-changes');
    expect(p).not.toContain('{{');
  });
});
