// The contract shared by the wasm-backed guest and the plain TypeScript reference model.
// Both implement `Allocator`; the differential tests hold one against the other.

import {
  MT_UNMOVABLE, MT_MOVABLE, MT_RECLAIMABLE, MT_HIGHATOMIC, MT_CMA, MT_ISOLATE, MIGRATE_TYPES, MIGRATE_PCPTYPES,
  MAX_ZONES, NR_ORDERS, MAX_ORDER, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, MAX_CPUS, NR_PCP_LISTS, PCP_THP_PINDEX,
  PCP_FREE_FACTOR_MAX, REPORTING_ORDER_OFF, CYCLE_DONE, CYCLE_REPORT, CYCLE_BUDGET, CYCLE_ISOLATE_FAILED,
} from './layout.generated.js';

export type ProfileName = 'linux-5.7' | 'linux-6.1' | 'linux-next';

/** Pageblock migratetypes, numbered as in the kernel (and as the wasm core's layout, assembly/layout.ts). */
export const MigrateType = {
  UNMOVABLE: MT_UNMOVABLE,
  MOVABLE: MT_MOVABLE,
  RECLAIMABLE: MT_RECLAIMABLE,
  HIGHATOMIC: MT_HIGHATOMIC,
  CMA: MT_CMA,
  ISOLATE: MT_ISOLATE,
} as const;
export type MigrateType = (typeof MigrateType)[keyof typeof MigrateType];
export { MIGRATE_TYPES, MIGRATE_PCPTYPES };
/** Every migratetype in order, for loops over the lists of an order. */
export const ALL_MIGRATE_TYPES: readonly MigrateType[] = Object.values(MigrateType);
export const MIGRATE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'] as const;

export const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Movable'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];
/** Orders 0..10 in every profile (5.7/6.1: MAX_ORDER 11 exclusive; next: MAX_PAGE_ORDER 10 inclusive). */
export { MAX_ZONES, NR_ORDERS, MAX_ORDER as MAX_ORDER_INCLUSIVE, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, MAX_CPUS };
/** Per-cpu lists per cpu and zone (6.1: three types for each of orders 0..3, then one list for the pageblock order). */
export { NR_PCP_LISTS, PCP_THP_PINDEX, PCP_FREE_FACTOR_MAX };
/** The reporting order while no device is registered: no free notifies. */
export { REPORTING_ORDER_OFF };

export interface Watermarks { min: number; low: number; high: number }

/** A zone after resolution: every field is known. */
export interface ZoneConfig {
  name: ZoneName;
  /** Zone index in the kernel's order (DMA 0, DMA32 1, Normal 2, Movable 3). */
  index: number;
  startPfn: number;
  /** Exclusive end of the spanned range. */
  endPfn: number;
  /** Half-open [start, end) ranges inside the span that hold no memory. */
  holes: Array<[number, number]>;
  present: number;
  managed: number;
  watermarks: Watermarks;
  /** lowmem_reserve[j]: pages this zone keeps back from an allocation whose highest allowed zone is j (j is a
   *  position in GuestConfig.zones, like every `zone` argument of the API). */
  lowmemReserve: number[];
  pcpHigh: number;
  pcpBatch: number;
}

export interface GuestConfig {
  profile: ProfileName;
  zones: ZoneConfig[];
  /** Exclusive upper bound of all pfns (size of the page descriptor array). */
  maxPfn: number;
  cpus: number;
  /** Per-cpu lists on or off (default: on, with the profile's orders). */
  pcp: boolean;
}

/** What one pfn is right now. */
export type PfnKind = 'hole' | 'free' | 'allocated' | 'inflight' | 'pcp';
export interface PfnState {
  pfn: number;
  kind: PfnKind;
  /** Head pfn of the block that contains this pfn (itself for a head), -1 for a hole. */
  head: number;
  /** Order of that block. */
  order: number;
  /** True when this pfn is the head of its block. */
  isHead: boolean;
  /** Reported flag of the containing free block (only ever true for kind 'free'). */
  reported: boolean;
  zone: number;
  /** Pageblock migratetype of the pageblock holding this pfn. */
  pageblockMt: number;
  /** Migratetype the block was allocated with / queued with on a per-cpu list / isolated from. -1 otherwise. */
  mt: number;
  /** CPU of the per-cpu list, -1 otherwise. */
  cpu: number;
}

/**
 * A guest's state at a recorded moment, to start a simulation from instead of a clean boot (the importers build
 * it from /proc files or a kpageflags dump). Every present pfn not named here is allocated.
 */
export interface GuestStartState {
  /** Free blocks, each added at the tail of its list in this order (so the order here is the list order). */
  free: Array<{ pfn: number; order: number; mt: MigrateType; reported: boolean }>;
  /** Pageblocks whose migratetype is not MOVABLE: [a pfn in the pageblock, mt]. */
  pageblocks?: Array<[number, MigrateType]>;
  /** Pages on per-cpu lists, each added at its list's tail in this order; `mt` is the list's type. */
  pcp?: Array<{ cpu: number; pfn: number; order: number }>;
  /** Allocated and per-cpu pages have been touched, so their host pages are resident (default true). */
  allocatedResident?: boolean;
}

export interface AllocOptions {
  /** Highest zone (position in GuestConfig.zones) the allocation may use; tried from here down. Default: last. */
  highestZone?: number;
  /** CPU whose per-cpu lists serve the request. Default 0. */
  cpu?: number;
  /**
   * The caller falls back when this fails (a THP fault then takes 4 KiB pages, __GFP_NORETRY | __GFP_NOWARN):
   * a failure is not counted in allocFailures.
   */
  mayFail?: boolean;
}

export interface FreeOptions {
  cpu?: number;
  /** FPI_TO_TAIL: force tail placement; such frees go straight to the buddy, never to per-cpu lists. */
  toTail?: boolean;
  /** FPI_SKIP_REPORT_NOTIFY. */
  skipNotify?: boolean;
  /** Bypass per-cpu lists even for an order they take. */
  direct?: boolean;
}

export interface FreeResult {
  /** 'buddy' when the block reached the free lists, 'pcp' when it went to a per-cpu list. */
  to: 'buddy' | 'pcp';
  /** Final order after merging (for 'buddy'), the freed order for 'pcp'. */
  order: number;
  /** Head pfn of the final block. */
  pfn: number;
}

/** Result codes of one step of a report cycle over one (order, mt) list. */
export const CycleResult = {
  /** The walk reached the end of the list (or the list was empty). */
  DONE: CYCLE_DONE,
  /** The batch is full and another unreported page waits: call report(batch), then drain, then step again. */
  REPORT: CYCLE_REPORT,
  /** Budget exhausted: the state must become REQUESTED; the list is left. */
  BUDGET: CYCLE_BUDGET,
  /** Isolation failed (watermark): the list is left, no retry requested. */
  ISOLATE_FAILED: CYCLE_ISOLATE_FAILED,
} as const;
export type CycleResult = (typeof CycleResult)[keyof typeof CycleResult];

/** Counters kept by the allocator core itself. */
export interface CoreCounters {
  allocFailures: number;
  /** Allocation failures that happened while at least one page was isolated (in flight). */
  allocFailuresInFlight: number;
  isolateFailures: number;
  pcpDrains: number;
  /** Pages currently isolated on a report batch. */
  inflightPages: number;
  inflightPeak: number;
  /** Number of frees that notified page reporting (order >= reporting order). */
  notifies: number;
}

/**
 * The buddy allocator of one guest, as the simulator sees it. Every method that mutates validates first and
 * throws a `SimError` (leaving the state unchanged) on bad input.
 */
export interface Allocator {
  readonly config: GuestConfig;

  /** Free every present page as the kernel does at boot (max aligned blocks, ascending; tail in 6.1). */
  boot(): void;
  /** Mark every present pfn allocated as order-0 pages (a start state for importers). */
  clearToAllocated(): void;

  /** Allocate 2^order pages; returns the head pfn, or -1 on failure (counted). */
  alloc(order: number, mt: MigrateType, opts?: AllocOptions): number;
  /** Free an allocated block. Throws on a double free, wrong order, unknown pfn. */
  free(pfn: number, order: number, opts?: FreeOptions): FreeResult;
  /** Place a specific allocated block on the free lists as if freed (importers). Same as free with direct:true. */

  /** __isolate_free_page: take a free head off its list (watermark-checked). */
  isolate(pfn: number, order: number): boolean;
  /** __putback_isolated_page: free an isolated block again, no reporting notify. */
  putback(pfn: number, order: number): FreeResult;

  getPageblockMt(pfn: number): MigrateType;
  setPageblockMt(pfn: number, mt: MigrateType): void;
  /** move_freepages_block: move every free block of the pageblock to mt's lists; returns pages moved. */
  moveFreePagesBlock(pfn: number, mt: MigrateType): number;

  /** Drain per-cpu lists (one cpu, or all when cpu is undefined) back to the buddy. */
  drainPcp(cpu?: number): void;

  /** Reporting order used by notify; frees of a lower order do not notify. REPORTING_ORDER_OFF disables notification. */
  setReportingOrder(order: number): void;
  /** Returns the number of notifications since the last call, and clears it. */
  takeNotifications(): number;

  // --- the report cycle (hot walk), shared scatterlist per zone ---
  /** Start a fresh scatterlist of `capacity` entries (offset = capacity); budget divisor default 16. */
  reportBatchReset(capacity: number, budgetDivisor?: number): void;
  /** Start the cycle of one list: computes the budget. Returns false if the list is empty (skip). */
  reportCycleBegin(zone: number, order: number, mt: MigrateType): boolean;
  /** Walk on until one of the CycleResult events. */
  reportCycleStep(): CycleResult;
  /** Number of entries currently in the scatterlist (capacity - offset). */
  reportBatchCount(): number;
  /** Entries in scatterlist order (index 0 = last isolated), as [pfn, order] pairs. */
  reportBatchEntries(): Array<[number, number]>;
  /** Put every entry back (putback, 6.1 tail), marking Reported if `reported` and the block did not merge. */
  reportDrain(reported: boolean): void;
  /** Leave the current list: rotate so the page where the walk stopped is first (called after DONE/BUDGET/ISOLATE_FAILED is automatic). */

  // --- read-outs ---
  /** nr_free per zone and order: [zone][order]. Zones in config order. */
  buddyinfo(): number[][];
  /** Free blocks per [zone][mt][order]. */
  pagetypeinfo(): number[][][];
  /** NR_FREE_PAGES of a zone. */
  freePages(zone: number): number;
  /** Pages on per-cpu lists of a zone (all cpus). */
  pcpPages(zone: number): number;
  pfnState(pfn: number): PfnState;
  /** Head pfns of free_area[order].free_list[mt] of a zone, head to tail. */
  freeList(zone: number, order: number, mt: MigrateType): number[];
  /** Per-cpu list content, head to tail: pfns. pindex as in 6.1 (order*3+mt for order<=3, 12 for the THP list). */
  pcpList(cpu: number, zone: number, pindex: number): number[];
  counters(): CoreCounters;
  /** Walk every invariant; throws InvariantError naming the first violation. */
  check(): void;
}
