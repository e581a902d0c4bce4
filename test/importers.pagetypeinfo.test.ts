import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';
import { MigrateType } from '../src/core/types.js';
import { parseBuddyinfo } from '../src/importers/buddyinfo.js';
import {
  formatPagetypeinfo, formatPagetypeinfoFree, pagetypeCounts, pagetypeFreeRows, parsePagetypeinfo, type Pagetypeinfo,
} from '../src/importers/pagetypeinfo.js';
import { parseError } from './helpers/factories.js';

const FILES = RUNS.flatMap((r) => readdirSync(`${REAL}${r}/guest`).filter((f) => f.endsWith('.pagetypeinfo')).map((f) => `${r}/guest/${f}`));
const read = (p: string) => readFileSync(REAL + p, 'utf8');
const E5_PRE = 'E5_trace256/guest/pre.pagetypeinfo';

describe.skipIf(!haveReal('E5_trace256'))(needsReal('pagetypeinfo', 'E5_trace256'), () => {
  let info: Pagetypeinfo;
  beforeAll(() => {
    info = parsePagetypeinfo(read(E5_PRE), E5_PRE);
  });

  it('reads the header, the free counts and the block table of E5 pre', () => {
    expect(info.pageblockOrder).toBe(9);
    expect(info.pagesPerBlock).toBe(512);
    expect(info.orders).toBe(11);
    // A kernel without CONFIG_CMA: five types, Isolate keeps its number 5.
    expect(info.free.filter((r) => r.zone === 'DMA').map((r) => [r.type, r.mt])).toEqual([
      ['Unmovable', 0], ['Movable', 1], ['Reclaimable', 2], ['HighAtomic', 3], ['Isolate', 5],
    ]);
    expect(info.free.find((r) => r.zone === 'DMA32' && r.type === 'Movable')!.counts).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 206]);
    expect(info.blockTypes).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
    expect(info.blocks).toEqual([
      { node: 0, zone: 'DMA', counts: [1, 7, 0, 0, 0] },
      { node: 0, zone: 'DMA32', counts: [81, 418, 5, 0, 0] },
    ]);
  });

  it('E5 pre: the free counts summed over types equal buddyinfo', () => {
    const buddy = parseBuddyinfo(read('E5_trace256/guest/pre.buddyinfo'));
    for (const row of buddy) {
      const byMt = pagetypeCounts(info, row.zone);
      expect(byMt[MigrateType.CMA]).toEqual(new Array(11).fill(0));
      expect(row.counts.map((_, o) => byMt.reduce((s, c) => s + c[o]!, 0))).toEqual(row.counts);
    }
  });

  it('the block table covers each zone: DMA32 504 pageblocks (258013 pages rounded up)', () => {
    expect(info.blocks[1]!.counts.reduce((a, b) => a + b, 0)).toBe(Math.ceil(258013 / 512));
  });

  it.each(FILES)('round-trips %s byte for byte', (f) => {
    const text = read(f);
    expect(formatPagetypeinfo(parsePagetypeinfo(text, f))).toBe(text);
  });

  it('formats the free part from a simulator read-out with the kernel line format', () => {
    const counts = [[0, 1, 2, 3, 4, 5].map((mt) => Array.from({ length: 11 }, (_, o) => mt * 100 + o))];
    const rows = pagetypeFreeRows([{ name: 'DMA32' }], counts);
    const text = formatPagetypeinfoFree(rows);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 ');
    expect(lines[1]).toBe('Node    0, zone    DMA32, type    Unmovable      0      1      2      3      4      5      6      7      8      9     10 ');
    expect(lines[5]).toBe('Node    0, zone    DMA32, type      Isolate    500    501    502    503    504    505    506    507    508    509    510 ');
    expect(lines.length).toBe(7);
  });

  it('prints a list of 100000 blocks or more as >100000, as the kernel caps its count, and reads it back', () => {
    const rows = pagetypeFreeRows([{ name: 'DMA32' }], [[[], [250000, 99999]]], ['Movable']);
    const text = formatPagetypeinfoFree(rows, 2);
    expect(text.split('\n')[1]).toBe('Node    0, zone    DMA32, type      Movable >100000  99999 ');
    const back = parsePagetypeinfo(`Page block order: 9\nPages per block:  512\n\n${text}`);
    expect(back.free[0]!.counts).toEqual([100000, 99999]);
  });

  it('names file, line, field and value of a bad count and of an unknown type', () => {
    const text = read(E5_PRE);
    const bad = text.replace('Movable      0      0      0      0      0      0      0      1      1      2    206', 'Movable      0      0      0      0      0      0      0      1      1      2    2o6');
    const e = parseError(() => parsePagetypeinfo(bad, 'pre.pagetypeinfo'));
    expect(e.details).toMatchObject({ file: 'pre.pagetypeinfo', line: 11, field: 'order[10]', value: '2o6' });
    const e2 = parseError(() => parsePagetypeinfo(text.replace('type   HighAtomic', 'type   HighAtomix'), 'p'));
    expect(e2.details).toMatchObject({ line: 8, field: 'type', value: 'HighAtomix' });
    const e3 = parseError(() => parsePagetypeinfo(text.replace('Node 0, zone    DMA32           81', 'Node 0, zone    DMA32           -1'), 'p'));
    expect(e3.details).toMatchObject({ line: 18, field: 'blocks[0]', value: '-1' });
  });

  it('refuses a row with a missing column and a file without its header', () => {
    const text = read(E5_PRE);
    const e = parseError(() => parsePagetypeinfo(text.replace(/(type {4}Unmovable(?: +\d+){10}) +\d+ /, '$1'), 'p'));
    expect(e.details).toMatchObject({ line: 5, field: 'orders', value: 10 });
    expect(parseError(() => parsePagetypeinfo(text.replace('Page block order: 9\n', ''), 'p')).details).toMatchObject({ field: 'Page block order' });
  });
});
