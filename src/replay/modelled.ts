// The modelled trace replay: only the trace's mm_page_alloc / mm_page_free / mm_page_free_batched reach the
// simulator, whose own per-cpu lists (6.1 rules) decide every bulk free (drain) and refill. The trace's
// mm_page_pcpu_drain and mm_page_alloc_zone_locked events are not applied: they are what the model is held
// against, event for event.
//
// The per-cpu lists at the start (README "What an exact replay of E5 has to recover"):
// - a page whose first event after the start dump is an mm_page_alloc of a per-cpu order served without a refill
//   in front of it, or an mm_page_pcpu_drain, was on the list of that event's cpu at the start (kpageflags does
//   not see per-cpu pages). Allocations take list heads and bulk frees take tails, and pages freed after the
//   start always go in front of the older ones, so each start list is: the pages allocated from it, in the order
//   they were allocated, then pages the trace never touches, then the pages drained from it, last drained first;
// - count at the start: the first bulk free that follows an order-0 free on a cpu happens when count reaches
//   `high`, so count0 = high - (net per-cpu traffic up to and including that free). A cpu without one keeps the
//   count of the zoneinfo read just before the dump (read a moment earlier: an estimate). Pages beyond the ones
//   the trace names are placeholders: allocated pages no event touches, on the MOVABLE order-0 list between the
//   allocated and the drained ones.
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
import type { ModelledStats, ReplayDivergence, TraceData } from './trace-replay.js';

const NIL = 0xffffffff;
const PCP_ORDERS = new Set([0, 1, 2, 3, 9]);
const NR_PCP_LISTS = 13;
const THP_PINDEX = 12;
/** Zones per cpu in the pcp region (assembly/layout.ts MAX_ZONES). */
const PCP_ZONE_SLOTS = 4;

const listMtOf = (mt: number) => (mt >= MigrateType.HIGHATOMIC ? MigrateType.MOVABLE : mt);
const pindexOf = (order: number, listMt: number) => (order <= 3 ? order * 3 + listMt : THP_PINDEX);
const orderOfPindex = (p: number) => (p === THP_PINDEX ? 9 : Math.floor(p / 3));

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

/** Position (anchor event index:ordinal) → [pfn, order, trace event index or -1]. */
type Seq = Map<string, [number, number, number]>;

/** Read-only view of the simulator's per-cpu state (count, list heads) straight from linear memory. */
export class PcpView {
  constructor(private readonly g: WasmGuest) {}
  private base(cpu: number, zone: number): number {
    const L = this.g.core.layout;
    return L.pcpStart + (cpu * PCP_ZONE_SLOTS + zone) * L.pcpSize;
  }
  count(cpu: number, zone: number): number {
    return this.g.core.i32[(this.base(cpu, zone) + this.g.core.layout.pcpCount) >> 2]!;
  }
  empty(cpu: number, zone: number, pindex: number): boolean {
    return this.g.core.u32[(this.base(cpu, zone) + this.g.core.layout.pcpLists + pindex * 8) >> 2] === NIL;
  }
  lists(cpu: number, zone: number): number[][] {
    return Array.from({ length: NR_PCP_LISTS }, (_, p) => this.g.pcpList(cpu, zone, p));
  }
}

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

/** A page on a per-cpu list at the start, named by its first event (index i). */
interface InitialPage { pfn: number; order: number; cpu: number; zone: number; listMt: number; recMt: number; how: 'alloc' | 'drain'; i: number }

export function runModelled(ctx: ModelledContext): ModelledStats {
  const { guest: g, trace, div, note } = ctx;
  const config = g.config;
  const view = new PcpView(g);
  const ev = trace.kmem;
  const zoneOf = (pfn: number) => config.zones.findIndex((z) => pfn >= z.startPfn && pfn < z.endPfn);

  // --- pre-pass 1: list frees, the trace's drains and refills with their anchors ---
  const listFree = new Uint8Array(ev.length);
  const traceDrains: Seq = new Map();
  const traceZoneLocked: Seq = new Map();
  {
    const lastFree = new Map<number, number>();
    const lastOnCpu = new Map<number, number>();
    const drainOrdinal = new Map<number, number>();
    const pendingZl = new Map<number, Array<{ pfn: number; order: number; idx: number }>>();
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
          traceDrains.set(`${anchor}:${k}`, [e.pfn, e.order, i]);
          return; // a drain is no anchor
        }
        case 'mm_page_alloc_zone_locked': {
          if (!pendingZl.has(e.cpu)) pendingZl.set(e.cpu, []);
          pendingZl.get(e.cpu)!.push({ pfn: e.pfn, order: e.order, idx: i });
          return;
        }
        case 'mm_page_alloc': {
          (pendingZl.get(e.cpu) ?? []).forEach((z, k) => traceZoneLocked.set(`${i}:${k}`, [z.pfn, z.order, z.idx]));
          pendingZl.delete(e.cpu);
          break;
        }
        default:
          return; // extfrag: informational
      }
      lastOnCpu.set(e.cpu, i);
    });
    for (const [cpu, zl] of pendingZl) zl.forEach((z, k) => traceZoneLocked.set(`end${cpu}:${k}`, [z.pfn, z.order, z.idx]));
  }

  // --- pre-pass 2: the per-cpu lists at the start, and count pinned by the first bulk free ---
  const touched = new Set<number>();
  const initial: InitialPage[] = [];
  const net = new Map<string, number>();
  const pinned = new Map<string, number>();
  {
    const lastOnCpu = new Map<number, number>();
    const addNet = (cpu: number, zone: number, d: number) => {
      const k = `${cpu}/${zone}`;
      if (!pinned.has(k)) net.set(k, (net.get(k) ?? 0) + d);
    };
    const touch = (pfn: number, order: number) => {
      for (let p = pfn; p < pfn + 2 ** order; p++) touched.add(p);
    };
    const prevWasDrain = new Map<number, boolean>();
    ev.forEach((e, i) => {
      const zone = zoneOf(e.pfn);
      const n = 2 ** e.order;
      switch (e.event) {
        case 'mm_page_alloc':
          if (e.pfn === 0) break; // a failed allocation
          if (PCP_ORDERS.has(e.order) && e.migratetype < MigrateType.HIGHATOMIC) {
            if (!touched.has(e.pfn)) {
              initial.push({ pfn: e.pfn, order: e.order, cpu: e.cpu, zone, listMt: e.migratetype, recMt: -1, how: 'alloc', i });
            }
            addNet(e.cpu, zone, -n);
          }
          touch(e.pfn, e.order);
          break;
        case 'mm_page_alloc_zone_locked':
          if (PCP_ORDERS.has(e.order) && e.migratetype < MigrateType.HIGHATOMIC) addNet(e.cpu, zone, n);
          touch(e.pfn, e.order);
          break;
        case 'mm_page_free':
          if (PCP_ORDERS.has(e.order) && !listFree[i]) addNet(e.cpu, zone, n);
          touch(e.pfn, e.order);
          break;
        case 'mm_page_free_batched':
          addNet(e.cpu, zone, n);
          touch(e.pfn, e.order);
          break;
        case 'mm_page_pcpu_drain': {
          if (!touched.has(e.pfn)) {
            initial.push({ pfn: e.pfn, order: e.order, cpu: e.cpu, zone, listMt: listMtOf(e.migratetype), recMt: e.migratetype, how: 'drain', i });
          }
          const k = `${e.cpu}/${zone}`;
          const pi = lastOnCpu.get(e.cpu);
          const prev = pi === undefined ? undefined : ev[pi]!;
          // The first bulk free after an order-0 free on this cpu: count had just reached high.
          if (!pinned.has(k) && !prevWasDrain.get(e.cpu) && prev && prev.order === 0 && zoneOf(prev.pfn) === zone &&
              (prev.event === 'mm_page_free_batched' || (prev.event === 'mm_page_free' && !listFree[pi!]))) {
            pinned.set(k, config.zones[zone]!.pcpHigh - (net.get(k) ?? 0));
          }
          addNet(e.cpu, zone, -n);
          touch(e.pfn, e.order);
          prevWasDrain.set(e.cpu, true);
          return;
        }
        default:
          return;
      }
      prevWasDrain.set(e.cpu, false);
      lastOnCpu.set(e.cpu, i);
    });
  }

  // --- build the start lists ---
  const zi = ctx.run.proc['kpf_pre']?.zoneinfo ?? ctx.run.proc['pre']?.zoneinfo;
  const placeOnPcp = (pfn: number, order: number, cpu: number, recMt: number, tail: boolean) => {
    const pb = g.getPageblockMt(pfn);
    if (pb === recMt) {
      g.pcpPlace(pfn, order, cpu, tail);
      return;
    }
    // pcpPlace records the pageblock's type (a free's rule); a refilled page records the type it was taken for.
    g.setPageblockMt(pfn, recMt);
    try {
      g.pcpPlace(pfn, order, cpu, tail);
    } finally {
      g.setPageblockMt(pfn, pb);
    }
  };
  /** Make [pfn, pfn + 2^order) one allocated block headed at pfn (the start state knows only order-0 pages). */
  const ensureAllocatedHead = (pfn: number, order: number): boolean => {
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
  };

  /** Trace events that named a start page: their outcome is fixed by the rebuilt lists, not predicted. */
  const startEvents = new Set<number>();
  const initialStats: ModelledStats['initial'] = [];
  let initialSkipped = 0;
  if (ctx.pcpStart === 'trace') {
    const byCpuZone = new Map<string, InitialPage[]>();
    for (const p of initial) {
      const k = `${p.cpu}/${p.zone}`;
      if (!byCpuZone.has(k)) byCpuZone.set(k, []);
      byCpuZone.get(k)!.push(p);
    }
    const keys = new Set([...byCpuZone.keys(), ...pinned.keys()]);
    for (let cpu = 0; cpu < config.cpus; cpu++) {
      config.zones.forEach((z, zone) => {
        const c = zi?.zones.find((x) => x.name === z.name)?.pcp.find((p) => p.cpu === cpu)?.count;
        if (c) keys.add(`${cpu}/${zone}`);
      });
    }
    let phCursor = 0;
    for (const k of [...keys].sort()) {
      const [cpu, zone] = k.split('/').map(Number) as [number, number];
      const pages = (byCpuZone.get(k) ?? []).filter((p) => {
        const st = g.pfnState(p.pfn);
        const ok = st.kind === 'allocated' && ensureAllocatedHead(p.pfn, p.order);
        if (!ok) {
          initialSkipped++;
          note(`start per-cpu page ${p.pfn}/${p.order} (cpu ${cpu}) is ${st.kind} in the start dump: left out`);
        }
        if (ok) startEvents.add(p.i);
        return ok;
      });
      const known = pages.reduce((a, p) => a + 2 ** p.order, 0);
      const zname = config.zones[zone]!.name;
      const fromZoneinfo = zi?.zones.find((x) => x.name === zname)?.pcp.find((p) => p.cpu === cpu)?.count;
      let count: number, pinnedBy: 'drain' | 'zoneinfo' | 'known';
      if (pinned.has(k)) {
        count = pinned.get(k)!;
        pinnedBy = 'drain';
      } else if (fromZoneinfo !== undefined && fromZoneinfo >= known) {
        count = fromZoneinfo;
        pinnedBy = 'zoneinfo';
      } else {
        count = known;
        pinnedBy = 'known';
      }
      if (count < known) note(`cpu ${cpu} ${zname}: the first bulk free pins count at ${count}, but the trace names ${known} start pages`);
      // Placeholders: allocated order-0 pages of a MOVABLE pageblock of the zone that no event touches.
      const placeholders: number[] = [];
      const z = config.zones[zone]!;
      if (count > known) {
        for (let pfn = Math.max(z.startPfn, phCursor); pfn < z.endPfn && placeholders.length < count - known; pfn++) {
          if (touched.has(pfn)) continue;
          const st = g.pfnState(pfn);
          if (st.kind === 'allocated' && st.isHead && st.order === 0 && st.pageblockMt === MigrateType.MOVABLE) placeholders.push(pfn);
          phCursor = pfn + 1;
        }
      }
      for (let p = 0; p < NR_PCP_LISTS; p++) {
        const order = orderOfPindex(p);
        const mine = pages.filter((x) => x.order === order && pindexOf(x.order, x.listMt) === p);
        const allocated = mine.filter((x) => x.how === 'alloc');
        const drained = mine.filter((x) => x.how === 'drain').reverse();
        for (const x of allocated) {
          const pb = g.getPageblockMt(x.pfn);
          placeOnPcp(x.pfn, x.order, cpu, listMtOf(pb) === x.listMt ? pb : x.listMt, true);
        }
        if (p === pindexOf(0, MigrateType.MOVABLE)) for (const pfn of placeholders) g.pcpPlace(pfn, 0, cpu, true);
        for (const x of drained) placeOnPcp(x.pfn, x.order, cpu, x.recMt, true);
      }
      initialStats.push({ cpu, zone: zname, count: view.count(cpu, zone), pinnedBy, known, placeholders: placeholders.length, zoneinfo: fromZoneinfo ?? null });
    }
  }

  // --- the replay ---
  const simDrains: Seq = new Map();
  const simZoneLocked: Seq = new Map();
  const st = {
    allocs: 0, allocSamePfn: 0, allocSameFromStartLists: 0, allocFailedInTrace: 0, carvedFromPcp: 0, carvedFromBuddy: 0, carveFailed: 0,
    carvePops: 0, frees: 0, listFrees: 0, directFrees: 0, freeNotAllocated: 0,
  };
  const drainsCounter = () => g.core.global('pcpDrains');
  const firstMismatches: string[] = [];
  const mismatch = (s: string) => {
    if (firstMismatches.length < 12) firstMismatches.push(s);
  };

  const simFree = (i: number, e: KmemEvent, order: number) => {
    st.frees++;
    if (!ensureAllocatedHead(e.pfn, order)) {
      st.freeNotAllocated++;
      div.freeNotAllocated++;
      note(`t=${e.ts} line ${e.line}: ${e.event} pfn ${e.pfn} order ${order}: ${g.pfnState(e.pfn).kind} in the simulator`);
      return;
    }
    if (!PCP_ORDERS.has(order)) {
      st.directFrees++;
      g.free(e.pfn, order, { direct: true, cpu: e.cpu });
      return;
    }
    const zone = zoneOf(e.pfn);
    const pb = g.getPageblockMt(e.pfn);
    let snap: number[][] | null = null;
    if (pb !== MigrateType.ISOLATE && (view.count(e.cpu, zone) + 2 ** order >= config.zones[zone]!.pcpHigh || (order >= 1 && order <= 3))) {
      snap = view.lists(e.cpu, zone);
    }
    const d0 = drainsCounter();
    g.free(e.pfn, order, { cpu: e.cpu });
    if (drainsCounter() === d0) return;
    if (!snap) throw new Error(`modelled replay: an unforeseen bulk free at line ${e.line}`);
    const p0 = pindexOf(order, listMtOf(pb));
    snap[p0]!.unshift(e.pfn);
    let k = 0;
    for (let s = 0; s < NR_PCP_LISTS; s++) {
      const p = (p0 + s) % NR_PCP_LISTS;
      const before = snap[p]!, now = g.pcpList(e.cpu, zone, p);
      for (let j = before.length - 1; j >= now.length; j--) simDrains.set(`${i}:${k++}`, [before[j]!, orderOfPindex(p), -1]);
    }
  };

  const removeFromPcp = (pfn: number, order: number): boolean => {
    const s = g.pfnState(pfn);
    const listMt = listMtOf(s.mt);
    const list = g.pcpList(s.cpu, s.zone, pindexOf(order, listMt));
    const k = list.indexOf(pfn);
    if (k < 0) return false;
    const recorded = list.slice(0, k).map((p) => g.pfnState(p).mt);
    // Pop the list head by allocation (there is no other way to take a page off a per-cpu list) until the page
    // comes off, then put the others back in front. Each pop halves the cpu's free_factor (counted: carvePops).
    let popped = 0, ok = true;
    for (; popped <= k; popped++) {
      st.carvePops++;
      const got = g.alloc(order, listMt, { highestZone: s.zone, cpu: s.cpu });
      if (got !== list[popped]) {
        // The zone failed its watermark and another one answered: give that page back and stop.
        if (got >= 0) placeOnPcp(got, order, s.cpu, listMt, false);
        note(`carving ${pfn}: popping cpu ${s.cpu}'s list gave ${got}, expected ${list[popped]}`);
        ok = false;
        break;
      }
    }
    for (let j = Math.min(popped, k) - 1; j >= 0; j--) placeOnPcp(list[j]!, order, s.cpu, recorded[j]!, false);
    return ok;
  };

  const simAlloc = (i: number, e: PageAllocEvent) => {
    st.allocs++;
    if (e.pfn === 0) {
      st.allocFailedInTrace++;
      return;
    }
    const highest = highestZoneOf(e.gfpFlags, config.zones);
    const pcpAlloc = PCP_ORDERS.has(e.order) && e.migratetype < MigrateType.HIGHATOMIC;
    const before = config.zones.map((_, z) => view.count(e.cpu, z));
    const wasEmpty = config.zones.map((_, z) => pcpAlloc && view.empty(e.cpu, z, pindexOf(e.order, e.migratetype)));
    const x = g.alloc(e.order, e.migratetype, { highestZone: highest, cpu: e.cpu });
    if (x >= 0) {
      const zx = zoneOf(x);
      if (!pcpAlloc) simZoneLocked.set(`${i}:0`, [x, e.order, -1]);
      else if (wasEmpty[zx]) {
        // Refilled: the first block taken is the one returned, the rest sit on the list in the order taken.
        const blocks = [x, ...g.pcpList(e.cpu, zx, pindexOf(e.order, e.migratetype))];
        if (blocks.length !== (view.count(e.cpu, zx) - before[zx]!) / 2 ** e.order + 1) throw new Error(`modelled replay: refill bookkeeping at line ${e.line}`);
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
      if (pcpAlloc) placeOnPcp(x, e.order, e.cpu, e.migratetype, false);
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

  // --- the comparison ---
  const compare = (trace: Seq, sim: Seq) => {
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
  };

  const endCounts: ModelledStats['endCounts'] = [];
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    config.zones.forEach((z, zone) => endCounts.push({ cpu, zone: z.name, count: view.count(cpu, zone) }));
  }
  return {
    initial: initialStats,
    endCounts,
    initialPcpPages: initialStats.reduce((a, x) => a + x.count, 0),
    initialSkipped,
    ...st,
    drains: compare(traceDrains, simDrains),
    zoneLocked: compare(traceZoneLocked, simZoneLocked),
    firstMismatches,
  };
}
