// E2 (W3): memhog 512 MiB on the 1 GiB guest, simulated with the real zones and watermarks, against the host
// RSS the real run recorded. Asserted at the level the simulator reaches today; see the differences below.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRun } from '../src/importers/run.js';
import { compareMemhog, staircase, type MemhogComparison } from '../src/replay/compare.js';

const E2 = fileURLToPath(new URL('../../shared/real-kernel/E2_memhog512_r1', import.meta.url));
const MiB = 1024;

describe('E2 memhog 512 MiB: host RSS staircase', () => {
  let c: MemhogComparison;
  beforeAll(async () => {
    c = await compareMemhog(loadRun(E2));
  }, 40_000);

  it('the real staircase: two steps of about 256 MiB at +2 s and +4 s', () => {
    expect(c.real.rss.steps.length).toBe(2);
    expect(c.real.rss.steps[0]!.t).toBeGreaterThan(2.0);
    expect(c.real.rss.steps[0]!.t).toBeLessThan(2.1);
    expect(c.real.rss.steps[1]!.t).toBeGreaterThan(4.0);
    expect(c.real.rss.steps[1]!.t).toBeLessThan(4.1);
    for (const s of c.real.rss.steps) expect(Math.abs(s.kib - 256 * MiB)).toBeLessThan(8 * MiB);
    expect(c.real.passes).toBe(3);
    expect(c.real.blocks).toBe(129);
  });

  it('the simulator: the same two-step staircase, steps at the same times', () => {
    expect(c.sim.ram.steps.length).toBe(c.real.rss.steps.length);
    c.sim.ram.steps.forEach((s, i) => {
      expect(Math.abs(s.t - c.real.rss.steps[i]!.t)).toBeLessThan(0.1);
    });
    expect(c.sim.passStarts[0]).toBeGreaterThan(2.0);
    expect(c.sim.passStarts[0]).toBeLessThan(2.06);
    expect(c.sim.passStarts[1]! - c.sim.passStarts[0]!).toBeCloseTo(2.016, 2);
  });

  it('step sizes within 2% of the real ones; the same passes, batches and blocks after the free', () => {
    const [r1, r2] = c.real.rss.steps, [s1, s2] = c.sim.ram.steps;
    expect(Math.abs(s1!.kib - r1!.kib) / r1!.kib).toBeLessThan(0.02);
    expect(Math.abs(s2!.kib - r2!.kib) / r2!.kib).toBeLessThan(0.02);
    // The process exit (its order-1 page-table root freed after the munmap) flushes the per-cpu list, so the
    // last freed pages merge and go in the same three passes as on the real guest: 64 + 64 + 1 blocks.
    expect([c.sim.passes, c.sim.batches, c.sim.blocks]).toEqual([c.real.passes, c.real.batches, c.real.blocks]);
    expect([c.real.passes, c.real.batches, c.real.blocks]).toEqual([3, 5, 129]);
  });

  it('time to 90% of the fall matches; the final fall is within 6%', () => {
    expect(Math.abs(c.sim.ram.t90 - c.real.rss.t90)).toBeLessThan(0.1);
    const realFall = c.real.rss.atFree - c.real.rss.final, simFall = c.sim.ram.atFree - c.sim.ram.final;
    expect(Math.abs(simFall - realFall) / realFall).toBeLessThan(0.06);
  });

  it('staircase() merges a step spread over consecutive samples', () => {
    const s = staircase([{ t: 0, kib: 1000 }, { t: 1, kib: 1000 }, { t: 1.05, kib: 600 }, { t: 1.1, kib: 500 }, { t: 3, kib: 100 }], 0.5, 100);
    expect(s.steps).toEqual([{ t: 0.55, kib: 500 }, { t: 2.5, kib: 400 }]);
    expect(s.final).toBe(100);
    expect(s.t50).toBe(0.6);
    expect(s.t90).toBe(2.5);
  });
});
