// What the benchmarks run: this build of the simulator, or a previous build loaded from its library bundle
// (`prsim bench --baseline <dist/index.js>`), so that each figure is measured against the previous one side by
// side in one run, the two taking turns.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { WasmGuest, maxGuestPages } from '../core/guest.js';
import { resolveGuest, type GuestSpec } from '../core/config.js';
import type { GuestConfig } from '../core/types.js';
import { simulate, type SimulationSpec } from '../sim/engine.js';
import { SimError } from '../core/errors.js';

/** The parts of a simulator's library the benchmarks use (present in every version since the batch API). */
export interface SimulatorLibrary {
  WasmGuest: new (config: GuestConfig) => { boot(): void; w1Run(seed: number, ops: number): number[]; memoryBytes(): number };
  resolveGuest(spec: GuestSpec): GuestConfig;
  maxGuestPages(): number;
  simulate(spec: SimulationSpec): Promise<{ wallMs: number; pageOps: number }>;
}

export interface Subject {
  /** 'now', or 'previous' for a baseline. */
  label: string;
  lib: SimulatorLibrary;
  /** The module file (a baseline's bundle), for child processes that must load the same code. */
  modulePath: string | null;
}

export function currentSubject(): Subject {
  return { label: 'now', lib: { WasmGuest, resolveGuest, maxGuestPages, simulate }, modulePath: null };
}

/** A previous build: its dist/index.js. */
export async function loadSubject(path: string): Promise<Subject> {
  const file = resolve(path);
  let m: Partial<SimulatorLibrary>;
  try {
    m = await import(pathToFileURL(file).href) as Partial<SimulatorLibrary>;
  } catch (e) {
    throw new SimError('BAD_CONFIG', `--baseline ${path}: cannot load it as the simulator's library bundle (${(e as Error).message})`, { field: 'baseline', value: path });
  }
  for (const k of ['WasmGuest', 'resolveGuest', 'maxGuestPages', 'simulate'] as const) {
    if (typeof m[k] !== 'function') {
      throw new SimError('BAD_CONFIG', `--baseline ${path}: the module exports no ${k} (expected a build's dist/index.js)`, { field: 'baseline', value: path });
    }
  }
  return { label: 'previous', lib: m as SimulatorLibrary, modulePath: file };
}

/** Bytes of linear memory a fresh guest of n pfns (W1's single zone) takes, per pfn. */
export function bytesPerPage(s: Subject, n: number): number {
  const g = new s.lib.WasmGuest(s.lib.resolveGuest(w1GuestSpec(n)));
  return g.memoryBytes() / n;
}

/** W1's guest (../shared/docs/benchmarks.md): one Normal zone of n pages, watermarks 0, no per-cpu lists. */
export function w1GuestSpec(n: number): GuestSpec {
  return {
    profile: 'linux-6.1', pcp: false, cpus: 1, thp: false,
    zones: [{ name: 'Normal', startPfn: 0, endPfn: n, managed: n, watermarks: { min: 0, low: 0, high: 0 }, lowmemReserve: [0] }],
  };
}
