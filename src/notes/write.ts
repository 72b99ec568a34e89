import { gitRun } from '../git/exec.js';
import { encodeEvent, type OmniEvent } from './events.js';
import { newNotePath, readSomeNotes } from './read.js';
import { TMP_REF_PREFIX } from './refs.js';

const ZERO_OID = '0'.repeat(40);

/** Events to append to one object's note. */
export interface NoteAppend {
  object: string;
  events: OmniEvent[];
}

/** Decides whether a new event adds nothing to what the note already holds (then it is not written). */
export type Redundant = (existing: readonly string[], event: OmniEvent) => boolean;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Attempts before a write gives up: 40 writers racing need a few dozen rounds at worst. */
const MAX_ATTEMPTS = 200;

/** A fast-import stream that commits `notes` (tree path → text) on top of `tip` in `ref`. */
export function fastImportInput(ref: string, tip: string | null, notes: Map<string, string>, message: string, merge?: string): Buffer {
  const parts: Buffer[] = [];
  const msg = Buffer.from(message);
  const now = Math.floor(Date.now() / 1000);
  parts.push(Buffer.from(`commit ${ref}\ncommitter omni-ship <omni-ship@localhost> ${now} +0000\ndata ${msg.length}\n`), msg, Buffer.from('\n'));
  if (tip) parts.push(Buffer.from(`from ${tip}\n`));
  if (merge) parts.push(Buffer.from(`merge ${merge}\n`));
  for (const [path, text] of notes) {
    const data = Buffer.from(text);
    parts.push(Buffer.from(`M 100644 inline ${path}\ndata ${data.length}\n`), data, Buffer.from('\n'));
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/**
 * Commits `notes` (tree path → text) on top of `tip` (null: a new ref) and moves `ref` there only if it still
 * points at `tip`: the commit is written with `git fast-import` to a private ref under refs/omni-ship/tmp/, then
 * one `git update-ref --stdin` transaction moves the real ref from `tip` to it and deletes the private ref. Plain
 * `git notes add` does not check the ref's old value (40 concurrent writers lose all but a few notes while each
 * exits 0). Returns false when another writer moved the ref first (nothing changed; the caller reads and retries).
 */
export function commitNotesCas(cwd: string, ref: string, tip: string | null, notes: Map<string, string>, message: string, merge?: string): boolean {
  const tmp = `${TMP_REF_PREFIX}${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const input = fastImportInput(tmp, tip, notes, message, merge);
  const written = gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input });
  if (written.exitCode !== 0) {
    gitRun(['update-ref', '-d', tmp], { cwd });
    throw new Error(`git fast-import failed writing ${ref}: ${written.stderr.trim().split('\n')[0]}`);
  }
  const moved = gitRun(['update-ref', '--stdin'], { cwd, input: `update ${ref} ${tmp} ${tip ?? ZERO_OID}\ndelete ${tmp}\n` });
  if (moved.exitCode === 0) return true;
  gitRun(['update-ref', '-d', tmp], { cwd });
  if (!/cannot lock ref|is at .* but expected|reference already exists|unable to (lock|update)/i.test(moved.stderr)) {
    throw new Error(`git update-ref ${ref} failed: ${moved.stderr.trim().split('\n')[0]}`);
  }
  return false;
}

/**
 * Appends events to notes in `ref`, losing nothing to concurrent writers: each attempt reads the tip, adds the
 * lines that are missing and moves the ref with commitNotesCas; a lost race retries with jitter.
 * Returns how many lines were written (0 when every event was already there).
 */
export async function appendEvents(cwd: string, ref: string, appends: readonly NoteAppend[], redundant?: Redundant): Promise<number> {
  const objects = [...new Set(appends.map((a) => a.object))];
  if (objects.length === 0) return 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const tipRun = gitRun(['rev-parse', '-q', '--verify', `${ref}^{commit}`], { cwd });
    const tip = tipRun.exitCode === 0 ? tipRun.stdout.trim() : null;
    const existing = tip ? await readSomeNotes(cwd, tip, objects) : new Map<string, { text: string; path: string }>();
    const updated = new Map<string, string>();
    let lines = 0;
    for (const object of objects) {
      const found = existing.get(object);
      const text = found?.text ?? '';
      const have = text.split('\n').filter((l) => l !== '');
      const added: string[] = [];
      for (const a of appends) {
        if (a.object !== object) continue;
        for (const event of a.events) {
          const line = encodeEvent(event);
          if (have.includes(line) || added.includes(line)) continue;
          if (redundant?.([...have, ...added], event)) continue;
          added.push(line);
        }
      }
      if (added.length === 0) continue;
      lines += added.length;
      // keep every existing byte (bad lines included: they are never deleted), then the new lines
      const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
      updated.set(found?.path ?? newNotePath(object), `${base}${added.join('\n')}\n`);
    }
    if (updated.size === 0) return 0;
    if (commitNotesCas(cwd, ref, tip, updated, `omni-ship: ${lines} event(s)\n`)) return lines;
    await sleep(2 + Math.random() * Math.min(200, 5 * (attempt + 1)));
  }
  throw new Error(`gave up writing ${ref} after ${MAX_ATTEMPTS} attempts: too many concurrent writers`);
}
