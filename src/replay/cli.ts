// `prsim replay <run folder> [--mode forced|modelled] [--delay ms|trace] [--memhog] [--no-teardown] [--json]`:
// replay a real run's kmem trace on the simulator (when the run has one) and compare with what the real kernel
// did; for runs without a trace, simulate the run's workload: E3-like runs (memhog, reporting order written
// through sysfs) and E4-like runs (fragment) are compared pass by pass, block orders, E4's hold and the host
// RSS (src/replay/workload-runs.ts); E2-like memhog runs, or any run with --memhog, by the host RSS staircase.
import { existsSync } from 'node:fs';
import { loadRun } from '../importers/run.js';
import { replayTrace, type ReplayMode } from './trace-replay.js';
import { compareMemhog, compareTrace, type MemhogComparison, type TraceComparison } from './compare.js';
import { compareWorkloadRun, workloadRunKind, type PassSummary, type WorkloadRunComparison } from './workload-runs.js';

const USAGE = 'usage: prsim replay <run folder> [--mode forced|modelled] [--delay <ms>|trace] [--order N] [--capacity N] [--memhog] [--no-teardown] [--json]';

export async function replayCommand(args: string[]): Promise<number> {
  let dir: string | undefined;
  let mode: ReplayMode = 'forced';
  let modeGiven = false;
  let delay: number | 'trace' = 'trace';
  let order: number | undefined;
  let capacity: number | undefined;
  let json = false, memhog = false, teardown = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--memhog') memhog = true;
    else if (a === '--no-teardown') teardown = false;
    else if (a === '--mode') {
      const v = args[++i];
      if (v !== 'forced' && v !== 'modelled') {
        console.error(`--mode must be forced or modelled, got ${v}\n${USAGE}`);
        return 2;
      }
      mode = v;
      modeGiven = true;
    } else if (a === '--delay') {
      const v = args[++i];
      if (v === 'trace') delay = 'trace';
      else if (v !== undefined && Number.isFinite(Number(v)) && Number(v) >= 0) delay = Number(v);
      else {
        console.error(`--delay must be milliseconds or 'trace', got ${v}\n${USAGE}`);
        return 2;
      }
    } else if (a === '--order' || a === '--capacity') {
      const v = Number(args[++i]);
      const max = a === '--order' ? 10 : 256;
      if (!Number.isInteger(v) || v < (a === '--order' ? 0 : 1) || v > max) {
        console.error(`${a} must be an integer up to ${max}, got ${args[i]}\n${USAGE}`);
        return 2;
      }
      if (a === '--order') order = v;
      else capacity = v;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      console.error(`unknown option ${a}\n${USAGE}`);
      return 2;
    } else if (dir === undefined) dir = a;
    else {
      console.error(`one run folder only\n${USAGE}`);
      return 2;
    }
  }
  if (!dir || !existsSync(dir)) {
    console.error(`${dir ? `no such folder: ${dir}` : 'no run folder given'}\n${USAGE}`);
    return 2;
  }
  const run = loadRun(dir);
  const out: { trace?: TraceComparison; memhog?: MemhogComparison; workload?: WorkloadRunComparison } = {};
  const traceable = !!run.trace && !!(run.blocks['pre'] ?? run.kpageflags['pre']);
  if (!traceable && (modeGiven || order !== undefined || capacity !== undefined)) {
    // Without a kmem trace and a start dump there is no recorded allocator traffic to replay under another policy.
    console.error(`prsim: replay: ${run.name}: --mode, --order and --capacity need a run with a kmem trace and a kpageflags.pre dump (the E5 layout)`);
    return 2;
  }
  try {
    if (traceable && !memhog) out.trace = compareTrace(run, replayTrace(run, { mode, delayMs: delay, ...(order !== undefined ? { order } : {}), ...(capacity !== undefined ? { capacity } : {}) }));
    const kind = traceable || memhog ? undefined : workloadRunKind(run);
    if (kind) out.workload = await compareWorkloadRun(run, { teardown }, kind);
    else if (memhog || !traceable) out.memhog = await compareMemhog(run);
  } catch (e) {
    // The run folder does not hold what a comparison needs (E1, an idle boot, has no workload): bad input.
    console.error(`prsim: replay: ${(e as Error).message}`);
    return 2;
  }
  if (json) {
    console.log(JSON.stringify(out, null, 1));
    return 0;
  }
  if (out.trace) printTrace(out.trace);
  if (out.memhog) printMemhog(out.memhog);
  if (out.workload) printWorkload(out.workload);
  return 0;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

function printTrace(c: TraceComparison): void {
  const r = c.replay;
  console.log(`${c.run}: ${c.mode} replay of ${r.events} kmem events, guest ${r.start.toFixed(3)}..${r.end.toFixed(3)} s (${(r.wallMs / 1000).toFixed(1)} s)`);
  if (!r.modelled) console.log(`  applied: ${r.applied.allocZoneLocked} zone-locked allocs, ${r.applied.pcpuDrain} pcpu drains, ${r.applied.directFree} direct frees`);
  console.log(`  boot passes replayed on the inferred lists: ${r.boot.callsSame}/${r.boot.calls} calls, ${r.boot.blocksSame}/${r.boot.blocks} blocks identical`);
  const d = r.divergence;
  console.log(`  divergences: alloc not free ${d.allocNotFree}, not a head ${d.allocNotHead}, list mt ${d.allocListMt}, free of non-allocated ${d.freeNotAllocated}, drain mt override ${d.drainMtOverride}`);
  for (const f of d.first) console.log(`    ${f}`);
  if (r.modelled) {
    const m = r.modelled;
    for (const x of m.initial) {
      console.log(`  start per-cpu list cpu ${x.cpu} ${x.zone}: ${x.count} pages (pinned by ${x.pinnedBy}; ${x.known} named by the trace, ${x.placeholders} placeholders; zoneinfo ${x.zoneinfo ?? '-'})`);
    }
    console.log(`  per-cpu count at the end of the trace: ${m.endCounts.filter((x) => x.count).map((x) => `cpu ${x.cpu} ${x.zone} ${x.count}`).join(', ') || 'none'}`);
    console.log(`  allocations: ${m.allocSamePfn}/${m.allocs} the simulator's own pick (${m.allocSameFromStartLists} of start-list pages); carved ${m.carvedFromPcp} from a per-cpu list, ${m.carvedFromBuddy} from the buddy, ${m.carveFailed} impossible`);
    console.log(`  frees: ${m.frees} fed (${m.directFrees} direct), ${m.listFrees} list frees, ${m.freeNotAllocated} of pages not allocated in the simulator`);
    const seq = (what: string, s: typeof m.drains, group: string) => {
      console.log(`  ${what}: ${s.same}/${s.trace} trace events reproduced (same pfn, order, position; ${s.sameFromStartLists} of start-list pages; simulator ${s.sim}); pages ${s.tracePages} vs ${s.simPages}; ${group} ${s.groupsSame}/${s.traceGroups} identical (simulator ${s.simGroups})`);
      for (const f of s.firstDifferences) console.log(`    ${f}`);
    };
    seq('mm_page_pcpu_drain', m.drains, 'bulk frees');
    seq('mm_page_alloc_zone_locked', m.zoneLocked, 'refills');
    for (const f of m.firstMismatches.slice(0, 5)) console.log(`    ${f}`);
  }
  const p = c.passes;
  console.log(`  passes: real ${p.real.length}, simulator ${p.sim.length}; ${p.passesSame} identical in batches/blocks/bytes`);
  p.real.forEach((x, i) => {
    const s = p.sim[i];
    console.log(`    pass ${x.pass}: real t=${x.t.toFixed(3)} ${x.batches} batches ${x.blocks} blocks ${mib(x.bytes)} MiB | sim ${s ? `t=${s.t.toFixed(3)} ${s.batches} batches ${s.blocks} blocks ${mib(s.bytes)} MiB` : '-'}`);
  });
  console.log(`  report() calls: ${p.calls.same}/${p.calls.real} identical (sim ${p.calls.sim}); blocks in the same slot ${p.blocks.samePosition}/${p.blocks.real}, same set ${p.blocks.sameSet}`);
  const b = c.endBlocks;
  console.log(`  free blocks at the end vs kpageflags.post: ${b.same}/${b.real} identical (sim ${b.sim}), Reported differs ${b.reportedDiffers}, only real ${b.onlyReal}, only sim ${b.onlySim}`);
  console.log(`    free pages real ${b.realPages}, sim ${b.simPages}, in both ${b.commonPages}`);
  console.log(`    by order real ${b.realByOrder.join(' ')} | sim ${b.simByOrder.join(' ')}`);
  for (const f of [...p.firstDifferences, ...b.firstDifferences].slice(0, 12)) console.log(`    ${f}`);
}

function printMemhog(c: MemhogComparison): void {
  const steps = (s: { steps: Array<{ t: number; kib: number }> }) => s.steps.map((x) => `+${x.t.toFixed(2)}s -${mib(x.kib * 1024)} MiB`).join(', ');
  console.log(`${c.run}: memhog ${c.mib} MiB, host RSS after the free (guest clock)`);
  console.log(`  real rss.csv: at free ${mib(c.real.rss.atFree * 1024)} MiB, final ${mib(c.real.rss.final * 1024)}; steps ${steps(c.real.rss)}; t50 ${c.real.rss.t50} s, t90 ${c.real.rss.t90} s`);
  console.log(`  real ram.csv: at free ${mib(c.real.ram.atFree * 1024)} MiB, final ${mib(c.real.ram.final * 1024)}; steps ${steps(c.real.ram)}`);
  console.log(`  simulator:    at free ${mib(c.sim.ram.atFree * 1024)} MiB, final ${mib(c.sim.ram.final * 1024)}; steps ${steps(c.sim.ram)}; t50 ${c.sim.ram.t50} s, t90 ${c.sim.ram.t90} s`);
  console.log(`  passes after the free: real ${c.real.passes} (${c.real.batches} batches, ${c.real.blocks} blocks), sim ${c.sim.passes} (${c.sim.batches} batches, ${c.sim.blocks} blocks) at +${c.sim.passStarts.join(', +')} s`);
}

function printWorkload(c: WorkloadRunComparison): void {
  const passes = (xs: PassSummary[]) => xs.map((p) => `${p.t.toFixed(2)}s ${p.batches}/${p.blocks}/${mib(p.bytes)}`).join(', ') || 'none';
  const hist = (h: number[]) => h.map((n, o) => (n ? `${o}:${n}` : '')).filter(Boolean).join(' ') || '-';
  console.log(`${c.run}: ${c.kind === 'fragment' ? 'fragment workload' : 'memhog with the reporting order written through sysfs'}, simulated on cpu ${c.cpu} (${(c.wallMs / 1000).toFixed(1)} s)`);
  console.log(`  reporting order: real ${c.order.real}, simulator ${c.order.sim}; teardown free ${c.teardown === null ? 'off' : `at ${c.teardown.toFixed(3)} s`}`);
  console.log(`  boot passes (batches/blocks/MiB): real ${passes(c.boot.real)}`);
  console.log(`                                    sim  ${passes(c.boot.sim)}`);
  if (c.hold) {
    const h = c.hold;
    console.log(`  hold (t=${h.t.toFixed(3)} s): DMA32 free blocks by order real ${h.realByOrder.join(' ')} | sim ${h.simByOrder.join(' ')}`);
    console.log(`    order-0 free blocks: real ${h.realByOrder[0]}, sim ${h.simByOrder[0]}; per-cpu counts real ${h.realPcp.join('/')}, sim ${h.simPcp.join('/')}`);
    console.log(`    reported during the hold: real ${h.realPasses} passes ${mib(h.realBytes)} MiB, sim ${h.simPasses} passes ${mib(h.simBytes)} MiB`);
  }
  const a = c.afterFree;
  console.log(`  passes after the free: real ${passes(a.real)}`);
  console.log(`                         sim  ${passes(a.sim)}`);
  console.log(`  orders reported after the free: real ${hist(a.realOrders)} | sim ${hist(a.simOrders)}`);
  console.log(`  DMA blocks reported (whole run): real ${c.dma.real.length} (${c.dma.real.map((e) => e.join('/')).join(' ') || '-'}), sim ${c.dma.sim.length}`);
  console.log(`  end: DMA32 buddyinfo real ${c.end.realBuddyinfo.join(' ')} | sim ${c.end.simBuddyinfo.join(' ')}; per-cpu real ${c.end.realPcp.join('/')}, sim ${c.end.simPcp.join('/')}`);
  const st = (x: { steps: Array<{ t: number; kib: number }> }) => x.steps.map((s) => `+${s.t.toFixed(2)}s -${mib(s.kib * 1024)}`).join(', ');
  console.log(`  host RSS after the free (MiB): real rss.csv ${mib(c.rss.real.atFree * 1024)} -> ${mib(c.rss.real.final * 1024)} (${st(c.rss.real)}); ram.csv ${mib(c.rss.realRam.atFree * 1024)} -> ${mib(c.rss.realRam.final * 1024)} (${st(c.rss.realRam)})`);
  console.log(`                                 sim guest RAM ${mib(c.rss.sim.atFree * 1024)} -> ${mib(c.rss.sim.final * 1024)} (${st(c.rss.sim)})`);
}
