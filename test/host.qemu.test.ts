// The host side: the virtio-balloon driver (queueing), QEMU's discard policy (inhibit, poison, backing page
// alignment), host RSS and refaults, and the simple test devices.
import { describe, expect, it } from 'vitest';
import {
  MOVABLE, RecordingDevice, expectConserved, listWithFlags, rig, runUntil, smallGuest,
} from './helpers/reporting.js';
import { FailingDevice, NullDevice, SlowDevice, VirtioBalloonDevice } from '../src/host/devices.js';
import { QemuHost, hostShiftOf, type QemuHostOptions } from '../src/host/qemu.js';
import { ENOSPC, EIO, type ReportBatch } from '../src/reporting/device.js';
import { Simulation } from '../src/sim/engine.js';
import { SimError } from '../src/core/errors.js';

const PAGES_32 = 32 * 1024 + 256;

/** A 6.1 guest whose RAM is all resident on the host, a QEMU host and a registered virtio-balloon. */
function balloon(hostOpts: QemuHostOptions = {}, queueSize?: number, pages = PAGES_32, order?: number) {
  const backing = hostOpts.backing ?? 'thp';
  const g = smallGuest({ pages, hostShift: hostShiftOf(backing), touchOnAlloc: true });
  g.touch(0, pages);
  const host = new QemuHost(g, hostOpts);
  const dev = new VirtioBalloonDevice(host, { queueSize, order });
  const r = rig(g);
  r.rep.register(dev);
  return { ...r, host, dev };
}

describe('virtio-balloon: the reporting virtqueue', () => {
  it('a queue smaller than the batch cannot take it: -ENOSPC, the batch is drained unreported, nothing discarded', () => {
    const { g, rep, clock, host, dev } = balloon({ backing: '4k' }, 8);
    runUntil({ g, rep, clock }, 3000);
    expect(dev.queueFull).toBe(1);
    expect(rep.metrics).toMatchObject({ reportCalls: 1, reportErrors: 1, pagesReported: 0 });
    expect(rep.reports[0]!.status).toBe(ENOSPC);
    expect(host.rangesDiscarded).toBe(0);
    expect(g.hostRssPages()).toBe(PAGES_32);
    expect(g.hostCounters().discardedPages).toBe(0);
    expect(listWithFlags(g, 10).some(([, r]) => r)).toBe(false);
    expect(g.counters().inflightPages).toBe(0);
  });

  it('a queue of exactly the batch size takes it; every range is discarded', () => {
    const { g, rep, clock, host, dev } = balloon({ backing: '4k' }, 32);
    runUntil({ g, rep, clock }, 3000);
    expect(dev.queueFull).toBe(0);
    expect(rep.metrics).toMatchObject({ reportCalls: 1, reportErrors: 0, pagesReported: 32 * 1024 });
    expect(host.rangesDiscarded).toBe(32);
    expect(g.hostRssPages()).toBe(256); // only the unreported order-8 block stays resident
    expect(g.hostCounters().discardedPages).toBe(32 * 1024);
    expect(host.ramRssKib()).toBe(256 * 4);
  });

  it('the report takes simulated time: a fixed cost per call plus a cost per MiB', () => {
    const { g, rep, clock, host } = balloon({ backing: '4k', callLatencyMs: 1, latencyMsPerMiB: 0.5 });
    runUntil({ g, rep, clock }, 3000);
    // One call of 32 blocks of 4 MiB = 128 MiB: 1 + 128 * 0.5 = 65 ms.
    expect(rep.passLog[0]).toMatchObject({ start: 2000, end: 2065 });
    const b: ReportBatch = { guest: 0, zone: 0, length: 1, entries: Uint32Array.of(0, 10), pages: 1024 };
    expect(host.latencyMs(b)).toBe(1 + 4 * 0.5);
  });
});

describe('QEMU: when a reported range is not discarded', () => {
  it.each(['vfio', 'postcopy', 'background-snapshot'] as const)('discard inhibited (%s): the guest sees success, the host keeps every page', (inhibit) => {
    const { g, rep, clock, host } = balloon({ backing: '4k', inhibit });
    runUntil({ g, rep, clock }, 3000);
    expect(rep.metrics.pagesReported).toBe(32 * 1024);
    expect(rep.metrics.reportErrors).toBe(0);
    expect(listWithFlags(g, 10).every(([, r]) => r)).toBe(true);
    expect(host.skipped).toEqual({ inhibited: 32, poisoned: 0, unaligned: 0 });
    expect(host.rangesDiscarded).toBe(0);
    expect(g.hostRssPages()).toBe(PAGES_32);
  });

  it('a nonzero page poison value: nothing is discarded', () => {
    const { g, rep, clock, host } = balloon({ backing: '4k', poisonValue: 0xaa });
    runUntil({ g, rep, clock }, 3000);
    expect(host.skipped).toEqual({ inhibited: 0, poisoned: 32, unaligned: 0 });
    expect(g.hostRssPages()).toBe(PAGES_32);
  });

  it('poison value 0 is the same as none', () => {
    const { g, rep, clock, host } = balloon({ backing: '4k', poisonValue: 0 });
    runUntil({ g, rep, clock }, 3000);
    expect(host.rangesDiscarded).toBe(32);
  });

  it('THP backing: a 1 MiB block (order 8) is not discarded; with 4 KiB backing it is', () => {
    // Reporting order 8 (a 6.1 device asking for it): the spare order-8 block at 32768 is reported too.
    for (const backing of ['thp', '4k'] as const) {
      const { g, rep, clock, host } = balloon({ backing }, undefined, PAGES_32, 8);
      expect(rep.order).toBe(8);
      runUntil({ g, rep, clock }, 3000);
      expect(rep.metrics.reportedByOrder[8]).toBe(1);
      expect(rep.metrics.reportedByOrder[10]).toBe(32);
      if (backing === 'thp') {
        expect(host.skipped.unaligned).toBe(1);
        expect(host.rangesDiscarded).toBe(32);
        expect(g.hostResident(32768)).toBe(true);
        expect(g.hostRssPages()).toBe(512); // the 2 MiB host page holding the order-8 block
      } else {
        expect(host.skipped.unaligned).toBe(0);
        expect(host.rangesDiscarded).toBe(33);
        expect(g.hostResident(32768)).toBe(false);
        expect(g.hostRssPages()).toBe(0);
      }
      expect(g.hostResident(0)).toBe(false);
    }
  });

  it('THP backing: an order-9 block (2 MiB, aligned) is discarded', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 9, touchOnAlloc: true });
    g.touch(0, PAGES_32);
    const host = new QemuHost(g, { backing: 'thp' });
    const b: ReportBatch = { guest: 0, zone: 0, length: 2, entries: Uint32Array.of(512, 9, 256, 8), pages: 768 };
    host.handleReport(b);
    expect(host.rangesDiscarded).toBe(1);
    expect(host.skipped.unaligned).toBe(1);
    expect(g.hostResident(512)).toBe(false);
    expect(g.hostResident(0)).toBe(true);
  });

  it('an unknown backing is refused', () => {
    const g = smallGuest();
    expect(() => new QemuHost(g, { backing: '1g' as never })).toThrow(SimError);
  });
});

describe('host RSS and refaults', () => {
  it('RSS starts at 0 and follows guest touches; allocating a discarded page again is a refault (4 KiB backing)', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0, touchOnAlloc: true });
    const host = new QemuHost(g, { backing: '4k', refaultNsPerPage: 1000 });
    expect(g.hostRssPages()).toBe(0);
    const p = g.alloc(10, MOVABLE);
    expect(g.hostRssPages()).toBe(1024);
    expect(g.hostCounters().refaults).toBe(0); // a first touch is not a refault
    g.touch(0, PAGES_32);
    expect(g.hostRssPages()).toBe(PAGES_32);
    g.free(p, 10);
    const r = rig(g);
    r.rep.register(new VirtioBalloonDevice(host));
    runUntil(r, 3000);
    expect(g.hostRssPages()).toBe(256);
    expect(g.hostCounters()).toEqual({ rssPages: 256, refaults: 0, refaultPages: 0, discardedPages: 32 * 1024 });
    const again = g.alloc(10, MOVABLE);
    expect(g.hostResident(again)).toBe(true);
    expect(g.hostCounters()).toMatchObject({ rssPages: 256 + 1024, refaults: 1024, refaultPages: 1024 });
    expect(host.refaults()).toEqual({ refaults: 1024, refaultPages: 1024, costMs: (1024 * 1000) / 1e6 });
    // Touching a resident page again costs nothing.
    expect(g.touch(again, 1024)).toBe(0);
    expect(g.hostCounters().refaults).toBe(1024);
  });

  it('a discard only counts pages that were resident', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0, touchOnAlloc: true });
    const host = new QemuHost(g, { backing: '4k' });
    g.touch(5000, 10);
    const r = rig(g);
    r.rep.register(new VirtioBalloonDevice(host));
    runUntil(r, 3000);
    expect(host.rangesDiscarded).toBe(32);
    expect(g.hostCounters().discardedPages).toBe(10);
    expect(g.hostRssPages()).toBe(0);
  });

  it('with THP backing a refault is counted per 2 MiB host page', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 9, touchOnAlloc: true });
    const host = new QemuHost(g, { backing: 'thp' });
    g.touch(0, PAGES_32);
    const r = rig(g);
    r.rep.register(new VirtioBalloonDevice(host));
    runUntil(r, 3000);
    const p = g.alloc(10, MOVABLE);
    expect(g.hostCounters()).toMatchObject({ refaults: 2, refaultPages: 1024 });
    expect(g.hostResident(p)).toBe(true);
    // Touching a small part of a discarded 2 MiB page faults the whole host page back.
    const q = g.freeList(0, 10, MOVABLE)[0]!;
    g.touch(q + 3, 1);
    expect(g.hostCounters()).toMatchObject({ refaults: 3, refaultPages: 1536 });
  });

  it('RSS is per guest: a report on one guest leaves the other alone; the engine sums them', async () => {
    const zone = (n: number) => ({ name: 'Normal' as const, startPfn: 0, endPfn: n, managed: n, watermarks: { min: 16, low: 32, high: 48 } });
    const sim = new Simulation({
      durationS: 10, sampleMs: 100,
      guests: [
        { name: 'rep', guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [zone(PAGES_32)] }, policy: { kind: 'reporting' }, host: { backing: '4k' }, workloads: [{ kind: 'memhog', startS: 0, mib: 64, holdS: 0.5, rateMiBps: 1000, freeRateMiBps: 1000 }] },
        { name: 'none', guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [zone(PAGES_32)] }, policy: { kind: 'none' }, host: { backing: '4k' }, workloads: [{ kind: 'memhog', startS: 0, mib: 64, holdS: 0.5, rateMiBps: 1000, freeRateMiBps: 1000 }] },
      ],
    });
    await sim.run();
    const res = sim.result();
    const [a, b] = res.guests as [typeof res.guests[0], typeof res.guests[0]];
    // 64 MiB touched by the process, its order-1 page-table root (touched too, freed at its exit) and one
    // page-table page per 2 MiB mapped (4 KiB each).
    expect(b.metrics.host.rssKib).toBe(64 * 1024 + 8 + 32 * 4);
    expect(a.metrics.host.rssKib).toBeLessThan(64 * 1024);
    expect(a.metrics.host.discardedPages).toBeGreaterThan(0);
    expect(b.metrics.host.discardedPages).toBe(0);
    expect(res.host.totalRssKib).toBe(a.metrics.host.rssKib + b.metrics.host.rssKib);
    expect(sim.guests[0]!.host.ramRssKib()).toBe(a.metrics.host.rssKib);
  });

  it('process RSS is guest RAM resident plus QEMU overhead', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0 });
    g.touch(0, 100);
    const host = new QemuHost(g, { backing: '4k', overheadKib: 5000 });
    expect(host.ramRssKib()).toBe(400);
    expect(host.processRssKib()).toBe(5400);
  });
});

describe('test devices', () => {
  it('NullDevice accepts every batch at once and counts the calls', () => {
    const r = rig(smallGuest({ pages: 128 * 1024 }));
    const dev = new NullDevice();
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(dev.calls).toBe(2);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2000 });
    expect(r.rep.metrics.reportErrors).toBe(0);
  });

  it('FailingDevice(1) fails every call with EIO; FailingDevice(2) every second one', () => {
    for (const [every, want] of [[1, [EIO]], [2, [0, EIO]]] as Array<[number, number[]]>) {
      const r = rig(smallGuest({ pages: 128 * 1024 }));
      const inner = new RecordingDevice(r.clock);
      r.rep.register(new FailingDevice(every, inner));
      runUntil(r, 2000);
      expect(r.rep.reports.map((x) => x.status)).toEqual(want);
      // The inner device only saw the calls that did not fail.
      expect(inner.batches.length).toBe(want.filter((s) => s === 0).length);
    }
  });

  it('SlowDevice adds its latency to the inner device\'s, and forwards the answer', () => {
    const g = smallGuest({ pages: PAGES_32, hostShift: 0 });
    const host = new QemuHost(g, { backing: '4k', callLatencyMs: 3, latencyMsPerMiB: 0 });
    const r = rig(g);
    r.rep.register(new SlowDevice(40, new VirtioBalloonDevice(host, { queueSize: 4 })));
    runUntil(r, 3000);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2043 });
    expect(r.rep.reports[0]!.status).toBe(ENOSPC);
    expectConserved(g);
  });

  it('the engine builds each device kind from its spec', async () => {
    const mk = (device: object) => new Simulation({
      durationS: 3, sampleMs: 1000,
      guests: [{ guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: PAGES_32, managed: PAGES_32, watermarks: { min: 16, low: 32, high: 48 } }] }, policy: { kind: 'reporting' }, device: device as never }],
    });
    const slow = mk({ kind: 'slow', latencyMs: 300 });
    await slow.run();
    expect(slow.guests[0]!.reporting!.passLog[0]!.end).toBeGreaterThanOrEqual(2300);
    const failing = mk({ kind: 'failing', every: 1 });
    await failing.run();
    expect(failing.guests[0]!.reporting!.metrics.reportErrors).toBe(1);
    const bad = () => mk({ kind: 'teleport' });
    expect(bad).toThrow(SimError);
  });
});
