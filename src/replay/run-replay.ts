// Replay a recorded run without a kmem trace: the same guest (zones, watermarks, per-cpu high/batch from its
// zoneinfo; its cpus and THP setting), started from the state the guest recorded, running the workload the
// recording describes (every cycle at its recorded times), with 6.1's page reporting and a THP-backed QEMU host;
// then the real run and the simulator in the one comparison format (format.ts).
//
// Two simulations, each from the latest recorded state before what it compares:
// - boot: the reporting of the boot-time free memory, from a state captured after the balloon registered and
//   before its first pass could run (the `pre` snapshot when it was taken that early, as in an idle run; else
//   the first `@B`/`@P` buddyinfo and pagetypeinfo records of serial.log) to the first workload;
// - workload: from the `pre` snapshot (taken right after settling) through every cycle to the end of the idle
//   phase. Boot's passes before it are in that state: the blocks they reported are placed where reports.csv
//   says, with Reported set.
import type { Run } from '../importers/run.js';
import type { BuddyinfoRow } from '../importers/buddyinfo.js';
import { serialProcSnapshots } from '../importers/serial.js';
import type { Pagetypeinfo } from '../importers/pagetypeinfo.js';
import { type Zoneinfo, populatedZones, zoneSpecsFromZoneinfo } from '../importers/zoneinfo.js';
import { NR_ORDERS } from '../core/types.js';
import { configFromProc, startStateFromProc } from '../importers/start-state.js';
import { SimError } from '../core/errors.js';
import { Simulation, type GuestMetrics, type SimulationSpec } from '../sim/engine.js';
import type { WorkloadSpec } from '../workloads/index.js';
import { describeRun, type RunModel } from './run-model.js';
import { type RunComparison, type Side, type SidePass, type SideReport, type RssSample, realSide, windowOf } from './format.js';

/** The kernel's 2*HZ delay on its timer wheel: 500 jiffies rounded up to 8-jiffy slots, 2.000 to 2.032 s. */
export const TIMER_DELAY_MS = 2016;
/** Seconds of idle the guest script keeps after the last free when the recording does not say. */
const DEFAULT_IDLE_S = 30;

export interface RunReplayOptions {
  /** The process's exit flushes its cpu's per-cpu lists: 'trace' (default: as the recording's kprobes show), or always/never. */
  flush?: 'trace' | boolean;
}

interface Snapshot { t: number; buddyinfo: BuddyinfoRow[]; pagetypeinfo?: Pagetypeinfo; zoneinfo: Zoneinfo; source: string }

/**
 * The processes the recording describes, one per cycle, at its recorded times; and the files the recording
 * guest wrote meanwhile (on the workload's cpu: the same script writes them).
 */
function workloads(model: RunModel, run: Run, opts: RunReplayOptions, cpus: number, fromS: number, toS: number): WorkloadSpec[] {
  const hogs: WorkloadSpec[] = model.cycles.map((c, i) => {
    let cpu = c.cpu ?? 0;
    if (cpu >= cpus) {
      model.warnings.push(`${run.name}: cycle ${i}: cpu ${cpu} is not a cpu of this ${cpus}-cpu guest; cpu 0 instead`);
      cpu = 0;
    }
    const flush = opts.flush === undefined || opts.flush === 'trace' ? (c.flushedAfter ?? true) : opts.flush;
    const rateMiBps = c.mib / Math.max(0.001, c.allocDone - c.allocStart);
    if (model.kind === 'fragment') {
      return {
        kind: 'fragment', startS: c.allocStart, mib: c.mib, every: model.every, holdS: +(c.freeStart - c.allocDone).toFixed(6),
        rateMiBps, cpu, thp: c.thp, exitAfterFree: flush,
      };
    }
    return {
      kind: 'memhog', startS: c.allocStart, mib: c.mib, rateMiBps, holdS: +(c.freeStart - c.allocDone).toFixed(6),
      freeRateMiBps: c.mib / Math.max(0.001, c.freeDone - c.freeStart), cpu, thp: c.thp, exitAfterFree: flush,
    };
  });
  const writes = model.writes.filter((w) => w.t >= fromS && w.t < toS).map((w) => ({ atS: w.t, pages: w.pages }));
  const cpu = hogs[0] && 'cpu' in hogs[0] ? hogs[0].cpu : undefined;
  return writes.length ? [...hogs, { kind: 'writes', writes, ...(cpu !== undefined ? { cpu } : {}) }] : hogs;
}

/** Blocks the kernel reported before `t`, in the order their passes put them back. */
function reportedBefore(run: Run, t: number): Array<{ pfn: number; order: number }> {
  return (run.reports ?? []).filter((r) => r.tGuest < t)
    .sort((a, b) => a.pass - b.pass || a.batch - b.batch || a.idx - b.idx)
    .map((r) => ({ pfn: r.pfn, order: r.order }));
}

interface SimOut {
  side: Pick<Side, 'passes' | 'reports'>; rss: RssSample[]; start: number; snapshot: string; cpus: number; metrics: GuestMetrics;
  looks: SnapshotComparison[];
}

/** The guest's free lists and per-cpu counts at a recorded snapshot, real and simulated. */
export interface SnapshotComparison {
  tag: string;
  t: number;
  /** Free blocks by order per zone (buddyinfo), and pages on each cpu's per-cpu lists per zone. */
  real: { buddyinfo: Record<string, number[]>; pcp: Record<string, number[]> };
  sim: { buddyinfo: Record<string, number[]>; pcp: Record<string, number[]> };
}

/** The snapshots the run recorded after `fromS` (held, end...) and when: the simulator looks at the same moments. */
function laterSnapshots(run: Run, model: RunModel, fromS: number, toS: number): Array<{ tag: string; t: number }> {
  const out: Array<{ tag: string; t: number }> = [];
  if (model.heldTime !== undefined && run.proc['held']?.buddyinfo && model.heldTime > fromS && model.heldTime <= toS) out.push({ tag: 'held', t: model.heldTime });
  if (run.proc['end']?.buddyinfo) out.push({ tag: 'end', t: toS });
  return out;
}

function simulateFrom(run: Run, model: RunModel, snap: Snapshot, endS: number, reported: 'log' | 'none', opts: RunReplayOptions, withWorkloads: boolean): SimOut {
  const memoryRanges = run.memoryRanges;
  const cpus = model.cpus ?? undefined;
  const cfgIn = { zoneinfo: snap.zoneinfo, ...(memoryRanges ? { memoryRanges } : {}), ...(cpus ? { cpus } : {}) };
  const cfg = configFromProc(cfgIn);
  const zones = zoneSpecsFromZoneinfo(snap.zoneinfo, memoryRanges ? { memoryRanges } : {});
  const order = model.orderWrites.filter((w) => w.t < snap.t).at(-1)?.order ?? 9;
  // Without pre.zoneinfo the zoneinfo is another moment's: its zones and per-cpu high/batch hold, its counts do not.
  const pcpUnknown = !run.proc['pre']?.zoneinfo;
  const startState = startStateFromProc({
    ...cfgIn, buddyinfo: snap.buddyinfo, ...(pcpUnknown ? { pcpFromZoneinfo: false } : {}), ...(snap.pagetypeinfo ? { pagetypeinfo: snap.pagetypeinfo } : {}),
    ...(reported === 'log' && run.reports ? { reported: reportedBefore(run, snap.t) } : {}),
    ...(reported === 'log' && !run.reports && model.register !== undefined && model.register + TIMER_DELAY_MS / 1000 < snap.t ? { reportedFromOrder: order } : {}),
  }, cfg);
  const write = model.orderWrites.at(-1);
  const spec: SimulationSpec = {
    startS: snap.t,
    durationS: endS,
    sampleMs: 50,
    guests: [{
      name: run.name,
      guest: { profile: 'linux-6.1', zones, cpus: cfg.cpus, thp: model.guestThp },
      startState,
      policy: {
        kind: 'reporting', profile: 'linux-6.1', registerAtS: model.register ?? snap.t, timerDelayMs: TIMER_DELAY_MS, record: true,
        ...(write ? { sysfsOrder: { atS: write.t, order: write.order } } : {}),
      },
      device: { kind: 'virtio-balloon' },
      host: { backing: 'thp' },
      workloads: withWorkloads ? workloads(model, run, opts, cfg.cpus, snap.t, endS) : [],
    }],
  };
  const sim = new Simulation(spec);
  const g = sim.guests[0]!;
  const looks: SnapshotComparison[] = [];
  for (const at of withWorkloads ? laterSnapshots(run, model, snap.t, endS) : []) {
    sim.runSync(at.t * 1000);
    const real = run.proc[at.tag]!;
    const pcpOf = (zi: Zoneinfo | undefined) => Object.fromEntries((zi?.zones ?? []).filter((z) => z.pcp.length).map((z) => [z.name, z.pcp.map((p) => p.count)]));
    const bi = g.guest.buddyinfo();
    looks.push({
      tag: at.tag, t: at.t,
      real: { buddyinfo: Object.fromEntries((real.buddyinfo ?? []).map((r) => [r.zone, r.counts])), pcp: pcpOf(real.zoneinfo) },
      sim: {
        buddyinfo: Object.fromEntries(cfg.zones.map((z, zi) => [z.name, bi[zi]!])),
        pcp: Object.fromEntries(cfg.zones.map((z, zi) => [z.name, Array.from({ length: cfg.cpus }, (_, c) => g.guest.pcpCount(c, zi))])),
      },
    });
  }
  sim.runSync();
  const res = sim.result();
  const passesBefore = (run.passes ?? []).filter((p) => p.tStartGuest < snap.t).length;
  const batchesBefore = (run.passes ?? []).filter((p) => p.tStartGuest < snap.t).reduce((a, p) => a + p.batches, 0);
  // Pass and batch numbers continue the real run's count at the simulation's start.
  const reports: SideReport[] = [];
  let batch = batchesBefore;
  for (const rec of g.reporting!.reports) {
    rec.entries.forEach(([pfn, o], slot) => reports.push({ pass: passesBefore + rec.pass, batch, slot, pfn, order: o, t: rec.t / 1000 }));
    batch++;
  }
  const passes: SidePass[] = g.reporting!.passLog.map((p) => ({
    pass: passesBefore + p.pass, t: p.start / 1000, calls: p.batches, blocks: p.blocks, bytes: p.pages * 4096,
  }));
  const out = {
    side: { passes, reports }, rss: res.guests[0]!.samples.map((s) => ({ t: s.t / 1000, kib: s.rssKib })),
    start: snap.t, snapshot: snap.source, cpus: cfg.cpus, metrics: res.guests[0]!.metrics, looks,
  };
  // Everything is read out: the guest's memory goes back to the pool for the next simulation.
  sim.dispose();
  return out;
}

export interface WorkloadRunDetails {
  model: Omit<RunModel, 'warnings'>;
  workload: { start: number; snapshot: string; cpus: number; metrics: GuestMetrics; snapshots: SnapshotComparison[] } | null;
  boot: { start: number; snapshot: string } | null;
  wallMs: number;
}

export function replayRun(run: Run, opts: RunReplayOptions = {}): RunComparison {
  const t0 = performance.now();
  const model = describeRun(run);
  // The model's warnings grow while the simulation is set up; the run's are added at the end.
  const warnings = model.warnings;
  const pre = run.proc['pre'];
  const borrowed = pre?.zoneinfo ? undefined : Object.entries(run.proc).find(([, s]) => s.zoneinfo);
  const zoneinfo = pre?.zoneinfo ?? borrowed?.[1].zoneinfo;
  if (!zoneinfo) throw new SimError('BAD_CONFIG', `${run.name}: no zoneinfo snapshot in guest/: the guest's zones are unknown`, { field: 'guest/*.zoneinfo' });
  // Zones, watermarks and per-cpu high/batch do not change during a run; the per-cpu counts are one moment's
  // (the end's can hold the workload's own pages), so another snapshot's are not taken as the start's.
  if (!pre?.zoneinfo) warnings.push(`${run.name}: no guest/pre.zoneinfo; zones from ${borrowed![0]}.zoneinfo, per-cpu lists start empty (their counts at the start are not recorded)`);
  // A buddyinfo snapshot is a start state only with a full row for every populated zone: a file cut short by
  // the recorder (or a moment of serial.log with a lost line) lacks its last zone, and is passed over.
  const zoneNames = populatedZones(zoneinfo).map((z) => z.name);
  const complete = (rows: readonly BuddyinfoRow[] | undefined) =>
    !!rows && zoneNames.every((n) => rows.some((r) => r.zone === n && r.counts.length === NR_ORDERS));
  const preBuddyinfo = complete(pre?.buddyinfo) ? pre!.buddyinfo : undefined;
  if (pre?.buddyinfo && !preBuddyinfo) {
    warnings.push(`${run.name}: guest/pre.buddyinfo has no full row for zone ${zoneNames.filter((n) => !pre.buddyinfo!.some((r) => r.zone === n && r.counts.length === NR_ORDERS)).join(', ')}; not used`);
  }
  const serialSnaps = serialProcSnapshots(run.serial()).filter((x) => complete(x.buddyinfo));
  const register = model.register ?? 0;
  const lastFree = model.cycles.at(-1);
  const endS = model.idleEnd ?? (lastFree ? lastFree.freeDone + DEFAULT_IDLE_S : register + DEFAULT_IDLE_S + 10);
  const firstWork = model.cycles[0]?.allocStart ?? endS;

  // The boot simulation's start: a state after registration, before the first pass could start.
  const earliest = model.preTime !== undefined && preBuddyinfo && model.preTime < register + TIMER_DELAY_MS / 1000 && model.preTime >= register - 1
    ? { t: model.preTime, buddyinfo: preBuddyinfo, ...(pre!.pagetypeinfo ? { pagetypeinfo: pre!.pagetypeinfo } : {}), zoneinfo, source: 'pre' }
    : (() => {
      const s = serialSnaps.find((x) => x.t >= register && x.t < register + TIMER_DELAY_MS / 1000);
      return s ? { ...s, zoneinfo, source: 'serial.log @B/@P' } : undefined;
    })();
  if (!earliest) warnings.push(`${run.name}: no recorded state between the balloon's registration and its first pass; boot reporting not compared`);

  const { side: real, rss: realRss } = realSide(run, model.clockOffset);
  if (!run.passes || !run.reports) warnings.push(`${run.name}: no passes.csv/reports.csv: the real passes are unknown`);
  const sim: Side = { passes: [], reports: [], afterFree: null, boot: null };

  let bootOut: SimOut | undefined;
  if (earliest) {
    bootOut = simulateFrom(run, model, earliest, model.cycles.length ? firstWork : endS, 'none', opts, false);
    real.boot = windowOf(real, realRss, register, firstWork);
    sim.boot = windowOf(bootOut.side, bootOut.rss, register, firstWork);
  }
  let work: SimOut | undefined;
  if (model.cycles.length) {
    const snap: Snapshot | undefined = preBuddyinfo && model.preTime !== undefined
      ? { t: Math.min(model.preTime, firstWork), buddyinfo: preBuddyinfo, ...(pre!.pagetypeinfo ? { pagetypeinfo: pre!.pagetypeinfo } : {}), zoneinfo, source: 'pre' }
      : (() => {
        const s = serialSnaps.filter((x) => x.t <= firstWork).at(-1);
        if (s) warnings.push(`${run.name}: no pre.buddyinfo; the workload starts from serial.log's records at ${s.t.toFixed(3)} s`);
        return s ? { ...s, zoneinfo, source: 'serial.log @B/@P' } : undefined;
      })();
    if (!snap) throw new SimError('BAD_CONFIG', `${run.name}: no recorded free lists before the workload (guest/pre.buddyinfo or serial.log @B records)`, { field: 'guest/pre.buddyinfo' });
    work = simulateFrom(run, model, snap, endS, 'log', opts, true);
    // The simulator's side: boot passes from the boot simulation, the rest from the workload one.
    const bootPasses = bootOut ? bootOut.side.passes.filter((p) => p.t < snap.t) : [];
    const bootPassNos = new Set(bootPasses.map((p) => p.pass));
    sim.passes = [...bootPasses, ...work.side.passes];
    sim.reports = [...(bootOut?.side.reports.filter((r) => bootPassNos.has(r.pass)) ?? []), ...work.side.reports];
    const cycleWindow = (side: Pick<Side, 'passes' | 'reports'>, rss: RssSample[], i: number) => {
      const c = model.cycles[i]!;
      return windowOf(side, rss, c.freeStart, model.cycles[i + 1]?.allocStart ?? endS);
    };
    real.afterFree = cycleWindow(real, realRss, model.cycles.length - 1);
    sim.afterFree = cycleWindow(work.side, work.rss, model.cycles.length - 1);
    if (model.cycles.length > 1) {
      real.cycles = model.cycles.map((_, i) => cycleWindow(real, realRss, i));
      sim.cycles = model.cycles.map((_, i) => cycleWindow(work!.side, work!.rss, i));
    }
  } else if (bootOut) {
    sim.passes = bootOut.side.passes;
    sim.reports = bootOut.side.reports;
  }
  const { warnings: _w, ...m } = model;
  const allWarnings = [...run.warnings, ...warnings];
  const details: WorkloadRunDetails = {
    model: m,
    workload: work ? { start: work.start, snapshot: work.snapshot, cpus: work.cpus, metrics: work.metrics, snapshots: work.looks } : null,
    boot: bootOut ? { start: bootOut.start, snapshot: bootOut.snapshot } : null,
    wallMs: +(performance.now() - t0).toFixed(1),
  };
  return { run: run.name, kind: model.cycles.length ? 'workload' : 'idle', warnings: allWarnings, clockOffset: model.clockOffset, real, sim, details: details as unknown as Record<string, unknown> };
}
