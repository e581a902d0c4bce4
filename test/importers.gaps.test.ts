// Real recordings have gaps: an empty sample (QEMU exited while the sampler read it) or a last line cut short
// by the recorder's exit is skipped and reported as a warning, never a reason to refuse the run.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError } from '../src/core/errors.js';
import { parseRamCsv, parseReportsCsv, parseRssCsv } from '../src/importers/csv.js';
import { loadRun } from '../src/importers/run-folder.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const RSS_HEADER = 't_host_s,vmrss_kib,rssanon_kib,rssfile_kib\n';

describe('gaps in sampled series', () => {
  it('an empty sample anywhere in rss.csv is skipped and named', () => {
    const w: string[] = [];
    const rows = parseRssCsv(`${RSS_HEADER}0.05,100,10,90\n0.10,,,\n0.15,120,20,100\n0.20,,,\n`, 'rss.csv', { warnings: w });
    expect(rows.map((r) => r.tHost)).toEqual([0.05, 0.15]);
    expect(w).toEqual(['rss.csv:3: empty sample skipped', 'rss.csv:5: empty sample skipped']);
  });

  it('a partly empty sample is a gap too; the last sample before trailing empty ones may be cut short', () => {
    const w: string[] = [];
    const rows = parseRssCsv(`${RSS_HEADER}0.05,100,10,90\n0.10,120,,\n0.15,12\n0.20,,,\n0.25,,,`, 'rss.csv', { warnings: w });
    expect(rows.map((r) => r.tHost)).toEqual([0.05]);
    expect(w).toEqual([
      'rss.csv:3: incomplete sample skipped', "rss.csv:4: truncated last line skipped (2 fields, header has 4)",
      'rss.csv:5: empty sample skipped', 'rss.csv:6: empty sample skipped',
    ]);
    // Not at the end (a full sample follows), the same cut line is still an error, as in any other file.
    expect(() => parseRssCsv(`${RSS_HEADER}0.05,12\n0.10,,,\n0.15,120,20,100\n`, 'rss.csv')).toThrow(/rss\.csv:2: 2 fields, header has 4/);
    // A file that is not a sampled series takes no empty cells.
    expect(() => parseReportsCsv('t_guest_s,t_host_s,pass,batch,nents,idx,pfn,order,bytes\n4.19,,0,0,32,0,41984,10,4194304\n4.2,6.7,0,0,32,1,40960,10,4194304\n', 'reports.csv')).toThrow(/reports\.csv:2: t_host_s: '' is not a number/);
  });

  it('ram.csv too', () => {
    const w: string[] = [];
    const rows = parseRamCsv('t_host_s,ram_rss_kib,ram_anonhuge_kib,ram_size_kib\n0.5,1,1,4\n1.0,,,\n', 'ram.csv', { warnings: w });
    expect(rows.length).toBe(1);
    expect(w.length).toBe(1);
  });

  it('a truncated last line of any csv is skipped; the same damage before the end is still an error', () => {
    const w: string[] = [];
    const head = 't_guest_s,t_host_s,pass,batch,nents,idx,pfn,order,bytes\n';
    const ok = '4.19,6.69,0,0,32,0,41984,10,4194304\n';
    expect(parseReportsCsv(`${head}${ok}4.19,6.69,0,0,32,1,409`, 'reports.csv', { warnings: w }).length).toBe(1);
    expect(w[0]).toMatch(/^reports\.csv:3: truncated last line skipped/);
    expect(() => parseReportsCsv(`${head}4.19,6.69,0,0,32,1,409\n${ok}`, 'reports.csv')).toThrow(ParseError);
    // A value that is not a number, inside the file, names file, line and column.
    expect(() => parseRssCsv(`${RSS_HEADER}0.05,abc,1,1\n0.1,1,1,1\n`, 'rss.csv')).toThrow(/rss\.csv:2: vmrss_kib: 'abc'/);
  });
});

describe.skipIf(!haveReal('E2_memhog512_r1'))(needsReal('a run folder whose recording ended badly', 'E2_memhog512_r1'), () => {
  const dir = mkdtempSync(join(tmpdir(), 'prsim-gaps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads, with every skipped line in run.warnings', () => {
    const run = join(dir, 'E2_cut');
    cpSync(REAL + 'E2_memhog512_r1', run, { recursive: true });
    appendFileSync(join(run, 'rss.csv'), '53.1,,,\n');
    const ram = readFileSync(join(run, 'ram.csv'), 'utf8');
    writeFileSync(join(run, 'ram.csv'), ram + ram.trimEnd().split('\n').at(-1)!.slice(0, 7));
    const zi = readFileSync(join(run, 'guest', 'end.zoneinfo'), 'utf8');
    writeFileSync(join(run, 'guest', 'end.zoneinfo'), zi.slice(0, zi.length - 9));
    const serial = readFileSync(join(run, 'serial.log'), 'utf8');
    writeFileSync(join(run, 'serial.log'), serial + '53.2');
    const r = loadRun(run);
    expect(r.rss!.length).toBe(loadRun(REAL + 'E2_memhog512_r1').rss!.length);
    expect(r.serial().length).toBe(loadRun(REAL + 'E2_memhog512_r1').serial().length);
    expect(r.proc['end']!.zoneinfo).toBeDefined();
    expect(r.warnings.join('\n')).toMatch(/rss\.csv:\d+: empty sample skipped/);
    expect(r.warnings.join('\n')).toMatch(/ram\.csv:\d+: truncated last line skipped/);
    expect(r.warnings.join('\n')).toMatch(/end\.zoneinfo:\d+: truncated last line skipped/);
    expect(r.warnings.join('\n')).toMatch(/serial\.log:\d+: truncated last line skipped/);
  });
});
