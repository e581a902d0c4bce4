// Sweeps: one row per grid point, streamed into a folder and read back in index order; the same rows every
// time, whether the jobs run on worker threads or here; the worker pool on its own.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimError } from '../src/core/errors.js';
import { parseScenario } from '../src/scenario/load.js';
import { sweepDef } from '../src/sweep/folder.js';
import { indexFolder, rowsInOrder } from '../src/sweep/merge.js';
import { runJobs, runScenarioSpec } from '../src/sweep/pool.js';
import { splitGuests } from '../src/sim/split.js';
import type { SweepRow } from '../src/sweep/row.js';
import { runSweepToFolder, type SweepRunOptions } from '../src/sweep/run.js';
import { bundleCli, smallScenario, sweepScenario } from './cli.helpers.js';

let bundle: Awaited<ReturnType<typeof bundleCli>>;
let tmp: string;
beforeAll(async () => {
  bundle = await bundleCli();
  tmp = mkdtempSync(join(tmpdir(), 'prsim-sweep-'));
});
afterAll(() => {
  rmSync(bundle.dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
async function sweep(raw: Record<string, any>, opts: Partial<SweepRunOptions> = {}) {
  const out = join(tmp, `s${n++}`);
  const def = sweepDef('sweep.json', raw);
  const result = await runSweepToFolder(def, { out, ...opts });
  const rows: SweepRow[] = [...rowsInOrder(indexFolder(out))].map((r) => r.row);
  return { out, def, result, rows };
}

describe('a sweep into its folder', () => {
  let a: Awaited<ReturnType<typeof sweep>>;
  beforeAll(async () => {
    a = await sweep(sweepScenario(), { workerUrl: bundle.worker, threads: 2 });
  });

  it('gives one row per grid point, in grid order, with the parameters and key metrics', () => {
    expect(a.def.parameters).toEqual(['policy.order', 'policy.capacity', 'guest.memMiB']);
    expect(a.def.points).toBe(8);
    expect(a.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.rows.map((r) => [r.params['policy.order'], r.params['policy.capacity'], r.params['guest.memMiB']])).toEqual([
      [0, 8, 96], [0, 8, 128], [0, 32, 96], [0, 32, 128], [9, 8, 96], [9, 8, 128], [9, 32, 96], [9, 32, 128],
    ]);
    for (const r of a.rows) {
      expect(r.summaries).toHaveLength(1);
      for (const k of ['pagesReported', 'reportCalls', 'finalRssMiB', 'refaults', 'allocFailuresInFlight', 't90S'] as const) expect(r.summaries[0]).toHaveProperty(k);
      expect(r.seed).toBe(7);
      expect(r.version).toBe(a.def.version);
      expect(r.scenarioHash).toBe(a.def.hash);
      expect(r.hostRssMiB).toHaveLength(11);
      // The last mark is the end of the run: the guest's final RSS.
      expect(r.hostRssMiB[10]).toBe(r.summaries[0]!.finalRssMiB);
    }
    const s = a.rows.map((r) => r.summaries[0]!);
    // The knobs reach the engine: order 0 reports blocks below order 9, and a smaller batch needs more calls.
    expect(s[0]!.lowestOrderReported).toBe(0);
    expect(s[4]!.lowestOrderReported).toBe(9);
    expect(s[0]!.reportCalls).toBeGreaterThan(s[2]!.reportCalls);
    // The zone gate: a 96 MiB guest never has low watermark + 32 << 9 pages free, so nothing goes at order 9.
    expect(s[6]!.pagesReported).toBe(0);
    expect(s[7]!.pagesReported).toBeGreaterThan(0);
  });

  it('writes each row as one JSON line, in completion order, and the folder holds the scenario it ran', () => {
    const lines = readFileSync(join(a.out, 'rows-0-of-1.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(8);
    expect(lines.map((l) => (JSON.parse(l) as SweepRow).index).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(JSON.parse(readFileSync(join(a.out, 'scenario.json'), 'utf8'))).toEqual(sweepScenario());
    const meta = JSON.parse(readFileSync(join(a.out, 'sweep.json'), 'utf8'));
    expect(meta).toMatchObject({ file: 'sweep.json', scenarioHash: a.def.hash, points: 8, parameters: a.def.parameters });
  });

  it('is deterministic: the same rows on workers again, and in this thread', async () => {
    const b = await sweep(sweepScenario(), { workerUrl: bundle.worker, threads: 2 });
    const c = await sweep(sweepScenario(), { threads: 0 });
    expect(b.rows).toEqual(a.rows);
    expect(c.rows).toEqual(a.rows);
  });

  it('holds only the points in flight: at most threads + queued + 1, however many points', async () => {
    const raw = sweepScenario();
    raw.durationS = 1;
    raw.guests[0].workloads = [{ kind: 'memhog', startS: 0.2, mib: 8, holdS: 0.1 }];
    raw.sweep = { 'policy.capacity': Array.from({ length: 60 }, (_, i) => i + 1) };
    const r = await sweep(raw, { workerUrl: bundle.worker, threads: 2, queued: 1 });
    expect(r.rows.map((x) => x.index)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(r.result.maxOpenPoints).toBeGreaterThanOrEqual(2);
    expect(r.result.maxOpenPoints).toBeLessThanOrEqual(2 + 1 + 1);
  });

  it('a multi-guest point is one row with a summary per guest, and its host total adds them up', async () => {
    const raw = sweepScenario();
    raw.guests[0].policies = ['none', { kind: 'reporting', profile: 'linux-next' }];
    delete raw.guests[0].policy;
    raw.sweep = { 'policy.capacity': [8, 32] };
    const r = await sweep(raw, { threads: 0 });
    expect(r.rows).toHaveLength(2);
    expect(r.rows.map((x) => x.summaries.map((s) => s.policy))).toEqual([['none', 'reporting linux-next'], ['none', 'reporting linux-next']]);
    const last = r.rows[0]!.hostRssMiB[10]!;
    expect(last).toBeCloseTo(r.rows[0]!.summaries[0]!.finalRssMiB + r.rows[0]!.summaries[1]!.finalRssMiB, 9);
  });

  it('a scenario without a sweep section is refused; a bad grid value stops the sweep before anything runs', async () => {
    expect(() => sweepDef('s.json', smallScenario())).toThrow('s.json: no "sweep" section');
    const raw = sweepScenario();
    raw.sweep['policy.capacity'] = [8, 'x'];
    const out = join(tmp, 'bad');
    await expect(runSweepToFolder(sweepDef('s.json', raw), { out, threads: 0 })).rejects.toThrow(
      's.json (sweep point 2: policy.order=0 policy.capacity=x guest.memMiB=96): guests[0].policy.capacity: expected integer 1..256, got "x"',
    );
    expect(() => readFileSync(join(out, 'rows-0-of-1.jsonl'))).toThrow(); // nothing was written
  });
});

describe('runJobs', () => {
  it('returns results in job order and carries a SimError back from a worker', async () => {
    const { spec } = parseScenario(smallScenario(), 's.json');
    const jobs = splitGuests(spec);
    const res = await runJobs(jobs, { workerUrl: bundle.worker, threads: 2, samples: false });
    expect(res.map((r) => r.result.guests[0]!.name)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
    expect(res.every((r) => r.result.guests[0]!.samples.length === 0)).toBe(true);
    expect(res.every((r) => r.rssMarksKib[0]!.length === 11)).toBe(true);
    const huge = { ...jobs[0]!, guests: [{ ...jobs[0]!.guests[0]!, guest: { memBytes: 2 ** 44 } }] };
    const err = await runJobs([huge], { workerUrl: bundle.worker, threads: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('TOO_LARGE');
  });

  it('a split run: every policy sees the same workload stream, and the result does not depend on threads', async () => {
    const { spec } = parseScenario(smallScenario(), 's.json');
    const here = await runScenarioSpec(spec, { threads: 0 });
    const there = await runScenarioSpec(spec, { workerUrl: bundle.worker, threads: 2 });
    const strip = (r: typeof here) => ({ ...r, result: { ...r.result, wallMs: 0 } });
    expect(strip(there)).toEqual(strip(here));
    const allocated = here.result.guests.map((g) => g.samples.map((s) => s.allocatedPages));
    for (const a of allocated) expect(a).toEqual(allocated[0]);
    // 128 MiB less pfn 0 (firmware), four guests.
    expect(here.result.host.guestMemKib).toBe(4 * (32768 - 1) * 4);
  });
});
