// One scenario per item of section 9 of ../shared/docs/kernel-semantics.md ("Known behaviours worth a scenario
// each"). Every expected value is worked out by hand from the rules (sections 3 to 8), not read back from a run.
import { describe, expect, it } from 'vitest';
import {
  MOVABLE, RecordingDevice, at, expectConserved, listWithFlags, range, rig, runUntil, smallGuest, zonedGuest,
} from './helpers/reporting.js';
import { FailingDevice, NullDevice, SlowDevice, VirtioBalloonDevice } from '../src/host/devices.js';
import { QemuHost } from '../src/host/qemu.js';
import { FreePageHinting } from '../src/hinting/hinting.js';
import { Mulberry32 } from '../src/clock/rng.js';
import type { ProfileName } from '../src/core/types.js';

/** 24 order-10 blocks [0, 24576) and one order-8 block at 24576 (so the last order-10 isolation still passes). */
const PAGES_24 = 24 * 1024 + 256;
/** 32 order-10 blocks [0, 32768) and a spare order-8 block at 32768. */
const PAGES_32 = 32 * 1024 + 256;

describe('9.0 list order after boot and after reporting passes', () => {
  it('6.1: boot frees go to the tails in ascending pfn order; a pass puts its batch back at the tail (reversed)', () => {
    const r = rig(smallGuest({ profile: 'linux-6.1', pages: PAGES_24 }));
    const boot = range(0, 24576, 1024);
    expect(r.g.freeList(0, 10, MOVABLE)).toEqual(boot);
    expect(r.g.freeList(0, 8, MOVABLE)).toEqual([24576]);
    const dev = new RecordingDevice(r.clock);
    expect(r.rep.register(dev)).toBe(0);
    runUntil(r, 2000);
    // One pass: the 24 blocks are isolated head first; 24 < 32, so they go out in the leftover flush. The
    // scatterlist fills from the end, so entry 0 is the block isolated last.
    expect(dev.batches).toEqual([boot.slice().reverse().map((p) => [p, 10])]);
    // The drain puts the entries back in scatterlist order, each at the tail: the list is now descending.
    expect(listWithFlags(r.g, 10)).toEqual(boot.slice().reverse().map((p) => [p, true]));
    expect(listWithFlags(r.g, 8)).toEqual([[24576, false]]);
  });

  it('5.7: boot frees follow the likely rule (order 10 goes to the head), so the list is descending; a pass keeps it', () => {
    const r = rig(smallGuest({ profile: 'linux-5.7', pages: PAGES_24 }));
    const desc = range(23552, -1, -1024);
    expect(r.g.freeList(0, 10, MOVABLE)).toEqual(desc);
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(dev.batches).toEqual([desc.slice().reverse().map((p) => [p, 10])]);
    // Putback by the likely rule (false at order 10: head), in scatterlist order: 0 first ... 23552 last at head.
    expect(listWithFlags(r.g, 10)).toEqual(desc.map((p) => [p, true]));
  });

  it.each(['linux-5.7', 'linux-6.1'] as ProfileName[])('%s: blocks that merge to order >= 9 go to the head, so the next pass meets the newest merges first', (profile) => {
    const r = rig(smallGuest({ profile, pages: PAGES_24 }));
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    const afterPass1 = r.g.freeList(0, 10, MOVABLE);
    const [first, second] = afterPass1 as [number, number];
    at(r, 3000, () => {
      // Split the first two order-10 blocks into allocated order-9 halves (the second half of the first block
      // is taken by the second allocation), then free the halves so each pair merges back to order 10.
      expect(r.g.alloc(9, MOVABLE)).toBe(first);
      expect(r.g.alloc(9, MOVABLE)).toBe(first + 512);
      expect(r.g.alloc(9, MOVABLE)).toBe(second);
      // The expand half of `second` is free at order 9 and never Reported.
      expect(listWithFlags(r.g, 9)).toEqual([[second + 512, false]]);
      r.g.free(first, 9);
      expect(r.g.free(first + 512, 9)).toMatchObject({ to: 'buddy', order: 10, pfn: first });
      expect(r.g.free(second, 9)).toMatchObject({ to: 'buddy', order: 10, pfn: second });
      // Newest merge first, then the older one, then the reported blocks.
      expect(r.g.freeList(0, 10, MOVABLE).slice(0, 2)).toEqual([second, first]);
    });
    runUntil(r, 5000);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000, 5000]);
    // Pass 2 isolated `second` first: it is the LAST scatterlist entry.
    expect(dev.batches[1]).toEqual([[first, 10], [second, 10]]);
    expect(listWithFlags(r.g, 10).every(([, rep]) => rep)).toBe(true);
    expectConserved(r.g);
  });
});

describe('9.1 5.7 head placement on putback: reported blocks are reused first and refault', () => {
  // 32 order-10 blocks, all resident on a 4 KiB-backed host. min = low = 15360 pages: the gate passes (32768 >
  // 15360 + 32 * 512) and isolation stops after 16 blocks (the 17th would leave 16384 <= min + 1024).
  function run(profile: ProfileName) {
    const g = smallGuest({ profile, pages: 32768, watermarks: { min: 15360, low: 15360, high: 15360 }, hostShift: 0, touchOnAlloc: true });
    g.touch(0, 32768);
    const host = new QemuHost(g, { backing: '4k' });
    const r = rig(g);
    r.rep.register(new VirtioBalloonDevice(host));
    runUntil(r, 3000);
    expect(r.rep.passLog.length).toBe(1);
    expect(r.rep.metrics.pagesReported).toBe(16 * 1024);
    expect(g.counters().isolateFailures).toBe(1);
    expect(g.hostRssPages()).toBe(32768 - 16384);
    const before = g.hostCounters().refaultPages;
    const got: number[] = [];
    for (let i = 0; i < 16; i++) got.push(g.alloc(10, MOVABLE));
    return { got, refaultPages: g.hostCounters().refaultPages - before, rss: g.hostRssPages(), host };
  }

  it('5.7: the 16 reported (discarded) blocks sit at the head and the next 16 allocations refault all of them', () => {
    const { got, refaultPages, rss, host } = run('linux-5.7');
    // Boot list descending; 31744..16384 isolated; the drain puts 16384 first at the head ... 31744 last.
    expect(got).toEqual(range(31744, 16383, -1024));
    expect(refaultPages).toBe(16384);
    expect(host.refaults().refaultPages).toBe(16384);
    expect(rss).toBe(32768);
  });

  it('6.1: the reported blocks go to the tail; the same allocations take resident blocks and nothing refaults', () => {
    const { got, refaultPages, rss } = run('linux-6.1');
    // Boot list ascending; 0..15360 isolated; 16384 (isolation failed) rotated first; the batch goes to the tail.
    expect(got).toEqual(range(16384, 32768, 1024));
    expect(refaultPages).toBe(0);
    expect(rss).toBe(16384);
  });
});

describe('9.2 small guests: isolated pages push the zone under its watermark while a report is outstanding', () => {
  // 32 order-10 blocks, min 256 / low 512. A pass isolates 31 blocks (the 32nd would leave 1024 <= 256 + 1024)
  // and reports them in the leftover flush. While that report is outstanding, only 1024 pages are free.
  function run(device: 'slow' | 'instant') {
    const r = rig(smallGuest({ pages: 32768, watermarks: { min: 256, low: 512, high: 768 } }));
    r.rep.register(device === 'slow' ? new SlowDevice(100) : new NullDevice());
    const seen: Record<string, number> = {};
    at(r, 2050, () => {
      seen['free'] = r.g.freePages(0);
      seen['inflight'] = r.g.counters().inflightPages;
      seen['alloc'] = r.g.alloc(10, MOVABLE);
    });
    at(r, 2150, () => {
      seen['allocAfter'] = r.g.alloc(10, MOVABLE);
    });
    runUntil(r, 3000);
    return { r, seen };
  }

  it('an order-10 allocation fails during a 100 ms report and succeeds after it', () => {
    const { r, seen } = run('slow');
    expect(seen['inflight']).toBe(31 * 1024);
    expect(seen['free']).toBe(1024);
    expect(seen['alloc']).toBe(-1);
    expect(seen['allocAfter']).toBeGreaterThanOrEqual(0);
    const c = r.g.counters();
    expect(c.allocFailures).toBe(1);
    expect(c.allocFailuresInFlight).toBe(1);
    // Up to capacity blocks of the order are in flight at once.
    expect(c.inflightPeak).toBe(31 * 1024);
    expect(c.inflightPeak).toBeLessThanOrEqual(32 << 10);
    expect(c.inflightPages).toBe(0);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2100, blocks: 31 });
  });

  it('with a device that answers at once nothing is in flight at that moment and the allocation succeeds', () => {
    const { r, seen } = run('instant');
    expect(seen['inflight']).toBe(0);
    expect(seen['alloc']).toBeGreaterThanOrEqual(0);
    expect(r.g.counters().allocFailures).toBe(0);
  });
});

describe('9.3 merged pages lose Reported and are reported again; expand halves are never Reported', () => {
  it('a split of a reported block leaves an unreported half; the merge back is unreported and reported again', () => {
    const r = rig(smallGuest({ pages: PAGES_32 }));
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(r.rep.metrics.pagesReported).toBe(32 * 1024);
    expect(r.rep.metrics.pagesReportedAgain).toBe(0);
    const head = r.g.freeList(0, 10, MOVABLE)[0]!;
    expect(r.g.pfnState(head).reported).toBe(true);
    at(r, 3000, () => {
      expect(r.g.alloc(9, MOVABLE)).toBe(head);
      // The upper half went to the head of the order-9 list as a new Buddy without Reported.
      expect(r.g.pfnState(head + 512)).toMatchObject({ kind: 'free', isHead: true, order: 9, reported: false });
      expect(r.g.freeList(0, 9, MOVABLE)[0]).toBe(head + 512);
      r.g.free(head, 9);
      expect(r.g.pfnState(head)).toMatchObject({ kind: 'free', order: 10, reported: false });
    });
    runUntil(r, 6000);
    expect(dev.batches[1]).toEqual([[head, 10]]);
    expect(r.rep.metrics.pagesReportedAgain).toBe(1024);
    expect(r.rep.metrics.pagesReported).toBe(33 * 1024);
    expect(r.g.pfnState(head).reported).toBe(true);
  });

  it('a block that merges on its putback is not marked Reported and is reported again in the next pass', () => {
    const r = rig(smallGuest({ pages: PAGES_32 }));
    const dev = new RecordingDevice(r.clock, 0, undefined, undefined, 100);
    r.rep.register(dev);
    runUntil(r, 2100);
    const head = r.g.freeList(0, 10, MOVABLE)[0]!;
    const a = head, b = head + 512;
    at(r, 3000, () => {
      expect(r.g.alloc(9, MOVABLE)).toBe(a);
      expect(r.g.alloc(9, MOVABLE)).toBe(b);
      r.g.free(b, 9); // its buddy a is allocated: b stays at order 9 and notifies
    });
    // Pass 2 at 5000 isolates b alone and reports it for 100 ms; meanwhile a is freed next to the in-flight b.
    at(r, 5050, () => {
      expect(r.g.pfnState(b).kind).toBe('inflight');
      expect(r.g.free(a, 9)).toMatchObject({ to: 'buddy', order: 9, pfn: a });
    });
    runUntil(r, 5100);
    expect(dev.batches[1]).toEqual([[b, 9]]);
    // The report succeeded, but b merged with a on its way back: the order-10 block is not Reported.
    expect(r.g.pfnState(a)).toMatchObject({ kind: 'free', isHead: true, order: 10, reported: false });
    expect(r.rep.state).toBe('REQUESTED'); // a's free asked for another pass
    runUntil(r, 8000);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000, 5000, 7100]);
    expect(dev.batches[2]).toEqual([[a, 10]]);
    expect(r.g.pfnState(a).reported).toBe(true);
    // b's 512 pages were reported in pass 1 (as part of head) and pass 2; the whole block in pass 1.
    expect(r.rep.metrics.pagesReportedAgain).toBe(512 + 1024);
  });
});

describe('9.4 a failed zone gate or isolation requests no retry', () => {
  it('zone gate: the pass skips the zone, goes IDLE, schedules nothing; the next qualifying free starts a pass', () => {
    // low 8192: the gate needs free > 8192 + 32 * 512 = 24576. With 8 of 32 blocks allocated, free is 24576.
    const r = rig(smallGuest({ pages: 32768, watermarks: { min: 4096, low: 8192, high: 12288 } }));
    const held = range(0, 8).map(() => r.g.alloc(10, MOVABLE));
    expect(r.g.freePages(0)).toBe(24576);
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 30000);
    expect(r.rep.metrics.passes).toBe(1);
    expect(r.rep.metrics.zoneGateSkips).toBe(1);
    expect(dev.batches).toEqual([]);
    expect(r.rep.state).toBe('IDLE');
    expect(r.rep.busy()).toBe(false);
    expect(r.clock.pending()).toBe(0);
    // A free that stays below the reporting order does not notify either (its buddy is allocated).
    at(r, 30000, () => {
      const p = r.g.alloc(3, MOVABLE);
      expect(r.g.alloc(3, MOVABLE)).toBe(p + 8);
      expect(r.g.free(p, 3).order).toBe(3);
    });
    runUntil(r, 40000);
    expect(r.rep.metrics.passes).toBe(1);
    at(r, 40000, () => r.g.free(held[0]!, 10));
    runUntil(r, 42000);
    expect(r.rep.metrics.passes).toBe(2);
    expect(r.rep.passLog[1]!.start).toBe(42000);
    expect(r.rep.metrics.zoneGateSkips).toBe(1);
    expect(r.rep.metrics.pagesReported).toBeGreaterThan(0);
  });

  it('isolation failure: the rest of the list stays unreported and no pass follows until a qualifying free', () => {
    const r = rig(smallGuest({ pages: 32768, watermarks: { min: 15360, low: 15360, high: 15360 } }));
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 30000);
    expect(r.rep.metrics.passes).toBe(1);
    expect(r.rep.metrics.isolationFailures).toBe(1);
    expect(r.rep.metrics.pagesReported).toBe(16384);
    expect(r.rep.state).toBe('IDLE');
    expect(r.clock.pending()).toBe(0);
    at(r, 30000, () => {
      const p = r.g.alloc(10, MOVABLE);
      expect(p).toBe(16384); // the block whose isolation failed was rotated to the front
      r.g.free(p, 10);
    });
    runUntil(r, 40000);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000, 32000]);
    // Pass 2 takes the 16 unreported blocks (the putback of pass 1 restored the free pages).
    expect(r.rep.metrics.pagesReported).toBe(32768);
    expect(listWithFlags(r.g, 10).every(([, rep]) => rep)).toBe(true);
  });
});

describe('9.5 a device error ends the pass for all remaining zones', () => {
  const zones = () => zonedGuest([
    { name: 'DMA32', startPfn: 0, endPfn: PAGES_32 },
    { name: 'Normal', startPfn: 33792, endPfn: 33792 + PAGES_32 },
  ]);

  it('an error on the first zone leaves the second untouched; nothing is retried', () => {
    const r = rig(zones());
    const normalBefore = r.g.freeList(1, 10, MOVABLE);
    const inner = new RecordingDevice(r.clock);
    const dev = new FailingDevice(1, inner);
    r.rep.register(dev);
    runUntil(r, 30000);
    expect(dev.calls).toBe(1);
    expect(r.rep.metrics).toMatchObject({ passes: 1, reportCalls: 1, reportErrors: 1, pagesReported: 0 });
    expect(r.rep.reports.map((x) => [x.zone, x.status])).toEqual([[0, -5]]);
    // Zone 0 drained unreported; zone 1 never walked (list order as after boot, nothing Reported).
    expect(listWithFlags(r.g, 10, MOVABLE, 0).some(([, rep]) => rep)).toBe(false);
    expect(r.g.freeList(1, 10, MOVABLE)).toEqual(normalBefore);
    expect(listWithFlags(r.g, 10, MOVABLE, 1).some(([, rep]) => rep)).toBe(false);
    expect(r.rep.state).toBe('IDLE');
    expect(r.clock.pending()).toBe(0);
    expect(r.g.counters().inflightPages).toBe(0);
    expectConserved(r.g);
  });

  it('an error in the middle of a zone ends the zone and the pass; a working device reports both zones', () => {
    const ok = rig(zones());
    ok.rep.register(new NullDevice());
    runUntil(ok, 3000);
    expect(ok.rep.reports.map((x) => x.zone)).toEqual([0, 1]);
    expect(ok.rep.metrics.pagesReported).toBe(2 * 32 * 1024);

    // Zone 0 with 64 order-10 blocks needs two calls; the first fails in the middle of the list.
    const g = zonedGuest([
      { name: 'DMA32', startPfn: 0, endPfn: 65536 + 256 },
      { name: 'Normal', startPfn: 66560, endPfn: 66560 + PAGES_32 },
    ]);
    const r = rig(g);
    r.rep.register(new FailingDevice(1));
    runUntil(r, 3000);
    expect(r.rep.reports.map((x) => [x.zone, x.entries.length, x.status])).toEqual([[0, 32, -5]]);
  });
});

describe('9.6 6.1 register() overwrites a user-set reporting order', () => {
  it.each([
    ['linux-6.1', undefined, 9],
    ['linux-6.1', 5, 5],
    ['linux-next', undefined, 3],
    ['linux-next', 5, 3],
  ] as Array<[ProfileName, number | undefined, number]>)('%s, device order %s, user order 3 -> %i', (profile, devOrder, want) => {
    const r = rig(smallGuest({ profile }), { order: 3 });
    expect(r.rep.register(new RecordingDevice(null, 0, devOrder))).toBe(0);
    expect(r.rep.order).toBe(want);
  });

  it('6.1: only a write after register (setOrder, as E3 does through sysfs) takes effect', () => {
    function run(setAfter: boolean) {
      const r = rig(smallGuest({ pages: PAGES_32 }), { order: 3 });
      const dev = new RecordingDevice(r.clock);
      r.rep.register(dev);
      if (setAfter) r.rep.setOrder(3);
      runUntil(r, 2000);
      at(r, 3000, () => {
        // The spare order-8 block splits: a at order 3, its buddy allocated, halves of orders 4..7 left free.
        const a = r.g.alloc(3, MOVABLE);
        expect(a).toBe(32768);
        expect(r.g.alloc(3, MOVABLE)).toBe(32776);
        r.g.free(a, 3);
      });
      runUntil(r, 8000);
      return { r, dev };
    }
    const lost = run(false);
    expect(lost.r.rep.order).toBe(9);
    expect(lost.r.rep.metrics.passes).toBe(1); // an order-3 free does not notify at order 9
    expect(lost.r.rep.metrics.reportedByOrder.slice(0, 9)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);

    const set = run(true);
    expect(set.r.rep.order).toBe(3);
    expect(set.r.rep.metrics.passes).toBe(2);
    const pass2 = set.r.rep.reports.filter((x) => x.pass === 1).flatMap((x) => x.entries);
    expect(pass2.sort((x, y) => x[1] - y[1])).toEqual([
      [32768, 3], [32784, 4], [32800, 5], [32832, 6], [32896, 7],
    ]);
    expect(set.r.rep.metrics.reportedByOrder.slice(3, 8)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('9.7 a reporting order of 0 makes every free eligible: far more report calls for the same memory', () => {
  // The same workload twice: every page allocated at order 0, then freed in a shuffled order, 2048 pages every
  // 250 ms; reporting at order 9 (linux-next's pageblock default) and at order 0 (a device asking for 0).
  function run(order: number) {
    const pages = 65536;
    const r = rig(smallGuest({ profile: 'linux-next', pages, watermarks: { min: 16, low: 32, high: 48 } }));
    const held: number[] = [];
    for (;;) {
      const p = r.g.alloc(0, MOVABLE);
      if (p < 0) break;
      held.push(p);
    }
    const rng = new Mulberry32(7);
    for (let i = held.length - 1; i > 0; i--) {
      const j = rng.next() % (i + 1);
      [held[i], held[j]] = [held[j]!, held[i]!];
    }
    r.rep.register(new RecordingDevice(r.clock, 0, order));
    expect(r.rep.order).toBe(order);
    for (let k = 0; k * 2048 < held.length; k++) {
      at(r, 1000 + 250 * k, () => {
        for (const p of held.slice(k * 2048, (k + 1) * 2048)) r.g.free(p, 0);
      });
    }
    runUntil(r, 120000);
    expect(r.rep.busy()).toBe(false);
    return { m: r.rep.metrics, held: held.length, g: r.g };
  }

  it('order 0 reports the memory in far more calls (and re-reports merged pages) than order 9', () => {
    const nine = run(9);
    const zero = run(0);
    expect(zero.held).toBe(nine.held);
    // At the end both have reported every free page of their order range.
    expect(nine.m.pagesReported).toBeGreaterThan(0);
    expect(zero.m.reportCalls).toBeGreaterThan(10 * nine.m.reportCalls);
    expect(zero.m.reportCalls / zero.m.pagesReported).toBeGreaterThan(5 * (nine.m.reportCalls / nine.m.pagesReported));
    expect(zero.m.reportedByOrder[0]).toBeGreaterThan(0);
    expect(nine.m.reportedByOrder.slice(0, 9).every((n) => n === 0)).toBe(true);
    expect(zero.m.pagesReportedAgain).toBeGreaterThan(nine.m.pagesReportedAgain);
  });
});

describe('9.8 hinting used for discard loses data when a hinted block is reused before the host acts', () => {
  it('a block allocated between its hint and the discard is counted as lost data (and really loses its backing)', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0, touchOnAlloc: true });
    g.touch(0, PAGES_32);
    const r = rig(g);
    const h = new FreePageHinting(g, r.clock, { use: 'discard', hostDelayMs: 50, minOrder: 9 });
    let hinted: Array<[number, number]> = [];
    let victim = -1;
    at(r, 1000, () => {
      hinted = h.walk();
    });
    at(r, 1010, () => {
      victim = g.alloc(10, MOVABLE);
    });
    runUntil(r, 2000);
    expect(hinted.length).toBe(32);
    expect(hinted.map(([p]) => p)).toContain(victim);
    expect(h.metrics.lostDataEvents).toBe(1);
    expect(h.metrics.lostDataPages).toBe(1024);
    // The host dropped the pages the guest is using now.
    expect(g.pfnState(victim).kind).toBe('allocated');
    expect(g.hostResident(victim)).toBe(false);
    expect(h.metrics.pagesDiscarded).toBe(32 * 1024);
  });

  it('page reporting isolates what it reports: the same allocation gets another block and nothing is lost', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0, touchOnAlloc: true });
    g.touch(0, PAGES_32);
    const host = new QemuHost(g, { backing: '4k' });
    const r = rig(g);
    const discardedWhileUsed: number[] = [];
    const balloon = new VirtioBalloonDevice(host);
    const origDiscard = g.discard.bind(g);
    g.discard = (pfn: number, n: number) => {
      if (g.pfnState(pfn).kind !== 'inflight') discardedWhileUsed.push(pfn);
      return origDiscard(pfn, n);
    };
    r.rep.register(new SlowDevice(50, balloon));
    let got = -1;
    at(r, 2010, () => {
      // Every order-10 block is in flight: only the spare order-8 block can serve an allocation.
      got = g.alloc(0, MOVABLE);
    });
    runUntil(r, 3000);
    expect(discardedWhileUsed).toEqual([]);
    expect(got).toBeGreaterThanOrEqual(32768);
    expect(g.hostResident(got)).toBe(true);
  });
});
