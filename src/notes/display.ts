/**
 * The human-readable notes `git log` shows: one short note per landed commit, like Gerrit's review notes, in
 * DISPLAY_REF. Prose, not an event log: a note is kept in whole paragraphs, never split into sorted lines (the
 * JSON-lines logs under refs/notes/omni-ship/ merge that way; this ref lies outside them for that reason).
 */
import { readSomeNotes, newNotePath } from './read.js';
import { DISPLAY_REF } from './refs.js';
import type { NoteMerge } from './union.js';
import { commitNotesCas, commitNotesDirect, readNotesTip, type KnownNotes } from './write.js';

export { DISPLAY_REF } from './refs.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Attempts before a display write gives up. One note per landed commit, so few writers ever race; 20 processes
 * writing at once on a loaded 2-core machine needed at most 12 (the backoff below scales with an attempt's time).
 */
const MAX_ATTEMPTS = 30;
/** The longest pause between two attempts. */
const MAX_BACKOFF_MS = 2000;
const FULL_OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Whether a line is blank: nothing but whitespace. */
const isBlank = (line: string) => line.trim() === '';

/** The paragraphs of a note: runs of lines that are not blank, each joined back with newlines. */
export function paragraphs(text: string): string[] {
  const out: string[] = [];
  let run: string[] = [];
  for (const line of text.split('\n')) {
    if (!isBlank(line)) run.push(line);
    else if (run.length) {
      out.push(run.join('\n'));
      run = [];
    }
  }
  if (run.length) out.push(run.join('\n'));
  return out;
}

/** A note's text without its leading and trailing blank lines (the bytes in between as they are). */
function body(text: string): string {
  const lines = text.split('\n');
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  return lines.slice(start, end).join('\n');
}

/** Whether `have` holds `part` as whole lines (not as the middle of a line). */
function holdsLines(have: string, part: string): boolean {
  return `\n${have}\n`.includes(`\n${part}\n`);
}

/**
 * How many paragraphs of `other` are missing from `have`: 0 when `have` holds `other`'s whole text, or each of its
 * paragraphs, as whole lines (a note contained in another is not a second note).
 */
export function displayLacking(have: string, other: string): number {
  const whole = body(other);
  if (whole === '' || holdsLines(have, whole)) return 0;
  return paragraphs(other).filter((p) => !holdsLines(have, p)).length;
}

/** `base` followed, after a blank line each, by the paragraphs of `addition` it does not hold yet; ends with one newline. */
export function appendParagraphs(base: string, addition: string): string {
  let out = body(base);
  if (displayLacking(out, addition) > 0) {
    for (const p of paragraphs(addition)) if (!holdsLines(out, p)) out = out ? `${out}\n\n${p}` : p;
  }
  return out ? `${out}\n` : '';
}

/**
 * The union of two texts of one display note, kept in whole notes: a side that holds all of the other wins as it
 * is; otherwise both, the smaller string first (so the two clones of a race make the same note), joined by a
 * blank line. The second adds only its paragraphs the first lacks: two clones that each added a note to one they
 * synced before share that older note, and it must not appear twice.
 */
export function displayNoteUnion(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  if (displayLacking(first!, second!) === 0) return first!;
  if (displayLacking(second!, first!) === 0) return second!;
  return appendParagraphs(first!, second!);
}

/** How sync merges the display ref: whole notes, never sorted lines. */
export const DISPLAY_MERGE: NoteMerge = { lacking: displayLacking, union: displayNoteUnion };

/**
 * Adds `text` to the display note on `object` (a full object id) in DISPLAY_REF: a note that holds it already
 * (as whole lines) is left as it is; a note with other text keeps it, then a blank line, then `text`. Written by
 * compare-and-swap (commitNotesCas) at the path where the note already sits, whatever its fanout, so a re-fanned
 * tree never gets a second note for one object; a lost race reads again and retries with jitter.
 */
export async function writeDisplayNote(cwd: string, object: string, text: string, known?: KnownNotes): Promise<void> {
  checkDisplayNote(object, text);
  const planned = known ? plannedDisplayNote(object, text, known) : undefined;
  if (planned === null) return;
  // a first try on what the caller read: one fast-import that moves the ref only if it is still where it was read
  if (planned && commitNotesDirect(cwd, DISPLAY_REF, known!.tip, planned, displayMessage(object))) return;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const started = Date.now();
    const tip = readNotesTip(cwd, DISPLAY_REF);
    const found = tip ? ((await readSomeNotes(cwd, tip, [object])).get(object) ?? null) : null;
    const existing = found?.text ?? '';
    if (displayLacking(existing, text) === 0) return;
    const note = new Map([[found?.path ?? newNotePath(object), appendParagraphs(existing, text)]]);
    if (commitNotesCas(cwd, DISPLAY_REF, tip, note, displayMessage(object))) return;
    // writers that lost together must not read together again: spread them over a few attempts' time (an attempt
    // is four git processes, slow on a loaded machine), more widely the more often they lost
    await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, (Date.now() - started + 5) * (attempt + 1)));
  }
  throw new Error(
    `gave up writing the display note on ${object.slice(0, 12)} after ${MAX_ATTEMPTS} attempts: other writers kept moving ${DISPLAY_REF}, or a lock file stays in the way (${DISPLAY_REF}.lock in the git dir, left by a git process that crashed: delete it when no git process runs)`,
  );
}

function checkDisplayNote(object: string, text: string): void {
  if (!FULL_OID.test(object)) throw new Error(`display note: '${object}' is not a full object id`);
  if (body(text) === '') throw new Error(`display note on ${object.slice(0, 12)}: the text is empty`);
}

/** The commit message of a display note write. */
export function displayMessage(object: string): string {
  return `omni-ship: display note on ${object.slice(0, 12)}\n`;
}

/**
 * writeDisplayNote's first try on what the caller read: the note to write on `known.tip` (path → text); null when
 * the note holds `text` already (nothing to write); undefined when `known` lacks the object's note.
 */
export function plannedDisplayNote(object: string, text: string, known: KnownNotes): Map<string, string> | null | undefined {
  checkDisplayNote(object, text);
  if (!known.notes.has(object)) return undefined;
  const found = known.notes.get(object) ?? null;
  const existing = found?.text ?? '';
  if (displayLacking(existing, text) === 0) return null;
  return new Map([[found?.path ?? newNotePath(object), appendParagraphs(existing, text)]]);
}

/** Who verified a tree, under which spec, from where and when (the verify event that let the land through). */
export interface LandedVerify {
  spec: string;
  by: string;
  host: string;
  at: string;
}

/** What the display note of a landed commit says. */
export interface LandedNoteInfo {
  task: string;
  /** the task's patchset number that landed, or null when unknown */
  patchset: number | null;
  /** the task commit (the patchset) that landed */
  commit: string;
  /** the commit that became the base tip (the note sits on it); differs from `commit` when land cherry-picked */
  landed: string;
  /** the base branch */
  base: string;
  /** the base tip before the land, or null to leave it out */
  baseWas: string | null;
  verified: LandedVerify | null;
  /** "Name <email>" of the approving review, or null */
  approvedBy: string | null;
  /** "Name <email>" of whoever landed it */
  landedBy: string;
  /** ISO 8601 */
  landedAt: string;
  /** "<hostname>/<clone id>" that landed it */
  host: string;
}

/** Short object ids in the note: 12 hex digits, as the rest of omni-ship prints them. */
const short = (oid: string) => oid.slice(0, 12);
/** One value on one line: a newline or control character in a name must not start a line of its own. */
const oneLine = (value: string) => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

/**
 * The short, Gerrit-review-notes-like text land writes on a landed commit, with `trailerKey` (the configured
 * trailer, e.g. Task-Id) naming the task. Lines whose value is null are left out. Ends with a newline.
 */
export function landedNoteText(info: LandedNoteInfo, trailerKey: string): string {
  const lines = [`${trailerKey}: ${oneLine(info.task)}`];
  const how = info.landed === info.commit ? '' : ', cherry-picked';
  lines.push(
    info.patchset === null ? `Commit: ${short(info.commit)}${how}` : `Patchset: ${info.patchset} (commit ${short(info.commit)}${how})`,
  );
  if (info.verified) {
    const v = info.verified;
    lines.push(`Verified-By: ${oneLine(v.by)} on ${oneLine(v.host)} at ${oneLine(v.at)}, spec ${short(v.spec)}`);
  }
  if (info.approvedBy !== null) lines.push(`Approved-By: ${oneLine(info.approvedBy)}`);
  lines.push(`Landed-By: ${oneLine(info.landedBy)} on ${oneLine(info.host)} at ${oneLine(info.landedAt)}`);
  lines.push(`Base: ${oneLine(info.base)}${info.baseWas === null ? '' : ` (was ${short(info.baseWas)})`}`);
  return `${lines.join('\n')}\n`;
}
