// The reference model alone: check() really catches broken state (so "check passes" means something), and the
// misuses the rules leave open are refused with BAD_STATE instead of corrupting state.
import { describe, it, expect } from 'vitest';
import { InvariantError } from '../src/core/errors.js';
import { CycleResult, MigrateType } from '../src/core/types.js';
import { ReferenceAllocator } from '../src/model/reference.js';
import { expectSimError, smallGuest, snapshot } from './helpers/factories.js';

const { MOVABLE, ISOLATE } = MigrateType;

/** Direct access to the model's arrays (its state, src/model/state.ts), to break them on purpose. */
interface Internals {
  kind: Uint8Array;
  order: Uint8Array;
  mt: Uint8Array;
  reported: Uint8Array;
  next: Int32Array;
  prev: Int32Array;
  nrFree: Int32Array;
  nrFreePages: number[];
  pcpCount: Int32Array;
  stats: { inflightPages: number };
  pageblockMt: Uint8Array;
}

function internals(a: ReferenceAllocator): Internals {
  return (a as unknown as { s: Internals }).s;
}

function booted(pages = 2048, pcp = false): ReferenceAllocator {
  const a = new ReferenceAllocator(smallGuest({ pages, pcp, pcpHigh: 64, pcpBatch: 4 }));
  a.boot();
  return a;
}

describe('reference model: check() catches corruption', () => {
  const cases: Array<[string, (a: ReferenceAllocator, m: Internals) => void]> = [
    ['a present pfn in no block', (_, m) => { m.kind[0] = 0; }],
    ['two overlapping blocks', (_, m) => { m.kind[5] = 2; }],
    ['a misaligned head', (_, m) => { m.order[1024] = 10; m.kind[1024] = 0; m.kind[1023] = 1; m.order[1023] = 0; }],
    ['Reported on an allocated block', (a, m) => { const p = a.alloc(0, MOVABLE); m.reported[p] = 1; }],
    ['Reported inside a block', (_, m) => { m.reported[3] = 1; }],
    ['nr_free off by one', (_, m) => { m.nrFree[10]!++; }],
    ['NR_FREE_PAGES off', (_, m) => { m.nrFreePages[0]! -= 1; }],
    ['a broken back link', (a, m) => { a.alloc(0, MOVABLE); m.prev[1024] = 7; }],
    ['a free head on the wrong list', (_, m) => { m.mt[0] = ISOLATE; }],
    ['an in-flight count that disagrees', (a, m) => { a.isolate(0, 10); m.stats.inflightPages = 0; }],
    ['an unknown pageblock type', (_, m) => { m.pageblockMt[1] = 9; }],
  ];
  it.each(cases)('%s', (_, corrupt) => {
    const a = booted();
    a.check();
    corrupt(a, internals(a));
    expect(() => a.check()).toThrow(InvariantError);
  });

  it('a per-cpu count that disagrees with its lists', () => {
    const a = booted(2048, true);
    a.alloc(0, MOVABLE);
    a.check();
    internals(a).pcpCount[0]!++;
    expect(() => a.check()).toThrow(InvariantError);
  });
});

describe('reference model: misuse is refused with BAD_STATE and changes nothing', () => {
  it('boot outside the initial state', () => {
    const a = booted();
    const before = snapshot(a);
    expectSimError(() => a.boot(), 'BAD_STATE');
    expect(snapshot(a)).toEqual(before);
  });

  it('a step, a new cycle or a batch reset while a full batch awaits its drain', () => {
    const a = booted(5 * 1024);
    a.reportBatchReset(4);
    a.reportCycleBegin(0, 10, MOVABLE);
    expect(a.reportCycleStep()).toBe(CycleResult.REPORT);
    const before = snapshot(a);
    expectSimError(() => a.reportCycleStep(), 'BAD_STATE');
    expectSimError(() => a.reportCycleBegin(0, 10, MOVABLE), 'BAD_STATE');
    expectSimError(() => a.reportBatchReset(8), 'BAD_STATE');
    expect(snapshot(a)).toEqual(before);
    a.reportDrain(true);
    expect(a.reportCycleStep()).toBe(CycleResult.DONE);
    a.check();
  });

  it('a drain whose entries were put back behind its back', () => {
    const a = booted(5 * 1024);
    a.reportBatchReset(4);
    a.reportCycleBegin(0, 10, MOVABLE);
    a.reportCycleStep();
    a.putback(0, 10);
    const before = snapshot(a);
    expectSimError(() => a.reportDrain(true), 'BAD_STATE', 0);
    expect(snapshot(a)).toEqual(before);
  });

  it('a reporting order that is neither 0..11 nor 255', () => {
    const a = booted();
    expectSimError(() => a.setReportingOrder(12), 'BAD_ORDER', 12);
    expectSimError(() => a.setReportingOrder(-1), 'BAD_ORDER', -1);
    expectSimError(() => a.setReportingOrder(NaN), 'BAD_ORDER', 'NaN');
    a.setReportingOrder(11); // MAX_ORDER: nothing reaches it, as before register
  });
});

describe('reference model: counters across clearToAllocated', () => {
  it('clearToAllocated zeroes the counters and pending notifications', () => {
    const a = booted();
    a.setReportingOrder(0);
    a.alloc(11 - 11, 4); // CMA request: fails, counted
    a.free(a.alloc(0, MOVABLE), 0);
    expect(a.counters().allocFailures).toBe(1);
    a.clearToAllocated();
    expect(a.counters()).toEqual({ allocFailures: 0, allocFailuresInFlight: 0, isolateFailures: 0, pcpDrains: 0, inflightPages: 0, inflightPeak: 0, notifies: 0 });
    expect(a.takeNotifications()).toBe(0);
  });
});
