// page_reporting_cycle over one free list: unreported blocks are isolated into a shared scatterlist (filled from
// the end); a full batch is sent only when the NEXT unreported block is met; Reported blocks are skipped; the
// budget ceil(nr_free / (capacity * 16)) counts report calls; the list is rotated so the walk resumes at the
// block where it stopped.
import { describe, it, expect } from 'vitest';
import { type Allocator, type ProfileName, CycleResult, MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { UNMOVABLE, MOVABLE } = MigrateType;
const { DONE, REPORT, BUDGET, ISOLATE_FAILED } = CycleResult;

/** A guest of `blocks` order-10 blocks, booted. */
function blocksGuest(f: Parameters<typeof booted>[0], blocks: number, profile: ProfileName = 'linux-6.1', min = 0): Allocator {
  return booted(f, smallGuest({ pages: blocks * 1024, profile, watermarks: { min, low: min, high: min } }));
}

/** Run one list's cycle as the pass does: on REPORT drain with `ok` and go on (stop on error). */
function runCycle(a: Allocator, order: number, mt: MigrateType, ok = true): CycleResult[] {
  const results: CycleResult[] = [];
  if (!a.reportCycleBegin(0, order, mt)) return results;
  for (;;) {
    const r = a.reportCycleStep();
    results.push(r);
    if (r !== REPORT) return results;
    a.reportDrain(ok);
    if (!ok) return results;
  }
}

const reported = (a: Allocator, pfns: number[]): boolean[] => pfns.map((p) => a.pfnState(p).reported);

describe.each(allocatorFactories)('report cycle ($name)', (f) => {
  it('a full batch is not sent while no further unreported block exists', () => {
    // Four MOVABLE blocks and one UNMOVABLE (keeping free memory above the isolation mark).
    const a = blocksGuest(f, 5);
    a.moveFreePagesBlock(4096, UNMOVABLE);
    a.reportBatchReset(4);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(DONE);
    expect(a.reportBatchCount()).toBe(4);
    expect(a.reportBatchEntries()).toEqual([[3072, 10], [2048, 10], [1024, 10], [0, 10]]);
    expect(a.counters().inflightPages).toBe(4096);
    expect(a.freePages(0)).toBe(1024);
    a.check();
  });

  it('REPORT when the batch is full and the next unreported block is met; drain; the walk resumes', () => {
    const a = blocksGuest(f, 5);
    a.reportBatchReset(4);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(REPORT);
    expect(a.reportBatchEntries()).toEqual([[3072, 10], [2048, 10], [1024, 10], [0, 10]]);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([4096]);
    a.check();

    a.reportDrain(true); // 6.1 putback: each to the tail, in scatterlist order
    expect(a.freeList(0, 10, MOVABLE)).toEqual([4096, 3072, 2048, 1024, 0]);
    expect(reported(a, [4096, 3072, 2048, 1024, 0])).toEqual([false, true, true, true, true]);
    expect(a.counters().inflightPages).toBe(0);

    // Resumes from the first entry: isolates 4096, skips the Reported rest, reaches the end.
    expect(a.reportCycleStep()).toBe(DONE);
    expect(a.reportBatchEntries()).toEqual([[4096, 10]]);
    a.reportDrain(true); // the leftover flush
    expect(a.freeList(0, 10, MOVABLE)).toEqual([3072, 2048, 1024, 0, 4096]);
    expect(reported(a, [0, 1024, 2048, 3072, 4096])).toEqual([true, true, true, true, true]);

    // Nothing left to report: a new cycle walks over Reported blocks only.
    expect(runCycle(a, 10, MOVABLE)).toEqual([DONE]);
    expect(a.reportBatchCount()).toBe(0);
    a.check();
  });

  it('the walk starts at the first entry of the list each time: a block taken between begin and step is not touched', () => {
    // The kernel walks under the zone lock and, once it retakes the lock, starts again at the first entry; a
    // caller that changes the list between calls (allocations while report() ran) must not leave the walk on a
    // block that has left the list.
    const a = blocksGuest(f, 6);
    a.reportBatchReset(4);
    expect(a.freeList(0, 10, MOVABLE)[0]).toBe(0);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.alloc(10, MOVABLE)).toBe(0); // the block at the head of the walked list
    expect(a.reportCycleStep()).toBe(REPORT);
    expect(a.reportBatchEntries()).toEqual([[4096, 10], [3072, 10], [2048, 10], [1024, 10]]);
    expect(a.pfnState(0).kind).toBe('allocated');
    a.check();
    a.reportDrain(true);
    expect(reported(a, [1024, 2048, 3072, 4096, 5120])).toEqual([true, true, true, true, false]);
    a.check();
  });

  it('an empty list is skipped', () => {
    const a = blocksGuest(f, 2);
    a.reportBatchReset(4);
    expect(a.reportCycleBegin(0, 9, MOVABLE)).toBe(false);
    expect(a.reportCycleBegin(0, 10, UNMOVABLE)).toBe(false);
  });

  it('the budget, ceil(nr_free / (capacity * 16)), allows budget + 1 report calls before BUDGET', () => {
    const reportsBeforeBudget = (blocks: number, unmovable: number): number => {
      const a = blocksGuest(f, blocks);
      for (let i = 0; i < unmovable; i++) a.moveFreePagesBlock(i * 1024, UNMOVABLE);
      a.reportBatchReset(1);
      const results = runCycle(a, 10, MOVABLE);
      expect(results.at(-1)).toBe(BUDGET);
      a.check();
      return results.filter((r) => r === REPORT).length;
    };
    expect(reportsBeforeBudget(16, 0)).toBe(2); // budget 1
    expect(reportsBeforeBudget(17, 0)).toBe(3); // budget 2
    // nr_free counts every migratetype: 16 MOVABLE blocks but 17 at order 10.
    expect(reportsBeforeBudget(17, 1)).toBe(3);
  });

  it('after BUDGET the blocks reported so far keep their mark and nothing is left in flight', () => {
    const a = blocksGuest(f, 16);
    a.reportBatchReset(1);
    expect(runCycle(a, 10, MOVABLE)).toEqual([REPORT, REPORT, BUDGET]);
    expect(reported(a, [0, 1024, 2048])).toEqual([true, true, false]);
    expect(a.freeList(0, 10, MOVABLE)[0]).toBe(2048);
    expect(a.reportBatchCount()).toBe(0);
    expect(a.counters().inflightPages).toBe(0);
    a.check();
  });

  it('5.7: putback at the head moves reported blocks in front; the walk rotates the stop block to the front', () => {
    const a = blocksGuest(f, 5, 'linux-5.7');
    expect(a.freeList(0, 10, MOVABLE)).toEqual([4096, 3072, 2048, 1024, 0]);
    a.reportBatchReset(2);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true); // budget 1
    expect(a.reportCycleStep()).toBe(REPORT);
    expect(a.reportBatchEntries()).toEqual([[3072, 10], [4096, 10]]);
    a.reportDrain(true);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([4096, 3072, 2048, 1024, 0]);
    expect(reported(a, [4096, 3072])).toEqual([true, true]);

    // Skips 4096 and 3072, isolates 2048 and 1024, meets 0 with a full batch: 0 is rotated to the front.
    expect(a.reportCycleStep()).toBe(REPORT);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 4096, 3072]);
    a.reportDrain(true); // 1024 then 2048, each to the head
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 1024, 0, 4096, 3072]);

    // Budget spent: the walk stops at 0 and rotates it to the front.
    expect(a.reportCycleStep()).toBe(BUDGET);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([0, 4096, 3072, 2048, 1024]);
    expect(reported(a, [0, 4096, 3072, 2048, 1024])).toEqual([false, true, true, true, true]);
    a.check();
  });

  it('6.1: rotation puts the block met with a full batch in front of the Reported ones', () => {
    const a = blocksGuest(f, 5);
    a.reportBatchReset(4);
    expect(runCycle(a, 10, MOVABLE)).toEqual([REPORT, DONE]);
    a.reportDrain(true);
    // Reuse two blocks and give them back to the tail, unreported.
    expect(a.alloc(10, MOVABLE)).toBe(3072);
    a.free(3072, 10, { toTail: true });
    expect(a.alloc(10, MOVABLE)).toBe(2048);
    a.free(2048, 10, { toTail: true });
    expect(a.freeList(0, 10, MOVABLE)).toEqual([1024, 0, 4096, 3072, 2048]);
    expect(reported(a, [1024, 0, 4096, 3072, 2048])).toEqual([true, true, true, false, false]);

    a.reportBatchReset(1);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(REPORT); // 3072 isolated, 2048 met
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 1024, 0, 4096]);
    a.reportDrain(true);
    expect(a.reportCycleStep()).toBe(DONE);
    a.reportDrain(true);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([1024, 0, 4096, 3072, 2048]);
    expect(reported(a, [1024, 0, 4096, 3072, 2048])).toEqual([true, true, true, true, true]);
    a.check();
  });

  it('an isolation refused by the watermark ends the list, counted, with the batch kept for the flush', () => {
    const a = blocksGuest(f, 5, 'linux-6.1', 2048);
    a.reportBatchReset(4);
    expect(runCycle(a, 10, MOVABLE)).toEqual([ISOLATE_FAILED]); // 0 and 1024 taken; 2048 would leave 2048
    expect(a.counters().isolateFailures).toBe(1);
    expect(a.reportBatchEntries()).toEqual([[1024, 10], [0, 10]]);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 3072, 4096]);
    a.reportDrain(true);
    expect(a.freeList(0, 10, MOVABLE)).toEqual([2048, 3072, 4096, 1024, 0]);
    a.check();
  });

  it('one scatterlist is shared by the lists of a zone: a batch may mix orders', () => {
    const a = booted(f, smallGuest({ pages: 3584 })); // 0, 1024, 2048 at order 10; 3072/9
    a.reportBatchReset(3);
    expect(runCycle(a, 9, MOVABLE)).toEqual([DONE]);
    expect(a.reportBatchCount()).toBe(1);
    expect(a.reportCycleBegin(0, 10, MOVABLE)).toBe(true);
    expect(a.reportCycleStep()).toBe(REPORT);
    expect(a.reportBatchEntries()).toEqual([[1024, 10], [0, 10], [3072, 9]]);
    a.reportDrain(true);
    expect(reported(a, [1024, 0, 3072])).toEqual([true, true, true]);
    a.check();
  });
});
