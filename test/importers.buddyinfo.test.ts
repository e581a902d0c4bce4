import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';
import { buddyinfoRows, formatBuddyinfo, parseBuddyinfo } from '../src/importers/buddyinfo.js';
import { parseError } from './helpers/factories.js';

const FILES = RUNS.flatMap((r) => readdirSync(`${REAL}${r}/guest`).filter((f) => f.endsWith('.buddyinfo')).map((f) => `${r}/guest/${f}`));
const read = (p: string) => readFileSync(REAL + p, 'utf8');

describe.skipIf(!haveReal('E5_trace256', 'E4_frag512'))(needsReal('buddyinfo', 'E5_trace256', 'E4_frag512'), () => {
  it('reads E5 pre.buddyinfo', () => {
    expect(parseBuddyinfo(read('E5_trace256/guest/pre.buddyinfo'))).toEqual([
      { node: 0, zone: 'DMA', counts: [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 3] },
      { node: 0, zone: 'DMA32', counts: [0, 0, 1, 1, 1, 2, 1, 2, 1, 2, 206] },
    ]);
  });

  it('E5 pre: the pages in buddyinfo equal zoneinfo pages free (both read at the same moment)', () => {
    const pages = parseBuddyinfo(read('E5_trace256/guest/pre.buddyinfo')).map((r) => r.counts.reduce((s, c, o) => s + c * 2 ** o, 0));
    expect(pages).toEqual([3808, 212636]);
  });

  it('E4 held: 60392 order-0 blocks in DMA32 (every other page freed)', () => {
    expect(parseBuddyinfo(read('E4_frag512/guest/held.buddyinfo'))[1]!.counts[0]).toBe(60392);
  });

  it.each(FILES)('round-trips %s byte for byte', (f) => {
    const text = read(f);
    const rows = parseBuddyinfo(text, f);
    expect(rows.length).toBe(2);
    expect(rows.every((r) => r.counts.length === 11)).toBe(true);
    expect(formatBuddyinfo(rows)).toBe(text);
  });

  it('prints the kernel layout: %8s zone, %6lu counts, trailing space', () => {
    const rows = buddyinfoRows([{ name: 'DMA32' }, { name: 'Movable2' }], [[1234567, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]);
    expect(formatBuddyinfo(rows)).toBe(
      'Node 0, zone    DMA32 1234567      0      0      0      0      0      0      0      0      0      5 \n'
      + 'Node 0, zone Movable2      1      2      3      4      5      6      7      8      9     10     11 \n',
    );
    expect(parseBuddyinfo(formatBuddyinfo(rows))).toEqual(rows);
  });

  it('accepts CRLF line ends', () => {
    const text = read('E5_trace256/guest/pre.buddyinfo');
    expect(parseBuddyinfo(text.replace(/\n/g, '\r\n'))).toEqual(parseBuddyinfo(text));
  });

  it('names file, line, field and value of a bad count', () => {
    const text = read('E5_trace256/guest/pre.buddyinfo').replace('    206 ', '   2x6 ');
    const e = parseError(() => parseBuddyinfo(text, 'pre.buddyinfo'));
    expect(e.details).toMatchObject({ file: 'pre.buddyinfo', line: 2, field: 'order10', value: '2x6', zone: 'DMA32' });
    expect(e.message).toMatch(/^pre\.buddyinfo:2: /);
  });

  it('refuses a line that is not a row, and rows of different widths', () => {
    const row = (zone: string, n = 11) => `Node 0, zone ${zone} ${Array.from({ length: n }, (_, o) => o).join(' ')}\n`;
    expect(parseError(() => parseBuddyinfo(`${row('DMA')}bogus\n`, 'b')).details).toMatchObject({ line: 2, field: 'row', value: 'bogus' });
    expect(parseError(() => parseBuddyinfo(`${row('DMA')}${row('DMA32', 1)}`, 'b')).details).toMatchObject({ line: 2, field: 'orders', value: 1 });
  });
});
