import { describe, expect, it } from 'vitest';
import {
  parseBlocksCsv, parsePassesCsv, parseRamCsv, parseReportsCsv, parseRssCsv, parseSummaryJson,
} from '../src/importers/csv.js';
import { loadRun } from '../src/importers/run-folder.js';
import { REAL, REAL_RUNS as RUNS, haveReal, needsReal } from './helpers/shared.js';
import { parseError } from './helpers/factories.js';

describe.skipIf(!haveReal('E2_memhog512_r1', 'E5_trace256'))(needsReal('loadRun', 'E2_memhog512_r1', 'E5_trace256'), () => {
  it.each(RUNS)('loads %s', (run) => {
    const r = loadRun(REAL + run);
    expect(r.name).toBe(run);
    expect(r.summary!.name).toBe(run);
    // Sizes come from the run's own meta.json: the same checks hold for a guest of any size.
    const memMiB = Number(r.meta!['mem_mib']);
    expect(r.summary!.mem_mib).toBe(memMiB);
    expect(r.reports!.length).toBeGreaterThan(0);
    expect(r.passes!.reduce((s, p) => s + p.blocks, 0)).toBe(r.reports!.length);
    expect(r.passes!.reduce((s, p) => s + p.bytes, 0)).toBe(r.summary!.all_reported_bytes);
    expect(r.rss!.length).toBeGreaterThan(100);
    expect(r.ram!.every((x) => x.ramSizeKib === memMiB * 1024)).toBe(true);
    expect(r.zoneBounds[0]).toEqual([1, 4096]);
    expect(r.zoneBounds.at(-1)![1]).toBeLessThanOrEqual(memMiB * 256 + 2 ** 20);
    expect(r.memoryRanges!.at(-1)![1]).toBe(r.zoneBounds.at(-1)![1]);
    expect(Object.keys(r.proc)).toEqual(expect.arrayContaining(['pre', 'end']));
    expect(r.proc['pre']!.buddyinfo!.length).toBe(2);
    expect(r.proc['pre']!.meminfo!['MemTotal']).toBeGreaterThan(900000);
    expect(r.proc['pre']!.vmstat!['nr_free_pages']).toBeGreaterThan(0);
    expect(r.trace).toBeDefined();
    expect(r.guestText('page_reporting_order.txt')!.trim()).toMatch(/^\d+$/);
    for (const [tag, blocks] of Object.entries(r.blocks)) expect(r.kpageflags[tag]!().blocks).toEqual(blocks);
  });

  it('the 1 GiB runs: zone bounds and memory ranges as dmesg and zoneinfo give them', () => {
    const r = loadRun(REAL + 'E2_memhog512_r1');
    expect(r.zoneBounds).toEqual([[1, 4096], [4096, 262109]]);
    expect(r.memoryRanges).toEqual([[1, 159], [256, 262109]]);
    expect(r.warnings).toEqual([]);
  });

  it('E5: everything the folder holds', () => {
    const r = loadRun(REAL + 'E5_trace256');
    expect(Object.keys(r.blocks).sort()).toEqual(['post', 'pre']);
    expect(Object.keys(r.kpageflags).sort()).toEqual(['post', 'pre']);
    expect(Object.keys(r.proc).sort()).toEqual(['end', 'held', 'kpf_post', 'kpf_pre', 'pre']);
    expect(r.reports!.length).toBe(272);
    expect(r.passes!.map((p) => p.batches)).toEqual([2, 2, 2, 1, 2]);
    expect(r.summary!.markers_guest_s['free_start']).toBe(22.273875);
    expect(r.trace!.path.endsWith('trace.txt.gz')).toBe(true);
    const markers = r.serial().filter((l) => l.record?.kind === 'T').map((l) => l.record!.fields[0]);
    expect(markers).toContain('free_start');
    const b = r.serial().find((l) => l.record?.kind === 'B')!;
    expect(b.record!.fields.length).toBe(12); // zone and 11 counts
  });
});

describe('csv readers', () => {
  it('read CRLF files (reports.csv, passes.csv) and LF files alike', () => {
    expect(parsePassesCsv('pass,t_start_guest_s,t_end_guest_s,t_start_host_s,batches,blocks,bytes\r\n0,4.1,4.2,6.6,2,64,266338304\r\n'))
      .toEqual([{ pass: 0, tStartGuest: 4.1, tEndGuest: 4.2, tStartHost: 6.6, batches: 2, blocks: 64, bytes: 266338304 }]);
    expect(parseRssCsv('t_host_s,vmrss_kib,rssanon_kib,rssfile_kib\n0.0008,464,40,424\n'))
      .toEqual([{ tHost: 0.0008, vmRssKib: 464, rssAnonKib: 40, rssFileKib: 424 }]);
    expect(parseRamCsv('t_host_s,ram_rss_kib,ram_anonhuge_kib,ram_size_kib\n0.5,32768,32768,1048576\n'))
      .toEqual([{ tHost: 0.5, ramRssKib: 32768, ramAnonHugeKib: 32768, ramSizeKib: 1048576 }]);
    expect(parseBlocksCsv('pfn,order,reported\n288,5,0\n512,9,1\n')).toEqual([{ pfn: 288, order: 5, reported: false }, { pfn: 512, order: 9, reported: true }]);
  });

  it('name file, line, column and value of a bad cell', () => {
    const text = 't_guest_s,t_host_s,pass,batch,nents,idx,pfn,order,bytes\r\n4.4,6.9,0,0,32,0,60416,10,4194304\r\n4.4,6.9,0,0,32,1,59x92,10,4194304\r\n';
    const e = parseError(() => parseReportsCsv(text, 'reports.csv'));
    expect(e.details).toMatchObject({ file: 'reports.csv', line: 3, field: 'pfn', value: '59x92' });
    expect(e.message).toBe("reports.csv:3: pfn: '59x92' is not an integer");
    expect(parseError(() => parseBlocksCsv('pfn,order,reported\n1,0,2\n', 'b.csv')).details).toMatchObject({ line: 2, field: 'reported', value: '2' });
    expect(parseError(() => parseBlocksCsv('pfn,order,reported\n1,0\n', 'b.csv')).details).toMatchObject({ line: 2, field: 'row' });
    expect(parseError(() => parseBlocksCsv('pfn,reported\n1,0\n', 'b.csv')).details).toMatchObject({ line: 1, field: 'order' });
  });

  it('summary.json: bad JSON and missing fields name the line and field', () => {
    expect(parseError(() => parseSummaryJson('{\n "name": "x",\n oops\n}', 's.json')).details).toMatchObject({ file: 's.json', field: 'json' });
    const e = parseError(() => parseSummaryJson('{\n "name": "x",\n "mem_mib": "1024"\n}', 's.json'));
    expect(e.details).toMatchObject({ line: 3, field: 'mem_mib', value: '1024' });
  });
});
