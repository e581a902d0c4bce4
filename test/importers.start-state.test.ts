// A guest in a recorded state: exactly from kpageflags, or count for count from buddyinfo/pagetypeinfo.
import { beforeAll, describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { guestFromProc, startStateFromProc } from '../src/importers/start-state.js';
import { parseZoneinfo, populatedZones, type Zoneinfo } from '../src/importers/zoneinfo.js';
import { parseBuddyinfo, type BuddyinfoRow } from '../src/importers/buddyinfo.js';
import { parsePagetypeinfo, pagetypeCounts, type Pagetypeinfo } from '../src/importers/pagetypeinfo.js';
import { memoryRangesFromDmesg } from '../src/importers/zoneinfo.js';
import { buddyinfoText } from '../src/importers/procfs.js';
import { ALL_MIGRATE_TYPES } from '../src/core/types.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E5 = `${REAL}E5_trace256/`;
const read = (f: string) => readFileSync(E5 + f, 'utf8');

describe.skipIf(!haveReal('E5_trace256'))(needsReal('start state from real /proc files', 'E5_trace256'), () => {
  let zoneinfo: Zoneinfo, memoryRanges: Array<[number, number]>;
  beforeAll(() => {
    zoneinfo = parseZoneinfo(read('guest/pre.zoneinfo'), 'pre.zoneinfo');
    memoryRanges = memoryRangesFromDmesg(read('guest/dmesg.txt'));
  });

  it('from buddyinfo and pagetypeinfo: the same counts per zone, order and migratetype, and no block could merge', () => {
    const buddyinfo = parseBuddyinfo(read('guest/pre.buddyinfo'), 'pre.buddyinfo');
    const pagetypeinfo = parsePagetypeinfo(read('guest/pre.pagetypeinfo'), 'pre.pagetypeinfo');
    const g = guestFromProc({ zoneinfo, buddyinfo, pagetypeinfo, memoryRanges });
    g.check();
    expect(buddyinfoText(g)).toBe(read('guest/pre.buddyinfo'));
    const pti = g.pagetypeinfo();
    g.config.zones.forEach((z, zi) => {
      const real = pagetypeCounts(pagetypeinfo, z.name);
      for (const mt of ALL_MIGRATE_TYPES) expect(pti[zi]![mt], `${z.name} mt ${mt}`).toEqual(real[mt]);
    });
    // Freeing nothing and merging nothing: every free block's buddy is not a free block of the same order.
    g.config.zones.forEach((_, zi) => {
      for (let o = 0; o < 10; o++) for (const mt of ALL_MIGRATE_TYPES) {
        for (const pfn of g.freeList(zi, o, mt)) {
          const b = g.pfnState(pfn ^ (1 << o));
          expect(b.kind === 'free' && b.isHead && b.order === o).toBe(false);
        }
      }
    });
  });

  it('from a kpageflags dump: the exact free blocks and their Reported flags', () => {
    const g = guestFromProc({ zoneinfo: parseZoneinfo(read('guest/kpf_pre.zoneinfo'), 'kpf_pre.zoneinfo'), memoryRanges, kpageflags: readFileSync(E5 + 'guest/kpageflags.pre.bin.gz') });
    g.check();
    const blocks = read('kpageflags.pre.blocks.csv').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    let inZones = 0;
    for (const [pfn, order, reported] of blocks) {
      const s = g.pfnState(pfn!);
      if (s.kind === 'hole') continue;
      inZones++;
      expect([s.kind, s.isHead, s.order, s.reported]).toEqual(['free', true, order, reported === 1]);
    }
    expect(inZones).toBeGreaterThan(200);
  });

  it('counts that cannot fit are an error naming the zone', () => {
    const buddyinfo = [{ node: 0, zone: 'DMA', counts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50] }, { node: 0, zone: 'DMA32', counts: new Array(11).fill(0) }];
    expect(() => guestFromProc({ zoneinfo, buddyinfo, memoryRanges })).toThrow(/zone DMA: buddyinfo counts 0 0 0 0 0 0 0 0 0 0 50 add up to 51200 free pages; the zone manages 3840/);
    // Few enough pages, but order-0 blocks must not sit beside a free buddy: only every other page can hold one.
    buddyinfo[0]!.counts = [3000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(() => guestFromProc({ zoneinfo, buddyinfo, memoryRanges })).toThrow(/zone DMA: 3000 order-0 blocks do not fit \(placed \d+\)/);
  });
});

describe.skipIf(!haveReal('E5_trace256'))(needsReal('the count-for-count inference rules', 'E5_trace256'), () => {
  let zoneinfo: Zoneinfo, memoryRanges: Array<[number, number]>, buddyinfo: BuddyinfoRow[], pagetypeinfo: Pagetypeinfo;
  let base: { zoneinfo: Zoneinfo; memoryRanges: Array<[number, number]>; buddyinfo: BuddyinfoRow[]; pagetypeinfo: Pagetypeinfo };
  beforeAll(() => {
    zoneinfo = parseZoneinfo(read('guest/pre.zoneinfo'), 'pre.zoneinfo');
    memoryRanges = memoryRangesFromDmesg(read('guest/dmesg.txt'));
    buddyinfo = parseBuddyinfo(read('guest/pre.buddyinfo'), 'pre.buddyinfo');
    pagetypeinfo = parsePagetypeinfo(read('guest/pre.pagetypeinfo'), 'pre.pagetypeinfo');
    base = { zoneinfo, memoryRanges, buddyinfo, pagetypeinfo };
  });

  it('blocks reported before the snapshot sit where the reports say, Reported, the last put back kept', () => {
    // Two order-10 blocks more than DMA32 has free were reported: the first put back went first.
    const dma32 = startStateFromProc(base).free.filter((b) => b.order === 10 && b.pfn >= 4096).length;
    const reported = Array.from({ length: dma32 + 2 }, (_, i) => ({ pfn: 4096 * 4 + i * 1024, order: 10 }));
    const s = startStateFromProc({ ...base, reported });
    const r = s.free.filter((b) => b.reported);
    expect(r.map((b) => b.pfn)).toEqual(reported.slice(2).map((b) => b.pfn));
    // List order: unreported blocks first in ascending pfn, then the reported in putback order.
    const firstReported = s.free.findIndex((b) => b.reported);
    expect(s.free.slice(firstReported).every((b) => b.reported)).toBe(true);
  });

  it('without a report log: every block of the reporting order and up Reported, in zones above the gate only', () => {
    const s = startStateFromProc({ ...base, reportedFromOrder: 9 });
    const g = guestFromProc({ ...base, reportedFromOrder: 9 });
    for (const b of s.free) {
      const dma = b.pfn < 4096; // DMA never passes low + 32 << 9
      expect(b.reported, `${b.pfn}/${b.order}`).toBe(!dma && b.order >= 9);
    }
    g.check();
  });

  it('small blocks are what is left of pageblocks eaten from the bottom: larger ones higher, one of each order', () => {
    const s = startStateFromProc(base);
    const small = s.free.filter((b) => b.order < 9).sort((a, b) => a.pfn - b.pfn);
    const byPageblock = new Map<number, typeof small>();
    for (const b of small) (byPageblock.get(b.pfn >> 9) ?? byPageblock.set(b.pfn >> 9, []).get(b.pfn >> 9)!).push(b);
    for (const [pb, blocks] of byPageblock) {
      // Going up the pageblock the orders rise and the blocks touch, ending at its top.
      for (let i = 1; i < blocks.length; i++) {
        expect(blocks[i]!.order).toBeGreaterThan(blocks[i - 1]!.order);
        expect(blocks[i]!.pfn).toBe(blocks[i - 1]!.pfn + 2 ** blocks[i - 1]!.order);
      }
      const last = blocks.at(-1)!;
      expect(last.pfn + 2 ** last.order).toBe((pb + 1) * 512);
    }
  });

  it('per-cpu pages: zoneinfo\'s count on each cpu, orders 0 to 3, on the list of their pageblock\'s type, never a whole free pageblock', () => {
    const g = guestFromProc(base);
    g.check();
    const zi = populatedZones(zoneinfo);
    g.config.zones.forEach((z, i) => {
      for (let c = 0; c < g.config.cpus; c++) {
        expect(g.pcpCount(c, i), `${z.name} cpu ${c}`).toBe(zi.find((x) => x.name === z.name)!.pcp[c]!.count);
      }
    });
    const s = startStateFromProc(base);
    const orders = new Set(s.pcp!.map((p) => p.order));
    expect([...orders].sort()).toEqual([0, 1, 2, 3]);
    for (const p of s.pcp!.slice(0, 200)) {
      const st = g.pfnState(p.pfn);
      expect(st.kind).toBe('pcp');
      expect(st.mt).toBe(st.pageblockMt === 3 || st.pageblockMt === 4 ? 1 : st.pageblockMt);
    }
    // Freeing every per-cpu page could not make a pageblock free: a page of each range stays allocated.
    g.drainPcp();
    expect(g.buddyinfo()[1]![9]).toBe(buddyinfo[1]!.counts[9]);
  });
});
