// The buddy algorithm (assembly/buddy.ts): __free_one_page (merge, placement), expand, __rmqueue_smallest, the
// migratetype fallback, move_freepages_block.
import {
  MAX_ORDER_INCLUSIVE, MIGRATE_PCPTYPES, MigrateType, NR_ORDERS, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES,
} from '../core/types.js';
import { type ModelState, NIL } from './state.js';
import { ALLOCATED, FREE, NONE, pageIsBuddy } from './page.js';
import { addToFreeList, delFromFreeList, freeListIndex, moveToFreeList } from './freelist.js';

const { UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, ISOLATE } = MigrateType;

/** __rmqueue_fallback's table: where each mergeable type looks when its own lists are empty. */
const FALLBACKS: readonly (readonly number[])[] = [
  [RECLAIMABLE, MOVABLE], // UNMOVABLE
  [RECLAIMABLE, UNMOVABLE], // MOVABLE
  [UNMOVABLE, MOVABLE], // RECLAIMABLE
];

export function isMergeable(mt: number): boolean {
  return mt === UNMOVABLE || mt === MOVABLE || mt === RECLAIMABLE;
}

/** May a free block of pageblock type mt not merge with a buddy of type buddyMt across a pageblock boundary? */
export function mergeStopped(s: ModelState, mt: number, buddyMt: number): boolean {
  if (mt === buddyMt) return false;
  if (s.profile.mergeStop === 'unmergeable') return !isMergeable(mt) || !isMergeable(buddyMt);
  return mt === ISOLATE || buddyMt === ISOLATE;
}

/**
 * buddy_merge_likely: if the block's own buddy-to-be at order+1 is already free, this block is likely to complete
 * that merge soon, so it goes to the tail where an allocation will not take it first. E.g. pfn 1, order 0:
 * higher = 0, and the order-1 block at 2 being free makes the tail likely.
 */
export function buddyMergeLikely(s: ModelState, pfn: number, order: number, z: number): boolean {
  if (order >= PAGEBLOCK_ORDER) return false;
  const higher = pfn & ~(1 << order);
  return pageIsBuddy(s, higher ^ (1 << (order + 1)), order + 1, z);
}

/** __free_one_page on a block whose head is already released (kind NONE). Returns the final head pfn and order. */
export function freeOnePage(s: ModelState, pfn: number, order: number, mt: number, z: number, toTail: boolean, notify: boolean): [number, number] {
  while (order < MAX_ORDER_INCLUSIVE) {
    const buddy = pfn ^ (1 << order);
    if (!pageIsBuddy(s, buddy, order, z)) break;
    if (order >= PAGEBLOCK_ORDER && mergeStopped(s, mt, s.pageblockMt[buddy >> PAGEBLOCK_ORDER]!)) break;
    delFromFreeList(s, buddy, z);
    pfn &= buddy;
    order++;
  }
  addToFreeList(s, pfn, z, order, mt, toTail || buddyMergeLikely(s, pfn, order, z));
  if (notify && order >= s.reportingOrder) {
    s.pendingNotifications++;
    s.stats.notifies++;
  }
  return [pfn, order];
}

/** expand: split an order-`high` block down to `low`, giving each upper half back as a fresh (unreported) Buddy. */
export function expand(s: ModelState, pfn: number, z: number, low: number, high: number, mt: number): void {
  while (high > low) {
    high--;
    addToFreeList(s, pfn + (1 << high), z, high, mt, false);
  }
}

/** __rmqueue_smallest: the first block of free_list[mt] at the smallest order that has one, split down to order. */
export function rmqueueSmallest(s: ModelState, z: number, order: number, mt: number): number {
  for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
    const pfn = s.freeLists.head[freeListIndex(z, o, mt)]!;
    if (pfn === NIL) continue;
    delFromFreeList(s, pfn, z);
    expand(s, pfn, z, order, o, mt);
    return pfn;
  }
  return NIL;
}

export function canStealFallback(order: number, mt: number): boolean {
  return order >= PAGEBLOCK_ORDER || order >= PAGEBLOCK_ORDER / 2 || mt === RECLAIMABLE || mt === UNMOVABLE;
}

/** find_suitable_fallback (only_stealable = false): the first fallback type with a block at this order. */
export function findSuitableFallback(s: ModelState, z: number, order: number, mt: number): { fallbackMt: number; canSteal: boolean } | null {
  if (s.nrFree[z * NR_ORDERS + order] === 0) return null;
  for (const f of FALLBACKS[mt]!) {
    if (s.freeLists.len[freeListIndex(z, order, f)] === 0) continue;
    return { fallbackMt: f, canSteal: canStealFallback(order, mt) };
  }
  return null;
}

/**
 * 6.1 __rmqueue_fallback: returns true when a block was moved to mt's lists. With ALLOC_NOFRAGMENT only whole
 * pageblocks may be taken from another type (a zone is not fragmented to save another's pages).
 */
export function rmqueueFallback(s: ModelState, z: number, order: number, mt: number, noFragment = false): boolean {
  if (mt >= MIGRATE_PCPTYPES) return false;
  let found: { order: number; fallbackMt: number; canSteal: boolean } | null = null;
  const minOrder = noFragment && order < PAGEBLOCK_ORDER ? PAGEBLOCK_ORDER : order;
  // Largest first: taking a big block keeps the fragments of other types few.
  for (let o = MAX_ORDER_INCLUSIVE; o >= minOrder; o--) {
    const r = findSuitableFallback(s, z, o, mt);
    if (r) {
      found = { order: o, ...r };
      break;
    }
  }
  if (!found) return false;
  // A movable request that may not claim the block is better served by the smallest block that fits.
  if (!found.canSteal && mt === MOVABLE && found.order > order) {
    for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
      const r = findSuitableFallback(s, z, o, mt);
      if (r) {
        found = { order: o, ...r };
        break;
      }
    }
  }
  const page = s.freeLists.head[freeListIndex(z, found.order, found.fallbackMt)]!;
  stealSuitableFallback(s, page, z, found.order, mt, found.canSteal);
  return true;
}

/** steal_suitable_fallback: take the pageblock for mt when enough of it is free or alike, else only the block. */
export function stealSuitableFallback(s: ModelState, page: number, z: number, order: number, mt: number, wholeBlock: boolean): void {
  const oldType = s.pageblockMt[page >> PAGEBLOCK_ORDER]!;
  if (oldType === HIGHATOMIC || !wholeBlock) {
    moveToFreeList(s, page, z, mt);
    return;
  }
  if (order >= PAGEBLOCK_ORDER) {
    for (let pb = page >> PAGEBLOCK_ORDER, n = 1 << (order - PAGEBLOCK_ORDER); n > 0; pb++, n--) s.pageblockMt[pb] = mt;
    moveToFreeList(s, page, z, mt);
    return;
  }
  const { moved, movable } = moveFreePagesBlock(s, page, z, mt);
  // Pages already of a compatible kind count towards claiming the block, as if they were free.
  let alike = 0;
  if (mt === MOVABLE) alike = movable;
  else if (oldType === MOVABLE) alike = PAGEBLOCK_PAGES - moved - movable;
  if (moved === 0) {
    moveToFreeList(s, page, z, mt);
    return;
  }
  if (moved + alike >= PAGEBLOCK_PAGES / 2) s.pageblockMt[page >> PAGEBLOCK_ORDER] = mt;
}

/**
 * move_freepages_block over the pageblock of pfn, clipped to the zone: the free pages moved to mt's lists, and
 * the allocated pages of the pageblock that were allocated MOVABLE.
 */
export function moveFreePagesBlock(s: ModelState, pfn: number, z: number, mt: number): { moved: number; movable: number } {
  const zone = s.zones[z]!;
  // A pageblock starting below the zone is walked from pfn itself; one ending past the zone moves nothing (so a
  // steal there falls back to the single block).
  const blockStart = pfn & ~(PAGEBLOCK_PAGES - 1);
  const start = blockStart < zone.startPfn ? pfn : blockStart;
  const end = blockStart + PAGEBLOCK_PAGES;
  let moved = 0;
  let movable = 0;
  if (end > zone.endPfn) return { moved, movable };
  for (let p = start; p < end; ) {
    const k = s.kind[p];
    if (k === NONE) {
      p++;
      continue;
    }
    const size = 1 << s.order[p]!;
    if (k === FREE) {
      moveToFreeList(s, p, z, mt);
      moved += size;
    } else if (k === ALLOCATED && s.mt[p] === MOVABLE) {
      movable += Math.min(size, end - p);
    }
    p += size;
  }
  return { moved, movable };
}

/** __rmqueue: returns the head of a block taken off the free lists (kind NONE), or NIL. */
export function rmqueue(s: ModelState, z: number, order: number, mt: number, noFragment = false): number {
  const pfn = rmqueueSmallest(s, z, order, mt);
  if (pfn !== NIL) return pfn;
  return rmqueueFallback(s, z, order, mt, noFragment) ? rmqueueSmallest(s, z, order, mt) : NIL;
}
