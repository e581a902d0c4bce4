// __rmqueue_fallback: when a type's own lists are empty it takes from its fallback types, largest block first;
// it claims the whole pageblock when free + alike pages reach half of it, takes the single block otherwise,
// retypes every pageblock of a block of order >= 9, and never claims a HIGHATOMIC pageblock.
import { describe, it, expect } from 'vitest';
import { MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';
import { resolveGuest } from '../src/core/config.js';

const { UNMOVABLE, MOVABLE, HIGHATOMIC, CMA } = MigrateType;
const zeros = (): number[] => new Array(11).fill(0);

describe.each(allocatorFactories)('fallback stealing ($name)', (f) => {
  it('a block of order >= 9 is taken whole: all its pageblocks change type', () => {
    const a = booted(f, smallGuest({ pages: 2048 }));
    expect(a.alloc(0, UNMOVABLE)).toBe(0);
    expect([0, 512, 1024, 1536].map((p) => a.getPageblockMt(p))).toEqual([UNMOVABLE, UNMOVABLE, MOVABLE, MOVABLE]);
    expect(a.freeList(0, 9, UNMOVABLE)).toEqual([512]);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([1024]);
    a.check();
  });

  it('claims the pageblock when free + alike pages reach 256', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(9, MOVABLE)).toBe(0);
    expect(a.alloc(0, MOVABLE)).toBe(512); // pageblock 1: 512 allocated, 513/0 .. 768/8 free (511 pages)
    // Largest fallback block is 768/8 (MOVABLE): 511 free pages move, so the pageblock becomes UNMOVABLE.
    expect(a.alloc(0, UNMOVABLE)).toBe(513);
    expect(a.getPageblockMt(512)).toBe(UNMOVABLE);
    expect(a.pagetypeinfo()[0]![MOVABLE]).toEqual(zeros());
    expect(a.pagetypeinfo()[0]![UNMOVABLE]).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    a.check();
  });

  it('moves the free pages but keeps the pageblock type when too few are free or alike', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(9, MOVABLE)).toBe(0);
    expect(a.alloc(8, MOVABLE)).toBe(512);
    expect(a.alloc(7, MOVABLE)).toBe(768); // pageblock 1: 384 pages allocated MOVABLE, 896/7 free
    // free 128 + alike (512 - 128 - 384 = 0) < 256: the type stays, the free pages moved anyway.
    expect(a.alloc(0, UNMOVABLE)).toBe(896);
    expect(a.getPageblockMt(512)).toBe(MOVABLE);
    expect(a.pagetypeinfo()[0]![UNMOVABLE]).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(a.pagetypeinfo()[0]![MOVABLE]).toEqual(zeros());
    a.check();
  });

  it('a MOVABLE request that may not claim takes the smallest fitting block, moved alone', () => {
    const a = booted(f, smallGuest({ pages: 512 }));
    a.setPageblockMt(0, UNMOVABLE);
    a.moveFreePagesBlock(0, UNMOVABLE);
    // Leave UNMOVABLE free blocks 504/3, 500/2, 498/1 and nothing else.
    expect([8, 7, 6, 5, 4, 1].map((o) => a.alloc(o, UNMOVABLE))).toEqual([0, 256, 384, 448, 480, 496]);
    expect(a.buddyinfo()).toEqual([[0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]]);
    // Largest-first finds 504/3, but order 3 < 4 cannot claim: the search restarts from the smallest order.
    expect(a.alloc(0, MOVABLE)).toBe(498);
    expect(a.getPageblockMt(0)).toBe(UNMOVABLE);
    expect(a.freeList(0, 0, MOVABLE)).toEqual([499]);
    expect(a.freeList(0, 3, UNMOVABLE)).toEqual([504]);
    expect(a.freeList(0, 2, UNMOVABLE)).toEqual([500]);
    a.check();
  });

  it('a HIGHATOMIC pageblock is never claimed: the block is taken alone even at order 9', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(9, MOVABLE)).toBe(0);
    a.setPageblockMt(512, HIGHATOMIC); // 512/9 stays on the MOVABLE list
    expect(a.alloc(0, UNMOVABLE)).toBe(512);
    expect(a.getPageblockMt(512)).toBe(HIGHATOMIC);
    expect(a.freeList(0, 8, UNMOVABLE)).toEqual([768]);
    a.check();
  });

  it('HIGHATOMIC and CMA requests have no fallback', () => {
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect(a.alloc(0, HIGHATOMIC)).toBe(-1);
    expect(a.alloc(0, CMA)).toBe(-1);
    expect(a.counters().allocFailures).toBe(2);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0]);
    a.check();
  });
});

describe.each(allocatorFactories)('ALLOC_NOFRAGMENT for a Normal-preferred allocation ($name)', (f) => {
  // DMA32 [0, 1024) and Normal [1024, 2048), watermarks 0.
  const twoZones = () => resolveGuest({
    profile: 'linux-6.1', cpus: 1, pcp: false, thp: false,
    zones: [
      { name: 'DMA32', startPfn: 0, endPfn: 1024, managed: 1024, watermarks: { min: 0, low: 0, high: 0 }, lowmemReserve: [0, 0] },
      { name: 'Normal', startPfn: 1024, endPfn: 2048, managed: 1024, watermarks: { min: 0, low: 0, high: 0 }, lowmemReserve: [0, 0] },
    ],
  });

  it('does not fragment Normal for another type while a lower zone can serve from its own lists', () => {
    const a = f.make(twoZones());
    a.boot();
    // Normal keeps only a MOVABLE block below pageblock order; DMA32's memory becomes UNMOVABLE.
    expect(a.alloc(9, MOVABLE, { highestZone: 1 })).toBe(1024);
    expect(a.alloc(8, MOVABLE, { highestZone: 1 })).toBe(1536);
    expect(a.alloc(0, UNMOVABLE, { highestZone: 0 })).toBe(0);
    expect(a.getPageblockMt(0)).toBe(UNMOVABLE);
    // With ALLOC_NOFRAGMENT the walk may take only whole pageblocks from another type: Normal has none, so
    // DMA32 serves the page from its own UNMOVABLE list and Normal's MOVABLE block stays where it is.
    expect(a.alloc(0, UNMOVABLE, { highestZone: 1 })).toBe(1);
    expect(a.freeList(1, 8, MOVABLE)).toEqual([1792]);
    a.check();
  });

  it('falls back within Normal when no zone can serve without fragmenting (the second walk, without the flag)', () => {
    const a = f.make(twoZones());
    a.boot();
    expect(a.alloc(9, MOVABLE, { highestZone: 1 })).toBe(1024);
    expect(a.alloc(8, MOVABLE, { highestZone: 1 })).toBe(1536);
    // DMA32 fully allocated MOVABLE: nothing anywhere for UNMOVABLE without a steal below pageblock order.
    expect(a.alloc(10, MOVABLE, { highestZone: 0 })).toBe(0);
    expect(a.alloc(0, UNMOVABLE, { highestZone: 1 })).toBe(1792);
    a.check();
  });
});
