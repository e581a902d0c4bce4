// Allocation through the zonelist (highest allowed zone down) with the zone watermark check, and the free entry
// point that routes a block to the per-cpu lists or straight to the buddy (assembly/alloc.ts).
import { type FreeOptions, type FreeResult, MAX_ORDER_INCLUSIVE, MIGRATE_PCPTYPES, PAGEBLOCK_ORDER } from '../core/types.js';
import { type ModelState, NIL } from './state.js';
import { ALLOCATED, NONE } from './page.js';
import { freeListIndex } from './freelist.js';
import { freeOnePage, rmqueue } from './buddy.js';
import { freeUnrefPage, rmqueuePcplist } from './pcp.js';

/** The order > 0 part of __zone_watermark_ok: a free block of a mergeable type at order or above. */
export function freeAreaUsable(s: ModelState, z: number, order: number): boolean {
  for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
    for (let m = 0; m < MIGRATE_PCPTYPES; m++) {
      if (s.freeLists.len[freeListIndex(z, o, m)]! > 0) return true;
    }
  }
  return false;
}

/**
 * One zone of get_page_from_freelist's walk: __zone_watermark_ok (without the highatomic/CMA reserves) at `mark`,
 * then the per-cpu list or the buddy. Returns the allocated head, or NIL.
 */
export function tryZone(s: ModelState, z: number, order: number, mt: number, highest: number, cpu: number, mark: number, noFragment: boolean): number {
  const free = s.nrFreePages[z]! - ((1 << order) - 1);
  if (!(free > mark + (s.zones[z]!.lowmemReserve[highest] ?? 0))) return NIL;
  if (order !== 0 && !freeAreaUsable(s, z, order)) return NIL;
  const viaPcp = s.pcpOrderOk[order]! && mt < MIGRATE_PCPTYPES;
  const pfn = viaPcp ? rmqueuePcplist(s, z, order, mt, cpu, noFragment) : rmqueue(s, z, order, mt, noFragment);
  if (pfn === NIL) return NIL;
  s.kind[pfn] = ALLOCATED;
  s.order[pfn] = order;
  s.mt[pfn] = mt;
  return pfn;
}

/**
 * Allocate 2^order pages: every zone from `highest` down against its low watermark, with ALLOC_NOFRAGMENT when
 * the preferred zone is Normal (alloc_flags_nofragment), then, if it had it, again without; then against min (the
 * slow path, without reclaim). A failure is counted unless the caller falls back (mayFail).
 */
export function allocPages(s: ModelState, order: number, mt: number, highest: number, cpu: number, mayFail: boolean): number {
  const noFragment = s.zones[highest]!.name === 'Normal';
  const rounds: Array<[useMin: boolean, noFragment: boolean]> = noFragment ? [[false, true], [false, false], [true, false]] : [[false, false], [true, false]];
  for (const [useMin, nf] of rounds) {
    for (let z = highest; z >= 0; z--) {
      const { low, min } = s.zones[z]!.watermarks;
      const pfn = tryZone(s, z, order, mt, highest, cpu, useMin ? min : low, nf);
      if (pfn !== NIL) return pfn;
    }
  }
  if (mayFail) return NIL; // the caller's fallback, not a failure
  s.stats.allocFailures++;
  if (s.stats.inflightPages > 0) s.stats.allocFailuresInFlight++;
  return NIL;
}

/** Does a free with these options go to the per-cpu lists? FPI flags exist only on the path that bypasses them. */
export function pcpFrees(s: ModelState, order: number, opts: FreeOptions): boolean {
  return !(opts.direct || opts.toTail || opts.skipNotify || !s.pcpOrderOk[order]);
}

/** Free a validated allocated head. */
export function freePages(s: ModelState, pfn: number, order: number, z: number, opts: FreeOptions, cpu: number): FreeResult {
  s.kind[pfn] = NONE;
  if (pcpFrees(s, order, opts)) return freeUnrefPage(s, pfn, order, z, cpu);
  const [head, final] = freeOnePage(s, pfn, order, s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, z, !!opts.toTail, !opts.skipNotify);
  return { to: 'buddy', pfn: head, order: final };
}
