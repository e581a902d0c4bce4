import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveGuest } from '../src/core/config.js';
import {
  cpusFromZoneinfo, memoryRangesFromDmesg, parseZoneinfo, populatedZones, zoneSpecsFromZoneinfo, type Zoneinfo,
} from '../src/importers/zoneinfo.js';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';
import { parseError } from './helpers/factories.js';

const read = (p: string) => readFileSync(REAL + p, 'utf8');
const E5_PRE = 'E5_trace256/guest/pre.zoneinfo';

const HAVE_E5 = haveReal('E5_trace256');

describe.skipIf(!HAVE_E5)(needsReal('parseZoneinfo on the real 1 GiB 6.1 guest', 'E5_trace256'), () => {
  let info: Zoneinfo;
  beforeAll(() => {
    info = parseZoneinfo(read(E5_PRE), E5_PRE);
  });

  it('lists every zone the kernel prints, populated or not', () => {
    expect(info.zones.map((z) => z.name)).toEqual(['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
    expect(populatedZones(info).map((z) => z.name)).toEqual(['DMA', 'DMA32']);
    expect(info.zones.every((z) => z.node === 0)).toBe(true);
  });

  it('reads DMA', () => {
    const dma = info.zones[0]!;
    expect(dma).toMatchObject({
      free: 3808, boost: 0, min: 177, low: 221, high: 265, spanned: 4095, present: 3998, managed: 3840, cma: 0,
      protection: [0, 936, 936, 936, 936], nrFreePages: 3808, startPfn: 1, nodeUnreclaimable: 0,
    });
    expect(dma.pcp).toEqual([
      { cpu: 0, count: 0, high: 110, batch: 1, vmStatsThreshold: 4 },
      { cpu: 1, count: 0, high: 110, batch: 1, vmStatsThreshold: 4 },
    ]);
  });

  it('reads DMA32: THP-raised watermarks, per-cpu high 6928 batch 63', () => {
    const dma32 = info.zones[1]!;
    expect(dma32).toMatchObject({
      free: 212636, min: 11086, low: 13857, high: 16628, spanned: 258013, present: 258013, managed: 242031,
      protection: [0, 0, 0, 0, 0], nrFreePages: 212636, startPfn: 4096,
    });
    expect(dma32.pcp.map((p) => [p.count, p.high, p.batch])).toEqual([[384, 6928, 63], [1106, 6928, 63]]);
    expect(dma32.stats['numa_hit']).toBe(28161);
  });

  it('keeps the per-node stats apart from the zone counters', () => {
    expect(info.nodeStats.get(0)!['nr_inactive_anon']).toBe(92);
    expect(info.zones[0]!.stats['nr_inactive_anon']).toBeUndefined();
    expect(info.zones[0]!.stats['nr_zone_inactive_anon']).toBe(0);
  });

  it('empty zones have counters but no pagesets, vmstat block or start_pfn', () => {
    const normal = info.zones[2]!;
    expect(normal).toMatchObject({ free: 0, spanned: 0, present: 0, managed: 0, pcp: [] });
    expect(normal.startPfn).toBeUndefined();
    expect(normal.nrFreePages).toBeUndefined();
  });

  it('parses every zoneinfo file of every run; pages free = nr_free_pages; zone bounds and pcp high/batch never move within a run', () => {
    let files = 0;
    for (const run of RUNS) {
      const names = readdirSync(`${REAL}${run}/guest`).filter((n) => n.endsWith('.zoneinfo'));
      expect(names.length, run).toBeGreaterThan(0);
      let first: unknown;
      for (const f of names) {
        const z = populatedZones(parseZoneinfo(read(`${run}/guest/${f}`), f));
        files++;
        expect(z.map((x) => x.name).slice(0, 2)).toEqual(['DMA', 'DMA32']);
        for (const x of z) expect(x.free).toBe(x.nrFreePages);
        // What only boot decides: the same in every snapshot of one run.
        const fixed = z.map((x) => [x.name, x.startPfn, x.spanned, x.present, x.pcp.map((p) => [p.high, p.batch])]);
        if (first === undefined) first = fixed;
        else expect(fixed, `${run}/${f}`).toEqual(first);
      }
    }
    expect(files).toBeGreaterThanOrEqual(RUNS.length);
  });

  it('the 1 GiB runs: DMA pfn 1..4095, DMA32 4096..262108, DMA32 pcp high 6928 / batch 63', () => {
    const z = populatedZones(parseZoneinfo(read(E5_PRE), E5_PRE));
    expect(z.map((x) => [x.name, x.startPfn, x.spanned, x.present])).toEqual([['DMA', 1, 4095, 3998], ['DMA32', 4096, 258013, 258013]]);
    expect(z[1]!.pcp.every((p) => p.high === 6928 && p.batch === 63)).toBe(true);
  });
});

describe.skipIf(!HAVE_E5)(needsReal('zoneSpecsFromZoneinfo', 'E5_trace256'), () => {
  let info: Zoneinfo;
  beforeAll(() => {
    info = parseZoneinfo(read(E5_PRE), E5_PRE);
  });

  it('gives the real layout: DMA [1, 4096) with the 97-page legacy hole, DMA32 [4096, 262109)', () => {
    const specs = zoneSpecsFromZoneinfo(info);
    expect(specs).toEqual([
      {
        name: 'DMA', startPfn: 1, endPfn: 4096, holes: [[159, 256]], managed: 3840,
        watermarks: { min: 177, low: 221, high: 265 }, lowmemReserve: [0, 936], pcpHigh: 110, pcpBatch: 1,
      },
      {
        name: 'DMA32', startPfn: 4096, endPfn: 262109, managed: 242031,
        watermarks: { min: 11086, low: 13857, high: 16628 }, lowmemReserve: [0, 0], pcpHigh: 6928, pcpBatch: 63,
      },
    ]);
    expect(cpusFromZoneinfo(info)).toBe(2);
  });

  it('the dmesg memory ranges put the holes at the same place', () => {
    const ranges = memoryRangesFromDmesg(read('E5_trace256/guest/dmesg.txt'));
    expect(ranges).toEqual([[1, 159], [256, 262109]]);
    expect(zoneSpecsFromZoneinfo(info, { memoryRanges: ranges })).toEqual(zoneSpecsFromZoneinfo(info));
  });

  it('memory ranges that disagree with spanned - present are refused', () => {
    expect(() => zoneSpecsFromZoneinfo(info, { memoryRanges: [[1, 262109]] })).toThrow(/DMA: memory ranges leave 0 pages/);
  });

  it('puts missing pages of a zone other than DMA at its end', () => {
    const text = read(E5_PRE).replace('present  258013', 'present  258000');
    const dma32 = zoneSpecsFromZoneinfo(parseZoneinfo(text))[1]!;
    expect(dma32.holes).toEqual([[262096, 262109]]);
  });

  it('resolveGuest takes the specs as they are', () => {
    const g = resolveGuest({ profile: 'linux-6.1', zones: zoneSpecsFromZoneinfo(info), cpus: cpusFromZoneinfo(info) });
    expect(g.maxPfn).toBe(262109);
    expect(g.zones.map((z) => [z.name, z.present, z.managed, z.pcpHigh, z.pcpBatch])).toEqual([
      ['DMA', 3998, 3840, 110, 1], ['DMA32', 258013, 242031, 6928, 63],
    ]);
    expect(g.zones[1]!.watermarks).toEqual({ min: 11086, low: 13857, high: 16628 });
    expect(g.zones[0]!.lowmemReserve).toEqual([0, 936]);
  });
});

describe.skipIf(!HAVE_E5)(needsReal('malformed zoneinfo', 'E5_trace256'), () => {
  let text: string;
  beforeAll(() => {
    text = read(E5_PRE);
  });
  const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

  it('names file, line, field and value of a bad number', () => {
    const e = parseError(() => parseZoneinfo(text.replace('min      11086', 'min      11x86'), 'pre.zoneinfo'));
    expect(e.details).toMatchObject({ file: 'pre.zoneinfo', line: lineOf('min      11086'), field: 'min', value: '11x86' });
    expect(e.message).toMatch(/^pre\.zoneinfo:\d+: min: '11x86'/);
  });

  it('names a bad protection array', () => {
    const e = parseError(() => parseZoneinfo(text.replace('protection: (0, 936,', 'protection: (0, abc,'), 'z'));
    expect(e.details).toMatchObject({ line: lineOf('protection: (0, 936,'), field: 'protection', value: 'abc' });
  });

  it('refuses text before the first zone header and a zone without watermarks', () => {
    expect(parseError(() => parseZoneinfo('hello\n' + text, 'z')).details).toMatchObject({ line: 1, field: 'header', value: 'hello' });
    const e = parseError(() => parseZoneinfo('Node 0, zone      DMA\n  pages free     3\n', 'z'));
    expect(e.details).toMatchObject({ line: 1, field: 'min' });
  });

  it('refuses a per-cpu pageset without batch', () => {
    const e = parseError(() => parseZoneinfo(text.replace('              batch: 63\n', ''), 'z'));
    expect(e.details).toMatchObject({ field: 'batch', zone: 'DMA32', cpu: 0 });
  });
});
