import { ExitCode, UserError } from './errors.js';

/** A task id no branch, trailer or note of this repository names: the same refusal for every command (exit 2). */
export function unknownTask(id: string): UserError {
  return new UserError(`no task ${id} here: no branch, trailer or note names it`, ExitCode.usage, 'omni-ship status lists the tasks this repository knows');
}
