import fs from 'node:fs';
import path from 'node:path';
import { replaceCacheFile } from '../state/cache-file.js';
import type { Config } from '../config.js';
import { baseRefCandidates } from '../notes/refs.js';
import type { VerifyContext } from '../state/tasks.js';
import { buildFingerprint } from '../state/build.js';
import { runningVerifies } from './running.js';
import { CONFIG_FILES, LOCAL_CONFIG_FILES } from '../config/files.js';
import { looseCommitTree, looseTreeEntries } from '../git/loose.js';
import type { SpecSource } from './spec.js';

/** What read commands need to judge verify results, and the part of their cache key it adds. */
export interface ReadVerifyContext {
  /** what may change the judgement while no ref moves: the local config, the recorded cache key, runs in progress */
  keyPart: string;
  /** the spec and runs, computed only when needed (a stored status answer does not need them) */
  load(): Promise<{ context: VerifyContext; source: SpecSource | null; warning: string | null }>;
}

function statOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

/**
 * The verify context of status and show, from the ref snapshot they read: the base tip there, the local config,
 * and the cache key output last recorded (read commands run no command). Cheap until `load()`: a stat per file and
 * a look at the running locks.
 */
export function readVerifyContext(cwd: string, commonDir: string, stateDir: string, config: Config, refSnapshot: string): ReadVerifyContext {
  const running = runningVerifies(stateDir).map((r) => ({ tree: r.tree, spec: r.spec, startedAt: r.startedAt }));
  const files = [...LOCAL_CONFIG_FILES.map((f) => path.join(commonDir, f)), path.join(stateDir, 'verify', 'cache-keys.json')];
  const keyPart = JSON.stringify([files.map(statOf), running]);
  return {
    keyPart,
    async load() {
      const tips = new Map<string, string>();
      for (const line of refSnapshot.split('\n')) {
        const [name, oid, type] = line.split('\0');
        if (name && oid && type === 'commit') tips.set(name, oid);
      }
      const baseRef = baseRefCandidates(config).find((r) => tips.has(r));
      const baseTip = baseRef ? tips.get(baseRef)! : null;
      // the spec is a function of the config files at the base tip, the local config and the recorded cache key
      // output (their stats are in keyPart) and the build: while those hold, the last answer stands, read back
      // without git. A base tip that moved (every land) holds the same tree or config files as the last one,
      // mostly: its commit (and tree) are loose objects, whose files say so
      const memo = path.join(stateDir, 'verify', 'current-spec.json');
      const memoKey = JSON.stringify([buildFingerprint(stateDir), config.baseBranch, keyPart]);
      let identity: ReturnType<typeof configIdentity> | undefined;
      try {
        const stored = JSON.parse(fs.readFileSync(memo, 'utf8')) as { key?: unknown; tip?: unknown; identity?: unknown; spec?: unknown; source?: unknown };
        if (stored.key === memoKey && (stored.spec === null || typeof stored.spec === 'string') && stored.source && typeof stored.source === 'object') {
          const source = stored.source as SpecSource;
          if (stored.tip === baseTip) return { context: { spec: stored.spec as string | null, running }, source, warning: null };
          identity = baseTip ? configIdentity(commonDir, baseTip) : null;
          if (identity !== null && sameConfig(stored.identity, identity)) {
            return { context: { spec: stored.spec as string | null, running }, source: source.kind === 'base' ? { ...source, commit: baseTip } : source, warning: null };
          }
        }
      } catch {
        /* none yet, or damaged: computed again */
      }
      try {
        const { resolveSpec } = await import('./spec.js');
        const spec = await resolveSpec({ cwd, commonDir, stateDir, baseTip, runCacheKey: false, baseName: config.baseBranch });
        const hash = spec.verify.steps.length ? spec.hash : null;
        try {
          fs.mkdirSync(path.dirname(memo), { recursive: true });
          const tmp = `${memo}.${process.pid}.tmp`;
          if (identity === undefined) identity = baseTip ? configIdentity(commonDir, baseTip) : null;
          fs.writeFileSync(tmp, JSON.stringify({ key: memoKey, tip: baseTip, identity, spec: hash, source: spec.source }));
          replaceCacheFile(tmp, memo);
        } catch {
          /* only a cache */
        }
        return { context: { spec: hash, running }, source: spec.source, warning: null };
      } catch (e) {
        return { context: { spec: null, running }, source: null, warning: `verify results are not judged: ${(e as Error).message}` };
      }
    },
  };
}

/**
 * What the spec read from a commit depends on, as far as its loose objects tell (null when the commit is not
 * loose): its tree, and the config files at the top of it, as their modes and object ids (null when the tree is
 * not loose). Two commits with the same tree, or the same config files, have the same spec.
 */
export function configIdentity(commonDir: string, commit: string): { tree: string; files: string | null } | null {
  const tree = looseCommitTree(commonDir, commit);
  if (!tree) return null;
  const entries = looseTreeEntries(commonDir, tree);
  const files = entries
    ? JSON.stringify(
        CONFIG_FILES.map((name) => {
          const e = entries.get(name);
          return e ? `${e.mode} ${e.oid}` : null;
        }),
      )
    : null;
  return { tree, files };
}

/** Whether a stored identity (anything read back) and a commit's say the same spec. */
function sameConfig(stored: unknown, now: { tree: string; files: string | null }): boolean {
  if (typeof stored !== 'object' || stored === null) return false;
  const s = stored as { tree?: unknown; files?: unknown };
  return s.tree === now.tree || (now.files !== null && s.files === now.files);
}
