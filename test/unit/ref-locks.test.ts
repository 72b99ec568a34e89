import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleRefLocks } from '../../src/hooks/ref-locks.js';
import { cleanupAll, tempDir } from '../helpers/repo.js';

afterAll(cleanupAll);

describe('stale ref locks', () => {
  it("removes old locks of omni-ship's refs only: fresh ones and git's other locks stay", () => {
    const common = tempDir();
    const old = new Date(Date.now() - 120_000);
    const files = {
      staleNotes: 'refs/notes/omni-ship/patchsets.lock',
      staleOwn: 'refs/omni-ship/patchsets/t-1/2.lock',
      staleDisplay: 'refs/notes/omni-ship-landed.lock',
      otherNotes: 'refs/notes/commits.lock',
      fresh: 'refs/notes/omni-ship/reviews.lock',
      branch: 'refs/heads/main.lock',
      packed: 'packed-refs.lock',
    };
    for (const [name, rel] of Object.entries(files)) {
      const p = path.join(common, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, '');
      if (name !== 'fresh') fs.utimesSync(p, old, old);
    }
    const removed = removeStaleRefLocks(common).map((p) => path.relative(common, p)).sort();
    expect(removed).toEqual([files.staleOwn, files.staleNotes, files.staleDisplay].sort());
    for (const rel of [files.fresh, files.branch, files.packed, files.otherNotes]) expect(fs.existsSync(path.join(common, rel)), rel).toBe(true);
  });
});
