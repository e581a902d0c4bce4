// A bulk free from a per-cpu list hands a run of buddies (blocks freed lowest first that fill an aligned block)
// back as that block at once (pcp.ts: buddyRunAtTail). That is what a process freeing in allocation order
// produces, so these sequences do it on purpose, with every reporting order (the placements the shortcut skips
// notify at or above it), several per-cpu block orders and budgets, and compare the wasm core with the reference
// model after every operation.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveGuest } from '../src/core/config.js';
import { WasmGuest } from '../src/core/guest.js';
import { ReferenceAllocator } from '../src/model/reference.js';
import { type Allocator, type MigrateType } from '../src/core/types.js';
import { comparableState } from './helpers/factories.js';

interface Round { order: number; n: number; mt: number; freeOrder: 'same' | 'reverse' | 'pairs'; drain: boolean; retype: number }

const roundArb: fc.Arbitrary<Round> = fc.record({
  order: fc.constantFrom(0, 0, 0, 1, 2, 3, 9), n: fc.integer({ min: 1, max: 300 }), mt: fc.constantFrom(0, 1, 1, 2),
  freeOrder: fc.constantFrom('same' as const, 'same' as const, 'reverse' as const, 'pairs' as const), drain: fc.boolean(),
  // -1: no; else the pageblock of the first freed page changes to this type halfway through the frees, so pages of one
  // run may sit on one per-cpu list with different recorded types (HIGHATOMIC and CMA pages go on the MOVABLE list)
  retype: fc.constantFrom(-1, -1, 0, 2, 3, 4),
});

describe('per-cpu bulk frees of buddy runs = one block at a time (wasm and reference model)', () => {
  for (const reportingOrder of [0, 1, 2, 5, 9, 255]) {
    it(`reporting order ${reportingOrder}`, () => {
      fc.assert(
        fc.property(
          fc.array(roundArb, { minLength: 1, maxLength: 6 }), fc.constantFrom(2, 7, 31, 63), fc.boolean(),
          (rounds, batch, highFactor) => {
            const cfg = resolveGuest({
              profile: 'linux-6.1', cpus: 2, pcp: true, thp: false,
              zones: [{ name: 'Normal', startPfn: 0, endPfn: 8192, managed: 8192, watermarks: { min: 0, low: 0, high: 0 }, pcpBatch: batch, pcpHigh: highFactor ? batch * 4 : batch + 1 }],
            });
            const impls: Allocator[] = [new WasmGuest(cfg), new ReferenceAllocator(cfg)];
            for (const a of impls) {
              a.setReportingOrder(reportingOrder);
              a.boot();
              a.takeNotifications();
            }
            const lives = impls.map(() => [] as number[]);
            for (const r of rounds) {
              impls.forEach((a, k) => {
                for (let i = 0; i < r.n; i++) {
                  const p = a.alloc(r.order, r.mt as MigrateType, { cpu: i % 5 === 4 ? 1 : 0 });
                  if (p >= 0) lives[k]!.push(p);
                }
              });
              expect(lives[0]).toEqual(lives[1]);
              const pfns = [...lives[0]!];
              const order = r.freeOrder === 'reverse' ? pfns.reverse()
                : r.freeOrder === 'pairs' ? pfns.map((_, i) => pfns[i ^ 1] ?? pfns[i]!) : pfns;
              const outcomes = impls.map((a, k) => {
                const notes: number[] = [];
                order.forEach((p, i) => {
                  if (r.retype >= 0 && i === order.length >> 1) a.setPageblockMt(order[0]!, r.retype as MigrateType);
                  a.free(p, r.order, { cpu: 0 });
                  notes.push(a.takeNotifications());
                });
                if (r.drain) a.drainPcp();
                notes.push(a.takeNotifications());
                lives[k]!.length = 0;
                return notes;
              });
              expect(outcomes[0]).toEqual(outcomes[1]);
              impls[0]!.check();
              expect(comparableState(impls[0]!)).toEqual(comparableState(impls[1]!));
            }
          },
        ),
        { numRuns: 25, seed: 20261124 },
      );
    });
  }
});

describe('a run whose blocks sit on one per-cpu list with different recorded types', () => {
  it('is not taken as one block: the last block freed decides the merged block\'s list, as one at a time', () => {
    const cfg = resolveGuest({
      profile: 'linux-6.1', cpus: 1, pcp: true, thp: false,
      zones: [{ name: 'Normal', startPfn: 0, endPfn: 4096, managed: 4096, watermarks: { min: 0, low: 0, high: 0 }, pcpBatch: 64, pcpHigh: 1000 }],
    });
    const impls: Allocator[] = [new WasmGuest(cfg), new ReferenceAllocator(cfg)];
    const states = impls.map((a) => {
      a.boot();
      const pfns = Array.from({ length: 64 }, () => a.alloc(0, 1));
      expect(pfns[0]! % 64).toBe(0); // one aligned run of 64 pages
      pfns.slice(0, 32).forEach((p) => a.free(p, 0));
      a.setPageblockMt(pfns[0]!, 3); // HIGHATOMIC: the next frees are recorded as such, on the MOVABLE list
      pfns.slice(32).forEach((p) => a.free(p, 0));
      expect(a.pcpList(0, 0, 1)).toHaveLength(64);
      a.drainPcp();
      a.check();
      return comparableState(a);
    });
    expect(states[0]).toEqual(states[1]);
  });
});
