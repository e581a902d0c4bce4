// A page leaving a per-cpu list that merges into a LOWER buddy becomes an interior page of the merged block:
// it must not stay a per-cpu head (a real bug once: the wasm bulk free left the PCP mark behind).
import { describe, it, expect } from 'vitest';
import { allocatorFactories, smallGuest } from './helpers/factories.js';

describe.each(allocatorFactories)('$name: per-cpu page merging downward', ({ make }) => {
  it('bulk free of an odd pfn whose even buddy is free leaves one clean block', () => {
    const a = make(smallGuest({ pages: 4096, pcp: true, pcpHigh: 4, pcpBatch: 2 }));
    a.boot();
    const even = a.alloc(0, 1);
    const odd = a.alloc(0, 1, { cpu: 0 });
    expect(odd).toBe(even + 1);
    a.free(even, 0, { direct: true });
    expect(a.free(odd, 0).to).toBe('pcp');
    a.drainPcp();
    a.check();
    const s = a.pfnState(odd);
    expect(s.kind).toBe('free');
    expect(s.isHead).toBe(false);
    expect(s.head).toBeLessThan(odd);
    expect(a.buddyinfo()[0]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
  });
});
