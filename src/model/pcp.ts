// Per-cpu page lists (assembly/pcp.ts): 6.1 free_unref_page / nr_pcp_free / free_pcppages_bulk / rmqueue_pcplist /
// rmqueue_bulk / drain_pages_zone, and the 5.7 order-0 variant (fixed batch, one-page-per-list round robin).
import {
  type FreeResult, MIGRATE_PCPTYPES, MigrateType, NR_PCP_LISTS, PAGEBLOCK_ORDER, PCP_FREE_FACTOR_MAX, PCP_THP_PINDEX,
} from '../core/types.js';
import { type ModelState, NIL } from './state.js';
import { NONE, PCP } from './page.js';
import { listAddHead, listAddTail, listUnlink } from './freelist.js';
import { freeOnePage, rmqueue } from './buddy.js';

const { MOVABLE, ISOLATE } = MigrateType;

/** order_to_pindex: 3 types for each of orders 0..3, then one list for the THP (pageblock) order. */
export function orderToPindex(order: number, pcpMt: number): number {
  return order <= 3 ? MIGRATE_PCPTYPES * order + pcpMt : PCP_THP_PINDEX;
}

export function pindexToOrder(pindex: number): number {
  return pindex === PCP_THP_PINDEX ? PAGEBLOCK_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
}

/** The per-cpu set (count, free_factor, lists) of a cpu and zone. */
export function pcpSet(s: ModelState, cpu: number, z: number): number {
  return cpu * s.nrZones + z;
}

export function pcpListIndex(s: ModelState, cpu: number, z: number, pindex: number): number {
  return pcpSet(s, cpu, z) * NR_PCP_LISTS + pindex;
}

/** rmqueue_pcplist: the newest block of the list; an empty list is refilled from the buddy first. NIL on failure. */
export function rmqueuePcplist(s: ModelState, z: number, order: number, mt: number, cpu: number, noFragment = false): number {
  const set = pcpSet(s, cpu, z);
  // An allocation shows the CPU is consuming again: shrink the next bulk free.
  if (s.profile.pcpFreeFactor) s.pcpFreeFactor[set]! >>= 1;
  const l = pcpListIndex(s, cpu, z, orderToPindex(order, mt));
  if (s.pcpLists.len[l] === 0) {
    rmqueueBulk(s, z, order, mt, cpu, l, noFragment);
    if (s.pcpLists.len[l] === 0) return NIL;
  }
  const pfn = s.pcpLists.head[l]!;
  listUnlink(s.pcpLists, l, pfn);
  s.pcpCount[set]! -= 1 << order;
  s.kind[pfn] = NONE;
  return pfn;
}

/** rmqueue_bulk: refill list l with b = batch > 1 ? max(batch >> order, 2) : batch blocks, each at the tail. */
export function rmqueueBulk(s: ModelState, z: number, order: number, mt: number, cpu: number, l: number, noFragment = false): void {
  const batch = s.zones[z]!.pcpBatch;
  const count = batch > 1 ? Math.max(batch >> order, 2) : batch;
  const set = pcpSet(s, cpu, z);
  for (let i = 0; i < count; i++) {
    const pfn = rmqueue(s, z, order, mt, noFragment);
    if (pfn === NIL) break;
    s.kind[pfn] = PCP;
    s.order[pfn] = order;
    s.mt[pfn] = mt;
    s.cpuOf[pfn] = cpu;
    listAddTail(s.pcpLists, l, pfn);
    s.pcpCount[set]! += 1 << order;
  }
}

/**
 * free_unref_page for a block already released by the caller (kind NONE): onto its list's head (a block of an
 * ISOLATE pageblock straight to the buddy), then a bulk free back to the buddy once count reaches high.
 */
export function freeUnrefPage(s: ModelState, pfn: number, order: number, z: number, cpu: number): FreeResult {
  const blockMt = s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
  if (blockMt === ISOLATE) {
    const [head, final] = freeOnePage(s, pfn, order, blockMt, z, false, true);
    return { to: 'buddy', pfn: head, order: final };
  }
  const pcpMt = blockMt >= MIGRATE_PCPTYPES ? MOVABLE : blockMt;
  const pindex = orderToPindex(order, pcpMt);
  s.kind[pfn] = PCP;
  s.order[pfn] = order;
  s.mt[pfn] = blockMt;
  s.cpuOf[pfn] = cpu;
  listAddHead(s.pcpLists, pcpListIndex(s, cpu, z, pindex), pfn);
  s.pcpCount[pcpSet(s, cpu, z)]! += 1 << order;
  pcpFreeBatch(s, cpu, z, order, pindex);
  return { to: 'pcp', pfn, order };
}

/** The end of free_unref_page: the bulk free once count reached high (or free_high holds). */
function pcpFreeBatch(s: ModelState, cpu: number, z: number, order: number, pindex: number): void {
  const set = pcpSet(s, cpu, z);
  // free_high: high-order pages piling up while nothing allocates only fragment memory; flush them all.
  const freeHigh = s.profile.pcpFreeFactor && s.pcpFreeFactor[set]! > 0 && order >= 1 && order <= 3;
  const high = freeHigh ? 0 : s.zones[z]!.pcpHigh;
  if (s.pcpCount[set]! >= high) {
    const n = freeHigh ? s.pcpCount[set]! : nrPcpFree(s, cpu, z);
    freePcppagesBulk(s, cpu, z, n, pindex);
  }
}

/** nr_pcp_free: how many pages a bulk free sends back; doubles while frees go on without allocations. */
export function nrPcpFree(s: ModelState, cpu: number, z: number): number {
  const { pcpHigh: high, pcpBatch: batch } = s.zones[z]!;
  // 5.7 always sends one batch back.
  if (!s.profile.pcpFreeFactor) return batch;
  if (high < batch) return 1;
  const set = pcpSet(s, cpu, z);
  const factor = s.pcpFreeFactor[set]!;
  const n = batch * 2 ** factor;
  if (n < high - batch && factor < PCP_FREE_FACTOR_MAX) s.pcpFreeFactor[set] = factor + 1;
  return Math.min(Math.max(n, batch), high - batch);
}

/** free_pcppages_bulk; a bulk free of nothing does not count as a drain. */
export function freePcppagesBulk(s: ModelState, cpu: number, z: number, n: number, pindex: number): void {
  const set = pcpSet(s, cpu, z);
  n = Math.min(n, s.pcpCount[set]!);
  if (n <= 0) return;
  s.stats.pcpDrains++;
  if (s.profile.pcpFreeFactor) freePcppagesBulk61(s, cpu, z, n, pindex);
  else freePcppagesBulk57(s, cpu, z, n);
}

/** free_pcppages_bulk (6.1): oldest pages first, a whole list at a time, round robin from the freed page's list. */
function freePcppagesBulk61(s: ModelState, cpu: number, z: number, n: number, pindex: number): void {
  let pi = pindex - 1;
  while (n > 0) {
    let l: number;
    do {
      pi = pi + 1 >= NR_PCP_LISTS ? 0 : pi + 1;
      l = pcpListIndex(s, cpu, z, pi);
    } while (s.pcpLists.len[l] === 0);
    const order = pindexToOrder(pi);
    do {
      pcpTakeTail(s, cpu, z, l, order);
      n -= 1 << order;
    } while (n > 0 && s.pcpLists.len[l]! > 0);
  }
}

/**
 * free_pcppages_bulk (5.7, order 0 only): round robin over the three type lists starting after UNMOVABLE; each
 * visit takes as many pages as lists were looked at to find a non-empty one, so fuller lists give more, and a lone
 * list gives all. The credit carries over between visits, as the kernel's batch_free does.
 */
function freePcppagesBulk57(s: ModelState, cpu: number, z: number, n: number): void {
  let mt = 0;
  let credit = 0;
  while (n > 0) {
    let l: number;
    do {
      credit++;
      mt = mt + 1 === MIGRATE_PCPTYPES ? 0 : mt + 1;
      l = pcpListIndex(s, cpu, z, orderToPindex(0, mt));
    } while (s.pcpLists.len[l] === 0);
    if (credit === MIGRATE_PCPTYPES) credit = n;
    do {
      pcpTakeTail(s, cpu, z, l, 0);
      n--;
      if (n === 0) break;
      credit--;
    } while (credit > 0 && s.pcpLists.len[l]! > 0);
  }
}

/** The oldest block of a per-cpu list leaves it for the buddy. */
function pcpTakeTail(s: ModelState, cpu: number, z: number, l: number, order: number): void {
  const pfn = s.pcpLists.tail[l]!;
  listUnlink(s.pcpLists, l, pfn);
  s.pcpCount[pcpSet(s, cpu, z)]! -= 1 << order;
  s.kind[pfn] = NONE;
  pcpPageToBuddy(s, pfn, z, order);
}

/**
 * A page leaves a per-cpu list for the buddy with the type recorded at free, unless its pageblock has been
 * isolated since (the kernel re-reads the pageblock when the zone has isolated pageblocks).
 */
export function pcpPageToBuddy(s: ModelState, pfn: number, z: number, order: number): void {
  const mt = s.pageblockMt[pfn >> PAGEBLOCK_ORDER] === ISOLATE ? ISOLATE : s.mt[pfn]!;
  freeOnePage(s, pfn, order, mt, z, false, true);
}

/** drain_pages_zone: everything on this cpu's lists for the zone goes back. */
export function drainPagesZone(s: ModelState, cpu: number, z: number): void {
  const set = pcpSet(s, cpu, z);
  if (!s.profile.pcpFreeFactor) {
    freePcppagesBulk(s, cpu, z, s.pcpCount[set]!, 0);
    return;
  }
  // 6.1.y since 6.1.104: chunks of batch << 5 bound the time the zone lock is held.
  const chunk = Math.max(1, s.zones[z]!.pcpBatch * 2 ** PCP_FREE_FACTOR_MAX);
  while (s.pcpCount[set]! > 0) freePcppagesBulk(s, cpu, z, Math.min(s.pcpCount[set]!, chunk), 0);
}
