// The fleet view: exact distributions per policy, the host total over the run, and when runs and sweeps print
// it instead of a table too wide or too long to read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../src/cli/io.js';
import { Distribution, Fleet, rssAtMarks } from '../src/report/fleet.js';
import type { GuestSummary } from '../src/report/summary.js';
import type { Sample } from '../src/sim/engine.js';
import { ROOT, smallScenario, sweepScenario } from './cli.helpers.js';
import { prsimWith } from './helpers/in-process.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'prsim-fleet-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const prsim = (...argv: string[]) => prsimWith(memoryIo(ROOT), argv);

describe('Distribution', () => {
  it('quantiles by nearest rank, exact whatever the order values come in', () => {
    const d = new Distribution();
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    for (const v of values) d.add(v);
    d.add(null);
    expect(d.quantiles()).toEqual({ n: 100, missing: 1, min: 1, p50: 50, p90: 90, p99: 99, max: 100 });
    const skew = new Distribution();
    for (let i = 0; i < 98; i++) skew.add(2);
    skew.add(500);
    skew.add(7);
    // Ranks 50 and 90 fall among the 2s; rank 99 is the 7, rank 100 the 500.
    expect(skew.quantiles()).toMatchObject({ min: 2, p50: 2, p90: 2, p99: 7, max: 500 });
    expect(new Distribution().quantiles()).toBeNull();
  });
});

describe('rssAtMarks', () => {
  it('takes the last sample at or before each tenth of the run', () => {
    const samples = Array.from({ length: 21 }, (_, i) => ({ t: i * 500, rssKib: i * 10 }) as Sample);
    expect(rssAtMarks(samples, 10)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    expect(rssAtMarks(samples.slice(0, 3), 10)).toEqual([0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20]);
  });
});

const summary = (policy: string, finalRssMiB: number, t50S: number | null): GuestSummary => ({
  name: 'g', policy, pagesReported: 0, mibReported: 0, reportCalls: 0, reportErrors: 0, passes: 0, lowestOrderReported: null,
  finalRssMiB, peakRssMiB: 0, lastFreeS: null, t50S, t90S: t50S, refaults: 0, refaultMiB: 0, allocFailures: 0,
  allocFailuresInFlight: 0, isolationFailures: 0, inflightPeakMiB: 0, pagesHinted: null, hintLostDataPages: null,
});

describe('Fleet', () => {
  it('one block per policy; a figure some guests lack says how many have it', () => {
    const f = new Fleet();
    for (let i = 1; i <= 10; i++) f.addGuest(summary('none', 100 * i, null));
    for (let i = 1; i <= 4; i++) f.addGuest(summary('reporting linux-6.1', 2 * i, i === 4 ? null : 4.1));
    f.addHost([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 40);
    const lines = f.render().split('\n');
    const row = (label: string, from: number) => lines.slice(from).find((l) => l.includes(label))!.trim().split(/\s{2,}/);
    const none = lines.findIndex((l) => l.startsWith('none'));
    const rep = lines.findIndex((l) => l.startsWith('reporting linux-6.1'));
    expect(row('final RSS MiB', none)).toEqual(['none', '10', 'final RSS MiB', '100.0', '500.0', '900.0', '1000.0', '1000.0']);
    expect(row('final RSS MiB', rep)).toEqual(['reporting linux-6.1', '4', 'final RSS MiB', '2.0', '4.0', '8.0', '8.0', '8.0']);
    expect(row('RSS 50% drop', rep)).toEqual(['RSS 50% drop after s (3 of 4)', '4.10', '4.10', '4.10', '4.10', '4.10']);
    expect(row('RSS 50% drop', none)).toEqual(['RSS 50% drop after s (0 of 10)', '-', '-', '-', '-', '-']);
    const host = lines.findIndex((l) => l.startsWith('host total RSS MiB'));
    expect(lines[host + 1]!.trim().split(/\s+/)).toEqual(['t', 's', 'MiB']);
    expect(lines[host + 3]!.trim().split(/\s+/)).toEqual(['0.0', '0.0']);
    expect(lines[host + 13]!.trim().split(/\s+/)).toEqual(['40.0', '100.0']);
  });
});

describe('prsim run with many guests', () => {
  let file: string;
  beforeAll(() => {
    const raw = smallScenario();
    raw.durationS = 3;
    // Three guests of four policies each: twelve columns.
    raw.guests = [96, 128, 160].map((memMiB) => ({ ...raw.guests[0], memMiB, name: undefined }));
    for (const g of raw.guests) delete g.name;
    file = join(tmp, 'twelve.json');
    writeFileSync(file, JSON.stringify(raw));
  });

  it('prints the fleet view past 8 guests, whose host total at the end is the sum of the final RSS', async () => {
    const r = await prsim('run', file, '--threads', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fleet view of 12 guests (--per-guest prints one column each):');
    for (const p of ['none', 'reporting linux-5.7', 'reporting linux-6.1', 'hinting']) expect(r.stdout).toMatch(new RegExp(`^${p}\\s+3\\s+final RSS MiB`, 'm'));
    const json = await prsim('run', file, '--threads', '0', '--json');
    const summaries = JSON.parse(json.stdout).summaries as GuestSummary[];
    const total = summaries.reduce((a, s) => a + s.finalRssMiB, 0);
    const last = r.stdout.trimEnd().split('\n').pop()!.trim().split(/\s+/);
    expect(last).toEqual(['3.0', total.toFixed(1)]);
    const wide = await prsim('run', file, '--threads', '0', '--per-guest');
    expect(wide.stdout.split('\n')[2]!.trim().split(/\s{2,}/)).toHaveLength(12);
  });

  it('prints the table up to 8 guests', async () => {
    const r = await prsim('run', join(ROOT, 'scenarios/memhog.json'), '--duration', '2', '--threads', '0');
    expect(r.stdout).not.toContain('fleet view');
    expect(r.stdout.split('\n')[2]!.trim().split(/\s{2,}/)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
  });
});

describe('prsim sweep past a table', () => {
  it('prints the fleet view over 100 lines, and every line with --per-guest', async () => {
    const raw = sweepScenario();
    raw.durationS = 1;
    raw.guests[0].memMiB = 64;
    raw.guests[0].workloads = [{ kind: 'memhog', startS: 0.2, mib: 8, holdS: 0.1 }];
    raw.sweep = { 'policy.capacity': Array.from({ length: 101 }, (_, i) => (i % 50) + 1), 'policy.order': [9] };
    const file = join(tmp, 'wide-sweep.json');
    writeFileSync(file, JSON.stringify(raw));
    const r = await prsim('sweep', file, '--threads', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fleet view of 101 runs (points × guests; --per-guest prints one line each, --csv every figure):');
    expect(r.stdout).toMatch(/^reporting linux-next\s+101\s+final RSS MiB/m);
    expect(r.stdout).toContain('host total RSS MiB (all guests; distribution over 101 runs):');
    const all = await prsim('sweep', file, '--threads', '0', '--per-guest');
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(4 + 101);
  });
});
