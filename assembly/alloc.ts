// Allocation through the zonelist (highest allowed zone down), with the zone watermark check; and the free
// entry point that routes a block to the per-cpu lists or straight to the buddy.
import {
  MAX_ORDER, MIGRATE_PCPTYPES, MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, NIL, PG_ALLOCATED, FREE_TO_TAIL,
  FREE_SKIP_NOTIFY, FREE_DIRECT, FREE_RESULT_PCP,
} from './layout';
import { setWord, makeWord, pageblockMt } from './page';
import { freeListAddr, nrFree, listEmpty, listHead, takeFirstFromFreeList } from './freelist';
import { rmqueue, freeOnePage } from './buddy';
import { rmqueuePcplist, freeUnrefPage, freeHighOrder, pcpAddr, pcpListAddr, orderToPindex } from './pcp';
import { zoneFreePages, zoneAddFreePages, wmarkLow, wmarkMin, lowmemReserve } from './zone';
import {
  pcpUseMask, touchOnAlloc, addAllocated, countAllocFailure, setLastPfn, normalZone,
} from './state';
import { hostTouchBlock } from './host';

// __zone_watermark_ok is split in two: the free-page test (free pages, less the block's own, above the mark plus
// the lowmem reserve: tryZoneAt), and the free-area test below (order > 0: a free block of a mergeable type at
// order or above), which tryZone can often answer from the list it is about to take from.

/** The order > 0 part of __zone_watermark_ok: a free block of a mergeable type at order or above. */
function freeAreaUsable(zone: u32, order: u32): bool {
  for (let o = order; o <= MAX_ORDER; o++) {
    if (nrFree(zone, o) == 0) continue;
    // the MIGRATE_PCPTYPES (3) mergeable types, written out: a loop here costs V8 a header per order
    if (!listEmpty(freeListAddr(zone, o, MT_UNMOVABLE)) || !listEmpty(freeListAddr(zone, o, MT_MOVABLE))
      || !listEmpty(freeListAddr(zone, o, MT_RECLAIMABLE))) return true;
  }
  return false;
}

/** Does a block of 2^order pages (`pages`) of type mt go through the per-cpu lists? */
@inline function pcpTakes(pages: u32, mt: u32): bool {
  return (pcpUseMask & pages) != 0 && mt < MIGRATE_PCPTYPES;
}

/**
 * One zone of get_page_from_freelist's walk: the watermark check, then the per-cpu list or the buddy. The block
 * it returns is allocated (see `allocated`).
 */
@inline function tryZone(zone: u32, order: u32, mt: u32, highest: u32, cpu: u32, useMin: bool, noFragment: bool): u32 {
  const mark = (useMin ? wmarkMin(zone) : wmarkLow(zone)) + lowmemReserve(zone, highest);
  // The per-cpu route out of line here (the batch loop has it inline): the buddy route's code stays small.
  if (pcpTakes(<u32>1 << order, mt)) return tryZonePcp(zone, order, mt, cpu, noFragment, mark);
  return tryZoneAt(zone, order, mt, cpu, noFragment, mark, false, 0, 0, 1 << order, allocatedWord(order, mt, zone));
}

@inline function allocatedWord(order: u32, mt: u32, zone: u32): u32 { return makeWord(PG_ALLOCATED, order, mt, zone); }

/**
 * tryZone once the request's fixed values are worked out (a batch of equal requests works them out once):
 * `mark` is the watermark plus the lowmem reserve; with viaPcp, `pcp` and `list` are the cpu's pcp and list;
 * pages is 2^order, word the allocated block's state word.
 */
@inline function tryZoneAt(
  zone: u32, order: u32, mt: u32, cpu: u32, noFragment: bool, mark: i32, viaPcp: bool, pcp: usize, list: usize,
  pages: u32, word: u32,
): u32 {
  if (zoneFreePages(zone) - <i32>(pages - 1) <= mark) return NIL; // __zone_watermark_ok's free-page test
  if (viaPcp) {
    if (order != 0 && !freeAreaUsable(zone, order)) return NIL;
    const pfn = rmqueuePcplist(pcp, list, zone, order, mt, cpu, noFragment);
    if (pfn != NIL) allocatedAs(pfn, word, pages);
    return pfn;
  }
  // __rmqueue_smallest's own list, looked at first: a block there is a free block of a mergeable type at
  // `order` (mt < MIGRATE_PCPTYPES), which is all the watermark's free-area test asks, so its scan and the
  // general __rmqueue are needed only when the list is empty. Same answer, far fewer steps on the common path.
  const own = freeListAddr(zone, order, mt);
  const pfn = listHead(own);
  if (pfn != NIL) {
    if (order == 0 || mt < MIGRATE_PCPTYPES) {
      takeFirstFromFreeList(own, pfn, zone, order);
      zoneAddFreePages(zone, -pages);
      allocatedAs(pfn, word, pages);
      return pfn;
    }
  }
  return tryZoneBuddy(zone, order, mt, noFragment);
}

function tryZonePcp(zone: u32, order: u32, mt: u32, cpu: u32, noFragment: bool, mark: i32): u32 {
  const pcp = pcpAddr(cpu, zone);
  return tryZoneAt(zone, order, mt, cpu, noFragment, mark, true, pcp, pcpListAddr(pcp, orderToPindex(order, mt)),
    1 << order, allocatedWord(order, mt, zone));
}

/** The buddy side of tryZone when its own list cannot answer: the free-area test, then __rmqueue. */
function tryZoneBuddy(zone: u32, order: u32, mt: u32, noFragment: bool): u32 {
  if (order != 0 && !freeAreaUsable(zone, order)) return NIL;
  const pfn = rmqueue(zone, order, mt, noFragment);
  if (pfn != NIL) allocated(pfn, order, mt, zone);
  return pfn;
}

/** The block leaves the allocator: labelled allocated, counted, and (init_on_alloc) touched on the host. */
@inline function allocated(pfn: u32, order: u32, mt: u32, zone: u32): void {
  allocatedAs(pfn, allocatedWord(order, mt, zone), 1 << order);
}

/** `allocated` with the state word and 2^order worked out by the caller. */
@inline function allocatedAs(pfn: u32, word: u32, pages: u32): void {
  setWord(pfn, word);
  addAllocated(pages);
  if (touchOnAlloc) hostTouchBlock(pfn, pages);
}

/** One walk down the zonelist at one watermark, from the zone below `from`. NIL when no zone gives the block. */
function tryZonesBelow(from: u32, order: u32, mt: u32, highest: u32, cpu: u32, useMin: bool, noFragment: bool): u32 {
  for (let z: i32 = <i32>from - 1; z >= 0; z--) {
    const pfn = tryZone(<u32>z, order, mt, highest, cpu, useMin, noFragment);
    if (pfn != NIL) return pfn;
  }
  return NIL;
}

/**
 * What follows a failed try of the preferred zone: the rest of the first walk (lower zones), the walk again
 * without ALLOC_NOFRAGMENT (when the first had it), then the slow path at the min watermark (no reclaim or
 * compaction is modelled); a failure is counted. Out of line: the hot path stays small.
 */
function allocSlow(order: u32, mt: u32, highest: u32, cpu: u32): u32 {
  const noFragment = highest == normalZone;
  let pfn = tryZonesBelow(highest, order, mt, highest, cpu, false, noFragment);
  if (pfn == NIL && noFragment) pfn = tryZonesBelow(highest + 1, order, mt, highest, cpu, false, false);
  if (pfn == NIL) pfn = tryZonesBelow(highest + 1, order, mt, highest, cpu, true, false);
  if (pfn == NIL) countAllocFailure();
  return pfn;
}

/**
 * Allocate 2^order pages. The first try is the fast path: the preferred zone at the low watermark, with
 * ALLOC_NOFRAGMENT when it is Normal (alloc_flags_nofragment).
 */
@inline export function allocPages(order: u32, mt: u32, highest: u32, cpu: u32): u32 {
  const pfn = tryZone(highest, order, mt, highest, cpu, false, highest == normalZone);
  return pfn != NIL ? pfn : allocSlow(order, mt, highest, cpu);
}

/**
 * allocPages n times with the same arguments (validated), the pfns written from `out`; stops at the first failure
 * (counted). Returns the number allocated. The request's fixed values are worked out once, before the loop.
 */
@inline export function allocPagesBatch(order: u32, mt: u32, highest: u32, cpu: u32, n: u32, out: usize): u32 {
  // A loop for each route (so that V8 does not test the route again for every block), each a function taking the
  // fixed values as arguments (so that V8 keeps them rather than working them out again inside the loop).
  const mark = wmarkLow(highest) + lowmemReserve(highest, highest);
  const pcp = pcpAddr(cpu, highest);
  const word = allocatedWord(order, mt, highest);
  if (pcpTakes(<u32>1 << order, mt)) {
    const list = pcpListAddr(pcp, orderToPindex(order, mt));
    // Order 0, the most common request by far, has a loop of its own with the order a constant.
    if (order == 0) return allocRunPcpOrder0(mt, highest, cpu, n, out, mark, pcp, list, word);
    return allocRunPcp(order, mt, highest, cpu, n, out, mark, pcp, list, 1 << order, word);
  }
  return allocRunBuddy(order, mt, highest, cpu, n, out, mark, 0, 0, 1 << order, word);
}

function allocRunPcp(
  order: u32, mt: u32, highest: u32, cpu: u32, n: u32, out: usize, mark: i32, pcp: usize, list: usize, pages: u32,
  word: u32,
): u32 {
  return allocRun(order, mt, highest, cpu, n, out, mark, true, pcp, list, pages, word);
}

function allocRunPcpOrder0(
  mt: u32, highest: u32, cpu: u32, n: u32, out: usize, mark: i32, pcp: usize, list: usize, word: u32,
): u32 {
  return allocRun(0, mt, highest, cpu, n, out, mark, true, pcp, list, 1, word);
}

function allocRunBuddy(
  order: u32, mt: u32, highest: u32, cpu: u32, n: u32, out: usize, mark: i32, pcp: usize, list: usize, pages: u32,
  word: u32,
): u32 {
  return allocRun(order, mt, highest, cpu, n, out, mark, false, pcp, list, pages, word);
}

@inline function allocRun(
  order: u32, mt: u32, highest: u32, cpu: u32, n: u32, out: usize, mark: i32, viaPcp: bool, pcp: usize, list: usize,
  pages: u32, word: u32,
): u32 {
  const noFragment = highest == normalZone;
  for (let i: u32 = 0; i < n; i++) {
    let pfn = tryZoneAt(highest, order, mt, cpu, noFragment, mark, viaPcp, pcp, list, pages, word);
    if (pfn == NIL) {
      pfn = allocSlow(order, mt, highest, cpu);
      if (pfn == NIL) return i;
    }
    store<u32>(out + (<usize>i << 2), pfn);
  }
  return n;
}

/** Does a free with these flags of a block of `pages` go to the per-cpu lists? */
@inline export function pcpFrees(pages: u32, flags: u32): bool {
  // FPI_* frees (boot, memory online, putback) go straight to the buddy in the kernel, never through pcp lists.
  return (flags & (FREE_DIRECT | FREE_TO_TAIL | FREE_SKIP_NOTIFY)) == 0 && (pcpUseMask & pages) != 0;
}

/** Free a validated allocated head. Returns the final order, | FREE_RESULT_PCP when it went to a per-cpu list. */
@inline export function freePages(pfn: u32, order: u32, zone: u32, flags: u32, cpu: u32): u32 {
  // The per-cpu route out of line here (freeBulk has it inline): the buddy route's code stays small.
  if (pcpFrees(<u32>1 << order, flags)) return freePagesPcp(pfn, order, zone, cpu);
  return freePagesVia(pfn, order, zone, flags, cpu, false, false);
}

function freePagesPcp(pfn: u32, order: u32, zone: u32, cpu: u32): u32 {
  return freePagesVia(pfn, order, zone, 0, cpu, true, freeHighOrder(order));
}

/** freePages with the routing (pcpFrees) and freeHighOrder(order) worked out by the caller. */
@inline export function freePagesVia(
  pfn: u32, order: u32, zone: u32, flags: u32, cpu: u32, viaPcp: bool, highOrder: bool,
): u32 {
  addAllocated(-(1 << order));
  if (viaPcp) {
    freeUnrefPage(pfn, order, zone, cpu, highOrder);
    setLastPfn(pfn);
    return order | FREE_RESULT_PCP;
  }
  return freeOnePage(pfn, order, pageblockMt(pfn), zone, (flags & FREE_TO_TAIL) != 0, (flags & FREE_SKIP_NOTIFY) == 0);
}
