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
 * Lay the state on a guest fresh from construction (every present page allocated). The host holds every page
 * except those of Reported blocks (discarded when they were reported).
 */
export function applyStartState(g: WasmGuest, s: StartState): void {
  for (const [pb, mt] of s.pageblockMt) g.setPageblockMt(pb * PAGEBLOCK_PAGES, mt);
  for (const [pfn, order, mt, reported] of s.freeBlocks) g.placeFreeBlock(pfn, order, mt, true, reported === 1);
  for (const z of g.config.zones) {
    let start = z.startPfn;
    for (const [a, b] of [...z.holes, [z.endPfn, z.endPfn] as [number, number]]) {
      if (a > start) g.touch(start, a - start);
      start = b;
    }
  }
  // The host model keeps partial host pages resident, as QEMU does.
  for (const [pfn, order, , reported] of s.freeBlocks) if (reported) g.discard(pfn, 2 ** order);
}
