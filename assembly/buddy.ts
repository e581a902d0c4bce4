// The buddy algorithm: __free_one_page (merge, placement), expand, __rmqueue_smallest, the migratetype fallback.
import {
  MAX_ORDER, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, NIL, MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, MT_HIGHATOMIC,
  MT_ISOLATE, MIGRATE_PCPTYPES, PG_BUDDY, PG_ALLOCATED, PG_KIND_MASK, FREE_AREA_SIZE,
} from './layout';
import {
  getWord, setWord, buddyBits, buddyKey, nextOrderKey, interiorWord, pageblockMt, setPageblockMtRaw, kindOf,
  orderOf, mtOf,
} from './page';
import {
  freeListAddr, nrFree, nrFreeAddr, addToFreeList, freeAreaAddr, delFromFreeAreaWord, takeFirstFromFreeList,
  moveToFreeList, listHead, listEmpty,
} from './freelist';
import { zoneAddFreePages, zoneStartPfn, zoneEndPfn } from './zone';
import { maxPfn, mergeStopUnmergeable, reportingOrder, addNotify, setLastPfn } from './state';

@inline function isMergeable(mt: u32): bool { return mt < MIGRATE_PCPTYPES; }

/** May a free block of pageblock type mt merge with a buddy of type bmt across a pageblock boundary? */
@inline function mergeStopped(mt: u32, bmt: u32): bool {
  if (mt == bmt) return false;
  if (mergeStopUnmergeable) return !isMergeable(mt) || !isMergeable(bmt);
  return mt == MT_ISOLATE || bmt == MT_ISOLATE;
}

/**
 * __free_one_page. Returns the final order; the final head pfn is left in lastPfn. pfn's state word may still
 * carry its old kind: it is rewritten when the block is placed, or cleared when it merges into a lower head.
 */
@inline export function freeOnePage(pfn: u32, order: u32, mt: u32, zone: u32, toTail: bool, notify: bool): u32 {
  const pages: u32 = 1 << order;
  if (mt != MT_ISOLATE) zoneAddFreePages(zone, pages);
  const key = buddyKey(order, zone);
  // Most frees find their buddy busy: that test is inline, the merge walk out of line.
  if (order < MAX_ORDER) {
    const buddy = pfn ^ pages;
    if (buddy < maxPfn) {
      if (buddyBits(getWord(buddy)) == key) return mergeAndPlace(pfn, order, mt, zone, toTail, notify);
    }
  }
  placeFreeAtLikely(pfn, order, mt, zone, toTail, notify, pages, key);
  return order;
}

/**
 * placeFree at the tail when told to, or when buddy_merge_likely says so: the block's order+1 parent has a buddy
 * that is already free at order+1, so this block is likely to merge soon and goes to the tail so it is not handed
 * out first. Example: pfn 8, order 2 (pages = 4) → parent 8..15 (order 3), parent's buddy (8 & ~4) ^ 8 = 0: tail
 * if 0 is a free head of order 3. `key` is buddyKey(order, zone). Each outcome is its own call (V8 would otherwise
 * turn the test into a 0/1 value and test that again).
 */
@inline function placeFreeAtLikely(
  pfn: u32, order: u32, mt: u32, zone: u32, toTail: bool, notify: bool, pages: u32, key: u32,
): void {
  if (!toTail && order < MAX_ORDER - 1) {
    const hb = (pfn & ~pages) ^ (pages << 1);
    if (hb < maxPfn) {
      if (buddyBits(getWord(hb)) == nextOrderKey(key)) {
        placeFree(pfn, order, mt, zone, true, notify);
        return;
      }
    }
    placeFree(pfn, order, mt, zone, false, notify);
    return;
  }
  placeFree(pfn, order, mt, zone, toTail, notify);
}

/** The merge walk of __free_one_page, then the placement of the merged block. */
function mergeAndPlace(pfn: u32, order: u32, mt: u32, zone: u32, toTail: bool, notify: bool): u32 {
  // The freed head becomes an interior page if it merges into a lower buddy: no kind bit may stay on it.
  setWord(pfn, interiorWord(zone));
  const mtIsolate = mt == MT_ISOLATE;
  // Each step up an order: twice the pages, the next order in the buddy key, the next free_area.
  let pages: u32 = 1 << order;
  let key = buddyKey(order, zone);
  let area = freeAreaAddr(zone, order);
  let nf = nrFreeAddr(zone, order);
  while (order < MAX_ORDER) {
    const buddy = pfn ^ pages;
    if (buddy >= maxPfn) break;
    const bw = getWord(buddy); // read once: the test, the list to leave and the ISOLATE check all need it
    if (buddyBits(bw) != key) break;
    if (order >= PAGEBLOCK_ORDER && mergeStopped(mt, pageblockMt(buddy))) break;
    // NR_FREE_PAGES counts pages on non-ISOLATE lists: a buddy absorbed across that line changes sides.
    const bIsolate = mtOf(bw) == MT_ISOLATE;
    if (bIsolate != mtIsolate) zoneAddFreePages(zone, bIsolate ? pages : -pages);
    delFromFreeAreaWord(area, nf, buddy, bw);
    pfn &= buddy;
    order++;
    pages <<= 1;
    key = nextOrderKey(key);
    area += FREE_AREA_SIZE;
    nf += 4;
  }
  placeFreeAtLikely(pfn, order, mt, zone, toTail, notify, pages, key);
  return order;
}

/** The end of __free_one_page: onto the list (at the tail when told to or when a merge is likely soon). */
@inline function placeFree(pfn: u32, order: u32, mt: u32, zone: u32, tail: bool, notify: bool): void {
  addToFreeList(pfn, zone, order, mt, tail);
  if (notify && order >= reportingOrder) addNotify();
  setLastPfn(pfn);
}

/** expand: hand back the upper halves of a split block, each at the head of its order's list. */
@inline export function expand(pfn: u32, zone: u32, low: u32, high: u32, mt: u32): void {
  while (high > low) {
    high--;
    addToFreeList(pfn + (<u32>1 << high), zone, high, mt, false);
  }
}

/**
 * __rmqueue_smallest: the first block of free_list[mt] at the smallest order that has one. The caller relabels
 * the block it gets (see takeFirstFromFreeList).
 */
@inline export function rmqueueSmallest(zone: u32, order: u32, mt: u32): u32 {
  // The requested order's own list first, inline: it is the common case and needs no split.
  const list = freeListAddr(zone, order, mt);
  const pfn = listHead(list);
  if (pfn == NIL) return rmqueueSplit(zone, order, mt);
  takeFirstFromFreeList(list, pfn, zone, order);
  return pfn;
}

/**
 * n calls of __rmqueue_smallest(order) while free_list[order][mt] is empty, done at once. Each call would split
 * the first block of the smallest larger order k that has one, keep the lowest 2^order pages and hand the upper
 * halves back, each alone on its list (the lists below k were empty); the next calls take those halves,
 * smallest first, which walks the block upwards. So the calls hand out the block's first m = min(n, 2^(k -
 * order)) pieces in ascending pfn order, and leave the rest of it as the aligned blocks that cover it, each the
 * only entry of its list. Example: order 0, a free order-2 block at 8, n = 3: the calls take 8, 9, 10 and leave
 * 11 alone on the order-0 list. Returns the block's pfn (the pieces are at pfn + i << order, i < m, left for the
 * caller to relabel) with m in splitTaken, or NIL when no larger block of mt is free.
 */
export function rmqueueSplitRun(zone: u32, order: u32, mt: u32, n: u32): u32 {
  for (let k = order + 1; k <= MAX_ORDER; k++) {
    const list = freeListAddr(zone, k, mt);
    const pfn = listHead(list);
    if (pfn == NIL) continue;
    takeFirstFromFreeList(list, pfn, zone, k);
    const pieces: u32 = 1 << (k - order);
    const m = n < pieces ? n : pieces;
    splitTaken = m;
    // What is left, [pfn + m << order, pfn + 2^k): a block at every 1 bit of its length, smallest at the bottom.
    let p = pfn + (m << order);
    const end = pfn + (<u32>1 << k);
    while (p < end) {
      const o = <u32>ctz(p - pfn | (<u32>1 << k)); // the largest order p is aligned to inside the block
      addToFreeList(p, zone, o, mt, false);
      p += <u32>1 << o;
    }
    return pfn;
  }
  return NIL;
}

/** The number of pieces the last rmqueueSplitRun handed out. */
export let splitTaken: u32 = 0;

/** __rmqueue_smallest above the requested order: take the first larger block and expand it. */
export function rmqueueSplit(zone: u32, order: u32, mt: u32): u32 {
  for (let o = order + 1; o <= MAX_ORDER; o++) {
    const list = freeListAddr(zone, o, mt);
    const pfn = listHead(list);
    if (pfn == NIL) continue;
    takeFirstFromFreeList(list, pfn, zone, o);
    expand(pfn, zone, order, o, mt);
    return pfn;
  }
  return NIL;
}

// fallbacks[mt]: the two types an allocation of mt may take from, in order.
@inline function fallbackType(mt: u32, i: u32): u32 {
  if (mt == MT_UNMOVABLE) return i == 0 ? MT_RECLAIMABLE : MT_MOVABLE;
  if (mt == MT_MOVABLE) return i == 0 ? MT_RECLAIMABLE : MT_UNMOVABLE;
  return i == 0 ? MT_UNMOVABLE : MT_MOVABLE; // RECLAIMABLE
}

@inline function canStealFallback(order: u32, mt: u32): bool {
  return order >= PAGEBLOCK_ORDER || order >= PAGEBLOCK_ORDER / 2 || mt == MT_RECLAIMABLE || mt == MT_UNMOVABLE;
}

/** find_suitable_fallback without only_stealable: returns the type, or NIL. */
@inline function findSuitableFallback(zone: u32, order: u32, mt: u32): u32 {
  // Only the three mergeable types have fallbacks (HIGHATOMIC and CMA requests never steal).
  if (mt >= MIGRATE_PCPTYPES || nrFree(zone, order) == 0) return NIL;
  for (let i: u32 = 0; i < 2; i++) {
    const f = fallbackType(mt, i);
    if (!listEmpty(freeListAddr(zone, order, f))) return f;
  }
  return NIL;
}

// Side result of moveFreePagesBlock: allocated pages of the pageblock that were allocated MOVABLE.
let movablePages: u32 = 0;

/**
 * move_freepages_block: every free block of the pageblock holding pfn moves to mt's lists. Walks heads from the
 * pageblock's first pfn (clipped to the zone); allocated heads count toward movablePages when allocated MOVABLE.
 * Returns the free pages moved.
 */
export function moveFreePagesBlock(pfn: u32, zone: u32, mt: u32): u32 {
  // As the kernel: a pageblock starting below the zone is walked from pfn; one ending past it moves nothing.
  let start = pfn & ~(PAGEBLOCK_PAGES - 1);
  const end = start + PAGEBLOCK_PAGES;
  movablePages = 0;
  if (start < zoneStartPfn(zone)) start = pfn;
  if (end > zoneEndPfn(zone)) return 0;
  let moved: u32 = 0;
  let p = start;
  while (p < end) {
    const w = getWord(p);
    const kind = kindOf(w);
    if (kind == 0) { p++; continue; }
    const o = orderOf(w);
    if (kind == PG_BUDDY) {
      moveToFreeList(p, zone, o, mt);
      moved += <u32>1 << o;
    } else if (kind == PG_ALLOCATED && mtOf(w) == MT_MOVABLE) {
      movablePages += <u32>1 << o;
    }
    p += <u32>1 << o;
  }
  return moved;
}

/** steal_suitable_fallback: take the pageblock for mt when enough of it is free or alike, else only the block. */
function stealSuitableFallback(pfn: u32, zone: u32, order: u32, mt: u32, wholeBlock: bool): void {
  const oldType = pageblockMt(pfn);
  if (oldType != MT_HIGHATOMIC) {
    if (order >= PAGEBLOCK_ORDER) {
      const n = <u32>1 << (order - PAGEBLOCK_ORDER);
      for (let i: u32 = 0; i < n; i++) setPageblockMtRaw(pfn + i * PAGEBLOCK_PAGES, mt);
    } else if (wholeBlock) {
      const freePages = moveFreePagesBlock(pfn, zone, mt);
      let alike: u32 = 0;
      if (mt == MT_MOVABLE) alike = movablePages;
      else if (oldType == MT_MOVABLE) alike = PAGEBLOCK_PAGES - freePages - movablePages;
      if (freePages != 0) {
        if (freePages + alike >= PAGEBLOCK_PAGES / 2) setPageblockMtRaw(pfn, mt);
        return;
      }
    }
  }
  moveToFreeList(pfn, zone, order, mt);
}

/** __rmqueue_fallback: returns true when a block was moved to mt's lists. */
export function rmqueueFallback(zone: u32, order: u32, mt: u32, noFragment: bool): bool {
  let o: i32 = <i32>MAX_ORDER;
  let f: u32 = NIL;
  let canSteal = false;
  // ALLOC_NOFRAGMENT: only whole pageblocks may be taken from another type (a zone is not fragmented to save
  // another's pages).
  const minOrder: i32 = noFragment && order < PAGEBLOCK_ORDER ? <i32>PAGEBLOCK_ORDER : <i32>order;
  for (; o >= minOrder; o--) {
    f = findSuitableFallback(zone, <u32>o, mt);
    if (f == NIL) continue;
    canSteal = canStealFallback(<u32>o, mt);
    if (!canSteal && mt == MT_MOVABLE && <u32>o > order) {
      // find_smallest: a movable request that cannot steal takes the smallest block instead of breaking a big one
      for (o = <i32>order; o <= <i32>MAX_ORDER; o++) {
        f = findSuitableFallback(zone, <u32>o, mt);
        if (f != NIL) break;
      }
      canSteal = canStealFallback(<u32>o, mt);
    }
    break;
  }
  if (f == NIL) return false;
  const pfn = listHead(freeListAddr(zone, <u32>o, f));
  stealSuitableFallback(pfn, zone, <u32>o, mt, canSteal);
  return true;
}

/**
 * __rmqueue: smallest first, then fallback and retry. NR_FREE_PAGES drops by what leaves. The caller relabels the
 * block it gets.
 */
@inline export function rmqueue(zone: u32, order: u32, mt: u32, noFragment: bool): u32 {
  let pfn = rmqueueSmallest(zone, order, mt);
  if (pfn == NIL) pfn = rmqueueWithFallback(zone, order, mt, noFragment);
  if (pfn != NIL) zoneAddFreePages(zone, -(1 << order));
  return pfn;
}

/** __rmqueue once mt's own lists are empty: steal from a fallback type and retry, until a block comes or none. */
export function rmqueueWithFallback(zone: u32, order: u32, mt: u32, noFragment: bool): u32 {
  let pfn: u32 = NIL;
  while (pfn == NIL) {
    if (!rmqueueFallback(zone, order, mt, noFragment)) return NIL;
    pfn = rmqueueSmallest(zone, order, mt);
  }
  return pfn;
}

