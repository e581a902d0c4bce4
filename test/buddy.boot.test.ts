// Boot frees the managed part of each zone in maximal aligned blocks, ascending: to the list tails in 6.1 and
// linux-next, by the likely rule in 5.7 (false at orders 9 and 10, so those go to the head).
import { describe, it, expect } from 'vitest';
import { MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE } = MigrateType;

describe.each(allocatorFactories)('boot ($name)', (f) => {
  it('6.1 frees to the tail, so the order-10 list runs in ascending pfn', () => {
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-6.1' }));
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 1024, 2048, 3072]);
    expect(a.buddyinfo()).toEqual([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]]);
    expect(a.freePages(0)).toBe(4096);
    a.check();
  });

  it('linux-next boots like 6.1', () => {
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-next' }));
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 1024, 2048, 3072]);
  });

  it('5.7 places each order-10 block at the head (likely is false there), so the list runs descending', () => {
    const a = booted(f, smallGuest({ pages: 4096, profile: 'linux-5.7' }));
    expect(a.freeList(0, 10, MOVABLE)).toEqual([3072, 2048, 1024, 0]);
    a.check();
  });

  it('an unaligned zone start and reserved pages give maximal aligned blocks below the reserved top', () => {
    // Zone [1, 1100), 2 reserved pages (1098, 1099). Blocks: 1/0 2/1 4/2 8/3 16/4 32/5 64/6 128/7 256/8 512/9,
    // then 1024/6 1088/3 1096/1 as the end (1098) approaches. None can merge: each buddy is below the zone,
    // not yet free, or reserved.
    const a = booted(f, smallGuest({ pages: 1099, startPfn: 1, managed: 1097, profile: 'linux-6.1' }));
    expect(a.buddyinfo()).toEqual([[1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 0]]);
    expect(a.freeList(0, 1, MOVABLE)).toEqual([2, 1096]);
    expect(a.freeList(0, 3, MOVABLE)).toEqual([8, 1088]);
    expect(a.freeList(0, 6, MOVABLE)).toEqual([64, 1024]);
    expect(a.freePages(0)).toBe(1097);
    for (const pfn of [1098, 1099]) {
      expect(a.pfnState(pfn)).toMatchObject({ kind: 'allocated', head: pfn, order: 0, mt: UNMOVABLE });
    }
    expect(a.pfnState(0).kind).toBe('hole');
    a.check();
  });

  it('5.7 puts a later block of the same order at the head unless its order+1 neighbour is free', () => {
    // 1096/1: higher = 1096, hb = 1100 lies outside the zone, so not likely: head.
    const a = booted(f, smallGuest({ pages: 1099, startPfn: 1, managed: 1097, profile: 'linux-5.7' }));
    expect(a.freeList(0, 1, MOVABLE)).toEqual([1096, 2]);
    expect(a.freeList(0, 3, MOVABLE)).toEqual([1088, 8]);
  });

  it('holes are skipped and never covered by a block', () => {
    // Zone [0, 2048) with a hole [520, 530): 0/9 512/3, then 530/1 532/2 536/3 544/5 576/6 640/7 768/8 1024/10.
    const holes: Array<[number, number]> = [[520, 530]];
    const a = booted(f, smallGuest({ pages: 2048, holes, profile: 'linux-6.1' }));
    expect(a.buddyinfo()).toEqual([[0, 1, 1, 2, 0, 1, 1, 1, 1, 1, 1]]);
    expect(a.freeList(0, 3, MOVABLE)).toEqual([512, 536]);
    expect(a.freePages(0)).toBe(2038);
    expect(a.pfnState(525)).toMatchObject({ kind: 'hole', head: -1 });
    a.check();

    // 5.7: 512/3 (hb 528 is a hole) and 536/3 (hb 544 not yet free) both go to the head.
    const b = booted(f, smallGuest({ pages: 2048, holes, profile: 'linux-5.7' }));
    expect(b.freeList(0, 3, MOVABLE)).toEqual([536, 512]);
    expect(b.buddyinfo()).toEqual(a.buddyinfo());
  });

  it('boot frees notify page reporting for each final block at or above the reporting order', () => {
    const a = booted(f, smallGuest({ pages: 2048, holes: [[520, 530]] }), 9);
    expect(a.takeNotifications()).toBe(2); // 0/9 and 1024/10
    expect(a.takeNotifications()).toBe(0);
    const b = booted(f, smallGuest({ pages: 4096 }), 10);
    expect(b.takeNotifications()).toBe(4);
  });

  it('boot does not use the per-cpu lists', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 64, pcpBatch: 8 }));
    expect(a.pcpPages(0)).toBe(0);
    expect(a.freePages(0)).toBe(4096);
  });
});
