// Running many simulations at once: a pool of node:worker_threads (one per core), each job one SimulationSpec
// on its own wasm instance. `JobPool` takes jobs one at a time (the caller keeps as many in flight as it wants,
// so a sweep of any size holds only those); `runJobs` runs a list and gives the results back in list order, so
// the output never depends on which worker finished first. Used by sweeps (one job per grid point and guest)
// and by `prsim run`/`compare` (one job per guest, so the policies of a comparison run side by side).
//
// A scenario's guests are split into one-guest jobs (src/sim/split.ts) so they run side by side on the cores.
// Each job keeps the scenario's seed: a guest's workload stream comes from that seed (or the guest's own), as in
// one multi-guest Simulation, never from the guest's place in the scenario, so every policy of a comparison
// sees the same workload.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SimError, type SimErrorCode } from '../core/errors.js';
import { rssAtMarks } from '../report/fleet.js';
import { summarize, type GuestSummary } from '../report/summary.js';
import { Simulation, type SimulationResult, type SimulationSpec } from '../sim/engine.js';
import { mergeResults, splitGuests } from '../sim/split.js';

export interface JobResult {
  result: SimulationResult;
  summaries: GuestSummary[];
  /** Per guest: host RSS (KiB) at 0, 10, ..., 100% of the run (kept when the samples are dropped). */
  rssMarksKib: number[][];
}

export interface PoolOptions {
  /** Worker threads; default os.availableParallelism(). 0 (or no worker script) runs the jobs in this thread. */
  threads?: number;
  /** The bundled worker (dist/sweep-worker.js). Default: $PRSIM_SWEEP_WORKER, else sweep-worker.js next to this module. */
  workerUrl?: URL | string;
  /** Keep the per-sample time series (default true; sweeps turn it off, their rows need only the summary). */
  samples?: boolean;
}

export interface RunOptions extends PoolOptions {
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
  let result;
  try {
    await sim.run();
    result = sim.result(performance.now() - t0);
  } finally {
    // The guests' memories go back to the pool: the next point of the same guest size starts without faulting.
    sim.dispose();
  }
  const summaries = result.guests.map(summarize);
  const rssMarksKib = result.guests.map((g) => rssAtMarks(g.samples, spec.durationS));
  if (!samples) for (const g of result.guests) g.samples = [];
  return { result, summaries, rssMarksKib };
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

interface Pending {
  id: number;
  spec: SimulationSpec;
  onProgress: ((fraction: number) => void) | undefined;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

/**
 * Worker threads that take one job each at a time. `run` queues a job and resolves with its result; the queue
 * is the caller's to bound. After a worker fails every queued and later job rejects with that error.
 */
export class JobPool {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 0;
  private failed: Error | null = null;
  private closed = false;

  constructor(opts: PoolOptions = {}, private readonly samples = opts.samples ?? true) {
    const url = opts.workerUrl !== undefined ? new URL(opts.workerUrl, pathToFileURL(process.cwd() + '/')) : defaultWorkerUrl();
    this.threads = url ? Math.max(0, opts.threads ?? availableParallelism()) : 0;
    for (let i = 0; i < this.threads; i++) {
      const w = new Worker(url!);
      this.workers.push(w);
      this.idle.push(w);
      w.on('message', (msg: FromWorker) => this.onMessage(w, msg));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closed) this.fail(new Error(`sweep worker stopped with exit code ${code}`));
      });
    }
  }

  /** Run one job: on a worker when the pool has any, else here. */
  run(spec: SimulationSpec, onProgress?: (fraction: number) => void): Promise<JobResult> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.threads === 0) return runJob(spec, this.samples, onProgress);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, spec, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage({ id: job.id, spec: job.spec, samples: this.samples } satisfies ToWorker);
    }
  }

  private onMessage(w: Worker, msg: FromWorker): void {
    const job = this.running.get(w);
    if (!job || job.id !== msg.id) return;
    if (msg.type === 'progress') {
      job.onProgress?.(msg.fraction);
      return;
    }
    this.running.delete(w);
    this.idle.push(w);
    if (msg.type === 'error') {
      // A job's own error (bad input found while it ran) fails that job; the worker stays usable.
      job.reject(reviveError(msg.error));
    } else {
      job.onProgress?.(1);
      job.resolve(msg.value);
    }
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failed || this.closed) return;
    this.failed = e;
    for (const job of [...this.running.values(), ...this.queue.splice(0)]) job.reject(e);
    this.running.clear();
  }
}

/** Run every spec; results come back in the order of `specs`, whatever the scheduling. */
export async function runJobs(specs: SimulationSpec[], opts: RunOptions = {}): Promise<JobResult[]> {
  const fractions = new Float64Array(specs.length);
  const progress = (id: number, f: number) => {
    fractions[id] = f;
    if (opts.onProgress) opts.onProgress(fractions.reduce((a, b) => a + b, 0) / Math.max(1, specs.length));
  };
  const pool = new JobPool({ ...opts, threads: Math.min(opts.threads ?? availableParallelism(), specs.length) });
  try {
    if (pool.threads === 0) {
      // One after the other here: a failing job stops the rest.
      const out: JobResult[] = [];
      for (let id = 0; id < specs.length; id++) {
        out.push(await pool.run(specs[id]!, (f) => progress(id, f)));
        progress(id, 1);
      }
      return out;
    }
    return await Promise.all(specs.map((s, id) => pool.run(s, (f) => progress(id, f))));
  } finally {
    await pool.close();
  }
}

/** A scenario run: every guest its own job, in parallel when workers are available. */
export async function runScenarioSpec(spec: SimulationSpec, opts: RunOptions = {}): Promise<{ result: SimulationResult; summaries: GuestSummary[] }> {
  const t0 = performance.now();
  const parts = await runJobs(splitGuests(spec), opts);
  return { result: mergeResults(spec, parts.map((p) => p.result), performance.now() - t0), summaries: parts.flatMap((p) => p.summaries) };
}
