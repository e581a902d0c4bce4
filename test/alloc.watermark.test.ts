// Zone watermarks and the zonelist: zones are tried from the highest allowed down, first against the low mark,
// then against min; lowmem_reserve holds a lower zone's pages back; order > 0 needs a big enough free block on a
// mergeable list. A failure is counted (and counted again while pages are in flight) and changes nothing else.
import { describe, it, expect } from 'vitest';
import { type Allocator, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, multiZoneGuest, smallGuest, snapshot } from './helpers/factories.js';

const { MOVABLE, HIGHATOMIC } = MigrateType;

function allocUntilFailure(a: Allocator, order = 0, opts = {}): number[] {
  const pfns: number[] = [];
  for (;;) {
    const p = a.alloc(order, MOVABLE, opts);
    if (p < 0) return pfns;
    pfns.push(p);
  }
}

describe.each(allocatorFactories)('watermarks ($name)', (f) => {
  it('allocations stop when free pages would not stay above min; the failure is counted and changes nothing', () => {
    const a = booted(f, smallGuest({ pages: 1024, watermarks: { min: 100, low: 200, high: 300 } }));
    const pfns = allocUntilFailure(a);
    expect(pfns).toHaveLength(1024 - 100);
    expect(a.freePages(0)).toBe(100);
    expect(a.counters().allocFailures).toBe(1);
    const before = snapshot(a) as { counters: object };
    expect(a.alloc(0, MOVABLE)).toBe(-1);
    const after = snapshot(a) as { counters: object };
    expect({ ...after, counters: null }).toEqual({ ...before, counters: null });
    expect(a.counters().allocFailures).toBe(2);
    a.check();
  });

  it('the low round prefers a lower zone to dipping below low in a higher one; the min round comes after', () => {
    const a = booted(f, multiZoneGuest([
      { name: 'DMA32', startPfn: 0, endPfn: 1024 },
      { name: 'Normal', startPfn: 1024, endPfn: 2048, watermarks: { min: 10, low: 100, high: 150 } },
    ]));
    const pfns = allocUntilFailure(a);
    // Normal down to low (924 pages), then all of DMA32 (1024), then Normal down to min (90).
    expect(pfns).toHaveLength(924 + 1024 + 90);
    expect(pfns.slice(0, 924).every((p) => p >= 1024)).toBe(true);
    expect(pfns.slice(924, 924 + 1024).every((p) => p < 1024)).toBe(true);
    expect(pfns.slice(924 + 1024).every((p) => p >= 1024)).toBe(true);
    expect([a.freePages(0), a.freePages(1)]).toEqual([0, 10]);
    a.check();
  });

  it('lowmem_reserve keeps a lower zone\'s pages from requests that may use a higher zone', () => {
    const a = booted(f, multiZoneGuest([
      { name: 'DMA32', startPfn: 0, endPfn: 1024, lowmemReserve: [0, 512] },
      { name: 'Normal', startPfn: 1024, endPfn: 2048 },
    ]));
    const pfns = allocUntilFailure(a);
    expect(pfns).toHaveLength(1024 + 512);
    expect(a.freePages(0)).toBe(512);
    // A request limited to DMA32 sees no reserve.
    expect(a.alloc(0, MOVABLE, { highestZone: 0 })).toBeGreaterThanOrEqual(0);
    expect(a.alloc(0, MOVABLE, { highestZone: 1 })).toBe(-1);
    a.check();
  });

  it('an order > 0 request needs a free block of that order or more', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    const pfns = allocUntilFailure(a);
    expect(pfns).toHaveLength(1024);
    for (const p of pfns) if (p % 2 === 1) a.free(p, 0); // 512 order-0 blocks that cannot merge
    expect(a.freePages(0)).toBe(512);
    expect(a.alloc(1, MOVABLE)).toBe(-1);
    expect(a.alloc(0, MOVABLE)).toBeGreaterThanOrEqual(0);
    a.check();
  });

  it('blocks on a HIGHATOMIC list do not satisfy the high-order check of other types', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    a.moveFreePagesBlock(0, HIGHATOMIC);
    expect(a.alloc(1, MOVABLE)).toBe(-1);
    expect(a.counters().allocFailures).toBe(1);
  });

  it('failures while pages are isolated are also counted as in-flight failures', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.isolate(0, 10)).toBe(true);
    expect(a.alloc(10, MOVABLE)).toBe(1024);
    expect(a.alloc(0, MOVABLE)).toBe(-1);
    expect(a.counters()).toMatchObject({ allocFailures: 1, allocFailuresInFlight: 1 });
    a.putback(0, 10);
    expect(a.alloc(10, MOVABLE)).toBe(0);
    expect(a.alloc(0, MOVABLE)).toBe(-1);
    expect(a.counters()).toMatchObject({ allocFailures: 2, allocFailuresInFlight: 1 });
  });
});
