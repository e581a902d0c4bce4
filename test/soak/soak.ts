// One soak run (npm run soak, and its short form in npm test): `ops` random operations on a fresh guest with free
// page reporting running, under the invariant checker. What it does is told in reporting.soak.ts.
import { expect } from 'vitest';
import { SimError } from '../../src/core/errors.js';
import { WasmGuest } from '../../src/core/guest.js';
import { PROFILES } from '../../src/core/profiles.js';
import { MigrateType, type ProfileName } from '../../src/core/types.js';
import { QemuHost } from '../../src/host/qemu.js';
import { VirtioBalloonDevice } from '../../src/host/devices.js';
import { EIO, ENOSPC, type ReportBatch, type ReportingDevice } from '../../src/reporting/device.js';
import { PageReporting } from '../../src/reporting/worker.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { Rng } from '../fuzz/mutate.js';

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

export interface Totals {
  ops: number; refused: number; bulkBlocks: number; checks: number; passes: number; reportCalls: number;
  pagesReported: number; deviceErrors: number; deviceThrows: number; unregisters: number; allocFailures: number;
}

export function soak(profile: ProfileName, ops: number, seed: number, totals: Totals): void {
  const rng = new Rng(seed);
  const g = WasmGuest.create({ profile, memBytes: PFNS * 4096, cpus: 2, pcp: true }, { hostShift: rng.chance(0.5) ? 9 : 0, touchOnAlloc: true });
  g.boot();
  // Boot leaves the reserved pages (present - managed) allocated; the soak's own pages come on top.
  const reserved = g.allocatedPages();
  const clock = new VirtualClock();
  const host = new QemuHost(g);
  // Only the knobs the profile's kernel has (5.7: none; 6.1: the order, 0..11; linux-next: order 0..10, capacity,
  // delay): the worker refuses the others, so a soak that set them on every profile stopped at its first guest.
  const knobs = PROFILES[profile].knobs;
  const capacity = 1 + rng.int(32), delayMs = rng.pick([0, 1, 20, 2000]), order = rng.chance(0.5) ? rng.int(12) : undefined;
  const validOrder = (o: number) => (PROFILES[profile].orderWriteMax === 10 ? o % 11 : o);
  const rep = new PageReporting(g, clock, {
    ...(knobs.capacity ? { capacity } : {}), ...(knobs.delayMs ? { delayMs } : {}),
    ...(order !== undefined && knobs.order ? { order: validOrder(order) } : {}),
  });
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
      const o = rng.int(12);
      if (knobs.order) rep.setOrder(validOrder(o));
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

