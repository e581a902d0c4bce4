// Where a freed block lands in its list: the likely rule (buddy_merge_likely) for a plain free, forced tail
// with toTail, and for a putback of an isolated block tail in 6.1/linux-next but the likely rule in 5.7.
import { describe, it, expect } from 'vitest';
import { type Allocator, type ProfileName, MigrateType } from '../src/core/types.js';
import { type AllocatorFactory, allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { MOVABLE } = MigrateType;
const PROFILES: ProfileName[] = ['linux-5.7', 'linux-6.1', 'linux-next'];

/**
 * One order-10 block, then five order-0 allocations: 0 (splits 1024 into 512/9 .. 1/0), 1, 2 (splits 2/1,
 * leaving 3), 3, 4 (splits 4/2 into 6/1 and 5/0). Free lists afterwards: order 0 [5], order 1 [6], 8/3 .. 512/9.
 */
function fiveAllocated(f: AllocatorFactory, profile: ProfileName): Allocator {
  const a = booted(f, smallGuest({ pages: 1024, profile }));
  const pfns = [0, 1, 2, 3, 4].map(() => a.alloc(0, MOVABLE));
  expect(pfns).toEqual([0, 1, 2, 3, 4]);
  expect(a.freeList(0, 0, MOVABLE)).toEqual([5]);
  expect(a.freeList(0, 1, MOVABLE)).toEqual([6]);
  return a;
}

describe.each(allocatorFactories)('free list placement ($name)', (f) => {
  describe.each(PROFILES)('%s', (profile) => {
    it('a free goes to the head when the block it would pair with at order+1 is not free', () => {
      const a = fiveAllocated(f, profile);
      // pfn 2: higher = 2, hb = 0, which is allocated.
      expect(a.free(2, 0)).toEqual({ to: 'buddy', pfn: 2, order: 0 });
      expect(a.freeList(0, 0, MOVABLE)).toEqual([2, 5]);
      a.check();
    });

    it('a free goes to the tail when the likely rule holds', () => {
      const a = fiveAllocated(f, profile);
      a.free(2, 0);
      // 3 merges with 2 into 2/1; its pair at order 2 (0) is allocated: head of order 1.
      expect(a.free(3, 0)).toEqual({ to: 'buddy', pfn: 2, order: 1 });
      expect(a.freeList(0, 1, MOVABLE)).toEqual([2, 6]);
      // 1 cannot merge (0 is allocated), but 2/1 is free: 1 is likely to merge soon, so it goes last.
      a.free(1, 0);
      expect(a.freeList(0, 0, MOVABLE)).toEqual([5, 1]);
      a.check();
    });

    it('toTail forces the tail', () => {
      const a = fiveAllocated(f, profile);
      a.free(2, 0, { toTail: true });
      expect(a.freeList(0, 0, MOVABLE)).toEqual([5, 2]);
    });
  });

  it('putback of an order-0 block: 6.1 and linux-next to the tail, 5.7 by the likely rule (head here)', () => {
    const expected: Record<ProfileName, number[]> = { 'linux-5.7': [2, 5], 'linux-6.1': [5, 2], 'linux-next': [5, 2] };
    for (const profile of PROFILES) {
      const a = fiveAllocated(f, profile);
      a.free(2, 0);
      expect(a.isolate(2, 0)).toBe(true);
      expect(a.freeList(0, 0, MOVABLE)).toEqual([5]);
      expect(a.putback(2, 0)).toEqual({ to: 'buddy', pfn: 2, order: 0 });
      expect(a.freeList(0, 0, MOVABLE), profile).toEqual(expected[profile]);
      a.check();
    }
  });

  it('putback at order 10: 5.7 to the head, so the block just reported is the next one allocated', () => {
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-5.7' }));
    expect(a.freeList(0, 10, MOVABLE)).toEqual([3072, 2048, 1024, 0]);
    expect(a.isolate(0, 10)).toBe(true);
    a.putback(0, 10);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 3072, 2048, 1024]);
    expect(a.alloc(10, MOVABLE)).toBe(0);
  });

  it('putback at order 10: 6.1 and linux-next to the tail, so the block just reported is used last', () => {
    for (const profile of ['linux-6.1', 'linux-next'] as ProfileName[]) {
      const a = booted(f, smallGuest({ pages: 4096, profile }));
      expect(a.isolate(0, 10)).toBe(true);
      a.putback(0, 10);
      expect(a.freeList(0, 10, MOVABLE)).toEqual([1024, 2048, 3072, 0]);
      expect(a.alloc(10, MOVABLE)).toBe(1024);
    }
  });
});
