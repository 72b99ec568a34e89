import { ExitCode, UserError } from '../errors.js';
import { describe, isObject } from './values.js';

/**
 * The `agent` settings: the coding agent `omni-ship run` starts in a task's worktree, as an argv array (never a
 * shell line), with `{promptFile}`, `{taskId}` and `{workspace}` replaced in each argument. `command` is the
 * default agent, `commands.<name>` the named ones `run --agent <name>` picks; `costFrom` names the field of a JSON
 * object on the agent's last line of output that holds what the run cost, in cents.
 */
export interface AgentConfig {
  command: string[] | null;
  commands: Record<string, string[]>;
  costFrom: string | null;
}

/** The defaults of every `agent` key: no agent until the team names one. */
export const AGENT_DEFAULTS: AgentConfig = { command: null, commands: {}, costFrom: null };


/** Why `argv` is not an agent's command line, or null. */
function argvProblem(argv: unknown): string | null {
  if (!Array.isArray(argv)) return `must be a list of arguments (the program first), not ${describe(argv)}: it runs with no shell`;
  if (argv.length === 0) return 'is an empty list: it needs the program at least';
  for (const a of argv) {
    if (typeof a !== 'string') return `must hold strings, not ${describe(a)}`;
    if (a.includes('\0')) return 'must not hold a NUL';
  }
  if ((argv[0] as string).trim() === '') return 'has an empty program';
  return null;
}

/** Why `value` is not a valid `agent` object, or null; names the sub-key. */
export function agentProblem(value: unknown): string | null {
  if (!isObject(value)) return `must be an object of agent settings, not ${describe(value)}`;
  for (const [key, v] of Object.entries(value)) {
    if (!Object.hasOwn(AGENT_DEFAULTS, key)) return `has an unknown key '${key}' (known: ${Object.keys(AGENT_DEFAULTS).join(', ')})`;
    if (key === 'command') {
      if (v === null) continue;
      const p = argvProblem(v);
      if (p) return `command ${p}`;
    } else if (key === 'commands') {
      if (!isObject(v)) return `commands must be an object of named agents, not ${describe(v)}`;
      for (const [name, argv] of Object.entries(v)) {
        if (!/^[A-Za-z0-9._-]+$/.test(name)) return `commands: ${JSON.stringify(name)} is not a name (letters, digits, '.', '_', '-')`;
        const p = argvProblem(argv);
        if (p) return `commands.${name} ${p}`;
      }
    } else if (key === 'costFrom') {
      if (v === null) continue;
      if (typeof v !== 'string' || !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(v)) return `costFrom must be a field name (a.b for a nested one) or null, not ${describe(v)}`;
    }
  }
  return null;
}

/** The validated `agent` object with every missing key defaulted (call agentProblem first). */
export function agentWithDefaults(value: unknown): AgentConfig {
  const v = (isObject(value) ? value : {}) as Partial<AgentConfig>;
  const commands: Record<string, string[]> = {};
  for (const [name, argv] of Object.entries(v.commands ?? {})) commands[name] = [...argv];
  return { command: v.command ? [...v.command] : null, commands, costFrom: v.costFrom ?? null };
}

/** The argv of the agent to run: `commands.<name>` when a name is given, else `command`. Exit 2 when there is none. */
export function chosenAgent(agent: AgentConfig, name?: string): { name: string; argv: string[] } {
  const known = Object.keys(agent.commands).sort();
  if (name !== undefined) {
    const argv = agent.commands[name];
    if (!argv) throw new UserError(`no agent named ${JSON.stringify(name)} in agent.commands`, ExitCode.usage, known.length ? `known: ${known.join(', ')}` : 'name one under agent.commands in the config');
    return { name, argv: [...argv] };
  }
  if (!agent.command) {
    throw new UserError('no agent configured: agent.command is not set', ExitCode.usage, known.length ? `set agent.command, or pick one with --agent (${known.join(', ')})` : 'set agent.command in the config (templates/agents.example.yaml has examples)');
  }
  return { name: 'default', argv: [...agent.command] };
}

/** One line for `omni-ship config`: the default agent's program, the named ones, where the cost comes from. */
export function agentSummary(a: AgentConfig): string {
  const names = Object.keys(a.commands).sort();
  return [a.command ? `runs ${a.command[0]}` : 'no default agent', ...(names.length ? [`named: ${names.join(', ')}`] : []), ...(a.costFrom ? [`cost from ${a.costFrom}`] : [])].join('; ');
}
