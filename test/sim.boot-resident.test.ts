// A booted guest's host holds what the kernel keeps from boot (present - managed: the memmap, the kernel image,
// memblock's allocations), which the kernel wrote before any workload ran; free memory is not resident.
import { describe, it, expect } from 'vitest';
import { simulate, Simulation } from '../src/sim/engine.js';
import { resolveGuest, reservedRanges, type GuestSpec } from '../src/core/config.js';
import type { SimulationSpec } from '../src/sim/types.js';

const guestSpec = (memBytes: number): GuestSpec => ({ profile: 'linux-6.1', memBytes, cpus: 2, pcp: true });

function idle(memBytes: number, backing: '4k' | 'thp', policy: 'none' | 'reporting' = 'none'): SimulationSpec {
  return {
    durationS: 5, sampleMs: 1000, seed: 1,
    guests: [{
      guest: guestSpec(memBytes),
      policy: policy === 'none' ? { kind: 'none' } : { kind: 'reporting', profile: 'linux-6.1' },
      device: { kind: 'virtio-balloon' }, host: { backing },
    }],
  };
}

describe('host residency after boot', () => {
  it('with 4 KiB backing, RSS at t = 0 is exactly the reserved pages, which sit at the top of each zone', async () => {
    const config = resolveGuest(guestSpec(2 ** 30));
    const ranges = reservedRanges(config);
    const reserved = config.zones.reduce((n, z) => n + z.present - z.managed, 0);
    expect(reserved).toBeGreaterThan(0);
    expect(ranges.reduce((n, r) => n + r.end - r.start, 0)).toBe(reserved);
    for (const r of ranges) expect(r.end).toBe(config.zones[r.zone]!.endPfn);
    const sim = new Simulation(idle(2 ** 30, '4k'));
    await sim.run(0);
    const g = sim.guests[0]!.guest;
    expect(g.hostRssPages()).toBe(reserved);
    for (const r of ranges) {
      expect(g.hostResident(r.start)).toBe(true);
      expect(g.hostResident(r.end - 1)).toBe(true);
      expect(g.hostResident(r.start - 1)).toBe(false); // the highest managed page: free, never touched
    }
    sim.dispose();
  });

  it('reporting never takes it back: the pages are allocated, and an idle guest ends where it started', async () => {
    const r = await simulate(idle(2 ** 30, 'thp', 'reporting'));
    const s = r.guests[0]!.samples;
    expect(s[0]!.rssKib).toBeGreaterThan(0);
    expect(s.at(-1)!.rssKib).toBe(s[0]!.rssKib);
    expect(r.guests[0]!.metrics.reporting!.pagesReported).toBeGreaterThan(0); // boot passes did run
  });

  it('a 64 GiB guest holds at least its memmap (64 bytes a page: 1 GiB) however much is reported', async () => {
    const r = await simulate(idle(64 * 2 ** 30, 'thp', 'reporting'));
    expect(r.guests[0]!.samples.at(-1)!.rssKib).toBeGreaterThanOrEqual(2 ** 20);
  });
});
