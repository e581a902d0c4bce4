// __isolate_free_page and __putback_isolated_page: the only way reporting takes pages off the free lists.
import { PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, MT_ISOLATE, MT_MOVABLE, MIGRATE_PCPTYPES, PG_INFLIGHT } from './layout';
import { getWord, setWord, makeWord, mtOf, pageblockMt, setPageblockMtRaw } from './page';
import { delFromFreeList } from './freelist';
import { freeOnePage } from './buddy';
import { zoneFreePages, zoneAddFreePages, wmarkMin } from './zone';
import { putbackTail, addInflight, countIsolateFailure } from './state';

/** Isolate a free head of `order`; false (counted) when the zone would drop to its min watermark. */
export function isolateFreePage(pfn: u32, order: u32, zone: u32): bool {
  const mt = mtOf(getWord(pfn));
  if (mt != MT_ISOLATE) {
    // zone_watermark_ok(order 0, min + 2^order): keep the zone's reserve intact while pages are away.
    if (zoneFreePages(zone) <= wmarkMin(zone) + (1 << order)) {
      countIsolateFailure();
      return false;
    }
    zoneAddFreePages(zone, -(1 << order));
  }
  delFromFreeList(pfn, zone, order);
  // A block of at least half a pageblock makes its pageblocks MOVABLE, so the putback lands on a known list.
  if (order >= PAGEBLOCK_ORDER - 1) {
    const end = pfn + (<u32>1 << order);
    for (let p = pfn; p < end; p += PAGEBLOCK_PAGES) {
      if (pageblockMt(p) < MIGRATE_PCPTYPES) setPageblockMtRaw(p, MT_MOVABLE);
    }
  }
  setWord(pfn, makeWord(PG_INFLIGHT, order, mt, zone));
  addInflight(1 << order);
  return true;
}

/** Free an isolated block again (no reporting notify), into its pageblock's current type. */
export function putbackIsolatedPage(pfn: u32, order: u32, zone: u32): u32 {
  addInflight(-(1 << order));
  return freeOnePage(pfn, order, pageblockMt(pfn), zone, putbackTail, false);
}
