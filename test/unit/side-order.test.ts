import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSide, sortSide, type SideCommit } from '../../src/state/commits.js';

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
  it('is the same whether the commits were read whole or kept and merged with new children', () => {
    fc.assert(
      fc.property(historyArb, ([spec, cut]) => {
        const whole = build(spec);
        const all = whole.map((c) => ({ ...c }));
        sortSide(all);
        // the first `cut` commits were kept from an earlier read; the rest are new (children only: built later)
        const kept = whole.slice(0, cut).map((c) => ({ ...c }));
        sortSide(kept);
        const merged = mergeSide(kept, whole.slice(cut).map((c) => ({ ...c })));
        expect(strip(merged)).toEqual(strip(all));
      }),
      { numRuns: 300 },
    );
  });

  it('lists a child before its parent made in the same second', () => {
    const [a, b] = build([[0, 0, false, 0], [0, 0, false, 0]]);
    const list = [a!, b!];
    sortSide(list);
    expect(strip(list)).toEqual([b!.sha, a!.sha]);
  });
});
