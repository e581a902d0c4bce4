// One simulated guest: its allocator (a wasm instance), the host model, the device, the free page reporting
// worker or the hinting walker, and its workloads.
import { WasmGuest } from '../core/guest.js';
import { reservedRanges, resolveGuest } from '../core/config.js';
import { SimError } from '../core/errors.js';
import { orderRefusal } from '../core/profiles.js';
import { QemuHost, hostShiftOf } from '../host/qemu.js';
import { VirtioBalloonDevice, NullDevice, FailingDevice, SlowDevice } from '../host/devices.js';
import type { ReportingDevice } from '../reporting/device.js';
import { emptyMetrics } from '../reporting/metrics.js';
import { PageReporting, REPORTING_OPTIONS, type ReportingOptions } from '../reporting/worker.js';
import { FreePageHinting } from '../hinting/hinting.js';
import { createWorkload, type Workload } from '../workloads/index.js';
import type { Clock } from '../clock/clock.js';
import { GuestRunSpecSchema } from '../schema/spec-schema.js';
import { ScenarioError, issuesFromZod } from '../schema/errors.js';

import type { DeviceSpec, GuestMetrics, GuestRunSpec } from './types.js';

export type { PolicySpec, DeviceSpec, GuestRunSpec } from './types.js';

export class GuestRun {
  readonly name: string;
  readonly guest: WasmGuest;
  readonly host: QemuHost;
  readonly device: ReportingDevice | null;
  readonly reporting: PageReporting | null = null;
  readonly hinting: FreePageHinting | null = null;
  readonly workloads: Workload[];

  constructor(readonly spec: GuestRunSpec, readonly clock: Clock, readonly id: number, readonly seed: number) {
    // The fields, and workloads only on cpus the guest has (a 1-cpu guest has only cpu 0).
    const checked = GuestRunSpecSchema.safeParse(spec);
    if (!checked.success) throw new ScenarioError('guest run', issuesFromZod(checked.error, spec));
    this.name = spec.name ?? `guest${id}`;
    const policy = spec.policy;
    const profile = policy.kind === 'reporting' && policy.profile ? policy.profile : spec.guest.profile;
    const backing = spec.host?.backing ?? 'thp';
    this.guest = new WasmGuest(resolveGuest({ ...spec.guest, profile }), {
      hostShift: hostShiftOf(backing), touchOnAlloc: spec.initOnAlloc ?? true,
    });
    this.host = new QemuHost(this.guest, spec.host);
    this.device = policy.kind === 'reporting' ? this.makeDevice(spec.device ?? { kind: 'virtio-balloon' }) : null;
    if (policy.kind === 'reporting') {
      // The worker's own options out of the policy (which also holds kind, profile, registerAtS, sysfsOrder).
      const opts = Object.fromEntries(REPORTING_OPTIONS.filter((k) => policy[k] !== undefined).map((k) => [k, policy[k]])) as ReportingOptions;
      this.reporting = new PageReporting(this.guest, clock, opts);
      this.reporting.guestId = id;
      // A write the kernel would refuse is refused now, not from inside the run.
      const why = policy.sysfsOrder ? orderRefusal(this.reporting.profile, policy.sysfsOrder.order) : null;
      if (why) throw new SimError('BAD_CONFIG', why, { field: 'sysfsOrder', value: policy.sysfsOrder!.order, profile: this.reporting.profile.name });
    } else if (policy.kind === 'hinting') {
      this.hinting = new FreePageHinting(this.guest, clock, {
        use: policy.use ?? 'discard', minOrder: policy.minOrder, intervalMs: policy.intervalMs, stepMs: policy.stepMs,
        hostDelayMs: policy.hostDelayMs, migrationMs: policy.migrationMs,
        hostPages: backing === 'thp' ? 512 : 1,
      });
    }
    this.workloads = (spec.workloads ?? []).map((w) => createWorkload(w));
  }

  private makeDevice(d: DeviceSpec): ReportingDevice {
    switch (d.kind) {
      case 'virtio-balloon': return new VirtioBalloonDevice(this.host, d);
      case 'null': return new NullDevice(d.order);
      case 'failing': return new FailingDevice(d.every, new VirtioBalloonDevice(this.host));
      case 'slow': return new SlowDevice(d.latencyMs, new VirtioBalloonDevice(this.host));
      default: throw new SimError('BAD_CONFIG', `unknown device kind '${(d as { kind: string }).kind}'`, { field: 'device.kind', value: (d as { kind: string }).kind });
    }
  }

  /**
   * The simulation starts (t = 0, or the recorded state's time): boot frees all memory, or the recorded state is
   * laid out; the device registers (or hinting starts); workloads are scheduled.
   */
  start(): void {
    const now = this.clock.now();
    if (this.spec.startState) this.guest.applyStartState(this.spec.startState);
    else {
      this.guest.boot();
      // The kernel has written what it keeps (memmap, image, memblock allocations) before any workload runs, so
      // the host holds those pages, as it holds a recorded state's allocated pages.
      for (const r of reservedRanges(this.guest.config)) this.guest.touch(r.start, r.end - r.start);
    }
    this.guest.takeNotifications();
    const policy = this.spec.policy;
    if (this.reporting && this.device) {
      const at = policy.kind === 'reporting' ? (policy.registerAtS ?? 0) * 1000 : 0;
      const orderWrite = policy.kind === 'reporting' ? policy.sysfsOrder : undefined;
      if (at < now) {
        // Registered before the recorded state was captured (and any order write before it was made too).
        const r = this.reporting.registeredAt(this.device, at);
        if (r !== 0) throw new SimError('DEVICE', `register failed: ${String(r)}`, { status: r });
        if (orderWrite && orderWrite.atS * 1000 < now) this.reporting.setOrder(orderWrite.order);
      } else {
        this.clock.schedule(at, () => {
          // Nothing unregisters here, so register() answers at once.
          const r = this.reporting!.register(this.device!);
          if (r !== 0) throw new SimError('DEVICE', `register failed: ${String(r)}`, { status: r });
        });
      }
      if (orderWrite && orderWrite.atS * 1000 >= now) this.clock.schedule(orderWrite.atS * 1000, () => this.reporting!.setOrder(orderWrite.order));
    }
    this.hinting?.start();
    this.workloads.forEach((w, i) => w.start({ guest: this.guest, clock: this.clock, seed: (this.seed + i * 7919) >>> 0 }));
  }

  /** Called after every event: a free that reached the reporting order requests a pass. */
  poll(): void {
    if (this.reporting) this.reporting.poll();
    else this.guest.takeNotifications();
  }

  /** Times (ms) of workload phases, e.g. memhog.0.freeStart, for measuring what follows them. */
  markers(): Record<string, number> {
    const out: Record<string, number> = {};
    this.workloads.forEach((w, i) => {
      for (const [k, v] of Object.entries(w.markers?.() ?? {})) if (v >= 0) out[`${w.kind}.${i}.${k}`] = v;
    });
    return out;
  }

  pageOps(): number {
    return this.workloads.reduce((a, w) => a + w.pageOps, 0);
  }

  /** Every figure of the guest so far, by group (copies: later events do not change them). */
  metrics(): GuestMetrics {
    const rm = this.reporting?.metrics ?? emptyMetrics();
    const c = this.guest.counters();
    const hc = this.guest.hostCounters();
    return {
      reporting: { ...rm, reportedByOrder: [...rm.reportedByOrder] },
      reportingOrder: this.reporting ? this.reporting.order : null,
      allocator: {
        isolationFailures: c.isolateFailures, allocFailures: c.allocFailures,
        allocFailuresInFlight: c.allocFailuresInFlight, inflightPeakPages: c.inflightPeak,
      },
      host: {
        rssKib: hc.rssPages * 4, discardedPages: hc.discardedPages,
        refaults: hc.refaults, refaultPages: hc.refaultPages, refaultCostMs: this.host.refaults().costMs,
      },
      workloads: { pageOps: this.pageOps(), thpFaults: this.workloadCount('thpFaults'), thpFallbacks: this.workloadCount('thpFallbacks') },
      hinting: this.hinting ? { ...this.hinting.metrics } : null,
    };
  }

  /** A count summed over the workloads (see Workload.counts). */
  workloadCount(name: string): number {
    return this.workloads.reduce((a, w) => a + (w.counts?.()[name] ?? 0), 0);
  }
}
