// __isolate_free_page / __putback_isolated_page: an isolated block is on no list and neither free nor
// allocated ("in flight"); isolation keeps free memory above min + 2^order, retypes the pageblocks of a block of
// order >= 8 to MOVABLE (mergeable types only); putback frees it again with the pageblock type of that moment.
import { describe, it, expect } from 'vitest';
import { MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest, snapshot } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, ISOLATE } = MigrateType;

describe.each(allocatorFactories)('isolation ($name)', (f) => {
  it('an isolated block is in flight: off its list, out of NR_FREE_PAGES, counted', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.isolate(0, 10)).toBe(true);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([1024]);
    expect(a.buddyinfo()[0]![10]).toBe(1);
    expect(a.freePages(0)).toBe(1024);
    expect(a.pfnState(0)).toMatchObject({ kind: 'inflight', head: 0, order: 10, isHead: true });
    expect(a.pfnState(700)).toMatchObject({ kind: 'inflight', head: 0, isHead: false });
    expect(a.counters()).toMatchObject({ inflightPages: 1024, inflightPeak: 1024 });
    a.check();
    expect(a.putback(0, 10)).toEqual({ to: 'buddy', pfn: 0, order: 10 });
    expect(a.counters()).toMatchObject({ inflightPages: 0, inflightPeak: 1024 });
    expect(a.freePages(0)).toBe(2048);
    a.check();
  });

  it('fails, counted and without change, unless free pages exceed min + 2^order', () => {
    const a = booted(f, smallGuest({ pages: 2048, watermarks: { min: 1000, low: 1000, high: 1000 } }));
    expect(a.isolate(0, 10)).toBe(true); // 2048 > 1000 + 1024
    const before = snapshot(a) as { counters: object };
    expect(a.isolate(1024, 10)).toBe(false); // 1024 > 2024 is false
    expect({ ...(snapshot(a) as object), counters: null }).toEqual({ ...before, counters: null });
    expect(a.counters().isolateFailures).toBe(1);
    a.check();
  });

  it('a block on an ISOLATE list is taken without the watermark check', () => {
    const a = booted(f, smallGuest({ pages: 2048, watermarks: { min: 5000, low: 5000, high: 5000 } }));
    a.moveFreePagesBlock(0, ISOLATE);
    expect(a.freePages(0)).toBe(1024);
    expect(a.isolate(0, 10)).toBe(true);
    expect(a.freePages(0)).toBe(1024);
    expect(a.isolate(1024, 10)).toBe(false);
    a.check();
  });

  it('isolating order >= 8 makes the covered mergeable pageblocks MOVABLE; other types and order 7 stay', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    a.setPageblockMt(0, UNMOVABLE);
    a.setPageblockMt(512, HIGHATOMIC);
    expect(a.isolate(0, 10)).toBe(true);
    expect([a.getPageblockMt(0), a.getPageblockMt(512)]).toEqual([MOVABLE, HIGHATOMIC]);

    const b = booted(f, smallGuest({ pages: 2048 }));
    expect(b.alloc(7, MOVABLE)).toBe(0); // leaves 128/7, 256/8, 512/9 in pageblocks 0 and 1
    b.setPageblockMt(0, RECLAIMABLE);
    expect(b.isolate(128, 7)).toBe(true);
    expect(b.getPageblockMt(0)).toBe(RECLAIMABLE);
    expect(b.isolate(256, 8)).toBe(true);
    expect(b.getPageblockMt(0)).toBe(MOVABLE);
    b.check();
  });

  it('putback takes the pageblock type at that moment', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.isolate(0, 10)).toBe(true);
    a.setPageblockMt(0, UNMOVABLE);
    a.setPageblockMt(512, UNMOVABLE);
    a.putback(0, 10);
    expect(a.freeList(0, 10, UNMOVABLE)).toEqual([0]);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([1024]);
    a.check();
  });

  it('putback merges with free buddies', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.alloc(9, MOVABLE)).toBe(0); // 512/9 free
    expect(a.isolate(512, 9)).toBe(true);
    a.free(0, 9);
    expect(a.putback(512, 9)).toEqual({ to: 'buddy', pfn: 0, order: 10 });
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]]);
    a.check();
  });
});
