// The wasm core against the plain TypeScript reference model: random operation sequences on both, and the
// whole state compared after every step (buddyinfo, every free list in order, every per-cpu list, the state of
// every pfn, NR_FREE_PAGES, counters). Both also pass their own invariant checks.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveGuest } from '../src/core/config.js';
import { WasmGuest } from '../src/core/guest.js';
import { ReferenceAllocator } from '../src/model/reference.js';
import { SimError } from '../src/core/errors.js';
import { comparableState } from './helpers/factories.js';
import { type Allocator, type GuestConfig, type ProfileName, NR_ORDERS, CycleResult, type MigrateType } from '../src/core/types.js';

function guestConfig(profile: ProfileName, pcp: boolean, twoZones: boolean): GuestConfig {
  const zones = twoZones
    ? [
      { name: 'DMA32' as const, startPfn: 1, endPfn: 2048, holes: [[100, 130]] as Array<[number, number]>, managed: 1900, watermarks: { min: 16, low: 24, high: 32 }, pcpHigh: 6, pcpBatch: 2 },
      { name: 'Normal' as const, startPfn: 2048, endPfn: 6144, managed: 4000, watermarks: { min: 32, low: 48, high: 64 }, pcpHigh: 12, pcpBatch: 3 },
    ]
    : [{ name: 'Normal' as const, startPfn: 0, endPfn: 4096, managed: 4096, watermarks: { min: 8, low: 16, high: 24 } }];
  return resolveGuest({ profile, zones, cpus: 2, pcp, thp: false });
}

type Op =
  | { k: 'alloc'; order: number; mt: number; cpu: number; zone: number }
  | { k: 'free'; i: number; cpu: number; tail: boolean }
  | { k: 'isolate'; i: number }
  | { k: 'putback'; i: number }
  | { k: 'pbmt'; pfn: number; mt: number }
  | { k: 'move'; pfn: number; mt: number }
  | { k: 'drain'; cpu: number }
  | { k: 'cycle'; order: number; mt: number; ok: boolean; capacity: number }
  | { k: 'bad'; pfn: number; order: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('alloc' as const), order: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 9, 10), mt: fc.constantFrom(0, 1, 1, 2), cpu: fc.integer({ min: 0, max: 1 }), zone: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 7, arbitrary: fc.record({ k: fc.constant('free' as const), i: fc.nat(), cpu: fc.integer({ min: 0, max: 1 }), tail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('isolate' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('putback' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('pbmt' as const), pfn: fc.nat(6143), mt: fc.constantFrom(0, 1, 2, 3, 5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('move' as const), pfn: fc.nat(6143), mt: fc.constantFrom(0, 1, 2, 5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drain' as const), cpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cycle' as const), order: fc.constantFrom(0, 3, 9, 10), mt: fc.constantFrom(0, 1, 2), ok: fc.boolean(), capacity: fc.constantFrom(1, 2, 4, 32) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bad' as const), pfn: fc.nat(7000), order: fc.integer({ min: 0, max: 12 }) }) },
);

/** Apply one op to an allocator; the outcome (value or error code) must match between implementations. */
function apply(a: Allocator, op: Op, live: Array<[number, number]>, inflight: Array<[number, number]>): string {
  try {
    switch (op.k) {
      case 'alloc': {
        const highestZone = Math.min(op.zone, a.config.zones.length - 1);
        const pfn = a.alloc(op.order, op.mt as MigrateType, { cpu: op.cpu, highestZone });
        if (pfn >= 0) live.push([pfn, op.order]);
        return `alloc ${pfn}`;
      }
      case 'free': {
        if (!live.length) return 'none';
        const j = op.i % live.length;
        const [pfn, order] = live[j]!;
        const r = a.free(pfn, order, { cpu: op.cpu, toTail: op.tail && op.i % 2 === 0, skipNotify: op.i % 7 === 0, direct: op.i % 3 === 0 });
        live.splice(j, 1);
        return `free ${r.to} ${r.order}`;
      }
      case 'isolate': {
        // isolate some free head: the head of the first non-empty list after i
        const z = op.i % a.config.zones.length;
        for (let o = 0; o < NR_ORDERS; o++) {
          const l = a.freeList(z, (o + op.i) % NR_ORDERS, 1);
          if (l.length) {
            const order = (o + op.i) % NR_ORDERS;
            const ok = a.isolate(l[0]!, order);
            if (ok) inflight.push([l[0]!, order]);
            return `isolate ${ok}`;
          }
        }
        return 'none';
      }
      case 'putback': {
        if (!inflight.length) return 'none';
        const [pfn, order] = inflight.splice(op.i % inflight.length, 1)[0]!;
        return `putback ${a.putback(pfn, order).order}`;
      }
      case 'pbmt':
        if (op.pfn >= a.config.maxPfn) return 'none';
        a.setPageblockMt(op.pfn, op.mt as MigrateType);
        return 'pbmt';
      case 'move':
        if (op.pfn >= a.config.maxPfn || a.pfnState(op.pfn).kind === 'hole') return 'none';
        return `move ${a.moveFreePagesBlock(op.pfn, op.mt as MigrateType)}`;
      case 'drain':
        a.drainPcp(op.cpu);
        return 'drain';
      case 'cycle': {
        // One zone's worth of a reporting pass over one list, with the device answering `ok`.
        const out: string[] = [];
        a.reportBatchReset(op.capacity);
        const z = a.config.zones.length - 1;
        if (a.reportCycleBegin(z, op.order, op.mt as MigrateType)) {
          for (;;) {
            const r = a.reportCycleStep();
            out.push(String(r));
            if (r !== CycleResult.REPORT) break;
            out.push(JSON.stringify(a.reportBatchEntries()));
            a.reportDrain(op.ok);
            if (!op.ok) break;
          }
        }
        if (a.reportBatchCount() > 0) {
          out.push(JSON.stringify(a.reportBatchEntries()));
          a.reportDrain(op.ok);
        }
        return `cycle ${out.join(',')}`;
      }
      case 'bad':
        a.free(op.pfn, op.order);
        return 'bad-free-accepted';
    }
  } catch (e) {
    if (e instanceof SimError) return `error ${e.code}`;
    throw e;
  }
}

describe('wasm core = reference model', () => {
  for (const profile of ['linux-6.1', 'linux-5.7', 'linux-next'] as ProfileName[]) {
    for (const [pcp, twoZones] of [[false, false], [true, false], [true, true]] as Array<[boolean, boolean]>) {
      it(`${profile}, pcp ${pcp}, ${twoZones ? 'two zones with a hole' : 'one zone'}: same state after every step`, () => {
        fc.assert(
          fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), fc.boolean(), (ops, boot) => {
            const cfg = guestConfig(profile, pcp, twoZones);
            const w = new WasmGuest(cfg);
            const r = new ReferenceAllocator(cfg);
            w.setReportingOrder(3);
            r.setReportingOrder(3);
            if (boot) { w.boot(); r.boot(); }
            expect(comparableState(w)).toEqual(comparableState(r));
            const lw: Array<[number, number]> = [], lr: Array<[number, number]> = [];
            const iw: Array<[number, number]> = [], ir: Array<[number, number]> = [];
            for (const op of ops) {
              const ow = apply(w, op, lw, iw);
              const or = apply(r, op, lr, ir);
              expect(ow, JSON.stringify(op)).toBe(or);
              expect(w.takeNotifications()).toBe(r.takeNotifications());
              w.check();
              r.check();
              expect(comparableState(w)).toEqual(comparableState(r));
            }
          }),
          { numRuns: 40, seed: 20261122 },
        );
      });
    }
  }
});

describe('wasm core = reference model: per-cpu traffic mixed with direct frees', () => {
  // Random sequences above rarely leave a lower buddy free while its upper half waits on a per-cpu list; this
  // property builds that situation on purpose (a stale per-cpu head once survived such a merge in wasm).
  for (const profile of ['linux-6.1', 'linux-5.7'] as ProfileName[]) {
    it(`${profile}: order-0 pages freed to pcp lists or directly, in random order, then drained`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 4, max: 64 }),
          fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.integer({ min: 0, max: 1 })), { minLength: 4, maxLength: 64 }),
          (n, frees) => {
            const cfg = resolveGuest({ profile, cpus: 2, pcp: true, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: 4096, managed: 4096, watermarks: { min: 0, low: 0, high: 0 }, pcpHigh: 8, pcpBatch: 2 }] });
            const impls: Allocator[] = [new WasmGuest(cfg), new ReferenceAllocator(cfg)];
            const outcomes = impls.map((a) => {
              a.boot();
              const live: number[] = [];
              for (let i = 0; i < n; i++) live.push(a.alloc(0, 1, { cpu: i & 1 }));
              const log: string[] = [];
              for (const [k, direct, cpu] of frees) {
                if (!live.length) break;
                const pfn = live.splice(k % live.length, 1)[0]!;
                log.push(a.free(pfn, 0, { cpu, direct }).to);
                a.check();
              }
              a.drainPcp();
              a.check();
              return { log, snap: comparableState(a) };
            });
            expect(outcomes[0]).toEqual(outcomes[1]);
          },
        ),
        { numRuns: 150, seed: 7 },
      );
    });
  }
});
