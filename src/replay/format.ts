// One comparison format for every `prsim replay`: the real run and the simulator side by side, with the same
// keys on both sides, whatever kind of run it was (a traced run, a workload run, an idle boot).
//
//   { run, kind, mode?, warnings, clockOffset, real: Side, sim: Side, details }
//   Side = { passes: [{pass, t, calls, blocks, bytes}], reports: [{pass, batch, slot, pfn, order, t}],
//            afterFree: Window | null, boot: Window | null, cycles?: Window[] }
//   Window = { from, to, passes, calls, blocks, blocksByOrder, bytes, steps: [{t, mib}], t50, t90, dropMiB }
//
// Times are guest seconds (the `@` records' clock); window step times, t50 and t90 are seconds after the window
// starts (the free's free_start, or the balloon's registration for `boot`). `slot` is the scatterlist index as
// reports.csv's idx (0 = the last block taken off a list).
import { NR_ORDERS } from '../core/types.js';
import { staircase } from '../sim/staircase.js';
import type { ReportRow, PassRow } from '../importers/csv.js';
import type { Run } from '../importers/run.js';

export interface SidePass { pass: number; t: number; calls: number; blocks: number; bytes: number }
export interface SideReport { pass: number; batch: number; slot: number; pfn: number; order: number; t: number }

export interface Window {
  /** Guest seconds the window starts and ends. */
  from: number;
  to: number;
  /** Passes that started in the window, their report() calls and blocks. */
  passes: number;
  calls: number;
  blocks: number;
  blocksByOrder: number[];
  bytes: number;
  /** The host RSS fall after `from`: steps (seconds after `from`, MiB), times to 50% and 90% of it. */
  steps: Array<{ t: number; mib: number }>;
  t50: number | null;
  t90: number | null;
  dropMiB: number;
}

export interface Side {
  passes: SidePass[];
  reports: SideReport[];
  /** After the last free (null for a run with no free). */
  afterFree: Window | null;
  /** From the balloon's registration to the first workload (null where that side does not cover it). */
  boot: Window | null;
  /** One window per free, from its free_start to the next cycle's alloc_start, where a run has several. */
  cycles?: Window[];
}

export interface RunComparison {
  run: string;
  kind: 'trace' | 'workload' | 'idle';
  mode?: string;
  /** What was skipped or inferred while reading and replaying the run. */
  warnings: string[];
  /** t_host - t_guest of the recording, seconds (rss.csv and serial.log's first column are host times). */
  clockOffset: number;
  real: Side;
  sim: Side;
  /** Mode-specific details (trace: per-cpu drains and refills reproduced, end blocks; workload: the inputs). */
  details: Record<string, unknown>;
}

export interface RssSample { t: number; kib: number }

/** A side's passes and reports as the real run's derived files hold them. */
function sideFromCsv(passes: readonly PassRow[], reports: readonly ReportRow[]): Pick<Side, 'passes' | 'reports'> {
  const calls = new Map<number, Set<number>>();
  for (const r of reports) (calls.get(r.pass) ?? calls.set(r.pass, new Set()).get(r.pass)!).add(r.batch);
  return {
    passes: passes.map((p) => ({ pass: p.pass, t: p.tStartGuest, calls: calls.get(p.pass)?.size ?? p.batches, blocks: p.blocks, bytes: p.bytes })),
    reports: [...reports].sort((a, b) => a.pass - b.pass || a.batch - b.batch || a.idx - b.idx)
      .map((r) => ({ pass: r.pass, batch: r.batch, slot: r.idx, pfn: r.pfn, order: r.order, t: r.tGuest })),
  };
}

/** The real run's side (no windows yet) and its host RSS on the guest clock, from its derived files. */
export function realSide(run: Pick<Run, 'passes' | 'reports' | 'rss'>, clockOffset: number): { side: Side; rss: RssSample[] } {
  return {
    side: { ...sideFromCsv(run.passes ?? [], run.reports ?? []), afterFree: null, boot: null },
    rss: (run.rss ?? []).map((r) => ({ t: r.tHost - clockOffset, kib: r.vmRssKib })),
  };
}

/** What happened in [from, to): passes started, their calls and blocks, and the RSS fall after `from`. */
export function windowOf(side: Pick<Side, 'passes' | 'reports'>, rss: readonly RssSample[], from: number, to: number, rssOpts: { minStepKib?: number; gapS?: number } = {}): Window {
  const passes = side.passes.filter((p) => p.t >= from && p.t < to);
  const inPass = new Set(passes.map((p) => p.pass));
  const reports = side.reports.filter((r) => inPass.has(r.pass));
  const byOrder = new Array<number>(NR_ORDERS).fill(0);
  for (const r of reports) byOrder[r.order]!++;
  const s = staircase(rss, from, rssOpts.minStepKib ?? 16 * 1024, rssOpts.gapS ?? 0.3, to - from);
  const r3 = (x: number) => +x.toFixed(3);
  return {
    from: r3(from), to: r3(to), passes: passes.length, calls: new Set(reports.map((r) => `${r.pass}/${r.batch}`)).size,
    blocks: reports.length, blocksByOrder: byOrder, bytes: reports.reduce((a, r) => a + 4096 * 2 ** r.order, 0),
    steps: s.steps.map((x) => ({ t: x.t, mib: +(x.kib / 1024).toFixed(1) })),
    t50: Number.isFinite(s.t50) ? s.t50 : null, t90: Number.isFinite(s.t90) ? s.t90 : null,
    dropMiB: +((s.atFree - s.final) / 1024).toFixed(1),
  };
}

/**
 * The simulator's reports in the real reports.csv format (t_host from the run's clock offset), CRLF line ends
 * included as the recorder writes them, so `diff` against a recording compares rows, not line ends.
 */
export function reportsCsv(side: Side, clockOffset: number): string {
  const nents = new Map<string, number>();
  for (const r of side.reports) nents.set(`${r.pass}/${r.batch}`, (nents.get(`${r.pass}/${r.batch}`) ?? 0) + 1);
  const rows = side.reports.map((r) => [
    r.t.toFixed(6), (r.t + clockOffset).toFixed(6), r.pass, r.batch, nents.get(`${r.pass}/${r.batch}`), r.slot, r.pfn, r.order, 4096 * 2 ** r.order,
  ].join(','));
  return ['t_guest_s,t_host_s,pass,batch,nents,idx,pfn,order,bytes', ...rows].join('\r\n') + '\r\n';
}

/** Whether a side's window meets another's within tolerance: same passes and calls, t50/t90 within tolS. */
export function withinTolerance(real: Window, sim: Window, tolS = 0.15): { ok: boolean; why: string[] } {
  const why: string[] = [];
  if (real.passes !== sim.passes) why.push(`passes ${real.passes} vs ${sim.passes}`);
  if (real.calls !== sim.calls) why.push(`calls ${real.calls} vs ${sim.calls}`);
  for (const k of ['t50', 't90'] as const) {
    const a = real[k], b = sim[k];
    if (a === null && b === null) continue;
    if (a === null || b === null || Math.abs(a - b) > tolS) why.push(`${k} ${a ?? '-'} vs ${b ?? '-'}`);
  }
  return { ok: why.length === 0, why };
}

/** A run held to tolerance (`prsim fidelity`). */
export interface FidelityRow {
  run: string;
  kind: string;
  /**
   * The window held: after the last free, or the boot reporting of an idle run; 'none' when the recording
   * leaves neither to compare (no free and no state recorded between registration and the first pass).
   */
  window: 'after free' | 'boot' | 'none';
  real: Window | null;
  sim: Window | null;
  ok: boolean;
  why: string[];
}
