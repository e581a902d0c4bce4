// Allocator factories for the scenario tests, and small guests whose every number is easy to work out by hand.
import { expect } from 'vitest';
import { resolveGuest, type ZoneSpec } from '../../src/core/config.js';
import { ParseError, SimError, type SimErrorCode } from '../../src/core/errors.js';
import { type Allocator, type GuestConfig, type ProfileName, type Watermarks, type ZoneName, NR_ORDERS, ALL_MIGRATE_TYPES } from '../../src/core/types.js';
import { ReferenceAllocator } from '../../src/model/reference.js';
import { WasmGuest } from '../../src/core/guest.js';

export interface AllocatorFactory {
  name: string;
  make: (cfg: GuestConfig) => Allocator;
}

/** Every implementation the scenario tests run against (the wasm core joins here). */
export const allocatorFactories: AllocatorFactory[] = [
  { name: 'reference', make: (cfg) => new ReferenceAllocator(cfg) },
  { name: 'wasm', make: (cfg) => new WasmGuest(cfg) },
];

export const ZERO_WATERMARKS: Watermarks = { min: 0, low: 0, high: 0 };

export interface SmallGuestOptions {
  /** Pages in the zone (default 4096 = 4 order-10 blocks). */
  pages?: number;
  startPfn?: number;
  profile?: ProfileName;
  /** Per-cpu lists; default OFF so that buddy-level scenarios see every free reach the free lists. */
  pcp?: boolean;
  cpus?: number;
  holes?: Array<[number, number]>;
  /** Default: every present page managed (no reserved pages). */
  managed?: number;
  /** Default: all zero. */
  watermarks?: Watermarks;
  pcpHigh?: number;
  pcpBatch?: number;
}

/** One Normal zone [startPfn, startPfn + pages), watermarks 0, no lowmem reserve, nothing reserved. */
export function smallGuest(opts: SmallGuestOptions = {}): GuestConfig {
  const startPfn = opts.startPfn ?? 0;
  const pages = opts.pages ?? 4096;
  const holes = opts.holes ?? [];
  const present = pages - holes.reduce((n, [a, b]) => n + b - a, 0);
  const zone: ZoneSpec = {
    name: 'Normal',
    startPfn,
    endPfn: startPfn + pages,
    holes,
    managed: opts.managed ?? present,
    watermarks: opts.watermarks ?? ZERO_WATERMARKS,
    lowmemReserve: [0],
  };
  if (opts.pcpHigh !== undefined) zone.pcpHigh = opts.pcpHigh;
  if (opts.pcpBatch !== undefined) zone.pcpBatch = opts.pcpBatch;
  return resolveGuest({ profile: opts.profile ?? 'linux-6.1', zones: [zone], cpus: opts.cpus ?? 1, pcp: opts.pcp ?? false, thp: false });
}

export interface ZoneOptions {
  name: ZoneName;
  startPfn: number;
  endPfn: number;
  holes?: Array<[number, number]>;
  watermarks?: Watermarks;
  lowmemReserve?: number[];
  managed?: number;
  pcpHigh?: number;
  pcpBatch?: number;
}

/** A guest of explicit zones, every page managed and watermarks/reserves 0 unless given. */
export function multiZoneGuest(zones: ZoneOptions[], opts: { profile?: ProfileName; pcp?: boolean; cpus?: number } = {}): GuestConfig {
  const specs: ZoneSpec[] = zones.map((z) => {
    const holes = z.holes ?? [];
    const present = z.endPfn - z.startPfn - holes.reduce((n, [a, b]) => n + b - a, 0);
    const spec: ZoneSpec = {
      name: z.name,
      startPfn: z.startPfn,
      endPfn: z.endPfn,
      holes,
      managed: z.managed ?? present,
      watermarks: z.watermarks ?? ZERO_WATERMARKS,
      lowmemReserve: z.lowmemReserve ?? zones.map(() => 0),
    };
    if (z.pcpHigh !== undefined) spec.pcpHigh = z.pcpHigh;
    if (z.pcpBatch !== undefined) spec.pcpBatch = z.pcpBatch;
    return spec;
  });
  return resolveGuest({ profile: opts.profile ?? 'linux-6.1', zones: specs, cpus: opts.cpus ?? 1, pcp: opts.pcp ?? false, thp: false });
}

/** make + boot, with an optional reporting order set before boot. */
export function booted(f: AllocatorFactory, cfg: GuestConfig, reportingOrder?: number): Allocator {
  const a = f.make(cfg);
  if (reportingOrder !== undefined) a.setReportingOrder(reportingOrder);
  a.boot();
  return a;
}

/** Everything observable about an allocator, for "state unchanged" comparisons. */
export function snapshot(a: Allocator): unknown {
  const zones = a.config.zones.map((_, z) => {
    const lists: number[][] = [];
    for (let o = 0; o < NR_ORDERS; o++) for (const mt of ALL_MIGRATE_TYPES) lists.push(a.freeList(z, o, mt));
    const pcp: number[][] = [];
    for (let c = 0; c < a.config.cpus; c++) for (let pi = 0; pi < 13; pi++) pcp.push(a.pcpList(c, z, pi));
    return { freePages: a.freePages(z), pcpPages: a.pcpPages(z), lists, pcp };
  });
  const pageblocks: number[] = [];
  for (let pfn = 0; pfn < a.config.maxPfn; pfn += 512) pageblocks.push(a.getPageblockMt(pfn));
  return {
    buddyinfo: a.buddyinfo(),
    pagetypeinfo: a.pagetypeinfo(),
    zones,
    pageblocks,
    counters: a.counters(),
    batch: a.reportBatchEntries(),
  };
}

/**
 * Everything two implementations (or a batch path and single calls) must agree on after the same operations:
 * buddyinfo, every free list and per-cpu list in order, the state of every pfn, NR_FREE_PAGES and per-cpu pages
 * by zone, and the counters both keep alike.
 */
export function comparableState(a: Allocator): unknown {
  const cfg = a.config;
  const lists: number[][] = [];
  cfg.zones.forEach((_, z) => {
    for (let o = 0; o < NR_ORDERS; o++) for (const mt of ALL_MIGRATE_TYPES) lists.push(a.freeList(z, o, mt));
  });
  const pcp: number[][] = [];
  for (let c = 0; c < cfg.cpus; c++) cfg.zones.forEach((_, z) => { for (let p = 0; p < 13; p++) pcp.push(a.pcpList(c, z, p)); });
  const states: string[] = [];
  for (let pfn = 0; pfn < cfg.maxPfn; pfn++) {
    const s = a.pfnState(pfn);
    if (s.kind === 'hole') { states.push('h'); continue; }
    states.push(`${s.kind}:${s.head}:${s.order}:${s.reported ? 1 : 0}:${s.pageblockMt}:${s.kind === 'allocated' || s.kind === 'free' ? s.mt : ''}:${s.cpu}`);
  }
  const c = a.counters();
  return {
    buddyinfo: a.buddyinfo(), lists, pcp, states,
    freePages: cfg.zones.map((_, z) => a.freePages(z)), pcpPages: cfg.zones.map((_, z) => a.pcpPages(z)),
    counters: { allocFailures: c.allocFailures, inflight: c.inflightPages, isolateFailures: c.isolateFailures, pcpDrains: c.pcpDrains },
  };
}

/** Expect fn to throw a SimError of `code` whose message names `value`. */
export function expectSimError(fn: () => unknown, code: SimErrorCode, value?: string | number): SimError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a SimError ${code}`).toBeInstanceOf(SimError);
  const err = caught as SimError;
  expect(err.code).toBe(code);
  if (value !== undefined) expect(err.message).toContain(String(value));
  return err;
}

/** Expect fn to throw a ParseError (an importer's refusal, naming file, line and field); returns it to inspect. */
export function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}

/** Pages of every free block of a zone, from buddyinfo. */
export function freeBlockPages(a: Allocator, zone: number): number {
  return a.buddyinfo()[zone]!.reduce((n, blocks, o) => n + blocks * (1 << o), 0);
}
