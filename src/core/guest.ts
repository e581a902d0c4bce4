// The typed facade over one wasm instance: a guest's buddy allocator. The state checks (is this an allocated
// head, a free block of that order...) happen in wasm, in one pass before any change; this file turns their error
// codes into SimErrors that name the bad value. The argument checks happen here first: wasm parameters are u32,
// so NaN would arrive as 0, -1 as 4294967295 and 1.5 as 1, and a range that ends past the guest would touch
// memory that is not its own. Every public method therefore checks each number before it calls into wasm.
import { CoreInstance, type WasmFlavour } from './wasm.js';
import { InvariantError, SimError } from './errors.js';
import { getProfile, type Profile } from './profiles.js';
import { checkGuestConfig, managedRanges, resolveGuest, type GuestSpec } from './config.js';
import {
  type Allocator, type AllocOptions, type CoreCounters, type CycleResult, type FreeOptions, type FreeResult,
  type GuestConfig, type GuestStartState, type PfnState, MIGRATE_TYPES, NR_ORDERS, MAX_ORDER_INCLUSIVE,
  MIGRATE_PCPTYPES, MigrateType, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, NR_PCP_LISTS, PCP_THP_PINDEX, REPORTING_ORDER_OFF,
  ALL_MIGRATE_TYPES,
} from './types.js';
import {
  CoreMemory, DESCRIPTOR_LAYOUT, OP_A_WORD, OP_B_WORD, OP_WORDS, decodeFreeResult, errorFor, flagsOf,
  invariantMessage, isReported, kindOf, mtOf, opKind, orderOf, zoneOf, type DescriptorLayout, type GuestSample,
  type PageViews,
} from './decode.js';
import {
  NIL, NO_ZONE, E_ALLOC_FAILED, E_MISALIGNED, E_OUT_OF_RANGE, FREE_TO_TAIL, FREE_SKIP_NOTIFY, FREE_DIRECT, OP_TOUCH,
  OPS_CAPACITY, MAX_CAPACITY,
} from './layout.generated.js';

export type { DescriptorLayout, GuestSample, PageViews };
/** Writing ops into opsView() and reading their results (the op record of assembly/layout.ts). */
export { writeOp, opKind, opResult, opAllocArg, opFreeArg } from './decode.js';
export { FREE_TO_TAIL, FREE_SKIP_NOTIFY, FREE_DIRECT, OP_ALLOC, OP_FREE, OP_TOUCH, OP_FREE_RANGE } from './layout.generated.js';
/** The result of an allocation that found no memory (not an error in its arguments). */
export { E_ALLOC_FAILED } from './layout.generated.js';
/** hintNext's answers besides a pfn: the list is done, or v13 would follow the cursor's stale list link. */
export { NIL as HINT_DONE, HINT_HAZARD } from './layout.generated.js';

export interface WasmGuestOptions {
  flavour?: WasmFlavour;
  /** Host backing page shift: 0 for 4 KiB, 9 for 2 MiB THP-backed guest RAM. */
  hostShift?: number;
  /** init_on_alloc: every allocation touches (zeroes) its pages, faulting them in on the host. */
  touchOnAlloc?: boolean;
}

let probe: CoreInstance | null = null;
/** Bytes of linear memory setup() reserves for a guest of `pfns` (asked of a small instance kept for that). */
function bytesFor(pfns: number): number {
  probe ??= new CoreInstance();
  return probe.x.bytesNeeded(pfns);
}

/** Largest guest (pages) that fits in wasm32 linear memory. */
export function maxGuestPages(): number {
  let lo = 0, hi = 2 ** 32 - 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (bytesFor(mid) <= 4294901760) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class WasmGuest implements Allocator {
  readonly config: GuestConfig;
  readonly profile: Profile;
  /** The wasm instance: private to src/core, whose facade this is. */
  private readonly core: CoreInstance;
  private readonly mem: CoreMemory;
  private x: Record<string, any>;

  static create(spec: GuestSpec, opts: WasmGuestOptions = {}): WasmGuest {
    return new WasmGuest(resolveGuest(spec), opts);
  }

  constructor(config: GuestConfig, opts: WasmGuestOptions = {}) {
    // A hand-built config reaches wasm directly: zones past maxPfn would be written outside the descriptors.
    checkGuestConfig(config);
    if (opts.hostShift !== undefined && opts.hostShift !== 0 && opts.hostShift !== 9) {
      throw new SimError('BAD_ARGUMENT', `WasmGuest: hostShift must be 0 (4 KiB) or 9 (2 MiB), got ${opts.hostShift}`, { field: 'hostShift', value: opts.hostShift });
    }
    if (opts.flavour !== undefined && opts.flavour !== 'release' && opts.flavour !== 'debug') {
      throw new SimError('BAD_ARGUMENT', `WasmGuest: flavour must be 'release' or 'debug', got ${String(opts.flavour)}`, { field: 'flavour', value: opts.flavour });
    }
    this.config = config;
    this.profile = getProfile(config.profile);
    this.core = new CoreInstance(opts.flavour, config.maxPfn < NIL ? bytesFor(config.maxPfn) : 0);
    this.x = this.core.x;
    this.mem = new CoreMemory(this.core, config.maxPfn);
    const x = this.x;
    if (config.maxPfn >= NIL || x.setup(config.maxPfn, config.zones.length, config.cpus) !== 0) {
      const bytes = x.bytesNeeded(Math.min(config.maxPfn, 2 ** 32 - 1));
      throw new SimError('TOO_LARGE',
        `guest of ${config.maxPfn} pfns (${(config.maxPfn * 4096 / 2 ** 30).toFixed(1)} GiB) needs ${(bytes / 2 ** 30).toFixed(2)} GiB of linear memory; wasm32 allows 4 GiB (largest guest: ${maxGuestPages()} pfns)`,
        { maxPfn: config.maxPfn, bytes });
    }
    config.zones.forEach((z, i) => {
      x.setZone(i, z.startPfn, z.endPfn, z.present, z.managed, z.watermarks.min, z.watermarks.low,
        z.watermarks.high, z.pcpHigh, z.pcpBatch);
      config.zones.forEach((_, j) => x.setLowmemReserve(i, j, z.lowmemReserve[j] ?? 0));
    });
    const p = this.profile;
    const mask = p.pcpOrders.reduce((m, o) => m | (1 << o), 0);
    x.setKnobs(p.moveToTail ? 1 : 0, p.bootToTail ? 1 : 0, p.putbackPlacement === 'tail' ? 1 : 0,
      config.pcp ? 1 : 0, mask, p.pcpFreeFactor ? 1 : 0, p.mergeStop === 'unmergeable' ? 1 : 0);
    x.setHostModel(opts.hostShift ?? 0, opts.touchOnAlloc ? 1 : 0);
    const normal = config.zones.findIndex((z) => z.name === 'Normal');
    x.setNormalZone(normal < 0 ? NO_ZONE : normal);
    this.clearToAllocated();
  }

  /**
   * Done with this guest: its linear memory goes back to a pool for the next guest of the same size (see
   * src/core/wasm.ts). Any later call on this guest throws.
   */
  release(): void {
    this.core.release();
    this.x = this.core.x;
  }

  // --- building ---

  clearToAllocated(): void {
    const x = this.x;
    x.initMemory(this.core.takeFresh() ? 1 : 0); // every zone's span allocated (the pre-boot state), the rest holes
    x.resetCounters();
    this.config.zones.forEach((z) => {
      for (const [a, b] of z.holes) x.markHole(a, b);
    });
  }

  /**
   * Start from a recorded state instead of boot: pageblock types, free blocks (list order as given, Reported as
   * given), per-cpu pages; then the host has every allocated page resident. Throws on a block that is not free
   * to place (overlap, hole, outside the zones), naming it.
   */
  applyStartState(s: GuestStartState): void {
    this.clearToAllocated();
    for (const [pfn, mt] of s.pageblocks ?? []) this.setPageblockMt(pfn, mt);
    for (const b of s.free) this.placeFreeBlock(b.pfn, b.order, b.mt, true, b.reported);
    for (const p of s.pcp ?? []) {
      // Every page starts an order-0 allocated block: a higher-order per-cpu block is made one first.
      if (p.order > 0) this.reshapeAllocated(p.pfn, p.order, p.order, this.getPageblockMt(p.pfn));
      this.pcpPlace(p.pfn, p.order, p.cpu, true);
    }
    this.takeNotifications();
    if (s.allocatedResident ?? true) {
      // Everything present between free blocks was in use, so the host backs it.
      const gaps = [...s.free.map((b) => [b.pfn, b.pfn + 2 ** b.order] as const), ...this.config.zones.flatMap((z) => z.holes)]
        .sort((a, b) => a[0] - b[0]);
      for (const z of this.config.zones) {
        let at = z.startPfn;
        for (const [a, b] of gaps) {
          if (b <= at || a >= z.endPfn) continue;
          if (a > at) this.touch(at, a - at);
          at = b;
        }
        if (z.endPfn > at) this.touch(at, z.endPfn - at);
      }
    }
  }

  /**
   * This guest's state as a GuestStartState another guest can start from (applyStartState): every free list
   * head to tail with Reported, the non-MOVABLE pageblocks, every per-cpu list head to tail.
   */
  startState(): GuestStartState {
    const free: GuestStartState['free'] = [];
    const pcp: NonNullable<GuestStartState['pcp']> = [];
    this.config.zones.forEach((_, z) => {
      for (let o = 0; o < NR_ORDERS; o++) {
        for (const mt of ALL_MIGRATE_TYPES) {
          for (const pfn of this.freeList(z, o, mt)) free.push({ pfn, order: o, mt, reported: this.pfnState(pfn).reported });
        }
      }
      if (!this.config.pcp) return;
      for (let c = 0; c < this.config.cpus; c++) {
        this.pcpLists(c, z).forEach((pfns, p) => {
          for (const pfn of pfns) pcp.push({ cpu: c, pfn, order: this.pcpIndexOrder(p) });
        });
      }
    });
    const pageblocks: Array<[number, MigrateType]> = [];
    for (const z of this.config.zones) {
      for (let pfn = z.startPfn; pfn < z.endPfn; pfn = (Math.floor(pfn / PAGEBLOCK_PAGES) + 1) * PAGEBLOCK_PAGES) {
        const mt = this.getPageblockMt(pfn);
        if (mt !== MigrateType.MOVABLE) pageblocks.push([pfn, mt]);
      }
    }
    return { free, pageblocks, pcp };
  }

  /** The ranges boot frees: present, not reserved (see managedRanges). */
  bootRanges(): Array<{ zone: number; start: number; end: number }> {
    return managedRanges(this.config);
  }

  boot(): void {
    for (const r of this.bootRanges()) {
      const e = this.x.bootFreeRange(r.zone, r.start, r.end);
      if (e < 0) throw errorFor(e, `boot of [${r.start}, ${r.end})`, { range: [r.start, r.end] });
    }
  }

  // --- operations ---

  alloc(order: number, mt: MigrateType, opts: AllocOptions = {}): number {
    const highest = opts.highestZone ?? this.config.zones.length - 1;
    const cpu = opts.cpu ?? 0;
    this.checkOrder('alloc', order);
    this.checkAllocMt('alloc', mt);
    this.checkZone(highest, 'alloc: highestZone');
    this.checkCpu('alloc', cpu);
    const r = opts.mayFail ? this.x.allocMayFail(order, mt, highest, cpu) : this.x.alloc(order, mt, highest, cpu);
    if (r === E_ALLOC_FAILED) return -1;
    if (r < 0) throw errorFor(r, `alloc(order ${order}, migratetype ${mt}, highestZone ${highest}, cpu ${cpu})`, { order, mt, highest, cpu });
    return r >>> 0;
  }

  free(pfn: number, order: number, opts: FreeOptions = {}): FreeResult {
    const flags = (opts.toTail ? FREE_TO_TAIL : 0) | (opts.skipNotify ? FREE_SKIP_NOTIFY : 0) | (opts.direct ? FREE_DIRECT : 0);
    const cpu = opts.cpu ?? 0;
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`free(pfn ${pfn})`, order);
    this.checkCpu(`free(pfn ${pfn})`, cpu);
    const r = this.x.free(pfn, order, flags, cpu);
    if (r < 0) throw errorFor(r, `free(pfn ${pfn}, order ${order}, cpu ${cpu})`, { pfn, order, cpu });
    const { order: final, toPcp } = decodeFreeResult(r);
    return { to: toPcp ? 'pcp' : 'buddy', order: final, pfn: this.core.global('lastPfn') };
  }

  /** Lenient free (importers, trace replay): every allocated block inside the range, freed as one block. */
  freeRange(pfn: number, order: number, opts: FreeOptions = {}): FreeResult {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`freeRange(pfn ${pfn})`, order);
    const flags = (opts.toTail ? FREE_TO_TAIL : 0) | (opts.skipNotify ? FREE_SKIP_NOTIFY : 0);
    const r = this.x.freeRange(pfn, order, flags);
    if (r < 0) throw errorFor(r, `freeRange(pfn ${pfn}, order ${order})`, { pfn, order });
    return { to: 'buddy', order: r, pfn: this.core.global('lastPfn') };
  }

  /** Put a free block on a list as given, no merging (importers rebuild recorded state in list order). */
  placeFreeBlock(pfn: number, order: number, mt: number, tail: boolean, reported: boolean): void {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`placeFreeBlock(pfn ${pfn})`, order);
    this.checkMt(`placeFreeBlock(pfn ${pfn})`, mt);
    const r = this.x.placeFreeBlock(pfn, order, mt, tail ? 1 : 0, reported ? 1 : 0);
    if (r < 0) throw errorFor(r, `placeFreeBlock(pfn ${pfn}, order ${order}, mt ${mt})`, { pfn, order, mt });
  }

  /** Allocate a given free block (trace replay of a recorded allocation). */
  allocExact(pfn: number, order: number, mt: number): void {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`allocExact(pfn ${pfn})`, order);
    this.checkAllocMt(`allocExact(pfn ${pfn})`, mt);
    const r = this.x.allocExact(pfn, order, mt);
    if (r < 0) throw errorFor(r, `allocExact(pfn ${pfn}, order ${order})`, { pfn, order, mt });
  }

  /**
   * Trace replay (split_page and its reverse): re-mark [pfn, pfn + 2^order), which must be allocated blocks
   * wholly inside, as allocated blocks of order `as` (every 2^as pages one head), allocation mt `mt`. The
   * allocated page count does not change. Lets a replay carve a recorded allocation out of a larger block.
   */
  reshapeAllocated(pfn: number, order: number, as: number, mt: number): void {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`reshapeAllocated(pfn ${pfn})`, order);
    this.checkOrder(`reshapeAllocated(pfn ${pfn}): as`, as);
    this.checkAllocMt(`reshapeAllocated(pfn ${pfn})`, mt);
    const r = this.x.reshapeAllocated(pfn, order, as, mt);
    if (r < 0) throw errorFor(r, `reshapeAllocated(pfn ${pfn}, order ${order}, as ${as})`, { pfn, order, as, mt });
  }

  /**
   * Trace replay: put an allocated head (of exactly `order`, a per-cpu order) on `cpu`'s per-cpu list of its
   * zone, at the list head or tail, as a free on that cpu would, but without any bulk free: the page records its
   * pageblock's migratetype, count grows by 2^order, free_factor is untouched.
   */
  pcpPlace(pfn: number, order: number, cpu: number, tail: boolean): void {
    this.checkU32(pfn, 'pfn');
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER_INCLUSIVE || !this.profile.pcpOrders.includes(order)) {
      throw new SimError('BAD_ORDER', `pcpPlace(pfn ${pfn}, order ${order}): per-cpu orders are ${this.profile.pcpOrders.join(', ')}`, { pfn, order });
    }
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.config.cpus) {
      throw new SimError('BAD_CPU', `pcpPlace(pfn ${pfn}): cpu ${cpu} does not exist (guest has ${this.config.cpus})`, { pfn, cpu });
    }
    if (!this.config.pcp) throw new SimError('BAD_STATE', `pcpPlace(pfn ${pfn}): per-cpu lists are off in this guest`, { pfn });
    const r = this.x.pcpPlace(pfn, order, cpu, tail ? 1 : 0);
    if (r < 0) throw errorFor(r, `pcpPlace(pfn ${pfn}, order ${order}, cpu ${cpu})`, { pfn, order, cpu });
  }

  isolate(pfn: number, order: number): boolean {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`isolate(pfn ${pfn})`, order);
    const r = this.x.isolate(pfn, order);
    if (r < 0) throw errorFor(r, `isolate(pfn ${pfn}, order ${order})`, { pfn, order });
    return r === 1;
  }

  putback(pfn: number, order: number): FreeResult {
    this.checkU32(pfn, 'pfn');
    this.checkOrder(`putback(pfn ${pfn})`, order);
    const r = this.x.putback(pfn, order);
    if (r < 0) throw errorFor(r, `putback(pfn ${pfn}, order ${order})`, { pfn, order });
    return { to: 'buddy', order: r, pfn: this.core.global('lastPfn') };
  }

  getPageblockMt(pfn: number): MigrateType {
    this.checkPfn(pfn);
    return this.mem.pageblockMt(pfn) as MigrateType;
  }

  setPageblockMt(pfn: number, mt: MigrateType): void {
    this.checkU32(pfn, 'pfn');
    if (!Number.isInteger(mt) || mt < 0 || mt >= MIGRATE_TYPES) {
      throw new SimError('BAD_MIGRATETYPE', `setPageblockMt(pfn ${pfn}): unknown migratetype ${mt}`, { pfn, mt });
    }
    const r = this.x.setPageblockMt(pfn, mt);
    if (r < 0) throw errorFor(r, `setPageblockMt(pfn ${pfn}, mt ${mt})`, { pfn, mt });
  }

  moveFreePagesBlock(pfn: number, mt: MigrateType): number {
    this.checkU32(pfn, 'pfn');
    this.checkMt(`moveFreePagesBlock(pfn ${pfn})`, mt);
    const r = this.x.moveFreePages(pfn, mt);
    if (r < 0) throw errorFor(r, `moveFreePagesBlock(pfn ${pfn}, mt ${mt})`, { pfn, mt });
    return r;
  }

  drainPcp(cpu?: number): void {
    if (cpu !== undefined) this.checkCpu('drainPcp', cpu);
    const cpus = cpu === undefined ? [...Array(this.config.cpus).keys()] : [cpu];
    for (const c of cpus) {
      const r = this.x.drainPcp(c);
      if (r < 0) throw errorFor(r, `drainPcp(cpu ${c})`, { cpu: c });
    }
  }

  setReportingOrder(order: number): void {
    if (!(Number.isInteger(order) && ((order >= 0 && order <= MAX_ORDER_INCLUSIVE + 1) || order === REPORTING_ORDER_OFF))) {
      throw new SimError('BAD_ORDER', `setReportingOrder: order ${order} is neither 0..${MAX_ORDER_INCLUSIVE + 1} nor ${REPORTING_ORDER_OFF} (off)`, { order });
    }
    this.x.setReportingOrderValue(order);
  }

  /** Frees that reached the reporting order since the last call (read and cleared in memory: no call into wasm). */
  takeNotifications(): number {
    return this.mem.takeNotifications();
  }

  // --- host state ---

  /** The guest touches pages: host pages fault in; returns host pages refaulted (discarded before). */
  touch(pfn: number, pages: number): number {
    this.checkRange('touch', pfn, pages);
    return pages === 0 ? 0 : this.x.hostTouch(pfn, pages) >>> 0;
  }
  /** The host discards a reported range; returns pages no longer resident. */
  discard(pfn: number, pages: number): number {
    this.checkRange('discard', pfn, pages);
    return pages === 0 ? 0 : this.x.hostDiscard(pfn, pages) >>> 0;
  }
  hostResident(pfn: number): boolean {
    this.checkPfn(pfn);
    return this.x.hostResident(pfn) !== 0;
  }
  hostRssPages(): number {
    return this.core.global('hostRssPages');
  }
  /** True when every page of [pfn, pfn + pages) lies in a free block right now. */
  rangeFree(pfn: number, pages: number): boolean {
    this.checkRange('rangeFree', pfn, pages);
    return this.x.rangeFree(pfn, pages) !== 0;
  }
  /** walk_free_mem_block's next block after `cursor` (-1: start): a pfn, HINT_DONE or HINT_HAZARD. */
  hintNext(zone: number, order: number, mt: number, cursor: number): number {
    this.checkZone(zone, 'hintNext');
    this.checkOrder('hintNext', order);
    this.checkMt('hintNext', mt);
    if (cursor !== -1) this.checkPfn(cursor);
    return this.x.hintNext(zone, order, mt, cursor < 0 ? NIL : cursor) >>> 0;
  }

  // --- the report cycle ---

  reportBatchReset(capacity: number, budgetDivisor = 16): void {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new SimError('BAD_CONFIG', `report capacity must be 1..${MAX_CAPACITY}, got ${capacity}`, { capacity });
    }
    if (!Number.isInteger(budgetDivisor) || budgetDivisor < 1) {
      throw new SimError('BAD_CONFIG', `budget divisor must be a positive integer, got ${budgetDivisor}`, { budgetDivisor });
    }
    this.x.reportBatchReset(capacity, budgetDivisor);
  }
  reportCycleBegin(zone: number, order: number, mt: MigrateType): boolean {
    this.checkZone(zone, 'reportCycleBegin');
    this.checkOrder('reportCycleBegin', order);
    this.checkMt('reportCycleBegin', mt);
    return this.x.reportCycleBegin(zone, order, mt) !== 0;
  }
  reportCycleStep(): CycleResult {
    const r = this.x.reportCycleStep();
    if (r < 0) throw errorFor(r, 'reportCycleStep without reportCycleBegin', {});
    return r as CycleResult;
  }
  reportBatchCount(): number {
    return this.x.reportBatchCount() >>> 0;
  }
  reportBatchEntries(): Array<[number, number]> {
    return this.mem.reportBatch(this.x.reportBatchOffset() >>> 0, this.reportBatchCount());
  }
  /** Zero-copy view of the filled scatterlist: [pfn0, order0, pfn1, order1, ...]. Valid until the next drain. */
  reportBatchView(): Uint32Array {
    return this.mem.reportBatchView(this.x.reportBatchOffset() >>> 0, this.reportBatchCount());
  }
  reportDrain(reported: boolean): void {
    this.x.reportDrain(reported ? 1 : 0);
  }

  // --- batch API ---

  /** Zero-copy view of the op buffer: 4 u32 per op (kind, a, b, result). Re-fetch after anything that may grow memory. */
  opsView(): Uint32Array {
    return this.mem.opsView();
  }
  get opsCapacity(): number {
    return OPS_CAPACITY;
  }
  /** Apply ops [0, n) written into opsView(); results land in each op's 4th word (Int32). Returns failures. */
  applyOps(n: number): number {
    this.intArg('applyOps', 'n', n, 0, OPS_CAPACITY);
    // Every kind of op is validated in wasm except a touch, whose range wasm takes on trust: check those here.
    const ops = this.opsView();
    for (let i = 0; i < n; i++) {
      if (opKind(ops, i) !== OP_TOUCH) continue;
      const pfn = ops[OP_WORDS * i + OP_A_WORD]!, pages = ops[OP_WORDS * i + OP_B_WORD]!;
      if (pages === 0 || pfn >= this.config.maxPfn || pages > this.config.maxPfn - pfn) {
        throw new SimError('PFN_OUT_OF_RANGE', `applyOps: op ${i} touches [${pfn}, ${pfn + pages}), not a non-empty range inside the guest (maxPfn ${this.config.maxPfn}); nothing was applied`, { index: i, pfn, pages });
      }
    }
    return this.x.applyOps(n) >>> 0;
  }
  /** Most entries a report batch (scatterlist) holds: reportBatchReset's capacity limit. */
  get maxReportCapacity(): number {
    return MAX_CAPACITY;
  }

  /**
   * Apply ops [0, n) up to and including the first that fails; returns how many were applied (results in each
   * op's 4th word). For callers whose next operations depend on each outcome: plan as if all succeed, re-plan
   * from where it stopped.
   */
  applyOpsUntilFailure(n: number): number {
    if (n < 0 || n > OPS_CAPACITY) throw new SimError('BAD_STATE', `applyOpsUntilFailure: ${n} ops, capacity ${OPS_CAPACITY}`, { n });
    return this.x.applyOpsUntilFailure(n) >>> 0;
  }

  /** Bulk capacity of allocBulk/freeBulk (pfns per call). */
  get bulkCapacity(): number {
    return OPS_CAPACITY * OP_WORDS;
  }
  /**
   * Allocate up to n blocks (n <= bulkCapacity) of one kind, stopping at the first failure; returns a view of the
   * pfns allocated (valid until the next call into the guest).
   */
  allocBulk(order: number, mt: MigrateType, n: number, cpu = 0, highestZone = this.config.zones.length - 1): Uint32Array {
    this.checkOrder('allocBulk', order);
    this.checkAllocMt('allocBulk', mt);
    this.intArg('allocBulk', 'n', n, 0, this.bulkCapacity);
    this.checkCpu('allocBulk', cpu);
    this.checkZone(highestZone, 'allocBulk: highestZone');
    const got = this.x.allocBulk(order, mt, highestZone, cpu, n) >>> 0;
    return this.mem.bulkView(got);
  }
  /**
   * Free blocks of one order (pfns.length <= bulkCapacity), all or nothing: the whole batch is checked first
   * (each an allocated head of that order, none twice), and the named error of the first invalid one is thrown
   * before anything is freed.
   */
  freeBulk(pfns: ArrayLike<number>, order: number, cpu = 0, opts: FreeOptions = {}): void {
    if (pfns === null || typeof pfns !== 'object' || typeof pfns.length !== 'number') {
      throw new SimError('BAD_ARGUMENT', 'freeBulk: pfns must be a Uint32Array or an array of pfns', { field: 'pfns' });
    }
    this.intArg('freeBulk', 'pfns.length', pfns.length, 0, this.bulkCapacity);
    this.checkOrder('freeBulk', order);
    this.checkCpu('freeBulk', cpu);
    this.checkFreeBatch(pfns, order, cpu);
    const flags = (opts.toTail ? FREE_TO_TAIL : 0) | (opts.skipNotify ? FREE_SKIP_NOTIFY : 0) | (opts.direct ? FREE_DIRECT : 0);
    this.mem.bulkView(pfns.length).set(pfns);
    const done = this.x.freeBulk(pfns.length, order, flags, cpu) >>> 0;
    if (done < pfns.length) {
      // The batch was checked above, so the core refusing one is the simulator's fault, not the caller's.
      throw new InvariantError(`freeBulk: the core refused pfns[${done}] = ${pfns[done]} (error ${this.core.globalSigned('bulkError')}) after the batch was checked`);
    }
  }

  /**
   * Free blocks the caller allocated itself and still holds (a workload's own list of pfns), skipping freeBulk's
   * check of the whole batch on this side: the core checks each block as it frees it, and a block it refuses is
   * the caller's bug (an InvariantError), not bad input. Not for pfns from outside: use freeBulk.
   */
  freeBulkOwned(pfns: Uint32Array, order: number, cpu: number): void {
    this.mem.bulkView(pfns.length).set(pfns);
    const done = this.x.freeBulk(pfns.length, order, 0, cpu) >>> 0;
    if (done < pfns.length) {
      throw new InvariantError(`freeBulkOwned: the core refused pfns[${done}] = ${pfns[done]} (error ${this.core.globalSigned('bulkError')}): the caller freed a block it did not hold`);
    }
  }

  /** A pfn's bit in the duplicate check of freeBulk: one bit a pfn, allocated on the first bulk free. */
  private seen: Uint8Array | null = null;

  private checkFreeBatch(pfns: ArrayLike<number>, order: number, cpu: number): void {
    const n = pfns.length;
    const maxPfn = this.config.maxPfn;
    // First pass: each pfn on its own, and whether the batch is strictly ascending or descending (a workload's
    // frees nearly always are, and then no pfn can appear twice: the second pass is not needed).
    const scan = this.mem.scanAllocatedHeads(pfns, order);
    let problem = scan.code;
    let i = scan.index;
    if (problem === 0 && !scan.monotone) {
      // Second pass, for a batch in no order: a pfn named twice would be freed twice.
      const seen = (this.seen ??= new Uint8Array((maxPfn >>> 3) + 1));
      let k = 0;
      for (; k < n; k++) {
        const pfn = pfns[k]!;
        const byte = pfn >>> 3, bit = 1 << (pfn & 7);
        if ((seen[byte]! & bit) !== 0) break;
        seen[byte]! |= bit;
      }
      for (let j = 0; j < k; j++) seen[pfns[j]! >>> 3] = 0;
      if (k < n) {
        i = k;
        problem = 1;
      }
    }
    if (problem === 0) return;
    const pfn = pfns[i]!;
    const what = `freeBulk: pfns[${i}] = ${pfn}`;
    const details = { pfn, order, cpu, index: i };
    if (problem === E_OUT_OF_RANGE) throw new SimError('PFN_OUT_OF_RANGE', `${what} is outside the guest (maxPfn ${maxPfn})`, details);
    if (problem === E_MISALIGNED) throw new SimError('MISALIGNED', `${what} is not aligned to 2^${order}`, details);
    if (problem === 1) throw new SimError('NOT_ALLOCATED', `${what} appears twice in the batch (a double free)`, details);
    throw errorFor(problem, `${what} (order ${order})`, details);
  }

  /** Index of the first op of the last applyOps that notified page reporting, or -1. */
  firstNotifyOp(): number {
    return this.core.globalSigned('firstNotifyOp');
  }

  // --- read-outs ---

  buddyinfo(): number[][] {
    return this.config.zones.map((_, z) => Array.from({ length: NR_ORDERS }, (_, o) => this.mem.nrFree(z, o)));
  }

  pagetypeinfo(): number[][][] {
    return this.config.zones.map((_, z) =>
      Array.from({ length: MIGRATE_TYPES }, (_, mt) =>
        Array.from({ length: NR_ORDERS }, (_, o) => this.mem.freeListLength(z, o, mt))));
  }

  freeList(zone: number, order: number, mt: MigrateType): number[] {
    this.checkZone(zone, 'freeList');
    this.checkOrder('freeList', order);
    this.checkMt('freeList', mt);
    return this.mem.freeList(zone, order, mt);
  }

  pcpList(cpu: number, zone: number, pindex: number): number[] {
    this.checkPcp(cpu, zone, pindex);
    return this.mem.pcpList(cpu, zone, pindex);
  }

  /** The first page of a per-cpu list (the next one an allocation takes), or -1 when the list is empty. */
  pcpListHead(cpu: number, zone: number, pindex: number): number {
    this.checkPcp(cpu, zone, pindex);
    return this.mem.pcpListHead(cpu, zone, pindex);
  }

  /** Every per-cpu list of one cpu and zone, by list index, each from its head. */
  pcpLists(cpu: number, zone: number): number[][] {
    return Array.from({ length: NR_PCP_LISTS }, (_, p) => this.pcpList(cpu, zone, p));
  }

  /** Lists per cpu and zone (6.1: three types for each of orders 0..3, then one list for the pageblock order). */
  get pcpListCount(): number {
    return NR_PCP_LISTS;
  }

  /**
   * 6.1 order_to_pindex: the per-cpu list a block of `order` queued as `mt` sits on (HIGHATOMIC and CMA pages
   * queue on the MOVABLE list; the pageblock order has one list for every type). -1 for an order the profile's
   * per-cpu lists do not take.
   */
  pcpIndex(order: number, mt: number): number {
    if (!this.profile.pcpOrders.includes(order)) return -1;
    if (order === PAGEBLOCK_ORDER) return PCP_THP_PINDEX;
    return order * MIGRATE_PCPTYPES + (mt >= MIGRATE_PCPTYPES ? MigrateType.MOVABLE : mt);
  }

  /** The order of the blocks on per-cpu list `pindex`. */
  pcpIndexOrder(pindex: number): number {
    return pindex === PCP_THP_PINDEX ? PAGEBLOCK_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
  }

  freePages(zone: number): number {
    this.checkZone(zone);
    return this.mem.zoneFreePages(zone);
  }

  pcpPages(zone: number): number {
    let n = 0;
    for (let c = 0; c < this.config.cpus; c++) n += this.pcpCount(c, zone);
    return n;
  }

  /**
   * Set a cpu's free_factor for a zone: a recorded state caught in a run of bulk frees (the next bulk free is
   * batch << factor pages). 6.1 only (5.7 has no free_factor).
   */
  setPcpFreeFactor(cpu: number, zone: number, factor: number): void {
    this.checkCpu('setPcpFreeFactor', cpu);
    this.checkZone(zone, 'setPcpFreeFactor');
    this.intArg('setPcpFreeFactor', 'factor', factor, 0, 5);
    const r = this.x.pcpSetFreeFactor(cpu, zone, factor);
    if (r < 0) throw errorFor(r, `setPcpFreeFactor(cpu ${cpu}, zone ${zone}, ${factor})`, { cpu, zone, factor });
  }

  /** Pages on one cpu's per-cpu lists of a zone (zoneinfo's `count`). */
  pcpCount(cpu: number, zone: number): number {
    this.checkZone(zone);
    this.checkCpu('pcpCount', cpu);
    return this.mem.pcpCount(cpu, zone);
  }

  /** The state word of a pfn: flags | order << 8 | mt << 16 | zone << 24. */
  word(pfn: number): number {
    this.checkPfn(pfn);
    return this.mem.word(pfn);
  }

  /**
   * The migratetype recorded on the head of the block holding `pfn`: for a free block the free list it sits on,
   * for an allocated block the type it was allocated as, for a per-cpu page the type it was queued with.
   */
  recordedMt(pfn: number): number {
    this.checkPfn(pfn);
    const head = this.x.headOf(pfn) >>> 0;
    if (head === NIL) throw new SimError('PFN_IN_HOLE', `recordedMt(pfn ${pfn}): pfn is in a hole`, { pfn });
    return mtOf(this.mem.word(head));
  }

  pfnState(pfn: number): PfnState {
    this.checkPfn(pfn);
    // pfn is checked once, here; head (from headOf) lies inside the guest.
    const pbMt = this.mem.pageblockMt(pfn);
    const head = this.x.headOf(pfn) >>> 0;
    if (head === NIL) {
      return { pfn, kind: 'hole', head: -1, order: 0, isHead: false, reported: false, zone: zoneOf(this.mem.word(pfn)), pageblockMt: pbMt, mt: -1, cpu: -1 };
    }
    const w = this.mem.word(head);
    const flags = flagsOf(w);
    const kind = kindOf(flags);
    return {
      pfn, kind, head, order: orderOf(w), isHead: head === pfn, reported: isReported(flags),
      zone: zoneOf(w), pageblockMt: pbMt, mt: kind === 'free' ? -1 : mtOf(w), cpu: kind === 'pcp' ? this.mem.cpuOf(head) : -1,
    };
  }

  /**
   * Zero-copy view of the page descriptors: `descriptorLayout()` bytes a pfn (the state word's bytes are flags,
   * order, mt, zone).
   */
  pageDescriptors(): Uint8Array {
    return this.mem.pageDescriptors();
  }
  /** Zero-copy view of the pages' cold bytes (one a pfn): host state (`& extHostMask`), cpu (`>> extCpuShift`). */
  pageExtView(): Uint8Array {
    return this.mem.pageExtView();
  }
  pageViews(): PageViews {
    return this.mem.pageViews();
  }
  /** Where the fields of pageDescriptors() and pageExtView() are (assembly/layout.ts, read from the module). */
  descriptorLayout(): DescriptorLayout {
    return DESCRIPTOR_LAYOUT;
  }
  /** Zero-copy view of the pageblock migratetypes (one byte per pageblock). */
  pageblockView(): Uint8Array {
    return this.mem.pageblockView();
  }

  counters(): CoreCounters {
    const g = (n: string) => this.core.global(n);
    return {
      allocFailures: g('allocFailures'), allocFailuresInFlight: g('allocFailuresInFlight'),
      isolateFailures: g('isolateFailures'), pcpDrains: g('pcpDrains'), inflightPages: g('inflightPages'),
      inflightPeak: g('inflightPeak'), notifies: this.mem.notifications(),
    };
  }

  hostCounters(): { rssPages: number; refaults: number; refaultPages: number; discardedPages: number } {
    const g = (n: string) => this.core.global(n);
    return { rssPages: g('hostRssPages'), refaults: g('refaults'), refaultPages: g('refaultPages'), discardedPages: g('discardedPages') };
  }

  allocatedPages(): number {
    return this.core.global('allocatedPages');
  }

  /** The counters a time series samples, read in one call (free pages by order sum the zones). */
  sample(): GuestSample {
    this.x.sampleCounters();
    return this.mem.sample();
  }

  /** Bytes of linear memory in use for this guest. */
  memoryBytes(): number {
    return this.core.memory.buffer.byteLength;
  }

  check(): void {
    const r = this.x.checkInvariants();
    if (r !== 0) {
      const pfn = this.core.global('checkPfn');
      const arg = this.core.global('checkArg');
      throw new InvariantError(`invariant ${r} (${invariantMessage(r)}) at ${pfn} (${arg})`);
    }
  }

  // --- W1 benchmark driver (runs inside wasm) ---
  w1Run(seed: number, ops: number): number[] {
    this.intArg('w1Run', 'seed', seed, 0, 2 ** 32 - 1);
    this.intArg('w1Run', 'ops', ops, 0, 2 ** 32 - 1);
    this.x.w1Run(seed, ops);
    return this.mem.w1Result();
  }
  w1FreeAll(): number {
    return this.x.w1FreeAll() >>> 0;
  }

  private checkU32(v: number, field: string): void {
    if (!Number.isInteger(v) || v < 0 || v >= NIL) {
      throw new SimError('PFN_OUT_OF_RANGE', `${field} ${v} is not a valid pfn`, { [field]: v });
    }
  }
  private checkPfn(pfn: number): void {
    this.checkU32(pfn, 'pfn');
    if (pfn >= this.config.maxPfn) throw new SimError('PFN_OUT_OF_RANGE', `pfn ${pfn} is outside the guest (maxPfn ${this.config.maxPfn})`, { pfn });
  }
  private checkPcp(cpu: number, zone: number, pindex: number): void {
    this.checkZone(zone);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.config.cpus) {
      throw new SimError('BAD_CPU', `cpu ${cpu} does not exist (guest has ${this.config.cpus})`, { cpu });
    }
    if (!Number.isInteger(pindex) || pindex < 0 || pindex >= NR_PCP_LISTS) {
      throw new SimError('BAD_ORDER', `per-cpu list (pindex) ${pindex} is outside 0..${PCP_THP_PINDEX}`, { pindex });
    }
  }
  private checkZone(zone: number, op = 'zone'): void {
    if (!Number.isInteger(zone) || zone < 0 || zone >= this.config.zones.length) {
      throw new SimError('BAD_ZONE', `${op}: zone ${zone} does not exist (guest has ${this.config.zones.length})`, { zone });
    }
  }
  private checkOrder(op: string, order: number): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER_INCLUSIVE) {
      throw new SimError('BAD_ORDER', `${op}: order ${order} is outside 0..${MAX_ORDER_INCLUSIVE}`, { order });
    }
  }
  /** An allocation's migratetype: any but ISOLATE, which is a pageblock state, not a kind of request. */
  private checkAllocMt(op: string, mt: number): void {
    if (!Number.isInteger(mt) || mt < 0 || mt >= MigrateType.ISOLATE) {
      throw new SimError('BAD_MIGRATETYPE', `${op}: migratetype ${mt} is not an allocation type (0..${MigrateType.ISOLATE - 1})`, { mt });
    }
  }
  private checkMt(op: string, mt: number): void {
    if (!Number.isInteger(mt) || mt < 0 || mt >= MIGRATE_TYPES) {
      throw new SimError('BAD_MIGRATETYPE', `${op}: migratetype ${mt} is outside 0..${MIGRATE_TYPES - 1}`, { mt });
    }
  }
  private checkCpu(op: string, cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.config.cpus) {
      throw new SimError('BAD_CPU', `${op}: cpu ${cpu} does not exist (guest has ${this.config.cpus})`, { cpu });
    }
  }
  /** [pfn, pfn + pages) inside the guest; an empty range is allowed anywhere up to maxPfn. */
  private checkRange(op: string, pfn: number, pages: number): void {
    const maxPfn = this.config.maxPfn;
    if (!Number.isInteger(pages) || pages < 0) {
      throw new SimError('BAD_ARGUMENT', `${op}(pfn ${pfn}, pages ${pages}): pages must be an integer >= 0`, { pfn, pages });
    }
    if (!Number.isInteger(pfn) || pfn < 0 || pfn > maxPfn || pages > maxPfn - pfn || (pages > 0 && pfn === maxPfn)) {
      throw new SimError('PFN_OUT_OF_RANGE', `${op}(pfn ${pfn}, pages ${pages}): the range is not inside the guest [0, ${maxPfn})`, { pfn, pages });
    }
  }
  private intArg(op: string, field: string, v: number, min: number, max: number): void {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new SimError('BAD_ARGUMENT', `${op}: ${field} must be an integer ${min}..${max}, got ${v}`, { field, value: v });
    }
  }
}

