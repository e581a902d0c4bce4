// Per-cpu page lists: 6.1 free_unref_page_commit / nr_pcp_free / free_pcppages_bulk / rmqueue_pcplist,
// and the 5.7 order-0 variant (fixed batch, one-page-per-list round robin).
import {
  PCP_START, PCP_SIZE, PCP_COUNT, PCP_FREE_FACTOR, PCP_LISTS, LIST_HEAD_SIZE, NR_PCP_LISTS, PCP_THP_PINDEX,
  MAX_ZONES, MIGRATE_PCPTYPES, MT_ISOLATE, MT_MOVABLE, PAGEBLOCK_ORDER, PCP_FREE_FACTOR_MAX, NIL, PG_PCP,
  PG_ALLOCATED, PG_HOLE, MAX_ORDER, E_BAD_ORDER, E_OUT_OF_RANGE, E_MISALIGNED, E_HOLE, E_BAD_CPU, E_NOT_ALLOCATED,
  E_WRONG_ORDER, E_BAD_MT, E_BAD_STATE, E_BAD_ZONE,
} from './layout';
import {
  setWord, makeWord, interiorWord, getWord, getNext, getPrev, setCpu, pageblockMt, mtOf, kindOf, orderOf, zoneOf,
} from './page';
import {
  listAddHead, listAddTail, listUnlink, listHead, listTail, listEmpty, listTakeFirst, listCutFrom, listInit,
  freeListAddr, takeFirstFromFreeList,
} from './freelist';
import { freeOnePage, rmqueueSplitRun, rmqueueWithFallback, splitTaken } from './buddy';
import { pcpHigh, pcpBatch, zoneAddFreePages } from './zone';
import {
  pcpFreeFactor, countPcpDrain, pcpEnabled, pcpOrderMask, maxPfn, nrCpus, nrZones, addAllocated, reportingOrder, addNotifies,
} from './state';

@inline export function pcpAddr(cpu: u32, zone: u32): usize {
  return <usize>PCP_START + <usize>((cpu * MAX_ZONES + zone) * PCP_SIZE);
}
@inline export function pcpListAddr(pcp: usize, pindex: u32): usize {
  return pcp + <usize>(PCP_LISTS + pindex * LIST_HEAD_SIZE);
}
@inline export function pcpCount(pcp: usize): i32 { return load<i32>(pcp, PCP_COUNT); }

/** A cpu's per_cpu_pages of a zone: count and free_factor 0, every list empty. */
export function initPcp(cpu: u32, zone: u32): void {
  const pcp = pcpAddr(cpu, zone);
  store<u32>(pcp, 0, PCP_COUNT);
  store<u32>(pcp, 0, PCP_FREE_FACTOR);
  for (let i: u32 = 0; i < NR_PCP_LISTS; i++) listInit(pcpListAddr(pcp, i));
}
@inline function pcpAddCount(pcp: usize, d: i32): void { store<i32>(pcp, load<i32>(pcp, PCP_COUNT) + d, PCP_COUNT); }
@inline export function orderToPindex(order: u32, mt: u32): u32 {
  return order <= 3 ? order * MIGRATE_PCPTYPES + mt : PCP_THP_PINDEX;
}
@inline export function pindexToOrder(pindex: u32): u32 {
  return pindex == PCP_THP_PINDEX ? PAGEBLOCK_ORDER : pindex / MIGRATE_PCPTYPES;
}

/** A page leaves a per-cpu list for the buddy: the recorded type, unless its pageblock became ISOLATE. */
@inline function pcpPageToBuddy(pfn: u32, zone: u32, order: u32): void {
  let mt = mtOf(getWord(pfn));
  if (pageblockMt(pfn) == MT_ISOLATE) mt = MT_ISOLATE;
  freeOnePage(pfn, order, mt, zone, false, true);
}

/** free_pcppages_bulk (6.1): whole lists in round robin from pindex, oldest (tail) pages first. */
function freePcppagesBulk61(pcp: usize, zone: u32, count: i32, pindex: u32): void {
  const have = pcpCount(pcp);
  if (count > have) count = have;
  let minP: i32 = 0;
  let maxP: i32 = <i32>NR_PCP_LISTS - 1;
  let p: i32 = <i32>pindex - 1;
  while (count > 0) {
    let list: usize = 0;
    while (true) {
      if (++p > maxP) p = minP;
      list = pcpListAddr(pcp, <u32>p);
      if (!listEmpty(list)) break;
      if (p == maxP) maxP--;
      if (p == minP) minP++;
    }
    const order = pindexToOrder(<u32>p);
    const nr: i32 = 1 << order;
    do {
      const pfn = listTail(list);
      // The blocks this loop is about to free, oldest first: ceil(count / nr) of them, or the list runs out.
      const k = buddyRunAtTail(list, pfn, order, <u32>((count + nr - 1) >> order));
      if (k != 0) {
        freeBuddyRun(list, pfn, zone, order, k);
        count -= nr << k;
        pcpAddCount(pcp, -(nr << k));
        continue;
      }
      listUnlink(list, pfn);
      count -= nr;
      pcpAddCount(pcp, -nr);
      pcpPageToBuddy(pfn, zone, order);
    } while (count > 0 && !listEmpty(list));
  }
}

/**
 * The oldest blocks of a per-cpu list often go back as a run of buddies: 2^k blocks of `order` filling an
 * aligned block of order + k, lowest first (a process frees in the order it allocated, and a refill hands out
 * ascending pieces). Freed one at a time, each merges with what the ones before it formed, and the last one
 * finds them all merged into the aligned block: the same as freeing that block at once, but for the placements
 * in between, which leave no trace once merged (their list positions are undone, NR_FREE_PAGES and nr_free net
 * out), except a notify for each that reached the reporting order (counted by freeBuddyRun). Returns the largest
 * such k, up to `budget` blocks and inside a pageblock (merges there never meet the pageblock-boundary rule), or 0.
 * The run's blocks must carry the same state word (one migratetype) and their pageblock must not be ISOLATE.
 */
@inline function buddyRunAtTail(list: usize, pfn: u32, order: u32, budget: u32): u32 {
  const w = getWord(pfn);
  let k: u32 = 0;
  let last = pfn; // the run's newest block so far (the list runs from newest at the head to oldest at the tail)
  while (order + k < PAGEBLOCK_ORDER && (<u32>2 << k) <= budget && (pfn & ((<u32>2 << (order + k)) - 1)) == 0) {
    // The next 2^k blocks must be the upper half of the block of order + k + 1, ascending.
    let q = last;
    const n: u32 = 1 << k;
    let i: u32 = 0;
    for (; i < n; i++) {
      q = getPrev(q);
      if (q != pfn + ((n + i) << order) || getWord(q) != w) break;
    }
    if (i < n) break;
    last = q;
    k++;
  }
  if (k != 0 && pageblockMt(pfn) == MT_ISOLATE) return 0;
  return k;
}

/** Free the run buddyRunAtTail found (2^k blocks of `order` from the tail, lowest at pfn) as its block. */
function freeBuddyRun(list: usize, pfn: u32, zone: u32, order: u32, k: u32): void {
  const n: u32 = 1 << k;
  const mt = mtOf(getWord(pfn));
  // The run leaves the tail of the list in one cut; its upper blocks become interior pages of the block.
  const interior = interiorWord(zone);
  let q = pfn;
  for (let i: u32 = 1; i < n; i++) {
    q = getPrev(q);
    setWord(q, interior);
  }
  listCutFrom(list, q);
  // The placements in between: block i of the run (i < n - 1) is placed at order + (the trailing 1 bits of i),
  // so 2^(k - j) - 1 of them reach order + j or more (j < k).
  const j = reportingOrder > order ? reportingOrder - order : 0;
  if (j < k) addNotifies((<u32>1 << (k - j)) - 1);
  freeOnePage(pfn, order + k, mt, zone, false, true);
}

/** free_pcppages_bulk (5.7): order 0, one more page from each fuller list per round, starting at MOVABLE. */
function freePcppagesBulk57(pcp: usize, zone: u32, count: i32): void {
  const have = pcpCount(pcp);
  if (count > have) count = have;
  let mt: u32 = 0;
  let batchFree: i32 = 0;
  while (count > 0) {
    let list: usize = 0;
    do {
      batchFree++;
      if (++mt == MIGRATE_PCPTYPES) mt = 0;
      list = pcpListAddr(pcp, mt);
    } while (listEmpty(list));
    if (batchFree == <i32>MIGRATE_PCPTYPES) batchFree = count;
    do {
      const pfn = listTail(list);
      listUnlink(list, pfn);
      pcpAddCount(pcp, -1);
      pcpPageToBuddy(pfn, zone, 0);
    } while (--count > 0 && --batchFree > 0 && !listEmpty(list));
  }
}

export function freePcppagesBulk(pcp: usize, zone: u32, count: i32, pindex: u32): void {
  if (count <= 0) return;
  if (pcpFreeFactor) freePcppagesBulk61(pcp, zone, count, pindex);
  else freePcppagesBulk57(pcp, zone, count);
  countPcpDrain();
}

/** nr_pcp_free: how many pages a bulk free sends back; doubles while frees go on without allocations. */
@inline function nrPcpFree(pcp: usize, high: i32, batch: i32): i32 {
  if (!pcpFreeFactor) return batch;
  if (high < batch) return 1;
  const minNr = batch;
  const maxNr = high - batch;
  const ff = load<u32>(pcp, PCP_FREE_FACTOR);
  let b = batch << ff;
  if (b < maxNr && ff < PCP_FREE_FACTOR_MAX) store<u32>(pcp, ff + 1, PCP_FREE_FACTOR);
  if (b < minNr) b = minNr;
  if (b > maxNr) b = maxNr;
  return b;
}

/** Orders whose free may flush the whole list (6.1's free_high: orders 1 to PAGE_ALLOC_COSTLY_ORDER). */
@inline export function freeHighOrder(order: u32): bool { return pcpFreeFactor && order - 1 < 3; }

/**
 * free_unref_page: onto the cpu's list head; bulk free back to the buddy once count reaches high. Inline: it is
 * the whole of most order-0 frees; the bulk free and the ISOLATE case are out of line. highOrder is
 * freeHighOrder(order), worked out by the caller.
 */
@inline export function freeUnrefPage(pfn: u32, order: u32, zone: u32, cpu: u32, highOrder: bool): void {
  const pbmt = pageblockMt(pfn);
  if (pbmt == MT_ISOLATE) {
    freeIsolatedToBuddy(pfn, order, zone);
    return;
  }
  const listMt = pbmt >= MIGRATE_PCPTYPES ? MT_MOVABLE : pbmt;
  const pindex = orderToPindex(order, listMt);
  const pcp = pcpAddr(cpu, zone);
  setWord(pfn, makeWord(PG_PCP, order, pbmt, zone));
  setCpu(pfn, cpu);
  listAddHead(pcpListAddr(pcp, pindex), pfn);
  const count = pcpCount(pcp) + (1 << order);
  store<i32>(pcp, count, PCP_COUNT);
  // free_high: an order 1..3 free after frees without allocations (free_factor > 0) flushes the whole list.
  if (count >= pcpHigh(zone)) pcpFreeBatch(pcp, zone, order, pindex);
  else if (highOrder) {
    if (load<u32>(pcp, PCP_FREE_FACTOR) > 0) pcpFreeBatch(pcp, zone, order, pindex);
  }
}

/** The end of freeUnrefPage once count reached high (or free_high holds): the bulk free back to the buddy. */
function pcpFreeBatch(pcp: usize, zone: u32, order: u32, pindex: u32): void {
  const freeHigh = pcpFreeFactor && load<u32>(pcp, PCP_FREE_FACTOR) > 0 && order >= 1 && order <= 3;
  const count = pcpCount(pcp);
  const high = freeHigh ? 0 : pcpHigh(zone);
  if (count >= high) freePcppagesBulk(pcp, zone, freeHigh ? count : nrPcpFree(pcp, high, pcpBatch(zone)), pindex);
}

/** A free into an ISOLATE pageblock bypasses the per-cpu lists. */
function freeIsolatedToBuddy(pfn: u32, order: u32, zone: u32): void {
  freeOnePage(pfn, order, MT_ISOLATE, zone, false, true);
}

/**
 * rmqueue_pcplist: the newest page of the cpu's list (pcp and list worked out by the caller, who has them); an
 * empty list is refilled from the buddy, oldest at the tail. Inline: taking the head is the whole of most order-0
 * allocations; the refill is out of line.
 */
@inline export function rmqueuePcplist(
  pcp: usize, list: usize, zone: u32, order: u32, mt: u32, cpu: u32, noFragment: bool,
): u32 {
  if (pcpFreeFactor) store<u32>(pcp, load<u32>(pcp, PCP_FREE_FACTOR) >> 1, PCP_FREE_FACTOR);
  let pfn = listHead(list);
  if (pfn == NIL) {
    pfn = rmqueueBulk(pcp, list, zone, order, mt, cpu, noFragment);
    if (pfn == NIL) return NIL;
  }
  const next = getNext(pfn);
  listTakeFirst(list, next);
  store<i32>(pcp, pcpCount(pcp) - (1 << order), PCP_COUNT);
  return pfn;
}

/** rmqueue_bulk: refill an empty per-cpu list with up to max(batch >> order, 2) blocks; returns its head or NIL. */
function rmqueueBulk(pcp: usize, list: usize, zone: u32, order: u32, mt: u32, cpu: u32, noFragment: bool): u32 {
  let batch = pcpBatch(zone);
  if (batch > 1) {
    batch = batch >> order;
    if (batch < 2) batch = 2;
  }
  // The loop's fixed values go in as arguments, so that V8 keeps them instead of working them out every block.
  const n = rmqueueBulkRun(list, zone, order, mt, noFragment, batch, makeWord(PG_PCP, order, mt, zone), cpu,
    freeListAddr(zone, order, mt));
  pcpAddCount(pcp, n << order);
  zoneAddFreePages(zone, -(n << order)); // the blocks left the free lists: NR_FREE_PAGES, once for the batch
  return listHead(list);
}

/**
 * rmqueueBulk's loop: up to `batch` blocks from free_list[order][mt] (`own`) to the tail of `list`. A block split
 * for the refill hands out its pieces in one go (rmqueueSplitRun): the same pieces, in the same order, as one
 * __rmqueue per piece.
 */
function rmqueueBulkRun(
  list: usize, zone: u32, order: u32, mt: u32, noFragment: bool, batch: i32, word: u32, cpu: u32, own: usize,
): i32 {
  let i: i32 = 0;
  while (i < batch) {
    let p = listHead(own);
    if (p != NIL) {
      takeFirstFromFreeList(own, p, zone, order);
      toPcpTail(list, p, word, cpu);
      i++;
      continue;
    }
    p = rmqueueSplitRun(zone, order, mt, <u32>(batch - i));
    if (p != NIL) {
      const m = splitTaken;
      for (let j: u32 = 0; j < m; j++) toPcpTail(list, p + (j << order), word, cpu);
      i += <i32>m;
      continue;
    }
    p = rmqueueWithFallback(zone, order, mt, noFragment);
    if (p == NIL) break;
    toPcpTail(list, p, word, cpu);
    i++;
  }
  return i;
}

@inline function toPcpTail(list: usize, p: u32, word: u32, cpu: u32): void {
  setWord(p, word);
  setCpu(p, cpu);
  listAddTail(list, p);
}

/** drain_pages_zone: everything on this cpu's lists for the zone goes back. */
export function drainPagesZone(cpu: u32, zone: u32): void {
  const pcp = pcpAddr(cpu, zone);
  if (!pcpFreeFactor) {
    freePcppagesBulk(pcp, zone, pcpCount(pcp), 0);
    return;
  }
  // 6.1.104+ (the reference kernel is 6.1.192) drains in chunks of batch << PCP_FREE_FACTOR_MAX to bound lock hold.
  const chunk = pcpBatch(zone) << PCP_FREE_FACTOR_MAX;
  while (pcpCount(pcp) > 0) {
    const n = pcpCount(pcp);
    freePcppagesBulk(pcp, zone, n < chunk ? n : chunk, 0);
  }
}

/**
 * Set a cpu's free_factor for a zone (a recorded state caught in the middle of a run of bulk frees): 0, or an
 * error code.
 */
export function pcpSetFreeFactor(cpu: u32, zone: u32, factor: u32): i32 {
  if (!pcpEnabled) return E_BAD_STATE;
  if (cpu >= nrCpus) return E_BAD_CPU;
  if (zone >= nrZones) return E_BAD_ZONE;
  if (factor > PCP_FREE_FACTOR_MAX) return E_BAD_STATE;
  store<u32>(pcpAddr(cpu, zone), factor, PCP_FREE_FACTOR);
  return 0;
}

/**
 * Trace replay: put an allocated head on a cpu's per-cpu list exactly where a recorded state says it was, at the
 * list head or tail, as a pcp page recording its pageblock's migratetype (list: the free rule's). count grows by
 * 2^order; no bulk free however large count gets, free_factor untouched. Validates before changing anything:
 * 0, or an error code.
 */
export function pcpPlace(pfn: u32, order: u32, cpu: u32, tail: bool): i32 {
  if (!pcpEnabled) return E_BAD_STATE;
  if (order > MAX_ORDER || ((pcpOrderMask >> order) & 1) == 0) return E_BAD_ORDER;
  if (pfn >= maxPfn || pfn + (<u32>1 << order) > maxPfn) return E_OUT_OF_RANGE;
  if ((pfn & ((<u32>1 << order) - 1)) != 0) return E_MISALIGNED;
  if (cpu >= nrCpus) return E_BAD_CPU;
  const w = getWord(pfn);
  if ((w & PG_HOLE) != 0) return E_HOLE;
  if (kindOf(w) != PG_ALLOCATED) return E_NOT_ALLOCATED;
  if (orderOf(w) != order) return E_WRONG_ORDER;
  const pbmt = pageblockMt(pfn);
  if (pbmt == MT_ISOLATE) return E_BAD_MT; // an isolated pageblock's pages never sit on a per-cpu list
  const zone = zoneOf(w);
  const pcp = pcpAddr(cpu, zone);
  const list = pcpListAddr(pcp, orderToPindex(order, pbmt >= MIGRATE_PCPTYPES ? MT_MOVABLE : pbmt));
  addAllocated(-(1 << order));
  setWord(pfn, makeWord(PG_PCP, order, pbmt, zone));
  setCpu(pfn, cpu);
  if (tail) listAddTail(list, pfn);
  else listAddHead(list, pfn);
  pcpAddCount(pcp, 1 << order);
  return 0;
}
