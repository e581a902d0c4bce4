// The counters of src/reporting/metrics.ts, the pass log, and the engine's samples.
import { describe, expect, it } from 'vitest';
import { MOVABLE, RecordingDevice, at, rig, runUntil, smallGuest, zonedGuest } from './helpers/reporting.js';
import { emptyMetrics } from '../src/reporting/metrics.js';
import { EIO } from '../src/reporting/device.js';
import { Simulation } from '../src/sim/engine.js';

const byOrder = (entries: Record<number, number>) => Array.from({ length: 11 }, (_, o) => entries[o] ?? 0);

describe('reporting metrics', () => {
  it('start at zero', () => {
    expect(emptyMetrics()).toEqual({
      reportCalls: 0, reportErrors: 0, deviceExceptions: 0, blocksReported: 0, pagesReported: 0, bytesReported: 0,
      pagesReportedAgain: 0, passes: 0, budgetExhaustions: 0, zoneGateSkips: 0, isolationFailures: 0,
      reportedByOrder: byOrder({}), lockAcquisitions: 0,
    });
    const r = rig(smallGuest());
    expect(r.rep.metrics).toEqual(emptyMetrics());
  });

  it('a pass with budget exhaustion, then the pass that finishes the list: every counter', () => {
    // linux-next, capacity 4: order-10 blocks 0..8192 and order-9 blocks 9216..12288 (see reporting.worker).
    const g = smallGuest({ profile: 'linux-next', pages: 12800, holes: [[9728, 10240], [10752, 11264], [11776, 12288]] });
    const r = rig(g);
    r.rep.register(new RecordingDevice(r.clock, 0, undefined, 4));
    runUntil(r, 2000);
    expect(r.rep.metrics).toEqual({
      reportCalls: 2, reportErrors: 0, deviceExceptions: 0, blocksReported: 8, pagesReported: 4 * 512 + 4 * 1024,
      bytesReported: (4 * 512 + 4 * 1024) * 4096, pagesReportedAgain: 0, passes: 1, budgetExhaustions: 1,
      zoneGateSkips: 0, isolationFailures: 0, reportedByOrder: byOrder({ 9: 4, 10: 4 }),
      // a cycle for each non-empty list (order 9, order 10) and a drain after each report
      lockAcquisitions: 4,
    });
    expect(r.rep.passLog).toEqual([{ pass: 0, start: 2000, end: 2000, batches: 2, blocks: 8, pages: 6144 }]);
    runUntil(r, 4000);
    expect(r.rep.metrics).toEqual({
      reportCalls: 4, reportErrors: 0, deviceExceptions: 0, blocksReported: 13, pagesReported: 6144 + 5 * 1024,
      bytesReported: (6144 + 5 * 1024) * 4096, pagesReportedAgain: 0, passes: 2, budgetExhaustions: 1,
      zoneGateSkips: 0, isolationFailures: 0, reportedByOrder: byOrder({ 9: 4, 10: 9 }), lockAcquisitions: 8,
    });
    expect(r.rep.passLog[1]).toEqual({ pass: 1, start: 4000, end: 4000, batches: 2, blocks: 5, pages: 5120 });
    expect(r.rep.reports.map((x) => [x.t, x.pass, x.batch, x.zone, x.entries.length, x.status])).toEqual([
      [2000, 0, 0, 0, 4, 0], [2000, 0, 1, 0, 4, 0], [4000, 1, 0, 0, 4, 0], [4000, 1, 1, 0, 1, 0],
    ]);
  });

  it('zoneGateSkips counts each skipped zone in each pass', () => {
    // DMA32 (4096 pages) can never pass its gate (4096 <= 32 + 32 * 512); Normal can.
    const g = zonedGuest([
      { name: 'DMA32', startPfn: 0, endPfn: 4096 },
      { name: 'Normal', startPfn: 4096, endPfn: 4096 + 32 * 1024 + 256 },
    ]);
    const r = rig(g);
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(r.rep.metrics.zoneGateSkips).toBe(1);
    expect(r.rep.reports.map((x) => x.zone)).toEqual([1]);
    at(r, 3000, () => g.free(g.alloc(10, MOVABLE, { highestZone: 1 }), 10));
    runUntil(r, 6000);
    expect(r.rep.metrics).toMatchObject({ passes: 2, zoneGateSkips: 2 });
  });

  it('isolationFailures counts the failed isolations of the worker\'s passes', () => {
    const r = rig(smallGuest({ pages: 32768, watermarks: { min: 15360, low: 15360, high: 15360 } }));
    r.rep.register(new RecordingDevice(r.clock));
    runUntil(r, 2000);
    expect(r.rep.metrics).toMatchObject({ isolationFailures: 1, blocksReported: 16, pagesReported: 16384 });
    // Isolations that fail outside a pass are not the worker's: 16 blocks allocated leave 16384 <= min + 1024.
    for (let i = 0; i < 16; i++) expect(r.g.alloc(10, MOVABLE)).toBeGreaterThanOrEqual(0);
    expect(r.g.isolate(r.g.freeList(0, 10, MOVABLE)[0]!, 10)).toBe(false);
    expect(r.g.counters().isolateFailures).toBe(2);
    expect(r.rep.metrics.isolationFailures).toBe(1);
  });

  it('reportErrors counts failed calls, deviceExceptions only the thrown ones; failed calls report nothing', () => {
    const r = rig(smallGuest({ pages: 32 * 1024 + 256 }));
    let n = 0;
    r.rep.register({
      report: () => {
        n++;
        if (n === 1) throw new Error('first');
        if (n === 2) return EIO;
        return 0;
      },
    });
    const bump = () => r.g.free(r.g.alloc(10, MOVABLE), 10);
    runUntil(r, 2000);
    at(r, 3000, bump);
    runUntil(r, 5000);
    at(r, 6000, bump);
    runUntil(r, 8000);
    expect(r.rep.metrics).toMatchObject({
      passes: 3, reportCalls: 3, reportErrors: 2, deviceExceptions: 1, blocksReported: 32, pagesReported: 32768,
    });
    expect(r.rep.reports.map((x) => x.status)).toEqual([EIO, EIO, 0]);
    expect(r.rep.passLog.map((p) => p.blocks)).toEqual([0, 0, 32]);
  });
});

describe('engine samples', () => {
  it('every sample moves as the run does: time, RSS, free/allocated/in-flight pages, reports, refaults', async () => {
    const N = 64 * 1024 + 256;
    const sim = new Simulation({
      durationS: 9, sampleMs: 50,
      guests: [{
        guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: N, managed: N, watermarks: { min: 16, low: 32, high: 48 } }] },
        policy: { kind: 'reporting' }, device: { kind: 'slow', latencyMs: 120 }, host: { backing: '4k' },
        workloads: [{ kind: 'burst', startS: 0.5, mib: 32, periodS: 5, holdS: 0.5, count: 2 }],
      }],
    });
    const g = sim.guests[0]!.guest;
    g.touch(0, N); // a guest that has touched all of its RAM once
    await sim.run();
    const s = sim.samples[0]!;
    const at = (t: number) => s.find((x) => x.t === t)!;
    expect(s.map((x) => x.t)).toEqual(Array.from({ length: 181 }, (_, i) => i * 50));
    for (const x of s) {
      expect(x.freePages).toBe(x.freeByOrder.reduce((a, b) => a + b, 0));
      expect(x.freePages + x.allocatedPages + x.inflightPages).toBe(N);
    }
    // Before anything: all free, all resident, nothing reported.
    expect(at(0)).toMatchObject({ rssKib: N * 4, freePages: N, allocatedPages: 0, pagesReported: 0, reportCalls: 0, inflightPages: 0, refaults: 0 });
    // Burst 1 holds 32 MiB, plus its order-1 page-table root (freed when the process exits) and a page-table
    // page per 2 MiB.
    expect(at(700).allocatedPages).toBe(8192 + 2 + 16);
    // The first pass starts at 2000; the slow device keeps a batch in flight for 120 ms per call.
    expect(at(1950)).toMatchObject({ pagesReported: 0, inflightPages: 0, reportCalls: 0 });
    expect(at(2050).inflightPages).toBe(32 * 1024);
    expect(at(2050).reportCalls).toBe(1);
    const afterPass = at(2500);
    expect(afterPass.inflightPages).toBe(0);
    expect(afterPass.pagesReported).toBe(64 * 1024);
    expect(afterPass.reportCalls).toBe(2);
    expect(afterPass.rssKib).toBe(256 * 4); // everything reported was discarded
    // Monotone counters.
    for (let i = 1; i < s.length; i++) {
      expect(s[i]!.pagesReported).toBeGreaterThanOrEqual(s[i - 1]!.pagesReported);
      expect(s[i]!.reportCalls).toBeGreaterThanOrEqual(s[i - 1]!.reportCalls);
      expect(s[i]!.refaults).toBeGreaterThanOrEqual(s[i - 1]!.refaults);
    }
    // Burst 2 (5.5 s) reuses discarded memory: RSS rises again, with refaults.
    expect(at(5450).refaults).toBe(0);
    const held = at(5800);
    expect(held.allocatedPages).toBe(8192 + 2 + 16);
    expect(held.refaults).toBeGreaterThan(7000);
    expect(held.refaults).toBeLessThanOrEqual(8192 + 2 + 16);
    expect(held.rssKib).toBeGreaterThanOrEqual(afterPass.rssKib + held.refaults * 4);
    const res = sim.result();
    expect(res.guests[0]!.metrics.host.refaults).toBe(s[s.length - 1]!.refaults);
    expect(res.guests[0]!.metrics.reporting.pagesReported).toBe(s[s.length - 1]!.pagesReported);
    expect(res.guests[0]!.passes.length).toBe(res.guests[0]!.metrics.reporting.passes);
  });
});
