// Time: report() runs with the zone lock dropped, for as long as the device model says, while the guest keeps
// allocating and freeing. The walk must cope with lists changed under it.
import { describe, expect, it } from 'vitest';
import {
  MOVABLE, RecordingDevice, at, expectConserved, listWithFlags, range, rig, runUntil, smallGuest,
} from './helpers/reporting.js';
import { SlowDevice } from '../src/host/devices.js';

describe('a free next to an in-flight block', () => {
  it('does not merge with it; the putback merges afterwards and the merged block is not Reported', () => {
    // Reporting order 9 (6.1 default). Block a = [0, 512) is free at order 9 with its buddy b allocated.
    const r = rig(smallGuest({ pages: 32 * 1024 + 256 }));
    const a = r.g.alloc(9, MOVABLE);
    const b = r.g.alloc(9, MOVABLE);
    expect([a, b]).toEqual([0, 512]);
    r.g.free(a, 9);
    const dev = new RecordingDevice(r.clock, 0, undefined, undefined, 200);
    r.rep.register(dev);
    const during: unknown[] = [];
    at(r, 2100, () => {
      // The pass isolated a (order 9) and the 31 order-10 blocks 1024..31744: one batch, reported for 200 ms.
      during.push(r.g.pfnState(a).kind);
      const res = r.g.free(b, 9);
      during.push(res);
      during.push(r.g.pfnState(b));
      r.g.check();
    });
    runUntil(r, 2199);
    expect(during[0]).toBe('inflight');
    // b stays an order-9 block of its own: its buddy is not a Buddy while isolated.
    expect(during[1]).toEqual({ to: 'buddy', order: 9, pfn: b });
    expect(during[2]).toMatchObject({ kind: 'free', isHead: true, order: 9, reported: false });
    runUntil(r, 2200);
    // The drain put a back: it merged with b into [0, 1024) at order 10, which is not marked Reported.
    expect(dev.batches[0]).toContainEqual([a, 9]);
    expect(r.g.pfnState(0)).toMatchObject({ kind: 'free', isHead: true, order: 10, reported: false });
    expect(r.rep.state).toBe('REQUESTED'); // b's free notified during the pass
    runUntil(r, 5000);
    expect(dev.batches[dev.batches.length - 1]).toEqual([[0, 10]]);
    expect(r.g.pfnState(0).reported).toBe(true);
    expectConserved(r.g);
  });
});

describe('a list changed under the cycle', () => {
  // 48 order-10 blocks (+ a spare order-8 block). Block 0 is allocated before the pass, so the list is
  // 1024..48128 (47 blocks, budget 1). The first batch is 1024..32768; block 33792 is met with a full batch,
  // rotated to the front, and the report runs for 100 ms.
  function setup() {
    const r = rig(smallGuest({ pages: 48 * 1024 + 256 }));
    const y = r.g.alloc(10, MOVABLE);
    expect(y).toBe(0);
    const dev = new RecordingDevice(r.clock, 0, undefined, undefined, 100);
    r.rep.register(dev);
    return { r, y, dev };
  }

  it('allocations take the rotated head; a block freed meanwhile is met by the walk restarting at the list head', () => {
    const { r, y, dev } = setup();
    let x = -1;
    at(r, 2050, () => {
      expect(r.g.freeList(0, 10, MOVABLE)[0]).toBe(33792);
      x = r.g.alloc(10, MOVABLE);
      r.g.free(y, 10); // to the head of the list, unreported
      expect(r.g.freeList(0, 10, MOVABLE).slice(0, 2)).toEqual([0, 34816]);
    });
    runUntil(r, 2300);
    expect(x).toBe(33792);
    expect(dev.batches[0]).toEqual(range(32768, 0, -1024).map((p) => [p, 10]));
    // After the drain the walk restarts from the first entry: block 0 (freed during the report) comes first,
    // then the rest of the unreported blocks; the allocated 33792 is in no batch.
    expect(dev.batches[1]).toEqual([...range(48128, 34815, -1024), 0].map((p) => [p, 10]));
    expect(dev.batches.flat().some(([p]) => p === x)).toBe(false);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2200, batches: 2, blocks: 47 });
    expect(r.g.pfnState(x).kind).toBe('allocated');
    // Every free order-10 block is Reported now; the free of block 0 asked for another pass, which finds nothing.
    expect(listWithFlags(r.g, 10).every(([, rep]) => rep)).toBe(true);
    expect(r.rep.state).toBe('REQUESTED');
    runUntil(r, 5000);
    expect(r.rep.passLog.map((p) => [p.start, p.batches])).toEqual([[2000, 2], [4200, 0]]);
    expectConserved(r.g);
  });

  it('every unreported block allocated under the report: the restarted walk finds only Reported blocks', () => {
    const { r, dev } = setup();
    const got: number[] = [];
    at(r, 2050, () => {
      for (let i = 0; i < 15; i++) got.push(r.g.alloc(10, MOVABLE));
      r.g.check();
    });
    runUntil(r, 3000);
    expect(got).toEqual(range(33792, 49152, 1024));
    expect(dev.batches.length).toBe(1);
    expect(r.rep.passLog[0]).toMatchObject({ end: 2100, batches: 1, blocks: 32 });
    expect(r.g.freeList(0, 10, MOVABLE)).toEqual(range(32768, 0, -1024));
    expect(r.g.counters().inflightPages).toBe(0);
    expectConserved(r.g);
  });

  it('a block freed during the report that merges with a listed one changes the list; the walk is still sound', () => {
    // Reporting order 9: split an order-10 block into two order-9 halves held by the guest, free them during the
    // report: they merge into an unreported order-10 block at the head of the list.
    const { r, dev } = setup();
    let h = -1;
    at(r, 1000, () => {
      h = r.g.alloc(9, MOVABLE); // splits 1024; its other half 1536 is free at order 9
      expect(h).toBe(1024);
      expect(r.g.alloc(9, MOVABLE)).toBe(1536);
    });
    at(r, 2050, () => {
      r.g.free(h, 9);
      r.g.free(h + 512, 9);
      expect(r.g.pfnState(h)).toMatchObject({ kind: 'free', order: 10, reported: false });
      r.g.check();
    });
    runUntil(r, 5000);
    const all = dev.batches.flat();
    // Pass 1: 2048..33792 in the first batch (32 blocks), then the restart meets 1024 (merged) first.
    expect(dev.batches[0]).toEqual(range(33792, 1024, -1024).map((p) => [p, 10]));
    expect(dev.batches[1]![dev.batches[1]!.length - 1]).toEqual([1024, 10]);
    expect(new Set(all.map(([p]) => p)).size).toBe(all.length); // nothing reported twice in the pass
    expect(listWithFlags(r.g, 10).every(([, rep]) => rep)).toBe(true);
    expectConserved(r.g);
  });
});

describe('timing of a pass', () => {
  it('a pass lasts the sum of its report latencies; allocations keep running in between', () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    r.rep.register(new SlowDevice(250));
    let allocs = 0;
    for (let t = 2000; t < 2500; t += 10) {
      at(r, t, () => {
        const p = r.g.alloc(0, MOVABLE);
        if (p >= 0) allocs++;
      });
    }
    runUntil(r, 3000);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2500, batches: 2 });
    expect(allocs).toBe(50);
    expect(r.g.counters().allocFailures).toBe(0);
    expect(r.g.counters().inflightPages).toBe(0);
  });
});
