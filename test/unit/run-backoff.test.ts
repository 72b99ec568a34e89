import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, backoffMs } from '../../src/pipeline/run.js';

describe('run backoff', () => {
  it('doubles from the interval after each failure, capped at 600 s', () => {
    expect(backoffMs(20_000, 0)).toBe(0);
    expect(backoffMs(20_000, 1)).toBe(20_000);
    expect(backoffMs(20_000, 2)).toBe(40_000);
    expect(backoffMs(20_000, 4)).toBe(160_000);
    expect(backoffMs(20_000, 6)).toBe(MAX_BACKOFF_MS);
    expect(MAX_BACKOFF_MS).toBe(600_000);
    // however many failures: never past the cap, never an overflow
    expect(backoffMs(20_000, 5000)).toBe(600_000);
    expect(backoffMs(100, 3)).toBe(400);
  });
});
