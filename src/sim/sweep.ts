// Running many simulations at once: a pool of node:worker_threads (one per core), each job one SimulationSpec
// on its own wasm instance, results gathered back in job order so the output never depends on which worker
// finished first. Used by sweeps (one job per grid point and guest) and by `prsim run`/`compare` (one job per
// guest, so the policies of a comparison run side by side).
//
// Every job is a one-guest simulation with the scenario's seed, so every policy of a comparison sees the same
// workload random stream (the engine derives a guest's stream from its index; in one multi-guest Simulation
// the second policy would see a different churn than the first).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SimError, type SimErrorCode } from '../core/errors.js';
import { summarize, type GuestSummary } from '../report/summary.js';
import { applyParams, describePoint, expandGrid } from '../scenario/grid.js';
import { parseScenario, type LoadedScenario } from '../scenario/load.js';
import { Simulation, type SimulationResult, type SimulationSpec } from './engine.js';

export interface JobResult {
  result: SimulationResult;
  summaries: GuestSummary[];
}

export interface RunOptions {
  /** Worker threads; default os.availableParallelism(). 0 (or no worker script) runs the jobs in this thread. */
  threads?: number;
  /** The bundled worker (dist/sweep-worker.js). Default: $PRSIM_SWEEP_WORKER, else sweep-worker.js next to this module. */
  workerUrl?: URL | string;
  /** Keep the per-sample time series (default true; sweeps turn it off, their rows need only the summary). */
  samples?: boolean;
  /** Fraction of the work done, 0..1, called often; the caller throttles drawing. */
  onProgress?: (fraction: number) => void;
}

/** Messages between the pool and a worker. */
export type ToWorker = { id: number; spec: SimulationSpec; samples: boolean };
export type FromWorker =
  | { id: number; type: 'progress'; fraction: number }
  | { id: number; type: 'done'; value: JobResult }
  | { id: number; type: 'error'; error: { name: string; message: string; code?: SimErrorCode; details?: Record<string, unknown> } };

/** One job, wherever it runs. */
export async function runJob(spec: SimulationSpec, samples = true, onProgress?: (fraction: number) => void): Promise<JobResult> {
  const t0 = performance.now();
  const sim = new Simulation(spec);
  const endMs = spec.durationS * 1000;
  if (onProgress) sim.onProgress = (t) => onProgress(Math.min(1, t / endMs));
  await sim.run();
  const result = sim.result(performance.now() - t0);
  const summaries = result.guests.map(summarize);
  if (!samples) for (const g of result.guests) g.samples = [];
  return { result, summaries };
}

export function defaultWorkerUrl(): URL | null {
  const env = typeof process !== 'undefined' ? process.env['PRSIM_SWEEP_WORKER'] : undefined;
  if (env) return pathToFileURL(env);
  const sibling = new URL('./sweep-worker.js', import.meta.url);
  return sibling.protocol === 'file:' && existsSync(fileURLToPath(sibling)) ? sibling : null;
}

function reviveError(e: Extract<FromWorker, { type: 'error' }>['error']): Error {
  if (e.code) return new SimError(e.code, e.message, e.details ?? {});
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

async function runHere(specs: SimulationSpec[], samples: boolean, progress: (id: number, f: number) => void): Promise<JobResult[]> {
  const out: JobResult[] = [];
  for (let id = 0; id < specs.length; id++) {
    out.push(await runJob(specs[id]!, samples, (f) => progress(id, f)));
    progress(id, 1);
  }
  return out;
}

function runInWorkers(specs: SimulationSpec[], threads: number, url: URL, samples: boolean, progress: (id: number, f: number) => void): Promise<JobResult[]> {
  const results = new Array<JobResult>(specs.length);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  let settled = false;
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(results);
    };
    const feed = (w: Worker) => {
      if (next >= specs.length) return;
      const id = next++;
      w.postMessage({ id, spec: specs[id]!, samples } satisfies ToWorker);
    };
    for (let i = 0; i < threads; i++) {
      const w = new Worker(url);
      workers.push(w);
      w.on('message', (msg: FromWorker) => {
        if (msg.type === 'progress') return progress(msg.id, msg.fraction);
        if (msg.type === 'error') return settle(reviveError(msg.error));
        results[msg.id] = msg.value;
        progress(msg.id, 1);
        if (++done === specs.length) settle();
        else feed(w);
      });
      w.on('error', (e) => settle(e));
      w.on('exit', (code) => {
        if (code !== 0) settle(new Error(`sweep worker stopped with exit code ${code}`));
      });
      feed(w);
    }
  });
}

/** Run every spec; results come back in the order of `specs`, whatever the scheduling. */
export async function runJobs(specs: SimulationSpec[], opts: RunOptions = {}): Promise<JobResult[]> {
  const samples = opts.samples ?? true;
  const fractions = new Float64Array(specs.length);
  const progress = (id: number, f: number) => {
    fractions[id] = f;
    if (opts.onProgress) opts.onProgress(fractions.reduce((a, b) => a + b, 0) / Math.max(1, specs.length));
  };
  const url = opts.workerUrl !== undefined ? new URL(opts.workerUrl, pathToFileURL(process.cwd() + '/')) : defaultWorkerUrl();
  const threads = Math.min(opts.threads ?? availableParallelism(), specs.length);
  if (!url || threads < 1 || specs.length === 0) return runHere(specs, samples, progress);
  return runInWorkers(specs, threads, url, samples, progress);
}

/** One-guest specs: the jobs of a multi-guest scenario. */
export function splitGuests(spec: SimulationSpec): SimulationSpec[] {
  return spec.guests.map((g) => ({ ...spec, guests: [g] }));
}

/** The parts of a split run as one result, as the engine would report it (wall time: the whole run). */
export function mergeResults(spec: SimulationSpec, parts: SimulationResult[], wallMs: number): SimulationResult {
  const guests = parts.flatMap((p) => p.guests);
  const guestMemKib = parts.reduce((a, p) => a + p.host.guestMemKib, 0);
  const hostMiB = spec.hostMiB ?? guestMemKib / 1024;
  return {
    durationS: spec.durationS,
    seed: spec.seed ?? 1,
    guests,
    host: { totalRssKib: parts.reduce((a, p) => a + p.host.totalRssKib, 0), guestMemKib, hostMiB, overcommit: guestMemKib / 1024 / hostMiB },
    wallMs,
    pageOps: parts.reduce((a, p) => a + p.pageOps, 0),
  };
}

/** A scenario run: every guest its own job, in parallel when workers are available. */
export async function runScenarioSpec(spec: SimulationSpec, opts: RunOptions = {}): Promise<{ result: SimulationResult; summaries: GuestSummary[] }> {
  const t0 = performance.now();
  const parts = await runJobs(splitGuests(spec), opts);
  return { result: mergeResults(spec, parts.map((p) => p.result), performance.now() - t0), summaries: parts.flatMap((p) => p.summaries) };
}

// --- sweeps ---

export interface SweepRow {
  point: number;
  params: Record<string, unknown>;
  guest: string;
  policy: string;
  summary: GuestSummary;
}

export interface SweepTable {
  file: string;
  parameters: string[];
  points: number;
  rows: SweepRow[];
  wallMs: number;
}

/** Expand and validate every grid point first (a bad value stops the sweep before anything runs), then run. */
export function sweepJobs(loaded: LoadedScenario): { parameters: string[]; jobs: Array<{ point: number; params: Record<string, unknown>; spec: SimulationSpec }> } {
  const grid = loaded.scenario.sweep;
  if (!grid) {
    throw new SimError('BAD_CONFIG', `${loaded.file}: no "sweep" section (e.g. "sweep": {"policy.order": [0, 9], "policy.capacity": [16, 32]})`, { file: loaded.file });
  }
  const jobs = expandGrid(grid).flatMap(({ index, params }) => {
    const label = `${loaded.file} (sweep point ${index}: ${describePoint(params)})`;
    const { spec } = parseScenario(applyParams(loaded.raw, params, loaded.file), label);
    return splitGuests(spec).map((s) => ({ point: index, params, spec: s }));
  });
  return { parameters: Object.keys(grid), jobs };
}

export async function runSweep(loaded: LoadedScenario, opts: RunOptions = {}): Promise<SweepTable> {
  const t0 = performance.now();
  const { parameters, jobs } = sweepJobs(loaded);
  const results = await runJobs(jobs.map((j) => j.spec), { samples: false, ...opts });
  const rows = jobs.map((j, i): SweepRow => {
    const summary = results[i]!.summaries[0]!;
    return { point: j.point, params: j.params, guest: summary.name, policy: summary.policy, summary };
  });
  return { file: loaded.file, parameters, points: new Set(jobs.map((j) => j.point)).size, rows, wallMs: performance.now() - t0 };
}
