// CSV writers: the time series of a run (one row per sample, columns per guest) and guest summaries (the rows
// of a sweep are written by src/sweep/output.ts with these cells).
import type { SimulationResult, Sample } from '../sim/engine.js';
import type { GuestSummary } from './summary.js';

export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: unknown[]) => cells.map(csvCell).join(',') + '\n';

/** Columns per guest, named `<guest>:<series>` (guest names hold dots: linux-6.1). */
export const SERIES: Array<[string, (s: Sample) => number]> = [
  ['rss_kib', (s) => s.rssKib],
  ['free_pages', (s) => s.freePages],
  ['pages_reported', (s) => s.pagesReported],
  ['report_calls', (s) => s.reportCalls],
  ['inflight_pages', (s) => s.inflightPages],
  ['allocated_pages', (s) => s.allocatedPages],
  ['refaults', (s) => s.refaults],
];

/**
 * `t_s` then every series of every guest. Guests of one scenario share the sampling clock; a guest with fewer
 * samples leaves its cells empty.
 */
export function timeSeriesCsv(result: SimulationResult): string {
  const guests = result.guests;
  const longest = guests.reduce((a, g) => (g.samples.length > a.length ? g.samples : a), [] as Sample[]);
  let out = csvLine(['t_s', ...guests.flatMap((g) => SERIES.map(([name]) => `${g.name}:${name}`))]);
  longest.forEach((ref, k) => {
    const cells: unknown[] = [ref.t / 1000];
    for (const g of guests) {
      const s = g.samples[k];
      for (const [, f] of SERIES) cells.push(s ? f(s) : '');
    }
    out += csvLine(cells);
  });
  return out;
}

export const SUMMARY_KEYS: Array<keyof GuestSummary> = [
  'pagesReported', 'mibReported', 'reportCalls', 'reportErrors', 'passes', 'lowestOrderReported', 'finalRssMiB',
  'peakRssMiB', 'lastFreeS', 't50S', 't90S', 'refaults', 'refaultMiB', 'allocFailures', 'allocFailuresInFlight',
  'isolationFailures', 'inflightPeakMiB', 'pagesHinted', 'hintLostDataPages',
];

export function summaryCsv(summaries: GuestSummary[]): string {
  return csvLine(['guest', 'policy', ...SUMMARY_KEYS]) + summaries.map((s) => csvLine([s.name, s.policy, ...SUMMARY_KEYS.map((k) => s[k])])).join('');
}
