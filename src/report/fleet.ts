// The fleet view: when a run has more guests, or a sweep more rows, than a table can show, the guests are
// summed up per policy as distributions (min, p50, p90, p99, max) of the figures that matter for an
// overcommitted host, and the host's total RSS over the run. Distributions are exact (value -> count), so
// memory grows with the number of distinct values, not with the number of guests.
import type { Sample, SimulationResult } from '../sim/engine.js';
import type { GuestSummary } from './summary.js';
import { fmtInt, fmtNum, formatTable } from './table.js';

/** Host RSS is kept at 0, 10, ..., 100% of a run: MARKS + 1 values. */
export const MARKS = 10;

/** A guest's RSS (KiB) at each mark: the last sample taken at or before it (0 before the first sample). */
export function rssAtMarks(samples: readonly Sample[], durationS: number, marks = MARKS): number[] {
  const out: number[] = [];
  let k = 0;
  for (let m = 0; m <= marks; m++) {
    const t = (durationS * 1000 * m) / marks;
    while (k < samples.length && samples[k]!.t <= t + 1e-9) k++;
    out.push(k ? samples[k - 1]!.rssKib : 0);
  }
  return out;
}

export interface Quantiles {
  n: number;
  /** Values that were null (no RSS fall, so no t50). */
  missing: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Every value seen, as value -> count; quantiles by nearest rank. */
export class Distribution {
  private readonly counts = new Map<number, number>();
  n = 0;
  missing = 0;

  add(v: number | null): void {
    if (v === null || !Number.isFinite(v)) {
      this.missing++;
      return;
    }
    this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
    this.n++;
  }

  quantiles(): Quantiles | null {
    if (!this.n) return null;
    const values = [...this.counts.keys()].sort((a, b) => a - b);
    const at = (p: number) => {
      const rank = Math.max(1, Math.ceil(p * this.n));
      let seen = 0;
      for (const v of values) {
        seen += this.counts.get(v)!;
        if (seen >= rank) return v;
      }
      return values[values.length - 1]!;
    };
    return { n: this.n, missing: this.missing, min: values[0]!, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: values[values.length - 1]! };
  }
}

/** The figures of the fleet view: label, value, and how to print it. */
export const FLEET_FIGURES: Array<{ label: string; value: (s: GuestSummary) => number | null; fmt: (v: number) => string }> = [
  { label: 'final RSS MiB', value: (s) => s.finalRssMiB, fmt: (v) => fmtNum(v) },
  { label: 'RSS 50% drop after s', value: (s) => s.t50S, fmt: (v) => fmtNum(v, 2) },
  { label: 'RSS 90% drop after s', value: (s) => s.t90S, fmt: (v) => fmtNum(v, 2) },
  { label: 'MiB reported', value: (s) => s.mibReported, fmt: (v) => fmtNum(v) },
  { label: 'refaults', value: (s) => s.refaults, fmt: (v) => fmtInt(v) },
  { label: 'alloc failures', value: (s) => s.allocFailures, fmt: (v) => fmtInt(v) },
];

interface PolicyGroup {
  guests: number;
  figures: Distribution[];
}

/** Guests (and host totals) added one at a time, in any order; `render` prints the view. */
export class Fleet {
  private readonly policies = new Map<string, PolicyGroup>();
  private hostMarks: Distribution[] = [];
  private runs = 0;
  private duration: number | null | undefined = undefined;

  addGuest(s: GuestSummary): void {
    let g = this.policies.get(s.policy);
    if (!g) this.policies.set(s.policy, (g = { guests: 0, figures: FLEET_FIGURES.map(() => new Distribution()) }));
    g.guests++;
    FLEET_FIGURES.forEach((f, i) => g.figures[i]!.add(f.value(s)));
  }

  /** One run's host total RSS (MiB) at the marks; runs of different durations are shown by % of the run. */
  addHost(mibAtMarks: readonly number[], durationS: number): void {
    if (!this.hostMarks.length) this.hostMarks = mibAtMarks.map(() => new Distribution());
    mibAtMarks.forEach((v, i) => this.hostMarks[i]?.add(v));
    this.runs++;
    this.duration = this.duration === undefined || this.duration === durationS ? durationS : null;
  }

  get guestCount(): number {
    let n = 0;
    for (const g of this.policies.values()) n += g.guests;
    return n;
  }

  render(): string {
    const q = (d: Distribution, fmt: (v: number) => string) => {
      const x = d.quantiles();
      return x ? [fmt(x.min), fmt(x.p50), fmt(x.p90), fmt(x.p99), fmt(x.max)] : ['-', '-', '-', '-', '-'];
    };
    const rows: string[][] = [];
    for (const [policy, g] of [...this.policies].sort(([a], [b]) => a.localeCompare(b))) {
      FLEET_FIGURES.forEach((f, i) => {
        const d = g.figures[i]!;
        const label = d.missing ? `${f.label} (${d.n} of ${g.guests})` : f.label;
        rows.push([i ? '' : policy, i ? '' : String(g.guests), label, ...q(d, f.fmt)]);
      });
    }
    let out = formatTable(['policy', 'guests', 'figure', 'min', 'p50', 'p90', 'p99', 'max'], rows, [0, 2]);
    if (this.runs) {
      const byTime = this.duration !== null && this.duration !== undefined;
      const when = (m: number) => (byTime ? fmtNum((this.duration! * m) / MARKS, 1) : `${(100 * m) / MARKS}%`);
      const first = byTime ? 't s' : 'at % of run';
      out += `\nhost total RSS MiB (all guests${this.runs > 1 ? `; distribution over ${this.runs.toLocaleString('en-US')} runs` : ''}):\n`;
      if (this.runs === 1) {
        out += formatTable([first, 'MiB'], this.hostMarks.map((d, m) => [when(m), fmtNum(d.quantiles()?.max ?? null)]), []);
      } else {
        out += formatTable([first, 'min', 'p50', 'p90', 'p99', 'max'], this.hostMarks.map((d, m) => [when(m), ...q(d, (v) => fmtNum(v))]), []);
      }
    }
    return out;
  }
}

/** Guests past which `prsim run` prints the fleet view instead of one column per guest (unless --per-guest). */
export const TABLE_MAX_GUESTS = 8;

/** The fleet view of one run: its guests per policy, and the host total (every guest's RSS) over the run. */
export function runFleetView(result: SimulationResult, summaries: readonly GuestSummary[]): string {
  const fleet = new Fleet();
  for (const s of summaries) fleet.addGuest(s);
  const marks = result.guests.map((g) => rssAtMarks(g.samples, result.durationS));
  fleet.addHost(marks[0]!.map((_, m) => marks.reduce((a, g) => a + g[m]!, 0) / 1024), result.durationS);
  return `fleet view of ${summaries.length} guests (--per-guest prints one column each):\n\n` + fleet.render();
}
