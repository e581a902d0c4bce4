// What a run will cost, worked out from its spec before anything is built: the memory it needs (page descriptors
// in each guest's wasm memory, and on the JS heap the sample series, the workloads' pfn lists and the bitmaps)
// and roughly how long it takes (events on the clock, page operations, samples). A run that cannot fit in this
// machine, or would take longer than the limit, is refused up front with the estimate and the limit, instead of
// ending hours later in an out-of-memory abort or never ending at all.
//
// The figures are upper bounds built from the same formulas the workloads use (pages per tick, ticks per run);
// the costs per event and per page operation are conservative round figures of this simulator's speed (the
// README's benchmarks measure 11 to 17 M page operations and about 2 M events per wall second).
// Browser-safe: the machine's memory is read through process.getBuiltinModule when there is one.
import { resolveGuest } from '../core/config.js';
import { SimError } from '../core/errors.js';
import type { GuestRunSpec, SimulationSpec } from './types.js';
import type { WorkloadSpec } from '../workloads/index.js';
import { pagesPerTick } from '../workloads/workload.js';

export interface RunLimits {
  /** All memory of the run: every guest's wasm memory plus the JS heap estimate (bytes). */
  memoryBytes: number;
  /** The JS heap: sample series, pfn lists, bitmaps (bytes). */
  heapBytes: number;
  /** Estimated wall time (seconds). */
  wallSeconds: number;
}

export interface GuestEstimate {
  name: string;
  /** Pfns of the guest (its page descriptors): what building it costs. */
  pages: number;
  wasmBytes: number;
  heapBytes: number;
  samples: number;
  events: number;
  pageOps: number;
}

export interface RunEstimate {
  memoryBytes: number;
  heapBytes: number;
  wallSeconds: number;
  samples: number;
  events: number;
  pageOps: number;
  guests: GuestEstimate[];
}

// Costs, measured on this simulator and rounded up.
/** A sample on the JS heap (measured: 243 bytes), doubled for the copy a worker posts back and JSON output. */
const SAMPLE_BYTES = 512;
/** Page descriptor (16 bytes) and pageblock byte per pfn; fixed regions of the module (zones, lists, ops buffer). */
const WASM_BYTES_PER_PFN = 16 + 1 / 512;
const WASM_FIXED_BYTES = 2 * 2 ** 20;
/** A pfn in a workload's list (u32 in a doubling buffer), and a churn tuple [pfn, order]. */
const LIST_BYTES_PER_PAGE = 8;
const CHURN_BYTES_PER_BLOCK = 64;
/** A memhog process object with its first list buffer (a burst makes one per burst). */
const PROCESS_BYTES = 4608;
/** Building a guest (descriptors written, every pfn populated, boot's frees): measured 14 to 17 ns a pfn. */
const PFN_SETUP_SECONDS = 3e-8;
const EVENT_SECONDS = 1e-6;
const PAGE_OP_SECONDS = 2e-7;
const SAMPLE_SECONDS = 5e-6;

const DEFAULT_WALL_SECONDS = 3600;

type Builtin = <T>(id: string) => T | undefined;
const builtin: Builtin = <T>(id: string) => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
};

/**
 * Limits from this machine: 3/4 of its RAM for the whole run and 3/4 of V8's heap limit for the JS side (Node);
 * in a browser, 3/4 of navigator.deviceMemory (4 GiB when unknown) and of the JS heap limit when the browser
 * tells it. An hour of estimated wall time.
 */
export function machineLimits(): RunLimits {
  const os = builtin<typeof import('node:os')>('node:os');
  const v8 = builtin<typeof import('node:v8')>('node:v8');
  const nav = (globalThis as { navigator?: { deviceMemory?: number } }).navigator;
  const perf = (globalThis as { performance?: { memory?: { jsHeapSizeLimit?: number } } }).performance;
  const ram = os ? os.totalmem() : (nav?.deviceMemory ?? 4) * 2 ** 30;
  const heap = v8 ? v8.getHeapStatistics().heap_size_limit : (perf?.memory?.jsHeapSizeLimit ?? 2 * 2 ** 30);
  return { memoryBytes: Math.floor(ram * 0.75), heapBytes: Math.floor(heap * 0.75), wallSeconds: DEFAULT_WALL_SECONDS };
}

interface Cost { events: number; pageOps: number; heapBytes: number }

/** One memhog-like process (map, touch, hold, unmap) that has `windowMs` of the run left once it starts. */
function hogCost(mib: number, rateMiBps: number, freeRateMiBps: number, tickMs: number, windowMs: number, present: number): Cost {
  if (windowMs < 0) return { events: 1, pageOps: 0, heapBytes: PROCESS_BYTES };
  const total = Math.round((mib * 2 ** 20) / 4096);
  const ticks = Math.floor(windowMs / tickMs) + 1;
  const allocTicks = Math.ceil(total / pagesPerTick(rateMiBps, tickMs));
  const held = Math.min(total, present);
  const freeTicks = Math.ceil(held / pagesPerTick(freeRateMiBps, tickMs));
  return {
    events: Math.min(ticks, allocTicks + freeTicks) + 3,
    pageOps: Math.min(total, ticks * pagesPerTick(rateMiBps, tickMs)) + held,
    heapBytes: PROCESS_BYTES + held * LIST_BYTES_PER_PAGE,
  };
}

function workloadCost(w: WorkloadSpec, endMs: number, present: number): Cost {
  if (w.kind === 'writes') {
    // Each write an event; its pages stay (held in its pfn list).
    const pages = Math.min(present, w.writes.reduce((a, x) => a + x.pages, 0));
    return { events: w.writes.length, pageOps: pages, heapBytes: PROCESS_BYTES + pages * LIST_BYTES_PER_PAGE };
  }
  const startMs = w.startS * 1000;
  const window = endMs - startMs;
  switch (w.kind) {
    case 'memhog':
      return hogCost(w.mib, w.rateMiBps ?? 400, w.freeRateMiBps ?? 1000, w.tickMs ?? 1, window, present);
    case 'fragment':
      return hogCost(w.mib, w.rateMiBps ?? 400, Infinity, w.tickMs ?? 1, window, present);
    case 'burst': {
      const periodMs = w.periodS * 1000;
      const started = window < 0 ? 0 : Math.min(w.count, Math.floor(window / periodMs) + 1);
      const one = hogCost(w.mib, w.rateMiBps ?? 400, 1000, 1, window, present);
      return {
        events: w.count + started * one.events,
        pageOps: started * one.pageOps,
        heapBytes: w.count * PROCESS_BYTES + Math.min(started * one.heapBytes, present * LIST_BYTES_PER_PAGE),
      };
    }
    case 'churn': {
      const tick = w.tickMs ?? 10;
      const ticks = window < 0 ? 0 : Math.floor(Math.min(window, w.durationS * 1000) / tick) + 1;
      const ops = ticks * Math.max(1, Math.round(w.opsPerS * (tick / 1000)));
      return { events: ticks, pageOps: ops, heapBytes: Math.min(ops, present * (w.targetFraction ?? 0.5)) * CHURN_BYTES_PER_BLOCK };
    }
    case 'pagecache': {
      const tick = w.tickMs ?? 10;
      const ticks = window < 0 ? 0 : Math.floor(Math.min(window, w.durationS * 1000) / tick) + 1;
      const ops = 2 * ticks * pagesPerTick(w.rateMiBps, tick);
      return { events: ticks, pageOps: ops, heapBytes: 2 * Math.min(ops, present, Math.round(w.limitMiB * 256)) * LIST_BYTES_PER_PAGE };
    }
  }
}

function guestEstimate(g: GuestRunSpec, spec: SimulationSpec, index: number): GuestEstimate {
  const config = resolveGuest(g.guest);
  const pages = config.maxPfn;
  const present = config.zones.reduce((a, z) => a + z.present, 0);
  const endMs = spec.durationS * 1000;
  const samples = Math.floor(endMs / (spec.sampleMs ?? 50)) + 1;
  let events = samples;
  let pageOps = 0;
  // everReported (reporting) and freeBulk's duplicate check: a bit a pfn each.
  let heapBytes = samples * SAMPLE_BYTES + (2 * pages) / 8;
  for (const w of g.workloads ?? []) {
    const c = workloadCost(w, endMs, present);
    events += c.events;
    pageOps += c.pageOps;
    heapBytes += c.heapBytes;
  }
  const p = g.policy;
  if (p.kind === 'hinting') {
    // A walk hands out at most one block per step: every free block of minOrder or more, plus list restarts.
    const interval = p.intervalMs ?? 2000;
    const steps = (present >> (p.minOrder ?? 9)) + 1;
    const walks = Math.floor(endMs / interval) + 1;
    const stepMs = p.stepMs ?? 0.01;
    events += stepMs > 0 ? Math.min(walks * (steps + 1), endMs / stepMs + walks) : walks * steps;
  }
  return { name: g.name ?? `guest${index}`, pages, wasmBytes: WASM_FIXED_BYTES + WASM_BYTES_PER_PFN * pages, heapBytes, samples, events, pageOps };
}

export function estimateRun(spec: SimulationSpec): RunEstimate {
  const guests = spec.guests.map((g, i) => guestEstimate(g, spec, i));
  const sum = (f: (g: GuestEstimate) => number) => guests.reduce((a, g) => a + f(g), 0);
  const heapBytes = sum((g) => g.heapBytes);
  const samples = sum((g) => g.samples);
  const events = sum((g) => g.events);
  const pageOps = sum((g) => g.pageOps);
  const pfns = sum((g) => g.pages);
  return {
    memoryBytes: sum((g) => g.wasmBytes) + heapBytes, heapBytes, samples, events, pageOps,
    wallSeconds: pfns * PFN_SETUP_SECONDS + events * EVENT_SECONDS + pageOps * PAGE_OP_SECONDS + samples * SAMPLE_SECONDS,
    guests,
  };
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 40) return `${(n / 2 ** 40).toPrecision(3)} TiB`;
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.ceil(n / 2 ** 20)} MiB`;
}

function formatSeconds(s: number): string {
  if (s >= 86400 * 365) return `${(s / (86400 * 365)).toPrecision(3)} years`;
  if (s >= 86400) return `${(s / 86400).toPrecision(3)} days`;
  if (s >= 3600) return `${(s / 3600).toPrecision(3)} h`;
  return s >= 10 ? `${Math.ceil(s)} s` : `${s.toPrecision(2)} s`;
}

const count = (n: number) => (n >= 1e7 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US'));

const LIMIT_KEYS = ['memoryBytes', 'heapBytes', 'wallSeconds'] as const;

/** Limits given by a caller: an object of known keys, each a number > 0 (Infinity: no limit); NaN would let anything through. */
function checkLimits(limits: unknown): Partial<RunLimits> {
  if (limits === undefined) return {};
  if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) {
    throw new SimError('BAD_ARGUMENT', `limits: expected an object of ${LIMIT_KEYS.join(', ')}, got ${limits === null ? 'null' : typeof limits}`, { field: 'limits', value: limits });
  }
  for (const [k, v] of Object.entries(limits)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(k)) throw new SimError('BAD_ARGUMENT', `limits.${k}: unknown limit (expected ${LIMIT_KEYS.join(', ')})`, { field: `limits.${k}`, value: v });
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0)) throw new SimError('BAD_ARGUMENT', `limits.${k}: expected a number > 0 (Infinity for none), got ${typeof v === 'number' ? v : JSON.stringify(v)}`, { field: `limits.${k}`, value: v });
  }
  return limits as Partial<RunLimits>;
}

/**
 * The estimate of a run, or a SimError TOO_LARGE naming the estimate, the limit and what to change. `limits`
 * default to machineLimits().
 */
export function checkRunFits(spec: SimulationSpec, limits: Partial<RunLimits> = {}): RunEstimate {
  const given = checkLimits(limits);
  const lim = { ...machineLimits(), ...given };
  const whose = (k: keyof RunLimits, machine: string) => (given[k] !== undefined ? `limits.${k}` : machine);
  const e = estimateRun(spec);
  const n = e.guests.length;
  const guests = `${n} guest${n === 1 ? '' : 's'}`;
  const details = { estimate: { ...e, guests: undefined }, limits: lim };
  if (e.heapBytes > lim.heapBytes) {
    const sampleBytes = e.samples * SAMPLE_BYTES;
    throw new SimError('TOO_LARGE',
      `the run needs about ${formatBytes(e.heapBytes)} of JS heap (${count(e.samples)} samples for ${guests}: durationS ${spec.durationS} / sampleMs ${spec.sampleMs ?? 50}, ${formatBytes(sampleBytes)}; pfn lists and bitmaps ${formatBytes(e.heapBytes - sampleBytes)}); the limit is ${formatBytes(lim.heapBytes)} (${whose('heapBytes', '3/4 of the JS heap limit')}): ${sampleBytes * 2 >= e.heapBytes ? 'raise sampleMs or shorten durationS' : 'fewer or smaller guests, or shorter workloads'}`,
      details);
  }
  if (e.memoryBytes > lim.memoryBytes) {
    const pages = e.guests.reduce((a, g) => a + g.pages, 0);
    throw new SimError('TOO_LARGE',
      `the run needs about ${formatBytes(e.memoryBytes)} of memory (page descriptors of ${guests}, ${count(pages)} pfns: ${formatBytes(e.memoryBytes - e.heapBytes)}; JS heap ${formatBytes(e.heapBytes)}); this machine allows ${formatBytes(lim.memoryBytes)} (${whose('memoryBytes', '3/4 of its RAM')}): fewer or smaller guests`,
      details);
  }
  if (e.wallSeconds > lim.wallSeconds) {
    throw new SimError('TOO_LARGE',
      `the run would take about ${formatSeconds(e.wallSeconds)} (${count(e.guests.reduce((a, g) => a + g.pages, 0))} pfns to build, ${count(e.events)} events, ${count(e.pageOps)} page operations, ${count(e.samples)} samples for ${guests}); the limit is ${formatSeconds(lim.wallSeconds)}${given.wallSeconds !== undefined ? ' (limits.wallSeconds)' : ''}: shorten durationS, or lengthen tickMs, intervalMs or stepMs`,
      details);
  }
  return e;
}
