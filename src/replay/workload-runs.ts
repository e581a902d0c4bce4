// Real runs without a kmem trace, simulated with the matching workload on the run's guest (zones, watermarks,
// per-cpu high/batch from its zoneinfo) and held against what the real kernel reported:
// - E3 (`order0`): the E2 memhog with page_reporting_order written to 0 through sysfs right after the balloon
//   registered (the policy's sysfsOrder write, PageReporting.setOrder, at the run's rorder_set marker; a
//   boot-time order would be overwritten by 6.1's register());
// - E4 (`fragment`): touch 512 MiB, MADV_DONTNEED every other page, hold, munmap the rest.
// The engine is the one simulate() runs (Simulation); it is driven step by step here only to look at the guest
// during E4's hold.
//
// Teardown (option, default on): the workload process exits after its last free and its order-1 page-table
// root is freed on the same cpu, which on 6.1 flushes the cpu's per-cpu list (see processExit in
// src/workloads/workload.ts). `teardown: false` leaves the last ~6000 freed pages on the per-cpu list.

import type { Run } from '../importers/run.js';
import { zoneSpecsFromZoneinfo, cpusFromZoneinfo } from '../importers/zoneinfo.js';
import { resolveGuest } from '../core/config.js';
import { Simulation, type SimulationSpec } from '../sim/engine.js';
import { Memhog, type WorkloadSpec } from '../workloads/index.js';
import { MigrateType, NR_ORDERS } from '../core/types.js';
import { PcpView } from './modelled.js';
import { staircase, type Staircase } from './compare.js';

export type WorkloadRunKind = 'order0' | 'fragment';

export interface WorkloadRunOptions {
  /** Free the workload mm's order-1 pgd after the last free (see above). Default true. */
  teardown?: boolean;
}

export interface PassSummary { pass: number; t: number; batches: number; blocks: number; bytes: number }

export interface HoldComparison {
  /** Guest time of the real held snapshot (kpageflags dump start) and of the simulator's look. */
  t: number;
  /** DMA32 free blocks by order: the real kpageflags.held dump (and held.buddyinfo), the simulator. */
  realByOrder: number[];
  realBuddyinfo: number[];
  simByOrder: number[];
  /** Per-cpu count per cpu (DMA32): held.zoneinfo, the simulator. */
  realPcp: number[];
  simPcp: number[];
  /** Reporting passes and bytes between the fragmentation and the final free. */
  realPasses: number;
  realBytes: number;
  simPasses: number;
  simBytes: number;
}

export interface WorkloadRunComparison {
  run: string;
  kind: WorkloadRunKind;
  /** Reporting order in force after the sysfs write (or register). */
  order: { real: number; sim: number };
  /** CPU the workload ran on in the simulator (the real one's, from the per-cpu counts). */
  cpu: number;
  /** Time of the teardown free (guest s), or null without one. */
  teardown: number | null;
  markers: { register: number; workloadStart: number; free: number };
  /** Passes before the workload: the boot-time reporting. */
  boot: { real: PassSummary[]; sim: PassSummary[] };
  /** Passes after the final free, with the orders of the blocks they reported. */
  afterFree: {
    real: PassSummary[];
    sim: PassSummary[];
    realOrders: number[];
    simOrders: number[];
    /** Blocks of the DMA zone among them. */
    realDmaBlocks: number;
    simDmaBlocks: number;
  };
  /** Every DMA-zone block reported in the whole run ([pfn, order], in report order). */
  dma: { real: Array<[number, number]>; sim: Array<[number, number]> };
  hold?: HoldComparison;
  /** At the end: DMA32 free blocks by order (real end.buddyinfo, simulator) and per-cpu counts (end.zoneinfo). */
  end: { realBuddyinfo: number[]; simBuddyinfo: number[]; realPcp: number[]; simPcp: number[] };
  /** Host RSS after the final free: real rss.csv (QEMU process) and ram.csv (guest RAM), the simulator's guest RAM. */
  rss: { real: Staircase; realRam: Staircase; sim: Staircase };
  wallMs: number;
}

/** Which workload a run folder holds (summary.json `append`: EXP=frag, RORDER=). */
export function workloadRunKind(run: Run): WorkloadRunKind | undefined {
  const append = String(run.summary?.['append'] ?? '');
  if (/\bEXP=frag\b/.test(append)) return 'fragment';
  if (/\bEXP=memhog\b/.test(append) && /\bRORDER=\d+/.test(append)) return 'order0';
  return undefined;
}

const byOrder = (orders: number[]) => {
  const c = new Array<number>(NR_ORDERS).fill(0);
  for (const o of orders) c[o]!++;
  return c;
};

export async function compareWorkloadRun(run: Run, opts: WorkloadRunOptions = {}, kind: WorkloadRunKind | undefined = workloadRunKind(run)): Promise<WorkloadRunComparison> {
  const t0 = performance.now();
  if (!kind) throw new Error(`${run.name}: not an order-0 memhog or fragment run (summary.json append)`);
  const s = run.summary;
  if (!s) throw new Error(`${run.name}: no summary.json`);
  const m = s.markers_guest_s;
  const need = kind === 'fragment' ? ['alloc_start', 'alloc_done', 'frag_done', 'free_start', 'free_done'] : ['alloc_start', 'alloc_done', 'free_start', 'free_done', 'rorder_set'];
  for (const k of ['balloon_loaded', ...need]) if (typeof m[k] !== 'number') throw new Error(`${run.name}: no ${k} marker`);
  const append = String(s['append'] ?? '');
  const mib = Number(/\bMIB=(\d+)/.exec(append)?.[1] ?? 512);
  const zi = run.proc['pre']?.zoneinfo;
  if (!zi) throw new Error(`${run.name}: no pre.zoneinfo`);
  const zones = zoneSpecsFromZoneinfo(zi, run.memoryRanges ? { memoryRanges: run.memoryRanges } : {});
  const cpus = cpusFromZoneinfo(zi) || 2;
  const config = resolveGuest({ profile: 'linux-6.1', zones, cpus });
  const dma32 = config.zones.findIndex((z) => z.name === 'DMA32');
  const dmaEnd = config.zones.find((z) => z.name === 'DMA')?.endPfn ?? 0;

  // The workload's cpu: the one whose per-cpu count the workload moved (held.zoneinfo against pre.zoneinfo).
  const pcpOf = (tag: string) => run.proc[tag]?.zoneinfo?.zones.find((z) => z.name === 'DMA32')?.pcp.map((p) => p.count) ?? [];
  const pre = pcpOf('pre'), held = pcpOf('held');
  let cpu = 0, moved = -1;
  held.forEach((c, i) => {
    const d = Math.abs(c - (pre[i] ?? 0));
    if (d > moved) [cpu, moved] = [i, d];
  });

  const register = m['balloon_loaded']!, allocStart = m['alloc_start']!, allocDone = m['alloc_done']!, freeStart = m['free_start']!;
  const allocRate = mib / Math.max(0.05, allocDone - allocStart);
  const workload: WorkloadSpec = kind === 'fragment'
    ? { kind: 'fragment', startS: allocStart, mib, every: 2, holdS: +(freeStart - allocDone).toFixed(3), rateMiBps: allocRate, cpu, exitAfterFree: opts.teardown ?? true }
    : {
      kind: 'memhog', startS: allocStart, mib, rateMiBps: allocRate, holdS: +(freeStart - allocDone).toFixed(3),
      freeRateMiBps: mib / Math.max(0.05, m['free_done']! - freeStart), cpu, exitAfterFree: opts.teardown ?? true,
    };
  const durationS = Math.min(freeStart + 30, m['idle_end'] ?? freeStart + 30);
  const spec: SimulationSpec = {
    durationS,
    sampleMs: 50,
    guests: [{
      name: run.name,
      guest: { profile: 'linux-6.1', zones, cpus },
      policy: {
        kind: 'reporting', profile: 'linux-6.1', registerAtS: register, timerDelayMs: 2016, record: true,
        ...(kind === 'order0' ? { sysfsOrder: { atS: m['rorder_set']!, order: Number(/\bRORDER=(\d+)/.exec(append)![1]) } } : {}),
      },
      device: { kind: 'virtio-balloon' },
      host: { backing: 'thp' },
      workloads: [workload],
    }],
  };
  const sim = new Simulation(spec);
  sim.start();
  const g = sim.guests[0]!;
  const reporting = g.reporting!;
  const realOrder = s.page_reporting_order_effective;

  let hold: HoldComparison | undefined;
  if (kind === 'fragment') {
    // The real held snapshot: kpageflags dump taken after the MADV_DONTNEED pass (kpf_start before free_start).
    const kpfHeld = (run.serial().map((l) => l.record).filter((r) => r?.kind === 'T' && r.fields[0] === 'kpf_start')
      .map((r) => r!.tGuest).find((t) => t > m['frag_done']! && t < freeStart)) ?? m['frag_done']! + 0.05;
    await sim.run(kpfHeld * 1000);
    const view = new PcpView(g.guest);
    const realBlocks = run.blocks['held'] ?? run.kpageflags['held']?.().blocks ?? [];
    const dma32Zone = config.zones[dma32]!;
    const simList = g.guest.buddyinfo()[dma32]!;
    hold = {
      t: kpfHeld,
      realByOrder: byOrder(realBlocks.filter((b) => b.pfn >= dma32Zone.startPfn && b.pfn < dma32Zone.endPfn).map((b) => b.order)),
      realBuddyinfo: run.proc['held']?.buddyinfo?.find((r) => r.zone === 'DMA32')?.counts ?? [],
      simByOrder: simList,
      realPcp: held,
      simPcp: Array.from({ length: cpus }, (_, c) => view.count(c, dma32)),
      realPasses: 0, realBytes: 0, simPasses: 0, simBytes: 0,
    };
  }
  await sim.run();
  const res = sim.result();
  const endView = new PcpView(g.guest);
  const end = {
    realBuddyinfo: run.proc['end']?.buddyinfo?.find((r) => r.zone === 'DMA32')?.counts ?? [],
    simBuddyinfo: g.guest.buddyinfo()[dma32]!,
    realPcp: pcpOf('end'),
    simPcp: Array.from({ length: cpus }, (_, c) => endView.count(c, dma32)),
  };
  const gr = res.guests[0]!;

  const realPasses = (run.passes ?? []).map((p) => ({ pass: p.pass, t: p.tStartGuest, batches: p.batches, blocks: p.blocks, bytes: p.bytes }));
  const simPasses = gr.passes.map((p) => ({ pass: p.pass, t: p.start / 1000, batches: p.batches, blocks: p.blocks, bytes: p.pages * 4096 }));
  const realRows = run.reports ?? [];
  const simRecs = reporting.reports;
  const afterFreeRows = realRows.filter((r) => r.tGuest >= freeStart);
  const afterFreeSim = simRecs.filter((r) => r.t / 1000 >= freeStart).flatMap((r) => r.entries);
  if (hold) {
    const lo = m['frag_done']!;
    const inHold = <T extends { t: number }>(xs: T[]) => xs.filter((x) => x.t >= lo && x.t < freeStart);
    hold.realPasses = inHold(realPasses).length;
    hold.realBytes = inHold(realPasses).reduce((a, p) => a + p.bytes, 0);
    hold.simPasses = inHold(simPasses).length;
    hold.simBytes = inHold(simPasses).reduce((a, p) => a + p.bytes, 0);
  }

  const exitS = () => {
    const t = g.workloads[0]?.markers?.()['exit'] ?? -1;
    return t >= 0 ? t / 1000 : null;
  };
  const off = s.clock_offset_host_minus_guest_s;
  const simRam = staircase(gr.samples.map((x) => ({ t: x.t / 1000, kib: x.rssKib })), freeStart);
  const realRss = staircase((run.rss ?? []).map((r) => ({ t: r.tHost - off, kib: r.vmRssKib })), freeStart);
  const realRam = staircase((run.ram ?? []).map((r) => ({ t: r.tHost - off, kib: r.ramRssKib })), freeStart, 16 * 1024, 0.6);

  return {
    run: run.name, kind, order: { real: realOrder, sim: reporting.order }, cpu, teardown: exitS(),
    markers: { register, workloadStart: allocStart, free: freeStart },
    boot: { real: realPasses.filter((p) => p.t < allocStart), sim: simPasses.filter((p) => p.t < allocStart) },
    afterFree: {
      real: realPasses.filter((p) => p.t >= freeStart), sim: simPasses.filter((p) => p.t >= freeStart),
      realOrders: byOrder(afterFreeRows.map((r) => r.order)), simOrders: byOrder(afterFreeSim.map((e) => e[1])),
      realDmaBlocks: afterFreeRows.filter((r) => r.pfn < dmaEnd).length, simDmaBlocks: afterFreeSim.filter((e) => e[0] < dmaEnd).length,
    },
    dma: {
      real: realRows.filter((r) => r.pfn < dmaEnd).sort((a, b) => a.pass - b.pass || a.batch - b.batch || a.idx - b.idx).map((r) => [r.pfn, r.order] as [number, number]),
      sim: simRecs.flatMap((r) => r.entries).filter((e) => e[0] < dmaEnd),
    },
    ...(hold ? { hold } : {}),
    end,
    rss: { real: realRss, realRam, sim: simRam },
    wallMs: performance.now() - t0,
  };
}
