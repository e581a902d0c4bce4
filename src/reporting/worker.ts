// The page reporting worker: registration, the state machine, the delayed pass over zones, orders and
// migratetypes, the zone gate, the leftover flush, rescheduling. The hot walk of each list runs in the
// allocator (wasm or reference) through reportCycleBegin/Step/Drain.
//
// A pass is a generator: it yields each batch to report and is resumed with the device's status. On a virtual
// clock the resume is an event `latencyMs` later, so allocations and frees run meanwhile, as when the kernel
// drops the zone lock around report().
import type { Clock, TimerHandle } from '../clock/clock.js';
import { SimError } from '../core/errors.js';
import { getProfile, knobRefusal, orderRefusal, type Profile } from '../core/profiles.js';
import { type Allocator, ALL_MIGRATE_TYPES, CycleResult, MigrateType, PAGEBLOCK_ORDER, MAX_ORDER_INCLUSIVE } from '../core/types.js';
import { type ReportBatch, type ReportingDevice, EBUSY, EIO } from './device.js';
import { type ReportingState, type ReportingEvent, transition } from './state.js';
import { type ReportingMetrics, emptyMetrics } from './metrics.js';
import { REPORTING_ORDER_OFF } from '../core/types.js';

export interface ReportingOptions {
  /** page_reporting_order set before register (Linux 5.14 on; 6.1 loses it: register() overwrites it). */
  order?: number;
  /** Batch capacity for a device that states none (linux-next only; older kernels have a fixed 32). */
  capacity?: number;
  /** page_reporting_delay_ms: the delay before a pass, ms (linux-next only; older kernels wait 2*HZ). */
  delayMs?: number;
  /**
   * A model, not a knob: how long the kernel's delay really takes, ms, when a replay of a real run needs the
   * timer wheel's rounding (2*HZ fires 2004 to 2032 ms after the request). Default: the nominal delay.
   */
  timerDelayMs?: number;
  /** Budget divisor (default 16). */
  budgetDivisor?: number;
  /** Record every report() call (time, pass, entries) for comparisons with a real run. */
  record?: boolean;
}

/** The keys of ReportingOptions: anything else given to PageReporting is refused. */
export const REPORTING_OPTIONS = ['order', 'capacity', 'delayMs', 'timerDelayMs', 'budgetDivisor', 'record'] as const satisfies ReadonlyArray<keyof ReportingOptions>;

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

const ALLOC_MTS = ALL_MIGRATE_TYPES.filter((mt) => mt !== MigrateType.ISOLATE);

type GuestLike = Allocator & { reportBatchView?: () => Uint32Array };

function checkDevice(device: ReportingDevice): void {
  if (device === null || typeof device !== 'object' || typeof device.report !== 'function') {
    throw new SimError('BAD_ARGUMENT', 'register: expected a device with a report(batch) method', { field: 'device' });
  }
}

export class PageReporting {
  readonly profile: Profile;
  readonly metrics: ReportingMetrics = emptyMetrics();
  readonly reports: ReportRecord[] = [];
  readonly passLog: PassRecord[] = [];
  state: ReportingState = 'IDLE';
  /** page_reporting_order in force (REPORTING_ORDER_OFF while no device is registered). */
  order: number = REPORTING_ORDER_OFF;
  capacity: number;
  delayMs: number;
  budgetDivisor: number;
  device: ReportingDevice | null = null;
  /** Set while a promise-returning device call is outstanding: the engine waits for it before moving time. */
  pending: Promise<void> | null = null;
  /** Guest id passed to the device in each batch. */
  guestId = 0;

  /**
   * The module parameter page_reporting_order (5.14 on); undefined while unset. The user sets it (option or a
   * write); 6.1's register() overwrites it, linux-next's register() fills it only while unset.
   */
  private param: number | undefined;
  /** page_reporting_mutex: held by an unregister that waits for the running pass; others queue behind it. */
  private mutexHeld = false;
  private mutexQueue: Array<() => void> = [];
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
    if (typeof (guest as { config?: unknown } | null)?.config !== 'object') {
      throw new SimError('BAD_ARGUMENT', `PageReporting: expected a guest (a WasmGuest), got ${guest === null ? 'null' : typeof guest}`, { field: 'guest' });
    }
    if (opts === null || typeof opts !== 'object') throw new SimError('BAD_ARGUMENT', `PageReporting: options must be an object, got ${opts === null ? 'null' : typeof opts}`, { field: 'options' });
    // A misspelt knob (delayMS) would otherwise leave the kernel's default in force without a word.
    for (const k of Object.keys(opts)) {
      if (!(REPORTING_OPTIONS as readonly string[]).includes(k)) {
        throw new SimError('BAD_CONFIG', `PageReporting: unknown option '${k}' (expected ${REPORTING_OPTIONS.join(', ')})`, { field: k, value: (opts as Record<string, unknown>)[k] });
      }
    }
    this.profile = getProfile(guest.config.profile);
    // A knob the profile's kernel lacks is refused (with the kernel that added it), never silently ignored.
    for (const knob of ['capacity', 'delayMs'] as const) {
      const why = opts[knob] !== undefined ? knobRefusal(this.profile, knob) : null;
      if (why) throw new SimError('BAD_CONFIG', why, { field: knob, value: opts[knob], profile: this.profile.name });
    }
    if (opts.order !== undefined) {
      const why = orderRefusal(this.profile, opts.order);
      if (why) throw new SimError('BAD_CONFIG', `${why}, got ${opts.order}`, { field: 'order', value: opts.order, profile: this.profile.name });
    }
    this.param = opts.order;
    this.baseCapacity = opts.capacity ?? this.profile.capacity;
    this.capacity = this.baseCapacity;
    this.delayMs = opts.timerDelayMs ?? opts.delayMs ?? this.profile.delayMs;
    this.budgetDivisor = opts.budgetDivisor ?? 16;
    for (const [field, v] of [['delayMs', opts.delayMs], ['timerDelayMs', opts.timerDelayMs]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new SimError('BAD_CONFIG', `${field} must be >= 0, got ${v}`, { field, value: v });
      }
    }
    // Checked here rather than at the first pass, where the error would surface from inside a timer event.
    const maxCapacity = (guest as { maxReportCapacity?: number }).maxReportCapacity ?? 65536;
    if (!(Number.isInteger(this.capacity) && this.capacity >= 1 && this.capacity <= maxCapacity)) {
      throw new SimError('BAD_CONFIG', `report capacity must be an integer 1..${maxCapacity}, got ${this.capacity}`, { field: 'capacity', value: this.capacity });
    }
    if (!(Number.isInteger(this.budgetDivisor) && this.budgetDivisor >= 1)) {
      throw new SimError('BAD_CONFIG', `budget divisor must be a positive integer, got ${this.budgetDivisor}`, { field: 'budgetDivisor', value: this.budgetDivisor });
    }
    this.record = opts.record ?? false;
    this.everReported = new Uint32Array(Math.ceil(guest.config.maxPfn / 32));
  }
  private readonly record: boolean;

  // --- registration ---

  /**
   * page_reporting_register: -EBUSY when a device is registered; else a first pass one delay later. While an
   * unregister waits for the running pass it holds the reporting mutex: the register blocks until the pass has
   * ended and the unregister is done, then succeeds. It then returns a promise of the status, and takes effect
   * at that simulated instant.
   */
  register(device: ReportingDevice): number | Promise<number> {
    checkDevice(device);
    if (this.mutexHeld) return new Promise((resolve) => this.mutexQueue.push(() => resolve(this.registerLocked(device))));
    return this.registerLocked(device);
  }

  /**
   * A guest that starts from a recorded state (GuestStartState) registered its device before the state was
   * captured, at `atMs`: its first pass is still due at atMs + delay if that is later than now; otherwise the
   * passes that ran are part of the recorded state (its Reported flags) and reporting is idle.
   */
  registeredAt(device: ReportingDevice, atMs: number): number {
    checkDevice(device);
    if (!(Number.isFinite(atMs) && atMs <= this.clock.now())) {
      throw new SimError('BAD_CONFIG', `registeredAt: ${atMs} ms is not a past time (now ${this.clock.now()} ms)`, { field: 'registerAtS', value: atMs });
    }
    return this.registerLocked(device, atMs);
  }

  private registerLocked(device: ReportingDevice, pastMs?: number): number {
    if (this.device) return EBUSY;
    this.device = device;
    this.stopping = false;
    this.param = this.registerOrder(device);
    this.order = this.param;
    // linux-next: the capacity is the device's own (prdev->capacity), so it is worked out anew for each device.
    this.capacity = this.baseCapacity;
    if (this.profile.knobs.capacity && device.capacity && device.capacity > 0 && device.capacity <= 32) {
      this.capacity = device.capacity;
    }
    this.guest.setReportingOrder(this.order);
    this.guest.takeNotifications();
    this.state = 'IDLE';
    if (pastMs === undefined) this.fire('request');
    else if (pastMs + this.delayMs > this.clock.now()) {
      this.state = transition('IDLE', 'request').next;
      this.timer = this.clock.schedule(pastMs + this.delayMs, () => {
        this.timer = null;
        this.startPass();
      });
    }
    return 0;
  }

  /** The parameter after register(): what the profile's register() leaves in page_reporting_order. */
  private registerOrder(device: ReportingDevice): number {
    const dev = device.order;
    switch (this.profile.registerOrder) {
      case 'pageblock':
        return PAGEBLOCK_ORDER;
      case 'device-or-pageblock-overwrites':
        // 6.1: the module parameter is overwritten whatever the user set (a real bug).
        return dev ? dev : PAGEBLOCK_ORDER;
      case 'param-device-pageblock':
        // Once set (by the user or by an earlier register) the parameter stays: a later device does not
        // recompute it.
        if (this.param !== undefined) return this.param;
        if (dev !== undefined && dev >= 0 && dev <= MAX_ORDER_INCLUSIVE) return dev;
        return PAGEBLOCK_ORDER;
    }
  }

  /**
   * page_reporting_unregister: no more notifications, the scheduled pass is cancelled, a running pass is
   * waited for (it ends normally) with the reporting mutex held; afterwards no report() happens. Resolves once
   * nothing runs.
   */
  unregister(): Promise<void> {
    if (this.mutexHeld) return new Promise((resolve) => this.mutexQueue.push(() => this.unregister().then(resolve)));
    if (!this.device) return Promise.resolve();
    this.stopping = true;
    this.guest.setReportingOrder(REPORTING_ORDER_OFF);
    if (this.timer !== null) {
      this.clock.cancel(this.timer);
      this.timer = null;
    }
    const done = () => {
      this.device = null;
      this.state = 'IDLE';
      this.order = REPORTING_ORDER_OFF;
    };
    if (!this.pass) {
      done();
      return Promise.resolve();
    }
    this.mutexHeld = true;
    return new Promise((resolve) => this.idleWaiters.push(() => {
      done();
      resolve();
      this.unlockMutex();
    }));
  }

  /** mutex_unlock: the next waiter (a register or unregister that blocked) runs now, in simulated time. */
  private unlockMutex(): void {
    this.mutexHeld = false;
    while (!this.mutexHeld && this.mutexQueue.length) this.mutexQueue.shift()!();
  }

  /**
   * The sysfs knob: page_reporting_order written at run time (E3 sets it right after register). 5.7 has no such
   * parameter; linux-next refuses a value above MAX_PAGE_ORDER, as its parameter's setter does.
   */
  setOrder(order: number): void {
    const why = orderRefusal(this.profile, order);
    if (why) throw new SimError('BAD_CONFIG', `${why}, got ${order}`, { field: 'order', value: order, profile: this.profile.name });
    this.param = order;
    if (!this.device) return;
    this.order = order;
    if (!this.stopping) this.guest.setReportingOrder(order);
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
