// __isolate_free_page and __putback_isolated_page (assembly/isolate.ts): the only way reporting takes pages off
// the free lists.
import { MigrateType, PAGEBLOCK_ORDER } from '../core/types.js';
import type { ModelState } from './state.js';
import { INFLIGHT, NONE } from './page.js';
import { delFromFreeList } from './freelist.js';
import { freeOnePage, isMergeable } from './buddy.js';

const { MOVABLE, ISOLATE } = MigrateType;

/** __isolate_free_page on a pfn known to be a free head of `order`; false (counted) at the min watermark. */
export function isolateFreePage(s: ModelState, pfn: number, order: number, z: number): boolean {
  const mt = s.mt[pfn]!;
  // Taking the page must not eat into the reserve an allocation would respect (an order-0 check raised by
  // the block size, since the block itself is known to exist).
  if (mt !== ISOLATE && !(s.nrFreePages[z]! > s.zones[z]!.watermarks.min + (1 << order))) {
    s.stats.isolateFailures++;
    return false;
  }
  delFromFreeList(s, pfn, z);
  if (order >= PAGEBLOCK_ORDER - 1) {
    const last = (pfn + (1 << order) - 1) >> PAGEBLOCK_ORDER;
    for (let pb = pfn >> PAGEBLOCK_ORDER; pb <= last; pb++) {
      if (isMergeable(s.pageblockMt[pb]!)) s.pageblockMt[pb] = MOVABLE;
    }
  }
  s.kind[pfn] = INFLIGHT;
  s.order[pfn] = order;
  s.mt[pfn] = mt;
  s.stats.inflightPages += 1 << order;
  s.stats.inflightPeak = Math.max(s.stats.inflightPeak, s.stats.inflightPages);
  return true;
}

/** __putback_isolated_page: free an isolated block again (no reporting notify), into its pageblock's type now. */
export function putbackIsolatedPage(s: ModelState, pfn: number, order: number, z: number): [number, number] {
  s.kind[pfn] = NONE;
  s.stats.inflightPages -= 1 << order;
  const mt = s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
  return freeOnePage(s, pfn, order, mt, z, s.profile.putbackPlacement === 'tail', false);
}
