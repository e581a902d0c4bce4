// The page reporting worker: registration, the state machine, the delayed pass over zones, orders and
// migratetypes, the zone gate, the leftover flush, rescheduling. The hot walk of each list runs in the
// allocator (wasm or reference) through reportCycleBegin/Step/Drain.
//
// A pass is a generator: it yields each batch to report and is resumed with the device's status. On a virtual
// clock the resume is an event `latencyMs` later, so allocations and frees run meanwhile, as when the kernel
// drops the zone lock around report().
import type { Clock, TimerHandle } from '../sim/clock.js';
import { SimError } from '../core/errors.js';
import { getProfile, type Profile } from '../core/profiles.js';
import { type Allocator, CycleResult, MIGRATE_TYPES, MigrateType, PAGEBLOCK_ORDER, MAX_ORDER_INCLUSIVE } from '../core/types.js';
import { type ReportBatch, type ReportingDevice, EBUSY, EIO } from './device.js';
import { type ReportingState, type ReportingEvent, transition } from './state.js';
import { type ReportingMetrics, emptyMetrics } from './metrics.js';

export interface ReportingOptions {
  /** page_reporting_order set by the user before register (6.1 loses it: register() overwrites it). */
  order?: number;
  /** Batch capacity (default: the profile's; linux-next: the device's). */
  capacity?: number;
  /** Delay before a pass, ms (default 2000). */
  delayMs?: number;
  /** Budget divisor (default 16). */
  budgetDivisor?: number;
  /** Record every report() call (time, pass, entries) for comparisons with a real run. */
  record?: boolean;
}

export interface ReportRecord {
  t: number;
  pass: number;
  batch: number;
  zone: number;
  /** [pfn, order] pairs in scatterlist order. */
  entries: Array<[number, number]>;
  status: number;
}

export interface PassRecord { pass: number; start: number; end: number; batches: number; blocks: number; pages: number }

interface BatchRequest { zone: number }

const ALLOC_MTS = [...Array(MIGRATE_TYPES).keys()].filter((mt) => mt !== MigrateType.ISOLATE);

type GuestLike = Allocator & { reportBatchView?: () => Uint32Array };

export class PageReporting {
  readonly profile: Profile;
  readonly metrics: ReportingMetrics = emptyMetrics();
  readonly reports: ReportRecord[] = [];
  readonly passLog: PassRecord[] = [];
  state: ReportingState = 'IDLE';
  /** page_reporting_order in force (255 while no device is registered). */
  order = 255;
  capacity: number;
  delayMs: number;
  budgetDivisor: number;
  device: ReportingDevice | null = null;
  /** Set while a promise-returning device call is outstanding: the engine waits for it before moving time. */
  pending: Promise<void> | null = null;
  /** Guest id passed to the device in each batch. */
  guestId = 0;

  /** page_reporting_order as set by the user (option or a write before register); undefined = not set. */
  private userOrder: number | undefined;
  /** Capacity before any device is taken into account (option, else the profile's). */
  private readonly baseCapacity: number;
  private timer: TimerHandle | null = null;
  private pass: Generator<BatchRequest, number, number> | null = null;
  private passNo = -1;
  private batchNo = 0;
  private passStartT = 0;
  private passStats = { batches: 0, blocks: 0, pages: 0 };
  private stopping = false;
  private idleWaiters: Array<() => void> = [];
  private everReported: Uint32Array;
  private isolateFailuresAtStart = 0;

  constructor(readonly guest: GuestLike, readonly clock: Clock, opts: ReportingOptions = {}) {
    this.profile = getProfile(guest.config.profile);
    this.userOrder = opts.order;
    if (opts.order !== undefined && !(Number.isInteger(opts.order) && opts.order >= 0 && opts.order <= MAX_ORDER_INCLUSIVE + 1)) {
      throw new SimError('BAD_CONFIG', `reporting order must be 0..${MAX_ORDER_INCLUSIVE + 1}, got ${opts.order}`, { field: 'order', value: opts.order });
    }
    this.baseCapacity = opts.capacity ?? this.profile.capacity;
    this.capacity = this.baseCapacity;
    this.delayMs = opts.delayMs ?? this.profile.delayMs;
    this.budgetDivisor = opts.budgetDivisor ?? 16;
    if (!(Number.isFinite(this.delayMs) && this.delayMs >= 0)) {
      throw new SimError('BAD_CONFIG', `delayMs must be >= 0, got ${this.delayMs}`, { field: 'delayMs', value: this.delayMs });
    }
    // Checked here rather than at the first pass, where the error would surface from inside a timer event.
    if (!(Number.isInteger(this.capacity) && this.capacity >= 1)) {
      throw new SimError('BAD_CONFIG', `report capacity must be a positive integer, got ${this.capacity}`, { field: 'capacity', value: this.capacity });
    }
    if (!(Number.isInteger(this.budgetDivisor) && this.budgetDivisor >= 1)) {
      throw new SimError('BAD_CONFIG', `budget divisor must be a positive integer, got ${this.budgetDivisor}`, { field: 'budgetDivisor', value: this.budgetDivisor });
    }
    this.record = opts.record ?? false;
    this.everReported = new Uint32Array(Math.ceil(guest.config.maxPfn / 32));
  }
  private readonly record: boolean;

  // --- registration ---

  /** page_reporting_register: -EBUSY when a device is registered; else a first pass one delay later. */
  register(device: ReportingDevice): number {
    if (this.device) return EBUSY;
    this.device = device;
    this.stopping = false;
    this.order = this.registerOrder(device);
    // linux-next: the capacity is the device's own (prdev->capacity), so it is worked out anew for each device.
    this.capacity = this.baseCapacity;
    if (this.profile.deviceCapacity && device.capacity && device.capacity > 0 && device.capacity <= 32) {
      this.capacity = device.capacity;
    }
    this.guest.setReportingOrder(this.order);
    this.guest.takeNotifications();
    this.state = 'IDLE';
    this.fire('request');
    return 0;
  }

  private registerOrder(device: ReportingDevice): number {
    const dev = device.order;
    switch (this.profile.registerOrder) {
      case 'pageblock':
        return this.userOrder ?? PAGEBLOCK_ORDER;
      case 'device-or-pageblock-overwrites':
        // 6.1: the module parameter is overwritten whatever the user set (a real bug).
        return dev ? dev : PAGEBLOCK_ORDER;
      case 'param-device-pageblock':
        if (this.userOrder !== undefined && this.userOrder <= MAX_ORDER_INCLUSIVE) return this.userOrder;
        if (dev !== undefined && dev >= 0 && dev <= MAX_ORDER_INCLUSIVE) return dev;
        return PAGEBLOCK_ORDER;
    }
  }

  /**
   * page_reporting_unregister: no more notifications, the scheduled pass is cancelled, a running pass is
   * waited for (it ends normally); afterwards no report() happens. Resolves once nothing runs.
   */
  unregister(): Promise<void> {
    if (!this.device) return Promise.resolve();
    this.stopping = true;
    this.guest.setReportingOrder(255);
    if (this.timer !== null) {
      this.clock.cancel(this.timer);
      this.timer = null;
    }
    const done = () => {
      this.device = null;
      this.state = 'IDLE';
      this.order = 255;
    };
    if (!this.pass) {
      done();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(() => { done(); resolve(); }));
  }

  /** The sysfs knob: page_reporting_order written at run time (E3 sets it right after register). */
  setOrder(order: number): void {
    if (!(Number.isInteger(order) && order >= 0 && order <= MAX_ORDER_INCLUSIVE + 1)) {
      throw new SimError('BAD_CONFIG', `reporting order must be 0..${MAX_ORDER_INCLUSIVE + 1}, got ${order}`, { field: 'order', value: order });
    }
    this.order = order;
    if (this.device && !this.stopping) this.guest.setReportingOrder(order);
    // Written while no device is registered, it is the parameter register() starts from (linux-next keeps it,
    // 6.1 overwrites it).
    else if (!this.device) this.userOrder = order;
  }

  /** Take the allocator's notifications (frees that reached the reporting order) and request a pass. */
  poll(): void {
    if (this.guest.takeNotifications() > 0 && this.device && !this.stopping) this.fire('request');
  }

  /** True while a pass is scheduled or running. */
  busy(): boolean {
    return this.timer !== null || this.pass !== null;
  }

  private fire(event: ReportingEvent): void {
    const { next, schedule } = transition(this.state, event);
    this.state = next;
    if (schedule && !this.stopping) {
      this.timer = this.clock.schedule(this.clock.now() + this.delayMs, () => {
        this.timer = null;
        this.startPass();
      });
    }
  }

  // --- the pass ---

  private startPass(): void {
    if (!this.device || this.stopping) return;
    this.passNo++;
    this.batchNo = 0;
    this.metrics.passes++;
    this.passStartT = this.clock.now();
    this.passStats = { batches: 0, blocks: 0, pages: 0 };
    this.isolateFailuresAtStart = this.guest.counters().isolateFailures;
    this.fire('passStart');
    this.pass = this.runPass();
    this.resume(0);
  }

  private *runPass(): Generator<BatchRequest, number, number> {
    const zones = this.guest.config.zones;
    for (let z = 0; z < zones.length; z++) {
      const err = yield* this.processZone(z);
      if (err) return err;
    }
    return 0;
  }

  private *processZone(zone: number): Generator<BatchRequest, number, number> {
    const g = this.guest;
    const wm = g.config.zones[zone]!.watermarks.low + this.capacity * 2 ** this.order;
    // The zone gate: not enough free memory to make progress; no retry is requested.
    if (g.freePages(zone) <= wm) {
      this.metrics.zoneGateSkips++;
      return 0;
    }
    g.reportBatchReset(this.capacity, this.budgetDivisor);
    for (let order = this.order; order <= MAX_ORDER_INCLUSIVE; order++) {
      for (const mt of ALLOC_MTS) {
        if (!g.reportCycleBegin(zone, order, mt)) continue;
        this.metrics.lockAcquisitions++;
        for (;;) {
          const r = g.reportCycleStep();
          if (r === CycleResult.REPORT) {
            const status = yield { zone };
            this.metrics.lockAcquisitions++;
            g.reportDrain(status === 0);
            if (status !== 0) return status;
            continue;
          }
          if (r === CycleResult.BUDGET) {
            this.metrics.budgetExhaustions++;
            this.fire('budgetExhausted');
          }
          break;
        }
      }
    }
    if (g.reportBatchCount() > 0) {
      const status = yield { zone };
      this.metrics.lockAcquisitions++;
      g.reportDrain(status === 0);
      return status;
    }
    return 0;
  }

  /** Step the pass: a loop while the device answers at once, an event or a promise when it takes time. */
  private resume(status: number): void {
    for (;;) {
      const step = this.pass!.next(status);
      if (step.done) {
        this.endPass();
        return;
      }
      const zone = step.value.zone;
      const device = this.device!;
      const batch = this.batch(zone);
      const entries: Array<[number, number]> = [];
      for (let i = 0; i < batch.length; i++) entries.push([batch.entries[2 * i]!, batch.entries[2 * i + 1]!]);
      this.metrics.reportCalls++;
      const finish = (s: number) => {
        this.account(entries, s, zone);
        this.resume(s);
      };
      let result: number | Promise<number>;
      try {
        result = device.report(batch);
      } catch {
        this.metrics.deviceExceptions++;
        result = EIO;
      }
      if (typeof result !== 'number') {
        // `pending` covers the whole run of promise answers: when this one settles the pass resumes at once and
        // may call the device again; the promise handed out here settles only after that next one has, so
        // whoever waits on `pending` (the engine) does not move simulated time while any report is outstanding.
        this.pending = Promise.resolve(result).then(
          (s) => (typeof s === 'number' ? s : EIO),
          () => {
            this.metrics.deviceExceptions++;
            return EIO;
          },
        ).then((s): Promise<void> | undefined => {
          this.pending = null;
          finish(s);
          return this.pending ?? undefined;
        });
        return;
      }
      const latency = device.latencyMs ? device.latencyMs(batch) : 0;
      if (latency > 0) {
        const r = result;
        this.clock.schedule(this.clock.now() + latency, () => finish(r));
        return;
      }
      this.account(entries, result, zone);
      status = result;
    }
  }

  private batch(zone: number): ReportBatch {
    const g = this.guest;
    let entries: Uint32Array;
    if (g.reportBatchView) entries = g.reportBatchView();
    else entries = Uint32Array.from(g.reportBatchEntries().flat());
    const length = entries.length / 2;
    let pages = 0;
    for (let i = 0; i < length; i++) pages += 2 ** entries[2 * i + 1]!;
    return { guest: this.guestId, zone, length, entries, pages };
  }

  private account(entries: Array<[number, number]>, status: number, zone: number): void {
    const m = this.metrics;
    if (this.record) {
      this.reports.push({ t: this.clock.now(), pass: this.passNo, batch: this.batchNo, zone, entries, status });
    }
    this.batchNo++;
    this.passStats.batches++;
    if (status !== 0) {
      m.reportErrors++;
      return;
    }
    for (const [pfn, order] of entries) {
      const pages = 2 ** order;
      m.blocksReported++;
      m.pagesReported += pages;
      m.reportedByOrder[order]!++;
      m.pagesReportedAgain += this.markReported(pfn, pages);
      this.passStats.blocks++;
      this.passStats.pages += pages;
    }
    m.bytesReported = m.pagesReported * 4096;
  }

  /**
   * Set the "ever reported" bits of a block; returns how many pages had been reported before. Blocks are aligned
   * to their size, so a block of 32 pages or more covers whole words and a smaller one lies inside one word.
   */
  private markReported(pfn: number, pages: number): number {
    const bits = this.everReported;
    if (pages < 32) {
      const mask = ((2 ** pages - 1) << (pfn & 31)) >>> 0;
      const w = bits[pfn >>> 5]!;
      bits[pfn >>> 5] = w | mask;
      return popcount32(w & mask);
    }
    let again = 0;
    for (let i = pfn >>> 5, end = (pfn + pages) >>> 5; i < end; i++) {
      again += popcount32(bits[i]!);
      bits[i] = 0xffffffff;
    }
    return again;
  }

  private endPass(): void {
    this.pass = null;
    this.metrics.isolationFailures += this.guest.counters().isolateFailures - this.isolateFailuresAtStart;
    this.passLog.push({ pass: this.passNo, start: this.passStartT, end: this.clock.now(), ...this.passStats });
    this.fire('passEnd');
    if (this.stopping || !this.device) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}

/** Set bits of a 32-bit word. */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
