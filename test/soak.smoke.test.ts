// The soak's short form, in npm test (so in CI): each profile's soak run for a few thousand operations, so that
// `npm run soak` cannot stop at its first guest unnoticed again (it did once the profiles refused the knobs their
// kernels lack, and the soak still set capacity and delay on 5.7 and 6.1).
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES } from '../src/core/profiles.js';
import { soak, type Totals } from './soak/soak.js';

describe('soak, short', () => {
  it.each(PROFILE_NAMES)('%s: 20,000 random operations with device errors and bad calls, then all free again', (profile) => {
    const totals: Totals = { ops: 0, refused: 0, bulkBlocks: 0, checks: 0, passes: 0, reportCalls: 0, pagesReported: 0, deviceErrors: 0, deviceThrows: 0, unregisters: 0, allocFailures: 0 };
    for (let seed = 1; seed <= 2; seed++) soak(profile, 10_000, seed, totals);
    expect(totals.ops).toBe(20_000);
    expect(totals.refused).toBeGreaterThan(0);
    expect(totals.checks).toBeGreaterThan(0);
  });
});
