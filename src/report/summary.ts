// The key figures of one simulated guest, the same for the comparison table, the sweep rows, CSV and HTML.
// The RSS fall is timed from the last free: the start of the last run of samples in which the guest's allocated
// pages went down by at least 1 MiB (what munmap at the end of memhog looks like), as W3 times it from E2's
// free_start marker.
import { staircase } from '../sim/staircase.js';
import type { GuestResult, Sample } from '../sim/engine.js';

export interface RssFall {
  /** Simulated time of the last free (the sample just before allocated pages started to fall), s. */
  lastFreeS: number | null;
  /** Host RSS at that moment, KiB. */
  startKib: number;
  finalKib: number;
  /** Seconds after the last free until RSS had made 50% / 90% of its fall (null: it did not fall). */
  t50S: number | null;
  t90S: number | null;
}

export interface GuestSummary {
  name: string;
  policy: string;
  pagesReported: number;
  mibReported: number;
  reportCalls: number;
  reportErrors: number;
  passes: number;
  /** Lowest order of any reported block (shows the order in force, e.g. 6.1 ignoring order=0), null if none. */
  lowestOrderReported: number | null;
  finalRssMiB: number;
  peakRssMiB: number;
  lastFreeS: number | null;
  t50S: number | null;
  t90S: number | null;
  refaults: number;
  refaultMiB: number;
  allocFailures: number;
  allocFailuresInFlight: number;
  isolationFailures: number;
  inflightPeakMiB: number;
  /** Hinting only: pages handed to the host, and pages the host discarded after the guest had reused them. */
  pagesHinted: number | null;
  hintLostDataPages: number | null;
}

const FREE_STEP_PAGES = 256; // 1 MiB between two samples
const MIN_FALL_KIB = 2048; // less than one THP-backed host page is no fall

export function rssFall(samples: readonly Sample[]): RssFall {
  const n = samples.length;
  const finalKib = n ? samples[n - 1]!.rssKib : 0;
  let end = -1;
  for (let k = n - 1; k >= 1; k--) {
    if (samples[k - 1]!.allocatedPages - samples[k]!.allocatedPages >= FREE_STEP_PAGES) {
      end = k;
      break;
    }
  }
  if (end < 0) return { lastFreeS: null, startKib: finalKib, finalKib, t50S: null, t90S: null };
  let start = end;
  while (start > 1 && samples[start - 2]!.allocatedPages > samples[start - 1]!.allocatedPages) start--;
  const at = samples[start - 1]!;
  const fall = at.rssKib - finalKib;
  const st = staircase(samples.map((s) => ({ t: s.t / 1000, kib: s.rssKib })), at.t / 1000, MIN_FALL_KIB);
  const when = (t: number): number | null => (fall < MIN_FALL_KIB || Number.isNaN(t) ? null : t);
  return { lastFreeS: at.t / 1000, startKib: at.rssKib, finalKib, t50S: when(st.t50), t90S: when(st.t90) };
}

export function summarize(g: GuestResult): GuestSummary {
  const m = g.metrics;
  const fall = rssFall(g.samples);
  const lowest = g.reportedByOrder.findIndex((c) => c > 0);
  const peakKib = g.samples.reduce((a, s) => Math.max(a, s.rssKib), m.host.rssKib);
  return {
    name: g.name,
    policy: g.policy,
    pagesReported: m.reporting.pagesReported,
    mibReported: m.reporting.pagesReported / 256,
    reportCalls: m.reporting.reportCalls,
    reportErrors: m.reporting.reportErrors,
    passes: m.reporting.passes,
    lowestOrderReported: lowest < 0 ? null : lowest,
    finalRssMiB: m.host.rssKib / 1024,
    peakRssMiB: peakKib / 1024,
    lastFreeS: fall.lastFreeS,
    t50S: fall.t50S,
    t90S: fall.t90S,
    refaults: m.host.refaults,
    refaultMiB: m.host.refaultPages / 256,
    allocFailures: m.allocator.allocFailures,
    allocFailuresInFlight: m.allocator.allocFailuresInFlight,
    isolationFailures: m.allocator.isolationFailures,
    inflightPeakMiB: m.allocator.inflightPeakPages / 256,
    pagesHinted: m.hinting ? m.hinting.pagesHinted : null,
    hintLostDataPages: m.hinting ? m.hinting.lostDataPages : null,
  };
}
