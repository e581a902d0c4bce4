// page_reporting_drain: every batch entry is put back (6.1: tail, 5.7: likely rule); after a successful report a
// block is marked Reported only if it is still a free head of the same order, i.e. it did not merge.
import { describe, it, expect } from 'vitest';
import { CycleResult, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE } = MigrateType;

describe.each(allocatorFactories)('report drain ($name)', (f) => {
  it('a block that merges on putback loses the mark; one that does not keeps it', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.alloc(9, MOVABLE)).toBe(0);
    expect(a.alloc(9, MOVABLE)).toBe(512);
    a.free(0, 9);
    a.reportBatchReset(4);
    expect(a.reportCycleBegin(0, 9, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(CycleResult.DONE); // 0/9 isolated
    a.free(512, 9); // its buddy is in flight: stays order 9
    expect(a.reportCycleBegin(0, 9, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(CycleResult.DONE); // 512/9 isolated
    expect(a.reportBatchEntries()).toEqual([[512, 9], [0, 9]]);

    a.reportDrain(true);
    // 512 came back first (0 still in flight): it was Reported, then absorbed when 0 came back and merged.
    expect(a.pfnState(0)).toMatchObject({ kind: 'free', order: 10, reported: false });
    expect(a.pfnState(512)).toMatchObject({ kind: 'free', head: 0, isHead: false, reported: false });
    expect(a.buddyinfo()[0]!.slice(9)).toEqual([0, 2]);
    a.check();
  });

  it('a failed report drains the batch unmarked', () => {
    const a = booted(f, smallGuest({ pages: 5 * 1024 }));
    a.reportBatchReset(4);
    a.reportCycleBegin(0, 10, MOVABLE);
    expect(a.reportCycleStep()).toBe(CycleResult.REPORT);
    a.reportDrain(false);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([4096, 3072, 2048, 1024, 0]);
    expect([0, 1024, 2048, 3072, 4096].some((p) => a.pfnState(p).reported)).toBe(false);
    expect(a.counters().inflightPages).toBe(0);
    expect(a.reportBatchCount()).toBe(0);
    a.check();
  });

  it('putback uses the pageblock type at drain time', () => {
    const a = booted(f, smallGuest({ pages: 5 * 1024 }));
    a.reportBatchReset(4);
    a.reportCycleBegin(0, 10, MOVABLE);
    expect(a.reportCycleStep()).toBe(CycleResult.REPORT);
    a.setPageblockMt(0, UNMOVABLE);
    a.setPageblockMt(512, UNMOVABLE);
    a.reportDrain(true);
    expect(a.freeList(0, 10, UNMOVABLE)).toEqual([0]);
    expect(a.pfnState(0).reported).toBe(true);
    a.check();
  });

  it('drained blocks do not notify page reporting', () => {
    const a = booted(f, smallGuest({ pages: 5 * 1024 }), 9);
    a.takeNotifications();
    a.reportBatchReset(4);
    a.reportCycleBegin(0, 10, MOVABLE);
    a.reportCycleStep();
    a.reportDrain(true);
    expect(a.takeNotifications()).toBe(0);
  });
});
