// The benchmark summary: each figure against its target and, with --baseline, against the previous build's
// figure measured in the same run.

export interface Target { op: '<=' | '>='; value: number }

export interface Figure {
  name: string;
  unit: string;
  target: Target | null;
  now: number | null;
  previous: number | null;
  digits: number;
}

/** The targets (issue 12, and the earlier ones the README states). */
export const TARGETS = {
  w1OverNative: { op: '<=', value: 1.3 },
  referenceOverWasm: { op: '>=', value: 3 },
  guestMinuteMs: { op: '<=', value: 10 },
  w3ScaledMops: { op: '>=', value: 50 },
  bytesPerPage64GiB: { op: '<=', value: 16 },
  largestGuestGiB: { op: '>=', value: 1024 },
  /** Sweep points scale with shards: N shards on N cores give at least this fraction of N times one shard. */
  sweepPerCoreEfficiency: { op: '>=', value: 0.8 },
} as const satisfies Record<string, Target>;

export function met(t: Target | null, v: number | null): boolean | null {
  if (!t || v === null) return null;
  return t.op === '<=' ? v <= t.value : v >= t.value;
}

/** The figures as an aligned text table: figure, target, previous, now, whether now meets the target. */
export function summaryTable(figs: Figure[]): string {
  const num = (v: number | null, d: number) => (v === null ? '-' : v.toFixed(d));
  const rows = figs.map((f) => [
    f.name, f.target ? `${f.target.op} ${f.target.value} ${f.unit}` : f.unit,
    num(f.previous, f.digits), num(f.now, f.digits),
    ({ true: 'met', false: 'NOT met', null: '' } as const)[String(met(f.target, f.now)) as 'true' | 'false' | 'null'],
  ]);
  const head = ['figure', 'target', 'previous', 'now', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 1 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
