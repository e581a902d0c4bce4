// The text forms of `prsim replay` and `prsim fidelity`: a comparison, and the table of every run against the
// simulator.
import type { FidelityRow, RunComparison, Window } from './format.js';
import type { WorkloadRunDetails } from './run-replay.js';

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const orders = (h: number[]) => h.map((n, o) => (n ? `${o}:${n}` : '')).filter(Boolean).join(' ') || '-';
const secs = (x: number | null) => (x === null ? '-' : x.toFixed(2));

function windowLine(w: Window | null): string {
  if (!w) return '-';
  const steps = w.steps.map((s) => `+${s.t.toFixed(2)}s -${s.mib}`).join(', ') || 'none';
  return `${w.passes} passes, ${w.calls} calls, ${w.blocks} blocks (${orders(w.blocksByOrder)}), ${mib(w.bytes)} MiB; RSS steps ${steps}; t50 ${secs(w.t50)} t90 ${secs(w.t90)}`;
}

export function formatComparison(c: RunComparison): string {
  const out: string[] = [];
  const d = c.details as Partial<WorkloadRunDetails> & Record<string, unknown>;
  if (c.kind === 'trace') {
    out.push(`${c.run}: ${c.mode} trace replay`);
  } else {
    const m = d.model!;
    const cyc = m.cycles;
    const what = c.kind === 'idle' ? 'idle boot'
      : `${m.kind} ${cyc[0]?.mib ?? '?'} MiB${cyc.length > 1 ? ` x${cyc.length} cycles` : ''}, THP ${cyc[0]?.thp ?? 'never'}, cpu ${cyc.map((x) => x.cpu ?? '?').join('/')}`;
    out.push(`${c.run}: ${what}; ${m.cpus ?? '?'} cpus, ${m.memMiB ?? '?'} MiB guest; reporting order ${m.effectiveOrder ?? '?'}${m.orderWrites.length ? ` (written ${m.orderWrites.map((w) => `${w.order} at ${w.t.toFixed(2)} s`).join(', ')})` : ''}`);
    if (d.boot) out.push(`  boot simulated from ${d.boot.snapshot} at ${d.boot.start.toFixed(3)} s`);
    if (d.workload) out.push(`  workload simulated from ${d.workload.snapshot} at ${d.workload.start.toFixed(3)} s (${d.wallMs} ms)`);
  }
  for (const w of c.warnings) out.push(`  warning: ${w}`);
  if (c.real.boot || c.sim.boot) {
    out.push('  boot reporting (from the balloon\'s registration):');
    out.push(`    real ${windowLine(c.real.boot)}`);
    out.push(`    sim  ${windowLine(c.sim.boot)}`);
  }
  if (c.real.cycles && c.sim.cycles) {
    c.real.cycles.forEach((r, i) => {
      out.push(`  cycle ${i} (free at ${r.from.toFixed(3)} s, until ${r.to.toFixed(3)} s):`);
      out.push(`    real ${windowLine(r)}`);
      out.push(`    sim  ${windowLine(c.sim.cycles![i] ?? null)}`);
    });
  }
  if (c.real.afterFree || c.sim.afterFree) {
    out.push(`  after the last free (at ${(c.real.afterFree ?? c.sim.afterFree)!.from.toFixed(3)} s):`);
    out.push(`    real ${windowLine(c.real.afterFree)}`);
    out.push(`    sim  ${windowLine(c.sim.afterFree)}`);
  }
  for (const s of d.workload?.snapshots ?? []) {
    const zones = Object.keys(s.real.buddyinfo);
    for (const z of zones) {
      out.push(`  ${s.tag} (${s.t.toFixed(2)} s) ${z}: buddyinfo real ${s.real.buddyinfo[z]!.join(' ')} | sim ${s.sim.buddyinfo[z]?.join(' ') ?? '-'}; per-cpu real ${s.real.pcp[z]?.join('/') ?? '-'}, sim ${s.sim.pcp[z]?.join('/') ?? '-'}`);
    }
  }
  if (c.kind === 'trace') {
    const p = d['passes'] as { calls: { real: number; sim: number; same: number }; blocks: { real: number; samePosition: number; sameSet: number } };
    const b = d['endBlocks'] as { same: number; real: number; sim: number; onlyReal: number; onlySim: number; reportedDiffers: number };
    out.push(`  report() calls in the trace window: ${p.calls.same}/${p.calls.real} identical (sim ${p.calls.sim}); blocks in the same slot ${p.blocks.samePosition}/${p.blocks.real}, same set ${p.blocks.sameSet}`);
    out.push(`  free blocks at the end vs the kpageflags dump: ${b.same}/${b.real} identical (sim ${b.sim}), Reported differs ${b.reportedDiffers}, only real ${b.onlyReal}, only sim ${b.onlySim}`);
    const m = (d['replay'] as { modelled?: { drains: { same: number; trace: number; groupsSame: number; traceGroups: number }; zoneLocked: { same: number; trace: number; groupsSame: number; traceGroups: number } } }).modelled;
    if (m) {
      out.push(`  per-cpu drains reproduced ${m.drains.same}/${m.drains.trace} (bulk frees ${m.drains.groupsSame}/${m.drains.traceGroups}); refilled blocks ${m.zoneLocked.same}/${m.zoneLocked.trace} (refills ${m.zoneLocked.groupsSame}/${m.zoneLocked.traceGroups})`);
    }
  }
  return out.join('\n');
}

export function formatFidelity(rows: FidelityRow[], tolS: number): string {
  const cell = (a: number | null, b: number | null, f: (x: number) => string) => `${a === null ? '-' : f(a)} / ${b === null ? '-' : f(b)}`;
  const head = ['run', 'kind', 'window', 'passes', 'calls', 'blocks', 'MiB', 't50 s', 't90 s', `within ${tolS} s`];
  const body = rows.map((r) => [
    r.run, r.kind, r.window, cell(r.real?.passes ?? null, r.sim?.passes ?? null, String), cell(r.real?.calls ?? null, r.sim?.calls ?? null, String),
    cell(r.real?.blocks ?? null, r.sim?.blocks ?? null, String), cell(r.real ? r.real.bytes / 2 ** 20 : null, r.sim ? r.sim.bytes / 2 ** 20 : null, (x) => x.toFixed(0)),
    cell(r.real?.t50 ?? null, r.sim?.t50 ?? null, (x) => x.toFixed(2)), cell(r.real?.t90 ?? null, r.sim?.t90 ?? null, (x) => x.toFixed(2)), r.ok ? 'yes' : `no: ${r.why.join(', ')}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...body.map(line), '', `real / simulator; ${rows.filter((r) => r.ok).length} of ${rows.length} runs within tolerance`].join('\n');
}

