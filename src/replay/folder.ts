// Replay of recorded run folders read from disk (Node): one folder as `prsim replay` does it, or every run folder
// of a directory held to tolerance as `prsim fidelity` does. A run with a kmem trace and a kpageflags dump taken
// inside it (the E5 layout) is replayed event by event (trace-replay.ts); any other run is simulated from its
// recorded state with the workload its recording describes (run-replay.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SimError } from '../core/errors.js';
import { loadRun } from '../importers/run-folder.js';
import { traceRunComparison } from './compare.js';
import { type FidelityRow, type RunComparison, withinTolerance } from './format.js';
import { describeRun } from './run-model.js';
import { replayRun } from './run-replay.js';
import { loadTrace, replayTrace, type ReplayMode } from './trace-replay.js';

export interface ReplayFolderOptions {
  /** The run folder. */
  dir: string;
  /** Default: forced for a run with a kmem trace and a kpageflags.pre dump, else workload. */
  mode?: ReplayMode | 'workload' | undefined;
  /** The reporting delay, ms, or 'trace' (each pass starts when the real one did; the default). */
  delay?: number | 'trace' | undefined;
  /** What-ifs on a traced run: another reporting order or batch capacity. */
  order?: number | undefined;
  capacity?: number | undefined;
  /** A workload run: flush the freeing cpu's lists after the free as the recording shows ('trace'), always or never. */
  flush?: 'trace' | boolean | undefined;
}

/** Replay a run folder as the options say (what `prsim replay` does). */
export function replay(o: ReplayFolderOptions): RunComparison {
  const run = loadRun(o.dir);
  const traceable = !!run.trace && !!(run.blocks['pre'] ?? run.kpageflags['pre']);
  const mode = o.mode ?? (traceable ? 'forced' : 'workload');
  if (mode !== 'workload' && !traceable) {
    throw new SimError('BAD_CONFIG', `${run.name}: --mode ${mode} needs a run with a kmem trace and a kpageflags.pre dump (the E5 layout); this run replays as a workload`, { field: 'mode', value: mode });
  }
  if (mode === 'workload' && (o.order !== undefined || o.capacity !== undefined)) {
    throw new SimError('BAD_CONFIG', `${run.name}: --order and --capacity replay recorded allocator traffic, which only a kmem trace holds (the E5 layout)`, { field: o.order !== undefined ? 'order' : 'capacity' });
  }
  // An option the chosen replay has no use for is refused, not silently dropped.
  if (mode === 'workload' && typeof o.delay === 'number') {
    throw new SimError('BAD_CONFIG', `${run.name}: --delay sets the reporting delay of a trace replay (the E5 layout); a workload replay takes each pass from the recording`, { field: 'delay', value: o.delay });
  }
  if (mode !== 'workload' && typeof o.flush === 'boolean') {
    throw new SimError('BAD_CONFIG', `${run.name}: --flush is for a workload replay; a ${mode} replay takes every per-cpu drain from the trace`, { field: 'flush', value: o.flush ? 'on' : 'off' });
  }
  if (mode === 'workload') return replayRun(run, { flush: o.flush ?? 'trace' });
  let result;
  try {
    result = replayTrace(run, {
      mode, delayMs: o.delay ?? 'trace', ...(o.order !== undefined ? { order: o.order } : {}), ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
    });
  } catch (e) {
    // Not asked for a trace replay, and the trace cannot give one (no window, no zones): the run is still a
    // workload run, replayed as such, and says why.
    if (o.mode !== undefined || !(e instanceof SimError) || o.order !== undefined || o.capacity !== undefined || typeof o.delay === 'number') throw e;
    const c = replayRun(run, { flush: o.flush ?? 'trace' });
    c.warnings.unshift(`${run.name}: not replayed from its trace (${e.message}); replayed as a workload`);
    return c;
  }
  // The trace is read once: replayTrace's read (cached) holds the prnotify hits describeRun needs.
  return traceRunComparison(run, result, describeRun(run, loadTrace(run).notifies));
}

/** Replay every run folder (a folder holding serial.log or passes.csv) of `root` and hold each to tolerance. */
export function fidelityRows(root: string, tolS = 0.15): FidelityRow[] {
  return readdirSync(root).sort()
    .filter((d) => statSync(join(root, d)).isDirectory() && ['serial.log', 'passes.csv'].some((f) => existsSync(join(root, d, f))))
    .map((d) => fidelityRow(replay({ dir: join(root, d) }), tolS));
}

/** One replayed run held to tolerance: after its last free, else its boot reporting, else 'none' with the reason. */
export function fidelityRow(c: RunComparison, tolS = 0.15): FidelityRow {
  const kind = c.kind === 'trace' ? `trace (${c.mode})` : c.kind;
  const afterFree = c.real.afterFree !== null && c.sim.afterFree !== null;
  const real = afterFree ? c.real.afterFree : c.real.boot, sim = afterFree ? c.sim.afterFree : c.sim.boot;
  if (!real || !sim) {
    // Nothing the recording lets us hold to tolerance: a row that says so and why, not a pass.
    return { run: c.run, kind, window: 'none', real, sim, ok: false, why: [`nothing to compare (${c.warnings.at(-1) ?? 'no free and no boot window'})`] } as FidelityRow;
  }
  const t = afterFree ? withinTolerance(real, sim, tolS)
    : { why: [real.passes !== sim.passes ? `passes ${real.passes} vs ${sim.passes}` : '', real.calls !== sim.calls ? `calls ${real.calls} vs ${sim.calls}` : '', real.blocks !== sim.blocks ? `blocks ${real.blocks} vs ${sim.blocks}` : ''].filter(Boolean) };
  return { run: c.run, kind, window: afterFree ? 'after free' : 'boot', real, sim, ok: t.why.length === 0, why: t.why } as FidelityRow;
}

