// W1 `churn` (../shared/docs/benchmarks.md) on the wasm core and on the TypeScript reference model.
import { resolveGuest } from '../core/config.js';
import type { Allocator, GuestConfig } from '../core/types.js';
import { MigrateType } from '../core/types.js';
import { Mulberry32 } from '../clock/rng.js';
import { currentSubject, w1GuestSpec, type Subject } from './subject.js';

export function w1Config(n: number): GuestConfig {
  return resolveGuest(w1GuestSpec(n));
}

const ORDERS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9];

/** The W1 stream driven from TypeScript over any Allocator (the reference model, or wasm one call a step). */
export function w1OnAllocator(a: Allocator, seed: number, ops: number): number[] {
  const n = a.config.maxPfn;
  const rng = new Mulberry32(seed);
  const pfns = new Uint32Array(n / 2 + 2);
  const orders = new Uint8Array(n / 2 + 2);
  let len = 0, allocated = 0, failures = 0;
  for (let s = 0; s < ops; s++) {
    const r = rng.next();
    if (allocated < n / 2) {
      const order = ORDERS[r & 15]!;
      const pfn = a.alloc(order, MigrateType.MOVABLE, { highestZone: 0, cpu: 0 });
      if (pfn >= 0) {
        pfns[len] = pfn;
        orders[len] = order;
        len++;
        allocated += 2 ** order;
      } else failures++;
    } else {
      const i = rng.next() % len;
      a.free(pfns[i]!, orders[i]!, { cpu: 0 });
      allocated -= 2 ** orders[i]!;
      len--;
      pfns[i] = pfns[len]!;
      orders[i] = orders[len]!;
    }
  }
  let sum = 0;
  for (let i = 0; i < len; i++) sum = (sum + pfns[i]!) >>> 0;
  const bi = a.buddyinfo()[0]!;
  return [seed, n, ops, failures, len, sum, ...bi];
}

export interface W1Timing { line: number[]; nsPerStep: number[]; medianNs: number }

/** Run W1 `runs` times on fresh wasm guests (the loop itself in wasm); median ns per step. */
export function w1Wasm(n: number, seed: number, ops: number, runs = 5, subject: Subject = currentSubject()): W1Timing & { bytesPerPage: number } {
  const ns: number[] = [];
  let line: number[] = [];
  let bytesPerPage = 0;
  const lib = subject.lib;
  for (let i = 0; i < runs; i++) {
    const g = new lib.WasmGuest(lib.resolveGuest(w1GuestSpec(n)));
    g.boot();
    const t0 = performance.now();
    line = g.w1Run(seed, ops);
    ns.push(((performance.now() - t0) * 1e6) / ops);
    // Linear memory per simulated page: descriptors, pageblock types and fixed regions (the W1 driver's own
    // live list is workload scratch, not simulator state, and is left out).
    bytesPerPage = (g.memoryBytes() - (n / 2 + 2) * 8) / n;
  }
  return { line, nsPerStep: ns, medianNs: median(ns), bytesPerPage };
}

export function w1Reference(make: (c: GuestConfig) => Allocator, n: number, seed: number, ops: number, runs = 5): W1Timing {
  const ns: number[] = [];
  let line: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = make(w1Config(n));
    a.boot();
    const t0 = performance.now();
    line = w1OnAllocator(a, seed, ops);
    ns.push(((performance.now() - t0) * 1e6) / ops);
  }
  return { line, nsPerStep: ns, medianNs: median(ns) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
