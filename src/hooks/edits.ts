import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { blockIn } from './block.js';
import { BLOCK_BEGIN, BLOCK_END } from './templates.js';

/**
 * Whether a file omni-ship wrote still holds what it wrote. `untouched`: omni-ship may replace or remove it.
 * `edited`: its bytes differ from the hash recorded when omni-ship wrote it. `unrecorded`: no hash was recorded (an
 * install by a version that kept none) and it is not what this version writes either, so an edit cannot be told
 * from an older template: it is treated as the user's.
 */
export type OwnFileState = 'untouched' | 'edited' | 'unrecorded';

/** sha256 (hex) of the bytes omni-ship writes: what the manifest records per file. */
export function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The state of omni-ship's own file `file` (which exists), given the hash recorded when it was written and, when
 * known, `render`: what this version would write there now (an install without a hash counts as untouched only
 * when the file holds exactly that).
 */
export function ownFileState(file: string, recorded: string | undefined, render: string | null): OwnFileState {
  const bytes = fs.readFileSync(file);
  if (recorded !== undefined) return sha256(bytes) === recorded ? 'untouched' : 'edited';
  return render !== null && bytes.equals(Buffer.from(render)) ? 'untouched' : 'unrecorded';
}

/**
 * The state of omni-ship's block in a hook file's `text`: `absent` when no line of it is left; `untouched` when it
 * is one of `ours` (the block omni-ship wrote there, or the one this version writes: a teammate's identical
 * install, in a committed file); otherwise `edited`, or `unrecorded` when there is no record of what was written.
 */
export function blockState(text: string, written: string | null, render: string): OwnFileState | 'absent' {
  const found = blockIn(text);
  if (found === null) return 'absent';
  const recorded = written === null ? null : blockIn(written);
  if (found !== 'broken' && (found === render || found === recorded)) return 'untouched';
  return written === null ? 'unrecorded' : 'edited';
}

/** The command the user runs again once they have dealt with a changed file. */
type Command = 'install-hooks' | 'uninstall-hooks';

/** The first words of the block's first line, short enough for a message. */
const BLOCK_OPENS = BLOCK_BEGIN.split(' ').slice(0, 4).join(' ');

/** Why a changed file is left as it is, to follow its path in a message. */
export function changedReason(why: Exclude<OwnFileState, 'untouched'>): string {
  return why === 'edited'
    ? 'changed after install-hooks wrote it'
    : 'is not what this version of omni-ship writes, and the install that wrote it recorded no hash (an edit, or an older omni-ship’s template: omni-ship cannot tell)';
}

/**
 * What to do with omni-ship's own hook file `target` that someone changed, before install-hooks runs again: keep the
 * lines in a hook of the user's own, which omni-ship chains (`chained` when there is one, else `slot`, where
 * install-hooks moves a hook of the user's), or drop them.
 */
export function reinstallFileHint(target: string, why: Exclude<OwnFileState, 'untouched'>, chained: string | null, slot: string): string {
  const unsure = why === 'unrecorded' ? 'if you did not change it, delete it and run install-hooks again; otherwise ' : '';
  if (chained) return `${unsure}to keep your lines, add them to ${chained}, which omni-ship runs after its own hook; then delete ${target} and run install-hooks again`;
  return (
    `${unsure}to keep your lines, replace ${target} with a hook of your own holding only them (install-hooks keeps it as ${slot} ` +
    `and runs it after its own); to drop them, delete ${target}; then run install-hooks again`
  );
}

/** What to do with omni-ship's own hook file `target` that someone changed, before uninstall-hooks runs again. */
export function uninstallFileHint(target: string, why: Exclude<OwnFileState, 'untouched'>, chained: string | null): string {
  const unsure = why === 'unrecorded' ? 'if you did not change it, delete it and run uninstall-hooks again; otherwise ' : '';
  const first = chained ? ` (the hook that was there before omni-ship is ${chained}: uninstall-hooks puts it back)` : '';
  return `${unsure}keep what you need of your change${first}, delete ${target}, then run uninstall-hooks again`;
}

/** What to do with omni-ship's script in the git dir (block mode), called from the block in `target`, that someone changed. */
export function scriptHint(script: string, target: string, why: Exclude<OwnFileState, 'untouched'>, command: Command): string {
  const unsure = why === 'unrecorded' ? 'if you did not change it, just delete it; otherwise ' : '';
  return `${unsure}keep what you need of it in ${target}, outside omni-ship's block; delete ${script}; then run ${command} again`;
}

/** What to do with a hook file whose omni-ship block someone changed. */
export function blockHint(target: string, command: Command): string {
  const take = `take omni-ship's block (the lines from "${BLOCK_OPENS}" to "${BLOCK_END}") out of ${target}, keeping your own lines outside it`;
  return command === 'install-hooks' ? `${take}; then run install-hooks again, which adds the block back` : `${take}; then run uninstall-hooks again`;
}
