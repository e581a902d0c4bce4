// rmqueue_pcplist: an allocation takes the newest block (list head); an empty list is first refilled with
// max(batch >> order, 2) blocks (batch itself when batch is 1), taken one by one from the buddy and appended.
import { describe, it, expect } from 'vitest';
import { MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { MOVABLE, HIGHATOMIC } = MigrateType;
const PINDEX_MOVABLE_0 = 1;

describe.each(allocatorFactories)('per-cpu refill ($name)', (f) => {
  it('refills in buddy order at the tail, serves from the head; a free goes back to the head', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 100, pcpBatch: 4 }));
    expect(a.alloc(0, MOVABLE)).toBe(0);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([1, 2, 3]);
    expect(a.pcpPages(0)).toBe(3);
    expect(a.freePages(0)).toBe(4096 - 4);
    expect(a.pfnState(2)).toMatchObject({ kind: 'pcp', cpu: 0, mt: MOVABLE });
    a.free(0, 0);
    expect(a.pcpList(0, 0, PINDEX_MOVABLE_0)).toEqual([0, 1, 2, 3]);
    expect(a.alloc(0, MOVABLE)).toBe(0);
    a.check();
  });

  it('refill size is max(batch >> order, 2) blocks', () => {
    const a = booted(f, smallGuest({ pages: 16384, pcp: true, pcpHigh: 5000, pcpBatch: 63 }));
    const steps: Array<[number, number]> = [
      [0, 62 * 1], // 63 blocks, one served
      [1, 30 * 2], // 31 blocks
      [2, 14 * 4], // 15 blocks
      [3, 6 * 8], // 7 blocks
      [9, 1 * 512], // 63 >> 9 = 0, so 2 blocks
    ];
    let expected = 0;
    for (const [order, left] of steps) {
      expect(a.alloc(order, MOVABLE)).toBeGreaterThanOrEqual(0);
      expected += left;
      expect(a.pcpPages(0), `order ${order}`).toBe(expected);
    }
    a.check();
  });

  it('batch 1 refills exactly one block', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 4, pcpBatch: 1 }));
    expect(a.alloc(0, MOVABLE)).toBe(0);
    expect(a.alloc(2, MOVABLE)).toBe(4);
    expect(a.pcpPages(0)).toBe(0);
  });

  it('HIGHATOMIC requests bypass the per-cpu lists', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 100, pcpBatch: 4 }));
    a.moveFreePagesBlock(0, HIGHATOMIC);
    expect(a.alloc(0, HIGHATOMIC)).toBe(0);
    expect(a.pcpPages(0)).toBe(0);
    a.check();
  });

  it('per-cpu lists switched off: every order goes straight to the buddy', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: false }));
    expect(a.alloc(0, MOVABLE)).toBe(0);
    expect(a.pcpPages(0)).toBe(0);
    expect(a.free(0, 0)).toEqual({ to: 'buddy', pfn: 0, order: 10 });
  });
});
