// The importers refuse what no real kernel writes, with the file, the line, the field and the value: page events
// outside the guest's memory or with a migratetype that does not exist, buddyinfo rows of the wrong width, empty
// files, zones that contradict themselves or each other, and a folder that is not a run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError, SimError } from '../src/core/errors.js';
import { parseBuddyinfo } from '../src/importers/buddyinfo.js';
import { parseFtraceLine, parseFtraceStream, parseFtraceText, readFtraceFile } from '../src/importers/ftrace.js';
import { decodeKpageflags } from '../src/importers/kpageflags.js';
import { parsePagetypeinfo } from '../src/importers/pagetypeinfo.js';
import { loadRun } from '../src/importers/run-folder.js';
import { memoryRangesFromDmesg, parseZoneinfo } from '../src/importers/zoneinfo.js';

import { REAL, haveReal, needsReal } from './helpers/shared.js';
import { parseError } from './helpers/factories.js';

const read = (p: string) => readFileSync(REAL + p, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'prsim-imp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DRAIN = '  wl-130  [001] d..3.  22.305619: mm_page_pcpu_drain: page=(____ptrval____) pfn=0x17aed order=0 migratetype=1';
const ALLOC = '  wl-130  [001] .....  22.305620: mm_page_alloc: page=(____ptrval____) pfn=0x17aee order=0 migratetype=1 gfp_flags=GFP_KERNEL';

describe.skipIf(!haveReal('E5_trace256'))(needsReal('ftrace page events', 'E5_trace256'), () => {
  let ranges: Array<[number, number]>;
  beforeAll(() => {
    ranges = memoryRangesFromDmesg(read('E5_trace256/guest/dmesg.txt'));
  });

  it('a pfn beyond any x86-64 memory is refused even without a memory map', () => {
    const e = parseError(() => parseFtraceLine(DRAIN.replace('0x17aed', '0x999999999999'), 'trace.txt', 7));
    expect(e.message).toBe('trace.txt:7: mm_page_pcpu_drain: pfn=0x999999999999 is beyond any x86-64 memory (2^40 pfns)');
    expect(e.details).toMatchObject({ line: 7, field: 'pfn', value: 0x999999999999 });
  });

  it('a pfn outside the recorded memory map is refused with the map', () => {
    expect(ranges).toEqual([[1, 0x9f], [0x100, 0x3ffdd]]);
    const e = parseError(() => parseFtraceLine(DRAIN.replace('0x17aed', '0x999999'), 'trace.txt', 3, { pfnRanges: ranges }));
    expect(e.message).toBe("trace.txt:3: mm_page_pcpu_drain: pfn=0x999999 is outside the guest's memory (0x1-0x9e, 0x100-0x3ffdc)");
    expect(parseError(() => parseFtraceLine(DRAIN.replace('0x17aed', '0xa0'), 'trace.txt', 3, { pfnRanges: ranges })).details).toMatchObject({ value: 0xa0 });
    // In range, and pfn 0 (a failed allocation prints it), are fine.
    expect(parseFtraceLine(DRAIN, 'trace.txt', 3, { pfnRanges: ranges })).toMatchObject({ pfn: 0x17aed });
    expect(parseFtraceLine(ALLOC.replace('0x17aee', '0x0'), 'trace.txt', 3, { pfnRanges: ranges })).toMatchObject({ pfn: 0 });
  });

  it('an unknown migratetype is refused', () => {
    const e = parseError(() => parseFtraceLine(DRAIN.replace('migratetype=1', 'migratetype=42'), 'trace.txt', 9));
    expect(e.message).toBe('trace.txt:9: mm_page_pcpu_drain: migratetype=42 is not a migratetype (0..5)');
    expect(parseError(() => parseFtraceLine(ALLOC.replace('migratetype=1', 'migratetype=-1'), 't', 1)).details).toMatchObject({ field: 'migratetype', value: -1 });
  });

  it('the whole real E5 trace passes with its own memory map', () => {
    const text = new TextDecoder().decode(gunzipSync(readFileSync(REAL + 'E5_trace256/guest/trace.txt.gz')));
    let n = 0;
    for (const _ of parseFtraceText(text, 'trace.txt', { pfnRanges: ranges })) n++;
    expect(n).toBeGreaterThan(330_000);
  });
});

describe.skipIf(!haveReal('E5_trace256'))(needsReal('buddyinfo', 'E5_trace256'), () => {
  let real: string;
  beforeAll(() => {
    real = read('E5_trace256/guest/pre.buddyinfo');
  });

  it('a row of 14 columns (or of 10) is refused: the simulator has orders 0..10', () => {
    const long = real.replace(/^(Node 0, zone\s+DMA32.*)$/m, '$1 1 2 3');
    const e = parseError(() => parseBuddyinfo(long, 'pre.buddyinfo'));
    expect(e.message).toBe('pre.buddyinfo:2: zone DMA32 has 14 counts, expected 11 (orders 0..10)');
    const short = real.replace(/^(Node 0, zone\s+DMA .*?)\s+\d+\s*$/m, '$1');
    expect(parseError(() => parseBuddyinfo(short, 'pre.buddyinfo')).details).toMatchObject({ line: 1, field: 'orders', value: 10 });
  });

  it('an empty file is refused', () => {
    expect(parseError(() => parseBuddyinfo('', 'end.buddyinfo')).message).toBe('end.buddyinfo:1: no rows: the file is empty (a /proc/buddyinfo has a row per populated zone)');
    expect(() => parseBuddyinfo('\n\n', 'x')).toThrow(ParseError);
  });
});

describe.skipIf(!haveReal('E5_trace256'))(needsReal('zoneinfo', 'E5_trace256'), () => {
  let real: string;
  beforeAll(() => {
    real = read('E5_trace256/guest/pre.zoneinfo');
  });

  it('managed > present, present > spanned and free > managed are refused at the zone', () => {
    const e = parseError(() => parseZoneinfo(real.replace(/managed\s+3840/, 'managed  9999'), 'pre.zoneinfo'));
    expect(e.message).toBe('pre.zoneinfo:1: zone DMA: managed 9999 is more than present 3998');
    expect(e.details).toMatchObject({ field: 'managed', value: 9999, zone: 'DMA' });
    expect(parseError(() => parseZoneinfo(real.replace(/spanned\s+4095/, 'spanned  10'), 'z')).message).toMatch(/zone DMA: present 3998 is more than spanned 10/);
    expect(parseError(() => parseZoneinfo(real.replace(/pages free\s+3808/, 'pages free     5000'), 'z')).message).toMatch(/zone DMA: pages free 5000 is more than managed 3840/);
  });

  it('overlapping zones are refused (import --format zones printed invalid zones)', () => {
    const overlapping = real.replace(/start_pfn:\s+4096/, 'start_pfn:           4000');
    const e = parseError(() => parseZoneinfo(overlapping, 'pre.zoneinfo'));
    expect(e.message).toMatch(/^pre\.zoneinfo:\d+: zone DMA32: \[4000, \d+\) overlaps zone DMA \[1, 4096\) \(line 1\)$/);
  });

  it('an empty file is refused', () => {
    expect(parseError(() => parseZoneinfo('', 'z')).message).toBe("z:1: no zones: expected 'Node N, zone NAME' blocks (the file is empty)");
  });
});

describe('ftrace files', () => {
  it('an empty trace (no line at all, not even the "# tracer:" header) is refused, as text, as a stream and as a file', async () => {
    const e = parseError(() => [...parseFtraceText('', 'trace.txt')]);
    expect(e.message).toBe('trace.txt:1: empty: a trace file has at least the "# tracer: ..." header ftrace writes');
    await expect((async () => { for await (const _ of parseFtraceStream(Readable.from([]), 's.txt')) void _; })()).rejects.toThrow(/^s\.txt:1: empty: /);
    const raw = join(tmp, 'trace.txt');
    writeFileSync(raw, '');
    await expect((async () => { for await (const _ of readFtraceFile(raw)) void _; })()).rejects.toBeInstanceOf(ParseError);
    const gz = join(tmp, 'trace.txt.gz');
    writeFileSync(gz, gzipSync(Buffer.alloc(0)));
    await expect((async () => { for await (const _ of readFtraceFile(gz)) void _; })()).rejects.toThrow(/trace\.txt\.gz:1: empty: /);
    // A header alone is what ftrace writes when nothing was traced: a trace with no events, not an error.
    expect([...parseFtraceText('# tracer: nop\n#\n', 'trace.txt')]).toEqual([]);
  });

  it('a negative pfn is named as such (it was printed as "pfn=0x-5 is beyond any x86-64 memory")', () => {
    const e = parseError(() => parseFtraceLine(DRAIN.replace('0x17aed', '-5'), 'trace.txt', 4));
    expect(e.message).toBe('trace.txt:4: mm_page_pcpu_drain: pfn=-5 is negative (not a pfn)');
    expect(e.details).toMatchObject({ line: 4, field: 'pfn', value: -5 });
  });
});

describe('kpageflags and pagetypeinfo', () => {
  it('an empty kpageflags dump is refused, raw or gzip\'d', () => {
    expect(parseError(() => decodeKpageflags(new Uint8Array(0), { file: 'k.bin' })).message).toBe('k.bin:0: empty: a kpageflags dump has 8 bytes for every pfn from 0');
    expect(() => decodeKpageflags(gzipSync(new Uint8Array(0)), { file: 'k.bin.gz' })).toThrow(/empty/);
  });

  it.skipIf(!haveReal('E5_trace256'))(needsReal('pagetypeinfo whose pages per block do not match its block order is refused', 'E5_trace256'), () => {
    const real = read('E5_trace256/guest/pre.pagetypeinfo');
    expect(parseError(() => parsePagetypeinfo(real.replace(/Pages per block:\s+512/, 'Pages per block:  500'), 'p')).message).toBe('p:1: Pages per block 500 is not 2^(Page block order 9)');
  });
});

describe('run folders', () => {
  it('an empty folder, or one with none of a run\'s files, is not a run', () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    expect(() => loadRun(empty)).toThrow(SimError);
    expect(() => loadRun(empty)).toThrow(/not a run folder: it holds none of guest\//);
    writeFileSync(join(empty, 'notes.txt'), 'hello');
    expect(() => loadRun(empty)).toThrow(/not a run folder/);
    writeFileSync(join(empty, 'rss.csv'), 't_host_s,vmrss_kib,rssanon_kib,rssfile_kib\n1,2,3,4\n');
    expect(loadRun(empty).rss).toHaveLength(1);
  });
});

describe('prsim import --format zones', () => {
  it.skipIf(!haveReal('E5_trace256'))(needsReal('zones that make no guest are refused, not printed (a per-cpu batch of 0)', 'E5_trace256'), async () => {
    const { main } = await import('../src/cli/prsim.js');
    const { memoryIo } = await import('../src/cli/io.js');
    const dir = mkdtempSync(join(tmp, 'zones-'));
    const path = join(dir, 'pre.zoneinfo');
    writeFileSync(path, read('E5_trace256/guest/pre.zoneinfo').replace(/batch:\s+63/g, 'batch: 0'));
    const io = memoryIo(dir);
    expect(await main(['import', path, '--format', 'zones'], io)).toBe(2);
    expect(io.stdout).toBe('');
    expect(io.stderr).toMatch(/^prsim: .*pre\.zoneinfo: these zones make no guest: zone DMA32: pcpBatch must be an integer >= 1, got 0\n$/);
    const ok = memoryIo(dir);
    writeFileSync(path, read('E5_trace256/guest/pre.zoneinfo'));
    expect(await main(['import', path, '--format', 'zones'], ok)).toBe(0);
    expect(JSON.parse(ok.stdout).zones).toHaveLength(2);
  });
});

describe('a guest in a recorded state', () => {
  it.skipIf(!haveReal('E2_memhog512_r1'))(needsReal('buddyinfo counts no zone could hold are refused before anything is laid out (2^53 blocks never finished)', 'E2_memhog512_r1'), async () => {
    const { guestFromProc } = await import('../src/importers/start-state.js');
    const zoneinfo = parseZoneinfo(read('E2_memhog512_r1/guest/pre.zoneinfo'));
    const buddyinfo = parseBuddyinfo(read('E2_memhog512_r1/guest/pre.buddyinfo'));
    buddyinfo[1]!.counts[0] = 2 ** 53 - 1;
    expect(() => guestFromProc({ zoneinfo, buddyinfo })).toThrow(/zone DMA32: buddyinfo counts .* add up to \d+ free pages; the zone manages 242031/);
  });
});
