// The reference model's state: what assembly/ keeps in linear memory (layout.ts) and wasm globals (state.ts),
// here as typed arrays indexed by pfn and plain fields. Lists are doubly linked through the per-pfn next/prev
// numbers (ListSet here, the list primitives in freelist.ts), so every list operation is O(1) and a 2^20-page
// guest runs millions of operations in seconds. Every function of the model takes this state as its first
// argument, `s`.
import { SimError } from '../core/errors.js';
import { getProfile, type Profile } from '../core/profiles.js';
import {
  type CoreCounters, type GuestConfig, type ZoneConfig, MIGRATE_TYPES, NR_ORDERS, NR_PCP_LISTS, PAGEBLOCK_PAGES,
  REPORTING_ORDER_OFF,
} from '../core/types.js';

/** The end of a list, and "no pfn". */
export const NIL = -1;

/**
 * A set of doubly linked lists (head and tail insertion) threaded through shared per-pfn next/prev arrays; a pfn
 * is on at most one list of the whole allocator at a time, free list or per-cpu list.
 */
export class ListSet {
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly len: Int32Array;

  constructor(count: number, readonly next: Int32Array, readonly prev: Int32Array) {
    this.head = new Int32Array(count).fill(NIL);
    this.tail = new Int32Array(count).fill(NIL);
    this.len = new Int32Array(count);
  }

  clear(): void {
    this.head.fill(NIL);
    this.tail.fill(NIL);
    this.len.fill(0);
  }
}

/** The report cycle of one list in progress (reporting.ts). */
export interface ReportCycle {
  zone: number;
  order: number;
  mt: number;
  budget: number;
  /** A REPORT result was returned and reportDrain has not run yet. */
  awaitingDrain: boolean;
}

export class ModelState {
  readonly config: GuestConfig;
  readonly profile: Profile;
  readonly zones: ZoneConfig[];
  readonly nrZones: number;
  readonly maxPfn: number;
  /** Orders the per-cpu lists take (none when they are off). */
  readonly pcpOrderOk: boolean[];

  // --- per pfn ---
  /** Zone position of a present pfn; -1 for holes and pfns outside every zone. */
  readonly zoneOf: Int8Array;
  /** NONE, FREE, ALLOCATED, PCP or INFLIGHT (page.ts), on a block's head only. */
  readonly kind: Uint8Array;
  readonly order: Uint8Array;
  /** FREE: the list's mt; ALLOCATED: the allocation's mt; PCP: the pageblock mt at free; INFLIGHT: the list's mt. */
  readonly mt: Uint8Array;
  readonly reported: Uint8Array;
  readonly cpuOf: Uint8Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;

  /** Per pageblock (pfn >> PAGEBLOCK_ORDER). */
  readonly pageblockMt: Uint8Array;

  // --- per zone ---
  /** free_area[order].free_list[mt] of every zone, indexed by freeListIndex. */
  readonly freeLists: ListSet;
  /** free_area[order].nr_free, indexed zone * NR_ORDERS + order. */
  readonly nrFree: Int32Array;
  /** NR_FREE_PAGES per zone. */
  readonly nrFreePages: number[];
  /** First reserved pfn of each zone: the present pfns from here to the zone end are never freed by boot. */
  readonly reservedFrom: number[];

  // --- per cpu and zone (pcpSet) ---
  readonly pcpLists: ListSet;
  readonly pcpCount: Int32Array;
  readonly pcpFreeFactor: Int32Array;

  // --- page reporting ---
  reportingOrder = REPORTING_ORDER_OFF;
  pendingNotifications = 0;
  capacity: number;
  budgetDivisor = 16;
  offset: number;
  slotPfn: number[] = [];
  slotOrder: number[] = [];
  cycle: ReportCycle | null = null;

  readonly stats: CoreCounters = {
    allocFailures: 0,
    allocFailuresInFlight: 0,
    isolateFailures: 0,
    pcpDrains: 0,
    inflightPages: 0,
    inflightPeak: 0,
    notifies: 0,
  };

  /** The arrays of a guest of this config, its zones mapped and checked (the memory, before initMemory). */
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

    this.freeLists = new ListSet(this.nrZones * NR_ORDERS * MIGRATE_TYPES, this.next, this.prev);
    this.nrFree = new Int32Array(this.nrZones * NR_ORDERS);
    this.nrFreePages = new Array<number>(this.nrZones).fill(0);
    const pcpSets = config.cpus * this.nrZones;
    this.pcpLists = new ListSet(pcpSets * NR_PCP_LISTS, this.next, this.prev);
    this.pcpCount = new Int32Array(pcpSets);
    this.pcpFreeFactor = new Int32Array(pcpSets);

    this.capacity = this.profile.capacity;
    this.offset = this.capacity;
  }
}

/** The zone whose span holds pfn (holes included), or -1. */
export function zoneOfPfn(s: ModelState, pfn: number): number {
  return s.zones.findIndex((zone) => pfn >= zone.startPfn && pfn < zone.endPfn);
}
