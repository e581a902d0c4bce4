// The plain TypeScript reference model of the buddy allocator beneath free page reporting.
//
// It exists to be trusted by reading: every rule of docs/engine-rules.md maps to one method here, under the
// kernel's name in camelCase, and the bookkeeping that must stay consistent (nr_free, NR_FREE_PAGES, the
// Reported flag) lives only in the free-list verbs. Per-pfn records are typed arrays indexed by pfn and lists
// are doubly linked through per-pfn next/prev numbers, so every list operation is O(1) and a 2^20-page guest
// runs millions of operations in seconds.
import { InvariantError, SimError } from '../core/errors.js';
import { getProfile, type Profile } from '../core/profiles.js';
import {
  type AllocOptions,
  type Allocator,
  type CoreCounters,
  type FreeOptions,
  type FreeResult,
  type GuestConfig,
  type PfnKind,
  type PfnState,
  type ZoneConfig,
  CycleResult,
  MAX_ORDER_INCLUSIVE,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPES,
  MigrateType,
  NR_ORDERS,
  PAGEBLOCK_ORDER,
  PAGEBLOCK_PAGES,
} from '../core/types.js';

/** Options of the lenient `freeRange` used by importers and trace replay. */
export interface FreeRangeOptions {
  /** FPI_TO_TAIL. */
  toTail?: boolean;
  /** FPI_SKIP_REPORT_NOTIFY. */
  skipNotify?: boolean;
}

// What a pfn is. Only the head of a block carries a kind; the other pfns of the block (and holes) are NONE,
// which keeps "is this a Buddy head of exactly order o" a two-field test, as PageBuddy + buddy_order is.
const NONE = 0;
const FREE = 1;
const ALLOCATED = 2;
const PCP = 3;
const INFLIGHT = 4;
const KIND_NAMES: PfnKind[] = ['hole', 'free', 'allocated', 'pcp', 'inflight'];

const NIL = -1;
const { UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, CMA, ISOLATE } = MigrateType;

/** Per-cpu lists per cpu and zone: 3 migratetypes x orders 0..3, then one list for the THP order (6.1). */
const NR_PCP_LISTS = MIGRATE_PCPTYPES * 4 + 1;
const PCP_THP_PINDEX = NR_PCP_LISTS - 1;
/** Bulk frees double at most this many times in a row (PCP_BATCH_SCALE_MAX). */
const FREE_FACTOR_MAX = 5;
/** setReportingOrder value that switches notification off (no device registered). */
const REPORTING_OFF = 255;

/** __rmqueue_fallback's table: where each mergeable type looks when its own lists are empty. */
const FALLBACKS: readonly (readonly number[])[] = [
  [RECLAIMABLE, MOVABLE], // UNMOVABLE
  [RECLAIMABLE, UNMOVABLE], // MOVABLE
  [UNMOVABLE, MOVABLE], // RECLAIMABLE
];

function isMergeable(mt: number): boolean {
  return mt === UNMOVABLE || mt === MOVABLE || mt === RECLAIMABLE;
}

/** Number of trailing zero bits; pfn 0 is aligned to every order. */
function ctz(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function pindexOf(order: number, pcpMt: number): number {
  return order <= 3 ? MIGRATE_PCPTYPES * order + pcpMt : PCP_THP_PINDEX;
}

function pindexOrder(pindex: number): number {
  return pindex === PCP_THP_PINDEX ? PAGEBLOCK_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
}

/**
 * A set of doubly linked lists (head and tail insertion) threaded through shared per-pfn next/prev arrays; a pfn
 * is on at most one list of the whole allocator at a time, free list or per-cpu list.
 */
class LinkedLists {
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly len: Int32Array;

  constructor(count: number, private readonly next: Int32Array, private readonly prev: Int32Array) {
    this.head = new Int32Array(count).fill(NIL);
    this.tail = new Int32Array(count).fill(NIL);
    this.len = new Int32Array(count);
  }

  clear(): void {
    this.head.fill(NIL);
    this.tail.fill(NIL);
    this.len.fill(0);
  }

  addHead(l: number, pfn: number): void {
    const first = this.head[l]!;
    this.prev[pfn] = NIL;
    this.next[pfn] = first;
    if (first === NIL) this.tail[l] = pfn;
    else this.prev[first] = pfn;
    this.head[l] = pfn;
    this.len[l]!++;
  }

  addTail(l: number, pfn: number): void {
    const last = this.tail[l]!;
    this.next[pfn] = NIL;
    this.prev[pfn] = last;
    if (last === NIL) this.head[l] = pfn;
    else this.next[last] = pfn;
    this.tail[l] = pfn;
    this.len[l]!++;
  }

  remove(l: number, pfn: number): void {
    const p = this.prev[pfn]!;
    const n = this.next[pfn]!;
    if (p === NIL) this.head[l] = n;
    else this.next[p] = n;
    if (n === NIL) this.tail[l] = p;
    else this.prev[n] = p;
    this.next[pfn] = NIL;
    this.prev[pfn] = NIL;
    this.len[l]!--;
  }

  /** list_rotate_to_front: the list becomes pfn..tail followed by head..pfn's predecessor. */
  rotateToFront(l: number, pfn: number): void {
    const first = this.head[l]!;
    if (first === pfn) return;
    const last = this.tail[l]!;
    const before = this.prev[pfn]!;
    this.next[last] = first;
    this.prev[first] = last;
    this.next[before] = NIL;
    this.prev[pfn] = NIL;
    this.head[l] = pfn;
    this.tail[l] = before;
  }

  toArray(l: number): number[] {
    const out: number[] = [];
    for (let p = this.head[l]!; p !== NIL; p = this.next[p]!) out.push(p);
    return out;
  }
}

interface ReportCycle {
  zone: number;
  order: number;
  mt: number;
  budget: number;
  /** A REPORT result was returned and reportDrain has not run yet. */
  awaitingDrain: boolean;
}

export class ReferenceAllocator implements Allocator {
  readonly config: GuestConfig;
  private readonly profile: Profile;
  private readonly zones: ZoneConfig[];
  private readonly nrZones: number;
  private readonly maxPfn: number;
  private readonly pcpOrderOk: boolean[];

  // --- per pfn ---
  /** Zone position of a present pfn; -1 for holes and pfns outside every zone. */
  private readonly zoneOf: Int8Array;
  private readonly kind: Uint8Array;
  private readonly order: Uint8Array;
  /** FREE: the list's mt; ALLOCATED: the allocation's mt; PCP: the pageblock mt at free; INFLIGHT: the list's mt. */
  private readonly mt: Uint8Array;
  private readonly reported: Uint8Array;
  private readonly cpuOf: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;

  /** Per pageblock (pfn >> 9). */
  private readonly pageblockMt: Uint8Array;

  // --- per zone ---
  /** free_area[order].free_list[mt] of every zone, indexed by freeListIndex. */
  private readonly freeLists: LinkedLists;
  /** free_area[order].nr_free, indexed zone * NR_ORDERS + order. */
  private readonly nrFree: Int32Array;
  /** NR_FREE_PAGES per zone. */
  private readonly nrFreePages: number[];
  /** First reserved pfn of each zone: the present pfns from here to the zone end are never freed by boot. */
  private readonly reservedFrom: number[];

  // --- per cpu and zone ---
  private readonly pcpLists: LinkedLists;
  private readonly pcpCount: Int32Array;
  private readonly pcpFreeFactor: Int32Array;

  // --- page reporting ---
  private reportingOrder = REPORTING_OFF;
  private pendingNotifications = 0;
  private capacity: number;
  private budgetDivisor = 16;
  private offset: number;
  private slotPfn: number[] = [];
  private slotOrder: number[] = [];
  private cycle: ReportCycle | null = null;

  private readonly stats: CoreCounters = {
    allocFailures: 0,
    allocFailuresInFlight: 0,
    isolateFailures: 0,
    pcpDrains: 0,
    inflightPages: 0,
    inflightPeak: 0,
    notifies: 0,
  };

  constructor(config: GuestConfig) {
    this.config = config;
    this.profile = getProfile(config.profile);
    this.zones = config.zones;
    this.nrZones = config.zones.length;
    this.maxPfn = config.maxPfn;
    if (!Number.isInteger(this.maxPfn) || this.maxPfn <= 0 || this.maxPfn > 2 ** 30) {
      throw new SimError('BAD_CONFIG', `maxPfn ${this.maxPfn} must be an integer in 1..2^30`, { maxPfn: this.maxPfn });
    }
    if (this.nrZones < 1 || this.nrZones > 4) {
      throw new SimError('BAD_CONFIG', `a guest has 1..4 zones, got ${this.nrZones}`, { zones: this.nrZones });
    }
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 64) {
      throw new SimError('BAD_CONFIG', `cpus must be an integer in 1..64, got ${config.cpus}`, { cpus: config.cpus });
    }
    this.pcpOrderOk = Array.from({ length: NR_ORDERS }, (_, o) => config.pcp && this.profile.pcpOrders.includes(o));

    const n = this.maxPfn;
    this.zoneOf = new Int8Array(n).fill(-1);
    this.kind = new Uint8Array(n);
    this.order = new Uint8Array(n);
    this.mt = new Uint8Array(n);
    this.reported = new Uint8Array(n);
    this.cpuOf = new Uint8Array(n);
    this.next = new Int32Array(n).fill(NIL);
    this.prev = new Int32Array(n).fill(NIL);
    this.pageblockMt = new Uint8Array(Math.ceil(n / PAGEBLOCK_PAGES));

    this.reservedFrom = [];
    this.zones.forEach((zone, z) => {
      if (zone.startPfn < 0 || zone.endPfn > n || zone.startPfn >= zone.endPfn) {
        throw new SimError('BAD_CONFIG', `zone ${zone.name} [${zone.startPfn}, ${zone.endPfn}) is outside [0, ${n})`, { zone: zone.name });
      }
      for (let p = zone.startPfn; p < zone.endPfn; p++) {
        if (this.zoneOf[p] !== -1) throw new SimError('BAD_CONFIG', `zone ${zone.name} overlaps another zone at pfn ${p}`, { zone: zone.name, pfn: p });
        this.zoneOf[p] = z;
      }
      for (const [a, b] of zone.holes) this.zoneOf.fill(-1, a, b);
      let present = 0;
      for (let p = zone.startPfn; p < zone.endPfn; p++) if (this.zoneOf[p] === z) present++;
      if (present !== zone.present || zone.managed < 0 || zone.managed > present) {
        throw new SimError('BAD_CONFIG', `zone ${zone.name}: present ${zone.present} / managed ${zone.managed} do not match its ${present} present pfns`, { zone: zone.name });
      }
      // The reserved pages are the highest `present - managed` present pfns of the zone.
      let from = zone.endPfn;
      for (let left = present - zone.managed; left > 0; ) {
        from--;
        if (this.zoneOf[from] === z) left--;
      }
      this.reservedFrom.push(from);
    });

    this.freeLists = new LinkedLists(this.nrZones * NR_ORDERS * MIGRATE_TYPES, this.next, this.prev);
    this.nrFree = new Int32Array(this.nrZones * NR_ORDERS);
    this.nrFreePages = new Array<number>(this.nrZones).fill(0);
    const pcpSets = config.cpus * this.nrZones;
    this.pcpLists = new LinkedLists(pcpSets * NR_PCP_LISTS, this.next, this.prev);
    this.pcpCount = new Int32Array(pcpSets);
    this.pcpFreeFactor = new Int32Array(pcpSets);

    this.capacity = this.profile.capacity;
    this.offset = this.capacity;
    this.resetToAllocated();
  }

  // =====================================================================================================
  // Start states
  // =====================================================================================================

  /** The pre-boot state again, counters included (importers rebuild a recorded state from here). */
  clearToAllocated(): void {
    this.resetToAllocated();
    for (const k of Object.keys(this.stats) as Array<keyof CoreCounters>) this.stats[k] = 0;
    this.pendingNotifications = 0;
  }

  /** Every present pfn an order-0 UNMOVABLE allocation, every pageblock MOVABLE, nothing free, cached or isolated. */
  private resetToAllocated(): void {
    for (let p = 0; p < this.maxPfn; p++) {
      const present = this.zoneOf[p] !== -1;
      this.kind[p] = present ? ALLOCATED : NONE;
      this.order[p] = 0;
      this.mt[p] = UNMOVABLE;
      this.reported[p] = 0;
      this.cpuOf[p] = 0;
    }
    this.next.fill(NIL);
    this.prev.fill(NIL);
    this.pageblockMt.fill(MOVABLE);
    this.freeLists.clear();
    this.nrFree.fill(0);
    this.nrFreePages.fill(0);
    this.pcpLists.clear();
    this.pcpCount.fill(0);
    this.pcpFreeFactor.fill(0);
    this.offset = this.capacity;
    this.slotPfn = new Array<number>(this.capacity).fill(NIL);
    this.slotOrder = new Array<number>(this.capacity).fill(0);
    this.cycle = null;
    this.stats.inflightPages = 0;
  }

  boot(): void {
    // Boot starts from the initial state; refuse anything else rather than free pages twice.
    for (let z = 0; z < this.nrZones; z++) {
      for (let p = this.zones[z]!.startPfn; p < this.reservedFrom[z]!; p++) {
        if (this.zoneOf[p] === z && (this.kind[p] !== ALLOCATED || this.order[p] !== 0)) {
          throw new SimError('BAD_STATE', `boot: pfn ${p} is not an order-0 allocation (it is ${this.describe(p)}); boot needs the initial all-allocated state`, { pfn: p });
        }
      }
    }
    for (let z = 0; z < this.nrZones; z++) {
      const limit = this.reservedFrom[z]!;
      let pfn = this.zones[z]!.startPfn;
      while (pfn < limit) {
        if (this.zoneOf[pfn] !== z) {
          pfn++;
          continue;
        }
        let order = Math.min(MAX_ORDER_INCLUSIVE, ctz(pfn));
        while (order > 0 && (pfn + (1 << order) > limit || this.coversHole(z, pfn, order))) order--;
        const size = 1 << order;
        for (let q = pfn; q < pfn + size; q++) this.kind[q] = NONE;
        this.freeOnePage(z, pfn, order, this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, this.profile.bootToTail, true);
        pfn += size;
      }
    }
  }

  private coversHole(z: number, pfn: number, order: number): boolean {
    const end = pfn + (1 << order);
    return this.zones[z]!.holes.some(([a, b]) => a < end && pfn < b);
  }

  // =====================================================================================================
  // Free-list verbs: the only code that touches free lists, nr_free and NR_FREE_PAGES, and that clears Reported
  // =====================================================================================================

  private freeListIndex(z: number, order: number, mt: number): number {
    return (z * NR_ORDERS + order) * MIGRATE_TYPES + mt;
  }

  /**
   * NR_FREE_PAGES follows list membership (blocks on ISOLATE lists are not free pages), so it is adjusted where
   * a block enters or leaves a list. This equals the rules' per-operation accounting whenever a merge joins blocks
   * of the same ISOLATE-ness, and keeps NR_FREE_PAGES exact when a raw pageblock retype makes them differ.
   */
  private accountFree(z: number, order: number, mt: number, sign: 1 | -1): void {
    if (mt !== ISOLATE) this.nrFreePages[z]! += sign * (1 << order);
  }

  /** add_to_free_list / add_to_free_list_tail: a new Buddy head, never Reported. */
  private addToFreeList(z: number, pfn: number, order: number, mt: number, tail: boolean): void {
    this.kind[pfn] = FREE;
    this.order[pfn] = order;
    this.mt[pfn] = mt;
    this.reported[pfn] = 0;
    const l = this.freeListIndex(z, order, mt);
    if (tail) this.freeLists.addTail(l, pfn);
    else this.freeLists.addHead(l, pfn);
    this.nrFree[z * NR_ORDERS + order]!++;
    this.accountFree(z, order, mt, 1);
  }

  /** del_page_from_free_list: the one place Reported is cleared. Leaves the pfn kind NONE for the caller. */
  private delFromFreeList(z: number, pfn: number): void {
    const order = this.order[pfn]!;
    const mt = this.mt[pfn]!;
    this.reported[pfn] = 0;
    this.freeLists.remove(this.freeListIndex(z, order, mt), pfn);
    this.kind[pfn] = NONE;
    this.nrFree[z * NR_ORDERS + order]!--;
    this.accountFree(z, order, mt, -1);
  }

  /** move_to_free_list: same order, another list; nr_free and Reported unchanged. */
  private moveToFreeList(z: number, pfn: number, mt: number): void {
    const order = this.order[pfn]!;
    const oldMt = this.mt[pfn]!;
    this.freeLists.remove(this.freeListIndex(z, order, oldMt), pfn);
    this.accountFree(z, order, oldMt, -1);
    const l = this.freeListIndex(z, order, mt);
    if (this.profile.moveToTail) this.freeLists.addTail(l, pfn);
    else this.freeLists.addHead(l, pfn);
    this.mt[pfn] = mt;
    this.accountFree(z, order, mt, 1);
  }

  private isFreeHead(z: number, pfn: number, order: number): boolean {
    return pfn >= 0 && pfn < this.maxPfn && this.zoneOf[pfn] === z && this.kind[pfn] === FREE && this.order[pfn] === order;
  }

  // =====================================================================================================
  // __free_one_page
  // =====================================================================================================

  private mergeStops(mt: number, buddyMt: number): boolean {
    if (mt === buddyMt) return false;
    if (this.profile.mergeStop === 'unmergeable') return !isMergeable(mt) || !isMergeable(buddyMt);
    return mt === ISOLATE || buddyMt === ISOLATE;
  }

  /** Returns the final head pfn and order after merging. */
  private freeOnePage(z: number, pfn: number, order: number, mt: number, toTail: boolean, notify: boolean): [number, number] {
    while (order < MAX_ORDER_INCLUSIVE) {
      const buddy = pfn ^ (1 << order);
      if (!this.isFreeHead(z, buddy, order)) break;
      if (order >= PAGEBLOCK_ORDER && this.mergeStops(mt, this.pageblockMt[buddy >> PAGEBLOCK_ORDER]!)) break;
      this.delFromFreeList(z, buddy);
      pfn &= buddy;
      order++;
    }
    let tail = toTail;
    if (!tail && order < PAGEBLOCK_ORDER) {
      // buddy_merge_likely: if the block's own buddy-to-be at order+1 is already free, this block is likely to
      // complete that merge soon, so keep it at the tail where an allocation will not take it first.
      // E.g. pfn 1, order 0: higher = 0, and the order-1 block at 2 being free makes the tail likely.
      const higher = pfn & ~(1 << order);
      tail = this.isFreeHead(z, higher ^ (1 << (order + 1)), order + 1);
    }
    this.addToFreeList(z, pfn, order, mt, tail);
    if (notify && order >= this.reportingOrder) {
      this.pendingNotifications++;
      this.stats.notifies++;
    }
    return [pfn, order];
  }

  // =====================================================================================================
  // Allocation
  // =====================================================================================================

  alloc(order: number, mt: number, opts: AllocOptions = {}): number {
    this.checkOrder('alloc', order);
    if (!Number.isInteger(mt) || mt < 0 || mt > CMA) {
      throw new SimError('BAD_MIGRATETYPE', `alloc: migratetype ${mt} is not an allocation type (0..${CMA})`, { mt });
    }
    const highest = opts.highestZone ?? this.nrZones - 1;
    this.checkZone('alloc', highest);
    const cpu = opts.cpu ?? 0;
    this.checkCpu('alloc', cpu);

    const usePcp = this.pcpOrderOk[order]! && mt < MIGRATE_PCPTYPES;
    // First every zone against its low mark, then against min (the slow path, without reclaim).
    for (let round = 0; round < 2; round++) {
      for (let z = highest; z >= 0; z--) {
        const { low, min } = this.zones[z]!.watermarks;
        if (!this.watermarkOk(z, order, round === 0 ? low : min, highest)) continue;
        const pfn = usePcp ? this.rmqueuePcplist(z, cpu, order, mt) : this.rmqueue(z, order, mt);
        if (pfn === NIL) continue;
        this.kind[pfn] = ALLOCATED;
        this.order[pfn] = order;
        this.mt[pfn] = mt;
        return pfn;
      }
    }
    if (opts.mayFail) return NIL; // the caller's fallback, not a failure
    this.stats.allocFailures++;
    if (this.stats.inflightPages > 0) this.stats.allocFailuresInFlight++;
    return NIL;
  }

  /** __zone_watermark_ok without the highatomic/CMA reserves. */
  private watermarkOk(z: number, order: number, mark: number, highest: number): boolean {
    const free = this.nrFreePages[z]! - ((1 << order) - 1);
    if (!(free > mark + (this.zones[z]!.lowmemReserve[highest] ?? 0))) return false;
    if (order === 0) return true;
    for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
      for (let m = 0; m < MIGRATE_PCPTYPES; m++) {
        if (this.freeLists.len[this.freeListIndex(z, o, m)]! > 0) return true;
      }
    }
    return false;
  }

  /** __rmqueue: returns the head of a block taken off the free lists (kind NONE), or NIL. */
  private rmqueue(z: number, order: number, mt: number): number {
    const pfn = this.rmqueueSmallest(z, order, mt);
    if (pfn !== NIL) return pfn;
    return this.rmqueueFallback(z, order, mt) ? this.rmqueueSmallest(z, order, mt) : NIL;
  }

  private rmqueueSmallest(z: number, order: number, mt: number): number {
    for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
      const pfn = this.freeLists.head[this.freeListIndex(z, o, mt)]!;
      if (pfn === NIL) continue;
      this.delFromFreeList(z, pfn);
      this.expand(z, pfn, order, o, mt);
      return pfn;
    }
    return NIL;
  }

  /** Split an order-`high` block down to `low`, giving each upper half back as a fresh (unreported) Buddy. */
  private expand(z: number, pfn: number, low: number, high: number, mt: number): void {
    while (high > low) {
      high--;
      this.addToFreeList(z, pfn + (1 << high), high, mt, false);
    }
  }

  /** find_suitable_fallback (only_stealable = false): the first fallback type with a block at this order. */
  private findSuitableFallback(z: number, order: number, mt: number): { fallbackMt: number; canSteal: boolean } | null {
    if (this.nrFree[z * NR_ORDERS + order] === 0) return null;
    for (const f of FALLBACKS[mt]!) {
      if (this.freeLists.len[this.freeListIndex(z, order, f)] === 0) continue;
      const canSteal = order >= PAGEBLOCK_ORDER || order >= PAGEBLOCK_ORDER / 2 || mt === RECLAIMABLE || mt === UNMOVABLE;
      return { fallbackMt: f, canSteal };
    }
    return null;
  }

  /** 6.1 __rmqueue_fallback without ALLOC_NOFRAGMENT: returns true when a block was moved to mt's lists. */
  private rmqueueFallback(z: number, order: number, mt: number): boolean {
    if (mt >= MIGRATE_PCPTYPES) return false;
    let found: { order: number; fallbackMt: number; canSteal: boolean } | null = null;
    // Largest first: taking a big block keeps the fragments of other types few.
    for (let o = MAX_ORDER_INCLUSIVE; o >= order; o--) {
      const r = this.findSuitableFallback(z, o, mt);
      if (r) {
        found = { order: o, ...r };
        break;
      }
    }
    if (!found) return false;
    // A movable request that may not claim the block is better served by the smallest block that fits.
    if (!found.canSteal && mt === MOVABLE && found.order > order) {
      for (let o = order; o <= MAX_ORDER_INCLUSIVE; o++) {
        const r = this.findSuitableFallback(z, o, mt);
        if (r) {
          found = { order: o, ...r };
          break;
        }
      }
    }
    const page = this.freeLists.head[this.freeListIndex(z, found.order, found.fallbackMt)]!;
    this.stealSuitableFallback(z, page, found.order, mt, found.canSteal);
    return true;
  }

  private stealSuitableFallback(z: number, page: number, order: number, mt: number, wholeBlock: boolean): void {
    const oldType = this.pageblockMt[page >> PAGEBLOCK_ORDER]!;
    if (oldType === HIGHATOMIC || !wholeBlock) {
      this.moveToFreeList(z, page, mt);
      return;
    }
    if (order >= PAGEBLOCK_ORDER) {
      for (let pb = page >> PAGEBLOCK_ORDER, n = 1 << (order - PAGEBLOCK_ORDER); n > 0; pb++, n--) this.pageblockMt[pb] = mt;
      this.moveToFreeList(z, page, mt);
      return;
    }
    const { moved, movable } = this.moveFreePagesBlockIn(z, page, mt);
    // Pages already of a compatible kind count towards claiming the block, as if they were free.
    let alike = 0;
    if (mt === MOVABLE) alike = movable;
    else if (oldType === MOVABLE) alike = PAGEBLOCK_PAGES - moved - movable;
    if (moved === 0) {
      this.moveToFreeList(z, page, mt);
      return;
    }
    if (moved + alike >= PAGEBLOCK_PAGES / 2) this.pageblockMt[page >> PAGEBLOCK_ORDER] = mt;
  }

  /** move_freepages_block over the pageblock of pfn, clipped to the zone. */
  private moveFreePagesBlockIn(z: number, pfn: number, mt: number): { moved: number; movable: number } {
    const zone = this.zones[z]!;
    // move_freepages_block: a pageblock starting below the zone is walked from pfn itself; one ending past the
    // zone moves nothing (so a steal there falls back to the single block).
    const blockStart = pfn & ~(PAGEBLOCK_PAGES - 1);
    const start = blockStart < zone.startPfn ? pfn : blockStart;
    const end = blockStart + PAGEBLOCK_PAGES;
    let moved = 0;
    let movable = 0;
    if (end > zone.endPfn) return { moved, movable };
    for (let p = start; p < end; ) {
      const k = this.kind[p];
      if (k === NONE) {
        p++;
        continue;
      }
      const size = 1 << this.order[p]!;
      if (k === FREE) {
        this.moveToFreeList(z, p, mt);
        moved += size;
      } else if (k === ALLOCATED && this.mt[p] === MOVABLE) {
        movable += Math.min(size, end - p);
      }
      p += size;
    }
    return { moved, movable };
  }

  // =====================================================================================================
  // Per-cpu lists
  // =====================================================================================================

  private pcpSet(cpu: number, z: number): number {
    return cpu * this.nrZones + z;
  }

  private pcpListIndex(cpu: number, z: number, pindex: number): number {
    return this.pcpSet(cpu, z) * NR_PCP_LISTS + pindex;
  }

  private rmqueuePcplist(z: number, cpu: number, order: number, mt: number): number {
    const set = this.pcpSet(cpu, z);
    // An allocation shows the CPU is consuming again: shrink the next bulk free.
    if (this.profile.pcpFreeFactor) this.pcpFreeFactor[set]! >>= 1;
    const l = this.pcpListIndex(cpu, z, pindexOf(order, mt));
    if (this.pcpLists.len[l] === 0) {
      const batch = this.zones[z]!.pcpBatch;
      const count = batch > 1 ? Math.max(batch >> order, 2) : batch;
      for (let i = 0; i < count; i++) {
        const pfn = this.rmqueue(z, order, mt);
        if (pfn === NIL) break;
        this.kind[pfn] = PCP;
        this.order[pfn] = order;
        this.mt[pfn] = mt;
        this.cpuOf[pfn] = cpu;
        this.pcpLists.addTail(l, pfn);
        this.pcpCount[set]! += 1 << order;
      }
      if (this.pcpLists.len[l] === 0) return NIL;
    }
    const pfn = this.pcpLists.head[l]!;
    this.pcpLists.remove(l, pfn);
    this.pcpCount[set]! -= 1 << order;
    this.kind[pfn] = NONE;
    return pfn;
  }

  /** free_unref_page_commit for a block already released by the caller (kind NONE). */
  private freeToPcp(z: number, cpu: number, pfn: number, order: number): FreeResult {
    const blockMt = this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
    if (blockMt === ISOLATE) {
      const [head, final] = this.freeOnePage(z, pfn, order, blockMt, false, true);
      return { to: 'buddy', pfn: head, order: final };
    }
    const pcpMt = blockMt >= MIGRATE_PCPTYPES ? MOVABLE : blockMt;
    const pindex = pindexOf(order, pcpMt);
    const set = this.pcpSet(cpu, z);
    this.kind[pfn] = PCP;
    this.order[pfn] = order;
    this.mt[pfn] = blockMt;
    this.cpuOf[pfn] = cpu;
    this.pcpLists.addHead(this.pcpListIndex(cpu, z, pindex), pfn);
    this.pcpCount[set]! += 1 << order;
    // free_high: high-order pages piling up while nothing allocates only fragment memory; flush them all.
    const freeHigh = this.profile.pcpFreeFactor && this.pcpFreeFactor[set]! > 0 && order >= 1 && order <= 3;
    const high = freeHigh ? 0 : this.zones[z]!.pcpHigh;
    if (this.pcpCount[set]! >= high) {
      const n = freeHigh ? this.pcpCount[set]! : this.nrPcpFree(cpu, z);
      this.freePcppagesBulk(cpu, z, n, pindex);
    }
    return { to: 'pcp', pfn, order };
  }

  private nrPcpFree(cpu: number, z: number): number {
    const { pcpHigh: high, pcpBatch: batch } = this.zones[z]!;
    // 5.7 always sends one batch back.
    if (!this.profile.pcpFreeFactor) return batch;
    if (high < batch) return 1;
    const set = this.pcpSet(cpu, z);
    const factor = this.pcpFreeFactor[set]!;
    const n = batch * 2 ** factor;
    if (n < high - batch && factor < FREE_FACTOR_MAX) this.pcpFreeFactor[set] = factor + 1;
    return Math.min(Math.max(n, batch), high - batch);
  }

  /** free_pcppages_bulk; a bulk free of nothing does not count as a drain. */
  private freePcppagesBulk(cpu: number, z: number, n: number, pindex: number): void {
    const set = this.pcpSet(cpu, z);
    n = Math.min(n, this.pcpCount[set]!);
    if (n <= 0) return;
    this.stats.pcpDrains++;
    if (this.profile.pcpFreeFactor) this.bulkFreeRoundRobin(cpu, z, n, pindex);
    else this.bulkFree57(cpu, z, n);
  }

  /** 6.1: oldest pages first, a whole list at a time, round robin starting with the freed page's list. */
  private bulkFreeRoundRobin(cpu: number, z: number, n: number, pindex: number): void {
    let pi = pindex - 1;
    while (n > 0) {
      let l: number;
      do {
        pi = pi + 1 >= NR_PCP_LISTS ? 0 : pi + 1;
        l = this.pcpListIndex(cpu, z, pi);
      } while (this.pcpLists.len[l] === 0);
      const order = pindexOrder(pi);
      do {
        this.pcpToBuddy(cpu, z, l, order);
        n -= 1 << order;
      } while (n > 0 && this.pcpLists.len[l]! > 0);
    }
  }

  /**
   * 5.7 (order 0 only): round robin over the three type lists starting after UNMOVABLE; each visit takes as many
   * pages as lists were looked at to find a non-empty one, so fuller lists give more, and a lone list gives all.
   * The credit carries over between visits, as the kernel's batch_free does.
   */
  private bulkFree57(cpu: number, z: number, n: number): void {
    let mt = 0;
    let credit = 0;
    while (n > 0) {
      let l: number;
      do {
        credit++;
        mt = mt + 1 === MIGRATE_PCPTYPES ? 0 : mt + 1;
        l = this.pcpListIndex(cpu, z, pindexOf(0, mt));
      } while (this.pcpLists.len[l] === 0);
      if (credit === MIGRATE_PCPTYPES) credit = n;
      do {
        this.pcpToBuddy(cpu, z, l, 0);
        n--;
        if (n === 0) break;
        credit--;
      } while (credit > 0 && this.pcpLists.len[l]! > 0);
    }
  }

  /**
   * The oldest page of a per-cpu list goes to the buddy with the type recorded at free, unless its pageblock
   * has been isolated since (the kernel re-reads the pageblock when the zone has isolated pageblocks).
   */
  private pcpToBuddy(cpu: number, z: number, l: number, order: number): void {
    const pfn = this.pcpLists.tail[l]!;
    this.pcpLists.remove(l, pfn);
    this.pcpCount[this.pcpSet(cpu, z)]! -= 1 << order;
    this.kind[pfn] = NONE;
    const mt = this.pageblockMt[pfn >> PAGEBLOCK_ORDER] === ISOLATE ? ISOLATE : this.mt[pfn]!;
    this.freeOnePage(z, pfn, order, mt, false, true);
  }

  drainPcp(cpu?: number): void {
    if (cpu !== undefined) this.checkCpu('drainPcp', cpu);
    const cpus = cpu === undefined ? Array.from({ length: this.config.cpus }, (_, c) => c) : [cpu];
    for (const c of cpus) {
      for (let z = 0; z < this.nrZones; z++) {
        const set = this.pcpSet(c, z);
        if (!this.profile.pcpFreeFactor) {
          this.freePcppagesBulk(c, z, this.pcpCount[set]!, 0);
          continue;
        }
        // 6.1.y since 6.1.104 (drain_pages_zone): chunks of batch << 5 bound the time the zone lock is held.
        const chunk = Math.max(1, this.zones[z]!.pcpBatch * 2 ** FREE_FACTOR_MAX);
        while (this.pcpCount[set]! > 0) this.freePcppagesBulk(c, z, Math.min(this.pcpCount[set]!, chunk), 0);
      }
    }
  }

  // =====================================================================================================
  // Freeing
  // =====================================================================================================

  free(pfn: number, order: number, opts: FreeOptions = {}): FreeResult {
    const cpu = opts.cpu ?? 0;
    this.checkBlock('free', pfn, order);
    this.checkCpu('free', cpu);
    this.checkAllocatedHead('free', pfn, order);
    const z = this.zoneOf[pfn]!;
    this.kind[pfn] = NONE;
    // FPI flags only exist on the path that bypasses the per-cpu lists, so asking for one means a direct free.
    const direct = opts.direct || opts.toTail || opts.skipNotify || !this.pcpOrderOk[order];
    if (!direct) return this.freeToPcp(z, cpu, pfn, order);
    const [head, final] = this.freeOnePage(z, pfn, order, this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, !!opts.toTail, !opts.skipNotify);
    return { to: 'buddy', pfn: head, order: final };
  }

  /**
   * Lenient free for importers and trace replay: [pfn, pfn + 2^order) must be covered by allocated blocks lying
   * wholly inside it; all of them are released and the range is freed directly to the buddy as one block.
   */
  freeRange(pfn: number, order: number, opts: FreeRangeOptions = {}): FreeResult {
    this.checkBlock('freeRange', pfn, order);
    const z = this.zoneOf[pfn]!;
    const end = pfn + (1 << order);
    for (let p = pfn; p < end; ) {
      if (this.zoneOf[p] === -1) throw new SimError('PFN_IN_HOLE', `freeRange: pfn ${p} inside [${pfn}, ${end}) is in a hole`, { pfn: p });
      if (this.zoneOf[p] !== z) {
        throw new SimError('NOT_ALLOCATED', `freeRange: [${pfn}, ${end}) crosses from zone ${z} into zone ${this.zoneOf[p]} at pfn ${p}`, { pfn: p });
      }
      if (this.kind[p] !== ALLOCATED) {
        throw new SimError('NOT_ALLOCATED', `freeRange: pfn ${p} inside [${pfn}, ${end}) is not allocated (it is ${this.describe(p)})`, { pfn: p });
      }
      const size = 1 << this.order[p]!;
      if (p + size > end) {
        throw new SimError('WRONG_ORDER', `freeRange: the allocated block at pfn ${p} (order ${this.order[p]}) reaches past [${pfn}, ${end}) of order ${order}`, { pfn: p, order });
      }
      p += size;
    }
    for (let p = pfn; p < end; p++) this.kind[p] = NONE;
    const [head, final] = this.freeOnePage(z, pfn, order, this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, !!opts.toTail, !opts.skipNotify);
    return { to: 'buddy', pfn: head, order: final };
  }

  // =====================================================================================================
  // Isolation and putback
  // =====================================================================================================

  isolate(pfn: number, order: number): boolean {
    this.checkBlock('isolate', pfn, order);
    const z = this.zoneOf[pfn]!;
    if (!this.isFreeHead(z, pfn, order)) {
      throw new SimError('NOT_FREE', `isolate: pfn ${pfn} is not a free block of order ${order} (it is ${this.describe(pfn)})`, { pfn, order });
    }
    return this.isolateFreePage(z, pfn, order);
  }

  /** __isolate_free_page on a pfn known to be a free head of `order`. */
  private isolateFreePage(z: number, pfn: number, order: number): boolean {
    const mt = this.mt[pfn]!;
    // Taking the page must not eat into the reserve an allocation would respect (an order-0 check raised by
    // the block size, since the block itself is known to exist).
    if (mt !== ISOLATE && !(this.nrFreePages[z]! > this.zones[z]!.watermarks.min + (1 << order))) {
      this.stats.isolateFailures++;
      return false;
    }
    this.delFromFreeList(z, pfn);
    if (order >= PAGEBLOCK_ORDER - 1) {
      const last = (pfn + (1 << order) - 1) >> PAGEBLOCK_ORDER;
      for (let pb = pfn >> PAGEBLOCK_ORDER; pb <= last; pb++) {
        if (isMergeable(this.pageblockMt[pb]!)) this.pageblockMt[pb] = MOVABLE;
      }
    }
    this.kind[pfn] = INFLIGHT;
    this.order[pfn] = order;
    this.mt[pfn] = mt;
    this.stats.inflightPages += 1 << order;
    this.stats.inflightPeak = Math.max(this.stats.inflightPeak, this.stats.inflightPages);
    return true;
  }

  putback(pfn: number, order: number): FreeResult {
    this.checkBlock('putback', pfn, order);
    if (this.kind[pfn] !== INFLIGHT) {
      throw new SimError('NOT_INFLIGHT', `putback: pfn ${pfn} is not isolated (it is ${this.describe(pfn)})`, { pfn, order });
    }
    if (this.order[pfn] !== order) {
      throw new SimError('WRONG_ORDER', `putback: pfn ${pfn} was isolated at order ${this.order[pfn]}, not ${order}`, { pfn, order });
    }
    const [head, final] = this.putbackIsolatedPage(pfn, order);
    return { to: 'buddy', pfn: head, order: final };
  }

  private putbackIsolatedPage(pfn: number, order: number): [number, number] {
    this.kind[pfn] = NONE;
    this.stats.inflightPages -= 1 << order;
    const mt = this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
    return this.freeOnePage(this.zoneOf[pfn]!, pfn, order, mt, this.profile.putbackPlacement === 'tail', false);
  }

  // =====================================================================================================
  // Pageblocks
  // =====================================================================================================

  getPageblockMt(pfn: number): MigrateType {
    this.checkPfn('getPageblockMt', pfn);
    return this.pageblockMt[pfn >> PAGEBLOCK_ORDER]! as MigrateType;
  }

  setPageblockMt(pfn: number, mt: number): void {
    this.checkPfn('setPageblockMt', pfn);
    this.checkMt('setPageblockMt', mt);
    this.pageblockMt[pfn >> PAGEBLOCK_ORDER] = mt;
  }

  moveFreePagesBlock(pfn: number, mt: number): number {
    this.checkPfn('moveFreePagesBlock', pfn);
    this.checkMt('moveFreePagesBlock', mt);
    const z = this.zoneSpanning(pfn);
    if (z < 0) throw new SimError('PFN_IN_HOLE', `moveFreePagesBlock: pfn ${pfn} lies in no zone`, { pfn });
    return this.moveFreePagesBlockIn(z, pfn, mt).moved;
  }

  /** The zone whose span holds pfn (holes included), or -1. */
  private zoneSpanning(pfn: number): number {
    return this.zones.findIndex((zone) => pfn >= zone.startPfn && pfn < zone.endPfn);
  }

  // =====================================================================================================
  // Reporting: notification and the report cycle
  // =====================================================================================================

  setReportingOrder(order: number): void {
    // 11 is MAX_ORDER, the module parameter's value before register: no free reaches it, so nothing notifies.
    if (!(Number.isInteger(order) && ((order >= 0 && order <= MAX_ORDER_INCLUSIVE + 1) || order === REPORTING_OFF))) {
      throw new SimError('BAD_ORDER', `setReportingOrder: order ${order} is neither 0..${MAX_ORDER_INCLUSIVE + 1} nor ${REPORTING_OFF} (off)`, { order });
    }
    this.reportingOrder = order;
  }

  takeNotifications(): number {
    const n = this.pendingNotifications;
    this.pendingNotifications = 0;
    return n;
  }

  reportBatchReset(capacity: number, budgetDivisor = 16): void {
    if (!Number.isInteger(budgetDivisor) || budgetDivisor < 1) {
      throw new SimError('BAD_CONFIG', `reportBatchReset: budget divisor ${budgetDivisor} must be a positive integer`, { budgetDivisor });
    }
    this.budgetDivisor = budgetDivisor;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 16) {
      throw new SimError('BAD_CONFIG', `reportBatchReset: capacity ${capacity} must be an integer in 1..65536`, { capacity });
    }
    if (this.offset !== this.capacity) {
      throw new SimError('BAD_STATE', `reportBatchReset: ${this.capacity - this.offset} isolated entries are still in the batch; drain them first`, { entries: this.capacity - this.offset });
    }
    this.capacity = capacity;
    this.offset = capacity;
    this.slotPfn = new Array<number>(capacity).fill(NIL);
    this.slotOrder = new Array<number>(capacity).fill(0);
    this.cycle = null;
  }

  reportCycleBegin(zone: number, order: number, mt: number): boolean {
    this.checkZone('reportCycleBegin', zone);
    this.checkOrder('reportCycleBegin', order);
    this.checkMt('reportCycleBegin', mt);
    if (this.cycle?.awaitingDrain) {
      throw new SimError('BAD_STATE', 'reportCycleBegin: the full batch of the previous REPORT has not been drained', {});
    }
    this.cycle = null;
    if (this.freeLists.len[this.freeListIndex(zone, order, mt)] === 0) return false;
    // Budget by the whole free_area (all migratetypes), so a pass never spends long on one order.
    const budget = Math.ceil(this.nrFree[zone * NR_ORDERS + order]! / (this.capacity * this.budgetDivisor));
    this.cycle = { zone, order, mt, budget, awaitingDrain: false };
    return true;
  }

  /**
   * Walks from the list's first entry: between calls the walk only ever resumes from the first entry (after a
   * REPORT and its drain), so no cursor is kept that allocations during report() could invalidate.
   */
  reportCycleStep(): CycleResult {
    const c = this.cycle;
    if (!c) throw new SimError('BAD_STATE', 'reportCycleStep: no report cycle is active (call reportCycleBegin)', {});
    if (c.awaitingDrain) throw new SimError('BAD_STATE', 'reportCycleStep: the full batch must be reported and drained first', {});
    const l = this.freeListIndex(c.zone, c.order, c.mt);
    let page = this.freeLists.head[l]!;
    while (page !== NIL) {
      if (this.reported[page]) {
        page = this.next[page]!;
        continue;
      }
      if (c.budget < 0) {
        this.freeLists.rotateToFront(l, page);
        this.cycle = null;
        return CycleResult.BUDGET;
      }
      if (this.offset > 0) {
        const after = this.next[page]!;
        if (!this.isolateFreePage(c.zone, page, c.order)) {
          this.freeLists.rotateToFront(l, page);
          this.cycle = null;
          return CycleResult.ISOLATE_FAILED;
        }
        this.offset--;
        this.slotPfn[this.offset] = page;
        this.slotOrder[this.offset] = c.order;
        page = after;
        continue;
      }
      // The batch is full and there is more to do: leave this page first so the walk resumes here.
      this.freeLists.rotateToFront(l, page);
      c.awaitingDrain = true;
      return CycleResult.REPORT;
    }
    this.cycle = null;
    return CycleResult.DONE;
  }

  reportBatchCount(): number {
    return this.capacity - this.offset;
  }

  reportBatchEntries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.offset; i < this.capacity; i++) out.push([this.slotPfn[i]!, this.slotOrder[i]!]);
    return out;
  }

  reportDrain(reported: boolean): void {
    for (let i = this.offset; i < this.capacity; i++) {
      const pfn = this.slotPfn[i]!;
      if (this.kind[pfn] !== INFLIGHT || this.order[pfn] !== this.slotOrder[i]) {
        throw new SimError('BAD_STATE', `reportDrain: batch entry pfn ${pfn} is no longer isolated at order ${this.slotOrder[i]} (it is ${this.describe(pfn)})`, { pfn });
      }
    }
    for (let i = this.offset; i < this.capacity; i++) {
      const pfn = this.slotPfn[i]!;
      const order = this.slotOrder[i]!;
      this.putbackIsolatedPage(pfn, order);
      // A block that merged on the way back is a different, larger block: it must be reported again.
      if (reported && this.kind[pfn] === FREE && this.order[pfn] === order) this.reported[pfn] = 1;
      this.slotPfn[i] = NIL;
    }
    this.offset = this.capacity;
    const c = this.cycle;
    if (c?.awaitingDrain) {
      c.awaitingDrain = false;
      c.budget--;
    }
  }

  // =====================================================================================================
  // Read-outs
  // =====================================================================================================

  buddyinfo(): number[][] {
    return this.zones.map((_, z) => Array.from(this.nrFree.subarray(z * NR_ORDERS, (z + 1) * NR_ORDERS)));
  }

  pagetypeinfo(): number[][][] {
    return this.zones.map((_, z) =>
      Array.from({ length: MIGRATE_TYPES }, (_, mt) =>
        Array.from({ length: NR_ORDERS }, (_, o) => this.freeLists.len[this.freeListIndex(z, o, mt)]!),
      ),
    );
  }

  freePages(zone: number): number {
    this.checkZone('freePages', zone);
    return this.nrFreePages[zone]!;
  }

  pcpPages(zone: number): number {
    this.checkZone('pcpPages', zone);
    let n = 0;
    for (let c = 0; c < this.config.cpus; c++) n += this.pcpCount[this.pcpSet(c, zone)]!;
    return n;
  }

  pfnState(pfn: number): PfnState {
    this.checkPfn('pfnState', pfn);
    const zone = this.zoneOf[pfn]!;
    const pageblockMt = this.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
    if (zone === -1) {
      return { pfn, kind: 'hole', head: -1, order: 0, isHead: false, reported: false, zone: this.zoneSpanning(pfn), pageblockMt, mt: -1, cpu: -1 };
    }
    const head = this.headOf(pfn);
    if (head === NIL) throw new InvariantError(`pfnState: present pfn ${pfn} lies in no block`);
    const k = this.kind[head]!;
    return {
      pfn,
      kind: KIND_NAMES[k]!,
      head,
      order: this.order[head]!,
      isHead: head === pfn,
      reported: k === FREE && this.reported[head] === 1,
      zone,
      pageblockMt,
      mt: k === FREE ? -1 : this.mt[head]!,
      cpu: k === PCP ? this.cpuOf[head]! : -1,
    };
  }

  /** The head of the block holding pfn: blocks are aligned, so it is pfn rounded down to some order. */
  private headOf(pfn: number): number {
    for (let o = 0; o <= MAX_ORDER_INCLUSIVE; o++) {
      const h = pfn & ~((1 << o) - 1);
      if (this.kind[h] !== NONE && h + (1 << this.order[h]!) > pfn) return h;
    }
    return NIL;
  }

  freeList(zone: number, order: number, mt: number): number[] {
    this.checkZone('freeList', zone);
    this.checkOrder('freeList', order);
    this.checkMt('freeList', mt);
    return this.freeLists.toArray(this.freeListIndex(zone, order, mt));
  }

  pcpList(cpu: number, zone: number, pindex: number): number[] {
    this.checkCpu('pcpList', cpu);
    this.checkZone('pcpList', zone);
    if (!Number.isInteger(pindex) || pindex < 0 || pindex >= NR_PCP_LISTS) {
      throw new SimError('BAD_ORDER', `pcpList: pindex ${pindex} is outside 0..${NR_PCP_LISTS - 1}`, { pindex });
    }
    return this.pcpLists.toArray(this.pcpListIndex(cpu, zone, pindex));
  }

  counters(): CoreCounters {
    return { ...this.stats };
  }

  // =====================================================================================================
  // Invariants
  // =====================================================================================================

  check(): void {
    const fail = (msg: string): never => {
      throw new InvariantError(msg);
    };
    const heads = [0, 0, 0, 0, 0];
    let inflight = 0;

    // 1. Every present pfn lies in exactly one block, which lies in one zone and covers no hole.
    for (let p = 0; p < this.maxPfn; p++) {
      if (this.zoneOf[p] === -1 && (this.kind[p] !== NONE || this.reported[p])) fail(`pfn ${p} is a hole but has kind ${this.kind[p]}`);
    }
    for (let z = 0; z < this.nrZones; z++) {
      const { startPfn, endPfn } = this.zones[z]!;
      for (let p = startPfn; p < endPfn; ) {
        if (this.zoneOf[p] !== z) {
          p++;
          continue;
        }
        const k = this.kind[p]!;
        if (k === NONE) fail(`present pfn ${p} of zone ${z} lies in no block`);
        if (k > INFLIGHT) fail(`pfn ${p} has unknown kind ${k}`);
        const order = this.order[p]!;
        if (order > MAX_ORDER_INCLUSIVE) fail(`block at pfn ${p} has order ${order}`);
        const size = 1 << order;
        if (p & (size - 1)) fail(`block at pfn ${p} is not aligned to its order ${order}`);
        if (p + size > endPfn) fail(`block at pfn ${p} order ${order} passes the end of zone ${z}`);
        for (let q = p + 1; q < p + size; q++) {
          if (this.zoneOf[q] !== z) fail(`block at pfn ${p} order ${order} covers pfn ${q} outside zone ${z}`);
          if (this.kind[q] !== NONE) fail(`block at pfn ${p} order ${order} overlaps the block at pfn ${q}`);
          if (this.reported[q]) fail(`pfn ${q} inside the block at ${p} is marked Reported`);
        }
        if (this.reported[p] && k !== FREE) fail(`pfn ${p} is Reported but ${KIND_NAMES[k]}`);
        if (k === ALLOCATED && this.mt[p]! > CMA) fail(`allocated block at pfn ${p} has migratetype ${this.mt[p]}`);
        if (k === INFLIGHT) inflight += size;
        heads[k]!++;
        p += size;
      }
    }
    if (inflight !== this.stats.inflightPages) fail(`${inflight} pages are isolated but the counter says ${this.stats.inflightPages}`);
    for (let pb = 0; pb < this.pageblockMt.length; pb++) {
      if (this.pageblockMt[pb]! >= MIGRATE_TYPES) fail(`pageblock ${pb} has migratetype ${this.pageblockMt[pb]}`);
    }

    // 2. Free lists: links consistent both ways, every entry a free head of the list's zone/order/mt, each free
    // head on exactly one list, nr_free and NR_FREE_PAGES equal to what the lists hold.
    const seen = new Uint8Array(this.maxPfn);
    const walk = (lists: LinkedLists, l: number, what: string, visit: (pfn: number) => void): void => {
      let n = 0;
      let before = NIL;
      for (let p = lists.head[l]!; p !== NIL; p = this.next[p]!) {
        if (p < 0 || p >= this.maxPfn) fail(`${what}: link to pfn ${p} outside the guest`);
        if (seen[p]) fail(`${what}: pfn ${p} is on a list twice`);
        seen[p] = 1;
        if (this.prev[p] !== before) fail(`${what}: pfn ${p}.prev is ${this.prev[p]}, expected ${before}`);
        visit(p);
        before = p;
        n++;
      }
      if (lists.tail[l] !== before) fail(`${what}: tail is ${lists.tail[l]}, expected ${before}`);
      if (lists.len[l] !== n) fail(`${what}: length ${lists.len[l]} but ${n} entries`);
    };
    let listedFree = 0;
    for (let z = 0; z < this.nrZones; z++) {
      let nonIsolate = 0;
      for (let o = 0; o < NR_ORDERS; o++) {
        let blocks = 0;
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          const l = this.freeListIndex(z, o, mt);
          walk(this.freeLists, l, `free_list(zone ${z}, order ${o}, mt ${mt})`, (p) => {
            if (this.kind[p] !== FREE || this.order[p] !== o || this.mt[p] !== mt || this.zoneOf[p] !== z) {
              fail(`free_list(zone ${z}, order ${o}, mt ${mt}) holds pfn ${p}, which is ${this.describe(p)} with mt ${this.mt[p]}`);
            }
          });
          blocks += this.freeLists.len[l]!;
          if (mt !== ISOLATE) nonIsolate += this.freeLists.len[l]! << o;
        }
        if (this.nrFree[z * NR_ORDERS + o] !== blocks) fail(`zone ${z} order ${o}: nr_free ${this.nrFree[z * NR_ORDERS + o]} but ${blocks} blocks listed`);
        listedFree += blocks;
      }
      if (this.nrFreePages[z] !== nonIsolate) fail(`zone ${z}: NR_FREE_PAGES ${this.nrFreePages[z]} but ${nonIsolate} pages on non-ISOLATE lists`);
    }
    if (listedFree !== heads[FREE]) fail(`${heads[FREE]} free heads but ${listedFree} listed`);

    // 3. Per-cpu lists: entries match their list's cpu, zone, order and type; counts add up.
    let listedPcp = 0;
    for (let c = 0; c < this.config.cpus; c++) {
      for (let z = 0; z < this.nrZones; z++) {
        let pages = 0;
        for (let pi = 0; pi < NR_PCP_LISTS; pi++) {
          const o = pindexOrder(pi);
          const l = this.pcpListIndex(c, z, pi);
          walk(this.pcpLists, l, `pcp list (cpu ${c}, zone ${z}, pindex ${pi})`, (p) => {
            const listMt = this.mt[p]! >= MIGRATE_PCPTYPES ? MOVABLE : this.mt[p]!;
            if (this.kind[p] !== PCP || this.order[p] !== o || this.cpuOf[p] !== c || this.zoneOf[p] !== z || this.mt[p]! >= ISOLATE || (pi !== PCP_THP_PINDEX && pindexOf(o, listMt) !== pi)) {
              fail(`pcp list (cpu ${c}, zone ${z}, pindex ${pi}) holds pfn ${p}, which is ${this.describe(p)} (cpu ${this.cpuOf[p]}, mt ${this.mt[p]})`);
            }
          });
          pages += this.pcpLists.len[l]! << o;
          listedPcp += this.pcpLists.len[l]!;
        }
        const set = this.pcpSet(c, z);
        if (this.pcpCount[set] !== pages) fail(`cpu ${c} zone ${z}: pcp count ${this.pcpCount[set]} but ${pages} pages listed`);
        if (this.pcpFreeFactor[set]! < 0 || this.pcpFreeFactor[set]! > FREE_FACTOR_MAX) fail(`cpu ${c} zone ${z}: free_factor ${this.pcpFreeFactor[set]}`);
      }
    }
    if (listedPcp !== heads[PCP]) fail(`${heads[PCP]} per-cpu heads but ${listedPcp} listed`);

    // 4. The report batch holds only isolated blocks.
    for (let i = this.offset; i < this.capacity; i++) {
      const p = this.slotPfn[i]!;
      if (p < 0 || p >= this.maxPfn || this.kind[p] !== INFLIGHT || this.order[p] !== this.slotOrder[i]) {
        fail(`report batch slot ${i} (pfn ${p}, order ${this.slotOrder[i]}) is not an isolated block`);
      }
    }
  }

  // =====================================================================================================
  // Validation (throws before any state changes)
  // =====================================================================================================

  private describe(pfn: number): string {
    if (this.zoneOf[pfn] === -1) return 'a hole';
    const h = this.headOf(pfn);
    if (h === NIL) return 'in no block';
    const what = `${KIND_NAMES[this.kind[h]!]} (order ${this.order[h]})`;
    return h === pfn ? what : `inside the block at pfn ${h}, ${what}`;
  }

  private checkOrder(op: string, order: number): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER_INCLUSIVE) {
      throw new SimError('BAD_ORDER', `${op}: order ${order} is outside 0..${MAX_ORDER_INCLUSIVE}`, { order });
    }
  }

  private checkPfn(op: string, pfn: number): void {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.maxPfn) {
      throw new SimError('PFN_OUT_OF_RANGE', `${op}: pfn ${pfn} is outside the guest [0, ${this.maxPfn})`, { pfn });
    }
  }

  /** The shape of the arguments first (order, range, alignment), then what lies there. */
  private checkBlock(op: string, pfn: number, order: number): void {
    this.checkOrder(op, order);
    this.checkPfn(op, pfn);
    if (pfn & ((1 << order) - 1)) {
      throw new SimError('MISALIGNED', `${op}: pfn ${pfn} is not aligned to order ${order} (${1 << order} pages)`, { pfn, order });
    }
    if (pfn + (1 << order) > this.maxPfn) {
      throw new SimError('PFN_OUT_OF_RANGE', `${op}: block [${pfn}, ${pfn + (1 << order)}) passes the guest end ${this.maxPfn}`, { pfn, order });
    }
    if (this.zoneOf[pfn] === -1) throw new SimError('PFN_IN_HOLE', `${op}: pfn ${pfn} is in a hole`, { pfn });
  }

  private checkAllocatedHead(op: string, pfn: number, order: number): void {
    if (this.kind[pfn] !== ALLOCATED) {
      throw new SimError('NOT_ALLOCATED', `${op}: pfn ${pfn} is not the head of an allocated block (it is ${this.describe(pfn)})`, { pfn, order });
    }
    if (this.order[pfn] !== order) {
      throw new SimError('WRONG_ORDER', `${op}: pfn ${pfn} was allocated at order ${this.order[pfn]}, not ${order}`, { pfn, order, allocatedOrder: this.order[pfn] });
    }
  }

  private checkMt(op: string, mt: number): void {
    if (!Number.isInteger(mt) || mt < 0 || mt >= MIGRATE_TYPES) {
      throw new SimError('BAD_MIGRATETYPE', `${op}: migratetype ${mt} is outside 0..${MIGRATE_TYPES - 1}`, { mt });
    }
  }

  private checkZone(op: string, zone: number): void {
    if (!Number.isInteger(zone) || zone < 0 || zone >= this.nrZones) {
      throw new SimError('BAD_ZONE', `${op}: zone ${zone} is outside 0..${this.nrZones - 1}`, { zone });
    }
  }

  private checkCpu(op: string, cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.config.cpus) {
      throw new SimError('BAD_CPU', `${op}: cpu ${cpu} is outside 0..${this.config.cpus - 1}`, { cpu });
    }
  }
}
