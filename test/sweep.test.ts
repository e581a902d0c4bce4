// Sweeps: one row per grid point, the same rows every time, whether the jobs run on worker threads or here.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimError } from '../src/core/errors.js';
import { parseScenario } from '../src/scenario/load.js';
import { runJobs, runScenarioSpec, runSweep, splitGuests, type SweepTable } from '../src/sim/sweep.js';
import { bundleCli, smallScenario } from './cli.helpers.js';

let bundle: Awaited<ReturnType<typeof bundleCli>>;
beforeAll(async () => {
  bundle = await bundleCli();
});
afterAll(() => rmSync(bundle.dir, { recursive: true, force: true }));

function sweepScenario() {
  const raw = smallScenario();
  delete raw.guests[0].policies;
  raw.guests[0].policy = { kind: 'reporting', profile: 'linux-next' };
  raw.sweep = { 'policy.order': [0, 9], 'policy.capacity': [8, 32], 'guest.memMiB': [96, 128] };
  return { file: 'sweep.json', raw, ...parseScenario(raw, 'sweep.json') };
}

/** Rows without wall time: everything that must repeat exactly. */
const rowsOf = (t: SweepTable) => t.rows;

describe('runSweep', () => {
  it('gives one row per grid point, in grid order, with the parameters and key metrics', async () => {
    const t = await runSweep(sweepScenario(), { workerUrl: bundle.worker, threads: 2 });
    expect(t.parameters).toEqual(['policy.order', 'policy.capacity', 'guest.memMiB']);
    expect(t.points).toBe(8);
    expect(t.rows.map((r) => r.point)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.rows.map((r) => [r.params['policy.order'], r.params['policy.capacity'], r.params['guest.memMiB']])).toEqual([
      [0, 8, 96], [0, 8, 128], [0, 32, 96], [0, 32, 128], [9, 8, 96], [9, 8, 128], [9, 32, 96], [9, 32, 128],
    ]);
    for (const r of t.rows) {
      for (const k of ['pagesReported', 'reportCalls', 'finalRssMiB', 'refaults', 'allocFailuresInFlight', 't90S'] as const) expect(r.summary).toHaveProperty(k);
    }
    // The knobs reach the engine: order 0 reports blocks below order 9, and a smaller batch needs more calls.
    expect(t.rows[0]!.summary.lowestOrderReported).toBe(0);
    expect(t.rows[4]!.summary.lowestOrderReported).toBe(9);
    expect(t.rows[0]!.summary.reportCalls).toBeGreaterThan(t.rows[2]!.summary.reportCalls);
    // The zone gate: a 96 MiB guest never has low watermark + 32 << 9 pages free, so nothing goes at order 9.
    expect(t.rows[6]!.summary.pagesReported).toBe(0);
    expect(t.rows[7]!.summary.pagesReported).toBeGreaterThan(0);
  });

  it('is deterministic: the same rows twice on workers, and the same again in this thread', async () => {
    const a = await runSweep(sweepScenario(), { workerUrl: bundle.worker, threads: 2 });
    const b = await runSweep(sweepScenario(), { workerUrl: bundle.worker, threads: 2 });
    const c = await runSweep(sweepScenario(), { threads: 0 });
    expect(rowsOf(b)).toEqual(rowsOf(a));
    expect(rowsOf(c)).toEqual(rowsOf(a));
  });

  it('a scenario without a sweep section is refused', async () => {
    const raw = smallScenario();
    await expect(runSweep({ file: 's.json', raw, ...parseScenario(raw, 's.json') }, { threads: 0 })).rejects.toThrow('s.json: no "sweep" section');
  });
});

describe('runJobs', () => {
  it('returns results in job order and carries a SimError back from a worker', async () => {
    const { spec } = parseScenario(smallScenario(), 's.json');
    const jobs = splitGuests(spec);
    const res = await runJobs(jobs, { workerUrl: bundle.worker, threads: 2, samples: false });
    expect(res.map((r) => r.result.guests[0]!.name)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
    expect(res.every((r) => r.result.guests[0]!.samples.length === 0)).toBe(true);
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
