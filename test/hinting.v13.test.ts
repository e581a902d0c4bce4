// Free page hinting v13 (src/hinting/hinting.ts): walk_free_mem_block hands out free blocks without isolating
// them; the host discards them (overcommit) or skips them (live migration).
import { describe, expect, it } from 'vitest';
import { MOVABLE, at, expectConserved, pageAccount, rig, runUntil, smallGuest, zonedGuest } from './helpers/reporting.js';
import { FreePageHinting } from '../src/hinting/hinting.js';
import { Simulation } from '../src/sim/engine.js';
import type { WasmGuest } from '../src/core/guest.js';

const NIL = 0xffffffff;
const HAZARD = 0xfffffffe;

/** Take the free order-10 block at `pfn` and give back one half: `free` (a pfn of it) stays a free order-9 block. */
function keepHalfFree(g: WasmGuest, pfn: number, free: number): void {
  g.allocExact(pfn, 10, MOVABLE);
  g.reshapeAllocated(pfn, 10, 9, MOVABLE);
  g.free(free, 9);
}
const PAGES_32 = 32 * 1024 + 256;

describe('walk_free_mem_block', () => {
  it('hands out every free block of order >= minOrder: zones ascending, orders 10 down, migratetypes 0..5, list order', () => {
    const g = zonedGuest([
      { name: 'DMA32', startPfn: 0, endPfn: 4096 + 512 + 256 },
      { name: 'Normal', startPfn: 8192, endPfn: 8192 + 2048 },
    ]);
    // Move DMA32's block 1024 to the UNMOVABLE list: it comes first at order 10.
    g.setPageblockMt(1024, 0);
    g.setPageblockMt(1536, 0);
    g.moveFreePagesBlock(1024, 0);
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', minOrder: 8 });
    const before = { lists: g.pagetypeinfo(), free: [g.freePages(0), g.freePages(1)], acct: pageAccount(g) };
    const out = h.walk();
    expect(out).toEqual([
      [1024, 10], [0, 10], [2048, 10], [3072, 10], [4096, 9], [4608, 8],
      [8192, 10], [9216, 10],
    ]);
    // Nothing isolated, nothing moved.
    expect(g.pagetypeinfo()).toEqual(before.lists);
    expect([g.freePages(0), g.freePages(1)]).toEqual(before.free);
    expect(pageAccount(g)).toEqual(before.acct);
    expect(h.metrics).toMatchObject({ walks: 1, blocksHinted: 8, pagesHinted: 6 * 1024 + 512 + 256, duplicateHints: 0, cursorRestarts: 0 });
    // minOrder 10: only the order-10 blocks.
    const h10 = new FreePageHinting(g, r.clock, { use: 'migration', minOrder: 10 });
    expect(h10.walk().map(([, o]) => o)).toEqual([10, 10, 10, 10, 10, 10]);
  });

  it('hintNext follows v13: the successor; the head for a free block of another order; a hazard for any other page; NIL at the end', () => {
    const g = smallGuest({ pages: 4 * 1024 });
    expect(g.hintNext(0, 10, MOVABLE, -1)).toBe(0);
    expect(g.hintNext(0, 10, MOVABLE, 0)).toBe(1024);
    expect(g.hintNext(0, 10, MOVABLE, 3072)).toBe(NIL);
    expect(g.hintNext(0, 9, MOVABLE, -1)).toBe(NIL);
    // The cursor's block (2048) was split and its lower half is a free order-9 block: back to the head.
    keepHalfFree(g, 2048, 2048);
    expect(g.pfnState(2048)).toMatchObject({ kind: 'free', isHead: true, order: 9 });
    expect(g.hintNext(0, 10, MOVABLE, 2048)).toBe(0);
    // The cursor's block is allocated: v13 would follow its stale link.
    g.allocExact(1024, 10, MOVABLE);
    expect(g.hintNext(0, 10, MOVABLE, 1024)).toBe(HAZARD);
    // A free block of the same order moved to another migratetype's list: its link leads into that list.
    g.setPageblockMt(3072, 0);
    g.setPageblockMt(3584, 0);
    g.moveFreePagesBlock(3072, 0);
    expect(g.hintNext(0, 10, MOVABLE, 3072)).toBe(HAZARD);
    // An empty list ends the walk whatever the cursor.
    expect(g.hintNext(0, 8, MOVABLE, 1024)).toBe(NIL);
  });
});

describe('walk_free_mem_block when the block under the cursor leaves its list', () => {
  /** Eight order-10 blocks on the MOVABLE list, 0 to 7168 in order; hand out the first two. */
  function walkedTwo() {
    const g = smallGuest({ pages: 8 * 1024 });
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', minOrder: 10 });
    const steps = h.walkSteps();
    expect([steps.next().value, steps.next().value]).toEqual([[0, 10], [1024, 10]]);
    const rest = () => [...steps];
    return { g, h, rest };
  }

  it('still a free block, of another order: the walk restarts at the list head and goes on, handing blocks out again', () => {
    const { g, h, rest } = walkedTwo();
    keepHalfFree(g, 1024, 1024); // 1024 stays free, now of order 9
    expect(rest()).toEqual([0, 2048, 3072, 4096, 5120, 6144, 7168].map((p) => [p, 10]));
    expect(h.metrics).toMatchObject({ cursorRestarts: 1, duplicateHints: 1, staleCursorHazards: 0, blocksHinted: 9 });
  });

  it('allocated: v13 would follow a stale link; counted as a hazard and the list is left', () => {
    const { g, h, rest } = walkedTwo();
    g.allocExact(1024, 10, MOVABLE);
    expect(rest()).toEqual([]);
    expect(h.metrics).toMatchObject({ staleCursorHazards: 1, cursorRestarts: 0, duplicateHints: 0, blocksHinted: 2 });
  });

  it('merged into a larger block (the cursor was its upper half): a hazard too', () => {
    const g = smallGuest({ pages: 4 * 1024 });
    const r = rig(g);
    // Hold 0 and 2560 so 512 and 2048 are free order-9 blocks (2048, freed last, first on the list). The walk
    // hands out 512 last; then 0 comes back and absorbs 512 into an order-10 block at 0. The order-9 list is not
    // empty (2048), so v13 reads the cursor page: no longer a free block.
    keepHalfFree(g, 0, 512);
    keepHalfFree(g, 2048, 2048);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', minOrder: 9 });
    const steps = h.walkSteps();
    const seen: Array<[number, number]> = [];
    for (const hint of steps) {
      seen.push(hint);
      if (hint[0] === 512) g.free(0, 9);
    }
    expect(seen).toEqual([[1024, 10], [3072, 10], [2048, 9], [512, 9]]);
    expect(g.pfnState(512)).toMatchObject({ kind: 'free', head: 0, isHead: false });
    expect(h.metrics.staleCursorHazards).toBe(1);
  });

  it('moved to another migratetype\'s list: a hazard (v13 would walk on into that list and off its end)', () => {
    const { g, h, rest } = walkedTwo();
    g.setPageblockMt(1024, 0);
    g.setPageblockMt(1536, 0);
    g.moveFreePagesBlock(1024, 0);
    expect(rest()).toEqual([]);
    expect(h.metrics.staleCursorHazards).toBe(1);
  });
});

describe('hinting used for discard (overcommit)', () => {
  function discardRig(opts: { pcp?: boolean; hostShift?: number; minOrder?: number; hostPages?: number } = {}) {
    const g = smallGuest({ pages: PAGES_32, hostShift: opts.hostShift ?? 0, touchOnAlloc: true, pcp: opts.pcp ?? false });
    g.touch(0, PAGES_32);
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'discard', hostDelayMs: 50, minOrder: opts.minOrder ?? 9, hostPages: opts.hostPages });
    return { ...r, h };
  }

  it('nothing reused before the host acts: every hinted page is discarded and nothing is lost', () => {
    const { g, clock, rep, h } = discardRig();
    at({ g, clock, rep }, 1000, () => h.walk());
    runUntil({ g, clock, rep }, 1049);
    expect(h.metrics.pagesDiscarded).toBe(0); // the host acts 50 ms after the hint
    runUntil({ g, clock, rep }, 1050);
    expect(h.metrics).toMatchObject({ blocksHinted: 32, pagesHinted: 32768, pagesDiscarded: 32768, lostDataEvents: 0, lostDataPages: 0 });
    expect(g.hostRssPages()).toBe(256);
  });

  it('a block reused before the host acts: lost data, and a later allocation of a discarded block is a refault', () => {
    const { g, clock, rep, h } = discardRig();
    let victim = -1;
    at({ g, clock, rep }, 1000, () => h.walk());
    at({ g, clock, rep }, 1020, () => (victim = g.alloc(10, MOVABLE)));
    runUntil({ g, clock, rep }, 2000);
    expect(h.metrics.lostDataEvents).toBe(1);
    expect(h.metrics.lostDataPages).toBe(1024);
    expect(g.pfnState(victim).kind).toBe('allocated');
    expect(g.hostResident(victim)).toBe(false);
    const next = g.alloc(10, MOVABLE);
    expect(g.hostCounters().refaultPages).toBe(1024);
    expect(g.hostResident(next)).toBe(true);
  });

  it('a block reused and freed again before the host acts loses nothing', () => {
    const { g, clock, rep, h } = discardRig();
    at({ g, clock, rep }, 1000, () => h.walk());
    at({ g, clock, rep }, 1020, () => {
      const p = g.alloc(10, MOVABLE);
      g.free(p, 10);
    });
    runUntil({ g, clock, rep }, 2000);
    expect(h.metrics.lostDataEvents).toBe(0);
  });

  it('only pages in use count as lost: a hinted half sitting on a per-cpu list holds no data', () => {
    // 6.1 per-cpu lists take order 9: an order-9 allocation refills two order-9 blocks (both halves of the
    // first order-10 block) and hands out one; the other half waits on the per-cpu list.
    const { g, clock, rep, h } = discardRig({ pcp: true });
    let p = -1;
    at({ g, clock, rep }, 1000, () => h.walk());
    at({ g, clock, rep }, 1020, () => {
      p = g.alloc(9, MOVABLE);
    });
    runUntil({ g, clock, rep }, 2000);
    expect(p).toBe(0);
    expect(g.pfnState(512).kind).toBe('pcp');
    expect(h.metrics.lostDataEvents).toBe(1);
    expect(h.metrics.lostDataPages).toBe(512);
  });

  it('with 2 MiB host pages, hinted blocks smaller than a host page are not discarded', () => {
    const { g, clock, rep, h } = discardRig({ hostShift: 9, minOrder: 8, hostPages: 512 });
    at({ g, clock, rep }, 1000, () => h.walk());
    runUntil({ g, clock, rep }, 2000);
    expect(h.metrics.blocksHinted).toBe(33);
    expect(h.metrics.pagesDiscarded).toBe(32768);
    expect(g.hostResident(32768)).toBe(true);
  });
});

describe('hinting used for live migration', () => {
  it('hinted pages still free at the end are skipped; pages reused after their hint are dirtied and sent', () => {
    const g = smallGuest({ pages: 32768, hostShift: 0, touchOnAlloc: true });
    g.touch(0, 32768);
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', migrationMs: 1000, minOrder: 9 });
    at(r, 1000, () => h.walk());
    at(r, 1500, () => {
      g.alloc(10, MOVABLE);
      g.alloc(0, MOVABLE); // splits a second hinted block: 1 page in use
    });
    runUntil(r, 1999);
    expect(h.metrics.pagesSkipped).toBe(0);
    runUntil(r, 2000);
    expect(h.metrics.pagesDirtiedAfterHint).toBe(1024 + 1);
    expect(h.metrics.pagesSkipped).toBe(32768 - 1025);
    expect(h.metrics.pagesSkipped + h.metrics.pagesDirtiedAfterHint).toBe(h.metrics.pagesHinted);
    // Migration discards nothing and loses nothing.
    expect(h.metrics).toMatchObject({ pagesDiscarded: 0, lostDataEvents: 0 });
    expect(g.hostRssPages()).toBe(32768);
  });
});

describe('periodic walks', () => {
  it('start() walks every interval from one interval on; stop() ends it', () => {
    const g = smallGuest({ pages: 4 * 1024 });
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', intervalMs: 500 });
    h.start();
    runUntil(r, 499);
    expect(h.metrics.walks).toBe(0);
    runUntil(r, 2001); // walks start at 500, 1000, 1500, 2000; each hint takes 10 us of simulated time
    expect(h.metrics.walks).toBe(4);
    h.stop();
    runUntil(r, 10000);
    expect(h.metrics.walks).toBe(4);
    expect(h.metrics.blocksHinted).toBe(16);
    expectConserved(g);
  });

  it('in the engine, a hinting guest reports hint metrics and the hinted pages in its samples', async () => {
    const sim = new Simulation({
      durationS: 5, sampleMs: 500,
      guests: [{
        guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: PAGES_32, managed: PAGES_32, watermarks: { min: 16, low: 32, high: 48 } }] },
        policy: { kind: 'hinting', use: 'discard', intervalMs: 2000 }, host: { backing: '4k' },
        workloads: [{ kind: 'memhog', startS: 0, mib: 16, holdS: 0.2, rateMiBps: 1000, freeRateMiBps: 1000 }],
      }],
    });
    await sim.run();
    const res = sim.result();
    const m = res.guests[0]!.metrics;
    expect(m.hinting!.walks).toBe(2);
    expect(m.hinting!.pagesHinted).toBeGreaterThan(0);
    expect(m.hinting!.lostDataEvents).toBe(0);
    expect(m.reporting.reportCalls).toBe(0);
    expect(res.guests[0]!.policy).toBe('hinting');
    const s = sim.samples[0]!;
    expect(s[s.length - 1]!.pagesReported).toBe(m.hinting!.pagesHinted); // the samples carry pages hinted
    expect(m.host.rssKib).toBeLessThan(16 * 1024);
  });
});

describe('hinting: the guest runs between two hints', () => {
  function periodic() {
    const g = smallGuest({ pages: 8 * 1024 });
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'migration', intervalMs: 100, stepMs: 1, minOrder: 10 });
    h.start();
    return { g, r, h };
  }

  it('a block taken under the cursor between two steps is a hazard, and the walk goes on with the next list', () => {
    const { g, r, h } = periodic();
    // The walk starts at 100 and hands out one order-10 block a millisecond; at 100.5 the guest takes the block
    // the cursor sits on.
    r.clock.schedule(100.5, () => g.allocExact(g.freeList(0, 10, 1)[0]!, 10, 1));
    runUntil(r, 150);
    h.stop();
    expect(h.metrics).toMatchObject({ walks: 1, blocksHinted: 1, staleCursorHazards: 1, cursorRestarts: 0 });
  });

  it('a block split under the cursor, its lower half still free: the walk restarts at the head and hands out the rest', () => {
    const { g, r, h } = periodic();
    r.clock.schedule(101.5, () => keepHalfFree(g, 1024, 1024));
    runUntil(r, 150);
    h.stop();
    // 0 and 1024, then from the head: 0 again, 2048 .. 7168.
    expect(h.metrics).toMatchObject({ walks: 1, blocksHinted: 9, duplicateHints: 1, cursorRestarts: 1, staleCursorHazards: 0 });
    expectConserved(g);
  });
});
