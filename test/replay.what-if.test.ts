// The same real allocator traffic (the E5 trace) under another reporting order: what reporting would have done.
import { describe, expect, it } from 'vitest';
import { loadRun } from '../src/importers/run-folder.js';
import { replayTrace } from '../src/replay/trace-replay.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E5 = REAL + 'E5_trace256';

describe.skipIf(!haveReal('E5_trace256'))(needsReal('E5 replayed at reporting order 0', 'E5_trace256'), () => {
  it('reports the same freed memory in more, smaller blocks, and the allocator traffic still fits', () => {
    const run = loadRun(E5);
    const at9 = replayTrace(run, { mode: 'forced', delayMs: 'trace' });
    const at0 = replayTrace(run, { mode: 'forced', delayMs: 'trace', order: 0 });
    const after = (r: typeof at9) => r.reports.filter((c) => c.t >= run.summary!.markers_guest_s['free_start']!);
    const blocks = (r: typeof at9) => after(r).reduce((a, c) => a + c.entries.length, 0);
    const smallest = (r: typeof at9) => Math.min(...after(r).flatMap((c) => c.entries.map((e) => e[1])));
    expect(after(at9).length).toBe(2);
    expect(smallest(at9)).toBe(9);
    expect(after(at0).length).toBeGreaterThan(after(at9).length);
    expect(blocks(at0)).toBeGreaterThan(blocks(at9));
    expect(smallest(at0)).toBeLessThan(9);
    expect(at0.divergence).toMatchObject({ allocNotHead: 0, allocNotFree: 0, freeNotAllocated: 0 });
  }, 60_000);
});
