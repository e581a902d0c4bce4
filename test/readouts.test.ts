// Read-outs: pfnState for every kind of pfn, buddyinfo/pagetypeinfo agreeing with the lists, and
// clearToAllocated returning to the pre-boot state.
import { describe, it, expect } from 'vitest';
import { MigrateType, ALL_MIGRATE_TYPES } from '../src/core/types.js';
import { allocatorFactories, booted, freeBlockPages, smallGuest } from './helpers/factories.js';
import { WasmGuest } from '../src/core/guest.js';

const { UNMOVABLE, MOVABLE, RECLAIMABLE } = MigrateType;

describe.each(allocatorFactories)('read-outs ($name)', (f) => {
  it('pfnState names the block holding a pfn, whatever its kind', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, cpus: 2, pcpHigh: 100, pcpBatch: 4, holes: [[3000, 3010]] }));
    expect(a.pfnState(3005)).toMatchObject({ kind: 'hole', head: -1, mt: -1, cpu: -1, reported: false });
    expect(a.pfnState(1500)).toMatchObject({ kind: 'free', head: 1024, order: 10, isHead: false, mt: -1, pageblockMt: MOVABLE });

    // UNMOVABLE on cpu 1: the refill steals 0/10 and splits it; 1, 2, 3 wait on cpu 1's list.
    expect(a.alloc(0, UNMOVABLE, { cpu: 1 })).toBe(0);
    expect(a.pfnState(0)).toMatchObject({ kind: 'allocated', head: 0, order: 0, isHead: true, mt: UNMOVABLE, pageblockMt: UNMOVABLE, cpu: -1 });
    expect(a.pfnState(2)).toMatchObject({ kind: 'pcp', head: 2, order: 0, cpu: 1, mt: UNMOVABLE });
    expect(a.pfnState(6)).toMatchObject({ kind: 'free', head: 4, order: 2, isHead: false });

    // RECLAIMABLE steals the largest block left, 1024/10.
    const q = a.alloc(3, RECLAIMABLE, { cpu: 0 });
    expect(q).toBe(1024);
    expect(a.pfnState(q + 5)).toMatchObject({ kind: 'allocated', head: q, order: 3, isHead: false, mt: RECLAIMABLE });

    expect(a.isolate(3072, 10)).toBe(true);
    expect(a.pfnState(3999)).toMatchObject({ kind: 'inflight', head: 3072, order: 10, isHead: false });
    a.check();
  });

  it('buddyinfo and pagetypeinfo agree with the free lists and NR_FREE_PAGES', () => {
    const a = booted(f, smallGuest({ pages: 4096 }));
    a.alloc(3, MOVABLE);
    a.alloc(0, UNMOVABLE);
    a.alloc(5, RECLAIMABLE);
    const info = a.pagetypeinfo()[0]!;
    for (let o = 0; o <= 10; o++) {
      expect(info.reduce((n, perOrder) => n + perOrder[o]!, 0)).toBe(a.buddyinfo()[0]![o]);
      for (const mt of ALL_MIGRATE_TYPES) expect(info[mt]![o]).toBe(a.freeList(0, o, mt).length);
    }
    expect(freeBlockPages(a, 0)).toBe(a.freePages(0));
    a.check();
  });

  it('clearToAllocated returns every present pfn to an order-0 allocation; boot then works again', () => {
    const a = booted(f, smallGuest({ pages: 4096, holes: [[3000, 3010]] }));
    const fresh = a.buddyinfo();
    a.alloc(4, UNMOVABLE);
    a.isolate(1024, 10);
    a.setPageblockMt(2048, RECLAIMABLE);
    a.clearToAllocated();
    expect(a.buddyinfo()).toEqual([new Array(11).fill(0)]);
    expect(a.freePages(0)).toBe(0);
    expect(a.counters().inflightPages).toBe(0);
    expect(a.pfnState(1500)).toMatchObject({ kind: 'allocated', head: 1500, order: 0, mt: UNMOVABLE });
    expect(a.pfnState(3005).kind).toBe('hole');
    expect(a.getPageblockMt(2048)).toBe(MOVABLE);
    a.check();
    a.boot();
    expect(a.buddyinfo()).toEqual(fresh);
    a.check();
  });
});

describe('a sample of the counters (wasm)', () => {
  it('reads in one call what buddyinfo and the counters say, over two zones and with pages in flight', () => {
    const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: 256 * 2 ** 20, cpus: 2, thp: false }, { hostShift: 9, touchOnAlloc: true });
    g.boot();
    const live = [g.alloc(0, MOVABLE, { cpu: 1 }), g.alloc(3, UNMOVABLE), g.alloc(9, MOVABLE, { highestZone: 0 })];
    g.free(live[0]!, 0, { cpu: 1 });
    const head = g.freeList(1, 10, MOVABLE)[0]!;
    expect(g.isolate(head, 10)).toBe(true);
    g.discard(head, 1024);
    const s = g.sample();
    const bi = g.buddyinfo();
    const byOrder = Array.from({ length: 11 }, (_, o) => bi.reduce((n, z) => n + z[o]! * 2 ** o, 0));
    expect(s.freeByOrder).toEqual(byOrder);
    expect(s.freePages).toBe(byOrder.reduce((a, b) => a + b, 0));
    expect(s.inflightPages).toBe(1024);
    expect(s.allocatedPages).toBe(g.allocatedPages());
    expect(s.rssPages).toBe(g.hostCounters().rssPages);
    expect(s.refaults).toBe(g.hostCounters().refaults);
    expect(s.rssPages).toBeGreaterThan(0);
  });
});
