import { tryTaskId, type TaskId, type TaskPatterns } from '../ids.js';

/**
 * What a commit's task trailers say about its task:
 * - `none`: no trailer at all, so the branch it is on decides;
 * - `task`: exactly one distinct valid id (written once or more, in any case);
 * - `bad`: a value that is not a valid task id (`Task-Id: nope`, an empty one), or several different ids. Such a
 *   commit belongs to no task: not the branch's (the message says otherwise), and not any id it names.
 */
export type TrailerClaim = { kind: 'none' } | { kind: 'task'; task: TaskId } | { kind: 'bad'; reason: string };

const ENTRY = '\x1d';
const VALUE = '\x1c';

/**
 * The `git log --format` placeholder for a commit's trailers with key `trailerKey`, each as key, \x1c, value, joined
 * by \x1d. Keys are printed, not just values, so that an empty `Task-Id:` is seen (valueonly prints nothing for it,
 * exactly as for no trailer).
 */
export function trailerPlaceholder(trailerKey: string): string {
  return `%(trailers:key=${trailerKey},separator=%x1d,key_value_separator=%x1c)`;
}

/** The values of the trailers trailerPlaceholder printed (an empty value stays, as ''). */
export function trailerValues(field: string): string[] {
  if (field.trim() === '') return [];
  return field.split(ENTRY).map((entry) => {
    const at = entry.indexOf(VALUE);
    return (at < 0 ? entry : entry.slice(at + 1)).trim();
  });
}

/**
 * The values of a message's trailers with key `trailerKey` (any case), as git's `%(trailers:key=…)` gives them, for
 * the messages whose trailers plainly read: the last paragraph (not the first, the title) is trailers, every line
 * `Key: value` or `Key:value`, or it holds no line git could take for one (none then). Null where git reads with rules this does not follow (a line of that paragraph that
 * is no such trailer, a continuation line, a comment or `---` line, a carriage return, a message of one
 * paragraph): the caller asks git. With no git trailer settings only (trailer.separators and the like).
 */
export function plainTrailerValues(message: string, trailerKey: string): string[] | null {
  if (message.includes('\r')) return null;
  const lines = message.split('\n');
  if (lines.some((l) => l.startsWith('#') || l.startsWith('---'))) return null;
  const blank = (l: string) => l.trim() === '';
  let end = lines.length;
  while (end > 0 && blank(lines[end - 1]!)) end--;
  let start = end;
  while (start > 0 && !blank(lines[start - 1]!)) start--;
  // the title: the first paragraph, which is never trailers
  let title = 0;
  while (title < lines.length && blank(lines[title]!)) title++;
  if (start <= title) return null;
  const paragraph = lines.slice(start, end);
  // no line that git could take for a trailer (a token, maybe blanks, then the colon): no trailers at all
  if (!paragraph.some((l) => /^[A-Za-z0-9-]+[ \t]*:/.test(l))) return [];
  const values: string[] = [];
  const key = trailerKey.toLowerCase();
  for (const line of paragraph) {
    const m = /^([A-Za-z0-9-]+):(.*)$/.exec(line);
    if (!m) return null;
    if (m[1]!.toLowerCase() === key) values.push(m[2]!.trim());
  }
  return values;
}

/** Which task a commit claims by its trailer values (see TrailerClaim). */
export function trailerClaim(values: readonly string[], patterns: Pick<TaskPatterns, 'taskPattern'>, trailerKey = 'Task-Id'): TrailerClaim {
  if (values.length === 0) return { kind: 'none' };
  const ids = new Set<TaskId>();
  for (const value of values) {
    const id = tryTaskId(value, patterns);
    if (!id) return { kind: 'bad', reason: `its ${trailerKey} '${value}' is not a valid task id` };
    ids.add(id);
  }
  if (ids.size > 1) return { kind: 'bad', reason: `it names several tasks (${[...ids].join(', ')})` };
  return { kind: 'task', task: [...ids][0]! };
}
