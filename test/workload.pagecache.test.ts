// The page cache workload applies its ticks in batches through the wasm op buffer (planned as if every read
// succeeds, re-planned from the first that fails). It must leave the state the rule one page at a time leaves:
// drop the oldest page when at the limit, then read one in; a read that finds no memory leaves the cache a page
// short. Guests small enough that reads fail are the point.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmGuest } from '../src/core/guest.js';
import { resolveGuest } from '../src/core/config.js';
import { VirtualClock } from '../src/clock/clock.js';
import { PageCache } from '../src/workloads/pagecache.js';
import { MigrateType } from '../src/core/types.js';

function guest(pages: number): WasmGuest {
  return new WasmGuest(resolveGuest({
    profile: 'linux-6.1', cpus: 2, pcp: true, thp: false,
    zones: [{ name: 'Normal', startPfn: 0, endPfn: pages, managed: pages, watermarks: { min: 8, low: 16, high: 24 }, pcpBatch: 7, pcpHigh: 40 }],
  }));
}

/** The rule one page at a time, as the workload's text states it. */
function oneAtATime(g: WasmGuest, ticks: number, perTick: number, limit: number, cpu: number): number {
  const lru: number[] = [];
  let head = 0, ops = 0;
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < perTick; i++) {
      if (lru.length - head >= limit) {
        g.free(lru[head++]!, 0, { cpu });
        ops++;
      }
      const pfn = g.alloc(0, MigrateType.MOVABLE, { cpu });
      ops++;
      if (pfn >= 0) lru.push(pfn);
    }
  }
  return ops;
}

describe('page cache workload in batches', () => {
  it('equals the rule one page at a time, with reads that fail for want of memory', () => {
    fc.assert(
      fc.property(fc.integer({ min: 256, max: 4096 }), fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 0, max: 1 }),
        (pages, perTickPages, limit, cpu) => {
          const ticks = 12;
          const tickMs = 10;
          const a = guest(pages), b = guest(pages);
          a.boot();
          b.boot();
          const clock = new VirtualClock();
          // rateMiBps such that a 10 ms tick reads perTickPages pages
          const w = new PageCache({ kind: 'pagecache', startS: 0, durationS: (ticks * tickMs) / 1000, rateMiBps: (perTickPages * 4096 * 100) / 2 ** 20, limitMiB: (limit * 4096) / 2 ** 20, cpu, tickMs });
          w.start({ guest: a, clock, seed: 1 });
          clock.runUntil(ticks * tickMs);
          const ops = oneAtATime(b, ticks, perTickPages, limit, cpu);
          expect(w.pageOps).toBe(ops);
          expect(a.buddyinfo()).toEqual(b.buddyinfo());
          expect(a.allocatedPages()).toBe(b.allocatedPages());
          expect(a.counters().allocFailures).toBe(b.counters().allocFailures);
          for (let p = 0; p < pages; p++) expect(a.pfnState(p)).toEqual(b.pfnState(p));
          a.check();
        }),
      { numRuns: 40, seed: 20261125 },
    );
  });

  it('a read on a cpu the guest lacks throws the error a single call throws', () => {
    const g = guest(1024);
    g.boot();
    const clock = new VirtualClock();
    new PageCache({ kind: 'pagecache', startS: 0, durationS: 1, rateMiBps: 1, limitMiB: 1, cpu: 5, tickMs: 10 }).start({ guest: g, clock, seed: 1 });
    expect(() => clock.runUntil(20)).toThrow(/cpu 5/);
  });
});
