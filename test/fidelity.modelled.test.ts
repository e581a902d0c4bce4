// E5, modelled replay: only the trace's allocations and frees reach the simulator, whose own 6.1 per-cpu lists
// decide every bulk free (mm_page_pcpu_drain) and refill (mm_page_alloc_zone_locked). Figures asserted are the
// level the replay reaches today; the ablation (empty start lists) shows the same measures do fail.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRun, type Run } from '../src/importers/run-folder.js';
import { replayTrace, type TraceReplayResult } from '../src/replay/trace-replay.js';
import { compareTrace, type TraceComparison } from '../src/replay/compare.js';
import { WasmGuest } from '../src/core/guest.js';
import { SimError } from '../src/core/errors.js';
import { MigrateType } from '../src/core/types.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E5 = REAL + 'E5_trace256';

describe('WasmGuest.pcpPlace', () => {
  const make = () => {
    const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: 64 * 2 ** 20, cpus: 2 });
    g.boot();
    return g;
  };
  const codeOf = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      return (e as SimError).code;
    }
    return 'no error';
  };

  it('puts an allocated head at the head or tail of a cpu list, count grows, no bulk free even above high', () => {
    const g = make();
    const zone = g.config.zones.findIndex((z) => z.name === 'DMA32');
    const high = g.config.zones[zone]!.pcpHigh;
    const pfns: number[] = [];
    for (let i = 0; i < high + 10; i++) pfns.push(g.alloc(0, MigrateType.MOVABLE, { cpu: 0 }));
    g.drainPcp();
    const drains = g.counters().pcpDrains;
    const before = g.pcpPages(zone);
    const allocated = g.allocatedPages();
    pfns.forEach((p, i) => g.pcpPlace(p, 0, 1, i % 2 === 0));
    expect(g.counters().pcpDrains).toBe(drains);
    expect(g.pcpPages(zone) - before).toBe(high + 10);
    expect(g.allocatedPages()).toBe(allocated - high - 10);
    const list = g.pcpList(1, zone, 3 * 0 + MigrateType.MOVABLE);
    // Odd positions went to the head, even ones to the tail: the last of each is at that end.
    const idx = [...pfns.keys()];
    expect(list[0]).toBe(pfns[idx.filter((i) => i % 2 === 1).at(-1)!]);
    expect(list.at(-1)).toBe(pfns[idx.filter((i) => i % 2 === 0).at(-1)!]);
    expect(list.length).toBe(high + 10);
    expect(g.pfnState(pfns[0]!)).toMatchObject({ kind: 'pcp', cpu: 1, order: 0, mt: MigrateType.MOVABLE });
    g.check();
    // The next allocation on cpu 1 takes the head, as a free would have left it.
    expect(g.alloc(0, MigrateType.MOVABLE, { cpu: 1 })).toBe(list[0]);
  });

  it('validates before changing anything', () => {
    const g = make();
    const p = g.alloc(0, MigrateType.MOVABLE, { cpu: 0 });
    const q = g.alloc(2, MigrateType.MOVABLE, { cpu: 0 });
    const free = g.freeList(1, 10, MigrateType.MOVABLE)[0]!;
    const count = g.pcpPages(1);
    expect(codeOf(() => g.pcpPlace(free, 10, 0, false))).toBe('BAD_ORDER'); // not a per-cpu order
    expect(codeOf(() => g.pcpPlace(free, 9, 0, false))).toBe('NOT_ALLOCATED');
    expect(codeOf(() => g.pcpPlace(p, 0, 2, false))).toBe('BAD_CPU');
    expect(codeOf(() => g.pcpPlace(q, 1, 0, false))).toBe('WRONG_ORDER');
    expect(codeOf(() => g.pcpPlace(q + 1, 0, 0, false))).toBe('NOT_ALLOCATED');
    expect(codeOf(() => g.pcpPlace(p + 1, 1, 0, false))).toBe('MISALIGNED');
    expect(codeOf(() => g.pcpPlace(-1, 0, 0, false))).toBe('PFN_OUT_OF_RANGE');
    g.setPageblockMt(p, MigrateType.ISOLATE);
    expect(codeOf(() => g.pcpPlace(p, 0, 0, false))).toBe('BAD_MIGRATETYPE');
    expect(g.pcpPages(1)).toBe(count);
    g.check();
  });
});

describe('WasmGuest per-cpu read-outs (what replay reads instead of linear memory)', () => {
  it('list index and order follow 6.1 order_to_pindex; count, head and recorded type follow the lists', () => {
    const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: 1024 * 2 ** 20, cpus: 2 });
    g.boot();
    expect(g.pcpListCount).toBe(13);
    expect([g.pcpIndex(0, MigrateType.UNMOVABLE), g.pcpIndex(0, MigrateType.MOVABLE), g.pcpIndex(3, MigrateType.RECLAIMABLE)]).toEqual([0, 1, 11]);
    expect([g.pcpIndex(1, MigrateType.HIGHATOMIC), g.pcpIndex(9, MigrateType.UNMOVABLE), g.pcpIndex(4, MigrateType.MOVABLE)]).toEqual([4, 12, -1]);
    expect([0, 1, 3, 4, 11, 12].map((p) => g.pcpIndexOrder(p))).toEqual([0, 0, 1, 1, 3, 9]);
    const zone = g.config.zones.findIndex((z) => z.name === 'DMA32');
    expect(g.pcpListHead(1, zone, 1)).toBe(-1);
    const x = g.alloc(0, MigrateType.MOVABLE, { cpu: 1 });
    // The refill left batch - 1 pages behind x, the next one first.
    const list = g.pcpList(1, zone, 1);
    expect(list.length).toBe(g.config.zones[zone]!.pcpBatch - 1);
    expect(g.pcpListHead(1, zone, 1)).toBe(list[0]);
    expect(g.pcpCount(1, zone)).toBe(list.length);
    expect(g.pcpLists(1, zone)[1]).toEqual(list);
    expect(g.recordedMt(x)).toBe(MigrateType.MOVABLE);
    expect(g.recordedMt(list[0]!)).toBe(MigrateType.MOVABLE);
    expect(() => g.pcpCount(2, zone)).toThrow(SimError);
    expect(() => g.pcpList(0, zone, 13)).toThrow(SimError);
    expect(WasmGuest.create({ profile: 'linux-5.7', memBytes: 64 * 2 ** 20 }).pcpIndex(1, MigrateType.MOVABLE)).toBe(-1);
  });
});

describe.skipIf(!haveReal('E5_trace256'))(needsReal('E5 modelled trace replay', 'E5_trace256'), () => {
  let run: Run;
  let r: TraceReplayResult;
  let c: TraceComparison;
  beforeAll(() => {
    run = loadRun(E5);
    r = replayTrace(run, { mode: 'modelled', delayMs: 'trace' });
    c = compareTrace(run, r);
  }, 40_000);

  it('rebuilds the start per-cpu lists: cpu 1 pinned by its bulk frees, cpu 0 from zoneinfo', () => {
    const m = r.modelled!;
    expect(m.initial.map(({ lists: _, ...x }) => x)).toEqual([
      // No bulk free on cpu 0: zoneinfo's 330 is inside the bounds (at least the 27 pages its allocations need).
      { cpu: 0, zone: 'DMA32', count: 330, pinnedBy: 'zoneinfo', known: 31, placeholders: 299, zoneinfo: 330, bounds: [27, null], freeFactor: 0 },
      // The trace names every page of cpu 1's lists; its first bulk free and the free before it pin count at 763
      // (zoneinfo, read a moment earlier, says 1159).
      { cpu: 1, zone: 'DMA32', count: 763, pinnedBy: 'drain', known: 763, placeholders: 0, zoneinfo: 1159, bounds: [763, 763], freeFactor: 0 },
    ]);
    // cpu 0's UNMOVABLE order-0 list is refilled after 15 start pages: the unnamed pages go on its MOVABLE list,
    // which the trace never shows empty.
    expect(m.initial[0]!.lists).toEqual([
      { pindex: 0, order: 0, named: 15, placeholders: 0, closedBy: 'refill' },
      { pindex: 1, order: 0, named: 10, placeholders: 299, closedBy: null },
      { pindex: 3, order: 1, named: 6, placeholders: 0, closedBy: null },
    ]);
    // Every list of cpu 1 is shown used up, by a refill, a bulk free, or the exit's free_high flush.
    expect(m.initial[1]!.lists.every((l) => l.closedBy !== null && l.placeholders === 0)).toBe(true);
    expect(m.initial[1]!.lists.map((l) => l.closedBy)).toContain('skipped');
    expect(m.initialSkipped).toBe(0);
    expect(m.startContradictions).toBe(0);
  });

  it('every allocation is the simulator\'s own pick: nothing carved', () => {
    const m = r.modelled!;
    expect(m.allocs).toBe(66334);
    expect(m.allocSamePfn).toBe(66334);
    // Of these, 197 took pages of the rebuilt start lists (their order came from the trace itself).
    expect(m.allocSameFromStartLists).toBe(197);
    expect({ pcp: m.carvedFromPcp, buddy: m.carvedFromBuddy, failed: m.carveFailed }).toEqual({ pcp: 0, buddy: 0, failed: 0 });
    expect(m.frees).toBe(66377);
    expect(m.freeNotAllocated).toBe(0);
  });

  it('reproduces every mm_page_pcpu_drain: same page, order and position; all 35 bulk frees', () => {
    const d = r.modelled!.drains;
    expect({ trace: d.trace, sim: d.sim, same: d.same }).toEqual({ trace: 66103, sim: 66103, same: 66103 });
    expect(d.sameFromStartLists).toBe(366);
    expect({ t: d.traceGroups, s: d.simGroups, same: d.groupsSame }).toEqual({ t: 35, s: 35, same: 35 });
    expect(d.tracePages).toBe(d.simPages);
  });

  it('reproduces every mm_page_alloc_zone_locked: all 1044 refills block for block', () => {
    const z = r.modelled!.zoneLocked;
    expect({ trace: z.trace, sim: z.sim, same: z.same }).toEqual({ trace: 65740, sim: 65740, same: 65740 });
    expect(z.sameFromStartLists).toBe(0);
    expect({ t: z.traceGroups, s: z.simGroups, same: z.groupsSame }).toEqual({ t: 1044, s: 1044, same: 1044 });
  });

  it('reports what the kernel reported, block for block, and ends with the real free blocks', () => {
    expect(r.boot).toEqual({ passes: 4, calls: 7, blocks: 208, blocksSame: 208, callsSame: 7, reportedMismatch: 0 });
    expect(c.passes.calls).toEqual({ real: 2, sim: 2, same: 2 });
    expect(c.passes.blocks).toEqual({ real: 64, sim: 64, samePosition: 64, sameSet: 64 });
    expect(c.passes.passesSame).toBe(1);
    expect(Math.abs(c.passes.startDeltas[0]!)).toBeLessThan(1e-6);
    const b = c.endBlocks;
    expect(b.same).toBe(272);
    expect(b.commonPages).toBe(b.realPages);
    expect(b.simPages - b.realPages).toBe(8 * 63); // the dump tool's untraced refills, as in the forced mode
  });

  it('ablation: with empty start lists the same measures fail', () => {
    const e = replayTrace(run, { mode: 'modelled', pcpStart: 'empty' });
    const m = e.modelled!;
    expect(m.initial).toEqual([]);
    expect(m.drains.same).toBeLessThan(1000);
    expect(m.drains.groupsSame).toBe(0);
    expect(m.zoneLocked.same).toBeLessThan(m.zoneLocked.trace);
    expect(m.allocSamePfn).toBeLessThan(m.allocs);
    expect(m.carvedFromPcp + m.carveFailed).toBeGreaterThan(0);
    expect(compareTrace(run, e).passes.calls.same).toBe(0);
  });
});
