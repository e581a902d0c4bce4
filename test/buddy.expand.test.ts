// expand: splitting a larger block for a smaller request hands back the upper half at every level, each as a
// fresh Buddy head at the front of its order's list of the request's type, never Reported.
import { describe, it, expect } from 'vitest';
import { type ProfileName, CycleResult, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE } = MigrateType;

describe.each(allocatorFactories)('expand ($name)', (f) => {
  it.each(['linux-5.7', 'linux-6.1', 'linux-next'] as ProfileName[])('%s: one upper half per order between request and block', (profile) => {
    const a = booted(f, smallGuest({ pages: 1024, profile }));
    expect(a.alloc(3, MOVABLE)).toBe(0);
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]]);
    for (let o = 3; o <= 9; o++) {
      expect(a.freeList(0, o, MOVABLE)).toEqual([1 << o]);
      expect(a.pfnState(1 << o)).toMatchObject({ kind: 'free', isHead: true, order: o, reported: false });
    }
    expect(a.pfnState(5)).toMatchObject({ kind: 'allocated', head: 0, order: 3, mt: MOVABLE });
    a.check();
  });

  it('halves of a Reported block are not Reported; the allocation clears the mark', () => {
    const a = booted(f, smallGuest({ pages: 3072 }));
    a.reportBatchReset(2);
    a.reportCycleBegin(0, 10, MOVABLE);
    expect(a.reportCycleStep()).toBe(CycleResult.REPORT); // 0 and 1024 isolated, 2048 waits
    a.reportDrain(true); // putback 1024 then 0, each to the tail, both stay order 10: Reported
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 1024, 0]);
    expect(a.pfnState(1024).reported).toBe(true);

    expect(a.alloc(10, MOVABLE)).toBe(2048);
    expect(a.alloc(0, MOVABLE)).toBe(1024);
    expect(a.pfnState(1024)).toMatchObject({ kind: 'allocated', reported: false });
    for (let o = 0; o <= 9; o++) {
      const half = 1024 + (1 << o);
      expect(a.freeList(0, o, MOVABLE)[0]).toBe(half);
      expect(a.pfnState(half)).toMatchObject({ kind: 'free', order: o, reported: false });
    }
    expect(a.pfnState(0).reported).toBe(true);
    a.check();
  });

  it('the halves go to the lists of the requested type', () => {
    // An UNMOVABLE request on an all-MOVABLE zone steals the order-10 block first (fallback), then splits it.
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(0, UNMOVABLE)).toBe(0);
    for (let o = 0; o <= 9; o++) expect(a.freeList(0, o, UNMOVABLE)).toEqual([1 << o]);
    expect(a.pagetypeinfo()[0]![MOVABLE]).toEqual(new Array(11).fill(0));
    a.check();
  });
});
