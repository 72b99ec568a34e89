import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchParser } from '../../src/git/batch.js';

type Answer = { oid: string; content: Buffer } | { missing: string };

/** The bytes `git cat-file --batch` prints for these answers. */
function output(answers: readonly Answer[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of answers) {
    if ('missing' in a) parts.push(Buffer.from(`${a.missing} missing\n`));
    else parts.push(Buffer.from(`${a.oid} blob ${a.content.length}\n`), a.content, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Feeds `bytes` cut at `cuts` (positions, any order, duplicates allowed) and returns what the parser gave out. */
function parse(bytes: Buffer, cuts: readonly number[]): { oid: string; content: string }[] {
  const got: { oid: string; content: string }[] = [];
  const parser = new BatchParser((oid, content) => got.push({ oid, content: content.toString('latin1') }));
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b)) {
    parser.push(bytes.subarray(from, cut));
    from = cut;
  }
  parser.push(bytes.subarray(from));
  parser.end();
  return got;
}

const expected = (answers: readonly Answer[]) =>
  answers.flatMap((a) => ('missing' in a ? [] : [{ oid: a.oid, content: a.content.toString('latin1') }]));

const hex40 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 40, maxLength: 40 });
// contents full of newlines and header look-alikes: the parser must count bytes, never look for lines inside
const contentArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.array(fc.constantFrom('\n', ' ', 'blob', ' missing', '0', '1\n'), { maxLength: 40 }).map((a) => Buffer.from(a.join(''))),
);
const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ oid: hex40, content: contentArb }) },
  { weight: 1, arbitrary: hex40.map((m) => ({ missing: m })) },
);

describe('BatchParser (git cat-file --batch output)', () => {
  it('gives every object exactly, however the output is cut into chunks (property)', () => {
    fc.assert(
      fc.property(fc.array(answerArb, { maxLength: 8 }), fc.array(fc.nat({ max: 4000 }), { maxLength: 30 }), (answers, cuts) => {
        expect(parse(output(answers), cuts)).toEqual(expected(answers));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same answer for a cut at every single position, and for one byte at a time', () => {
    const answers: Answer[] = [
      { oid: 'a'.repeat(40), content: Buffer.from('{"v":1}\n{"v":2}\n') },
      { missing: 'b'.repeat(40) },
      { oid: 'c'.repeat(40), content: Buffer.alloc(0) },
      { oid: 'd'.repeat(40), content: Buffer.from('\n\n') },
      { oid: 'e'.repeat(40), content: Buffer.from('last') },
    ];
    const bytes = output(answers);
    for (let cut = 0; cut <= bytes.length; cut++) expect(parse(bytes, [cut])).toEqual(expected(answers));
    expect(parse(bytes, [...bytes.keys()])).toEqual(expected(answers));
  });

  it('joins a content larger than many pipe chunks, in 64 KiB chunks and in odd ones', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = i % 251 === 0 ? 10 : 32 + (i % 90);
    const answers: Answer[] = [{ oid: 'f'.repeat(40), content: big }, { oid: '1'.repeat(40), content: Buffer.from('after') }];
    const bytes = output(answers);
    const every = (n: number) => Array.from({ length: Math.ceil(bytes.length / n) }, (_, i) => i * n);
    for (const size of [65536, 4096, 65537, 1_000_003]) {
      const got = parse(bytes, every(size));
      expect(got).toHaveLength(2);
      expect(Buffer.from(got[0]!.content, 'latin1').equals(big)).toBe(true);
      expect(got[1]).toEqual({ oid: '1'.repeat(40), content: 'after' });
    }
  });

  it('says so when the output ends inside an object, or is not what cat-file prints', () => {
    const bytes = output([{ oid: 'a'.repeat(40), content: Buffer.from('abc') }]);
    for (const cut of [10, 45, bytes.length - 2, bytes.length - 1]) {
      const parser = new BatchParser(() => {});
      parser.push(bytes.subarray(0, cut));
      expect(() => parser.end()).toThrow(/ended inside an object/);
    }
    expect(() => new BatchParser(() => {}).push(Buffer.from('what is this\n'))).toThrow(/unexpected header/);
  });
});
