import { ExitCode, UserError } from './errors.js';

/**
 * Turns commander's error text ("error: unknown option '--x'\n(Did you mean --y?)") into omni-ship's own form:
 * what happened, and a hint (the suggestion, and where the usage is listed). `command` is the command line
 * prefix whose help applies ("omni-ship" or "omni-ship status"); `code` is commander's error code.
 */
export function usageError(command: string, text: string, code: string): UserError {
  const [first = '', ...rest] = text.trim().split('\n');
  const suggestion = /^\(Did you mean (.*)\?\)$/.exec(rest.join(' ').trim())?.[1];
  const message = first
    .replace(/^error: /, '')
    // "too many arguments for 'x'. Expected 1 argument but got 2.": one sentence, lower-case, as ours are
    .replace(/\. ([A-Z])/g, (_m, c: string) => `: ${c.toLowerCase()}`)
    .replace(/\.$/, '');
  const where =
    code === 'commander.unknownCommand'
      ? `${command} --help lists the commands`
      : code === 'commander.unknownOption'
        ? `${command} --help lists its options`
        : `${command} --help shows how to call it`;
  return new UserError(message, ExitCode.usage, suggestion ? `did you mean ${suggestion}? (${where})` : where);
}
