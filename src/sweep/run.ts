// Running a sweep (or one shard of it) into its --out folder. Grid points are made from their index one at a
// time, each point's guests run as jobs on the pool with a bounded number in flight, and a point's row is
// appended to the shard's rows file the moment its last guest finishes, in whatever order points finish. So
// memory holds the jobs in flight and one bit per point of the shard (for --resume), whatever the grid size;
// a killed sweep loses only the points in flight.
import { availableParallelism } from 'node:os';
import { closeSync } from 'node:fs';
import type { GuestSummary } from '../report/summary.js';
import { applyParams, describePoint, gridPoint } from '../scenario/grid.js';
import { parseScenario } from '../scenario/load.js';
import type { SimulationSpec } from '../sim/engine.js';
import { splitGuests } from '../sim/split.js';
import { writeAll } from './files.js';
import { openShardFile, prepareFolder, type SweepDef } from './folder.js';
import { JobPool, type PoolOptions } from './pool.js';
import { rowLine, type SweepRow } from './row.js';
import { shardSize, type Shard } from './shard.js';

export interface SweepProgress {
  /** Points of the shard with a row (including those found by --resume). */
  done: number;
  /** Points of the shard. */
  total: number;
  /** Points found done by --resume. */
  resumed: number;
  /** done / total, counting partly run points by their progress. */
  fraction: number;
}

export interface SweepRunOptions extends PoolOptions {
  out: string;
  shard?: Shard;
  resume?: boolean;
  /** Called after every finished point, and as jobs progress. */
  onProgress?: (p: SweepProgress) => void;
  /**
   * Called once the rows file is open, before any point runs: what --resume found (so a cut-short line is
   * told when found, not only after a run that may take hours or crash again).
   */
  onOpen?: (f: { rowsFile: string; total: number; resumed: number; truncatedLine: number | null }) => void;
  /** Jobs queued beyond the running ones (default: one per thread). */
  queued?: number;
}

export interface SweepRunResult {
  shard: Shard;
  rowsFile: string;
  /** Points of the shard, those found done by --resume, and those run now. */
  total: number;
  resumed: number;
  ran: number;
  /** Simulations run now (points × guests). */
  runs: number;
  /** Line number of a last line cut short by an earlier crash (dropped, its point run again), or null. */
  truncatedLine: number | null;
  /** The most points held at once (running or queued): what the sweep's memory grows with. */
  maxOpenPoints: number;
  wallMs: number;
}

/** Grids up to this size are validated point by point before anything runs; larger ones value by value. */
export const VALIDATE_ALL_UP_TO = 10_000;

/** The point's simulation, validated like a scenario file (a bad value names the point). */
export function pointSpec(def: SweepDef, index: number): { params: Record<string, unknown>; spec: SimulationSpec } {
  const { params } = gridPoint(def.grid, index);
  const label = `${def.file} (sweep point ${index}: ${describePoint(params)})`;
  return { params, spec: parseScenario(applyParams(def.raw, params, def.file), label).spec };
}

/**
 * Stop on a bad grid before anything runs: every point of the shard when the grid is small, else every value
 * of every parameter on the base scenario (a combination that is bad only together then stops the sweep when
 * it is reached, with the rows before it kept).
 */
export function validateGrid(def: SweepDef, shard: Shard): void {
  if (def.points <= VALIDATE_ALL_UP_TO) {
    for (let i = shard.k; i < def.points; i += shard.n) pointSpec(def, i);
    return;
  }
  for (const [key, values] of Object.entries(def.grid)) {
    for (const v of values) {
      const label = `${def.file} (sweep value ${key}=${typeof v === 'string' ? v : JSON.stringify(v)})`;
      parseScenario(applyParams(def.raw, { [key]: v }, def.file), label);
    }
  }
}

interface OpenPoint {
  params: Record<string, unknown>;
  spec: SimulationSpec;
  summaries: GuestSummary[];
  marks: number[][];
  left: number;
  fractions: number[];
}

export async function runSweepToFolder(def: SweepDef, opts: SweepRunOptions): Promise<SweepRunResult> {
  const t0 = performance.now();
  const shard = opts.shard ?? { k: 0, n: 1 };
  validateGrid(def, shard);
  prepareFolder(opts.out, def);
  const file = openShardFile(opts.out, def, shard, opts.resume ?? false);
  const total = shardSize(def.points, shard);
  try {
    opts.onOpen?.({ rowsFile: file.path, total, resumed: file.doneCount, truncatedLine: file.truncatedLine });
  } catch (e) {
    closeSync(file.fd);
    throw e;
  }
  const todo = total - file.doneCount;
  const threads = Math.min(opts.threads ?? availableParallelism(), Math.max(todo, 0));
  const pool = new JobPool({ ...opts, threads, samples: false });
  // In this thread (no workers) one job at a time; on workers, each busy with one and as many queued.
  const limit = pool.threads === 0 ? 1 : pool.threads + (opts.queued ?? pool.threads);

  const open = new Map<number, OpenPoint>();
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  let ran = 0;
  let runs = 0;
  let maxOpenPoints = 0;
  const report = () => {
    if (!opts.onProgress) return;
    let partial = 0;
    for (const p of open.values()) partial += p.fractions.reduce((a, b) => a + b, 0) / p.fractions.length;
    const done = file.doneCount + ran;
    opts.onProgress({ done, total, resumed: file.doneCount, fraction: total ? Math.min(1, (done + partial) / total) : 1 });
  };

  const finish = (index: number, p: OpenPoint) => {
    const hostRssMiB = p.marks[0]!.map((_, m) => p.marks.reduce((a, g) => a + g[m]!, 0) / 1024);
    const row: SweepRow = {
      index, params: p.params, seed: p.spec.seed ?? 1, version: def.version, scenarioHash: def.hash,
      durationS: p.spec.durationS, summaries: p.summaries, hostRssMiB,
    };
    writeAll(file.fd, rowLine(row));
    open.delete(index);
    ran++;
    report();
  };

  try {
    for (let i = 0; i < total && failure === null; i++) {
      if (file.done[i >> 3]! & (1 << (i & 7))) continue;
      const index = shard.k + i * shard.n;
      let point: OpenPoint;
      try {
        const { params, spec } = pointSpec(def, index);
        const guests = splitGuests(spec);
        point = { params, spec, summaries: new Array(guests.length), marks: new Array(guests.length), left: guests.length, fractions: guests.map(() => 0) };
        open.set(index, point);
        maxOpenPoints = Math.max(maxOpenPoints, open.size);
        for (let g = 0; g < guests.length && failure === null; g++) {
          while (inflight.size >= limit) await Promise.race(inflight);
          if (failure !== null) break;
          const job: Promise<void> = pool.run(guests[g]!, (f) => { point.fractions[g] = f; report(); }).then(
            (r) => {
              point.summaries[g] = r.summaries[0]!;
              point.marks[g] = r.rssMarksKib[0]!;
              runs++;
              if (--point.left === 0) finish(index, point);
            },
            (e: unknown) => { failure ??= e; },
          ).catch((e: unknown) => { failure ??= e; }) // a row that could not be written (disk full)
            .finally(() => inflight.delete(job));
          inflight.add(job);
        }
      } catch (e) {
        failure ??= e;
      }
    }
    // Points already running finish and keep their rows even when the sweep stops on an error.
    await Promise.all(inflight);
  } finally {
    closeSync(file.fd);
    await pool.close();
  }
  if (failure !== null) throw failure;
  return { shard, rowsFile: file.path, total, resumed: file.doneCount, ran, runs, truncatedLine: file.truncatedLine, maxOpenPoints, wallMs: performance.now() - t0 };
}
