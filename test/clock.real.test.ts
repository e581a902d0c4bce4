// The real clock (timers, for live pages) drives the same worker as the virtual one.
import { describe, it, expect } from 'vitest';
import { RealClock } from '../src/clock/clock.js';
import { WasmGuest } from '../src/core/guest.js';
import { PageReporting } from '../src/reporting/worker.js';
import { NullDevice } from '../src/host/devices.js';

describe('RealClock', () => {
  it('runs scheduled work after its time and not cancelled work', async () => {
    const clock = new RealClock();
    const seen: string[] = [];
    const t0 = clock.now();
    clock.schedule(t0 + 30, () => seen.push('b'));
    clock.schedule(t0 + 10, () => seen.push('a'));
    const h = clock.schedule(t0 + 20, () => seen.push('cancelled'));
    clock.cancel(h);
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual(['a', 'b']);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(30);
  });

  it('a reporting pass runs one delay after register, on wall-clock timers', async () => {
    const g = WasmGuest.create({ profile: 'linux-6.1', pcp: false, cpus: 1, thp: false,
      zones: [{ name: 'Normal', startPfn: 0, endPfn: 32768, managed: 32768, watermarks: { min: 16, low: 32, high: 48 } }] });
    g.boot();
    const clock = new RealClock();
    const pr = new PageReporting(g, clock, { timerDelayMs: 25 });
    const dev = new NullDevice();
    expect(pr.register(dev)).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(pr.metrics.passes).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(pr.metrics.passes).toBe(1);
    expect(dev.calls).toBeGreaterThan(0);
    // All 32 order-10 blocks but the last: isolating it would leave the zone at min + 2^10 (no retry).
    expect(pr.metrics.pagesReported).toBe(31 * 1024);
    expect(pr.metrics.isolationFailures).toBe(1);
    await pr.unregister();
    g.check();
  });
});
