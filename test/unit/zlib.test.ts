import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

type ZlibModule = typeof import('../../src/zlib.js');

/** A fresh copy of src/zlib.ts (its binding and handle are looked up once a process), under `env`. */
async function fresh(env: Record<string, string | undefined> = {}): Promise<ZlibModule> {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return (await import('../../src/zlib.js')) as ZlibModule;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** What node:zlib throws for `data`, or null. */
function publicError(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  // compressible: runs of a few bytes (inflates to many times its size: the output buffer grows)
  fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 40 }).map((runs) => Buffer.concat(runs.map(([b, n]) => Buffer.alloc(n, b)))),
);

describe('src/zlib.ts', () => {
  it('uses the native binding on Node 20, and node:zlib when told not to', async () => {
    expect((await fresh()).nativeZlibInUse()).toBe(process.versions.node.startsWith('20.'));
    expect((await fresh({ OMNI_SHIP_PUBLIC_ZLIB: '1' })).nativeZlibInUse()).toBe(false);
    expect((await fresh({ NODE_PENDING_DEPRECATION: '1' })).nativeZlibInUse()).toBe(false);
  });

  for (const which of ['native', 'public'] as const) {
    const env = which === 'public' ? { OMNI_SHIP_PUBLIC_ZLIB: '1' } : {};

    it(`${which}: inflates what node:zlib inflates, at every level, one call after another`, async () => {
      const z = await fresh(env);
      fc.assert(
        fc.property(bytes, fc.integer({ min: 0, max: 9 }), (data, level) => {
          const deflated = zlib.deflateSync(data, { level });
          expect(Buffer.compare(z.inflate(deflated), Buffer.from(data))).toBe(0);
        }),
        { numRuns: 200 },
      );
      // one larger than any buffer guess (1 MB of one byte deflates to ≈ 1 KB)
      const big = Buffer.alloc(1 << 20, 7);
      expect(z.inflate(zlib.deflateSync(big)).equals(big)).toBe(true);
    });

    it(`${which}: throws node:zlib's error for a damaged or cut stream, and inflates the next one right`, async () => {
      const z = await fresh(env);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (data, at, flip) => {
          const deflated = zlib.deflateSync(data);
          const damaged = Buffer.from(deflated);
          damaged[at % damaged.length]! ^= flip;
          const cut = deflated.subarray(0, at % deflated.length);
          for (const bad of [damaged, cut]) {
            const expected = publicError(() => zlib.inflateSync(bad));
            const got = publicError(() => z.inflate(bad));
            expect(got).toBe(expected);
            if (expected === null) expect(z.inflate(bad).equals(zlib.inflateSync(bad))).toBe(true);
          }
          // the handle is reset after an error
          expect(z.inflate(deflated).equals(Buffer.from(data))).toBe(true);
        }),
        { numRuns: 200 },
      );
      expect(publicError(() => z.inflate(Buffer.from('not zlib at all')))).toBe('incorrect header check');
    });

    it(`${which}: inflates the start of a stream cut short, at most the bytes asked`, async () => {
      const z = await fresh(env);
      fc.assert(
        fc.property(bytes, fc.integer({ min: 2, max: 200 }), fc.integer({ min: 1, max: 100 }), (data, keep, limit) => {
          const head = zlib.deflateSync(data).subarray(0, keep);
          const expected = zlib.inflateSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, limit);
          expect(Buffer.compare(z.inflateStart(head, limit), expected)).toBe(0);
        }),
        { numRuns: 200 },
      );
    });

    it(`${which}: sums as node:zlib's crc32`, async () => {
      const z = await fresh(env);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 500 }), (data) => {
          expect(z.crc32(data)).toBe(zlib.crc32(data));
        }),
        { numRuns: 200 },
      );
    });
  }
});
