// A sweep worker thread: takes one job at a time from the pool (src/sweep/pool.ts), runs it on its own wasm
// instance and posts the result back. Progress goes out at most every 100 ms of wall time.
import { parentPort } from 'node:worker_threads';
import { SimError } from '../core/errors.js';
import { runJob, type FromWorker, type ToWorker } from './pool.js';

const port = parentPort;
if (!port) throw new Error('sweep-worker.js runs as a worker thread (see src/sweep/pool.ts)');

port.on('message', async ({ id, spec, samples }: ToWorker) => {
  let last = 0;
  const progress = (fraction: number) => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    port.postMessage({ id, type: 'progress', fraction } satisfies FromWorker);
  };
  try {
    const value = await runJob(spec, samples, progress);
    port.postMessage({ id, type: 'done', value } satisfies FromWorker);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const error = e instanceof SimError
      ? { name: err.name, message: err.message, code: e.code, details: structuredClone(e.details) }
      : { name: err.name, message: err.message };
    port.postMessage({ id, type: 'error', error } satisfies FromWorker);
  }
});
