// Property tests on the reference model alone: random operation sequences (alloc, free, freeRange, isolate,
// putback, per-cpu drains, pageblock retypes, moves, whole reporting passes with allocations while a report is
// out, bad input) keep every invariant after every step, conserve pages, and leave the state untouched
// whenever an operation is refused.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveGuest } from '../src/core/config.js';
import { SimError } from '../src/core/errors.js';
import { type GuestConfig, type ProfileName, CycleResult, MIGRATE_TYPES, MigrateType, NR_ORDERS } from '../src/core/types.js';
import { ReferenceAllocator } from '../src/model/reference.js';

const { ISOLATE } = MigrateType;

function oneZone(profile: ProfileName, pcp: boolean): GuestConfig {
  return resolveGuest({
    profile, cpus: 2, pcp, thp: false,
    zones: [{ name: 'Normal', startPfn: 0, endPfn: 4096, managed: 4096, watermarks: { min: 8, low: 16, high: 24 }, lowmemReserve: [0], pcpHigh: 16, pcpBatch: 4 }],
  });
}

function twoZones(profile: ProfileName, pcp: boolean): GuestConfig {
  return resolveGuest({
    profile, cpus: 2, pcp, thp: false,
    zones: [
      { name: 'DMA32', startPfn: 1, endPfn: 2048, holes: [[100, 130], [1500, 1501]], managed: 1996, watermarks: { min: 16, low: 24, high: 32 }, lowmemReserve: [0, 64], pcpHigh: 12, pcpBatch: 2 },
      { name: 'Normal', startPfn: 2048, endPfn: 6144, managed: 4000, watermarks: { min: 32, low: 48, high: 64 }, lowmemReserve: [0, 0], pcpHigh: 40, pcpBatch: 7 },
    ],
  });
}

type Op =
  | { k: 'alloc'; order: number; mt: number; cpu: number; zone: number }
  | { k: 'free'; i: number; cpu: number; direct: boolean; toTail: boolean; skipNotify: boolean }
  | { k: 'freeRange'; i: number; up: number }
  | { k: 'isolate'; zone: number; order: number; mt: number; i: number }
  | { k: 'putback'; i: number }
  | { k: 'drain'; cpu: number }
  | { k: 'pbmt'; pfn: number; mt: number }
  | { k: 'move'; pfn: number; mt: number }
  | { k: 'pass'; zone: number; order: number; capacity: number; ok: boolean; during: number[] }
  | { k: 'rorder'; order: number }
  | { k: 'bad'; pfn: number; order: number; what: number };

const orderArb = fc.constantFrom(0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 8, 9, 10);

function opArb(maxPfn: number, withRetype: boolean): fc.Arbitrary<Op> {
  const ops: Array<{ weight: number; arbitrary: fc.Arbitrary<Op> }> = [
    { weight: 10, arbitrary: fc.record({ k: fc.constant('alloc' as const), order: orderArb, mt: fc.integer({ min: 0, max: 4 }), cpu: fc.integer({ min: 0, max: 1 }), zone: fc.integer({ min: 0, max: 1 }) }) },
    { weight: 8, arbitrary: fc.record({ k: fc.constant('free' as const), i: fc.nat(), cpu: fc.integer({ min: 0, max: 1 }), direct: fc.boolean(), toTail: fc.boolean(), skipNotify: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('freeRange' as const), i: fc.nat(), up: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('isolate' as const), zone: fc.integer({ min: 0, max: 1 }), order: orderArb, mt: fc.integer({ min: 0, max: 5 }), i: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('putback' as const), i: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('drain' as const), cpu: fc.integer({ min: -1, max: 1 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('move' as const), pfn: fc.nat(maxPfn - 1), mt: fc.integer({ min: 0, max: withRetype ? 5 : 2 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('pass' as const), zone: fc.integer({ min: 0, max: 1 }), order: fc.constantFrom(0, 2, 5, 9, 10), capacity: fc.constantFrom(1, 2, 4, 32), ok: fc.boolean(), during: fc.array(fc.nat(), { maxLength: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('rorder' as const), order: fc.constantFrom(0, 3, 9, 10, 255) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('bad' as const), pfn: fc.integer({ min: -2, max: maxPfn + 2 }), order: fc.integer({ min: -1, max: 12 }), what: fc.integer({ min: 0, max: 3 }) }) },
  ];
  if (withRetype) ops.push({ weight: 2, arbitrary: fc.record({ k: fc.constant('pbmt' as const), pfn: fc.nat(maxPfn - 1), mt: fc.integer({ min: 0, max: 6 }) }) });
  return fc.oneof(...ops);
}

/** Drives one allocator, tracking what the test itself allocated and isolated. */
class Driver {
  readonly live: Array<[number, number]> = [];
  readonly inflight: Array<[number, number]> = [];
  readonly present: number;
  /** Allocated pages the test did not allocate itself: the reserved pages, until something frees them. */
  reserved: number;

  constructor(readonly a: ReferenceAllocator) {
    this.present = a.config.zones.reduce((n, z) => n + z.present, 0);
    this.reserved = a.config.zones.reduce((n, z) => n + z.present - z.managed, 0);
  }

  /** Pages of free blocks on every list of every zone (ISOLATE lists included). */
  freeBlockPages(): number {
    return this.a.buddyinfo().reduce((n, zone) => n + zone.reduce((m, blocks, o) => m + blocks * (1 << o), 0), 0);
  }

  checkAll(): void {
    const a = this.a;
    a.check();
    const livePages = this.live.reduce((n, [, o]) => n + (1 << o), 0);
    const pcp = a.config.zones.reduce((n, _, z) => n + a.pcpPages(z), 0);
    expect(this.freeBlockPages() + pcp + a.counters().inflightPages + livePages + this.reserved).toBe(this.present);
    expect(a.takeNotifications()).toBeGreaterThanOrEqual(0);
  }

  /** A refused call must throw a SimError and leave buddyinfo, free pages and the lists as they were. */
  refused(fn: () => unknown): void {
    const a = this.a;
    const before = JSON.stringify([a.buddyinfo(), a.pagetypeinfo(), a.config.zones.map((_, z) => [a.freePages(z), a.pcpPages(z)]), a.counters()]);
    expect(fn).toThrow(SimError);
    expect(JSON.stringify([a.buddyinfo(), a.pagetypeinfo(), a.config.zones.map((_, z) => [a.freePages(z), a.pcpPages(z)]), a.counters()])).toBe(before);
  }

  smallOp(n: number): void {
    // Allocations and frees while a report is out (the zone lock is dropped); never touches in-flight pages.
    if (n % 2 === 0 || this.live.length === 0) {
      const p = this.a.alloc(n % 3, (n % 3) as MigrateType, { cpu: n % 2 });
      if (p >= 0) this.live.push([p, n % 3]);
    } else {
      const [p, o] = this.live.splice(n % this.live.length, 1)[0]!;
      this.a.free(p, o, { cpu: n % 2 });
    }
  }

  apply(op: Op): void {
    const a = this.a;
    const zones = a.config.zones.length;
    switch (op.k) {
      case 'alloc': {
        const p = a.alloc(op.order, op.mt as MigrateType, { cpu: op.cpu, highestZone: op.zone % zones });
        if (p >= 0) {
          expect(a.pfnState(p)).toMatchObject({ kind: 'allocated', head: p, order: op.order, mt: op.mt });
          this.live.push([p, op.order]);
        }
        return;
      }
      case 'free': {
        if (!this.live.length) return;
        const [p, o] = this.live.splice(op.i % this.live.length, 1)[0]!;
        const r = a.free(p, o, { cpu: op.cpu, direct: op.direct, toTail: op.toTail, skipNotify: op.skipNotify });
        expect(r.order).toBeGreaterThanOrEqual(o);
        return;
      }
      case 'freeRange': {
        if (!this.live.length) return;
        const [p, o] = this.live[op.i % this.live.length]!;
        const order = Math.min(10, o + op.up);
        const start = p & ~((1 << order) - 1);
        const inside = (q: number): boolean => q >= start && q < start + (1 << order);
        const livePages = this.live.filter(([q]) => inside(q)).reduce((n, [, lo]) => n + (1 << lo), 0);
        try {
          expect(a.freeRange(start, order).order).toBeGreaterThanOrEqual(order);
        } catch (e) {
          if (!(e instanceof SimError)) throw e;
          this.refused(() => a.freeRange(start, order));
          return;
        }
        for (let j = this.live.length - 1; j >= 0; j--) if (inside(this.live[j]![0])) this.live.splice(j, 1);
        // Whatever else the range held was allocated without the test: reserved pages.
        this.reserved -= (1 << order) - livePages;
        return;
      }
      case 'isolate': {
        const list = a.freeList(op.zone % zones, op.order, op.mt as MigrateType);
        if (!list.length) return;
        const p = list[op.i % list.length]!;
        if (a.isolate(p, op.order)) this.inflight.push([p, op.order]);
        return;
      }
      case 'putback': {
        if (!this.inflight.length) return;
        const [p, o] = this.inflight.splice(op.i % this.inflight.length, 1)[0]!;
        a.putback(p, o);
        return;
      }
      case 'drain':
        a.drainPcp(op.cpu < 0 ? undefined : op.cpu);
        return;
      case 'pbmt':
        if (op.mt >= MIGRATE_TYPES) this.refused(() => a.setPageblockMt(op.pfn, op.mt as MigrateType));
        else a.setPageblockMt(op.pfn, op.mt as MigrateType);
        return;
      case 'move': {
        let moved: number;
        try {
          moved = a.moveFreePagesBlock(op.pfn, op.mt as MigrateType);
        } catch (e) {
          if (!(e instanceof SimError)) throw e;
          return; // a pfn in no zone
        }
        expect(moved).toBeGreaterThanOrEqual(0);
        return;
      }
      case 'rorder':
        a.setReportingOrder(op.order);
        return;
      case 'pass':
        this.pass(op);
        return;
      case 'bad':
        this.bad(op);
        return;
    }
  }

  /** One zone of a reporting pass, as the worker runs it. */
  private pass(op: Extract<Op, { k: 'pass' }>): void {
    const a = this.a;
    const z = op.zone % a.config.zones.length;
    a.reportBatchReset(op.capacity);
    let during = 0;
    let failed = false;
    for (let o = op.order; o < NR_ORDERS && !failed; o++) {
      for (let mt = 0; mt < MIGRATE_TYPES && !failed; mt++) {
        if (mt === ISOLATE || !a.reportCycleBegin(z, o, mt as MigrateType)) continue;
        for (;;) {
          const r = a.reportCycleStep();
          a.check();
          if (r !== CycleResult.REPORT) break;
          const entries = a.reportBatchEntries();
          expect(entries).toHaveLength(op.capacity);
          for (const [p, eo] of entries) expect(a.pfnState(p)).toMatchObject({ kind: 'inflight', head: p, order: eo });
          for (const n of op.during) if (during++ < 8) this.smallOp(n);
          a.reportDrain(op.ok);
          this.expectMarks(entries, op.ok);
          if (!op.ok) {
            failed = true;
            break;
          }
        }
      }
    }
    const left = a.reportBatchEntries();
    a.reportDrain(op.ok);
    this.expectMarks(left, op.ok);
    expect(a.reportBatchCount()).toBe(0);
  }

  /** After a drain every entry is free; it is Reported exactly when the report succeeded and it did not merge. */
  private expectMarks(entries: Array<[number, number]>, ok: boolean): void {
    for (const [p, o] of entries) {
      const s = this.a.pfnState(p);
      expect(s.kind).toBe('free');
      expect(s.reported).toBe(ok && s.head === p && s.order === o);
    }
  }

  private bad(op: Extract<Op, { k: 'bad' }>): void {
    const a = this.a;
    const call = [
      () => a.free(op.pfn, op.order),
      () => a.isolate(op.pfn, op.order),
      () => a.putback(op.pfn, op.order),
      () => a.alloc(op.order, op.pfn as MigrateType, { cpu: 0 }),
    ][op.what]!;
    const livePos = this.live.findIndex(([p, o]) => p === op.pfn && o === op.order);
    const flightPos = this.inflight.findIndex(([p, o]) => p === op.pfn && o === op.order);
    try {
      const r = call();
      // Accepted: the call was legitimate after all; keep the bookkeeping straight.
      if (op.what === 0 && livePos >= 0) this.live.splice(livePos, 1);
      else if (op.what === 0) this.reserved -= 1 << op.order;
      if (op.what === 1 && r === true) this.inflight.push([op.pfn, op.order]);
      if (op.what === 2) this.inflight.splice(flightPos, 1);
      if (op.what === 3 && typeof r === 'number' && r >= 0) this.live.push([r, op.order]);
      if (op.what === 2) expect(flightPos).toBeGreaterThanOrEqual(0);
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      this.refused(call);
    }
  }
}

/** No two free blocks of one order are buddies in one zone (nothing here ever stops a merge). */
function expectFullyMerged(a: ReferenceAllocator): void {
  a.config.zones.forEach((_, z) => {
    for (let o = 0; o < 10; o++) {
      const heads = new Set<number>();
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) for (const p of a.freeList(z, o, mt as MigrateType)) heads.add(p);
      for (const p of heads) expect(heads.has(p ^ (1 << o)), `free buddies ${p} and ${p ^ (1 << o)} at order ${o}`).toBe(false);
    }
  });
}

const CONFIGS: Array<[string, () => GuestConfig]> = [];
for (const profile of ['linux-6.1', 'linux-5.7', 'linux-next'] as ProfileName[]) {
  CONFIGS.push([`${profile}, one zone, pcp`, () => oneZone(profile, true)]);
  CONFIGS.push([`${profile}, two zones with holes and reserved pages, pcp`, () => twoZones(profile, true)]);
}
CONFIGS.push(['linux-6.1, one zone, no pcp', () => oneZone('linux-6.1', false)]);

describe('reference model properties', () => {
  it.each(CONFIGS)('%s: invariants hold after every step, pages are conserved, refusals change nothing', (_, cfg) => {
    const maxPfn = cfg().maxPfn;
    fc.assert(
      fc.property(fc.array(opArb(maxPfn, true), { minLength: 1, maxLength: 150 }), (ops) => {
        const d = new Driver(new ReferenceAllocator(cfg()));
        d.a.setReportingOrder(3);
        d.a.boot();
        d.checkAll();
        for (const op of ops) {
          d.apply(op);
          d.checkAll();
        }
      }),
      { numRuns: 120 },
    );
  });

  it.each(CONFIGS)('%s: without pageblock retypes nothing stops a merge; returning everything restores boot', (_, cfg) => {
    const maxPfn = cfg().maxPfn;
    const fresh = new ReferenceAllocator(cfg());
    fresh.boot();
    fc.assert(
      fc.property(fc.array(opArb(maxPfn, false), { minLength: 1, maxLength: 150 }), (ops) => {
        const d = new Driver(new ReferenceAllocator(cfg()));
        d.a.boot();
        for (const op of ops) {
          d.apply(op);
          d.checkAll();
          expectFullyMerged(d.a);
        }
        for (const [p, o] of d.inflight.splice(0)) d.a.putback(p, o);
        for (const [p, o] of d.live.splice(0)) d.a.free(p, o);
        d.a.drainPcp();
        d.checkAll();
        if (d.reserved === fresh.config.zones.reduce((n, z) => n + z.present - z.managed, 0)) {
          expect(d.a.buddyinfo()).toEqual(fresh.buddyinfo());
          const zones = d.a.config.zones.map((_, z) => z);
          expect(zones.map((z) => d.a.freePages(z))).toEqual(zones.map((z) => fresh.freePages(z)));
        }
      }),
      { numRuns: 80 },
    );
  });
});
