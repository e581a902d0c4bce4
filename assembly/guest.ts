// Building a guest: memory, zones, holes, the initial state, boot; and the validated single operations.
import {
  PAGES_START, PAGE_DESC_SIZE, PAGEBLOCK_ORDER, MAX_ORDER, MAX_ZONES, MAX_CPUS, PG_ALLOCATED, PG_HOLE, PG_BUDDY,
  PG_INFLIGHT, MT_MOVABLE, MT_UNMOVABLE, MT_ISOLATE, REGION_BASE, NIL, NO_ZONE, FREE_TO_TAIL, FREE_SKIP_NOTIFY,
  E_NOT_ALLOCATED, E_WRONG_ORDER, E_BAD_ORDER, E_MISALIGNED, E_OUT_OF_RANGE, E_HOLE, E_BAD_MT, E_BAD_ZONE,
  E_BAD_CPU, E_NOT_FREE, E_NOT_INFLIGHT, E_ALLOC_FAILED,
} from './layout';
import {
  getWord, setWord, makeWord, interiorWord, kindOf, orderOf, mtOf, zoneOf, pageblockMt, setPageblockMtRaw,
  findHead, fillWords, allWordsAre,
} from './page';
import { initFreeArea, addToFreeList, delFromFreeList, markReported } from './freelist';
import { freeOnePage, moveFreePagesBlock } from './buddy';
import { allocPages, freePages } from './alloc';
import { isolateFreePage, putbackIsolatedPage } from './isolate';
import { initPcp, drainPagesZone } from './pcp';
import { zoneAddFreePages, zoneFreePages, zoneStartPfn, zoneEndPfn } from './zone';
import {
  setGeometry, maxPfn, nrZones, nrCpus, bootToTail, addAllocated, setLastPfn, resetPageCounters, pageExtStart,
  pageblockStart, allocFailures, allocFailuresInFlight, restoreAllocFailures,
} from './state';

/** Bytes of linear memory a guest of `pfns` needs (without workload scratch). */
export function bytesNeeded(pfns: u32): f64 {
  // descriptors, cold bytes, pageblock types, and the 64-byte alignment of the scratch region
  return <f64>PAGES_START + <f64>pfns * <f64>(PAGE_DESC_SIZE + 1) + <f64>((pfns >> PAGEBLOCK_ORDER) + 1) + 64;
}

/** Reserve memory for a guest; returns 0, or -1 when it cannot fit in wasm32 linear memory. */
export function setup(pfns: u32, zones: u32, cpus: u32): i32 {
  if (__heap_base > REGION_BASE) unreachable(); // static data must end below the fixed regions
  if (zones == 0 || zones > MAX_ZONES || cpus == 0 || cpus > MAX_CPUS) return E_BAD_ZONE;
  const need = bytesNeeded(pfns);
  if (need > 4294901760.0) return -1; // 65535 pages of 64 KiB: the largest wasm32 memory
  const pages = <i32>Math.ceil(need / 65536.0);
  const have = memory.size();
  if (pages > have && memory.grow(pages - have) < 0) return -1;
  const extStart = <usize>PAGES_START + <usize>pfns * <usize>PAGE_DESC_SIZE;
  const pbStart = extStart + <usize>pfns;
  setGeometry(pfns, zones, cpus, extStart, pbStart, (pbStart + <usize>((pfns >> PAGEBLOCK_ORDER) + 1) + 63) & ~63);
  return 0;
}

/**
 * memmap_init: every pfn of a zone's span present and allocated (order 0, UNMOVABLE: the pre-boot state that boot
 * frees), every other pfn a hole (holes inside a zone are marked after, by markHole); every list empty; every
 * pageblock MOVABLE. One pass over the descriptors (fillWords). `fresh`: the memory is new and so all zero (the
 * cold bytes are then left alone: writing zeros would only fault their pages in early).
 */
export function initMemory(fresh: bool): void {
  resetPageCounters();
  let p: u32 = 0;
  while (p < maxPfn) {
    // The zone holding p, else the gap up to the next zone above it (zones never overlap).
    let zone: u32 = NO_ZONE;
    let end = maxPfn;
    for (let z: u32 = 0; z < nrZones; z++) {
      const s = zoneStartPfn(z);
      const e = zoneEndPfn(z);
      if (p >= s && p < e) {
        zone = z;
        end = e < maxPfn ? e : maxPfn;
        break;
      }
      if (s > p && s < end) end = s;
    }
    const w = zone == NO_ZONE ? makeWord(PG_HOLE, 0, 0, NO_ZONE) : makeWord(PG_ALLOCATED, 0, MT_UNMOVABLE, zone);
    if (zone != NO_ZONE) addAllocated(<i32>(end - p));
    fillWords(p, end, w);
    p = end;
  }
  if (!fresh) memory.fill(pageExtStart, 0, <usize>maxPfn); // host state and cpu
  const nPb = (maxPfn >> PAGEBLOCK_ORDER) + 1;
  memory.fill(pageblockStart, <u8>MT_MOVABLE, <usize>nPb);
  for (let z: u32 = 0; z < MAX_ZONES; z++) {
    zoneAddFreePages(z, -zoneFreePages(z));
    initFreeArea(z);
  }
  for (let c: u32 = 0; c < MAX_CPUS; c++) {
    for (let z: u32 = 0; z < MAX_ZONES; z++) initPcp(c, z);
  }
}

/** Validate a pfn/order pair; 0 or an error code. */
@inline export function checkPfnOrder(pfn: u32, order: u32): i32 {
  if (order > MAX_ORDER) return E_BAD_ORDER;
  if (pfn >= maxPfn) return E_OUT_OF_RANGE;
  if ((pfn & ((<u32>1 << order) - 1)) != 0) return E_MISALIGNED;
  if (pfn + (<u32>1 << order) > maxPfn) return E_OUT_OF_RANGE;
  if ((getWord(pfn) & PG_HOLE) != 0) return E_HOLE;
  return 0;
}

/**
 * Release every allocated block inside [pfn, pfn + 2^order) (they must lie wholly inside it and nothing else may
 * be there), leaving the range as interior pages of zone. Validates before changing anything.
 */
export function releaseRange(pfn: u32, order: u32): i32 {
  const e = checkPfnOrder(pfn, order);
  if (e != 0) return e;
  const end = pfn + (<u32>1 << order);
  const w0 = getWord(pfn);
  const zone = zoneOf(w0);
  // The range boot releases: every page an order-0 allocated head like the first (tested four at a time).
  if (kindOf(w0) == PG_ALLOCATED && orderOf(w0) == 0 && (w0 & PG_HOLE) == 0 && allWordsAre(pfn, end, w0)) {
    fillWords(pfn, end, interiorWord(zone));
    addAllocated(-<i32>(end - pfn));
    return 0;
  }
  let p = pfn;
  let pages: u32 = 0;
  while (p < end) {
    const w = getWord(p);
    if ((w & PG_HOLE) != 0) return E_HOLE;
    if (kindOf(w) != PG_ALLOCATED || zoneOf(w) != zone) return E_NOT_ALLOCATED;
    const o = orderOf(w);
    if (p + (<u32>1 << o) > end) return E_WRONG_ORDER;
    pages += <u32>1 << o;
    p += <u32>1 << o;
  }
  // Every page of the range becomes an interior page (interior pages of the blocks already are one).
  fillWords(pfn, end, interiorWord(zone));
  addAllocated(-<i32>pages);
  return 0;
}

/**
 * split_page and its converse for recorded traffic: the allocated blocks filling [pfn, pfn + 2^order) become
 * allocated blocks of order `as` with migratetype mt (the allocated page count is unchanged).
 */
export function reshapeAllocated(pfn: u32, order: u32, as: u32, mt: u32): i32 {
  if (as > order) return E_BAD_ORDER;
  if (mt >= MT_ISOLATE) return E_BAD_MT;
  const e = releaseRange(pfn, order);
  if (e != 0) return e;
  const zone = zoneOf(getWord(pfn));
  const end = pfn + (<u32>1 << order);
  for (let p = pfn; p < end; p += <u32>1 << as) setWord(p, makeWord(PG_ALLOCATED, as, mt, zone));
  addAllocated(1 << order);
  return 0;
}

/** Free [start, end) of a zone in maximal aligned blocks, ascending, as memblock hands memory to the buddy. */
export function bootFreeRange(zone: u32, start: u32, end: u32): i32 {
  let p = start;
  while (p < end) {
    let order: u32 = p == 0 ? MAX_ORDER : <u32>ctz(p);
    if (order > MAX_ORDER) order = MAX_ORDER;
    while (p + (<u32>1 << order) > end) order--;
    const e = releaseRange(p, order);
    if (e != 0) return e;
    freeOnePage(p, order, pageblockMt(p), zone, bootToTail, true);
    p += <u32>1 << order;
  }
  return 0;
}

/** Validate allocation arguments: 0, or an error code. */
@inline export function checkAllocArgs(order: u32, mt: u32, highest: u32, cpu: u32): i32 {
  if (order > MAX_ORDER) return E_BAD_ORDER;
  if (mt >= MT_ISOLATE) return E_BAD_MT;
  if (highest >= nrZones) return E_BAD_ZONE;
  if (cpu >= nrCpus) return E_BAD_CPU;
  return 0;
}

export function alloc(order: u32, mt: u32, highest: u32, cpu: u32): i32 {
  const e = checkAllocArgs(order, mt, highest, cpu);
  if (e != 0) return e;
  const pfn = allocPages(order, mt, highest, cpu);
  return pfn == NIL ? E_ALLOC_FAILED : <i32>pfn;
}

/**
 * An allocation its caller falls back from (a THP fault: __GFP_NORETRY | __GFP_NOWARN, then 4 KiB pages):
 * the same walk as alloc, but a failure is the caller's fallback, not an allocation failure, so it is not counted.
 */
export function allocMayFail(order: u32, mt: u32, highest: u32, cpu: u32): i32 {
  const failures = allocFailures, inFlight = allocFailuresInFlight;
  const r = alloc(order, mt, highest, cpu);
  if (r == E_ALLOC_FAILED) restoreAllocFailures(failures, inFlight);
  return r;
}

/** Validated free of an allocated head: final order | 256 when it went to a per-cpu list. */
export function free(pfn: u32, order: u32, flags: u32, cpu: u32): i32 {
  return freeChecked(pfn, order, flags, cpu);
}

/** free's body, inline for the batch loops. */
@inline export function freeChecked(pfn: u32, order: u32, flags: u32, cpu: u32): i32 {
  const e = checkPfnOrder(pfn, order);
  if (e != 0) return e;
  if (cpu >= nrCpus) return E_BAD_CPU;
  const w = getWord(pfn);
  if (kindOf(w) != PG_ALLOCATED) return E_NOT_ALLOCATED;
  if (orderOf(w) != order) return E_WRONG_ORDER;
  return <i32>freePages(pfn, order, zoneOf(w), flags, cpu);
}

/** Lenient free for importers and trace replay: any allocated blocks wholly inside the range. */
export function freeRange(pfn: u32, order: u32, flags: u32): i32 {
  const e = releaseRange(pfn, order);
  if (e != 0) return e;
  const zone = zoneOf(getWord(pfn));
  return <i32>freeOnePage(pfn, order, pageblockMt(pfn), zone, (flags & FREE_TO_TAIL) != 0, (flags & FREE_SKIP_NOTIFY) == 0);
}

/**
 * Put a free block on a list exactly as given (no merging): importers rebuild a recorded state block by block,
 * in list order. The range must be allocated blocks wholly inside it.
 */
export function placeFreeBlock(pfn: u32, order: u32, mt: u32, tail: bool, reported: bool): i32 {
  if (mt > MT_ISOLATE) return E_BAD_MT;
  const e = releaseRange(pfn, order);
  if (e != 0) return e;
  const zone = zoneOf(getWord(pfn));
  if (mt != MT_ISOLATE) zoneAddFreePages(zone, 1 << order);
  addToFreeList(pfn, zone, order, mt, tail);
  if (reported) markReported(pfn);
  setLastPfn(pfn);
  return 0;
}

/** Allocate a specific free block (importers/trace replay): it must be a free head of that order. */
export function allocExact(pfn: u32, order: u32, mt: u32): i32 {
  const e = checkPfnOrder(pfn, order);
  if (e != 0) return e;
  if (mt >= MT_ISOLATE) return E_BAD_MT;
  const w = getWord(pfn);
  if (kindOf(w) != PG_BUDDY || orderOf(w) != order) return E_NOT_FREE;
  const zone = zoneOf(w);
  // del_page_from_free_list through isolate's bookkeeping without the watermark: the block is simply taken.
  if (mtOf(w) != MT_ISOLATE) zoneAddFreePages(zone, -(1 << order));
  delFromFreeList(pfn, zone, order);
  setWord(pfn, makeWord(PG_ALLOCATED, order, mt, zone));
  addAllocated(1 << order);
  return <i32>pfn;
}

export function isolate(pfn: u32, order: u32): i32 {
  const e = checkPfnOrder(pfn, order);
  if (e != 0) return e;
  const w = getWord(pfn);
  if (kindOf(w) != PG_BUDDY || orderOf(w) != order) return E_NOT_FREE;
  return isolateFreePage(pfn, order, zoneOf(w)) ? 1 : 0;
}

export function putback(pfn: u32, order: u32): i32 {
  const e = checkPfnOrder(pfn, order);
  if (e != 0) return e;
  const w = getWord(pfn);
  if (kindOf(w) != PG_INFLIGHT || orderOf(w) != order) return E_NOT_INFLIGHT;
  return <i32>putbackIsolatedPage(pfn, order, zoneOf(w));
}

export function setPageblockMt(pfn: u32, mt: u32): i32 {
  if (pfn >= maxPfn) return E_OUT_OF_RANGE;
  if (mt > MT_ISOLATE) return E_BAD_MT;
  setPageblockMtRaw(pfn, mt);
  return 0;
}

export function moveFreePages(pfn: u32, mt: u32): i32 {
  if (pfn >= maxPfn) return E_OUT_OF_RANGE;
  if (mt > MT_ISOLATE) return E_BAD_MT;
  const w = getWord(pfn);
  if ((w & PG_HOLE) != 0) return E_HOLE;
  return <i32>moveFreePagesBlock(pfn, zoneOf(w), mt);
}

export function drainPcp(cpu: u32): i32 {
  if (cpu >= nrCpus) return E_BAD_CPU;
  for (let z: u32 = 0; z < nrZones; z++) drainPagesZone(cpu, z);
  return 0;
}

/** Head of the block holding pfn (NIL for a hole or orphan). */
export function headOf(pfn: u32): u32 {
  if (pfn >= maxPfn) return NIL;
  if ((getWord(pfn) & PG_HOLE) != 0) return NIL;
  return findHead(pfn);
}

/** True when every page of [pfn, pfn + n) lies in a free block. */
export function rangeFree(pfn: u32, n: u32): bool {
  const end = pfn + n;
  let p = pfn;
  while (p < end) {
    const h = headOf(p);
    if (h == NIL) return false;
    const w = getWord(h);
    if (kindOf(w) != PG_BUDDY) return false;
    p = h + (<u32>1 << orderOf(w));
  }
  return true;
}

