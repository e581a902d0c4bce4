// The memory map the page draws, checked page by page against pfnState: walking block heads in the descriptor
// view gives every pfn the kind of the block that holds it. Also: running a Simulation in slices, as the worker
// does, gives the same run as one runSync.
import { describe, it, expect } from 'vitest';
import { Simulation } from '../../src/sim/engine.js';
import { hostShiftOf } from '../../src/host/qemu.js';
import { scenarioSpec, SCENARIOS, POLICY_IDS } from '../../src/web/scenarios.js';
import { encodePages, mapGeometry, reduceToPixels, MapCode } from '../../src/web/memmap.js';
import { sliceMsOf } from '../../src/web/protocol.js';

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

  it('shrinks big guests to at most 512 × 1024 pixels, keeping the most common state', () => {
    expect(mapGeometry(262_144)).toEqual({ maxPfn: 262_144, pagesPerPixel: 1, width: 512, height: 512 });
    const big = mapGeometry(4 * 2 ** 20 - 3);
    expect(big.pagesPerPixel).toBe(8);
    expect(big.width * big.height).toBeLessThanOrEqual(512 * 1024);
    const geo = mapGeometry(2 ** 20 * 2);
    const pages = new Uint8Array(geo.maxPfn).fill(MapCode.FREE);
    pages.fill(MapCode.ALLOCATED, 0, 3); // 3 of the first 4 pages
    const px = new Uint8Array(geo.width * geo.height);
    reduceToPixels(pages, geo, px);
    expect(geo.pagesPerPixel).toBe(4);
    expect(px[0]).toBe(MapCode.ALLOCATED);
    expect(px[1]).toBe(MapCode.FREE);
  });
});

describe('slices', () => {
  it('running in slices of every speed gives the run of one runSync', () => {
    for (const scenario of SCENARIOS.map((s) => s.id)) {
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
});
