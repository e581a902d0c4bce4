// An anonymous mapping as a process sees it: its pages in address order, each first touch a page fault.
//
// Each 2 MiB of the mapping also needs a page-table page (an order-0 UNMOVABLE allocation at the first fault
// there: a PTE table, or with THP the table deposited for a later split), freed after the pages when the
// mapping goes (free_pgtables runs after the unmap). A real 6.1 trace of a 256 MiB memhog shows 136 such
// allocations among its 65,544 page faults.
//
// Without transparent huge pages every fault takes one 4 KiB page (order 0, MOVABLE). With THP a fault in a
// 2 MiB-aligned extent takes a whole order-9 folio (6.1: through the per-cpu THP list); when no order-9 block can
// be had the fault falls back to 4 KiB pages for that extent (thp_fault_fallback), which is not an allocation
// failure. A folio is freed whole when the mapping goes (munmap), and MADV_DONTNEED of single 4 KiB pages inside
// it only splits the PMD mapping: the folio stays allocated until it is unmapped (the deferred split queue is
// scanned only under memory pressure, which the simulator does not model).
import type { WasmGuest } from '../core/guest.js';
import { MigrateType, PAGEBLOCK_ORDER } from '../core/types.js';
import { allocMany, freeMany, PfnList } from './ops.js';

/**
 * How the workload's faults see THP: 'never' (4 KiB pages: THP off, or MADV_NOHUGEPAGE as the recorded runs'
 * THP=nohuge), 'always' (THP on every aligned extent), 'madvise' (THP because the process asks with
 * MADV_HUGEPAGE, as E2t did). 'always' and 'madvise' fault the same here: they differ in defrag (direct
 * compaction), which is out of scope.
 */
export type ThpMode = 'never' | 'always' | 'madvise';

const HPAGE_PAGES = 1 << PAGEBLOCK_ORDER;

/** A workload's event counts from its mapping (none before the process starts): see Workload.counts. */
export function mappingCounts(m: AnonMapping | null): Record<string, number> {
  return { thpFaults: m?.thpFaults ?? 0, thpFallbacks: m?.thpFallbacks ?? 0, failedPages: m?.failedPages ?? 0 };
}

export class AnonMapping {
  /** Head pfn of each entry, in address order. */
  readonly heads = new PfnList();
  /** Order of each entry (0, or 9 for a THP folio); kept only with THP (otherwise every entry is order 0). */
  readonly orders = new PfnList();
  /** Pages faulted in so far (the mapping's size in 4 KiB pages). */
  pages = 0;
  thpFaults = 0;
  thpFallbacks = 0;
  /** 4 KiB faults that found no page (the process would be OOM-killed; counted and skipped here). */
  failedPages = 0;
  /** Touched pages not yet faulted (THP: less than an extent). */
  private due = 0;
  /** Page-table pages, one per 2 MiB extent touched. */
  readonly pageTables = new PfnList();

  constructor(private readonly guest: WasmGuest, readonly cpu: number, readonly thp: boolean) {}

  /**
   * The process touches `n` more pages. With THP a fault takes a whole 2 MiB extent, so touches accumulate until
   * an extent is complete; `last` faults what remains (a tail shorter than an extent takes 4 KiB pages).
   */
  touch(n: number, last = false): void {
    if (!this.thp) {
      // The first fault in each 2 MiB extent allocates its page table. A touch's tables are taken before its
      // pages, in one batch each: they come off other lists (UNMOVABLE, not MOVABLE), so the order between the
      // two within one touch changes no page either gets.
      const tables = Math.ceil((this.pages + n) / HPAGE_PAGES) - Math.ceil(this.pages / HPAGE_PAGES);
      if (tables > 0) allocMany(this.guest, tables, 0, MigrateType.UNMOVABLE, this.cpu, this.pageTables);
      this.faultPages(n);
      return;
    }
    this.due += n;
    while (this.due >= HPAGE_PAGES || (last && this.due > 0)) {
      const m = Math.min(this.due, HPAGE_PAGES);
      this.faultExtent(m);
      this.due -= m;
    }
  }

  /** Fault in `m` <= 512 pages from an extent boundary: one THP folio when it applies, else 4 KiB pages. */
  private faultExtent(m: number): void {
    this.allocPageTable();
    if (this.thp && m === HPAGE_PAGES) {
      const pfn = this.guest.alloc(PAGEBLOCK_ORDER, MigrateType.MOVABLE, { cpu: this.cpu, mayFail: true });
      if (pfn >= 0) {
        this.push(pfn, PAGEBLOCK_ORDER);
        this.thpFaults++;
        this.pages += m;
        return;
      }
      this.thpFallbacks++;
    }
    this.faultPages(m);
  }

  private allocPageTable(): void {
    const pfn = this.guest.alloc(0, MigrateType.UNMOVABLE, { cpu: this.cpu });
    if (pfn >= 0) this.pageTables.push(pfn);
  }

  /** free_pgtables: the page tables go after the pages. */
  freePageTables(): void {
    freeMany(this.guest, this.pageTables.data, 0, this.pageTables.length, 0, this.cpu);
    this.pageTables.clear();
  }

  private faultPages(m: number): void {
    const got = allocMany(this.guest, m, 0, MigrateType.MOVABLE, this.cpu, this.heads);
    // Orders are kept only where folios can appear; without THP every entry is a 4 KiB page.
    if (this.thp) for (let i = 0; i < got; i++) this.orders.push(0);
    this.failedPages += m - got;
    this.pages += m;
  }

  orderAt(i: number): number {
    return this.thp ? this.orders.data[i]! : 0;
  }

  /** The entries from `from` that make up at least `pages` pages (fewer at the end): a munmap step. */
  entriesFor(from: number, pages: number): number {
    if (!this.thp) return Math.min(this.entries, from + pages);
    let to = from;
    for (let got = 0; to < this.entries && got < pages; to++) got += 1 << this.orders.data[to]!;
    return to;
  }

  /** Room for `pages` more pages up front, so the lists never grow by copying while the process faults. */
  reserve(pages: number): void {
    // No more pages can be faulted than the guest has.
    const n = Math.min(pages, this.guest.config.maxPfn);
    this.heads.reserve(this.heads.length + n);
    if (this.thp) this.orders.reserve(this.orders.length + n);
  }

  get entries(): number {
    return this.heads.length;
  }

  /**
   * Free entries [from, to) in address order (munmap, or MADV_DONTNEED of whole entries); runs of equal order go
   * to the allocator as one batch. Returns the pages freed.
   */
  free(from: number, to: number): number {
    if (!this.thp) {
      // Every entry a 4 KiB page: one run.
      freeMany(this.guest, this.heads.data, from, to, 0, this.cpu);
      return to - from;
    }
    let pages = 0;
    for (let i = from; i < to;) {
      const order = this.orderAt(i);
      let j = i + 1;
      while (j < to && this.orderAt(j) === order) j++;
      freeMany(this.guest, this.heads.data, i, j, order, this.cpu);
      pages += (j - i) << order;
      i = j;
    }
    return pages;
  }

  /**
   * MADV_DONTNEED of every k-th 4 KiB page (by address): 4 KiB pages at those addresses are freed now and
   * dropped from the mapping; a THP folio is only split in its page table and stays whole. Returns pages freed.
   */
  dontneedEvery(k: number): number {
    const keepHeads = new PfnList();
    const keepOrders = new PfnList();
    const holes = new PfnList();
    let addr = 0;
    for (let i = 0; i < this.heads.length; i++) {
      const pfn = this.heads.data[i]!, order = this.orderAt(i);
      if (order === 0 && addr % k === 0) holes.push(pfn);
      else {
        keepHeads.push(pfn);
        if (this.thp) keepOrders.push(order);
      }
      addr += 1 << order;
    }
    freeMany(this.guest, holes.data, 0, holes.length, 0, this.cpu);
    this.heads.clear();
    this.orders.clear();
    this.heads.pushAll(keepHeads.data.subarray(0, keepHeads.length));
    this.orders.pushAll(keepOrders.data.subarray(0, keepOrders.length));
    return holes.length;
  }

  clear(): void {
    this.heads.clear();
    this.orders.clear();
  }

  private push(pfn: number, order: number): void {
    this.heads.push(pfn);
    this.orders.push(order);
  }
}
