// freeRange (not part of Allocator; importers and trace replay): [pfn, pfn + 2^order) must consist of allocated
// blocks lying wholly inside it; all of them are released and the range is freed directly as one block.
import { describe, it, expect } from 'vitest';
import type { SimErrorCode } from '../src/core/errors.js';
import { type Allocator, type FreeOptions, type FreeResult, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, expectSimError, smallGuest, snapshot } from './helpers/factories.js';

const { MOVABLE } = MigrateType;

type WithFreeRange = Allocator & { freeRange(pfn: number, order: number, opts?: FreeOptions): FreeResult };

const withFreeRange = allocatorFactories.filter((f) => 'freeRange' in f.make(smallGuest({ pages: 512 })));

describe.each(withFreeRange)('freeRange ($name)', (f) => {
  const make = (pages = 2048): WithFreeRange => f.make(smallGuest({ pages })) as WithFreeRange;

  it('frees a range of order-0 allocations (the pre-boot state) as one block', () => {
    const a = make();
    expect(a.freeRange(1024, 10)).toEqual({ to: 'buddy', pfn: 1024, order: 10 });
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]);
    expect(a.freePages(0)).toBe(1024);
    expect(a.pfnState(1500)).toMatchObject({ kind: 'free', head: 1024 });
    expect(a.pfnState(5)).toMatchObject({ kind: 'allocated', head: 5, order: 0 });
    a.check();
  });

  it('releases allocations of different orders inside the range, and the block merges as a free does', () => {
    const a = booted(f, smallGuest({ pages: 1024 })) as WithFreeRange;
    expect([a.alloc(0, MOVABLE), a.alloc(0, MOVABLE), a.alloc(1, MOVABLE)]).toEqual([0, 1, 2]);
    expect(a.freeRange(0, 2)).toEqual({ to: 'buddy', pfn: 0, order: 10 });
    a.check();
  });

  it('honours toTail and skipNotify', () => {
    const a = make(3072);
    a.setReportingOrder(9);
    a.freeRange(0, 10);
    a.freeRange(2048, 10, { toTail: true, skipNotify: true });
    expect(a.takeNotifications()).toBe(1);
    a.freeRange(1024, 9, { toTail: true });
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 2048]);
    expect(a.freeList(0, 9, MOVABLE)).toEqual([1024]);
    a.check();
  });

  function expectRejected(a: WithFreeRange, pfn: number, order: number, code: SimErrorCode, value: number): void {
    const before = snapshot(a);
    expectSimError(() => a.freeRange(pfn, order), code, value);
    expect(snapshot(a)).toEqual(before);
    a.check();
  }

  it('refuses ranges holding anything but allocations wholly inside', () => {
    const a = booted(f, smallGuest({ pages: 2048, holes: [[1030, 1040]] })) as WithFreeRange;
    expect(a.isolate(0, 10)).toBe(true);
    const q = a.alloc(2, MOVABLE);
    expect(a.pfnState(q).kind).toBe('allocated');
    expectRejected(a, 0, 10, 'NOT_ALLOCATED', 0); // in flight
    expectRejected(a, q, 1, 'WRONG_ORDER', q); // the allocation is larger than the range
    expectRejected(a, q + 2, 1, 'NOT_ALLOCATED', q + 2); // inside a larger allocation
    expectRejected(a, q & ~7, 3, 'NOT_ALLOCATED', q & ~7); // partly free
    expectRejected(a, 1027, 1, 'MISALIGNED', 1027);
    // Before boot everything present is allocated, so the walk reaches the hole.
    const b = f.make(smallGuest({ pages: 2048, holes: [[1030, 1040]] })) as WithFreeRange;
    expectRejected(b, 1024, 4, 'PFN_IN_HOLE', 1024);
    // One page freed deep inside a pre-boot range (the run of equal order-0 pages is broken far from its ends).
    const c = make();
    c.free(709, 0, { direct: true });
    expectRejected(c, 512, 9, 'NOT_ALLOCATED', 512);
  });

  it('a pre-boot range whose pages differ (another migratetype, a larger block) is released all the same', () => {
    const a = make();
    a.free(709, 0, { direct: true }); // then allocated again: the same kind and order, another migratetype
    expect(a.alloc(0, MOVABLE)).toBe(709);
    expect(a.freeRange(512, 9)).toMatchObject({ to: 'buddy', order: 9, pfn: 512 });
    expect(a.pfnState(709)).toMatchObject({ kind: 'free', head: 512, order: 9 });
    a.check();
  });
});
