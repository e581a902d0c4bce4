// move_freepages_block / move_to_free_list: free blocks of one pageblock change lists, at the tail in 6.1 and
// linux-next, at the head in 5.7; nr_free and Reported stay; NR_FREE_PAGES follows the ISOLATE line.
import { describe, it, expect } from 'vitest';
import { type ProfileName, CycleResult, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE, RECLAIMABLE, ISOLATE } = MigrateType;

describe.each(allocatorFactories)('moveFreePagesBlock ($name)', (f) => {
  it.each([
    ['linux-6.1', 'tail', [1024, 0]],
    ['linux-next', 'tail', [1024, 0]],
    ['linux-5.7', 'head', [0, 1024]],
  ] as Array<[ProfileName, string, number[]]>)('%s links moved blocks at the %s', (profile, _end, expected) => {
    const a = booted(f, smallGuest({ pages: 2048, profile }));
    expect(a.moveFreePagesBlock(1024, UNMOVABLE)).toBe(1024);
    expect(a.moveFreePagesBlock(0, UNMOVABLE)).toBe(1024);
    expect(a.freeList(0, 10, UNMOVABLE)).toEqual(expected);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([]);
    expect(a.buddyinfo()[0]![10]).toBe(2);
    // The pageblock type itself is not changed by moving its free pages.
    expect(a.getPageblockMt(0)).toBe(MOVABLE);
    a.check();
  });

  it('moves only the free blocks of the pageblock and counts their pages', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(0, MOVABLE)).toBe(0); // pageblock 0 keeps 1/0, 2/1, .. 256/8 free; 512/9 is pageblock 1
    expect(a.moveFreePagesBlock(100, RECLAIMABLE)).toBe(511);
    expect(a.pagetypeinfo()[0]![RECLAIMABLE]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(a.pagetypeinfo()[0]![MOVABLE]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(a.freePages(0)).toBe(1023);
    expect(a.pfnState(0).kind).toBe('allocated');
    a.check();
  });

  it('a pageblock inside the upper half of a larger free block has no free head of its own: nothing moves', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.moveFreePagesBlock(512, UNMOVABLE)).toBe(0);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0]);
  });

  it('a moved block keeps its Reported mark', () => {
    // Isolation keeps free memory above min + 2^order, so the last block of a zone is never taken: use three.
    const a = booted(f, smallGuest({ pages: 3072 }));
    a.reportBatchReset(2);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(CycleResult.REPORT); // 0 and 1024 isolated, 2048 waits
    a.reportDrain(true);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 1024, 0]);
    expect(a.pfnState(0).reported).toBe(true);
    a.moveFreePagesBlock(0, UNMOVABLE);
    expect(a.freeList(0, 10, UNMOVABLE)).toEqual([0]);
    expect(a.pfnState(0).reported).toBe(true);
    expect(a.pfnState(1024).reported).toBe(true);
    a.check();
  });

  it('moving to ISOLATE takes the pages out of NR_FREE_PAGES, moving back returns them', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    a.moveFreePagesBlock(0, ISOLATE);
    expect(a.freePages(0)).toBe(1024);
    expect(a.freeList(0, 10, ISOLATE)).toEqual([0]);
    expect(a.buddyinfo()[0]![10]).toBe(2);
    a.check();
    a.moveFreePagesBlock(0, MOVABLE);
    expect(a.freePages(0)).toBe(2048);
    a.check();
  });
});
