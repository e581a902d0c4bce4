// A simulated guest that starts in a recorded state (the page runs policies on a dropped snapshot this way):
// the free lists, their order, Reported flags and pageblock types of the importers' guest, laid on a Simulation's
// guest instead of a boot, with its per-cpu lists; the host holds the pages in use, none of the free ones.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { guestFromProc } from '../src/importers/start-state.js';
import { memoryRangesFromDmesg, parseZoneinfo, zoneSpecsFromZoneinfo, cpusFromZoneinfo } from '../src/importers/zoneinfo.js';
import { Simulation } from '../src/sim/engine.js';
import { buddyinfoText } from '../src/importers/procfs.js';
import { ALL_MIGRATE_TYPES } from '../src/core/types.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E5 = `${REAL}E5_trace256/`;

describe.skipIf(!haveReal('E5_trace256'))(needsReal('start state', 'E5_trace256'), () => {
  it('reproduces every free list of a kpageflags-built guest, in order, with its Reported flags', () => {
    const read = (f: string) => readFileSync(E5 + f);
    const zoneinfo = parseZoneinfo(read('guest/pre.zoneinfo').toString(), 'pre.zoneinfo');
    const memoryRanges = memoryRangesFromDmesg(read('guest/dmesg.txt').toString());
    const src = guestFromProc({ zoneinfo, memoryRanges, kpageflags: read('guest/kpageflags.pre.bin.gz') });
    const state = src.startState();
    expect(state.free.some((b) => b.reported)).toBe(true);
    const zones = zoneSpecsFromZoneinfo(zoneinfo, { memoryRanges });
    const sim = new Simulation({ durationS: 1, guests: [{ guest: { zones, cpus: cpusFromZoneinfo(zoneinfo) }, policy: { kind: 'none' }, startState: state }] });
    sim.runSync(0);
    const g = sim.guests[0]!.guest;
    g.check();
    expect(buddyinfoText(g)).toBe(buddyinfoText(src));
    g.config.zones.forEach((_, z) => {
      for (let o = 0; o < 11; o++) for (const mt of ALL_MIGRATE_TYPES) {
        const list = g.freeList(z, o, mt);
        expect(list, `zone ${z} order ${o} mt ${mt}`).toEqual(src.freeList(z, o, mt));
        for (const pfn of list) expect(g.pfnState(pfn).reported).toBe(src.pfnState(pfn).reported);
      }
    });
    for (let pfn = 0; pfn < g.config.maxPfn; pfn += 512) expect(g.getPageblockMt(pfn)).toBe(src.getPageblockMt(pfn));
    // Resident: the pages in use (host pages of 2 MiB: those holding any of them), none of the free blocks'.
    const hp = new Set<number>();
    const free = new Uint8Array(g.config.maxPfn);
    for (const { pfn, order } of state.free) free.fill(1, pfn, pfn + 2 ** order);
    for (const z of g.config.zones) {
      for (let pfn = z.startPfn; pfn < z.endPfn; pfn++) {
        if (!free[pfn] && !z.holes.some(([a, b]) => pfn >= a && pfn < b)) hp.add(pfn >> 9);
      }
    }
    expect(g.hostCounters().rssPages).toBe(hp.size * 512);
    expect(g.hostCounters().refaults).toBe(0);
  });
});
