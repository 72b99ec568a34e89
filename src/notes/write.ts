import { gitRun } from '../git/exec.js';
import { encodeEvent, type OmniEvent } from './events.js';
import { newNotePath, readSomeNotes } from './read.js';

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
 * Appends events to notes in `ref`, losing nothing to concurrent writers. Plain `git notes add` does not check
 * the ref's old value, so 40 concurrent writers lose all but a few notes while each exits 0. Here each attempt
 * reads the tip, writes a notes commit on top of it with `git fast-import`, whose fast-forward-only ref update is
 * a compare-and-swap: if another writer moved the ref meanwhile, it refuses, and this retries with jitter.
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
    const input = fastImportInput(ref, tip, updated, `omni-ship: ${lines} event(s)\n`);
    const r = gitRun(['fast-import', '--quiet', '--date-format=raw'], { cwd, input });
    if (r.exitCode === 0) return lines;
    if (!/Not updating|cannot lock ref|unable to (lock|update)/i.test(r.stderr)) {
      throw new Error(`git fast-import failed writing ${ref}: ${r.stderr.trim().split('\n')[0]}`);
    }
    await sleep(2 + Math.random() * Math.min(200, 5 * (attempt + 1)));
  }
  throw new Error(`gave up writing ${ref} after ${MAX_ATTEMPTS} attempts: too many concurrent writers`);
}
