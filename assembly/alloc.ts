// Allocation through the zonelist (highest allowed zone down), with the zone watermark check; and the free
// entry point that routes a block to the per-cpu lists or straight to the buddy.
import {
  MAX_ORDER, MIGRATE_PCPTYPES, MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, NIL, PG_ALLOCATED, FREE_TO_TAIL,
  FREE_SKIP_NOTIFY, FREE_DIRECT,
} from './layout';
import { setWord, makeWord, pageblockMt } from './page';
import { freeListAddr, nrFree, listEmpty } from './freelist';
import { rmqueue, freeOnePage } from './buddy';
import { rmqueuePcplist, freeToPcp } from './pcp';
import { zoneFreePages, wmarkLow, wmarkMin, lowmemReserve } from './zone';
import {
  pcpUseMask, touchOnAlloc, addAllocated, countAllocFailure, setLastPfn, normalZone,
} from './state';
import { hostTouch } from './host';

/** __zone_watermark_ok: enough free pages above the mark, and for order > 0 a block of a usable type. */
@inline export function watermarkOk(zone: u32, order: u32, mark: i32, highest: u32): bool {
  const free = zoneFreePages(zone) - ((1 << order) - 1);
  // Written as one expression: with early returns V8 materialises the result before branching on it.
  return free > mark + lowmemReserve(zone, highest) && (order == 0 || freeAreaUsable(zone, order));
}

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

@inline function pcpTakes(order: u32, mt: u32): bool {
  return ((pcpUseMask >> order) & 1) != 0 && mt < MIGRATE_PCPTYPES;
}

/** One zone of get_page_from_freelist's walk: the watermark check, then the per-cpu list or the buddy. */
@inline function tryZone(zone: u32, order: u32, mt: u32, highest: u32, cpu: u32, useMin: bool, noFragment: bool): u32 {
  const mark = useMin ? wmarkMin(zone) : wmarkLow(zone);
  if (!watermarkOk(zone, order, mark, highest)) return NIL;
  const pfn = pcpTakes(order, mt)
    ? rmqueuePcplist(zone, order, mt, cpu, noFragment)
    : rmqueue(zone, order, mt, noFragment);
  if (pfn != NIL) setWord(pfn, makeWord(PG_ALLOCATED, order, mt, zone));
  return pfn;
}

/** The walk on below the preferred zone: out of line, as falling back to a lower zone is the rare case. */
function tryLowerZones(order: u32, mt: u32, highest: u32, cpu: u32, useMin: bool, noFragment: bool): u32 {
  for (let z: i32 = <i32>highest - 1; z >= 0; z--) {
    const pfn = tryZone(<u32>z, order, mt, highest, cpu, useMin, noFragment);
    if (pfn != NIL) return pfn;
  }
  return NIL;
}

/** get_page_from_freelist: one walk down the zonelist at one watermark. NIL when no zone gives the block. */
@inline function tryZones(order: u32, mt: u32, highest: u32, cpu: u32, useMin: bool, noFragment: bool): u32 {
  const pfn = tryZone(highest, order, mt, highest, cpu, useMin, noFragment);
  if (pfn != NIL || highest == 0) return pfn;
  return tryLowerZones(order, mt, highest, cpu, useMin, noFragment);
}

/**
 * What follows a failed first walk: the walk again without ALLOC_NOFRAGMENT (when the first had it), then the slow
 * path at the min watermark (no reclaim or compaction is modelled). Kept out of line: the hot path stays small.
 */
function allocRetry(order: u32, mt: u32, highest: u32, cpu: u32): u32 {
  let pfn: u32 = NIL;
  if (highest == normalZone) pfn = tryZones(order, mt, highest, cpu, false, false);
  if (pfn == NIL) pfn = tryZones(order, mt, highest, cpu, true, false);
  return pfn;
}

/**
 * Allocate 2^order pages. The first walk is the fast path: low watermark, ALLOC_NOFRAGMENT when the preferred zone
 * is Normal (alloc_flags_nofragment).
 */
@inline export function allocPages(order: u32, mt: u32, highest: u32, cpu: u32): u32 {
  let pfn = tryZones(order, mt, highest, cpu, false, highest == normalZone);
  if (pfn == NIL) {
    pfn = allocRetry(order, mt, highest, cpu);
    if (pfn == NIL) {
      countAllocFailure();
      return NIL;
    }
  }
  addAllocated(1 << order);
  if (touchOnAlloc) hostTouch(pfn, <u32>1 << order);
  return pfn;
}

/** Free a validated allocated head. Returns the final order | (1 << 8 when it went to a per-cpu list). */
@inline export function freePages(pfn: u32, order: u32, zone: u32, flags: u32, cpu: u32): u32 {
  addAllocated(-(1 << order));
  // FPI_* frees (boot, memory online, putback) go straight to the buddy in the kernel, never through pcp lists.
  if ((flags & (FREE_DIRECT | FREE_TO_TAIL | FREE_SKIP_NOTIFY)) == 0 && pcpTakes(order, 0)) {
    freeToPcp(pfn, order, zone, cpu);
    setLastPfn(pfn);
    return order | (1 << 8);
  }
  // Clear the allocated head before the merge walk so the block is not mistaken for a neighbour.
  setWord(pfn, makeWord(0, 0, 0, zone));
  return freeOnePage(pfn, order, pageblockMt(pfn), zone, (flags & FREE_TO_TAIL) != 0, (flags & FREE_SKIP_NOTIFY) == 0);
}
