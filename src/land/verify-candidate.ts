import type { Config } from '../config.js';
import { decodeNote, type OmniEvent, type VerifyEvent } from '../notes/events.js';
import { readKnownNotes } from '../notes/known.js';
import { NOTES_REFS } from '../notes/refs.js';
import type { KnownNotes } from '../notes/write.js';
import { cachedResult } from '../verify/fold.js';
import type { VerifySpec } from '../verify/spec.js';
import { fromCachedEvent, verifyCommit, type VerifyOutcome, type VerifyProgress } from '../verify/verify.js';

/** What verifying one candidate needs. */
export interface CandidateVerifyContext {
  cwd: string;
  commonDir: string;
  stateDir: string;
  config: Config;
  /** this clone's "<hostname>/<clone id>": its own results always count */
  host: string;
  /** who lands, "Name <email>": the identity verify records */
  identity?: string;
  /** land.trustRemoteResults: results other clones recorded count too */
  trustRemote: boolean;
  /** --require-cached: never run the steps; no trusted answer is a refusal */
  requireCached: boolean;
  /** --dry-run: report the cached answer, run nothing */
  dryRun: boolean;
  onProgress?: (p: VerifyProgress) => void;
}

/** A candidate's verify answer under one spec; `none`: no trusted answer and none was run (--require-cached, --dry-run). */
export type CandidateVerdict =
  | { kind: 'answer'; outcome: VerifyOutcome; spec: VerifySpec }
  | { kind: 'none'; spec: VerifySpec; untrusted: VerifyEvent | null };

/** The verify events on `tree` in the note read (none when there is no note, or the ref is no commit). */
function eventsOf(known: KnownNotes | null, tree: string): VerifyEvent[] {
  const found = known?.notes.get(tree);
  if (!found) return [];
  const events: OmniEvent[] = [];
  decodeNote(tree, found.text, events, []);
  return events.filter((e): e is VerifyEvent => e.type === 'verify' && e.tree === tree);
}

/** Whether an event counts here: this clone's own, or any with land.trustRemoteResults. */
export function trusted(ctx: Pick<CandidateVerifyContext, 'host' | 'trustRemote'>, e: VerifyEvent): boolean {
  return ctx.trustRemote || e.host === ctx.host;
}

/**
 * The candidate tree's answer under `spec`: a trusted cached answer costs no run (a tree verified before, on this
 * clone or, when trusted, on any); otherwise the steps run (verifyCommit), unless --require-cached or --dry-run.
 * An answer another clone recorded is never taken on trust unless the team said so: the steps run again here.
 */
export async function verifyCandidate(ctx: CandidateVerifyContext, target: { commit: string; tree: string; task: string | null }, spec: VerifySpec): Promise<CandidateVerdict> {
  // the tree's verify events and the ref's tip in one read: a run's answer is then written by one fast-import
  const known = (await readKnownNotes(ctx.cwd, [NOTES_REFS.verify], target.tree)).get(NOTES_REFS.verify) ?? null;
  const events = eventsOf(known, target.tree);
  const mine = events.filter((e) => trusted(ctx, e));
  const hit = cachedResult(mine, target.tree, spec.hash);
  if (hit) return { kind: 'answer', outcome: fromCachedEvent(target, spec.hash, hit), spec };
  if (ctx.requireCached || ctx.dryRun) return { kind: 'none', spec, untrusted: cachedResult(events, target.tree, spec.hash) };
  const req = { cwd: ctx.cwd, commonDir: ctx.commonDir, stateDir: ctx.stateDir, config: ctx.config, spec, target, treeEvents: mine, known, identity: ctx.identity, onProgress: ctx.onProgress };
  let outcome = await verifyCommit(req);
  // a run of the same tree on this machine was waited for, and another clone sharing the machine recorded it
  if (outcome.cached && outcome.event && !trusted(ctx, outcome.event)) outcome = await verifyCommit({ ...req, force: true });
  return { kind: 'answer', outcome, spec };
}
