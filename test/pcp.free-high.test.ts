// free_high (6.1): a free of order 1..3 while free_factor > 0 (frees have outrun allocations) flushes every
// per-cpu list of that cpu and zone; in 5.7 only order 0 uses the lists at all.
import { describe, it, expect } from 'vitest';
import { type Allocator, MigrateType } from '../src/core/types.js';
import { type AllocatorFactory, allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { MOVABLE } = MigrateType;
const PINDEX_MOVABLE_0 = 1;
const PINDEX_MOVABLE_1 = 4;

/**
 * 6.1, high 8, batch 2. An order-1 block at 0 is allocated (its refill partner 2/1 is drained back), then eight
 * order-0 pages 2..9 are allocated and freed: the eighth free sends 2 and 3 back and sets free_factor to 1.
 */
function primed(f: AllocatorFactory): Allocator {
  const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 8, pcpBatch: 2 }));
  expect(a.alloc(1, MOVABLE)).toBe(0);
  expect(a.pcpList(0, 0, PINDEX_MOVABLE_1)).toEqual([2]);
  a.drainPcp(0);
  const pfns = Array.from({ length: 8 }, () => a.alloc(0, MOVABLE));
  expect(pfns).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  for (const p of pfns) a.free(p, 0);
  expect(a.counters().pcpDrains).toBe(2);
  expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([9, 8, 7, 6, 5, 4]);
  return a;
}

describe.each(allocatorFactories)('free_high ($name)', (f) => {
  it('6.1: an order-1 free after a bulk free flushes all lists of the cpu', () => {
    const a = primed(f);
    expect(a.free(0, 1)).toEqual({ to: 'pcp', pfn: 0, order: 1 });
    expect(a.counters().pcpDrains).toBe(3);
    expect(a.pcpPages(0)).toBe(0);
    // Everything is back in the buddy and merges up to the four order-10 blocks.
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]]);
    expect(a.freePages(0)).toBe(4096);
    a.check();
  });

  it('6.1: after an allocation halves free_factor to 0 the order-1 free stays on its list', () => {
    const a = primed(f);
    expect(a.alloc(0, MOVABLE)).toBe(9);
    a.free(0, 1);
    expect(a.counters().pcpDrains).toBe(2);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_1)).toEqual([0]);
    expect(a.pcpPages(0)).toBe(5 + 2);
    a.check();
  });

  it('5.7: order 1 bypasses the per-cpu lists', () => {
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-5.7', pcp: true, pcpHigh: 8, pcpBatch: 2 }));
    const p = a.alloc(1, MOVABLE);
    expect(p).toBe(3072); // 5.7 boot leaves 3072/10 first
    expect(a.pcpPages(0)).toBe(0);
    expect(a.free(p, 1)).toEqual({ to: 'buddy', pfn: 3072, order: 10 });
    a.check();
  });
});
