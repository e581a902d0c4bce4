// Per-cpu lists give pages back in bulk once their count reaches `high`: oldest pages first, starting with the
// freed page's list; in 6.1 each consecutive bulk free doubles (free_factor) until an allocation halves it.
import { describe, it, expect } from 'vitest';
import { type Allocator, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE } = MigrateType;
/** pcpList index of order 0, per type. */
const PINDEX_UNMOVABLE_0 = 0;
const PINDEX_MOVABLE_0 = 1;

/** Free `pfns` one by one (order 0); return the size of every bulk free they triggered, in order. */
function drainSizes(a: Allocator, pfns: number[], stopAfter = Infinity): { sizes: number[]; freed: number } {
  const sizes: number[] = [];
  let freed = 0;
  for (const pfn of pfns) {
    const before = a.pcpPages(0);
    const drains = a.counters().pcpDrains;
    a.free(pfn, 0);
    freed++;
    if (a.counters().pcpDrains !== drains) {
      sizes.push(before + 1 - a.pcpPages(0));
      if (sizes.length >= stopAfter) break;
    }
  }
  return { sizes, freed };
}

describe.each(allocatorFactories)('per-cpu bulk free ($name)', (f) => {
  it('the free that brings count to high sends batch pages back, oldest first', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 8, pcpBatch: 2 }));
    const pfns = Array.from({ length: 8 }, () => a.alloc(0, MOVABLE));
    expect(pfns).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.pcpPages(0)).toBe(0);
    for (const pfn of pfns.slice(0, 7)) expect(a.free(pfn, 0)).toEqual({ to: 'pcp', pfn, order: 0 });
    expect(a.pcpPages(0)).toBe(7);
    expect(a.counters().pcpDrains).toBe(0);
    a.free(7, 0);
    expect(a.counters().pcpDrains).toBe(1);
    expect(a.pcpPages(0)).toBe(6);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([7, 6, 5, 4, 3, 2]);
    // 0 and 1 reached the buddy and merged; 2 is still on the per-cpu list.
    expect(a.pfnState(0)).toMatchObject({ kind: 'free', order: 1 });
    expect(a.freePages(0)).toBe(4096 - 6);
    a.check();
  });

  it('6.1: consecutive bulk frees double, 63 126 252 504 1008 2016, then stay; an allocation halves the factor', () => {
    const a = booted(f, smallGuest({ pages: 32768, pcp: true, pcpHigh: 5000, pcpBatch: 63 }));
    const pfns = Array.from({ length: 16000 }, () => a.alloc(0, MOVABLE));
    expect(pfns.every((p) => p >= 0)).toBe(true);
    const { sizes, freed } = drainSizes(a, pfns, 7);
    expect(sizes).toEqual([63, 126, 252, 504, 1008, 2016, 2016]);
    // free_factor 5 -> 2 on this allocation, so the next bulk free is 63 << 2.
    expect(a.alloc(0, MOVABLE)).toBeGreaterThanOrEqual(0);
    expect(drainSizes(a, pfns.slice(freed), 1).sizes).toEqual([252]);
    a.check();
  });

  it('5.7: no free_factor, every bulk free is one batch', () => {
    // 5.7 high = 6 * batch = 378. 700 allocations take 12 refills of 63, leaving 56 on the list; the frees
    // reach 378 after 322 of them, then every 63 more: 7 bulk frees.
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-5.7', pcp: true, pcpBatch: 63 }));
    const pfns = Array.from({ length: 700 }, () => a.alloc(0, MOVABLE));
    expect(a.pcpPages(0)).toBe(56);
    expect(drainSizes(a, pfns).sizes).toEqual(new Array(7).fill(63));
    a.check();
  });

  it('6.1: a bulk free starts with the freed page\'s list and goes round robin to the next non-empty one', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 8, pcpBatch: 2 }));
    // UNMOVABLE requests steal 0/10 (pageblocks 0 and 1 become UNMOVABLE); MOVABLE ones split 1024/10.
    expect(Array.from({ length: 7 }, () => a.alloc(0, UNMOVABLE))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(a.alloc(0, MOVABLE)).toBe(1024);
    expect(a.pcpList(0, 0, PINDEX_UNMOVABLE_0)).toEqual([7]);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([1025]);

    // count 2 + six frees = 8 = high: batch (2) from the UNMOVABLE list's tail: 7 and 0.
    for (const pfn of [0, 1, 2, 3, 4, 5]) a.free(pfn, 0);
    expect(a.counters().pcpDrains).toBe(1);
    expect(a.pcpList(0, 0, PINDEX_UNMOVABLE_0)).toEqual([5, 4, 3, 2, 1]);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([1025]);

    // free_factor is 1 now: the next bulk free is 4 pages, starting at the MOVABLE list (2 pages), then the
    // round robin reaches the UNMOVABLE list and takes its 2 oldest.
    a.free(6, 0);
    a.free(1024, 0);
    expect(a.counters().pcpDrains).toBe(2);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([]);
    expect(a.pcpList(0, 0, PINDEX_UNMOVABLE_0)).toEqual([6, 5, 4, 3]);
    expect(a.pcpPages(0)).toBe(4);
    a.check();
  });

  it('drainPcp empties one cpu\'s lists and leaves the other cpu alone', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, cpus: 2, pcpHigh: 64, pcpBatch: 4 }));
    const p0 = a.alloc(0, MOVABLE, { cpu: 0 });
    const p1 = a.alloc(0, MOVABLE, { cpu: 1 });
    expect(a.pcpPages(0)).toBe(6);
    expect(a.pcpList(1, 0, PINDEX_MOVABLE_0)).toHaveLength(3);
    a.drainPcp(0);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([]);
    expect(a.pcpList(1, 0, PINDEX_MOVABLE_0)).toHaveLength(3);
    expect(a.pcpPages(0)).toBe(3);
    a.free(p0, 0, { cpu: 0 });
    a.free(p1, 0, { cpu: 1 });
    a.drainPcp();
    expect(a.pcpPages(0)).toBe(0);
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]]);
    a.check();
  });
});
