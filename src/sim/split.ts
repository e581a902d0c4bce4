// A multi-guest run as one-guest jobs, and their results as one. `prsim run` runs each guest of a scenario as its
// own job (on the worker pool, src/sweep/pool.ts), and so does the page (in its Web Worker); both put the parts
// back together here. Every job keeps the scenario's seed, so each guest sees the workload stream it would see
// alone.
import type { SimulationResult, SimulationSpec } from './types.js';

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
