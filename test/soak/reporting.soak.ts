// The soak (npm run soak): SOAK_OPS (default 10^8) random operations on a guest with free page reporting running,
// under the invariant checker. The device fails, throws, and takes random simulated time; the driver unregisters
// and registers again; the sysfs order changes; per-cpu lists drain; pageblock types change; one call in ten has
// bad arguments and must be refused with a SimError and nothing changed. Every 4096 operations check() walks the
// whole guest, and the pages the soak holds must equal the allocator's allocated count. At the end everything is
// freed and the guest must be exactly its booted self again: every managed page free, nothing in flight.
import { describe, expect, it } from 'vitest';
import { SimError } from '../../src/core/errors.js';
import { WasmGuest } from '../../src/core/guest.js';
import { PROFILE_NAMES } from '../../src/core/profiles.js';
import { MigrateType, type ProfileName } from '../../src/core/types.js';
import { QemuHost } from '../../src/host/qemu.js';
import { VirtioBalloonDevice } from '../../src/host/devices.js';
import { EIO, ENOSPC, type ReportBatch, type ReportingDevice } from '../../src/reporting/device.js';
import { PageReporting } from '../../src/reporting/worker.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Rng } from '../fuzz/mutate.js';

const OPS = Number(process.env['SOAK_OPS'] ?? 1e8);
const SEED = Number(process.env['SOAK_SEED'] ?? 1);
const CHECK_EVERY = 4096;
const PFNS = 65536; // a 256 MiB guest

/** virtio-balloon in front of a QEMU host, answering with errors, exceptions and random latencies. */
class FlakyDevice implements ReportingDevice {
  calls = 0;
  errors = 0;
  throws = 0;
  constructor(private readonly rng: Rng, private readonly inner: VirtioBalloonDevice, readonly order?: number) {}
  report(batch: ReportBatch): number {
    this.calls++;
    const r = this.rng.int(100);
    if (r < 6) {
      this.errors++;
      return this.rng.chance(0.5) ? EIO : ENOSPC;
    }
    if (r < 8) {
      this.throws++;
      throw new Error('device fell over');
    }
    return this.inner.report(batch);
  }
  latencyMs(): number {
    return this.rng.pick([0, 0, 0.05, 1, 5, 40]);
  }
}

interface Totals {
  ops: number; refused: number; bulkBlocks: number; checks: number; passes: number; reportCalls: number;
  pagesReported: number; deviceErrors: number; deviceThrows: number; unregisters: number; allocFailures: number;
}

function soak(profile: ProfileName, ops: number, seed: number, totals: Totals): void {
  const rng = new Rng(seed);
  const g = WasmGuest.create({ profile, memBytes: PFNS * 4096, cpus: 2, pcp: true }, { hostShift: rng.chance(0.5) ? 9 : 0, touchOnAlloc: true });
  g.boot();
  // Boot leaves the reserved pages (present - managed) allocated; the soak's own pages come on top.
  const reserved = g.allocatedPages();
  const clock = new VirtualClock();
  const host = new QemuHost(g);
  const rep = new PageReporting(g, clock, { capacity: 1 + rng.int(32), delayMs: rng.pick([0, 1, 20, 2000]), order: rng.chance(0.5) ? rng.int(12) : undefined });
  let device = new FlakyDevice(rng, new VirtioBalloonDevice(host));
  const devices = [device];
  rep.register(device);
  const live: Array<[number, number]> = [];
  let held = 0;
  const ORDERS = [0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9, 10];
  const BAD = [NaN, Infinity, -1, 1.5, 2 ** 32, 2 ** 31, -Infinity, 1e300];

  const fingerprint = () => `${g.allocatedPages()} ${g.counters().inflightPages} ${g.hostRssPages()} ${g.freePages(0)} ${g.freePages(1)} ${g.pcpPages(0)} ${g.pcpPages(1)} ${g.reportBatchCount()}`;
  const advance = (dt: number) => {
    const until = clock.now() + dt;
    while (clock.peek() <= until) {
      clock.step();
      rep.poll();
    }
    clock.runUntil(until);
  };
  const verify = () => {
    g.check();
    totals.checks++;
    expect(g.allocatedPages()).toBe(reserved + held);
    if (!rep.busy()) expect(g.counters().inflightPages).toBe(0);
  };

  for (let i = 0; i < ops; i++) {
    const r = rng.int(1000);
    if (r < 340) {
      const order = rng.pick(ORDERS);
      const p = g.alloc(order, rng.int(3) as MigrateType, { cpu: rng.int(2) });
      if (p >= 0) {
        live.push([p, order]);
        held += 2 ** order;
      }
    } else if (r < 680) {
      if (live.length) {
        const k = rng.int(live.length);
        const [p, order] = live[k]!;
        g.free(p, order, { cpu: rng.int(2), direct: rng.chance(0.05), toTail: rng.chance(0.02) });
        live[k] = live[live.length - 1]!;
        live.pop();
        held -= 2 ** order;
      }
    } else if (r < 700) {
      // Bulk: allocate a run of one order, or free a run of live blocks of one order, all or nothing.
      const order = rng.pick([0, 0, 1, 3]);
      if (rng.chance(0.5)) {
        for (const p of g.allocBulk(order, MigrateType.MOVABLE, 1 + rng.int(256), rng.int(2))) {
          live.push([p, order]);
          held += 2 ** order;
          totals.bulkBlocks++;
        }
      } else {
        const pick: number[] = [];
        for (let k = live.length - 1; k >= 0 && pick.length < 256; k--) {
          if (live[k]![1] === order) {
            pick.push(live[k]![0]);
            live[k] = live[live.length - 1]!;
            live.pop();
          }
        }
        g.freeBulk(pick, order, rng.int(2));
        held -= pick.length * 2 ** order;
        totals.bulkBlocks += pick.length;
      }
    } else if (r < 780) {
      advance(rng.pick([0.01, 0.5, 3, 25, 400, 2100]));
    } else if (r < 800) {
      if (live.length) {
        const [p, order] = live[rng.int(live.length)]!;
        g.touch(p, 1 + rng.int(2 ** order));
      }
    } else if (r < 805) {
      g.drainPcp(rng.chance(0.5) ? undefined : rng.int(2));
    } else if (r < 808) {
      rep.setOrder(rng.int(12));
    } else if (r < 810) {
      const pfn = 512 * (1 + rng.int(PFNS / 512 - 1)); // a pageblock of DMA32 (pfn 0 is no memory)
      const mt = rng.int(3) as MigrateType;
      g.setPageblockMt(pfn, mt);
      g.moveFreePagesBlock(pfn, mt);
    } else if (r < 812) {
      // The driver goes away (a running pass finishes first) and comes back later.
      if (rep.device && rng.chance(0.5)) {
        void rep.unregister();
        totals.unregisters++;
      } else if (!rep.device) {
        device = new FlakyDevice(rng, new VirtioBalloonDevice(host), rng.chance(0.3) ? rng.int(11) : undefined);
        devices.push(device);
        expect(rep.register(device)).toBe(0);
      }
    } else if (r < 900) {
      // Bad arguments: refused with a SimError and nothing changed.
      const before = fingerprint();
      const bad = rng.pick(BAD);
      const live0 = live[0] ?? [0, 0];
      const calls: Array<() => unknown> = [
        () => g.alloc(bad, 1), () => g.alloc(0, 1, { cpu: bad }), () => g.free(bad, 0), () => g.free(live0[0], live0[1] + 1 + rng.int(3)),
        () => g.touch(rng.int(PFNS), bad), () => g.freeBulk([live0[0], bad], live0[1]), () => g.allocBulk(0, 1, bad),
        () => g.setReportingOrder(bad), () => g.pcpList(bad, 0, 0), () => clock.runUntil(Number.isFinite(bad) ? clock.now() - 1 - Math.abs(bad) : bad),
        () => rep.setOrder(bad),
        () => g.isolate(bad, 0), () => g.drainPcp(bad), () => g.discard(PFNS - 1, 2 + rng.int(100)),
      ];
      const k = rng.int(calls.length);
      try {
        calls[k]!();
        throw new Error(`bad call ${k} with ${bad} was accepted`);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
      }
      expect(fingerprint()).toBe(before);
      totals.refused++;
    } else {
      rep.poll();
    }
    rep.poll();
    if (i % CHECK_EVERY === 0) verify();
  }

  // Wind down: the driver goes, every block is freed, the lists drain: the guest must be all free again.
  void rep.unregister();
  advance(10_000);
  for (const [p, order] of live) g.free(p, order);
  held = 0;
  g.drainPcp();
  verify();
  const managed = g.config.zones.reduce((a, z) => a + z.managed, 0);
  const free = g.buddyinfo().reduce((a, z) => a + z.reduce((b, n, o) => b + n * 2 ** o, 0), 0);
  expect(free).toBe(managed);
  expect(g.counters().inflightPages).toBe(0);

  totals.ops += ops;
  totals.passes += rep.metrics.passes;
  totals.reportCalls += rep.metrics.reportCalls;
  totals.pagesReported += rep.metrics.pagesReported;
  totals.deviceErrors += devices.reduce((a, d) => a + d.errors, 0);
  totals.deviceThrows += devices.reduce((a, d) => a + d.throws, 0);
  totals.allocFailures += g.counters().allocFailures;
}

describe('soak', () => {
  it(`${OPS.toExponential(0)} random operations with device errors, latencies and unregisters under the invariant checker`, () => {
    const totals: Totals = { ops: 0, refused: 0, bulkBlocks: 0, checks: 0, passes: 0, reportCalls: 0, pagesReported: 0, deviceErrors: 0, deviceThrows: 0, unregisters: 0, allocFailures: 0 };
    const t0 = performance.now();
    // Runs of a million operations, each a fresh guest with its own profile, knobs and seed.
    const RUN = Math.min(OPS, 1_000_000);
    for (let run = 0; totals.ops < OPS; run++) {
      const profile = PROFILE_NAMES[run % PROFILE_NAMES.length]!;
      soak(profile, Math.min(RUN, OPS - totals.ops), SEED * 1_000_003 + run, totals);
    }
    const s = (performance.now() - t0) / 1000;
    console.log(`soak: ${totals.ops.toLocaleString('en-US')} operations in ${s.toFixed(0)} s (${Math.round(totals.ops / s).toLocaleString('en-US')}/s): ${JSON.stringify(totals)}`);
    expect(totals.ops).toBe(OPS);
    expect(totals.passes).toBeGreaterThan(0);
  });
});
