// Trace replay: rebuild a real Linux 6.1 guest's buddy state from a kpageflags dump and replay its ftrace kmem
// events on the simulator, with the simulator's own page reporting worker deciding what gets reported.
//
// Two modes:
// - forced: every buddy-level event of the trace is applied exactly (mm_page_alloc_zone_locked takes that block
//   and splits it as __rmqueue_smallest/expand do; mm_page_pcpu_drain and direct frees of orders the per-cpu lists
//   do not take are freed through __free_one_page). Per-cpu lists are not modelled: a page on one is simply not
//   free, as kpageflags sees it. This isolates the reporting algorithm and the list placement rules.
// - modelled: only mm_page_alloc / mm_page_free / mm_page_free_batched are fed to the simulator's own per-cpu
//   model, which decides drains and refills itself; the trace's drains and refills are counted against it.
//
// The start state (README "What an exact replay of E5 has to recover"):
// - free blocks: the kpageflags dump taken inside the trace window (kpf_start..kpf_end, no event in between);
// - list order: boot frees go to list tails in ascending pfn; the boot-time reporting passes (reports.csv rows
//   before the trace window) isolated blocks in list order and put them back at the tail. The blocks they carried
//   are placed in isolation order, then those passes are REPLAYED by the simulator's worker (the result is
//   checked against reports.csv: `boot`), which leaves the lists in the order the kernel left them;
// - pageblock migratetypes: MOVABLE, except where the first trace event with a migratetype that touches a
//   pageblock says otherwise (alloc_zone_locked / pcpu_drain: that type; alloc_extfrag: the type stolen from);
// - per-cpu lists (modelled mode, src/replay/pcp-start.ts): each list's first events say which pages it held and
//   whether it was empty; count is bounded by every free (a bulk free follows exactly when count reaches high)
//   and taken from zoneinfo within those bounds.
import { WasmGuest } from '../core/guest.js';
import { SimError } from '../core/errors.js';
import { resolveGuest } from '../core/config.js';
import { type GuestConfig, ALL_MIGRATE_TYPES, MIGRATE_TYPES, MigrateType, NR_ORDERS, PAGEBLOCK_PAGES } from '../core/types.js';
import { VirtualClock } from '../clock/clock.js';
import { PageReporting, type PassRecord, type ReportRecord } from '../reporting/worker.js';
import type { ReportBatch, ReportingDevice } from '../reporting/device.js';
import type { Run } from '../importers/run.js';
import type { FreeBlock } from '../importers/kpageflags.js';
import type { FtraceEvent, KmemEvent, PrnotifyEvent } from '../importers/ftrace.js';
import { cpusFromZoneinfo, zoneSpecsFromZoneinfo } from '../importers/zoneinfo.js';
import { runModelled } from './modelled.js';
import { TIMER_DELAY_MS } from './run-replay.js';
import type { ModelledStats, ReplayDivergence, TraceData, TraceReplayOptions, TraceReplayResult } from './types.js';

export type {
  ClosedBy, EventSeqComparison, ModelledStats, PcpStartSummary, ReplayDivergence, ReplayMode, ReplayPass, ReplayReport,
  TraceData, TraceReplayOptions, TraceReplayResult,
} from './types.js';

class RecordingDevice implements ReportingDevice {
  readonly order = 0;
  calls = 0;
  report(_b: ReportBatch): number {
    this.calls++;
    return 0;
  }
}

const KMEM = new Set(['mm_page_alloc', 'mm_page_free', 'mm_page_free_batched', 'mm_page_alloc_zone_locked', 'mm_page_pcpu_drain', 'mm_page_alloc_extfrag']);

const traceCache = new Map<string, TraceData>();

/** The kmem events after the first kpf_end marker (the dump the start state comes from), cached per run. */
export function loadTrace(run: Run): TraceData {
  const hit = traceCache.get(run.dir);
  if (hit) return hit;
  if (!run.trace) throw new Error(`${run.name}: no guest/trace.txt[.gz]`);
  const kmem: KmemEvent[] = [];
  const passStarts: number[] = [];
  const notifies: PrnotifyEvent[] = [];
  let started = false, start = NaN, end = NaN;
  for (const e of run.trace.events() as Generator<FtraceEvent>) {
    if (e.event === 'prproc') passStarts.push(e.ts);
    else if (e.event === 'prnotify') notifies.push(e);
    else if (e.event === 'tracing_mark_write') {
      if (!started && / kpf_end/.test(e.message)) {
        started = true;
        start = e.ts;
      } else if (/ kmem_trace_off/.test(e.message)) end = e.ts;
    } else if (started && KMEM.has(e.event)) kmem.push(e as KmemEvent);
  }
  if (!started) {
    // The window opens when the kpageflags.pre dump is done; without its marker the dump cannot be placed in it.
    throw new SimError('PARSE', `${run.trace.path}: no kpf_end marker (tracing_mark_write '@T <t> kpf_end' after the kpageflags.pre dump): the trace window cannot be placed`, { file: run.trace.path, field: 'kpf_end', value: null });
  }
  if (!Number.isFinite(end)) end = kmem.length ? kmem[kmem.length - 1]!.ts : start;
  const data = { kmem, passStarts, notifies, start, end };
  traceCache.set(run.dir, data);
  return data;
}

export function guestConfigOf(run: Run): GuestConfig {
  const zi = run.proc['kpf_pre']?.zoneinfo ?? run.proc['pre']?.zoneinfo;
  if (!zi) throw new SimError('BAD_CONFIG', `${run.name}: no guest/kpf_pre.zoneinfo or guest/pre.zoneinfo: the traced guest's zones are unknown`, { file: `${run.dir}/guest/kpf_pre.zoneinfo`, field: 'zoneinfo' });
  return resolveGuest({
    profile: 'linux-6.1',
    zones: zoneSpecsFromZoneinfo(zi, run.memoryRanges ? { memoryRanges: run.memoryRanges } : {}),
    cpus: cpusFromZoneinfo(zi) || 2,
  });
}

/** Free blocks of a guest, ascending by pfn. */
export function freeBlocksOf(g: WasmGuest): FreeBlock[] {
  const out: FreeBlock[] = [];
  g.config.zones.forEach((_, z) => {
    for (let o = 0; o < NR_ORDERS; o++) {
      for (const mt of ALL_MIGRATE_TYPES) {
        for (const pfn of g.freeList(z, o, mt)) out.push({ pfn, order: o, reported: g.pfnState(pfn).reported });
      }
    }
  });
  return out.sort((a, b) => a.pfn - b.pfn);
}

export function replayTrace(run: Run, opts: TraceReplayOptions = {}): TraceReplayResult {
  const t0 = performance.now();
  const mode = opts.mode ?? 'forced';
  const capacity = opts.capacity ?? 32;
  const config = guestConfigOf(run);
  const guest = new WasmGuest(config);
  const trace = loadTrace(run);
  const pre = run.blocks['pre'] ?? run.kpageflags['pre']?.().blocks;
  if (!pre) throw new Error(`${run.name}: no kpageflags.pre dump`);

  // --- pageblock migratetypes from the first trace evidence ---
  const pbMt = new Map<number, MigrateType>();
  for (const e of trace.kmem) {
    if (e.event === 'mm_page_alloc_extfrag') {
      // A steal names the block it takes from the fallback type's list: its pageblocks were of that type until
      // then (the refill's zone-locked event that follows carries the stealing type).
      if (e.fallbackMigratetype < 0 || e.fallbackMigratetype >= MigrateType.HIGHATOMIC) continue;
      for (let pb = Math.floor(e.pfn / PAGEBLOCK_PAGES); pb * PAGEBLOCK_PAGES < e.pfn + 2 ** e.fallbackOrder; pb++) {
        if (!pbMt.has(pb)) pbMt.set(pb, e.fallbackMigratetype);
      }
      continue;
    }
    if (e.event !== 'mm_page_alloc_zone_locked' && e.event !== 'mm_page_pcpu_drain') continue;
    if (e.migratetype < 0 || e.migratetype >= MigrateType.HIGHATOMIC) continue;
    const pb = Math.floor(e.pfn / PAGEBLOCK_PAGES);
    if (!pbMt.has(pb)) pbMt.set(pb, e.migratetype);
  }
  for (const [pb, mt] of pbMt) if (pb * PAGEBLOCK_PAGES < config.maxPfn) guest.setPageblockMt(pb * PAGEBLOCK_PAGES, mt);

  // --- the free lists: boot-reported blocks in boot isolation order, then the rest ascending ---
  const bootRows = (run.reports ?? []).filter((r) => r.tGuest < trace.start);
  const bootSeq = [...bootRows].sort((a, b) => a.pass - b.pass || a.batch - b.batch || b.idx - a.idx);
  const bootSet = new Set(bootSeq.map((r) => `${r.pfn}/${r.order}`));
  const preSet = new Map(pre.map((b) => [`${b.pfn}/${b.order}`, b]));
  // Blocks on a list at the boot passes: every boot-reported block is still free at the dump in E5; one that
  // is not is skipped (the boot replay then differs and says so).
  for (const r of bootSeq) {
    if (!preSet.has(`${r.pfn}/${r.order}`)) continue;
    guest.placeFreeBlock(r.pfn, r.order, guest.getPageblockMt(r.pfn), true, false);
  }
  for (const b of pre) {
    if (bootSet.has(`${b.pfn}/${b.order}`)) continue;
    guest.placeFreeBlock(b.pfn, b.order, guest.getPageblockMt(b.pfn), true, b.reported);
  }

  // --- the reporting worker; replay the boot passes first ---
  const clock = new VirtualClock();
  const device = new RecordingDevice();
  const reporting = new PageReporting(guest, clock, { ...(opts.capacity !== undefined ? { capacity } : {}), record: true });
  const bootPasses = [...new Set(bootRows.map((r) => r.pass))].sort((a, b) => a - b);
  const realBootStarts = (run.passes ?? []).filter((p) => bootPasses.includes(p.pass)).map((p) => p.tStartGuest);
  const firstBoot = realBootStarts[0];
  const delayOpt = opts.delayMs ?? 'trace';
  const fixedDelay = typeof delayOpt === 'number' ? delayOpt : TIMER_DELAY_MS;
  const realStarts = [...trace.passStarts].sort((a, b) => a - b);
  const traceDelay = (nowMs: number): number => {
    if (delayOpt !== 'trace') return fixedDelay;
    const now = nowMs / 1000;
    const next = realStarts.find((t) => t >= now + 1.9);
    return next !== undefined && next <= now + 2.2 ? (next - now) * 1000 : fixedDelay;
  };
  if (firstBoot !== undefined) {
    clock.runUntil(Math.max(0, firstBoot * 1000 - TIMER_DELAY_MS));
    reporting.delayMs = traceDelay(clock.now());
    reporting.register(device);
    for (;;) {
      const at = clock.peek();
      if (!(at <= trace.start * 1000)) break;
      reporting.delayMs = traceDelay(at);
      clock.step();
    }
  } else {
    reporting.register(device);
  }
  if (opts.order !== undefined) reporting.setOrder(opts.order);
  const bootReports = reporting.reports.slice();
  let blocksSame = 0, callsSame = 0, bootBlocks = 0;
  {
    const real = groupCalls(bootRows);
    bootReports.forEach((rec, i) => {
      const r = real[i];
      let same = !!r && r.length === rec.entries.length;
      rec.entries.forEach((e, k) => {
        bootBlocks++;
        if (r && r[k] && r[k]![0] === e[0] && r[k]![1] === e[1]) blocksSame++;
        else same = false;
      });
      if (same) callsSame++;
    });
  }
  clock.runUntil(trace.start * 1000);

  // Blocks whose Reported flag after the boot replay differs from the dump (0 in E5): counted, not patched,
  // since re-placing them would change the list order the replay just recovered.
  let reportedMismatch = 0;
  for (const b of pre) {
    const st = guest.pfnState(b.pfn);
    if (st.kind === 'free' && st.isHead && st.order === b.order && st.reported !== b.reported) reportedMismatch++;
  }

  const div: ReplayDivergence = { allocNotHead: 0, allocNotFree: 0, allocListMt: 0, freeNotAllocated: 0, drainMtOverride: 0, first: [] };
  const note = (what: string) => {
    if (div.first.length < 10) div.first.push(what);
  };
  const applied = { allocZoneLocked: 0, pcpuDrain: 0, directFree: 0 };

  /** __rmqueue_smallest for a known result: take the free block headed at pfn and expand it down to `order`. */
  const take = (e: { pfn: number; order: number; migratetype: number; ts: number; line: number }) => {
    const st = guest.pfnState(e.pfn);
    if (st.kind !== 'free' || st.order < e.order) {
      div.allocNotFree++;
      note(`t=${e.ts} line ${e.line}: alloc_zone_locked pfn ${e.pfn} order ${e.order}: ${st.kind} in the simulator`);
      return;
    }
    const head = st.head, big = st.order;
    if (guest.recordedMt(head) !== e.migratetype) div.allocListMt++;
    guest.allocExact(head, big, e.migratetype);
    if (big === e.order) return;
    guest.reshapeAllocated(head, big, 0, e.migratetype);
    if (head !== e.pfn) {
      div.allocNotHead++;
      note(`t=${e.ts} line ${e.line}: alloc_zone_locked pfn ${e.pfn} order ${e.order} inside free block ${head}/${big}`);
    }
    // expand(): the upper halves go to the HEAD of each lower order's list; for a pfn that is not the head
    // (a divergence), every piece but the one holding it is given back the same way.
    let lo = head, o = big;
    while (o > e.order) {
      o--;
      const half = lo + 2 ** o;
      if (e.pfn >= half) {
        guest.placeFreeBlock(lo, o, e.migratetype, false, false);
        lo = half;
      } else guest.placeFreeBlock(half, o, e.migratetype, false, false);
    }
    guest.reshapeAllocated(e.pfn, e.order, e.order, e.migratetype);
  };

  const giveBack = (e: KmemEvent, mt: MigrateType | undefined) => {
    const pb = guest.getPageblockMt(e.pfn);
    const override = mt !== undefined && mt !== pb && mt < MigrateType.HIGHATOMIC;
    if (override) {
      div.drainMtOverride++;
      guest.setPageblockMt(e.pfn, mt!);
    }
    try {
      guest.freeRange(e.pfn, e.order);
    } catch (err) {
      div.freeNotAllocated++;
      note(`t=${e.ts} line ${e.line}: ${e.event} pfn ${e.pfn} order ${e.order}: ${(err as Error).message}`);
    } finally {
      if (override) guest.setPageblockMt(e.pfn, pb);
    }
  };

  const step = (tMs: number) => {
    for (;;) {
      const at = clock.peek();
      if (!(at <= tMs)) break;
      reporting.delayMs = traceDelay(at);
      clock.step();
    }
    clock.runUntil(tMs);
  };
  const poll = () => {
    reporting.delayMs = traceDelay(clock.now());
    reporting.poll();
  };

  let modelled: ModelledStats | undefined;
  if (mode === 'forced') {
    for (const e of trace.kmem) {
      step(e.ts * 1000);
      switch (e.event) {
        case 'mm_page_alloc_zone_locked':
          applied.allocZoneLocked++;
          take(e);
          break;
        case 'mm_page_pcpu_drain':
          applied.pcpuDrain++;
          giveBack(e, e.migratetype);
          break;
        case 'mm_page_free':
          if (guest.pcpIndex(e.order, MigrateType.MOVABLE) < 0) {
            applied.directFree++;
            giveBack(e, undefined);
          }
          break;
        default:
          break;
      }
      poll();
    }
  } else {
    // Modelled mode runs each event on its own cpu's per-cpu lists: a cpu the zoneinfo's pagesets do not list
    // means the run's files disagree about the guest, which no rule can settle.
    const alien = trace.kmem.find((e) => e.cpu >= config.cpus);
    if (alien) {
      throw new SimError('PARSE', `${run.trace!.path}:${alien.line}: cpu: ${alien.cpu}: the guest's zoneinfo lists per-cpu pagesets for ${config.cpus} cpu${config.cpus === 1 ? '' : 's'} only`, { file: run.trace!.path, line: alien.line, field: 'cpu', value: alien.cpu });
    }
    modelled = runModelled({ guest, run, trace, step, poll, take, div, note, pcpStart: opts.pcpStart ?? 'trace' });
    applied.directFree = modelled.directFrees;
  }
  const endMs = opts.tailMs !== undefined ? (trace.kmem.at(-1)?.ts ?? trace.start) * 1000 + opts.tailMs : trace.end * 1000;
  step(endMs);
  if (opts.check ?? true) guest.check();

  const reports = reporting.reports.slice(bootReports.length).map((r: ReportRecord) => ({
    t: r.t / 1000, pass: r.pass, batch: r.batch, entries: r.entries,
  }));
  const passes = reporting.passLog.filter((p: PassRecord) => p.start >= trace.start * 1000).map((p) => ({
    pass: p.pass, t: p.start / 1000, batches: p.batches, blocks: p.blocks, bytes: p.pages * 4096,
  }));
  const pbView = guest.pageblockView();
  const pageblockCounts = config.zones.map((z) => {
    const c = new Array<number>(MIGRATE_TYPES).fill(0);
    for (let pb = Math.ceil(z.startPfn / PAGEBLOCK_PAGES); pb * PAGEBLOCK_PAGES < z.endPfn; pb++) c[pbView[pb]!]!++;
    return c;
  });
  return {
    run: run.name, mode, config, start: trace.start, end: trace.end, events: trace.kmem.length, applied,
    boot: { passes: bootPasses.length, calls: bootReports.length, blocks: bootBlocks, blocksSame, callsSame, reportedMismatch },
    reports, passes, endBlocks: freeBlocksOf(guest), endBuddyinfo: guest.buddyinfo(),
    pageblockMtFromTrace: pbMt.size, pageblockCounts, divergence: div, ...(modelled ? { modelled } : {}),
    wallMs: performance.now() - t0,
  };
}

/** reports.csv rows → one [pfn, order][] per report() call, in scatterlist (idx) order. */
export function groupCalls(rows: ReadonlyArray<{ pass: number; batch: number; idx: number; pfn: number; order: number }>): Array<Array<[number, number]>> {
  const calls = new Map<string, Array<{ idx: number; pfn: number; order: number }>>();
  for (const r of rows) {
    const k = `${r.pass}/${r.batch}`;
    if (!calls.has(k)) calls.set(k, []);
    calls.get(k)!.push(r);
  }
  return [...calls.entries()]
    .sort((a, b) => {
      const [pa, ba] = a[0].split('/').map(Number), [pb, bb] = b[0].split('/').map(Number);
      return pa! - pb! || ba! - bb!;
    })
    .map(([, v]) => v.sort((x, y) => x.idx - y.idx).map((x) => [x.pfn, x.order] as [number, number]));
}
