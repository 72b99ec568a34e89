import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byTime, decodeNote, encodeEvent, type BadLine, type OmniEvent, type PatchsetEvent, type ReviewEvent } from '../../src/notes/events.js';
import { foldPatchsets, supersededCommits } from '../../src/notes/fold.js';
import { unionNote } from '../../src/notes/sync.js';
import { DamagedCacheError, LandedIndex, NotesPart, closeStateCache, readStateCache, writeStateCache, type DecodedNote, type StateCache } from '../../src/state/cache.js';
import { LookupMemo, SortedLines, writeSortedLines } from '../../src/state/sorted-lines.js';

/** The fields each event type must carry as strings (the folds key on them). */
const REQUIRED: Record<string, string[]> = {
  patchset: ['task', 'commit', 'tree'],
  review: ['task', 'commit', 'verdict'],
  verify: ['tree', 'spec', 'result'],
  land: ['task', 'commit', 'landed'],
  attempt: ['task', 'commit', 'outcome'],
};

const sha = (c: string) => c.repeat(40).slice(0, 40);
const A = sha('a');
const B = sha('b');
const C = sha('c');
const P = sha('0');

function patchset(over: Partial<PatchsetEvent> = {}): PatchsetEvent {
  return {
    v: 1,
    type: 'patchset',
    at: '2025-01-01T00:00:00.000Z',
    by: 'Ann <ann@example.com>',
    host: 'box/1234abcd',
    task: 't-1',
    commit: A,
    tree: sha('e'),
    parent: P,
    branch: 't-1',
    supersedes: null,
    via: 'commit',
    ...over,
  };
}

function review(over: Partial<ReviewEvent> = {}): ReviewEvent {
  return {
    v: 1,
    type: 'review',
    at: '2025-01-01T00:00:00.000Z',
    by: 'Bob <bob@example.com>',
    host: 'box/1234abcd',
    task: 't-1',
    commit: A,
    verdict: 'approve',
    message: null,
    ...over,
  };
}

/** The same object with its keys inserted in another order. */
function reordered<T extends object>(value: T, order: number[]): T {
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const i of order) out[entries[i]![0]] = entries[i]![1];
  return out as T;
}

const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''));
const shaArb = fc.string({ unit: hexChar, minLength: 40, maxLength: 40 });
const isoArb = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2024, 0, 1) + 10_000 }).map((ms) => new Date(ms).toISOString());
const textArb = fc.string({ maxLength: 20 });

const patchsetArb: fc.Arbitrary<PatchsetEvent> = fc.record({
  v: fc.constant(1 as const),
  type: fc.constant('patchset' as const),
  at: isoArb,
  by: textArb,
  host: textArb,
  task: fc.constantFrom('t-1', 't-2', 't-3.1'),
  commit: fc.constantFrom(A, B, C, sha('d')),
  tree: shaArb,
  parent: fc.option(shaArb),
  branch: fc.option(textArb),
  supersedes: fc.option(fc.constantFrom(A, B, C, sha('d'))),
  author: fc.option(textArb),
  via: fc.constantFrom('commit' as const, 'amend' as const, 'rebase' as const, 'merge' as const, 'manual' as const),
});

const reviewArb: fc.Arbitrary<ReviewEvent> = fc.record({
  v: fc.constant(1 as const),
  type: fc.constant('review' as const),
  at: isoArb,
  by: textArb,
  host: textArb,
  task: fc.constantFrom('t-1', 't-2'),
  commit: shaArb,
  verdict: fc.constantFrom('approve' as const, 'request-changes' as const),
  message: fc.option(fc.string({ maxLength: 30 })),
});

const eventArb: fc.Arbitrary<OmniEvent> = fc.oneof(patchsetArb, reviewArb);

describe('encodeEvent', () => {
  it('gives the same bytes for the same event, whatever the key order, with a fixed key order', () => {
    const e = patchset();
    const keys = Object.keys(e);
    const backwards = reordered(e, keys.map((_, i) => keys.length - 1 - i));
    expect(encodeEvent(backwards)).toBe(encodeEvent(e));
    // v, type, at, by, host first, then the rest sorted
    expect(Object.keys(JSON.parse(encodeEvent(e)))).toEqual([
      'v',
      'type',
      'at',
      'by',
      'host',
      'branch',
      'commit',
      'parent',
      'supersedes',
      'task',
      'tree',
      'via',
    ]);
    expect(encodeEvent(e)).not.toContain('\n');
  });

  it('is stable and lossless for any event and any key order (property)', () => {
    fc.assert(
      fc.property(
        eventArb.chain((e) => fc.tuple(fc.constant(e), fc.shuffledSubarray(Object.keys(e).map((_, i) => i), { minLength: Object.keys(e).length }))),
        ([e, order]) => {
          const line = encodeEvent(e);
          expect(encodeEvent(reordered(e, order))).toBe(line);
          expect(encodeEvent(JSON.parse(line) as OmniEvent)).toBe(line);
          expect(JSON.parse(line)).toEqual(e);
          expect(line).not.toContain('\n');
        },
      ),
    );
  });
});

describe('decodeNote', () => {
  it('skips garbage, unknown schema versions and unknown types into bad, keeps the good lines, never throws', () => {
    const good1 = encodeEvent(patchset());
    const good2 = encodeEvent(review());
    const garbage = [
      'not json',
      '{"v":2,"type":"patchset","at":"2025-01-01T00:00:00.000Z","by":"x","host":"y"}',
      '{"v":1,"type":"frobnicate","at":"2025-01-01T00:00:00.000Z","by":"x","host":"y"}',
      '{"v":99,"type":"patchset"}',
      '{"v":1,"type":"patchset","at":"yesterday"}',
      '[1,2]',
      '42',
      'null',
      '{"v":1,"type":"patchset"',
      '<<<<<<< HEAD',
    ];
    const text = ['', good1, ...garbage.slice(0, 5), '   ', good2, ...garbage.slice(5), ''].join('\n');
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    expect(() => decodeNote(A, text, events, bad)).not.toThrow();
    expect(events.map((e) => encodeEvent(e))).toEqual([good1, good2]);
    expect(bad.map((b) => b.line)).toEqual(garbage);
    expect(bad.every((b) => b.object === A && b.reason.length > 0)).toBe(true);
    expect(bad[1]!.reason).toMatch(/schema version 2/);
    expect(bad[2]!.reason).toMatch(/type "frobnicate"/);
  });

  it('skips a line of a known type that lacks the fields its fold needs', () => {
    const at = '2025-01-01T00:00:00.000Z';
    const by = 'Ann <ann@example.com>';
    const host = 'box/1234abcd';
    const lines = [
      JSON.stringify({ v: 1, type: 'patchset', at, by, host }),
      JSON.stringify({ v: 1, type: 'patchset', at, by, host, task: 5, commit: 7, tree: 'x' }),
      JSON.stringify({ v: 1, type: 'review', at, by, host, task: 't-1', verdict: 'approve' }),
      JSON.stringify({ v: 1, type: 'verify', at, by, host, tree: A, spec: 's' }),
      JSON.stringify({ v: 1, type: 'review', at, task: 't-1', commit: A, verdict: 'approve' }),
    ];
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    decodeNote(A, lines.join('\n'), events, bad);
    expect(events).toEqual([]);
    expect(bad.map((b) => b.reason)).toEqual([
      'bad task (missing) in a patchset event',
      'bad task 5 in a patchset event',
      'bad commit (missing) in a review event',
      'bad result (missing) in a verify event',
      'no "by" and "host" (strings)',
    ]);
  });

  it('skips a line whose optional fields have the wrong type, or whose task id is not written as omni-ship writes it', () => {
    const good = patchset();
    const lines = [
      // a number where a commit id or null belongs would crash `show` (s.slice is not a function)
      JSON.stringify({ ...good, supersedes: 12345 }),
      JSON.stringify({ ...good, parent: ['x'] }),
      JSON.stringify({ ...good, via: 'teleport' }),
      // one task under three spellings would be listed three times
      JSON.stringify({ ...good, task: 'T-1' }),
      JSON.stringify({ ...good, task: ' t-1' }),
      JSON.stringify({ v: 1, type: 'review', at: good.at, by: good.by, host: good.host, task: 't-1', commit: A, verdict: 'maybe', message: null }),
      JSON.stringify({ v: 1, type: 'verify', at: good.at, by: good.by, host: good.host, tree: A, spec: 's', result: 'pass', exitCode: '0' }),
    ];
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    decodeNote(A, lines.join('\n'), events, bad);
    expect(events).toEqual([]);
    expect(bad.map((b) => b.reason)).toEqual([
      'bad supersedes 12345 in a patchset event',
      'bad parent ["x"] in a patchset event',
      'bad via "teleport" in a patchset event',
      'bad task "T-1" in a patchset event',
      'bad task " t-1" in a patchset event',
      'bad verdict "maybe" in a review event',
      'bad exitCode "0" in a verify event',
    ]);
    // absent optional fields are fine: events written before a field existed still count
    const { author: _author, ...older } = { ...good, author: 'x' };
    const ok: OmniEvent[] = [];
    decodeNote(A, JSON.stringify(older), ok, bad);
    expect(ok).toHaveLength(1);
  });

  it('reads a note of good lines only without reporting anything', () => {
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    decodeNote(A, `${encodeEvent(patchset())}\n${encodeEvent(patchset({ commit: B }))}\n`, events, bad);
    expect(events).toHaveLength(2);
    expect(bad).toEqual([]);
  });

  it('does not take an event out of a garbage line, however the other lines look', () => {
    // a line holding an event after a comma is garbage; lines that pair up into one array must not shift it into place
    const ev = encodeEvent(patchset());
    const events: OmniEvent[] = [];
    const bad: BadLine[] = [];
    decodeNote(A, [`1,${ev}`, '[2', '3]'].join('\n'), events, bad);
    expect(events).toEqual([]);
    expect(bad.map((b) => b.line)).toEqual([`1,${ev}`, '[2', '3]']);
  });

  const garbageArb = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('not json', '{"v":2,"type":"review","at":"2025-01-01T00:00:00.000Z"}', '{"v":1,"type":"nope","at":"2025-01-01T00:00:00.000Z"}', '[]', '{}', 'true', '"x"'),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  ).filter((l) => !l.includes('\n') && !l.includes('\r') && l.trim() !== '');

  it('keeps exactly the good lines of any mixture, in order, and reports exactly the rest (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(eventArb.map((e) => ({ good: true as const, e })), garbageArb.map((line) => ({ good: false as const, line }))), { maxLength: 12 }), (items) => {
        const lines = items.map((i) => (i.good ? encodeEvent(i.e) : i.line));
        const events: OmniEvent[] = [];
        const bad: BadLine[] = [];
        decodeNote(B, lines.join('\n'), events, bad);
        // a random garbage line may happen to be a valid event: judge each line on its own
        const expectedGood = lines.filter((l) => {
          try {
            const v = JSON.parse(l) as Record<string, unknown>;
            if (!v || typeof v !== 'object' || Array.isArray(v) || v.v !== 1 || typeof v.at !== 'string' || Number.isNaN(Date.parse(v.at))) return false;
            const required = REQUIRED[v.type as string];
            return !!required && required.every((k) => typeof v[k] === 'string');
          } catch {
            return false;
          }
        });
        expect(events.map((e) => JSON.stringify(e))).toEqual(expectedGood.map((l) => JSON.stringify(JSON.parse(l))));
        expect(bad.map((b) => b.line)).toEqual(lines.filter((l) => !expectedGood.includes(l)));
      }),
    );
  });
});

describe('foldPatchsets', () => {
  it('numbers distinct commits by the first time each was seen, not by input order', () => {
    const events = [
      patchset({ commit: C, at: '2025-01-03T00:00:00.000Z', supersedes: B, via: 'rebase' }),
      patchset({ commit: B, at: '2025-01-02T00:00:00.000Z', supersedes: A, via: 'amend' }),
      patchset({ commit: A, at: '2025-01-01T00:00:00.000Z' }),
      patchset({ task: 't-2', commit: sha('d'), at: '2024-12-31T00:00:00.000Z', branch: 't-2' }),
    ];
    const folded = foldPatchsets(events);
    expect(folded.get('t-1')!.map((p) => [p.n, p.commit])).toEqual([
      [1, A],
      [2, B],
      [3, C],
    ]);
    expect(folded.get('t-2')!.map((p) => [p.n, p.commit])).toEqual([[1, sha('d')]]);
  });

  it('merges the post-commit and post-rewrite events of one amend into one patchset with supersedes', () => {
    const events = [
      patchset({ commit: A, at: '2025-01-01T00:00:00.000Z' }),
      // the amended commit: post-commit first (no predecessor known), then post-rewrite naming the old commit
      patchset({ commit: B, at: '2025-01-02T00:00:00.000Z' }),
      patchset({ commit: B, at: '2025-01-02T00:00:00.050Z', supersedes: A, via: 'amend' }),
      // A's event copied to B's note by notes.rewriteRef: the same line again
      patchset({ commit: A, at: '2025-01-01T00:00:00.000Z' }),
    ];
    const list = foldPatchsets(events).get('t-1')!;
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ n: 1, commit: A, supersedes: [], via: 'commit' });
    expect(list[1]).toMatchObject({ n: 2, commit: B, supersedes: [A], via: 'amend', at: '2025-01-02T00:00:00.000Z' });
  });

  it('ignores a patchset that supersedes itself (a no-op amend, written by older builds): the commit stays live', () => {
    const events = [
      patchset({ commit: A, at: '2025-01-01T00:00:00.000Z' }),
      // `git commit --amend --no-edit` changing nothing in the same second: post-rewrite reports A -> A
      patchset({ commit: A, at: '2025-01-01T00:00:00.500Z', supersedes: A, via: 'amend' }),
    ];
    const list = foldPatchsets(events).get('t-1')!;
    expect(list).toEqual([expect.objectContaining({ n: 1, commit: A, supersedes: [], via: 'commit' })]);
    expect(supersededCommits(list).has(A)).toBe(false);
    // alone, too (its post-commit event lost): one patchset, superseding nothing
    const alone = foldPatchsets([events[1]!]).get('t-1')!;
    expect(alone).toEqual([expect.objectContaining({ commit: A, supersedes: [] })]);
    expect(supersededCommits(alone).has(A)).toBe(false);
  });

  it('breaks a tie in time by commit id', () => {
    const at = '2025-01-01T00:00:00.000Z';
    const list = foldPatchsets([patchset({ commit: C, at }), patchset({ commit: A, at })]).get('t-1')!;
    expect(list.map((p) => p.commit)).toEqual([A, C]);
  });

  it('gives the same result for any order of the same events (property)', () => {
    fc.assert(
      fc.property(
        fc.array(patchsetArb, { maxLength: 15 }).chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length }))),
        ([events, shuffled]) => {
          const a = foldPatchsets(events);
          const b = foldPatchsets(shuffled);
          expect([...b.entries()]).toEqual([...a.entries()]);
          for (const [task, list] of a) {
            const own = events.filter((e) => e.task === task);
            // one patchset per distinct commit, numbered 1..n in order of first sighting
            expect(list.map((p) => p.commit).sort()).toEqual([...new Set(own.map((e) => e.commit))].sort());
            expect(list.map((p) => p.n)).toEqual(list.map((_, i) => i + 1));
            for (const p of list) expect(p.at).toBe(own.filter((e) => e.commit === p.commit).map((e) => e.at).sort()[0]);
            for (let i = 1; i < list.length; i++) expect(list[i - 1]!.at <= list[i]!.at).toBe(true);
          }
        },
      ),
    );
  });

  it('orders events by time, then by their encoding (byTime is a total order on distinct events)', () => {
    fc.assert(
      fc.property(eventArb, eventArb, (x, y) => {
        const c = byTime(x, y);
        expect(Math.sign(byTime(y, x))).toBe(-Math.sign(c));
        if (c === 0) expect(encodeEvent(x)).toBe(encodeEvent(y));
      }),
    );
  });
});

describe('unionNote', () => {
  const lineArb = fc.oneof(fc.constantFrom('a', 'b', 'c', encodeEvent(patchset()), encodeEvent(review())), fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n')));
  const noteArb = fc.array(lineArb, { maxLength: 8 }).map((lines) => (lines.length ? `${lines.join('\n')}\n` : ''));
  const linesOf = (t: string) => t.split('\n').filter((l) => l !== '');

  it('is commutative, idempotent and associative, and holds every line of both sides once (property)', () => {
    fc.assert(
      fc.property(noteArb, noteArb, noteArb, (a, b, c) => {
        const u = unionNote(a, b);
        expect(unionNote(b, a)).toBe(u);
        expect(unionNote(u, u)).toBe(u);
        expect(unionNote(u, b)).toBe(u);
        expect(unionNote(unionNote(a, b), c)).toBe(unionNote(a, unionNote(b, c)));
        const lines = linesOf(u);
        for (const l of [...linesOf(a), ...linesOf(b)]) expect(lines).toContain(l);
        for (const l of lines) expect([...linesOf(a), ...linesOf(b)]).toContain(l);
        expect(new Set(lines).size).toBe(lines.length);
        if (u !== '') expect(u.endsWith('\n')).toBe(true);
      }),
    );
  });

  it('gives sorted unique lines, like git notes merge -s cat_sort_uniq', () => {
    expect(unionNote('b\na\n', 'c\na\n')).toBe('a\nb\nc\n');
    expect(unionNote('', '')).toBe('');
    expect(unionNote('x', '')).toBe('x\n');
  });
});

describe("the base scan's landings (LandedIndex)", () => {
  /** A LandedIndex over a sorted-lines file of these lines, as the cache reads one. */
  const onDisk = (lines: [string, string][]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-landed-'));
    writeSortedLines(path.join(dir, 'f'), {}, lines);
    return new LandedIndex(SortedLines.open(path.join(dir, 'f'))!);
  };

  it('finds a task in its file without reading the whole, and the newer landings win', () => {
    const index = onDisk([['t-1', A], ['t-10', B], ['t-1.2', C]]);
    expect(index.get('t-1')).toBe(A);
    expect(index.get('t-10')).toBe(B);
    expect(index.get('t-1.2')).toBe(C);
    expect(index.get('t-2')).toBeUndefined();
    expect(index.get('t-1"')).toBeUndefined();
    const later = index.with(new Map([['t-1', C], ['t-3', A]]));
    expect(later.get('t-1')).toBe(C);
    expect(later.get('t-3')).toBe(A);
    expect([...later.all()].sort()).toEqual([['t-1', C], ['t-1.2', C], ['t-10', B], ['t-3', A]]);
    // the index it was made from is unchanged
    expect(index.get('t-1')).toBe(A);
    expect(index.all().size).toBe(3);
    index.close();
  });

  it('says when its file holds what it does not write, instead of answering from it', () => {
    expect(() => onDisk([['t-1', 'not an id']]).get('t-1')).toThrow(DamagedCacheError);
    expect(() => onDisk([['t-1', A], ['t-2', '5']]).all()).toThrow(DamagedCacheError);
  });

  it('writes only the newer landings while they are few, over the bulk they extend; another bulk makes them void', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-cache-'));
    const files = () => fs.readdirSync(path.join(dir, 'state-cache')).sort();
    try {
      const bulk = LandedIndex.of([['t-1', A], ['t-2', B]]);
      writeStateCache(dir, { notes: new Map(), base: { key: 'k1', tips: [A], landed: bulk }, dirty: new Set(['base']) });
      expect(files()).toEqual(['base.json']);
      const first = readStateCache(dir, []);
      const bulkBytes = fs.readFileSync(path.join(dir, 'state-cache', 'base.json'));
      // one land later: the newer part alone is written; the bulk's bytes stay
      first.base = { key: 'k2', tips: [B], landed: first.base!.landed.with(new Map([['t-3', C]])) };
      writeStateCache(dir, { ...first, dirty: new Set(['base']) });
      expect(files()).toEqual(['base-newer.json', 'base.json']);
      expect(fs.readFileSync(path.join(dir, 'state-cache', 'base.json'))).toEqual(bulkBytes);
      const second = readStateCache(dir, []);
      expect(second.base?.key).toBe('k2');
      expect(second.base?.tips).toEqual([B]);
      expect(second.base?.landed.get('t-3')).toBe(C);
      expect(second.base?.landed.get('t-1')).toBe(A);
      // a bulk written whole (a full read) voids the newer part: it extended another bulk
      writeStateCache(dir, { notes: new Map(), base: { key: 'k3', landed: LandedIndex.of([['t-9', A]]) }, baseSum: null, dirty: new Set(['base']) });
      expect(files()).toEqual(['base.json']);
      const third = readStateCache(dir, []);
      expect(third.base?.key).toBe('k3');
      expect([...third.base!.landed.all()]).toEqual([['t-9', A]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the state cache file', () => {
  const X = 'refs/notes/omni-ship/x';
  const partFile = (dir: string) => path.join(dir, 'state-cache', 'refs_notes_omni-ship_x.json');

  it('writes only the parts that moved, and forgets a ref that is gone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-cache-'));
    try {
      const Y = 'refs/notes/omni-ship/y';
      const e = JSON.parse(encodeEvent(patchset())) as OmniEvent;
      const note = (): Map<string, DecodedNote> => new Map([[A, [[e], []]]]);
      writeStateCache(dir, { notes: new Map([[X, NotesPart.fresh(A, note())], [Y, NotesPart.fresh(B, note())]]), base: null, dirty: new Set([X, Y]) });
      const yFile = path.join(dir, 'state-cache', 'refs_notes_omni-ship_y.json');
      const past = new Date('2020-01-01T00:00:00Z');
      fs.utimesSync(yFile, past, past);
      writeStateCache(dir, { notes: new Map([[X, NotesPart.fresh(C, note())], [Y, NotesPart.fresh(B, note())]]), base: null, dirty: new Set([X]) });
      expect(fs.statSync(yFile).mtime).toEqual(past);
      expect(readStateCache(dir, [X, Y]).notes.get(X)!.tip).toBe(C);
      writeStateCache(dir, { notes: new Map([[X, NotesPart.fresh(C, note())]]), base: null, dirty: new Set([Y]) });
      expect(fs.existsSync(yFile)).toBe(false);
      expect([...readStateCache(dir, [X, Y]).notes.keys()]).toEqual([X]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not used when another build wrote it (its packing may differ), nor when it is not JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-cache-'));
    try {
      const e = JSON.parse(encodeEvent(patchset())) as OmniEvent;
      writeStateCache(dir, { notes: new Map([[X, NotesPart.fresh(A, new Map([[A, [[e], []]]]))]]), base: null, dirty: new Set([X]) });
      expect(readStateCache(dir, [X]).notes.size).toBe(1);
      const file = partFile(dir);
      const raw = fs.readFileSync(file, 'utf8');
      const nl = raw.indexOf('\n');
      const header = JSON.parse(raw.slice(0, nl));
      // same length, another build
      fs.writeFileSync(file, `${JSON.stringify({ ...header, build: header.build.replace(/./g, 'x') })}${raw.slice(nl)}`);
      expect(readStateCache(dir, [X]).notes.size).toBe(0);
      fs.writeFileSync(file, raw.slice(0, raw.length - 3));
      expect(readStateCache(dir, [X]).notes.size).toBe(0);
      fs.writeFileSync(file, '{"format":5,');
      expect(readStateCache(dir, [X]).notes.size).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives back exactly the events it was given, packed or not (extra fields, missing optional fields)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-cache-'));
    try {
      fc.assert(
        fc.property(fc.array(fc.tuple(shaArb, fc.array(eventArb, { maxLength: 3 })), { maxLength: 6 }), fc.boolean(), (notes, odd) => {
          const objects = new Map<string, DecodedNote>();
          for (const [object, events] of notes) {
            const list = events.map((original, i) => {
              // as decodeNote gives them: parsed from the line encodeEvent wrote
              const e = JSON.parse(encodeEvent(original)) as OmniEvent;
              if (!odd) return e;
              // every other event: one field more, or an optional field missing
              const copy = { ...e } as Record<string, unknown>;
              if (i % 2) copy.extra = 'x';
              else delete copy[e.type === 'patchset' ? 'author' : 'message'];
              return copy as unknown as OmniEvent;
            });
            objects.set(object, [list, [{ object, line: 'garbage', reason: 'not valid JSON' }]]);
          }
          const cache: StateCache = { notes: new Map([[X, NotesPart.fresh(A, new Map(objects))]]), base: { key: 'k', landed: LandedIndex.of([['t-1', A]]) }, dirty: new Set([X, 'base']) };
          writeStateCache(dir, cache);
          if (!odd) {
            // events as omni-ship writes them are packed as arrays (the point of the format)
            const lines = SortedLines.open(partFile(dir))!;
            for (const [key, value] of lines.entries()) if (!key.includes(':')) for (const e of JSON.parse(value)[0]) expect(Array.isArray(e)).toBe(true);
            lines.close();
          }
          const back = readStateCache(dir, [X]);
          expect(back.base?.key).toBe('k');
          expect([...back.base!.landed.all()]).toEqual([['t-1', A]]);
          const got = back.notes.get(X)!;
          expect(got.tip).toBe(A);
          // looked up one by one, and read whole
          for (const [object, note] of objects) expect(got.get(object)).toEqual(note);
          expect(new Map(got.all())).toEqual(objects);
          // key order too: encodeEvent sorts, but show --json prints the objects as they are
          for (const [object, [events]] of objects) {
            got.get(object)![0].forEach((e, i) => expect(Object.keys(e)).toEqual(Object.keys(events[i]!)));
          }
          // found by the tasks their events name
          for (const [object, [events]] of objects) for (const e of events) if (typeof e.task === 'string') expect(got.objectsFor(`t:${e.task}`)).toContain(object);
          closeStateCache(back);
        }),
        { numRuns: 60 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('brings a part forward by an overlay of what changed, and finds each note by its object and its task', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-cache-'));
    try {
      const ev = (task: string, commit: string) => JSON.parse(encodeEvent(patchset({ task, commit }))) as OmniEvent;
      const bulk = new Map<string, DecodedNote>([
        [A, [[ev('t-1', A)], []]],
        [B, [[ev('t-2', B)], [{ object: B, line: 'x', reason: 'not valid JSON' }]]],
      ]);
      writeStateCache(dir, { notes: new Map([[X, NotesPart.fresh(A, bulk)]]), base: null, dirty: new Set([X]) });
      const bulkBytes = fs.readFileSync(partFile(dir));
      const first = readStateCache(dir, [X]);
      const part = first.notes.get(X)!;
      expect(part.badLines()).toEqual({ count: 1, first: { object: B, line: 'x', reason: 'not valid JSON' } });
      part.set(C, [[ev('t-1', C)], []]);
      part.delete(B);
      part.tip = C;
      writeStateCache(dir, { ...first, dirty: new Set([X]) });
      // the bulk is left as it was; the change is in the overlay beside it
      expect(fs.readFileSync(partFile(dir))).toEqual(bulkBytes);
      expect(fs.existsSync(path.join(dir, 'state-cache', 'notes.newer.json'))).toBe(true);
      const second = readStateCache(dir, [X]).notes.get(X)!;
      expect(second.tip).toBe(C);
      expect(second.get(B)).toBeUndefined();
      expect((second.get(C)?.[0][0] as { commit?: string } | undefined)?.commit).toBe(C);
      expect(second.objectsFor('t-1'.replace(/^/, 't:')).sort()).toEqual([A, C].sort());
      expect(second.eventsFor('t:t-2')).toEqual([]);
      expect(second.badLines()).toBeNull();
      expect([...second.all().keys()].sort()).toEqual([A, C].sort());
      second.close();
      // a damaged note line (same size, the JSON broken) is no answer: DamagedCacheError, never a wrong event
      const text = bulkBytes.toString('latin1');
      const at = text.indexOf(`${A}\t`) + A.length + 1;
      fs.writeFileSync(partFile(dir), Buffer.from(`${text.slice(0, at)}#${text.slice(at + 1)}`, 'latin1'));
      const third = readStateCache(dir, [X]).notes.get(X)!;
      expect(() => third.get(A)).toThrow(DamagedCacheError);
      third.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a sorted-lines file', () => {
  it('finds every key it holds and no other, whatever the order written and the lengths', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-lines-'));
    try {
      fc.assert(
        fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !/[\t\n]/.test(k) && !/[\u0000-\u0008]/.test(k)), { maxLength: 40 }), fc.string({ maxLength: 12 }), (keys, probe) => {
          const file = path.join(dir, 'f');
          const entries = keys.map((k, i) => [k, `v${i}:${'x'.repeat(i * 37)}`] as [string, string]);
          writeSortedLines(file, { mine: 1 }, entries);
          const lines = SortedLines.open(file)!;
          try {
            expect(lines.header.mine).toBe(1);
            for (const [k, v] of entries) expect(lines.get(k)).toBe(v);
            if (!keys.includes(probe) && !/[\t\n]/.test(probe)) expect(lines.get(probe)).toBeUndefined();
            expect(new Map(lines.entries())).toEqual(new Map(entries));
          } finally {
            lines.close();
          }
        }),
        { numRuns: 80 },
      );
      // many lines, over many of the blocks lookups read through: lines and offsets cut by block edges, values
      // longer than a block, keys looked up in any order and again
      const big = path.join(dir, 'big');
      const many = Array.from({ length: 3000 }, (_, i) => [`k${(i * 7919) % 3001}`, `${i}:${'y'.repeat((i * 131) % (i % 97 === 0 ? 20000 : 300))}`] as [string, string]);
      writeSortedLines(big, {}, many);
      const lines = SortedLines.open(big)!;
      try {
        for (const [k, v] of [...many].reverse()) expect(lines.get(k)).toBe(v);
        for (const [k, v] of many.slice(0, 50)) expect(lines.get(k)).toBe(v);
        expect(lines.get('k3001')).toBeUndefined();
        expect(lines.get('a')).toBeUndefined();
        expect(lines.get('z')).toBeUndefined();
      } finally {
        lines.close();
      }
      // a truncated file is no file
      const file = path.join(dir, 'g');
      writeSortedLines(file, {}, [['a', '1']]);
      fs.truncateSync(file, fs.statSync(file).size - 1);
      expect(SortedLines.open(file)).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the memo of lookups in sorted-lines files', () => {
  const withDir = (fn: (dir: string) => void) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ship-memo-'));
    try {
      fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  /** Looks `keys` up in `file` through the memo kept in `memoFile` (as one run does), saves it, returns the answers. */
  const run = (file: string, memoFile: string, keys: string[]) => {
    const memo = LookupMemo.read(memoFile);
    const lines = SortedLines.open(file, memo)!;
    try {
      return keys.map((k) => lines.get(k) ?? null);
    } finally {
      lines.close();
      memo.save();
    }
  };
  const entries = Array.from({ length: 500 }, (_, i) => [`k${i}`, `value ${i}`] as [string, string]);

  it('answers what a run found in the very same file, without reading it', () => {
    withDir((dir) => {
      const file = path.join(dir, 'f');
      const memoFile = path.join(dir, 'memo.jsonl');
      writeSortedLines(file, { id: 'a'.repeat(40) }, entries);
      expect(run(file, memoFile, ['k1', 'k250', 'nope'])).toEqual(['value 1', 'value 250', null]);
      expect(fs.readFileSync(memoFile, 'utf8').trim().split('\n')).toHaveLength(3);
      // the file's bytes changed in place (same size, same header): the memo answers as before, so it read nothing
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(file, Buffer.from(bytes.toString('latin1').replace('value 250', 'VALUE 250').replace('value 1\n', 'VALUE 1\n'), 'latin1'));
      expect(run(file, memoFile, ['k1', 'k250', 'nope', 'k3'])).toEqual(['value 1', 'value 250', null, 'value 3']);
      // a run that learned nothing writes nothing
      const before = fs.readFileSync(memoFile, 'utf8');
      expect(run(file, memoFile, ['k1', 'k3'])).toEqual(['value 1', 'value 3']);
      expect(fs.readFileSync(memoFile, 'utf8')).toBe(before);
    });
  });

  it('never answers for a file written again (another id), nor from a line that does not parse', () => {
    withDir((dir) => {
      const file = path.join(dir, 'f');
      const memoFile = path.join(dir, 'memo.jsonl');
      writeSortedLines(file, { id: 'a'.repeat(40) }, entries);
      expect(run(file, memoFile, ['k7', 'k8'])).toEqual(['value 7', 'value 8']);
      writeSortedLines(file, { id: 'b'.repeat(40) }, entries.map(([k, v]) => [k, `new ${v}`]));
      expect(run(file, memoFile, ['k7'])).toEqual(['new value 7']);
      // a file without an id is never remembered
      writeSortedLines(file, {}, entries);
      const size = fs.statSync(memoFile).size;
      expect(run(file, memoFile, ['k9'])).toEqual(['value 9']);
      expect(fs.statSync(memoFile).size).toBe(size);
      // a torn last line (a kill mid-append) and a garbled one are skipped; the rest still answers
      writeSortedLines(file, { id: 'c'.repeat(40) }, entries);
      expect(run(file, memoFile, ['k1', 'k2'])).toEqual(['value 1', 'value 2']);
      const lines = fs.readFileSync(memoFile, 'utf8').split('\n');
      const k1 = lines.findIndex((l) => l.includes('"k1"'));
      lines[k1] = lines[k1]!.replace('value 1', 'WRONG').slice(0, -3);
      fs.writeFileSync(memoFile, `${lines.join('\n')}["${'c'.repeat(40)}:`);
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(file, Buffer.from(bytes.toString('latin1').replace('value 2\n', 'VALUE 2\n'), 'latin1'));
      expect(run(file, memoFile, ['k1', 'k2'])).toEqual(['value 1', 'value 2']);
    });
  });

  it('is written again with only the files in use once it holds mostly lines of others', () => {
    withDir((dir) => {
      const memoFile = path.join(dir, 'memo.jsonl');
      const files = ['a', 'b', 'c'].map((n) => {
        const file = path.join(dir, n);
        writeSortedLines(file, { id: n.repeat(40) }, entries);
        return file;
      });
      // one run that uses all three
      const memo = LookupMemo.read(memoFile);
      for (const file of files) {
        const lines = SortedLines.open(file, memo)!;
        for (const [k] of entries.slice(0, 100)) lines.get(k);
        lines.close();
      }
      memo.save();
      expect(fs.readFileSync(memoFile, 'utf8').trim().split('\n')).toHaveLength(300);
      // a run that uses only c (a and b were written again elsewhere) and learns one key: c's lines alone are kept
      expect(run(files[2]!, memoFile, ['k100'])).toEqual(['value 100']);
      const kept = fs.readFileSync(memoFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(kept).toHaveLength(101);
      expect(new Set(kept.map((e) => e[0]))).toEqual(new Set([`${'c'.repeat(40)}:${fs.statSync(files[2]!).size}`]));
      expect(run(files[2]!, memoFile, ['k5', 'k100'])).toEqual(['value 5', 'value 100']);
    });
  });
});
