// A guest in a recorded state: exactly from kpageflags, or count for count from buddyinfo/pagetypeinfo.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { guestFromProc } from '../src/importers/start-state.js';
import { parseZoneinfo } from '../src/importers/zoneinfo.js';
import { parseBuddyinfo } from '../src/importers/buddyinfo.js';
import { parsePagetypeinfo, pagetypeCounts } from '../src/importers/pagetypeinfo.js';
import { memoryRangesFromDmesg } from '../src/importers/zoneinfo.js';
import { buddyinfoText } from '../src/core/procfs.js';

const E5 = fileURLToPath(new URL('../../shared/real-kernel/E5_trace256/', import.meta.url));
const read = (f: string) => readFileSync(E5 + f, 'utf8');

describe('start state from real /proc files', () => {
  const zoneinfo = parseZoneinfo(read('guest/pre.zoneinfo'), 'pre.zoneinfo');
  const memoryRanges = memoryRangesFromDmesg(read('guest/dmesg.txt'));

  it('from buddyinfo and pagetypeinfo: the same counts per zone, order and migratetype, and no block could merge', () => {
    const buddyinfo = parseBuddyinfo(read('guest/pre.buddyinfo'), 'pre.buddyinfo');
    const pagetypeinfo = parsePagetypeinfo(read('guest/pre.pagetypeinfo'), 'pre.pagetypeinfo');
    const g = guestFromProc({ zoneinfo, buddyinfo, pagetypeinfo, memoryRanges });
    g.check();
    expect(buddyinfoText(g)).toBe(read('guest/pre.buddyinfo'));
    const pti = g.pagetypeinfo();
    g.config.zones.forEach((z, zi) => {
      const real = pagetypeCounts(pagetypeinfo, z.name);
      for (let mt = 0; mt < 6; mt++) expect(pti[zi]![mt], `${z.name} mt ${mt}`).toEqual(real[mt]);
    });
    // Freeing nothing and merging nothing: every free block's buddy is not a free block of the same order.
    g.config.zones.forEach((_, zi) => {
      for (let o = 0; o < 10; o++) for (let mt = 0; mt < 6; mt++) {
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
