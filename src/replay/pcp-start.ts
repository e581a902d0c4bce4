// The per-cpu lists at the start of a kmem trace, inferred from the trace alone (docs/engine-rules.md, "Per-cpu
// lists at the start of a trace"). kpageflags does not see per-cpu pages and zoneinfo's count is read a moment
// before the trace starts, so what each (cpu, zone, list) held is recovered from the 6.1 rules:
// - a list is a deque: frees and refills add pages, allocations take the head, bulk frees take the tail. The
//   pages it held at the start (S) sit behind every page the trace adds, so an allocation of a page no earlier
//   event touched, with no refill in front, is S's next head page; a drain of such a page is S's next tail page;
// - S is used up ("closed") once the trace shows the list empty or its S part gone: a refill (rmqueue_pcplist
//   refills only an empty list), a list a bulk free's round robin stepped over, a list a bulk free left for the
//   next one (it took the list to empty), or a drain of a page the trace had already touched (the tail is past
//   S). A closed list held exactly the pages named before it closed: nothing may be added to it;
// - count: every free that is not followed by a bulk free left count below high, every one that is brought it to
//   high or more, and a bulk free that takes everything (free_high, or a drain of all lists) tells count
//   exactly; free_factor at the start is the one (0..5) under which every bulk free has the size nr_pcp_free
//   gives. Within those bounds zoneinfo's count is taken; pages beyond the named ones are unnamed blocks no
//   event touches, on lists that were never shown empty.
// Pure: no guest; the caller places the pages (src/replay/modelled.ts).
import type { KmemEvent } from '../importers/ftrace.js';
import type { ClosedBy } from './types.js';

/** 6.1.104+ caps free_factor at 5 (CONFIG_PCP_BATCH_SCALE_MAX's default): the engine's PCP_FREE_FACTOR_MAX. */
const FREE_FACTOR_MAX = 5;
const MIGRATE_PCPTYPES = 3;
const MOVABLE = 1;

export interface PcpRules {
  cpus: number;
  zones: ReadonlyArray<{ name: string; startPfn: number; endPfn: number; pcpHigh: number; pcpBatch: number }>;
  /** Lists per cpu and zone. */
  listCount: number;
  /** The list a block of (order, migratetype) goes to; -1 when per-cpu lists do not take the order. */
  pcpIndex(order: number, mt: number): number;
  pcpIndexOrder(pindex: number): number;
}

/** A page that was on a per-cpu list at the start, named by the event (index) that first touched it. */
export interface StartPage {
  pfn: number;
  order: number;
  /** The type it was queued with, as a drain prints it; -1 for a page the trace allocates (the list's type). */
  mt: number;
  event: number;
}

export interface StartList {
  pindex: number;
  order: number;
  /** Named by allocations, head first. */
  heads: StartPage[];
  /** Named by drains, tail first. */
  tails: StartPage[];
  /** What showed the start pages used up (then heads and tails are all of them), or null. */
  closedBy: ClosedBy | null;
  /** Unnamed blocks (no event touches them) the count calls for, between heads and tails. */
  fill: number;
}

export interface PcpStart {
  cpu: number;
  zone: number;
  zoneName: string;
  /** Pages at the start. */
  count: number;
  /** 'drain': fixed by the trace's bulk frees; 'zoneinfo': zoneinfo's count, inside the trace's bounds; 'known':
   *  the pages the trace names (no zoneinfo). */
  pinnedBy: 'drain' | 'zoneinfo' | 'known';
  /** count at the start can be any value in [lo, hi] as far as the bulk frees and their absence tell (hi null:
   *  no upper bound). */
  bounds: [number, number | null];
  zoneinfo: number | null;
  freeFactor: number;
  /** Pages named by the trace. */
  named: number;
  lists: StartList[];
  /** Events that disagree with every start state (a page named on a closed list, a bulk free of another size). */
  contradictions: number;
}

export interface PcpStartInference {
  pcps: PcpStart[];
  /** Every pfn some event touches. */
  touched: Set<number>;
  /** Events that name a start page. */
  startEvents: Set<number>;
  notes: string[];
}

type Step =
  | { t: 'alloc'; order: number; refill: number }
  | { t: 'free'; order: number; drained: number; lastSize: number }
  /** A drain not triggered by a free on this cpu and zone: drain_pages, which empties every list. */
  | { t: 'all'; drained: number };

interface Track {
  cpu: number;
  zone: number;
  lists: StartList[];
  steps: Step[];
  contradictions: number;
}

interface DrainRun {
  anchor: number;
  groups: Array<{ zone: number; pindex: number; pages: number; lastSize: number }>;
}

interface Evaluation {
  freeFactor: number;
  lo: number;
  hi: number;
  exact: number[];
  /** count never goes below zero: count0 >= floor. */
  floor: number;
  mismatches: number;
  /** A bulk free took every page (free_high). */
  tookAll: boolean;
}

/**
 * The mm_page_alloc_zone_locked events (indexes, waiting on the allocation's cpu) that belong to allocation `e`:
 * __rmqueue_smallest traces every block it takes, for a refill or a direct allocation, before the allocation
 * itself is traced, so they are the run of events of e's order and type that starts with e's page. Events of
 * another order or type stay waiting (an interrupt's allocation can come between a refill and its
 * mm_page_alloc); earlier ones of the same kind are dropped (blocks taken for an allocation that is not traced).
 */
export function claimZoneLocked(
  pending: number[], events: readonly KmemEvent[], e: { pfn: number; order: number; migratetype: number },
): { claimed: number[]; dropped: number[] } {
  const same = (j: number) => {
    const z = events[j]!;
    return z.order === e.order && 'migratetype' in z && z.migratetype === e.migratetype;
  };
  const first = pending.findIndex((j) => same(j) && events[j]!.pfn === e.pfn);
  if (first < 0) return { claimed: [], dropped: [] };
  const claimed = pending.filter((j, k) => k >= first && same(j));
  const dropped = pending.filter((j, k) => k < first && same(j));
  pending.splice(0, pending.length, ...pending.filter((j) => !same(j)));
  return { claimed, dropped };
}

/** nr_pcp_free for a bulk free that is not free_high: pages to free and the free_factor after. */
function nrPcpFree(ff: number, high: number, batch: number): [number, number] {
  if (high < batch) return [1, ff];
  const b = batch * 2 ** ff;
  const next = b < high - batch && ff < FREE_FACTOR_MAX ? ff + 1 : ff;
  return [Math.min(Math.max(b, batch), high - batch), next];
}

/** The count bounds one start free_factor implies, and how many bulk frees it cannot explain. */
function evaluate(steps: readonly Step[], f: number, high: number, batch: number): Evaluation {
  let net = 0, ff = f, lo = -Infinity, hi = Infinity, floor = 0, mismatches = 0, tookAll = false;
  const exact: number[] = [];
  for (const s of steps) {
    if (s.t === 'alloc') {
      ff >>= 1;
      net += (s.refill - 1) * 2 ** s.order;
    } else if (s.t === 'free') {
      net += 2 ** s.order;
      const freeHigh = ff > 0 && s.order >= 1 && s.order <= 3;
      if (freeHigh) {
        if (s.drained === 0) mismatches++;
        else {
          exact.push(s.drained - net);
          tookAll = true;
        }
      } else if (s.drained > 0) {
        lo = Math.max(lo, high - net);
        const [n, next] = nrPcpFree(ff, high, batch);
        ff = next;
        // The last list visited gives whole blocks: the bulk free may overshoot by less than one of them.
        if (s.drained < n || s.drained - s.lastSize >= n) mismatches++;
      } else {
        hi = Math.min(hi, high - 1 - net);
      }
      net -= s.drained;
    } else {
      exact.push(s.drained - net);
      net -= s.drained;
    }
    floor = Math.max(floor, -net);
  }
  const lower = Math.max(lo, floor);
  if (lower > hi || exact.some((x) => x !== exact[0] || x < lower || x > hi)) mismatches++;
  return { freeFactor: f, lo, hi, exact, floor, mismatches, tookAll };
}

export function inferPcpStart(
  events: readonly KmemEvent[],
  listFree: Uint8Array,
  rules: PcpRules,
  zoneinfoCount: (cpu: number, zone: number) => number | undefined,
): PcpStartInference {
  const L = rules.listCount;
  const notes: string[] = [];
  const note = (s: string) => {
    if (notes.length < 12) notes.push(s);
  };
  const zoneOf = (pfn: number) => rules.zones.findIndex((z) => pfn >= z.startPfn && pfn < z.endPfn);
  const tracks = new Map<number, Track>();
  const track = (cpu: number, zone: number): Track => {
    const k = cpu * 16 + zone;
    let t = tracks.get(k);
    if (!t) {
      const lists = Array.from({ length: L }, (_, p): StartList => ({ pindex: p, order: rules.pcpIndexOrder(p), heads: [], tails: [], closedBy: null, fill: 0 }));
      t = { cpu, zone, lists, steps: [], contradictions: 0 };
      tracks.set(k, t);
    }
    return t;
  };
  const close = (t: Track, p: number, by: ClosedBy) => {
    const l = t.lists[p]!;
    if (l.closedBy === null) l.closedBy = by;
  };
  const touched = new Set<number>();
  const touch = (pfn: number, order: number) => {
    for (let p = pfn; p < pfn + 2 ** order; p++) touched.add(p);
  };
  const startEvents = new Set<number>();
  const pendingRefill = new Map<number, number[]>();
  const lastEvent = new Map<number, number>();
  const runs = new Map<number, DrainRun>();
  const isPcpFree = (i: number) => {
    const e = events[i]!;
    return e.event === 'mm_page_free_batched' || (e.event === 'mm_page_free' && !listFree[i] && rules.pcpIndex(e.order, MOVABLE) >= 0);
  };

  /** A run of drains on one cpu ends: bound count, and read which lists it showed empty. */
  const finishRun = (cpu: number) => {
    const run = runs.get(cpu);
    if (!run) return;
    runs.delete(cpu);
    for (const zone of new Set(run.groups.map((g) => g.zone))) {
      const t = track(cpu, zone);
      const gs = run.groups.filter((g) => g.zone === zone);
      const drained = gs.reduce((a, g) => a + g.pages, 0);
      const last = t.steps.at(-1);
      const bulk = run.anchor >= 0 && isPcpFree(run.anchor) && zoneOf(events[run.anchor]!.pfn) === zone && last?.t === 'free';
      if (bulk) {
        last.drained = drained;
        last.lastSize = gs.at(-1)!.lastSize;
      } else {
        t.steps.push({ t: 'all', drained });
      }
      // The round robin starts at the freed page's list (never empty: the page is on it) or, for drain_pages, at
      // list 0; lists it steps over are empty, and every list it leaves for another it has emptied.
      let p = bulk ? gs[0]!.pindex : 0;
      gs.forEach((g, k) => {
        for (let n = 0; p !== g.pindex && n < L; n++, p = (p + 1) % L) close(t, p, 'skipped');
        if (k < gs.length - 1) close(t, g.pindex, 'emptied');
        p = (g.pindex + 1) % L;
      });
      if (!bulk) for (let q = 0; q < L; q++) close(t, q, 'drained all');
    }
  };

  events.forEach((e, i) => {
    if (e.event === 'mm_page_alloc_extfrag') return;
    const cpu = e.cpu;
    if (e.event !== 'mm_page_pcpu_drain') finishRun(cpu);
    const zone = zoneOf(e.pfn);
    if (zone < 0) {
      if (!(e.event === 'mm_page_alloc' && e.pfn === 0)) note(`line ${e.line}: ${e.event} pfn ${e.pfn} lies in no zone`);
      return;
    }
    switch (e.event) {
      case 'mm_page_alloc_zone_locked': {
        const q = pendingRefill.get(cpu) ?? [];
        q.push(i);
        pendingRefill.set(cpu, q);
        break;
      }
      case 'mm_page_alloc': {
        const refill = claimZoneLocked(pendingRefill.get(cpu) ?? [], events, e).claimed;
        const p = e.migratetype < MIGRATE_PCPTYPES ? rules.pcpIndex(e.order, e.migratetype) : -1;
        if (p < 0) break;
        const t = track(cpu, zone);
        t.steps.push({ t: 'alloc', order: e.order, refill: refill.length });
        if (refill.length) close(t, p, 'refill');
        else if (!touched.has(e.pfn)) {
          const l = t.lists[p]!;
          if (l.closedBy) {
            t.contradictions++;
            note(`line ${e.line}: cpu ${cpu} allocates start page ${e.pfn} from list ${p}, which the trace showed used up (${l.closedBy})`);
          } else {
            l.heads.push({ pfn: e.pfn, order: e.order, mt: -1, event: i });
            startEvents.add(i);
          }
        }
        break;
      }
      case 'mm_page_free':
        if (!listFree[i] && rules.pcpIndex(e.order, MOVABLE) >= 0) track(cpu, zone).steps.push({ t: 'free', order: e.order, drained: 0, lastSize: 0 });
        break;
      case 'mm_page_free_batched':
        // free_unref_page_list commits order-0 pages only.
        track(cpu, zone).steps.push({ t: 'free', order: 0, drained: 0, lastSize: 0 });
        break;
      case 'mm_page_pcpu_drain': {
        const p = rules.pcpIndex(e.order, e.migratetype);
        if (p < 0) {
          note(`line ${e.line}: drain of order ${e.order}, which per-cpu lists do not take`);
          break;
        }
        let run = runs.get(cpu);
        if (!run) {
          run = { anchor: lastEvent.get(cpu) ?? -1, groups: [] };
          runs.set(cpu, run);
        }
        const t = track(cpu, zone);
        const l = t.lists[p]!;
        if (!touched.has(e.pfn)) {
          if (l.closedBy) {
            t.contradictions++;
            note(`line ${e.line}: cpu ${cpu} drains start page ${e.pfn} from list ${p}, which the trace showed used up (${l.closedBy})`);
          } else {
            l.tails.push({ pfn: e.pfn, order: e.order, mt: e.migratetype, event: i });
            startEvents.add(i);
          }
        } else {
          close(t, p, 'old page drained');
        }
        const g = run.groups.at(-1);
        if (g && g.zone === zone && g.pindex === p) {
          g.pages += 2 ** e.order;
          g.lastSize = 2 ** e.order;
        } else run.groups.push({ zone, pindex: p, pages: 2 ** e.order, lastSize: 2 ** e.order });
        touch(e.pfn, e.order);
        return; // a drain anchors nothing
      }
    }
    touch(e.pfn, e.order);
    lastEvent.set(cpu, i);
  });
  for (const cpu of [...runs.keys()]) finishRun(cpu);

  for (let cpu = 0; cpu < rules.cpus; cpu++) {
    rules.zones.forEach((_, zone) => {
      if (zoneinfoCount(cpu, zone)) track(cpu, zone);
    });
  }
  const pcps = [...tracks.values()]
    .sort((a, b) => a.cpu - b.cpu || a.zone - b.zone)
    .map((t) => settle(t, rules, zoneinfoCount(t.cpu, t.zone), note));
  return { pcps, touched, startEvents, notes };
}

/** The count and the unnamed blocks of one cpu and zone, from its steps and named pages. */
function settle(t: Track, rules: PcpRules, zoneinfo: number | undefined, note: (s: string) => void): PcpStart {
  const z = rules.zones[t.zone]!;
  const named = t.lists.reduce((a, l) => a + (l.heads.length + l.tails.length) * 2 ** l.order, 0);
  // The start free_factor: the smallest that explains every bulk free (0 when none is needed).
  let best = evaluate(t.steps, 0, z.pcpHigh, z.pcpBatch);
  for (let f = 1; f <= FREE_FACTOR_MAX && best.mismatches > 0; f++) {
    const e = evaluate(t.steps, f, z.pcpHigh, z.pcpBatch);
    if (e.mismatches < best.mismatches) best = e;
  }
  if (best.tookAll) for (const l of t.lists) l.closedBy ??= 'drained all';
  const lower = Math.max(best.lo, best.floor, named);
  let count: number, pinnedBy: PcpStart['pinnedBy'];
  if (best.exact.length) {
    count = best.exact[0]!;
    pinnedBy = 'drain';
  } else if (lower === best.hi) {
    count = lower;
    pinnedBy = 'drain';
  } else if (zoneinfo !== undefined) {
    count = Math.min(Math.max(zoneinfo, lower), best.hi);
    pinnedBy = count === zoneinfo ? 'zoneinfo' : 'drain';
  } else {
    count = lower;
    pinnedBy = lower > named ? 'drain' : 'known';
  }
  if (best.mismatches) note(`cpu ${t.cpu} ${z.name}: ${best.mismatches} bulk frees fit no start count and free_factor`);
  if (count < named) {
    note(`cpu ${t.cpu} ${z.name}: count ${count} is below the ${named} pages the trace names`);
    count = named;
  }
  // Unnamed blocks go on lists the trace never showed used up: order-0 lists first (MOVABLE, the common
  // type, then UNMOVABLE, RECLAIMABLE), then higher orders.
  let rest = count - named;
  for (const p of fillOrder(rules)) {
    const l = t.lists[p]!;
    if (l.closedBy || rest <= 0) continue;
    l.fill = Math.floor(rest / 2 ** l.order);
    rest -= l.fill * 2 ** l.order;
  }
  if (rest > 0) {
    note(`cpu ${t.cpu} ${z.name}: ${rest} of ${count} pages fit on no list the trace leaves open`);
    count -= rest;
  }
  return {
    cpu: t.cpu, zone: t.zone, zoneName: z.name, count, pinnedBy,
    bounds: [Math.max(best.lo, best.floor, 0), Number.isFinite(best.hi) ? best.hi : null],
    zoneinfo: zoneinfo ?? null, freeFactor: best.freeFactor, named, lists: t.lists, contradictions: t.contradictions + best.mismatches,
  };
}

function fillOrder(rules: PcpRules): number[] {
  const out: number[] = [];
  for (let o = 0; o <= 10; o++) {
    for (const mt of [MOVABLE, 0, 2]) {
      const p = rules.pcpIndex(o, mt);
      if (p >= 0 && !out.includes(p)) out.push(p);
    }
  }
  return out;
}
