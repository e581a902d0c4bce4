// The soak (npm run soak): SOAK_OPS (default 10^8) random operations on a guest with free page reporting running,
// under the invariant checker. The device fails, throws, and takes random simulated time; the driver unregisters
// and registers again; the sysfs order changes; per-cpu lists drain; pageblock types change; one call in ten has
// bad arguments and must be refused with a SimError and nothing changed. Every 4096 operations check() walks the
// whole guest, and the pages the soak holds must equal the allocator's allocated count. At the end everything is
// freed and the guest must be exactly its booted self again: every managed page free, nothing in flight.
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES } from '../../src/core/profiles.js';
import { soak, type Totals } from './soak.js';

const OPS = Number(process.env['SOAK_OPS'] ?? 1e8);
const SEED = Number(process.env['SOAK_SEED'] ?? 1);

describe('soak', () => {
  it(`${OPS.toExponential(0)} random operations with device errors, latencies and unregisters under the invariant checker`, () => {
    const totals: Totals = { ops: 0, refused: 0, bulkBlocks: 0, checks: 0, passes: 0, reportCalls: 0, pagesReported: 0, deviceErrors: 0, deviceThrows: 0, unregisters: 0, allocFailures: 0 };
    const t0 = performance.now();
    // Runs of a million operations, each a fresh guest with its own profile, knobs and seed.
    const RUN = Math.min(OPS, 1_000_000);
    for (let run = 0; totals.ops < OPS; run++) {
      const profile = PROFILE_NAMES[run % PROFILE_NAMES.length]!;
      soak(profile, Math.min(RUN, OPS - totals.ops), SEED * 1_000_003 + run, totals);
    }
    const s = (performance.now() - t0) / 1000;
    console.log(`soak: ${totals.ops.toLocaleString('en-US')} operations in ${s.toFixed(0)} s (${Math.round(totals.ops / s).toLocaleString('en-US')}/s): ${JSON.stringify(totals)}`);
    expect(totals.ops).toBe(OPS);
    expect(totals.passes).toBeGreaterThan(0);
  });
});
