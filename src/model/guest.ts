// The reference model's guest (assembly/guest.ts with the WasmGuest facade in one): the initial state, boot, and
// the validated operations of the Allocator contract. Each checks its arguments and what lies at them first and
// throws a SimError naming the bad value, then calls the rule functions of the other files.
import { InvariantError, SimError } from '../core/errors.js';
import {
  type AllocOptions, type Allocator, type CoreCounters, type CycleResult, type FreeOptions, type FreeResult,
  type GuestConfig, type PfnState, MAX_ORDER_INCLUSIVE, MIGRATE_TYPES, MigrateType, NR_ORDERS, NR_PCP_LISTS,
  PAGEBLOCK_ORDER, REPORTING_ORDER_OFF,
} from '../core/types.js';
import { ModelState, NIL, zoneOfPfn } from './state.js';
import { ALLOCATED, FREE, INFLIGHT, KIND_NAMES, NONE, PCP, describe, findHead, pageIsBuddy } from './page.js';
import { freeListIndex, listToArray } from './freelist.js';
import { freeOnePage, moveFreePagesBlock } from './buddy.js';
import { allocPages, freePages } from './alloc.js';
import { drainPagesZone, pcpListIndex, pcpSet } from './pcp.js';
import { isolateFreePage, putbackIsolatedPage } from './isolate.js';
import {
  reportBatchCount, reportBatchEntries, reportBatchReset, reportCycleBegin, reportCycleStep, reportDrain,
} from './reporting.js';
import { checkInvariants } from './check.js';

/** Options of the lenient `freeRange` used by importers and trace replay. */
export interface FreeRangeOptions {
  /** FPI_TO_TAIL. */
  toTail?: boolean;
  /** FPI_SKIP_REPORT_NOTIFY. */
  skipNotify?: boolean;
}

const { UNMOVABLE, MOVABLE, CMA } = MigrateType;

/** Number of trailing zero bits; pfn 0 is aligned to every order. */
function ctz(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/**
 * memmap_init: every present pfn an order-0 UNMOVABLE allocation, every pageblock MOVABLE, nothing free, cached or
 * isolated, an empty report batch.
 */
export function initMemory(s: ModelState): void {
  for (let p = 0; p < s.maxPfn; p++) {
    const present = s.zoneOf[p] !== -1;
    s.kind[p] = present ? ALLOCATED : NONE;
    s.order[p] = 0;
    s.mt[p] = UNMOVABLE;
    s.reported[p] = 0;
    s.cpuOf[p] = 0;
  }
  s.next.fill(NIL);
  s.prev.fill(NIL);
  s.pageblockMt.fill(MOVABLE);
  s.freeLists.clear();
  s.nrFree.fill(0);
  s.nrFreePages.fill(0);
  s.pcpLists.clear();
  s.pcpCount.fill(0);
  s.pcpFreeFactor.fill(0);
  s.offset = s.capacity;
  s.slotPfn = new Array<number>(s.capacity).fill(NIL);
  s.slotOrder = new Array<number>(s.capacity).fill(0);
  s.cycle = null;
  s.stats.inflightPages = 0;
}

/** Does [pfn, pfn + 2^order) of zone z cover a hole? */
function coversHole(s: ModelState, z: number, pfn: number, order: number): boolean {
  const end = pfn + (1 << order);
  return s.zones[z]!.holes.some(([a, b]) => a < end && pfn < b);
}

export class ReferenceAllocator implements Allocator {
  readonly config: GuestConfig;
  /** The whole state; every rule function of src/model takes it. */
  private readonly s: ModelState;

  constructor(config: GuestConfig) {
    this.config = config;
    this.s = new ModelState(config);
    initMemory(this.s);
  }

  // --- start states ---

  /** The pre-boot state again, counters included (importers rebuild a recorded state from here). */
  clearToAllocated(): void {
    const s = this.s;
    initMemory(s);
    for (const k of Object.keys(s.stats) as Array<keyof CoreCounters>) s.stats[k] = 0;
    s.pendingNotifications = 0;
  }

  /** Free every zone's managed pages in maximal aligned blocks, ascending, as memblock hands memory to the buddy. */
  boot(): void {
    const s = this.s;
    // Boot starts from the initial state; refuse anything else rather than free pages twice.
    for (let z = 0; z < s.nrZones; z++) {
      for (let p = s.zones[z]!.startPfn; p < s.reservedFrom[z]!; p++) {
        if (s.zoneOf[p] === z && (s.kind[p] !== ALLOCATED || s.order[p] !== 0)) {
          throw new SimError('BAD_STATE', `boot: pfn ${p} is not an order-0 allocation (it is ${describe(s, p)}); boot needs the initial all-allocated state`, { pfn: p });
        }
      }
    }
    for (let z = 0; z < s.nrZones; z++) {
      const limit = s.reservedFrom[z]!;
      let pfn = s.zones[z]!.startPfn;
      while (pfn < limit) {
        if (s.zoneOf[pfn] !== z) {
          pfn++;
          continue;
        }
        let order = Math.min(MAX_ORDER_INCLUSIVE, ctz(pfn));
        while (order > 0 && (pfn + (1 << order) > limit || coversHole(s, z, pfn, order))) order--;
        const size = 1 << order;
        for (let q = pfn; q < pfn + size; q++) s.kind[q] = NONE;
        freeOnePage(s, pfn, order, s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, z, s.profile.bootToTail, true);
        pfn += size;
      }
    }
  }

  // --- allocation and freeing ---

  alloc(order: number, mt: MigrateType, opts: AllocOptions = {}): number {
    this.checkOrder('alloc', order);
    if (!Number.isInteger(mt) || mt < 0 || mt > CMA) {
      throw new SimError('BAD_MIGRATETYPE', `alloc: migratetype ${mt} is not an allocation type (0..${CMA})`, { mt });
    }
    const highest = opts.highestZone ?? this.s.nrZones - 1;
    this.checkZone('alloc', highest);
    const cpu = opts.cpu ?? 0;
    this.checkCpu('alloc', cpu);
    return allocPages(this.s, order, mt, highest, cpu, !!opts.mayFail);
  }

  free(pfn: number, order: number, opts: FreeOptions = {}): FreeResult {
    const cpu = opts.cpu ?? 0;
    this.checkBlock('free', pfn, order);
    this.checkCpu('free', cpu);
    this.checkAllocatedHead('free', pfn, order);
    return freePages(this.s, pfn, order, this.s.zoneOf[pfn]!, opts, cpu);
  }

  /**
   * Lenient free for importers and trace replay: [pfn, pfn + 2^order) must be covered by allocated blocks lying
   * wholly inside it; all of them are released and the range is freed directly to the buddy as one block.
   */
  freeRange(pfn: number, order: number, opts: FreeRangeOptions = {}): FreeResult {
    const s = this.s;
    this.checkBlock('freeRange', pfn, order);
    const z = s.zoneOf[pfn]!;
    const end = pfn + (1 << order);
    for (let p = pfn; p < end; ) {
      if (s.zoneOf[p] === -1) throw new SimError('PFN_IN_HOLE', `freeRange: pfn ${p} inside [${pfn}, ${end}) is in a hole`, { pfn: p });
      if (s.zoneOf[p] !== z) {
        throw new SimError('NOT_ALLOCATED', `freeRange: [${pfn}, ${end}) crosses from zone ${z} into zone ${s.zoneOf[p]} at pfn ${p}`, { pfn: p });
      }
      if (s.kind[p] !== ALLOCATED) {
        throw new SimError('NOT_ALLOCATED', `freeRange: pfn ${p} inside [${pfn}, ${end}) is not allocated (it is ${describe(s, p)})`, { pfn: p });
      }
      const size = 1 << s.order[p]!;
      if (p + size > end) {
        throw new SimError('WRONG_ORDER', `freeRange: the allocated block at pfn ${p} (order ${s.order[p]}) reaches past [${pfn}, ${end}) of order ${order}`, { pfn: p, order });
      }
      p += size;
    }
    for (let p = pfn; p < end; p++) s.kind[p] = NONE;
    const [head, final] = freeOnePage(s, pfn, order, s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!, z, !!opts.toTail, !opts.skipNotify);
    return { to: 'buddy', pfn: head, order: final };
  }

  drainPcp(cpu?: number): void {
    if (cpu !== undefined) this.checkCpu('drainPcp', cpu);
    const cpus = cpu === undefined ? Array.from({ length: this.config.cpus }, (_, c) => c) : [cpu];
    for (const c of cpus) for (let z = 0; z < this.s.nrZones; z++) drainPagesZone(this.s, c, z);
  }

  // --- isolation and putback ---

  isolate(pfn: number, order: number): boolean {
    this.checkBlock('isolate', pfn, order);
    const z = this.s.zoneOf[pfn]!;
    if (!pageIsBuddy(this.s, pfn, order, z)) {
      throw new SimError('NOT_FREE', `isolate: pfn ${pfn} is not a free block of order ${order} (it is ${describe(this.s, pfn)})`, { pfn, order });
    }
    return isolateFreePage(this.s, pfn, order, z);
  }

  putback(pfn: number, order: number): FreeResult {
    const s = this.s;
    this.checkBlock('putback', pfn, order);
    if (s.kind[pfn] !== INFLIGHT) {
      throw new SimError('NOT_INFLIGHT', `putback: pfn ${pfn} is not isolated (it is ${describe(s, pfn)})`, { pfn, order });
    }
    if (s.order[pfn] !== order) {
      throw new SimError('WRONG_ORDER', `putback: pfn ${pfn} was isolated at order ${s.order[pfn]}, not ${order}`, { pfn, order });
    }
    const [head, final] = putbackIsolatedPage(s, pfn, order, s.zoneOf[pfn]!);
    return { to: 'buddy', pfn: head, order: final };
  }

  // --- pageblocks ---

  getPageblockMt(pfn: number): MigrateType {
    this.checkPfn('getPageblockMt', pfn);
    return this.s.pageblockMt[pfn >> PAGEBLOCK_ORDER]! as MigrateType;
  }

  setPageblockMt(pfn: number, mt: MigrateType): void {
    this.checkPfn('setPageblockMt', pfn);
    this.checkMt('setPageblockMt', mt);
    this.s.pageblockMt[pfn >> PAGEBLOCK_ORDER] = mt;
  }

  moveFreePagesBlock(pfn: number, mt: MigrateType): number {
    this.checkPfn('moveFreePagesBlock', pfn);
    this.checkMt('moveFreePagesBlock', mt);
    const z = zoneOfPfn(this.s, pfn);
    if (z < 0) throw new SimError('PFN_IN_HOLE', `moveFreePagesBlock: pfn ${pfn} lies in no zone`, { pfn });
    return moveFreePagesBlock(this.s, pfn, z, mt).moved;
  }

  // --- reporting: notification and the report cycle ---

  setReportingOrder(order: number): void {
    // 11 is MAX_ORDER, the module parameter's value before register: no free reaches it, so nothing notifies.
    if (!(Number.isInteger(order) && ((order >= 0 && order <= MAX_ORDER_INCLUSIVE + 1) || order === REPORTING_ORDER_OFF))) {
      throw new SimError('BAD_ORDER', `setReportingOrder: order ${order} is neither 0..${MAX_ORDER_INCLUSIVE + 1} nor ${REPORTING_ORDER_OFF} (off)`, { order });
    }
    this.s.reportingOrder = order;
  }

  takeNotifications(): number {
    const n = this.s.pendingNotifications;
    this.s.pendingNotifications = 0;
    return n;
  }

  reportBatchReset(capacity: number, budgetDivisor = 16): void {
    reportBatchReset(this.s, capacity, budgetDivisor);
  }

  reportCycleBegin(zone: number, order: number, mt: MigrateType): boolean {
    this.checkZone('reportCycleBegin', zone);
    this.checkOrder('reportCycleBegin', order);
    this.checkMt('reportCycleBegin', mt);
    return reportCycleBegin(this.s, zone, order, mt);
  }

  reportCycleStep(): CycleResult {
    return reportCycleStep(this.s);
  }

  reportBatchCount(): number {
    return reportBatchCount(this.s);
  }

  reportBatchEntries(): Array<[number, number]> {
    return reportBatchEntries(this.s);
  }

  reportDrain(reported: boolean): void {
    reportDrain(this.s, reported);
  }

  // --- read-outs ---

  buddyinfo(): number[][] {
    return this.s.zones.map((_, z) => Array.from(this.s.nrFree.subarray(z * NR_ORDERS, (z + 1) * NR_ORDERS)));
  }

  pagetypeinfo(): number[][][] {
    return this.s.zones.map((_, z) =>
      Array.from({ length: MIGRATE_TYPES }, (_, mt) =>
        Array.from({ length: NR_ORDERS }, (_, o) => this.s.freeLists.len[freeListIndex(z, o, mt)]!),
      ),
    );
  }

  freePages(zone: number): number {
    this.checkZone('freePages', zone);
    return this.s.nrFreePages[zone]!;
  }

  pcpPages(zone: number): number {
    this.checkZone('pcpPages', zone);
    let n = 0;
    for (let c = 0; c < this.config.cpus; c++) n += this.s.pcpCount[pcpSet(this.s, c, zone)]!;
    return n;
  }

  pfnState(pfn: number): PfnState {
    const s = this.s;
    this.checkPfn('pfnState', pfn);
    const zone = s.zoneOf[pfn]!;
    const pageblockMt = s.pageblockMt[pfn >> PAGEBLOCK_ORDER]!;
    if (zone === -1) {
      return { pfn, kind: 'hole', head: -1, order: 0, isHead: false, reported: false, zone: zoneOfPfn(s, pfn), pageblockMt, mt: -1, cpu: -1 };
    }
    const head = findHead(s, pfn);
    if (head === NIL) throw new InvariantError(`pfnState: present pfn ${pfn} lies in no block`);
    const k = s.kind[head]!;
    return {
      pfn,
      kind: KIND_NAMES[k]!,
      head,
      order: s.order[head]!,
      isHead: head === pfn,
      reported: k === FREE && s.reported[head] === 1,
      zone,
      pageblockMt,
      mt: k === FREE ? -1 : s.mt[head]!,
      cpu: k === PCP ? s.cpuOf[head]! : -1,
    };
  }

  freeList(zone: number, order: number, mt: MigrateType): number[] {
    this.checkZone('freeList', zone);
    this.checkOrder('freeList', order);
    this.checkMt('freeList', mt);
    return listToArray(this.s.freeLists, freeListIndex(zone, order, mt));
  }

  pcpList(cpu: number, zone: number, pindex: number): number[] {
    this.checkCpu('pcpList', cpu);
    this.checkZone('pcpList', zone);
    if (!Number.isInteger(pindex) || pindex < 0 || pindex >= NR_PCP_LISTS) {
      throw new SimError('BAD_ORDER', `pcpList: pindex ${pindex} is outside 0..${NR_PCP_LISTS - 1}`, { pindex });
    }
    return listToArray(this.s.pcpLists, pcpListIndex(this.s, cpu, zone, pindex));
  }

  counters(): CoreCounters {
    return { ...this.s.stats };
  }

  check(): void {
    checkInvariants(this.s);
  }

  // --- validation (throws before any state changes) ---

  private checkOrder(op: string, order: number): void {
    if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER_INCLUSIVE) {
      throw new SimError('BAD_ORDER', `${op}: order ${order} is outside 0..${MAX_ORDER_INCLUSIVE}`, { order });
    }
  }

  private checkPfn(op: string, pfn: number): void {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.s.maxPfn) {
      throw new SimError('PFN_OUT_OF_RANGE', `${op}: pfn ${pfn} is outside the guest [0, ${this.s.maxPfn})`, { pfn });
    }
  }

  /** The shape of the arguments first (order, range, alignment), then what lies there. */
  private checkBlock(op: string, pfn: number, order: number): void {
    this.checkOrder(op, order);
    this.checkPfn(op, pfn);
    if (pfn & ((1 << order) - 1)) {
      throw new SimError('MISALIGNED', `${op}: pfn ${pfn} is not aligned to order ${order} (${1 << order} pages)`, { pfn, order });
    }
    if (pfn + (1 << order) > this.s.maxPfn) {
      throw new SimError('PFN_OUT_OF_RANGE', `${op}: block [${pfn}, ${pfn + (1 << order)}) passes the guest end ${this.s.maxPfn}`, { pfn, order });
    }
    if (this.s.zoneOf[pfn] === -1) throw new SimError('PFN_IN_HOLE', `${op}: pfn ${pfn} is in a hole`, { pfn });
  }

  private checkAllocatedHead(op: string, pfn: number, order: number): void {
    const s = this.s;
    if (s.kind[pfn] !== ALLOCATED) {
      throw new SimError('NOT_ALLOCATED', `${op}: pfn ${pfn} is not the head of an allocated block (it is ${describe(s, pfn)})`, { pfn, order });
    }
    if (s.order[pfn] !== order) {
      throw new SimError('WRONG_ORDER', `${op}: pfn ${pfn} was allocated at order ${s.order[pfn]}, not ${order}`, { pfn, order, allocatedOrder: s.order[pfn] });
    }
  }

  private checkMt(op: string, mt: number): void {
    if (!Number.isInteger(mt) || mt < 0 || mt >= MIGRATE_TYPES) {
      throw new SimError('BAD_MIGRATETYPE', `${op}: migratetype ${mt} is outside 0..${MIGRATE_TYPES - 1}`, { mt });
    }
  }

  private checkZone(op: string, zone: number): void {
    if (!Number.isInteger(zone) || zone < 0 || zone >= this.s.nrZones) {
      throw new SimError('BAD_ZONE', `${op}: zone ${zone} is outside 0..${this.s.nrZones - 1}`, { zone });
    }
  }

  private checkCpu(op: string, cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.config.cpus) {
      throw new SimError('BAD_CPU', `${op}: cpu ${cpu} is outside 0..${this.config.cpus - 1}`, { cpu });
    }
  }
}
