// The simulation engine: one virtual clock for workload operations, delayed work, device completions and
// sampling, over one or more guests on one host.
import { VirtualClock } from '../clock/clock.js';
import { GuestRun } from './guest-run.js';
import type { GuestResult, Sample, SimulationResult, SimulationSpec } from './types.js';
import { checkRunFits, type RunLimits } from './estimate.js';
import { SimError } from '../core/errors.js';
import { NR_ORDERS } from '../core/types.js';
import { validateSimulationSpec } from '../schema/spec-schema.js';

export type { SimulationSpec, Sample, GuestResult, SimulationResult, GuestMetrics, AllocatorMetrics, HostMetrics, WorkloadMetrics } from './types.js';

export interface SimulationOptions {
  /** Override the machine's limits (memory, JS heap, estimated wall time) the run is checked against. */
  limits?: Partial<RunLimits>;
}

export interface RunOptions {
  /** Cancels the run: run() rejects with the signal's reason at the next slice. */
  signal?: AbortSignal;
  /** Wall time between two yields to the event loop, ms (default 10). */
  sliceMs?: number;
}

export interface SimulateOptions extends SimulationOptions, RunOptions {}

/** The next macrotask: other timers, I/O and messages run before the simulation goes on. */
function nextMacrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === 'function') {
    // A browser clamps nested setTimeout(0) to 4 ms; a message comes back at once.
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The options object of simulate() / run(): an object, and its signal an AbortSignal (a raw TypeError otherwise). */
function checkOptions(where: string, opts: unknown): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new SimError('BAD_ARGUMENT', `${where}: options must be an object, got ${opts === null ? 'null' : typeof opts}`, { field: 'options', value: opts });
  }
  const signal = (opts as { signal?: unknown }).signal;
  if (signal !== undefined && typeof (signal as { throwIfAborted?: unknown } | null)?.throwIfAborted !== 'function') {
    throw new SimError('BAD_ARGUMENT', `${where}: signal must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}`, { field: 'signal', value: signal });
  }
}

export class Simulation {
  readonly clock = new VirtualClock();
  readonly guests: GuestRun[];
  readonly samples: Sample[][];
  readonly sampleMs: number;
  readonly seed: number;
  onProgress: ((tMs: number) => void) | null = null;
  private started = false;

  /**
   * Checks the spec with the scenario files' field schemas (SimError BAD_CONFIG naming each field) and its
   * estimated memory and time against this machine's limits (SimError TOO_LARGE) before building anything.
   */
  constructor(readonly spec: SimulationSpec, opts: SimulationOptions = {}) {
    validateSimulationSpec(spec);
    checkOptions('Simulation', opts);
    checkRunFits(spec, opts.limits);
    this.seed = spec.seed ?? 1;
    this.sampleMs = spec.sampleMs ?? 50;
    this.guests = spec.guests.map((g, i) => new GuestRun(g, this.clock, i, (g.seed ?? this.seed) >>> 0));
    this.samples = this.guests.map(() => []);
  }

  private sample(): void {
    const t = this.clock.now();
    this.guests.forEach((g, i) => {
      const s = g.guest.sample(); // the counters wasm keeps, in one call
      this.samples[i]!.push({
        t, rssKib: s.rssPages * 4, freePages: s.freePages, freeByOrder: s.freeByOrder,
        pagesReported: g.reporting?.metrics.pagesReported ?? g.hinting?.metrics.pagesHinted ?? 0,
        reportCalls: g.reporting?.metrics.reportCalls ?? 0, inflightPages: s.inflightPages,
        allocatedPages: s.allocatedPages, refaults: s.refaults,
      });
    });
    this.clock.schedule(t + this.sampleMs, () => this.sample());
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const t0 = (this.spec.startS ?? 0) * 1000;
    this.clock.runUntil(t0);
    this.guests.forEach((g) => g.start());
    this.clock.schedule(t0, () => this.sample());
  }

  private checkUntil(op: string, untilMs: number): void {
    if (typeof untilMs !== 'number' || !Number.isFinite(untilMs) || untilMs < this.clock.now()) {
      throw new SimError('BAD_ARGUMENT', `${op}(${String(untilMs)}): expected a finite time >= now (${this.clock.now()} ms)`, { field: 'untilMs', value: untilMs });
    }
  }

  /**
   * Run until `untilMs` (default: the end). Waits for devices that answer with promises, and yields to the event
   * loop every `sliceMs` of wall time so timers, I/O and a page's UI go on; `signal` cancels between slices.
   */
  async run(untilMs = this.spec.durationS * 1000, opts: RunOptions = {}): Promise<void> {
    this.checkUntil('run', untilMs);
    checkOptions('run', opts);
    const { signal } = opts;
    const sliceMs = opts.sliceMs ?? 10;
    if (!(typeof sliceMs === 'number' && sliceMs > 0)) throw new SimError('BAD_ARGUMENT', `run: sliceMs must be a number > 0, got ${String(sliceMs)}`, { field: 'sliceMs', value: sliceMs });
    signal?.throwIfAborted();
    this.start();
    let lastProgress = 0;
    let sliceEnd = performance.now() + sliceMs;
    let n = 0;
    while (this.clock.peek() <= untilMs) {
      if ((++n & 31) === 0 && performance.now() >= sliceEnd) {
        await nextMacrotask();
        signal?.throwIfAborted();
        sliceEnd = performance.now() + sliceMs;
      }
      this.clock.step();
      for (const g of this.guests) {
        g.poll();
        while (g.reporting?.pending) await g.reporting.pending;
      }
      if (this.onProgress && this.clock.now() - lastProgress >= 100) {
        lastProgress = this.clock.now();
        this.onProgress(lastProgress);
      }
    }
    this.clock.runUntil(untilMs);
  }

  /** The same run without promises: every device must answer synchronously (all built-in devices do). */
  runSync(untilMs = this.spec.durationS * 1000): void {
    this.checkUntil('runSync', untilMs);
    this.start();
    while (this.clock.peek() <= untilMs) {
      this.clock.step();
      for (const g of this.guests) {
        g.poll();
        if (g.reporting?.pending) throw new Error('runSync: a device answered with a promise; use run()');
      }
      if (this.onProgress) this.onProgress(this.clock.now());
    }
    this.clock.runUntil(untilMs);
  }

  /**
   * Done with this simulation: each guest's wasm memory goes back to a pool, so the next simulation of the same
   * guest sizes in this process starts without faulting its memory in. The guests are unusable afterwards.
   */
  dispose(): void {
    for (const g of this.guests) g.guest.release();
  }

  result(wallMs = 0): SimulationResult {
    const guestMemKib = this.guests.reduce((a, g) => a + g.guest.config.zones.reduce((b, z) => b + z.present, 0) * 4, 0);
    const hostMiB = this.spec.hostMiB ?? guestMemKib / 1024;
    const guests = this.guests.map((g, i): GuestResult => {
      const rm = g.reporting?.metrics;
      const metrics = g.metrics();
      const p = g.spec.policy;
      return {
        name: g.name,
        policy: p.kind === 'reporting' ? `reporting ${g.guest.config.profile}` : p.kind,
        samples: this.samples[i]!,
        metrics,
        reportedByOrder: rm?.reportedByOrder ?? new Array(NR_ORDERS).fill(0),
        passes: g.reporting?.passLog ?? [],
        buddyinfo: g.guest.buddyinfo(),
        zones: g.guest.config.zones.map((z) => z.name),
        markers: g.markers(),
      };
    });
    const totalRssKib = guests.reduce((a, g) => a + g.metrics.host.rssKib, 0);
    return {
      durationS: this.spec.durationS, seed: this.seed, guests,
      host: { totalRssKib, guestMemKib, hostMiB, overcommit: guestMemKib / 1024 / hostMiB },
      wallMs, pageOps: this.guests.reduce((a, g) => a + g.pageOps(), 0),
    };
  }
}

/**
 * Build, run and summarise a simulation. The spec is checked first (SimError, nothing run); the run yields to the
 * event loop between slices of wall time and stops with the signal's reason when `signal` aborts.
 */
export async function simulate(spec: SimulationSpec, opts: SimulateOptions = {}): Promise<SimulationResult> {
  const t0 = performance.now();
  checkOptions('simulate', opts);
  const sim = new Simulation(spec, opts.limits !== undefined ? { limits: opts.limits } : {});
  try {
    await sim.run(undefined, opts);
    return sim.result(performance.now() - t0);
  } finally {
    sim.dispose();
  }
}
