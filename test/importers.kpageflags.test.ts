import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../src/core/errors.js';
import { parseBlocksCsv } from '../src/importers/csv.js';
import { KPF_BUDDY, KPF_UPTODATE, decodeKpageflags, splitFreeRun } from '../src/importers/kpageflags.js';
import { loadRun } from '../src/importers/run-folder.js';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';

// Every dump with its derived csv: guest/kpageflags.<tag>.bin.gz ↔ kpageflags.<tag>.blocks.csv.
const DUMPS = RUNS.flatMap((run) => readdirSync(`${REAL}${run}/guest`)
  .map((f) => /^kpageflags\.(\w+)\.bin\.gz$/.exec(f)?.[1])
  .filter((tag): tag is string => !!tag)
  .map((tag) => [run, tag] as const));
const ZONES: Array<[number, number]> = [[1, 4096], [4096, 262109]];

describe.skipIf(!haveReal('E4_frag512', 'E5_trace256'))(needsReal('decodeKpageflags on the real dumps', 'E4_frag512', 'E5_trace256'), () => {
  it('finds a dump for every blocks.csv and a blocks.csv for every dump (E4 held and E5 pre/post included)', () => {
    const csvs = RUNS.flatMap((run) => readdirSync(`${REAL}${run}`)
      .map((f) => /^kpageflags\.(\w+)\.blocks\.csv$/.exec(f)?.[1])
      .filter((tag): tag is string => !!tag)
      .map((tag) => `${run}.${tag}`));
    expect(DUMPS.map((d) => d.join('.')).sort()).toEqual(csvs.sort());
    expect(DUMPS.map((d) => d.join('.'))).toEqual(expect.arrayContaining(['E4_frag512.held', 'E5_trace256.post', 'E5_trace256.pre']));
  });

  it.each(DUMPS)('%s kpageflags.%s decodes to exactly its blocks.csv', (run, tag) => {
    // The run's own zone bounds (from its zoneinfo), as the derived csv was split on them.
    const bytes = readFileSync(`${REAL}${run}/guest/kpageflags.${tag}.bin.gz`);
    const got = decodeKpageflags(bytes, { zoneBounds: loadRun(REAL + run).zoneBounds });
    const want = parseBlocksCsv(readFileSync(`${REAL}${run}/kpageflags.${tag}.blocks.csv`, 'utf8'));
    expect(got.pfns).toBe(gunzipSync(bytes).length / 8);
    expect(got.blocks).toEqual(want);
  });

  it('E5 pre and post: counts by order and reported match summary.json', () => {
    const summary = JSON.parse(readFileSync(`${REAL}E5_trace256/summary.json`, 'utf8'));
    for (const tag of ['pre', 'post']) {
      const got = decodeKpageflags(readFileSync(`${REAL}E5_trace256/guest/kpageflags.${tag}.bin.gz`));
      const want = summary[`kpf_${tag}`];
      expect(got.freePages).toBe(want.free_pages);
      expect(got.byOrder).toEqual(want.free_blocks_by_order);
      expect(got.reportedByOrder).toEqual(want.reported_blocks_by_order);
      const reportedKib = got.blocks.filter((b) => b.reported).reduce((s, b) => s + 4 * 2 ** b.order, 0);
      expect(reportedKib).toBe(want.reported_kib);
    }
  });

  it('takes raw bytes as well as gzip (what a browser has after DecompressionStream)', () => {
    const gz = readFileSync(`${REAL}E5_trace256/guest/kpageflags.pre.bin.gz`);
    const raw = new Uint8Array(gunzipSync(gz));
    expect(decodeKpageflags(raw)).toEqual(decodeKpageflags(gz));
  });

  it('without zone bounds gives the same blocks here (the real zone edges are order-10 aligned)', () => {
    const gz = readFileSync(`${REAL}E4_frag512/guest/kpageflags.held.bin.gz`);
    const a = decodeKpageflags(gz);
    expect(a.blocks).toEqual(decodeKpageflags(gz, { zoneBounds: ZONES }).blocks);
    expect(a.byOrder[0]).toBeGreaterThan(60000); // the fragmented hold: tens of thousands of single pages
  });
});

describe('decodeKpageflags on synthetic dumps', () => {
  function dump(n: number, set: (pfn: number) => bigint): Uint8Array {
    const b = new Uint8Array(n * 8);
    const v = new DataView(b.buffer);
    for (let p = 0; p < n; p++) v.setBigUint64(p * 8, set(p), true);
    return b;
  }
  const BUDDY = 1n << BigInt(KPF_BUDDY), UPTODATE = 1n << BigInt(KPF_UPTODATE);

  it('reads Reported from the head page only and ignores other bits', () => {
    // pfn 8..15 free, head reported; pfn 16 free, not reported; pfn 20 has only other flags.
    const b = dump(32, (p) => (p >= 8 && p < 16 ? BUDDY | (p === 8 ? UPTODATE : 0n) : p === 16 ? BUDDY : p === 9 ? UPTODATE : p === 20 ? 0xffn << 32n : 0n));
    const d = decodeKpageflags(b);
    expect(d.blocks).toEqual([{ pfn: 8, order: 3, reported: true }, { pfn: 16, order: 0, reported: false }]);
    expect(d.freePages).toBe(9);
  });

  it('splits at zone bounds', () => {
    const b = dump(16, (p) => (p >= 2 ? BUDDY : 0n));
    expect(decodeKpageflags(b).blocks.map((x) => [x.pfn, x.order])).toEqual([[2, 1], [4, 2], [8, 3]]);
    expect(decodeKpageflags(b, { zoneBounds: [[0, 6], [6, 16]] }).blocks.map((x) => [x.pfn, x.order])).toEqual([[2, 1], [4, 1], [6, 1], [8, 3]]);
  });

  it('refuses a length that is not whole u64s, naming the file and field', () => {
    try {
      decodeKpageflags(new Uint8Array(12), { file: 'kpf.bin' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).details).toMatchObject({ file: 'kpf.bin', field: 'length', value: 12 });
    }
  });

  it('refuses corrupt gzip', () => {
    expect(() => decodeKpageflags(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), { file: 'x.gz' })).toThrow(ParseError);
  });
});

describe('splitFreeRun', () => {
  it('cuts a run into maximal aligned blocks', () => {
    expect(splitFreeRun(288, 1024)).toEqual([[288, 5], [320, 6], [384, 7], [512, 9]]);
    expect(splitFreeRun(3, 9)).toEqual([[3, 0], [4, 2], [8, 0]]);
    expect(splitFreeRun(5, 5)).toEqual([]);
  });

  it('never goes above order 10', () => {
    expect(splitFreeRun(0, 4096)).toEqual([[0, 10], [1024, 10], [2048, 10], [3072, 10]]);
    expect(splitFreeRun(0, 4096, [], 9)).toHaveLength(8);
  });

  it('never crosses a zone boundary', () => {
    expect(splitFreeRun(1000, 1100, [[0, 1030], [1030, 4096]])).toEqual([[1000, 3], [1008, 4], [1024, 2], [1028, 1], [1030, 1], [1032, 3], [1040, 4], [1056, 5], [1088, 3], [1096, 2]]);
  });

  it('covers the run exactly with aligned blocks (random runs)', () => {
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 200; i++) {
      const start = rnd(100000), end = start + rnd(5000);
      let at = start;
      for (const [pfn, order] of splitFreeRun(start, end)) {
        expect(pfn).toBe(at);
        expect(pfn % 2 ** order).toBe(0);
        at += 2 ** order;
      }
      expect(at).toBe(Math.max(start, end));
    }
  });
});
