import path from 'node:path';
import { nodeCrypto } from '../hash.js';
import type { Config } from './schema.js';
import { readStateJson, writeStateJson } from './state-file.js';

/**
 * What a foreground run of a JavaScript config gave: its validated values, or the error it ended in. Hooks and
 * background processes use this record instead of running the file themselves, so no configuration code runs
 * that the user did not start; and nothing the file requires can change the result behind the hash.
 */
export type TrustedOutcome = { values: Partial<Config> } | { error: { message: string; hint?: string } };

type TrustEntry = TrustedOutcome & { key: string; file: string; at: string };

/** The machine-local record of JavaScript configs an omni-ship command ran, in the repository's state dir. */
export const TRUST_FILE = 'trusted-config.json';
/** Versions kept: enough to switch between branches whose configs differ, small enough to read at once. */
const KEEP = 32;

/** The identity of one version of a config file: sha256 of its absolute path and its exact bytes. */
export function trustKey(file: string, bytes: Buffer): string {
  return nodeCrypto().createHash('sha256').update(`${path.resolve(file)}\0`).update(bytes).digest('hex');
}

function entries(stateDir: string): TrustEntry[] {
  const data = readStateJson(path.join(stateDir, TRUST_FILE)) as { v?: unknown; entries?: unknown } | null;
  if (!data || data.v !== 1 || !Array.isArray(data.entries)) return [];
  return data.entries.filter((e): e is TrustEntry => !!e && typeof e === 'object' && typeof (e as TrustEntry).key === 'string');
}

/** What an omni-ship command got when it ran these exact bytes of `file` in this clone; null if none ever did. */
export function trustedOutcome(stateDir: string, file: string, bytes: Buffer): TrustedOutcome | null {
  const key = trustKey(file, bytes);
  const entry = entries(stateDir).find((e) => e.key === key);
  return entry ? outcomeOf(entry) : null;
}

function outcomeOf(entry: TrustEntry): TrustedOutcome | null {
  if ('values' in entry && entry.values && typeof entry.values === 'object') return { values: entry.values };
  if ('error' in entry && entry.error && typeof entry.error.message === 'string') {
    return { error: entry.error.hint === undefined ? { message: entry.error.message } : { message: entry.error.message, hint: entry.error.hint } };
  }
  return null;
}

/**
 * Records that an omni-ship command the user ran executed these bytes of `file`, and what it gave. Written only
 * when it adds something, so a read command on an unchanged config writes nothing. Two commands recording at the
 * same instant may keep one record only: the other version then counts as not run, and the hooks say so.
 */
export function recordTrustedOutcome(stateDir: string, file: string, bytes: Buffer, outcome: TrustedOutcome): void {
  const key = trustKey(file, bytes);
  const all = entries(stateDir);
  const old = all.find((e) => e.key === key);
  if (old && JSON.stringify(outcomeOf(old)) === JSON.stringify(outcome)) return;
  const entry: TrustEntry = { key, file: path.resolve(file), at: new Date().toISOString(), ...outcome };
  writeStateJson(path.join(stateDir, TRUST_FILE), { v: 1, entries: [entry, ...all.filter((e) => e.key !== key)].slice(0, KEEP) });
}
