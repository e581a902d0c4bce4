// A guest that starts in a recorded state instead of a fresh boot: the free blocks (list by list, in list order,
// with their Reported flags) and the pageblock migratetypes of a guest built by the importers (guestFromProc),
// as plain data a GuestRunSpec can carry. The page uses it to run policies on a dropped /proc snapshot.
import type { WasmGuest } from '../core/guest.js';
import { MIGRATE_TYPES, NR_ORDERS } from '../core/types.js';

export interface StartState {
  /** Free blocks as [pfn, order, migratetype, reported], each list head to tail. */
  freeBlocks: Array<[number, number, number, 0 | 1]>;
  /** Migratetype of every pageblock (index = pfn >> 9) that differs from MOVABLE, as [pageblock, mt]. */
  pageblockMt: Array<[number, number]>;
}

const PAGEBLOCK_PAGES = 512;
const MOVABLE = 1;

/** The free state of a guest: every free list in order, and its pageblock types. */
export function captureStartState(g: WasmGuest): StartState {
  const freeBlocks: StartState['freeBlocks'] = [];
  g.config.zones.forEach((_, z) => {
    for (let o = 0; o < NR_ORDERS; o++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        for (const pfn of g.freeList(z, o, mt)) freeBlocks.push([pfn, o, mt, g.pfnState(pfn).reported ? 1 : 0]);
      }
    }
  });
  const pageblockMt: StartState['pageblockMt'] = [];
  for (let pb = 0; pb * PAGEBLOCK_PAGES < g.config.maxPfn; pb++) {
    const mt = g.getPageblockMt(pb * PAGEBLOCK_PAGES);
    if (mt !== MOVABLE) pageblockMt.push([pb, mt]);
  }
  return { freeBlocks, pageblockMt };
}

/**
 * Lay the state on a guest fresh from construction (every present page allocated). The host holds the pages in
 * use and none of the free ones: a snapshot does not say which free pages the guest ever touched, and after boot
 * most free memory is either untouched or reported (so discarded), as after a fresh boot here.
 */
export function applyStartState(g: WasmGuest, s: StartState): void {
  for (const [pb, mt] of s.pageblockMt) g.setPageblockMt(pb * PAGEBLOCK_PAGES, mt);
  for (const [pfn, order, mt, reported] of s.freeBlocks) g.placeFreeBlock(pfn, order, mt, true, reported === 1);
  // Touch the present pages between free blocks: those in use.
  const free = s.freeBlocks.map(([pfn, order]) => [pfn, pfn + 2 ** order] as const).sort((a, b) => a[0] - b[0]);
  let k = 0;
  for (const z of g.config.zones) {
    const gaps = [...z.holes, [z.endPfn, z.endPfn] as [number, number]];
    let start = z.startPfn;
    for (const [a, b] of gaps) {
      // [start, a) is present: touch what no free block covers.
      let p = start;
      while (k < free.length && free[k]![1] <= p) k++;
      for (let j = k; j < free.length && free[j]![0] < a && p < a; j++) {
        const [fs, fe] = free[j]!;
        if (fs > p) g.touch(p, Math.min(fs, a) - p);
        p = Math.max(p, fe);
      }
      if (p < a) g.touch(p, a - p);
      start = Math.max(start, b);
    }
  }
}
