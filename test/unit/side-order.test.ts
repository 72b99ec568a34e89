import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sideOrder, sortSide, type SideCommit } from '../../src/state/commits.js';
import { DamagedSideIndex, SideIndex, setFreshDepths } from '../../src/state/side-index.js';

/** A history of n commits, each with up to two parents among the earlier ones, times from a small range (ties). */
const historyArb = fc.integer({ min: 1, max: 40 }).chain((n) =>
  fc.tuple(
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean(), fc.integer({ min: 0, max: 3 })), { minLength: n, maxLength: n }),
    fc.integer({ min: 0, max: n }),
  ),
);

function build(spec: [number, number, boolean, number][]): SideCommit[] {
  const commits: SideCommit[] = [];
  spec.forEach(([p1, p2, merge, dt], i) => {
    const parents = i === 0 ? [] : [commits[p1 % i]!.sha, ...(merge ? [commits[p2 % i]!.sha] : [])];
    // times never go back along parents by much: a child is at its parent's time or up to 3 s later
    const time = i === 0 ? 1000 : Math.max(...parents.map((p) => commits.find((c) => c.sha === p)!.time)) + dt;
    const sha = (i * 2654435761 % 4294967296).toString(16).padStart(40, '0');
    commits.push({ sha, tree: sha, parent: parents[0] ?? null, parents: [...new Set(parents)], time, claim: { kind: 'none' } });
  });
  return commits;
}

const strip = (list: SideCommit[]) => list.map((c) => c.sha);

describe('the side scan order', () => {
  it('is the same whether the commits were read whole or kept (as an index) and brought forward with new children', () => {
    fc.assert(
      fc.property(historyArb, ([spec, cut]) => {
        const whole = build(spec);
        const all = whole.map((c) => ({ ...c }));
        sortSide(all);
        // the first `cut` commits were kept from an earlier read (only their index: first parent, tree, time,
        // depth); the rest are new (children only: built later), their depths from the index
        const kept = whole.slice(0, cut).map((c) => ({ ...c }));
        sortSide(kept);
        const index = SideIndex.of(kept);
        const fresh = whole.slice(cut).map((c) => ({ ...c }));
        setFreshDepths(fresh, index);
        const merged = [...kept, ...fresh].sort(sideOrder);
        expect(strip(merged)).toEqual(strip(all));
        expect(merged.map((c) => c.depth)).toEqual(all.map((c) => c.depth));
        // and the index brought forward is the index of the whole
        const next = index.with(fresh, new Set());
        expect(next.size).toBe(all.length);
        for (const c of all) expect(next.info(c.sha)).toEqual({ sha: c.sha, parent: c.parent, tree: c.tree, time: c.time, depth: c.depth, claim: { kind: 'none' } });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an index that reads back as written, drops what is removed, and refuses another write or a damaged record', () => {
    const commits = build([[0, 0, false, 0], [0, 0, false, 2], [1, 0, true, 1], [2, 1, false, 0]]);
    sortSide(commits);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'side-index-'));
    try {
      const file = path.join(dir, 'side-all.txt');
      const index = SideIndex.of(commits);
      index.write(file, 'id-1');
      const back = SideIndex.read(file, 'id-1')!;
      expect(back.size).toBe(4);
      for (const c of commits) expect(back.info(c.sha)?.depth).toBe(c.depth);
      expect(back.info(commits[0]!.sha.replace(/.$/, 'x'))).toBeUndefined();
      // the root has no parent
      const root = commits.find((c) => c.parents.length === 0)!;
      expect(back.info(root.sha)?.parent).toBeNull();
      const less = back.with([], new Set([root.sha]));
      expect(less.size).toBe(3);
      expect(less.has(root.sha)).toBe(false);
      // another write's file, a truncated one: none
      expect(SideIndex.read(file, 'id-2')).toBeNull();
      fs.writeFileSync(file, fs.readFileSync(file, 'latin1').slice(0, -5), 'latin1');
      expect(SideIndex.read(file, 'id-1')).toBeNull();
      // a record garbled in place (the size checks out): found damaged when read
      index.write(file, 'id-1');
      const text = fs.readFileSync(file, 'latin1');
      const at = text.indexOf(root.sha) + root.sha.length + 1;
      fs.writeFileSync(file, `${text.slice(0, at)}zz${text.slice(at + 2)}`, 'latin1');
      const damaged = SideIndex.read(file, 'id-1')!;
      expect(() => damaged.info(root.sha)).toThrow(DamagedSideIndex);
      damaged.close();
      back.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changed over its file (a delta of records added and ids removed) reads as the index of what is left, also read back with its delta', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'side-delta-'));
    try {
      let run = 0;
      fc.assert(
        fc.property(historyArb, fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 30 }), ([spec], steps) => {
          const all = build(spec);
          sortSide(all);
          const file = path.join(dir, `side-${run++}.txt`);
          // the file holds the first half; the steps add the others (one each) or remove a commit present
          const half = Math.ceil(all.length / 2);
          SideIndex.of(all.slice(0, half)).write(file, 'id');
          let index = SideIndex.read(file, 'id')!;
          const present = new Map(all.slice(0, half).map((c) => [c.sha, c]));
          const waiting = all.slice(half);
          for (const [add, n] of steps) {
            if (add && waiting.length) {
              const c = waiting.splice(n % waiting.length, 1)[0]!;
              index = index.with([c], new Set());
              present.set(c.sha, c);
            } else if (present.size) {
              const sha = [...present.keys()][n % present.size]!;
              index = index.with([], new Set([sha]));
              present.delete(sha);
              // a commit removed may come back (a branch deleted, then made again)
              waiting.push(all.find((c) => c.sha === sha)!);
            }
          }
          const back = SideIndex.read(file, 'id', index.delta()!)!;
          for (const ix of [index, back]) {
            expect(ix.size).toBe(present.size);
            for (const c of all) {
              const want = present.get(c.sha);
              expect(ix.info(c.sha)).toEqual(want ? { sha: c.sha, parent: c.parent, tree: c.tree, time: c.time, depth: c.depth, claim: { kind: 'none' } } : undefined);
            }
          }
          // written whole: the same records, no delta
          const whole = path.join(dir, `whole-${run}.txt`);
          back.write(whole, 'w');
          const again = SideIndex.read(whole, 'w')!;
          expect(again.delta()).toEqual({ added: [], removed: [] });
          expect(again.size).toBe(present.size);
          for (const c of present.values()) expect(again.info(c.sha)?.depth).toBe(c.depth);
          for (const ix of [index, back, again]) ix.close();
        }),
        { numRuns: 150 },
      );
      // a delta not of the shape written: no index
      SideIndex.of(build([[0, 0, false, 0]])).write(path.join(dir, 'x.txt'), 'id');
      expect(SideIndex.read(path.join(dir, 'x.txt'), 'id', { added: ['garbage\n'], removed: [] })).toBeNull();
      expect(SideIndex.read(path.join(dir, 'x.txt'), 'id', { added: [], removed: ['xyz'] })).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists a child before its parent made in the same second', () => {
    const [a, b] = build([[0, 0, false, 0], [0, 0, false, 0]]);
    const list = [a!, b!];
    sortSide(list);
    expect(strip(list)).toEqual([b!.sha, a!.sha]);
  });
});
