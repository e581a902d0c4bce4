// The modelled trace replay: only the trace's mm_page_alloc / mm_page_free / mm_page_free_batched reach the
// simulator, whose own per-cpu lists (6.1 rules) decide every bulk free (drain) and refill. The trace's
// mm_page_pcpu_drain and mm_page_alloc_zone_locked events are not applied: they are what the model is held
// against, event for event.
//
// Five phases, one function each:
// 1. anchorTrace: which mm_page_free events are list frees, and the trace's drains and refills by position
//    (the event that triggered them, and the ordinal inside it);
// 2. inferPcpStart (pcp-start.ts): the per-cpu lists at the start, from the trace's first events on each list
//    and zoneinfo's count (docs/engine-rules.md, "Per-cpu lists at the start of a trace");
// 3. placeStartLists: those pages put on the simulator's lists, in list order;
// 4. replayEvents: event by event (below);
// 5. compareSeq: the simulator's drains and refills against the trace's.
//
// Event by event:
// - mm_page_free of a per-cpu order that is not followed by an mm_page_free_batched of the same page: a free
//   (free_unref_page) on that cpu; one that is: nothing yet, the page reaches the list at its mm_page_free_batched
//   (free_unref_page_list commits after preparing the whole list); other orders go straight to the buddy;
// - mm_page_alloc: the simulator allocates on that cpu (highest zone from the gfp flags) and picks a page; when
//   it is not the trace's, the simulator's page goes back to the head of its list and the trace's page is carved
//   out (from its per-cpu list, or from the buddy as the forced mode does), counted as a divergence.
// Each drain the simulator does is recorded against the free that triggered it, each refill against the
// allocation that needed it, with its position; a trace event is reproduced when the simulator did the same
// page and order at the same position (same anchoring event, same ordinal inside it).
import type { WasmGuest } from '../core/guest.js';
import { MigrateType } from '../core/types.js';
import type { Run } from '../importers/run.js';
import type { KmemEvent, PageAllocEvent } from '../importers/ftrace.js';
import { claimZoneLocked, inferPcpStart, type PcpRules, type PcpStartInference } from './pcp-start.js';
import type { EventSeqComparison, ModelledStats, PcpStartSummary, ReplayDivergence, TraceData } from './types.js';

export interface ModelledContext {
  guest: WasmGuest;
  run: Run;
  trace: TraceData;
  step(tMs: number): void;
  poll(): void;
  /** The forced mode's carve: take the free block holding e.pfn and expand it down to e.order. */
  take(e: { pfn: number; order: number; migratetype: number; ts: number; line: number }): void;
  div: ReplayDivergence;
  note(s: string): void;
  /** 'empty': start with empty per-cpu lists instead of the ones the trace implies. */
  pcpStart: 'trace' | 'empty';
}

/** The types per-cpu lists are kept for, MOVABLE first (the one list of the pageblock order takes it). */
const LIST_TYPES = [MigrateType.MOVABLE, MigrateType.UNMOVABLE, MigrateType.RECLAIMABLE];

/** Position (anchor event index:ordinal) → [pfn, order, trace event index or -1]. */
type Seq = Map<string, [number, number, number]>;

export function runModelled(ctx: ModelledContext): ModelledStats {
  const { guest: g, trace } = ctx;
  const anchors = anchorTrace(trace.kmem);
  let start: StartLists = { initial: [], skipped: 0, startEvents: new Set(), contradictions: 0 };
  if (ctx.pcpStart === 'trace') {
    const zi = ctx.run.proc['kpf_pre']?.zoneinfo ?? ctx.run.proc['pre']?.zoneinfo;
    const zoneinfoCount = (cpu: number, zone: number) =>
      zi?.zones.find((x) => x.name === g.config.zones[zone]!.name)?.pcp.find((p) => p.cpu === cpu)?.count;
    const inferred = inferPcpStart(trace.kmem, anchors.listFree, pcpRulesOf(g), zoneinfoCount);
    for (const n of inferred.notes) ctx.note(`start per-cpu lists: ${n}`);
    start = placeStartLists(g, inferred, ctx.note);
  }
  const sim = replayEvents(ctx, anchors.listFree, start.startEvents);
  const endCounts: ModelledStats['endCounts'] = [];
  for (let cpu = 0; cpu < g.config.cpus; cpu++) {
    g.config.zones.forEach((z, zone) => endCounts.push({ cpu, zone: z.name, count: g.pcpCount(cpu, zone) }));
  }
  return {
    initial: start.initial,
    startContradictions: start.contradictions,
    endCounts,
    initialPcpPages: start.initial.reduce((a, x) => a + x.count, 0),
    initialSkipped: start.skipped,
    ...sim.stats,
    drains: compareSeq(anchors.drains, sim.drains, start.startEvents),
    zoneLocked: compareSeq(anchors.zoneLocked, sim.zoneLocked, start.startEvents),
    firstMismatches: sim.firstMismatches,
  };
}

/** The per-cpu rules the start inference needs, read from the guest's configuration and facade. */
export function pcpRulesOf(g: WasmGuest): PcpRules {
  return {
    cpus: g.config.cpus,
    zones: g.config.zones,
    listCount: g.pcpListCount,
    pcpIndex: (order, mt) => g.pcpIndex(order, mt),
    pcpIndexOrder: (p) => g.pcpIndexOrder(p),
  };
}

// --- phase 1 ---

interface TraceAnchors {
  /** mm_page_free events of a list free: the page reaches its per-cpu list at its mm_page_free_batched. */
  listFree: Uint8Array;
  drains: Seq;
  zoneLocked: Seq;
}

/** The trace's drains, anchored at the last non-drain event on their cpu, and its zone-locked blocks, anchored at
 *  the allocation that follows them on their cpu. */
export function anchorTrace(ev: readonly KmemEvent[]): TraceAnchors {
  const listFree = new Uint8Array(ev.length);
  const drains: Seq = new Map();
  const zoneLocked: Seq = new Map();
  const lastFree = new Map<number, number>();
  const lastOnCpu = new Map<number, number>();
  const drainOrdinal = new Map<number, number>();
  const pendingZl = new Map<number, number[]>();
  ev.forEach((e, i) => {
    switch (e.event) {
      case 'mm_page_free':
        lastFree.set(e.pfn, i);
        break;
      case 'mm_page_free_batched': {
        const j = lastFree.get(e.pfn);
        if (j !== undefined && ev[j]!.order === 0) listFree[j] = 1;
        lastFree.delete(e.pfn);
        break;
      }
      case 'mm_page_pcpu_drain': {
        const anchor = lastOnCpu.get(e.cpu) ?? -1;
        const k = drainOrdinal.get(anchor) ?? 0;
        drainOrdinal.set(anchor, k + 1);
        drains.set(`${anchor}:${k}`, [e.pfn, e.order, i]);
        return; // a drain is no anchor
      }
      case 'mm_page_alloc_zone_locked': {
        if (!pendingZl.has(e.cpu)) pendingZl.set(e.cpu, []);
        pendingZl.get(e.cpu)!.push(i);
        return;
      }
      case 'mm_page_alloc': {
        const { claimed, dropped } = claimZoneLocked(pendingZl.get(e.cpu) ?? [], ev, e);
        claimed.forEach((j, k) => zoneLocked.set(`${i}:${k}`, [ev[j]!.pfn, ev[j]!.order, j]));
        // Blocks taken for an allocation the trace does not show: still trace events to hold the model against.
        for (const j of dropped) zoneLocked.set(`untraced${j}:0`, [ev[j]!.pfn, ev[j]!.order, j]);
        break;
      }
      default:
        return; // extfrag: informational
    }
    lastOnCpu.set(e.cpu, i);
  });
  for (const [cpu, zl] of pendingZl) zl.forEach((j, k) => zoneLocked.set(`end${cpu}:${k}`, [ev[j]!.pfn, ev[j]!.order, j]));
  return { listFree, drains, zoneLocked };
}

// --- phase 3 ---

interface StartLists {
  initial: PcpStartSummary[];
  skipped: number;
  /** Trace events that named a start page that was placed: their outcome is fixed by the rebuilt lists. */
  startEvents: Set<number>;
  contradictions: number;
}

/** Put a page on a per-cpu list recording `recMt` (pcpPlace records the pageblock's type, a free's rule). */
function placeOnPcp(g: WasmGuest, pfn: number, order: number, cpu: number, recMt: number, tail: boolean): void {
  const pb = g.getPageblockMt(pfn);
  if (pb === recMt) {
    g.pcpPlace(pfn, order, cpu, tail);
    return;
  }
  g.setPageblockMt(pfn, recMt as MigrateType);
  try {
    g.pcpPlace(pfn, order, cpu, tail);
  } finally {
    g.setPageblockMt(pfn, pb);
  }
}

/** Make [pfn, pfn + 2^order) one allocated block headed at pfn (the start state knows only order-0 pages). */
function ensureAllocatedHead(g: WasmGuest, pfn: number, order: number): boolean {
  const st = g.pfnState(pfn);
  if (st.kind !== 'allocated') return false;
  if (st.head === pfn && st.order === order) return true;
  try {
    if (st.order > order) {
      g.reshapeAllocated(st.head, st.order, 0, st.mt);
      if (order > 0) g.reshapeAllocated(pfn, order, order, st.mt);
    } else g.reshapeAllocated(pfn, order, order, st.mt);
    return true;
  } catch {
    return false;
  }
}

/**
 * Each list gets, head to tail: the pages the trace allocates from it (in allocation order), the unnamed blocks
 * the count calls for, then the pages the trace drains from it (last drained first). A named page that the
 * start dump shows free is left out (counted); unnamed blocks are allocated blocks no event touches, from a
 * pageblock of the list's type where there is one.
 */
function placeStartLists(g: WasmGuest, inferred: PcpStartInference, note: (s: string) => void): StartLists {
  const out: StartLists = { initial: [], skipped: 0, startEvents: new Set(), contradictions: 0 };
  const finder = new UnnamedBlocks(g, inferred.touched);
  for (const pcp of inferred.pcps) {
    out.contradictions += pcp.contradictions;
    const lists: PcpStartSummary['lists'] = [];
    let placed = 0, known = 0;
    for (const l of pcp.lists) {
      const listMt = LIST_TYPES.find((mt) => g.pcpIndex(l.order, mt) === l.pindex)!;
      const usable = (p: { pfn: number; order: number; event: number }) => {
        const ok = ensureAllocatedHead(g, p.pfn, p.order);
        if (!ok) {
          out.skipped++;
          note(`start per-cpu page ${p.pfn}/${p.order} (cpu ${pcp.cpu}) is ${g.pfnState(p.pfn).kind} in the start dump: left out`);
        } else out.startEvents.add(p.event);
        return ok;
      };
      const heads = l.heads.filter(usable), tails = l.tails.filter(usable);
      for (const x of heads) {
        const pb = g.getPageblockMt(x.pfn);
        placeOnPcp(g, x.pfn, x.order, pcp.cpu, g.pcpIndex(x.order, pb) === l.pindex ? pb : listMt, true);
      }
      const unnamed = finder.take(pcp.zone, l.order, listMt, l.fill);
      if (unnamed.length < l.fill) note(`cpu ${pcp.cpu} ${pcp.zoneName}: only ${unnamed.length} of ${l.fill} unnamed order-${l.order} blocks found for list ${l.pindex}`);
      for (const [pfn, mt] of unnamed) placeOnPcp(g, pfn, l.order, pcp.cpu, mt, true);
      for (const x of [...tails].reverse()) placeOnPcp(g, x.pfn, x.order, pcp.cpu, x.mt, true);
      const named = (heads.length + tails.length) * 2 ** l.order;
      known += named;
      placed += unnamed.length * 2 ** l.order;
      if (named || unnamed.length || l.closedBy) lists.push({ pindex: l.pindex, order: l.order, named, placeholders: unnamed.length * 2 ** l.order, closedBy: l.closedBy });
    }
    out.initial.push({
      cpu: pcp.cpu, zone: pcp.zoneName, count: g.pcpCount(pcp.cpu, pcp.zone), pinnedBy: pcp.pinnedBy, known, placeholders: placed,
      zoneinfo: pcp.zoneinfo, bounds: pcp.bounds, freeFactor: pcp.freeFactor, lists,
    });
    // The trace's first bulk free says how far a run of them had gone when it started.
    if (pcp.freeFactor) g.setPcpFreeFactor(pcp.cpu, pcp.zone, pcp.freeFactor);
  }
  return out;
}

/** Allocated blocks no trace event touches, found in ascending pfn order, each used once. */
class UnnamedBlocks {
  private readonly used = new Set<number>();
  constructor(private readonly g: WasmGuest, private readonly touched: ReadonlySet<number>) {}

  /** n blocks of `order` in zone, preferring pageblocks whose type queues on a list of `listMt`: [pfn, mt]. */
  take(zone: number, order: number, listMt: number, n: number): Array<[number, number]> {
    if (n <= 0) return [];
    const out: Array<[number, number]> = [];
    for (const sameType of [true, false]) {
      const z = this.g.config.zones[zone]!;
      const size = 2 ** order;
      for (let pfn = Math.ceil(z.startPfn / size) * size; pfn + size <= z.endPfn && out.length < n; pfn += size) {
        if (this.used.has(pfn) || !this.free(pfn, size)) continue;
        const pb = this.g.getPageblockMt(pfn);
        if (sameType !== (this.g.pcpIndex(order, pb) === this.g.pcpIndex(order, listMt))) continue;
        if (!ensureAllocatedHead(this.g, pfn, order)) continue;
        this.used.add(pfn);
        out.push([pfn, sameType ? pb : listMt]);
      }
      if (out.length >= n) break;
    }
    return out;
  }

  /** Every page allocated at the start and touched by no event. */
  private free(pfn: number, size: number): boolean {
    for (let p = pfn; p < pfn + size; p++) {
      if (this.touched.has(p)) return false;
      const st = this.g.pfnState(p);
      if (st.kind !== 'allocated' || st.order !== 0) return false;
    }
    return true;
  }
}

// --- phase 4 ---

function highestZoneOf(gfp: string, zones: ReadonlyArray<{ name: string }>): number {
  const flags = new Set(gfp.split('|'));
  const find = (n: string) => zones.findIndex((z) => z.name === n);
  if (flags.has('GFP_DMA') || flags.has('__GFP_DMA')) return Math.max(0, find('DMA'));
  if (flags.has('GFP_DMA32') || flags.has('__GFP_DMA32')) {
    const i = find('DMA32');
    if (i >= 0) return i;
  }
  return zones.length - 1;
}

type ReplayStats = Omit<ModelledStats, 'initial' | 'startContradictions' | 'endCounts' | 'initialPcpPages' | 'initialSkipped' | 'drains' | 'zoneLocked' | 'firstMismatches'>;

/** Feed the trace's allocations and frees to the simulator, recording its drains and refills by position. */
function replayEvents(ctx: ModelledContext, listFree: Uint8Array, startEvents: ReadonlySet<number>): { stats: ReplayStats; drains: Seq; zoneLocked: Seq; firstMismatches: string[] } {
  const { guest: g, div, note } = ctx;
  const config = g.config;
  const ev = ctx.trace.kmem;
  const zoneOf = (pfn: number) => config.zones.findIndex((z) => pfn >= z.startPfn && pfn < z.endPfn);
  const isPcpOrder = (order: number) => g.pcpIndex(order, MigrateType.MOVABLE) >= 0;
  const simDrains: Seq = new Map();
  const simZoneLocked: Seq = new Map();
  const st: ReplayStats = {
    allocs: 0, allocSamePfn: 0, allocSameFromStartLists: 0, allocFailedInTrace: 0, carvedFromPcp: 0, carvedFromBuddy: 0, carveFailed: 0,
    carvePops: 0, frees: 0, listFrees: 0, directFrees: 0, freeNotAllocated: 0,
  };
  const firstMismatches: string[] = [];
  const mismatch = (s: string) => {
    if (firstMismatches.length < 12) firstMismatches.push(s);
  };

  const simFree = (i: number, e: KmemEvent, order: number) => {
    st.frees++;
    if (!ensureAllocatedHead(g, e.pfn, order)) {
      st.freeNotAllocated++;
      div.freeNotAllocated++;
      note(`t=${e.ts} line ${e.line}: ${e.event} pfn ${e.pfn} order ${order}: ${g.pfnState(e.pfn).kind} in the simulator`);
      return;
    }
    if (!isPcpOrder(order)) {
      st.directFrees++;
      g.free(e.pfn, order, { direct: true, cpu: e.cpu });
      return;
    }
    const zone = zoneOf(e.pfn);
    const pb = g.getPageblockMt(e.pfn);
    let snap: number[][] | null = null;
    if (pb !== MigrateType.ISOLATE && (g.pcpCount(e.cpu, zone) + 2 ** order >= config.zones[zone]!.pcpHigh || (order >= 1 && order <= 3))) {
      snap = g.pcpLists(e.cpu, zone);
    }
    const d0 = g.counters().pcpDrains;
    g.free(e.pfn, order, { cpu: e.cpu });
    if (g.counters().pcpDrains === d0) return;
    if (!snap) throw new Error(`modelled replay: an unforeseen bulk free at line ${e.line}`);
    // The round robin starts at the freed page's list; each list gives pages from its tail.
    const p0 = g.pcpIndex(order, pb);
    snap[p0]!.unshift(e.pfn);
    const n = g.pcpListCount;
    let k = 0;
    for (let s = 0; s < n; s++) {
      const p = (p0 + s) % n;
      const before = snap[p]!, now = g.pcpList(e.cpu, zone, p);
      for (let j = before.length - 1; j >= now.length; j--) simDrains.set(`${i}:${k++}`, [before[j]!, g.pcpIndexOrder(p), -1]);
    }
  };

  const removeFromPcp = (pfn: number, order: number): boolean => {
    const s = g.pfnState(pfn);
    const list = g.pcpList(s.cpu, s.zone, g.pcpIndex(order, s.mt));
    const listMt = (s.mt >= MigrateType.HIGHATOMIC ? MigrateType.MOVABLE : s.mt) as MigrateType;
    const k = list.indexOf(pfn);
    if (k < 0) return false;
    const recorded = list.slice(0, k).map((p) => g.recordedMt(p));
    // Pop the list head by allocation (there is no other way to take a page off a per-cpu list) until the page
    // comes off, then put the others back in front. Each pop halves the cpu's free_factor (counted: carvePops).
    let popped = 0, ok = true;
    for (; popped <= k; popped++) {
      st.carvePops++;
      const got = g.alloc(order, listMt, { highestZone: s.zone, cpu: s.cpu });
      if (got !== list[popped]) {
        // The zone failed its watermark and another one answered: give that page back and stop.
        if (got >= 0) placeOnPcp(g, got, order, s.cpu, listMt, false);
        note(`carving ${pfn}: popping cpu ${s.cpu}'s list gave ${got}, expected ${list[popped]}`);
        ok = false;
        break;
      }
    }
    for (let j = Math.min(popped, k) - 1; j >= 0; j--) placeOnPcp(g, list[j]!, order, s.cpu, recorded[j]!, false);
    return ok;
  };

  const simAlloc = (i: number, e: PageAllocEvent) => {
    st.allocs++;
    if (e.pfn === 0) {
      st.allocFailedInTrace++;
      return;
    }
    const highest = highestZoneOf(e.gfpFlags, config.zones);
    const pindex = e.migratetype < MigrateType.HIGHATOMIC ? g.pcpIndex(e.order, e.migratetype) : -1;
    const before = config.zones.map((_, z) => g.pcpCount(e.cpu, z));
    const wasEmpty = config.zones.map((_, z) => pindex >= 0 && g.pcpListHead(e.cpu, z, pindex) < 0);
    const x = g.alloc(e.order, e.migratetype, { highestZone: highest, cpu: e.cpu });
    if (x >= 0) {
      const zx = zoneOf(x);
      if (pindex < 0) simZoneLocked.set(`${i}:0`, [x, e.order, -1]);
      else if (wasEmpty[zx]) {
        // Refilled: the first block taken is the one returned, the rest sit on the list in the order taken.
        const blocks = [x, ...g.pcpList(e.cpu, zx, pindex)];
        if (blocks.length !== (g.pcpCount(e.cpu, zx) - before[zx]!) / 2 ** e.order + 1) throw new Error(`modelled replay: refill bookkeeping at line ${e.line}`);
        blocks.forEach((b, k) => simZoneLocked.set(`${i}:${k}`, [b, e.order, -1]));
      }
    }
    if (x === e.pfn) {
      st.allocSamePfn++;
      if (startEvents.has(i)) st.allocSameFromStartLists++;
      return;
    }
    mismatch(`t=${e.ts} line ${e.line} cpu ${e.cpu}: alloc order ${e.order} mt ${e.migratetype}: trace ${e.pfn}, simulator ${x}`);
    // Give the simulator's pick back where it came from.
    if (x >= 0) {
      if (pindex >= 0) placeOnPcp(g, x, e.order, e.cpu, e.migratetype, false);
      else g.freeRange(x, e.order, { skipNotify: true });
    }
    // Make the trace's choice happen.
    const s = g.pfnState(e.pfn);
    if (s.kind === 'pcp' && s.head === e.pfn && s.order === e.order && removeFromPcp(e.pfn, e.order)) {
      st.carvedFromPcp++;
      if (g.pfnState(e.pfn).mt !== e.migratetype) g.reshapeAllocated(e.pfn, e.order, e.order, e.migratetype);
    } else if (s.kind === 'free') {
      st.carvedFromBuddy++;
      ctx.take({ pfn: e.pfn, order: e.order, migratetype: e.migratetype, ts: e.ts, line: e.line });
    } else {
      st.carveFailed++;
      note(`t=${e.ts} line ${e.line}: alloc pfn ${e.pfn} order ${e.order}: ${s.kind} (head ${s.head}/${s.order}) in the simulator, not carved`);
    }
  };

  ev.forEach((e, i) => {
    ctx.step(e.ts * 1000);
    switch (e.event) {
      case 'mm_page_alloc':
        simAlloc(i, e);
        break;
      case 'mm_page_free':
        if (listFree[i]) st.listFrees++;
        else simFree(i, e, e.order);
        break;
      case 'mm_page_free_batched':
        simFree(i, e, 0);
        break;
      default:
        break;
    }
    ctx.poll();
  });
  return { stats: st, drains: simDrains, zoneLocked: simZoneLocked, firstMismatches };
}

// --- phase 5 ---

/** The trace's events against the simulator's, by position, one by one and per anchoring event. */
function compareSeq(trace: Seq, sim: Seq, startEvents: ReadonlySet<number>): EventSeqComparison {
  let same = 0, sameFromStartLists = 0;
  for (const [k, v] of trace) {
    const s = sim.get(k);
    if (s && s[0] === v[0] && s[1] === v[1]) {
      same++;
      if (startEvents.has(v[2])) sameFromStartLists++;
    }
  }
  const groups = (m: Seq) => {
    const out = new Map<string, string[]>();
    for (const [k, v] of m) {
      const a = k.slice(0, k.indexOf(':'));
      if (!out.has(a)) out.set(a, []);
      out.get(a)!.push(`${v[0]}/${v[1]}`);
    }
    return out;
  };
  const tg = groups(trace), sg = groups(sim);
  let groupsSame = 0;
  for (const [a, v] of tg) if (sg.get(a)?.join(' ') === v.join(' ')) groupsSame++;
  const pages = (m: Seq) => [...m.values()].reduce((x, v) => x + 2 ** v[1], 0);
  return {
    trace: trace.size, sim: sim.size, same, sameFromStartLists, tracePages: pages(trace), simPages: pages(sim),
    traceGroups: tg.size, simGroups: sg.size, groupsSame,
    firstDifferences: [...tg].filter(([a, v]) => sg.get(a)?.join(' ') !== v.join(' ')).slice(0, 3)
      .map(([a, v]) => `at event ${a}: trace ${v.length} (${v.slice(0, 3).join(' ')}...), simulator ${sg.get(a)?.length ?? 0} (${(sg.get(a) ?? []).slice(0, 3).join(' ')}...)`),
  };
}
