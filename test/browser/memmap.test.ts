// The memory map the page draws, checked page by page against pfnState: walking block heads in the descriptor
// view gives every pfn the kind of the block that holds it; its counts and the free split by order agree with
// the allocator. Also: running a Simulation in slices, or one event time at a time as the worker does at a finite
// speed, gives the same run as one runSync.
import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { Simulation, type SimulationSpec } from '../../src/sim/engine.js';
import { hostShiftOf } from '../../src/host/qemu.js';
import { readScenario } from '../../src/scenario/load.js';
import { encodePages, mapLayout, renderView, emptyStats, overviewView, clampView, cellPfn, MapCode, MAP_LEGEND } from '../../src/web/memmap.js';
import { sliceMsOf } from '../../src/web/protocol.js';
import { ALL_MIGRATE_TYPES } from '../../src/core/types.js';

/** One guest of a catalogue scenario under a policy, as the page runs it (the scenario file, one guest a Simulation). */
function scenarioSpec(name: string, policy: string, seed = 1): SimulationSpec {
  const { spec } = readScenario(`scenarios/${name}.json`);
  const guest = structuredClone(spec.guests[0]!);
  guest.policy = policy === 'none' ? { kind: 'none' } : policy === 'hinting' ? { kind: 'hinting' } : { kind: 'reporting', profile: policy as 'linux-6.1' };
  guest.name = policy;
  return { ...spec, guests: [guest], seed };
}
const SCENARIO_NAMES = readdirSync('scenarios').filter((f) => f.endsWith('.json') && !f.startsWith('sweep')).map((f) => f.replace(/\.json$/, ''));
const POLICY_IDS = ['none', 'linux-5.7', 'linux-6.1', 'linux-next', 'hinting'];

function expected(sim: Simulation): Uint8Array {
  const g = sim.guests[0]!.guest;
  const out = new Uint8Array(g.config.maxPfn);
  for (let pfn = 0; pfn < g.config.maxPfn; pfn++) {
    const s = g.pfnState(pfn);
    out[pfn] = s.kind === 'free'
      ? (s.reported ? MapCode.REPORTED : g.hostResident(pfn) ? MapCode.FREE_RESIDENT : MapCode.FREE)
      : s.kind === 'allocated' ? MapCode.ALLOCATED : s.kind === 'inflight' ? MapCode.INFLIGHT : s.kind === 'pcp' ? MapCode.PCP : MapCode.HOLE;
  }
  return out;
}

function encoded(sim: Simulation): Uint8Array {
  const run = sim.guests[0]!;
  // A map can only agree with pfnState over a consistent allocator: say so first if the core broke an invariant.
  run.guest.check();
  const out = new Uint8Array(run.guest.config.maxPfn);
  encodePages(run.guest.pageViews(), run.guest.config.maxPfn, hostShiftOf(run.host.backing), out);
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `pfn ${i}: map ${a[i]}, pfnState ${b[i]}`;
  return 'none';
}

describe('memory map', () => {
  it('gives every pfn the kind of its block, at moments where every kind is on the map', () => {
    const sim = new Simulation(scenarioSpec('memhog', 'linux-6.1', 1));
    const seen = new Set<number>();
    // boot; the hold (allocated); the first pass after the free (in flight, reported); the end
    for (const t of [0, 12_000, 16_300, 16_305, 40_000]) {
      sim.runSync(t);
      const got = encoded(sim);
      expect(firstDifference(got, expected(sim)), `t = ${t} ms`).toBe('none');
      got.forEach((c) => seen.add(c));
    }
    for (const c of [MapCode.HOLE, MapCode.FREE, MapCode.FREE_RESIDENT, MapCode.REPORTED, MapCode.ALLOCATED, MapCode.PCP]) {
      expect(seen.has(c), `code ${c} seen`).toBe(true);
    }
  });

  it('is exact with 4 KiB host pages too, and for hinting', () => {
    for (const policy of ['hinting', 'linux-5.7'] as const) {
      const spec = scenarioSpec('fragment', policy, 1);
      spec.guests[0]!.host = { backing: '4k' };
      const sim = new Simulation(spec);
      for (const t of [7_000, 25_000]) {
        sim.runSync(t);
        expect(firstDifference(encoded(sim), expected(sim)), `${policy} t = ${t} ms`).toBe('none');
      }
    }
  });

  it('counts pages by kind and free pages by order, Reported or not, as the allocator does', () => {
    const sim = new Simulation(scenarioSpec('memhog', 'linux-6.1', 1));
    for (const t of [3_000, 12_000, 40_000]) {
      sim.runSync(t);
      const run = sim.guests[0]!;
      const g = run.guest;
      const stats = emptyStats();
      encodePages(g.pageViews(), g.config.maxPfn, hostShiftOf(run.host.backing), new Uint8Array(g.config.maxPfn), stats);
      const bi = g.buddyinfo();
      for (let o = 0; o < 11; o++) {
        const free = bi.reduce((a, z) => a + z[o]! * 2 ** o, 0);
        expect(stats.freeReported[o]! + stats.freeUnreported[o]!, `t ${t} order ${o}`).toBe(free);
      }
      let reported = 0;
      g.config.zones.forEach((_, z) => {
        for (let o = 0; o < 11; o++) for (const mt of ALL_MIGRATE_TYPES) for (const h of g.freeList(z, o, mt)) if (g.pfnState(h).reported) reported += 2 ** o;
      });
      expect(stats.pages[MapCode.REPORTED]).toBe(reported);
      expect(stats.pages[MapCode.ALLOCATED]).toBe(g.allocatedPages());
      expect(stats.pages.reduce((a, b) => a + b, 0)).toBe(g.config.maxPfn);
    }
  });

  it('fits big guests in at most 512 rows of 512 cells; a zoomed view is page-exact; a cell keeps its most common state', () => {
    expect(mapLayout(262_144)).toEqual({ maxPfn: 262_144, k0: 1, rows: 512 });
    const big = mapLayout(16 * 2 ** 20 + 5);
    expect(big.k0).toBe(128);
    expect(big.rows).toBeLessThanOrEqual(512);
    const l = mapLayout(2 ** 20 * 2);
    expect(l.k0).toBe(8);
    const pages = new Uint8Array(l.maxPfn).fill(MapCode.FREE);
    pages.fill(MapCode.ALLOCATED, 0, 5); // 5 of the first 8 pages
    pages[8 + 3] = MapCode.INFLIGHT;
    const over = overviewView(l);
    const out = new Uint8Array(over.cols * over.rows);
    renderView(pages, l.maxPfn, over, out);
    expect(out[0]).toBe(MapCode.ALLOCATED);
    expect(out[1]).toBe(MapCode.FREE);
    // Zoomed to pages: the cell of pfn 11 shows it alone.
    const zoomed = clampView(l, { k: 1, row0: 0, col0: 0, cols: 32, rows: 16 });
    expect(zoomed).toEqual({ k: 1, row0: 0, col0: 0, cols: 32, rows: 16 });
    const z = new Uint8Array(32 * 16);
    renderView(pages, l.maxPfn, zoomed, z);
    expect([...z.subarray(0, 12)]).toEqual([4, 4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 5]);
    expect(cellPfn({ k: 1, row0: 3, col0: 100, cols: 32, rows: 16 }, 1, 2)).toBe(4 * 512 + 102);
    // A view past the end is pulled back inside the guest.
    expect(clampView(l, { k: 1, row0: 1e9, col0: 1e9, cols: 64, rows: 64 })).toEqual({ k: 1, row0: 4096 - 64, col0: 512 - 64, cols: 64, rows: 64 });
  });

  it('gives in-flight and per-cpu pages a second colour as well (a checker pattern), Okabe–Ito colours', () => {
    const alt = MAP_LEGEND.filter((l) => l.alt).map((l) => l.code).sort();
    expect(alt).toEqual([MapCode.INFLIGHT, MapCode.PCP].sort());
    expect(new Set(MAP_LEGEND.map((l) => l.color)).size).toBe(MAP_LEGEND.length);
  });
});

describe('slices', () => {
  it('running in slices of every speed gives the run of one runSync', () => {
    for (const scenario of SCENARIO_NAMES) {
      for (const policy of POLICY_IDS) {
        const whole = new Simulation(scenarioSpec(scenario, policy, 7));
        whole.runSync();
        const sliced = new Simulation(scenarioSpec(scenario, policy, 7));
        const end = sliced.spec.durationS * 1000;
        const speeds = [1, 25, 'max', 5] as const;
        for (let t = 0, k = 0; t < end; k++) {
          t = Math.min(end, t + sliceMsOf(speeds[k % speeds.length]!));
          sliced.runSync(t);
        }
        const a = whole.result().guests[0]!, b = sliced.result().guests[0]!;
        expect(b.metrics, `${scenario} ${policy}`).toEqual(a.metrics);
        expect(b.samples, `${scenario} ${policy}`).toEqual(a.samples);
      }
    }
  });

  it('one event time at a time, recording every report() call (as the worker at a finite speed), gives the same run', () => {
    for (const [scenario, policy] of [['memhog', 'linux-6.1'], ['fragment', 'linux-5.7'], ['memhog', 'hinting']] as const) {
      const whole = new Simulation(scenarioSpec(scenario, policy, 3));
      whole.runSync();
      const spec = scenarioSpec(scenario, policy, 3);
      const g = spec.guests[0]!;
      if (g.policy.kind === 'reporting') g.policy = { ...g.policy, record: true };
      const stepped = new Simulation(spec);
      const end = stepped.spec.durationS * 1000;
      stepped.start();
      for (;;) {
        const next = stepped.clock.peek();
        if (!(next <= end)) break;
        stepped.runSync(next);
      }
      stepped.runSync(end);
      const a = whole.result().guests[0]!, b = stepped.result().guests[0]!;
      expect(b.metrics, `${scenario} ${policy}`).toEqual(a.metrics);
      expect(b.samples, `${scenario} ${policy}`).toEqual(a.samples);
      if (policy !== 'hinting') expect(stepped.guests[0]!.reporting!.reports.length).toBe(a.metrics.reporting.reportCalls);
    }
  });
});
