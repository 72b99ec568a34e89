import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksum, nativeSha1, randomId } from '../../src/hash.js';

describe('checksum', () => {
  it('is a function of the bytes alone, however they are handed in', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.nat(300), (text, cut) => {
        const bytes = Buffer.from(text, 'utf8');
        const at = Math.min(cut, bytes.length);
        const whole = checksum().update(text).digest();
        expect(checksum().update(bytes.subarray(0, at)).update(bytes.subarray(at)).digest()).toBe(whole);
        // a view into a larger buffer (Node's pool) counts only its own bytes
        const pooled = Buffer.concat([Buffer.from('before'), bytes, Buffer.from('after')]);
        expect(checksum().update(pooled.subarray(6, 6 + bytes.length)).digest()).toBe(whole);
        expect(whole).toMatch(/^[0-9a-f]{16}\.[0-9a-f]+$/);
      }),
      { numRuns: 300 },
    );
  });

  it('changes with any byte changed, added or removed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, i, flip) => {
        const changed = Buffer.from(bytes);
        changed[i % changed.length]! ^= flip;
        const sum = checksum().update(bytes).digest();
        expect(checksum().update(changed).digest()).not.toBe(sum);
        expect(checksum().update(Buffer.concat([bytes, Buffer.from([0])])).digest()).not.toBe(sum);
        expect(checksum().update(bytes.subarray(1)).digest()).not.toBe(sum);
      }),
      { numRuns: 300 },
    );
  });
});

describe('randomId and nativeSha1', () => {
  it('gives 40 hex digits, distinct each time; node:crypto SHA-1 digests', () => {
    const ids = new Set(Array.from({ length: 1000 }, randomId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(nativeSha1().update('abc').digest('hex')).toBe(createHash('sha1').update('abc').digest('hex'));
  });
});
