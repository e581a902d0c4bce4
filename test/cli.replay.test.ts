// prsim replay and prsim fidelity as a user runs them: one JSON schema whatever the run, the simulator's
// reports in the real reports.csv format, bad input as exit 2 with a prsim: line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/prsim.js';
import { memoryIo } from '../src/cli/io.js';
import { parseReportsCsv } from '../src/importers/csv.js';
import type { RunComparison } from '../src/replay/format.js';
import { REAL, HAVE_REAL, MISSING_REAL } from './helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'prsim-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe.skipIf(!HAVE_REAL)(`prsim replay (${HAVE_REAL ? 'real runs' : MISSING_REAL})`, () => {
  it('--json: a trace run, a workload run and an idle boot share one schema', async () => {
    const keys = (o: object) => Object.keys(o).sort();
    const docs: RunComparison[] = [];
    for (const r of ['E5_trace256', 'E4_frag512', 'E1_idle_boot']) {
      const res = await run('replay', REAL + r, '--json');
      expect(res.code).toBe(0);
      docs.push(JSON.parse(res.stdout));
    }
    expect(docs.map((d) => d.kind)).toEqual(['trace', 'workload', 'idle']);
    for (const d of docs) {
      expect(keys(d)).toEqual(keys(docs[0]!).filter((k) => k !== 'mode' || d.kind === 'trace'));
      expect(keys(d.real)).toEqual(keys(d.sim));
      for (const p of d.sim.passes) expect(keys(p)).toEqual(['blocks', 'bytes', 'calls', 'pass', 't']);
      for (const r of d.sim.reports.slice(0, 3)) expect(keys(r)).toEqual(['batch', 'order', 'pass', 'pfn', 'slot', 't']);
    }
    const w = docs[1]!.sim.afterFree!;
    expect(keys(w)).toEqual(['blocks', 'blocksByOrder', 'bytes', 'calls', 'dropMiB', 'from', 'passes', 'steps', 't50', 't90', 'to']);
    expect(docs[2]!.real.afterFree).toBeNull();
    expect(docs[2]!.sim.boot!.passes).toBe(docs[2]!.real.boot!.passes);
  });

  it('--reports-csv writes the simulator\'s reports in reports.csv\'s format, which reads back', async () => {
    const file = join(tmp, 'sim-reports.csv');
    const res = await run('replay', REAL + 'E2_memhog512_r1', '--json', '--reports-csv', file);
    expect(res.code).toBe(0);
    const c: RunComparison = JSON.parse(res.stdout);
    const rows = parseReportsCsv(readFileSync(file, 'utf8'), file);
    expect(rows.length).toBe(c.sim.reports.length);
    expect(rows.map((r) => [r.pass, r.batch, r.idx, r.pfn, r.order])).toEqual(c.sim.reports.map((r) => [r.pass, r.batch, r.slot, r.pfn, r.order]));
    expect(rows[0]!.tHost - rows[0]!.tGuest).toBeCloseTo(c.clockOffset, 5);
    // The header and the line ends are the real file's (CRLF), so a plain diff compares rows.
    const text = readFileSync(file, 'utf8'), realText = readFileSync(REAL + 'E2_memhog512_r1/reports.csv', 'utf8');
    expect(text.slice(0, text.indexOf('\n') + 1)).toBe(realText.slice(0, realText.indexOf('\n') + 1));
    expect(text.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('the text form names the run, the windows and every cycle', async () => {
    const res = await run('replay', REAL + 'E7_cycles256x4');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^E7_cycles256x4: memhog 256 MiB x4 cycles/);
    expect(res.stdout.match(/^ {2}cycle \d/gm)!.length).toBe(4);
    expect(res.stdout).toMatch(/after the last free/);
  });

  it('bad input is exit 2 with a prsim: line', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    for (const [args, msg] of [
      [[file], /not a directory/],
      [[join(tmp, 'nope')], /no such folder/],
      [[REAL + 'E2_memhog512_r1', '--mode', 'forced'], /needs a run with a kmem trace/],
      [[REAL + 'E2_memhog512_r1', '--order', '3'], /--order and --capacity replay recorded allocator traffic/],
      [[REAL + 'E5_trace256', '--order', '12'], /--order must be an integer 0..11/],
      [[REAL + 'E2_memhog512_r1', '--reports-csv', join(tmp, 'no', 'x.csv')], /no folder/],
      [[REAL + 'E2_memhog512_r1', '--flush', 'maybe'], /--flush must be trace, on or off/],
      // An option the replay has no use for is refused, not dropped: a workload replay has no --delay, a trace replay no --flush.
      [[REAL + 'E2_memhog512_r1', '--delay', '500'], /E2_memhog512_r1: --delay sets the reporting delay of a trace replay/],
      [[REAL + 'E5_trace256', '--flush', 'on'], /E5_trace256: --flush is for a workload replay; a forced replay/],
      [[REAL + 'E5_trace256', '--mode', 'modelled', '--flush', 'off'], /--flush is for a workload replay; a modelled replay/],
    ] as Array<[string[], RegExp]>) {
      const res = await run('replay', ...args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/^prsim: replay: /);
      expect(res.stderr).toMatch(msg);
    }
  });

  it('replay --order takes what run takes: 11 on a 6.1 trace is 6.1\'s "nothing reported", not a refusal', async () => {
    const res = await run('replay', REAL + 'E5_trace256', '--order', '11', '--json');
    expect(res.code, res.stderr).toBe(0);
    const c = JSON.parse(res.stdout) as RunComparison;
    expect(c.real.passes.length).toBeGreaterThan(0);
    expect(c.sim.passes).toEqual([]);
  });

  it('fidelity --tolerance Infinity (or 1e400) is refused: it would hold every run within tolerance', async () => {
    for (const t of ['Infinity', '1e400', '0', 'NaN']) {
      const res = await run('fidelity', REAL, '--tolerance', t);
      expect(res.code, t).toBe(2);
      expect(res.stderr).toBe(`prsim: fidelity: --tolerance must be seconds > 0, got '${t}' (see prsim fidelity --help)\n`);
    }
  });

  it('prsim fidelity prints one row per run folder and how many are within tolerance', async () => {
    const res = await run('fidelity', REAL);
    expect(res.code).toBe(0);
    const rows = res.stdout.split('\n').filter((l) => /^E\d/.test(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(res.stdout).toMatch(new RegExp(`\\d+ of ${rows.length} runs within tolerance`));
  });
});
