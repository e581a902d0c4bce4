// W2 (../shared/docs/benchmarks.md): a W1 churn, every live allocation freed, then one reporting sweep with a
// device that answers at once (linux-6.1, capacity 32, order 9) until the worker rests. Small here; the
// benchmark runs it at N = 2^22.
import { describe, expect, it } from 'vitest';
import { w2 } from '../src/bench/w2.js';

describe('W2 drain', () => {
  it('reports the freed memory in batches of at most 32 blocks of order 9 or 10 and goes idle', () => {
    const n = 2 ** 16;
    const r = w2(n, 1, 100_000);
    // Everything was freed: the whole guest comes back as order-10 blocks (64 of them), all reported.
    expect(r.pagesReported).toBe(n);
    expect(r.reportCalls).toBe(Math.ceil(n / 1024 / 32));
    expect(r.passes).toBeGreaterThanOrEqual(1);
    expect(r.simSecondsUntilIdle).toBeGreaterThan(0);
  });
});
