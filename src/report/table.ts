// Plain-text tables for the terminal: the policies side by side (one column per guest), and sweep rows (one
// row per grid point, laid out by src/sweep/output.ts). Numbers are right-aligned; a missing figure prints as "-".
import type { GuestSummary } from './summary.js';

export function formatTable(header: string[], rows: string[][], alignLeft: number[] = [0]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (alignLeft.includes(c) ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export const fmtInt = (v: number | null): string => (v === null ? '-' : Math.round(v).toLocaleString('en-US'));
export const fmtNum = (v: number | null, digits = 1): string => (v === null ? '-' : v.toFixed(digits));

interface RowDef {
  label: string;
  value: (s: GuestSummary) => string;
  /** Printed only when some guest has the figure (hinting rows). */
  when?: (s: GuestSummary) => boolean;
}

const ROWS: RowDef[] = [
  { label: 'policy', value: (s) => s.policy },
  { label: 'pages reported', value: (s) => fmtInt(s.pagesReported) },
  { label: 'MiB reported', value: (s) => fmtNum(s.mibReported) },
  { label: 'report calls', value: (s) => fmtInt(s.reportCalls) },
  { label: 'report errors', value: (s) => fmtInt(s.reportErrors) },
  { label: 'passes', value: (s) => fmtInt(s.passes) },
  { label: 'lowest order reported', value: (s) => (s.lowestOrderReported === null ? '-' : String(s.lowestOrderReported)) },
  { label: 'pages hinted', value: (s) => fmtInt(s.pagesHinted), when: (s) => s.pagesHinted !== null },
  { label: 'hint: pages lost (reused)', value: (s) => fmtInt(s.hintLostDataPages), when: (s) => s.hintLostDataPages !== null },
  { label: 'peak host RSS MiB', value: (s) => fmtNum(s.peakRssMiB) },
  { label: 'final host RSS MiB', value: (s) => fmtNum(s.finalRssMiB) },
  { label: 'last free at s', value: (s) => fmtNum(s.lastFreeS, 2) },
  { label: 'RSS 50% drop after s', value: (s) => fmtNum(s.t50S, 2) },
  { label: 'RSS 90% drop after s', value: (s) => fmtNum(s.t90S, 2) },
  { label: 'refaults', value: (s) => fmtInt(s.refaults) },
  { label: 'refaulted MiB', value: (s) => fmtNum(s.refaultMiB) },
  { label: 'alloc failures', value: (s) => fmtInt(s.allocFailures) },
  { label: 'alloc failures in flight', value: (s) => fmtInt(s.allocFailuresInFlight) },
  { label: 'isolation failures', value: (s) => fmtInt(s.isolationFailures) },
  { label: 'peak in flight MiB', value: (s) => fmtNum(s.inflightPeakMiB) },
];

/** One column per guest, one row per figure. */
export function comparisonTable(summaries: GuestSummary[]): string {
  const rows = ROWS.filter((r) => !r.when || summaries.some(r.when)).map((r) => [r.label, ...summaries.map(r.value)]);
  return formatTable(['', ...summaries.map((s) => s.name)], rows);
}

/** The columns of a sweep row after its parameters. */
export const SWEEP_COLUMNS: Array<[string, (s: GuestSummary) => string]> = [
  ['pages reported', (s) => fmtInt(s.pagesReported)],
  ['report calls', (s) => fmtInt(s.reportCalls)],
  ['passes', (s) => fmtInt(s.passes)],
  ['final RSS MiB', (s) => fmtNum(s.finalRssMiB)],
  ['t50 s', (s) => fmtNum(s.t50S, 2)],
  ['t90 s', (s) => fmtNum(s.t90S, 2)],
  ['refaults', (s) => fmtInt(s.refaults)],
  ['alloc fail in flight', (s) => fmtInt(s.allocFailuresInFlight)],
];
