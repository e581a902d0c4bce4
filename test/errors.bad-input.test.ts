// Bad input throws a SimError with the right code, naming the offending value, and leaves the state unchanged.
import { describe, it, expect } from 'vitest';
import type { SimErrorCode } from '../src/core/errors.js';
import { type Allocator, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, expectSimError, smallGuest, snapshot } from './helpers/factories.js';

const { MOVABLE } = MigrateType;

/**
 * A booted 4096-page guest with a hole [3000, 3010), per-cpu lists on, 2 cpus, with an order-0 allocation p0,
 * an order-2 allocation q, the block 0/10 in flight and one free order-0 block.
 */
function busyGuest(a: Allocator): { p0: number; q: number; freePfn: number } {
  const p0 = a.alloc(0, MOVABLE);
  const q = a.alloc(2, MOVABLE);
  expect(p0).toBeGreaterThanOrEqual(0);
  expect(q % 4).toBe(0);
  expect(a.isolate(0, 10)).toBe(true);
  const freePfn = a.alloc(0, MOVABLE);
  a.free(freePfn, 0, { direct: true });
  expect(a.pfnState(freePfn)).toMatchObject({ kind: 'free', isHead: true });
  return { p0, q, freePfn };
}

describe.each(allocatorFactories)('bad input ($name)', (f) => {
  const make = (): Allocator => booted(f, smallGuest({ pages: 4096, holes: [[3000, 3010]], pcp: true, cpus: 2, pcpHigh: 64, pcpBatch: 4 }));

  function expectRejected(a: Allocator, fn: () => unknown, code: SimErrorCode, value?: number): void {
    const before = snapshot(a);
    expectSimError(fn, code, value);
    expect(snapshot(a)).toEqual(before);
    a.check();
  }

  it('free of a pfn that is not an allocated head: NOT_ALLOCATED', () => {
    const a = make();
    const { q, freePfn } = busyGuest(a);
    expectRejected(a, () => a.free(freePfn, 0), 'NOT_ALLOCATED', freePfn); // free
    expectRejected(a, () => a.free(q + 1, 0), 'NOT_ALLOCATED', q + 1); // inside an allocation
    expectRejected(a, () => a.free(0, 10), 'NOT_ALLOCATED', 0); // in flight
    expectRejected(a, () => a.free(1024, 10), 'NOT_ALLOCATED', 1024); // a free order-10 block
  });

  it('double free: NOT_ALLOCATED', () => {
    const a = make();
    const { p0 } = busyGuest(a);
    a.free(p0, 0);
    expectRejected(a, () => a.free(p0, 0), 'NOT_ALLOCATED', p0);
  });

  it('free with the wrong order: WRONG_ORDER', () => {
    const a = make();
    const { q } = busyGuest(a);
    expectRejected(a, () => a.free(q, 1), 'WRONG_ORDER', q);
    expectRejected(a, () => a.free(q, 3), 'WRONG_ORDER', q);
  });

  it('order outside 0..10: BAD_ORDER', () => {
    const a = make();
    const { q } = busyGuest(a);
    expectRejected(a, () => a.free(q, 11), 'BAD_ORDER', 11);
    expectRejected(a, () => a.alloc(11, MOVABLE), 'BAD_ORDER', 11);
    expectRejected(a, () => a.alloc(-1, MOVABLE), 'BAD_ORDER', -1);
    expectRejected(a, () => a.isolate(0, 12), 'BAD_ORDER', 12);
  });

  it('pfn not aligned to the order: MISALIGNED', () => {
    const a = make();
    const { q } = busyGuest(a);
    expectRejected(a, () => a.free(q + 2, 2), 'MISALIGNED', q + 2);
    expectRejected(a, () => a.isolate(1025, 1), 'MISALIGNED', 1025);
  });

  it('pfn outside the guest: PFN_OUT_OF_RANGE', () => {
    const a = make();
    busyGuest(a);
    expectRejected(a, () => a.free(4096, 0), 'PFN_OUT_OF_RANGE', 4096);
    expectRejected(a, () => a.free(-1, 0), 'PFN_OUT_OF_RANGE', -1);
    expectRejected(a, () => a.isolate(5000, 0), 'PFN_OUT_OF_RANGE', 5000);
    expectRejected(a, () => a.pfnState(4096), 'PFN_OUT_OF_RANGE', 4096);
  });

  it('pfn in a hole: PFN_IN_HOLE', () => {
    const a = make();
    busyGuest(a);
    expectRejected(a, () => a.free(3005, 0), 'PFN_IN_HOLE', 3005);
    expectRejected(a, () => a.isolate(3005, 0), 'PFN_IN_HOLE', 3005);
    expectRejected(a, () => a.putback(3005, 0), 'PFN_IN_HOLE', 3005);
  });

  it('unknown or unusable migratetype: BAD_MIGRATETYPE (ISOLATE is not an allocation type)', () => {
    const a = make();
    busyGuest(a);
    expectRejected(a, () => a.alloc(0, 5), 'BAD_MIGRATETYPE', 5);
    expectRejected(a, () => a.alloc(0, 6 as never), 'BAD_MIGRATETYPE', 6);
    expectRejected(a, () => a.setPageblockMt(0, 6 as never), 'BAD_MIGRATETYPE', 6);
  });

  it('no such zone: BAD_ZONE; no such cpu: BAD_CPU', () => {
    const a = make();
    const { q } = busyGuest(a);
    expectRejected(a, () => a.alloc(0, MOVABLE, { highestZone: 1 }), 'BAD_ZONE', 1);
    expectRejected(a, () => a.freeList(1, 0, MOVABLE), 'BAD_ZONE', 1);
    expectRejected(a, () => a.alloc(0, MOVABLE, { cpu: 2 }), 'BAD_CPU', 2);
    expectRejected(a, () => a.free(q, 2, { cpu: 7 }), 'BAD_CPU', 7);
    expectRejected(a, () => a.drainPcp(2), 'BAD_CPU', 2);
  });

  it('isolate of a non-free block: NOT_FREE; putback of a block not in flight: NOT_INFLIGHT', () => {
    const a = make();
    const { q } = busyGuest(a);
    expectRejected(a, () => a.isolate(q, 2), 'NOT_FREE', q);
    expectRejected(a, () => a.isolate(1024, 9), 'NOT_FREE', 1024); // free, but order 10
    expectRejected(a, () => a.putback(q, 2), 'NOT_INFLIGHT', q);
    expectRejected(a, () => a.putback(1024, 10), 'NOT_INFLIGHT', 1024);
  });

  it('a report cycle step without a cycle: BAD_STATE', () => {
    const a = make();
    busyGuest(a);
    a.reportBatchReset(4);
    expectRejected(a, () => a.reportCycleStep(), 'BAD_STATE');
  });
});
