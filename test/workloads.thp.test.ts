// Transparent huge pages in the workloads: 2 MiB extents faulted as order-9 folios through 6.1's per-cpu THP
// list, a 4 KiB fallback when no order-9 block can be had, folios freed whole, and MADV_DONTNEED inside a folio
// freeing nothing.
import { describe, expect, it } from 'vitest';
import { WasmGuest } from '../src/core/guest.js';
import { MigrateType } from '../src/core/types.js';
import { VirtualClock } from '../src/clock/clock.js';
import { Memhog } from '../src/workloads/memhog.js';
import { Fragment } from '../src/workloads/fragment.js';
import { AnonMapping } from '../src/workloads/mapping.js';
import { simulate } from '../src/sim/engine.js';
import { parseScenario } from '../src/scenario/load.js';
import { ScenarioError } from '../src/schema/errors.js';
import { allocatorFactories, smallGuest } from './helpers/factories.js';

/** 32 MiB, one zone, per-cpu lists on with small high/batch so drains are easy to count. */
function guest(pcpHigh = 2048, pcpBatch = 63): WasmGuest {
  const g = new WasmGuest(smallGuest({ pages: 8192, pcp: true, cpus: 2, pcpHigh, pcpBatch }));
  g.boot();
  g.takeNotifications();
  return g;
}

describe('AnonMapping with THP', () => {
  it('faults whole extents as order-9 folios through the per-cpu THP list (refilled two blocks at a time)', () => {
    const g = guest();
    const m = new AnonMapping(g, 1, true);
    m.touch(100);
    expect(m.entries).toBe(0); // an extent is faulted only once touched whole
    m.touch(412);
    expect(m.entries).toBe(1);
    expect(m.thpFaults).toBe(1);
    const head = m.heads.data[0]!;
    expect(g.pfnState(head)).toMatchObject({ kind: 'allocated', order: 9 });
    // rmqueue_pcplist: an empty list is refilled with max(batch >> 9, 2) = 2 blocks; one is left on cpu 1's list.
    expect(g.pcpList(1, 0, 12).length).toBe(1);
    // The fault's page table came off the UNMOVABLE order-0 list, refilled with batch (63) pages: 62 left.
    expect(m.pageTables.length).toBe(1);
    expect(g.pcpPages(0)).toBe(512 + 62);
    m.touch(512 + 10, true);
    expect(m.thpFaults).toBe(2);
    expect(m.pages).toBe(1034);
    expect(m.entries).toBe(2 + 10); // the tail shorter than an extent takes 4 KiB pages
    expect(g.counters().allocFailures).toBe(0);
    g.check();
  });

  it('falls back to 4 KiB pages when no order-9 block is free; the fallback is counted, not a failure', () => {
    const g = guest();
    // Pin one page in every pageblock: no order-9 block can form anywhere.
    const pinned: number[] = [];
    for (let p = g.alloc(0, MigrateType.MOVABLE, { cpu: 0 }); p >= 0; p = g.alloc(0, MigrateType.MOVABLE, { cpu: 0 })) pinned.push(p);
    expect(pinned.length).toBeGreaterThan(8000);
    for (const p of pinned) if (p % 512 !== 0) g.free(p, 0, { cpu: 0, direct: true });
    const failuresBefore = g.counters().allocFailures;
    expect(g.buddyinfo()[0]![9]).toBe(0);
    const m = new AnonMapping(g, 0, true);
    m.touch(1024, true);
    expect(m.thpFaults).toBe(0);
    expect(m.thpFallbacks).toBe(2);
    expect(m.entries).toBe(1024);
    expect(g.counters().allocFailures).toBe(failuresBefore);
    g.check();
  });

  it('MADV_DONTNEED of every other page frees 4 KiB pages but nothing of a folio', () => {
    const g = guest();
    const huge = new AnonMapping(g, 0, true);
    huge.touch(2048, true);
    const small = new AnonMapping(g, 1, false);
    small.touch(2048, true);
    expect(huge.dontneedEvery(2)).toBe(0);
    expect(huge.entries).toBe(4);
    expect(small.dontneedEvery(2)).toBe(1024);
    expect(small.entries).toBe(1024);
    g.check();
  });
});

describe('memhog and fragment with thp', () => {
  const run = (w: Memhog | Fragment, g: WasmGuest, untilMs: number) => {
    const clock = new VirtualClock();
    w.start({ guest: g, clock, seed: 1 });
    clock.runUntil(untilMs);
  };

  it('memhog frees whole folios onto the per-cpu THP list; what stays there is not in the buddy', () => {
    const g = guest(2048, 63);
    const w = new Memhog({ kind: 'memhog', startS: 0, mib: 16, holdS: 0.1, thp: 'madvise', cpu: 1, exitAfterFree: false });
    run(w, g, 2000);
    expect(w.counts()).toMatchObject({ thpFaults: 8, thpFallbacks: 0 });
    expect(w.markers()['freeDone']).toBeGreaterThan(0);
    // free_unref_page_commit: each folio adds 512 to count; at count >= high a bulk free of batch << free_factor
    // pages takes whole folios from the list tail, so some folios are left on cpu 1's THP list.
    const left = g.pcpList(1, 0, 12).length;
    expect(left).toBeGreaterThan(0);
    expect(g.pcpPages(0)).toBeGreaterThanOrEqual(left * 512);
    expect(g.freePages(0) + g.pcpPages(0) + g.allocatedPages()).toBe(8192);
    g.check();
  });

  it('a THP fragment run keeps its folios through the hold; the 4 KiB run frees half its pages', () => {
    const holdFree = (thp: 'never' | 'madvise') => {
      const g = guest(4096, 63);
      const before = g.freePages(0) + g.pcpPages(0);
      const w = new Fragment({ kind: 'fragment', startS: 0, mib: 8, every: 2, holdS: 5, thp, cpu: 0, exitAfterFree: false });
      run(w, g, 1000); // inside the hold
      return before - (g.freePages(0) + g.pcpPages(0));
    };
    // All 8 MiB still mapped, and one page table per 2 MiB.
    expect(holdFree('madvise')).toBe(2048 + 4);
    expect(holdFree('never')).toBe(1024 + 4);
  });
});

describe('thp in a scenario', () => {
  it('runs end to end and reports the folios faulted', async () => {
    const r = await simulate({
      durationS: 12, guests: [{
        guest: { memBytes: 256 * 2 ** 20, cpus: 1 }, policy: { kind: 'reporting' },
        workloads: [{ kind: 'memhog', startS: 1, mib: 64, holdS: 1, thp: 'always' }],
      }],
    });
    expect(r.guests[0]!.metrics.workloads.thpFaults).toBe(32);
    expect(r.guests[0]!.metrics.workloads.thpFallbacks).toBe(0);
  });

  it('the schema takes thp on memhog, fragment and burst, and refuses it on a guest with THP off', () => {
    const base = (w: object, thp?: boolean) => JSON.stringify({
      durationS: 10, guests: [{ memMiB: 256, ...(thp === undefined ? {} : { thp }), workloads: [w] }],
    });
    expect(() => parseScenario(JSON.parse(base({ kind: 'memhog', startS: 1, mib: 8, holdS: 1, thp: 'madvise' })), "s.json")).not.toThrow();
    expect(() => parseScenario(JSON.parse(base({ kind: 'fragment', startS: 1, mib: 8, every: 2, holdS: 1, thp: 'always' })), "s.json")).not.toThrow();
    expect(() => parseScenario(JSON.parse(base({ kind: 'burst', startS: 1, mib: 8, periodS: 2, holdS: 1, count: 2, thp: 'never' })), "s.json")).not.toThrow();
    expect(() => parseScenario(JSON.parse(base({ kind: 'memhog', startS: 1, mib: 8, holdS: 1, thp: 'sometimes' })), "s.json")).toThrow(ScenarioError);
    try {
      parseScenario(JSON.parse(base({ kind: 'memhog', startS: 1, mib: 8, holdS: 1, thp: 'always' }, false)), "s.json");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/guests\[0\]\.workloads\[0\]\.thp/);
    }
  });

  it('a workload on a cpu the guest does not have is a SimError naming it', async () => {
    await expect(simulate({
      durationS: 2, guests: [{ guest: { memBytes: 256 * 2 ** 20, cpus: 1 }, policy: { kind: 'none' }, workloads: [{ kind: 'memhog', startS: 0, mib: 8, holdS: 1, cpu: 1 }] }],
    })).rejects.toThrow(/guests\[0\]\.workloads\[0\]\.cpu: expected a cpu of this 1-cpu guest/);
  });
});

describe('alloc with mayFail (both implementations)', () => {
  it.each(allocatorFactories)('$name: a failure the caller falls back from is not counted', ({ make }) => {
    const a = make(smallGuest({ pages: 1024 }));
    a.boot();
    expect(a.alloc(10, MigrateType.MOVABLE)).toBeGreaterThanOrEqual(0);
    expect(a.alloc(9, MigrateType.MOVABLE, { mayFail: true })).toBe(-1);
    expect(a.counters().allocFailures).toBe(0);
    expect(a.alloc(9, MigrateType.MOVABLE)).toBe(-1);
    expect(a.counters().allocFailures).toBe(1);
  });
});
