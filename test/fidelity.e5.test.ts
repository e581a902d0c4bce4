// E5 (256 MiB memhog with every kmem page event traced): the forced trace replay must reproduce the real
// kernel's reporting block for block. Figures asserted are the level the replay achieves today.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRun, type Run } from '../src/importers/run-folder.js';
import { replayTrace, type TraceReplayResult } from '../src/replay/trace-replay.js';
import { compareTrace, type TraceComparison } from '../src/replay/compare.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E5 = REAL + 'E5_trace256';

describe.skipIf(!haveReal('E5_trace256'))(needsReal('E5 forced trace replay', 'E5_trace256'), () => {
  let run: Run;
  let r: TraceReplayResult;
  let c: TraceComparison;
  beforeAll(() => {
    run = loadRun(E5);
    r = replayTrace(run, { mode: 'forced', delayMs: 'trace' });
    c = compareTrace(run, r);
  }, 40_000);

  it('applies every buddy-level event of the trace without a divergence', () => {
    expect(r.applied).toEqual({ allocZoneLocked: 65740, pcpuDrain: 66103, directFree: 0 });
    expect(r.divergence).toMatchObject({ allocNotHead: 0, allocNotFree: 0, allocListMt: 0, freeNotAllocated: 0, drainMtOverride: 0 });
  });

  it('the inferred start lists reproduce the boot-time passes exactly', () => {
    expect(r.boot).toEqual({ passes: 4, calls: 7, blocks: 208, blocksSame: 208, callsSame: 7, reportedMismatch: 0 });
  });

  it('reproduces the pass after the free: 2 batches of 32 blocks, every block in its slot', () => {
    expect(c.passes.samePassCount).toBe(true);
    expect(c.passes.passesSame).toBe(1);
    expect(r.passes.map((p) => [p.pass, p.batches, p.blocks, p.bytes])).toEqual([[4, 2, 64, 264241152]]);
    expect(c.passes.calls).toEqual({ real: 2, sim: 2, same: 2 });
    expect(c.passes.blocks).toEqual({ real: 64, sim: 64, samePosition: 64, sameSet: 64 });
    // Orders: 62 order-10 and 2 order-9 blocks, as summary.json says.
    const orders = r.reports.flatMap((x) => x.entries.map((e) => e[1]));
    expect(orders.filter((o) => o === 10).length).toBe(62);
    expect(orders.filter((o) => o === 9).length).toBe(2);
    expect(Math.abs(c.passes.startDeltas[0]!)).toBeLessThan(1e-6);
  });

  it('with a flat 2.016 s delay the pass starts within 10 ms of the real one and carries the same blocks', () => {
    const flat = compareTrace(run, replayTrace(run, { mode: 'forced', delayMs: 2016 }));
    expect(Math.abs(flat.passes.startDeltas[0]!)).toBeLessThan(0.01);
    expect(flat.passes.blocks.samePosition).toBe(64);
  });

  it('ends with the real free blocks: every real free page is free, 272 of 274 blocks identical', () => {
    const b = c.endBlocks;
    expect(b.real).toBe(274);
    expect(b.same).toBe(272);
    expect(b.reportedDiffers).toBe(0);
    expect(b.commonPages).toBe(b.realPages);
    // The dump tool's allocations after kmem_trace_off (untraced): 8 per-cpu refills of 63 pages.
    expect(b.simPages - b.realPages).toBe(8 * 63);
    expect(b.simByOrder.slice(9)).toEqual(b.realByOrder.slice(9));
  });
});
