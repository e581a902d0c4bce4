// Merging across a pageblock boundary (order >= 9) stops when the two pageblock types differ and one of them
// is unmergeable (6.1, linux-next) or is ISOLATE (5.7). Below pageblock order nothing stops a merge.
import { describe, it, expect } from 'vitest';
import { type Allocator, type ProfileName, MigrateType } from '../src/core/types.js';
import { type AllocatorFactory, allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE, HIGHATOMIC, ISOLATE } = MigrateType;

/**
 * Two order-9 allocations fill both pageblocks of a 1024-page zone; pageblock 1 gets type `mt`; then 0 is freed
 * (MOVABLE list) and 512 is freed with its pageblock's type.
 */
function freeNextToRetypedBlock(f: AllocatorFactory, profile: ProfileName, mt: MigrateType): Allocator {
  const a = booted(f, smallGuest({ pages: 1024, profile }));
  expect(a.alloc(9, MOVABLE)).toBe(0);
  expect(a.alloc(9, MOVABLE)).toBe(512);
  a.setPageblockMt(512, mt);
  a.free(0, 9);
  a.free(512, 9);
  a.check();
  return a;
}

describe.each(allocatorFactories)('merging at a pageblock boundary ($name)', (f) => {
  it.each(['linux-6.1', 'linux-next'] as ProfileName[])('%s: MOVABLE and HIGHATOMIC neighbours do not merge', (profile) => {
    const a = freeNextToRetypedBlock(f, profile, HIGHATOMIC);
    expect(a.buddyinfo()[0]!.slice(9)).toEqual([2, 0]);
    expect(a.freeList(0, 9, MOVABLE)).toEqual([0]);
    expect(a.freeList(0, 9, HIGHATOMIC)).toEqual([512]);
  });

  it('5.7: MOVABLE and HIGHATOMIC neighbours merge, onto the list of the block being freed', () => {
    const a = freeNextToRetypedBlock(f, 'linux-5.7', HIGHATOMIC);
    expect(a.buddyinfo()[0]!.slice(9)).toEqual([0, 1]);
    expect(a.freeList(0, 10, HIGHATOMIC)).toEqual([0]);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([]);
  });

  it.each(['linux-5.7', 'linux-6.1', 'linux-next'] as ProfileName[])('%s: different mergeable types merge', (profile) => {
    const a = freeNextToRetypedBlock(f, profile, UNMOVABLE);
    expect(a.buddyinfo()[0]!.slice(9)).toEqual([0, 1]);
    expect(a.freeList(0, 10, UNMOVABLE)).toEqual([0]);
  });

  it.each(['linux-5.7', 'linux-6.1', 'linux-next'] as ProfileName[])('%s: an ISOLATE neighbour never merges and is not free memory', (profile) => {
    const a = freeNextToRetypedBlock(f, profile, ISOLATE);
    expect(a.freeList(0, 9, ISOLATE)).toEqual([512]);
    expect(a.freeList(0, 9, MOVABLE)).toEqual([0]);
    expect(a.freePages(0)).toBe(512);
  });

  it('below pageblock order a free merges with buddies of any list, up to the boundary rule', () => {
    for (const profile of ['linux-5.7', 'linux-6.1'] as ProfileName[]) {
      const a = booted(f, smallGuest({ pages: 1024, profile }));
      expect([a.alloc(0, MOVABLE), a.alloc(0, MOVABLE)]).toEqual([0, 1]);
      a.free(1, 0); // MOVABLE list
      a.setPageblockMt(0, HIGHATOMIC);
      a.free(0, 0); // HIGHATOMIC: absorbs 1, 2/1, 4/2 .. 256/8 from the MOVABLE lists
      if (profile === 'linux-6.1') {
        expect(a.freeList(0, 9, HIGHATOMIC)).toEqual([0]);
        expect(a.freeList(0, 9, MOVABLE)).toEqual([512]);
      } else {
        expect(a.freeList(0, 10, HIGHATOMIC)).toEqual([0]);
      }
      a.check();
    }
  });

  it('NR_FREE_PAGES stays equal to the pages on non-ISOLATE lists when a merge crosses the ISOLATE line', () => {
    // A raw retype to ISOLATE leaves the pageblock's free blocks on their old lists; a later free in that
    // pageblock goes to the ISOLATE list and absorbs them.
    const a = booted(f, smallGuest({ pages: 1024 }));
    expect([a.alloc(0, MOVABLE), a.alloc(0, MOVABLE)]).toEqual([0, 1]);
    a.free(1, 0);
    a.setPageblockMt(0, ISOLATE);
    a.free(0, 0);
    expect(a.freeList(0, 9, ISOLATE)).toEqual([0]);
    expect(a.freeList(0, 9, MOVABLE)).toEqual([512]);
    expect(a.freePages(0)).toBe(512);
    a.check();
  });
});
