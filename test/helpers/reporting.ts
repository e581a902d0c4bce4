// Small wasm guests, a virtual clock and the reporting worker, wired the way the engine wires them, for the
// reporting, host and hinting tests.
import { expect } from 'vitest';
import { WasmGuest, type WasmGuestOptions } from '../../src/core/guest.js';
import type { ZoneSpec } from '../../src/core/config.js';
import type { MigrateType, ProfileName, Watermarks } from '../../src/core/types.js';
import { VirtualClock } from '../../src/clock/clock.js';
import { PageReporting, type ReportingOptions } from '../../src/reporting/worker.js';
import type { ReportBatch, ReportingDevice } from '../../src/reporting/device.js';

export const MOVABLE = 1;

export interface SmallOptions extends WasmGuestOptions {
  profile?: ProfileName;
  /** Pages of the one Normal zone (default 2^15 = 32 order-10 blocks). */
  pages?: number;
  startPfn?: number;
  holes?: Array<[number, number]>;
  watermarks?: Watermarks;
  pcp?: boolean;
  cpus?: number;
}

/** One Normal zone [startPfn, startPfn + pages), every present page managed, booted. */
export function smallGuest(o: SmallOptions = {}): WasmGuest {
  const start = o.startPfn ?? 0;
  const pages = o.pages ?? 1 << 15;
  const holes = o.holes ?? [];
  const present = pages - holes.reduce((n, [a, b]) => n + b - a, 0);
  const zone: ZoneSpec = {
    name: 'Normal', startPfn: start, endPfn: start + pages, holes, managed: present,
    watermarks: o.watermarks ?? { min: 16, low: 32, high: 48 }, lowmemReserve: [0],
  };
  const g = WasmGuest.create(
    { profile: o.profile ?? 'linux-6.1', pcp: o.pcp ?? false, cpus: o.cpus ?? 1, zones: [zone], thp: false },
    { hostShift: o.hostShift, touchOnAlloc: o.touchOnAlloc, flavour: o.flavour },
  );
  g.boot();
  g.takeNotifications();
  return g;
}

/** A guest of explicit zones (every present page managed), booted. */
export function zonedGuest(zones: ZoneSpec[], profile: ProfileName = 'linux-6.1', opts: WasmGuestOptions = {}): WasmGuest {
  const specs = zones.map((z) => {
    const holes = z.holes ?? [];
    const present = z.endPfn - z.startPfn - holes.reduce((n, [a, b]) => n + b - a, 0);
    return { ...z, holes, managed: z.managed ?? present, watermarks: z.watermarks ?? { min: 16, low: 32, high: 48 }, lowmemReserve: z.lowmemReserve ?? zones.map(() => 0) };
  });
  const g = WasmGuest.create({ profile, pcp: false, cpus: 1, zones: specs, thp: false }, opts);
  g.boot();
  g.takeNotifications();
  return g;
}

export interface Rig {
  g: WasmGuest;
  clock: VirtualClock;
  rep: PageReporting;
}

export function rig(g: WasmGuest, opts: ReportingOptions = {}): Rig {
  const clock = new VirtualClock();
  const rep = new PageReporting(g, clock, { record: true, ...opts });
  return { g, clock, rep };
}

/** The engine's loop without promises: run events up to `until`, polling the worker after each one. */
export function runUntil(r: Rig, until: number): void {
  while (r.clock.peek() <= until) {
    r.clock.step();
    r.rep.poll();
  }
  r.clock.runUntil(until);
}

/** Run an action at time t (as a workload event would), followed by a poll. */
export function at(r: Rig, t: number, fn: () => void): void {
  r.clock.schedule(t, fn);
}

/** Every page accounted exactly once: allocated + free + per-cpu + in flight == present. */
export function pageAccount(g: WasmGuest): { allocated: number; free: number; pcp: number; inflight: number; total: number } {
  const free = g.buddyinfo().reduce((n, z) => n + z.reduce((m, blocks, o) => m + blocks * 2 ** o, 0), 0);
  const pcp = g.config.zones.reduce((n, _, z) => n + g.pcpPages(z), 0);
  const allocated = g.allocatedPages();
  const inflight = g.counters().inflightPages;
  return { allocated, free, pcp, inflight, total: allocated + free + pcp + inflight };
}

export function presentPages(g: WasmGuest): number {
  return g.config.zones.reduce((n, z) => n + z.present, 0);
}

export function expectConserved(g: WasmGuest): void {
  expect(pageAccount(g).total).toBe(presentPages(g));
}

/** A device that records each batch (copied) and answers `status` (default 0). */
export class RecordingDevice implements ReportingDevice {
  batches: Array<Array<[number, number]>> = [];
  times: number[] = [];
  constructor(readonly clock: { now(): number } | null = null, public status = 0, readonly order?: number, readonly capacity?: number, readonly latency = 0) {}
  report(b: ReportBatch): number {
    const e: Array<[number, number]> = [];
    for (let i = 0; i < b.length; i++) e.push([b.entries[2 * i]!, b.entries[2 * i + 1]!]);
    this.batches.push(e);
    if (this.clock) this.times.push(this.clock.now());
    return this.status;
  }
  latencyMs(): number {
    return this.latency;
  }
}

/** Free-list heads of one order/migratetype with their Reported flags. */
export function listWithFlags(g: WasmGuest, order: number, mt: MigrateType = MOVABLE, zone = 0): Array<[number, boolean]> {
  return g.freeList(zone, order, mt).map((p) => [p, g.pfnState(p).reported]);
}

export function range(start: number, end: number, step = 1): number[] {
  const out: number[] = [];
  if (step > 0) for (let i = start; i < end; i += step) out.push(i);
  else for (let i = start; i > end; i += step) out.push(i);
  return out;
}
