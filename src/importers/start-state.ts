// A simulated guest in a recorded kernel state: zones and watermarks from /proc/zoneinfo, and the free blocks
// either exactly from /proc/kpageflags, or, without a dump, laid out to match /proc/buddyinfo (and the
// migratetype split of /proc/pagetypeinfo) count for count. The result is a GuestStartState, which a simulation
// starts from (GuestRunSpec.startState) or a WasmGuest takes directly (guestFromProc).
//
// What a count-for-count state infers, and from what (README "Fidelity"; docs/engine-rules.md):
// - where the free blocks are: blocks the kernel reported before the snapshot (reports.csv) were free at their
//   pfns and are placed there, as many per order as buddyinfo counts (the most recently put back first: an
//   allocation takes list heads, so the oldest went first); the other blocks are laid out so none could merge
//   (each beside an allocated buddy), the largest from the top of the zone, the rest from its start;
// - list order: boot freed memory to list tails in ascending pfn and every reporting pass put its blocks back
//   at the tail, so unreported blocks come first in ascending pfn, then reported blocks in the order they were
//   last put back;
// - Reported: the blocks named by those reports; without a report log, every block of at least the reporting
//   order in a zone that passed the zone gate, once a pass has run (an idle worker has reported all of them);
// - pageblock migratetypes: a pageblock holding a free block takes its list's type; the others are given the
//   types pagetypeinfo's "Number of blocks" table still lacks, from the zone start;
// - per-cpu lists: zoneinfo's count per cpu, as order-0 pages taken from allocated memory (per-cpu pages are
//   neither free nor visible in buddyinfo; their orders and types are not recorded).
import { WasmGuest, type WasmGuestOptions } from '../core/guest.js';
import { resolveGuest } from '../core/config.js';
import { getProfile } from '../core/profiles.js';
import { SimError } from '../core/errors.js';
import {
  type GuestConfig, type GuestStartState, ALL_MIGRATE_TYPES, MIGRATE_TYPES, MigrateType, NR_ORDERS, PAGEBLOCK_ORDER, type ProfileName,
} from '../core/types.js';
import { type Zoneinfo, zoneSpecsFromZoneinfo, cpusFromZoneinfo, populatedZones } from './zoneinfo.js';
import type { BuddyinfoRow } from './buddyinfo.js';
import { type Pagetypeinfo, pagetypeCounts } from './pagetypeinfo.js';
import { decodeKpageflags, type FreeBlock } from './kpageflags.js';

const PAGEBLOCK = 1 << PAGEBLOCK_ORDER;

export interface StartStateInput {
  zoneinfo: Zoneinfo;
  /** Exact free blocks (and Reported flags): a kpageflags dump (raw or gzip bytes), or blocks already decoded. */
  kpageflags?: Uint8Array | { blocks: FreeBlock[] };
  /** Counts to reproduce when there is no dump. */
  buddyinfo?: BuddyinfoRow[];
  /** Migratetype split of the free blocks, and the pageblock types (optional). */
  pagetypeinfo?: Pagetypeinfo;
  memoryRanges?: Array<[number, number]>;
  profile?: ProfileName;
  pcp?: boolean;
  /** CPUs of the guest (default: zoneinfo's pagesets). */
  cpus?: number;
  /** Put zoneinfo's per-cpu counts on the per-cpu lists (count-for-count states; default true). */
  pcpFromZoneinfo?: boolean;
  /**
   * Blocks reported before the snapshot, in the order the passes put them back (reports.csv rows before it, by
   * pass, batch, slot): placed at their pfns with Reported set.
   */
  reported?: ReadonlyArray<{ pfn: number; order: number }>;
  /**
   * Without `reported`: once a pass has run, every free block of at least this order in a zone above the
   * zone gate (free pages > low + capacity << order) is Reported. Undefined: nothing is Reported.
   */
  reportedFromOrder?: number;
  /** Report batch capacity, for the zone gate (default 32). */
  capacity?: number;
  guestOptions?: WasmGuestOptions;
}

/** The guest configuration a snapshot describes (zones, watermarks, per-cpu high and batch, cpus). */
export function configFromProc(input: Pick<StartStateInput, 'zoneinfo' | 'memoryRanges' | 'profile' | 'pcp' | 'cpus'>): GuestConfig {
  if (!input || typeof input !== 'object' || !input.zoneinfo || !Array.isArray(input.zoneinfo.zones)) {
    throw new SimError('BAD_ARGUMENT', 'a start state needs {zoneinfo} (parseZoneinfo\'s result) and kpageflags or buddyinfo', { field: 'zoneinfo' });
  }
  const zones = zoneSpecsFromZoneinfo(input.zoneinfo, input.memoryRanges ? { memoryRanges: input.memoryRanges } : {});
  return resolveGuest({ profile: input.profile ?? 'linux-6.1', zones, cpus: input.cpus ?? (cpusFromZoneinfo(input.zoneinfo) || 1), pcp: input.pcp ?? true });
}

/** Build the guest (see startStateFromProc). */
export function guestFromProc(input: StartStateInput): WasmGuest {
  const cfg = configFromProc(input);
  const g = new WasmGuest(cfg, input.guestOptions);
  g.applyStartState(startStateFromProc(input, cfg));
  return g;
}

/**
 * The recorded state: from a dump, every free block where it is, in ascending pfn at the list tails (as boot
 * leaves them), with its Reported flag; else count for count (see the header).
 */
export function startStateFromProc(input: StartStateInput, cfg: GuestConfig = configFromProc(input)): GuestStartState {
  if (input.kpageflags) {
    const dump = input.kpageflags instanceof Uint8Array
      ? decodeKpageflags(input.kpageflags, { zoneBounds: cfg.zones.map((z) => [z.startPfn, z.endPfn] as const) })
      : input.kpageflags;
    const free = dump.blocks
      // Free pages outside the zones zoneinfo names (firmware ranges) are left out.
      .filter((b) => cfg.zones.some((z) => b.pfn >= z.startPfn && b.pfn < z.endPfn))
      .map((b) => ({ pfn: b.pfn, order: b.order, mt: MigrateType.MOVABLE, reported: b.reported }));
    return { free };
  }
  if (!input.buddyinfo) throw new SimError('BAD_CONFIG', 'a start state needs kpageflags or buddyinfo', {});
  const layout = new Layout(cfg);
  const free: GuestStartState['free'] = [];
  const pageblocks: Array<[number, MigrateType]> = [];
  cfg.zones.forEach((z, zi) => {
    const row = input.buddyinfo!.find((r) => r.zone === z.name);
    if (!row) throw new SimError('BAD_CONFIG', `buddyinfo has no zone ${z.name}`, { zone: z.name });
    // Counts no zone of this size could hold are refused before anything is laid out (a count of 2^53 would
    // never finish).
    const pages = pagesOf(row.counts);
    if (row.counts.length > NR_ORDERS || pages > z.managed) {
      throw new SimError('BAD_CONFIG', `zone ${z.name}: buddyinfo counts ${row.counts.join(' ')} add up to ${pages} free pages; the zone manages ${z.managed}`, { zone: z.name, field: 'counts', value: pages });
    }
    const byMt = input.pagetypeinfo ? pagetypeCounts(input.pagetypeinfo, z.name) : null;
    const gatePassed = input.reportedFromOrder !== undefined
      && pages > z.watermarks.low + ((input.capacity ?? 32) << input.reportedFromOrder);
    const placed = layout.placeZone(zi, row.counts, byMt, input.reported ?? [], input.reported ? undefined : gatePassed ? input.reportedFromOrder : undefined);
    free.push(...placed);
    const blockRow = input.pagetypeinfo?.blocks.find((r) => r.zone === z.name);
    if (blockRow) pageblocks.push(...layout.pageblockTypes(zi, placed, input.pagetypeinfo!.blockTypes, blockRow.counts));
    else for (const b of placed) if (b.mt !== MigrateType.MOVABLE) pageblocks.push([b.pfn, b.mt]);
  });
  const state: GuestStartState = { free: listOrder(free), pageblocks };
  if ((input.pcpFromZoneinfo ?? true) && cfg.pcp) state.pcp = layout.pcpPages(pcpCounts(input.zoneinfo, cfg), pageblocks);
  return state;
}

const pagesOf = (counts: readonly number[]) => counts.reduce((a, n, o) => a + n * 2 ** o, 0);

/** Per zone (config index) and cpu, zoneinfo's per-cpu count. */
function pcpCounts(info: Zoneinfo, cfg: GuestConfig): number[][] {
  const zones = populatedZones(info);
  return cfg.zones.map((z) => {
    const zz = zones.find((x) => x.name === z.name);
    return Array.from({ length: cfg.cpus }, (_, c) => zz?.pcp.find((p) => p.cpu === c)?.count ?? 0);
  });
}

/** Unreported blocks first in ascending pfn, then reported ones in the order given (their last putback). */
function listOrder(free: GuestStartState['free']): GuestStartState['free'] {
  const unreported = free.filter((b) => !b.reported).sort((a, b) => a.pfn - b.pfn);
  return [...unreported, ...free.filter((b) => b.reported)];
}

type Placed = GuestStartState['free'][number];

/** Which pages hold what while a state is laid out. */
class Layout {
  /** Per zone: 1 where a free block is placed. */
  private readonly used: Uint8Array[];
  /**
   * Per zone: 1 where a page may hold a free block: any present page. (Which pages are reserved is not recorded:
   * on x86 they sit at both ends, the first MiB and the kernel image low, memblock's allocations high.)
   */
  private readonly usable: Uint8Array[];
  /** Per zone: 1 where a page is taken for a per-cpu list. */
  private readonly onPcp: Uint8Array[];
  /** The eaten low ends of the pageblocks that hold small free blocks: where allocations took pages from. */
  readonly eaten: Array<{ zone: number; start: number; end: number }> = [];

  constructor(readonly cfg: GuestConfig) {
    this.used = cfg.zones.map((z) => new Uint8Array(z.endPfn - z.startPfn));
    this.onPcp = cfg.zones.map((z) => new Uint8Array(z.endPfn - z.startPfn));
    this.usable = cfg.zones.map((z) => new Uint8Array(z.endPfn - z.startPfn));
    cfg.zones.forEach((z, zi) => {
      this.usable[zi]!.fill(1);
      for (const [a, b] of z.holes) this.usable[zi]!.fill(0, a - z.startPfn, b - z.startPfn);
    });
  }

  private fits(zi: number, p: number, n: number): boolean {
    const z = this.cfg.zones[zi]!;
    if (p < z.startPfn || p + n > z.endPfn) return false;
    const used = this.used[zi]!, usable = this.usable[zi]!;
    for (let q = p - z.startPfn; q < p - z.startPfn + n; q++) if (used[q] || !usable[q]) return false;
    return true;
  }

  private take(zi: number, p: number, n: number): void {
    const z = this.cfg.zones[zi]!;
    this.used[zi]!.fill(1, p - z.startPfn, p - z.startPfn + n);
  }

  /** A free block here would have merged with its buddy: the buddy is wholly free already. */
  private buddyFree(zi: number, p: number, order: number): boolean {
    const z = this.cfg.zones[zi]!;
    const b = p ^ (1 << order);
    if (order >= NR_ORDERS - 1 || b < z.startPfn || b + (1 << order) > z.endPfn) return false;
    const used = this.used[zi]!;
    for (let q = b - z.startPfn; q < b - z.startPfn + (1 << order); q++) if (!used[q]) return false;
    return true;
  }

  placeZone(zi: number, counts: readonly number[], byMt: number[][] | null, reported: ReadonlyArray<{ pfn: number; order: number }>, reportedFromOrder: number | undefined): Placed[] {
    const z = this.cfg.zones[zi]!;
    const out: Placed[] = [];
    const left = [...counts];
    // Per order, the types still to give out: pagetypeinfo's split (MOVABLE first for reported blocks, which
    // isolation retyped MOVABLE at order >= 8), else all MOVABLE.
    const types = counts.map((n, o) => {
      const t: MigrateType[] = [];
      if (byMt) for (const mt of [MigrateType.MOVABLE, ...ALL_MIGRATE_TYPES.filter((m) => m !== MigrateType.MOVABLE)]) {
        for (let i = 0; i < (byMt[mt]?.[o] ?? 0) && t.length < n; i++) t.push(mt);
      }
      while (t.length < n) t.push(MigrateType.MOVABLE);
      return t;
    });
    // Reported blocks: the last putback of each, newest first, as many per order as are free now.
    const last = new Map<number, { pfn: number; order: number }>();
    for (const r of reported) {
      if (r.pfn < z.startPfn || r.pfn >= z.endPfn) continue;
      last.delete(r.pfn);
      last.set(r.pfn, r);
    }
    const keep: Placed[] = [];
    for (const r of [...last.values()].reverse()) {
      if (!left[r.order] || !this.fits(zi, r.pfn, 1 << r.order)) continue;
      left[r.order]!--;
      this.take(zi, r.pfn, 1 << r.order);
      keep.push({ pfn: r.pfn, order: r.order, mt: types[r.order]!.shift()!, reported: true });
    }
    out.push(...keep.reverse());
    // The rest. Blocks of pageblock order and up from the top of the zone down (nothing merges at order 10,
    // and an order-9 block is kept off a free buddy). Smaller blocks are what is left of blocks that
    // allocations ate from their low end: __rmqueue_smallest splits a block and hands out its lowest pages
    // first, its upper halves staying free, so a partly eaten pageblock keeps at most one free block of each
    // order, larger ones higher up. They are laid out so, one eaten pageblock per run of falling orders (per
    // migratetype), in pageblocks nothing else uses, from the zone start.
    for (let o = NR_ORDERS - 1; o >= PAGEBLOCK_ORDER; o--) {
      const size = 1 << o;
      const first = Math.ceil(z.startPfn / size) * size;
      let n = left[o]!;
      for (let p = Math.floor((z.endPfn - size) / size) * size; n > 0 && p >= first; p -= size) {
        if (!this.fits(zi, p, size) || this.buddyFree(zi, p, o)) continue;
        this.take(zi, p, size);
        out.push({ pfn: p, order: o, mt: types[o]!.shift()!, reported: reportedFromOrder !== undefined && o >= reportedFromOrder });
        n--;
      }
      if (n > 0) throw new SimError('BAD_CONFIG', `zone ${z.name}: ${left[o]} order-${o} blocks do not fit (placed ${left[o]! - n})`, { zone: z.name, order: o, count: left[o] });
    }
    const small: Array<{ order: number; mt: MigrateType }> = [];
    for (let o = PAGEBLOCK_ORDER - 1; o >= 0; o--) for (let i = 0; i < left[o]!; i++) small.push({ order: o, mt: types[o]!.shift()! });
    small.sort((a, b) => a.mt - b.mt || b.order - a.order);
    // Pageblocks with no free block in them (holes and pages outside the zone allowed: the eaten low end).
    let pb = Math.floor(z.startPfn / PAGEBLOCK) * PAGEBLOCK - PAGEBLOCK;
    let placedHere = 0, orderNow = -1;
    const nextPageblock = (): number => {
      for (pb += PAGEBLOCK; pb < z.endPfn; pb += PAGEBLOCK) {
        const lo = Math.max(pb, z.startPfn) - z.startPfn, hi = Math.min(pb + PAGEBLOCK, z.endPfn) - z.startPfn;
        if (!this.used[zi]!.subarray(lo, hi).some((u) => u)) return pb;
      }
      throw new SimError('BAD_CONFIG', `zone ${z.name}: ${left[orderNow]} order-${orderNow} blocks do not fit (placed ${placedHere})`, { zone: z.name, order: orderNow, count: left[orderNow] });
    };
    let top = -1, lastOrder = PAGEBLOCK_ORDER, lastMt = -1;
    for (const b of small) {
      if (b.order !== orderNow) [orderNow, placedHere] = [b.order, 0];
      const size = 1 << b.order;
      let p = top - size;
      if (top < 0 || b.order >= lastOrder || b.mt !== lastMt || !this.fits(zi, p, size)) {
        do {
          top = nextPageblock() + PAGEBLOCK;
          p = top - size;
        } while (!this.fits(zi, p, size));
        this.eaten.push({ zone: zi, start: Math.max(pb, z.startPfn), end: top });
      }
      this.take(zi, p, size);
      out.push({ pfn: p, order: b.order, mt: b.mt, reported: reportedFromOrder !== undefined && b.order >= reportedFromOrder });
      this.eaten.at(-1)!.end = p;
      placedHere++;
      top = p;
      lastOrder = b.order;
      lastMt = b.mt;
    }
    return out;
  }

  /**
   * Pageblock types: those holding free blocks take the blocks' list types; the others get the types the
   * pagetypeinfo table still lacks (UNMOVABLE, RECLAIMABLE, ...), from the zone start. Returns the non-MOVABLE.
   */
  pageblockTypes(zi: number, placed: Placed[], blockTypes: string[], counts: number[]): Array<[number, MigrateType]> {
    const z = this.cfg.zones[zi]!;
    const first = Math.floor(z.startPfn / PAGEBLOCK), end = Math.ceil(z.endPfn / PAGEBLOCK);
    const mtOf = new Map<number, MigrateType>();
    for (const b of placed) {
      for (let pb = b.pfn >> PAGEBLOCK_ORDER; pb <= (b.pfn + (1 << b.order) - 1) >> PAGEBLOCK_ORDER; pb++) mtOf.set(pb, b.mt);
    }
    const want = new Array<number>(MIGRATE_TYPES).fill(0);
    blockTypes.forEach((name, i) => {
      const mt = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'].indexOf(name);
      if (mt >= 0) want[mt] = counts[i] ?? 0;
    });
    for (const mt of mtOf.values()) want[mt] = Math.max(0, want[mt]! - 1);
    const out: Array<[number, MigrateType]> = [];
    const order = [MigrateType.UNMOVABLE, MigrateType.RECLAIMABLE, MigrateType.HIGHATOMIC];
    for (let pb = first; pb < end; pb++) {
      let mt = mtOf.get(pb);
      if (mt === undefined) {
        const t = order.find((m) => want[m]! > 0);
        mt = t ?? MigrateType.MOVABLE;
        if (t !== undefined) want[t]!--;
      }
      if (mt !== MigrateType.MOVABLE) out.push([Math.max(pb * PAGEBLOCK, z.startPfn), mt]);
    }
    return out;
  }

  /**
   * zoneinfo's per-cpu counts, laid out as refills leave them. 6.1 keeps lists for orders 0 to 3 (and the THP
   * order); a refill (rmqueue_bulk) brings max(batch >> order, 2) blocks, taking them one by one off the
   * smallest free blocks, so it eats a block upwards from its low end and adds the blocks to the list's tail in
   * ascending pfn, while allocations take the head, the lowest. What a cpu still holds is therefore the top of
   * a refill: a run of blocks just below what is still free of an eaten pageblock. The split of a cpu's pages
   * over the orders is not recorded; it is taken from the real 6.1 trace, whose lists held about 60% of their
   * pages at order 0 and the rest at orders 1, 2 and 3 alike, 83% of them UNMOVABLE (a page goes on the list of
   * its pageblock's type, so UNMOVABLE pageblocks come first). Eaten pageblocks first (those holding small free
   * blocks), then pageblocks wholly allocated; one refill each, the cpus and orders in turn; each run leaves the
   * lowest pages of its range to the kernel.
   */
  pcpPages(counts: number[][], pageblocks: Array<[number, MigrateType]>): NonNullable<GuestStartState['pcp']> {
    const notMovable = new Set(pageblocks.filter(([, mt]) => mt !== MigrateType.MOVABLE).map(([p]) => p >> PAGEBLOCK_ORDER));
    const orders = this.cfg.pcp ? getProfile(this.cfg.profile).pcpOrders.filter((o) => o < PAGEBLOCK_ORDER) : [0];
    const out: NonNullable<GuestStartState['pcp']> = [];
    counts.forEach((perCpu, zi) => {
      const z = this.cfg.zones[zi]!;
      const used = this.used[zi]!, usable = this.usable[zi]!, onPcp = this.onPcp[zi]!;
      const free = (p: number, n: number) => {
        for (let q = p - z.startPfn; q < p - z.startPfn + n; q++) if (!usable[q] || used[q] || onPcp[q]) return false;
        return true;
      };
      const batch = Math.max(1, z.pcpBatch);
      // Ranges [start, end) a refill's blocks run down from `end` in.
      const ranges: Array<[number, number]> = this.eaten.filter((e) => e.zone === zi).map((e) => [e.start, e.end]);
      for (const movable of [false, true]) {
        for (let p = Math.ceil(z.startPfn / PAGEBLOCK) * PAGEBLOCK; p + PAGEBLOCK <= z.endPfn; p += PAGEBLOCK) {
          if (notMovable.has(p >> PAGEBLOCK_ORDER) === movable || this.eaten.some((e) => e.zone === zi && e.start <= p && e.end > p)) continue;
          if (used.subarray(p - z.startPfn, p - z.startPfn + PAGEBLOCK).some((u) => u)) continue;
          ranges.push([p, p + PAGEBLOCK]);
        }
      }
      // Pages wanted per cpu and order: order 0 takes what the others leave.
      const want = perCpu.map((n) => {
        const w = orders.map((o) => (o === 0 ? 0 : Math.floor((n * 0.4) / (orders.length - 1) / (1 << o)) << o));
        w[0] = n - w.reduce((a, b) => a + b, 0);
        return w;
      });
      let ri = 0;
      for (let round = 0; ri < ranges.length && want.some((w) => w.some((x) => x > 0)); round++) {
        for (let c = 0; c < perCpu.length && ri < ranges.length; c++) {
          for (let k = 0; k < orders.length && ri < ranges.length; k++) {
            const o = orders[k]!, size = 1 << o;
            if (want[c]![k]! < size) continue;
            const [start, end] = ranges[ri++]!;
            let blocks = Math.min(batch > 1 ? Math.max(batch >> o, 2) : 1, want[c]![k]! >> o);
            for (let p = Math.floor(end / size) * size - size; blocks > 0 && p > start; p -= size) {
              if (!free(p, size)) continue;
              onPcp.fill(1, p - z.startPfn, p - z.startPfn + size);
              out.push({ cpu: c, pfn: p, order: o });
              want[c]![k]! -= size;
              blocks--;
            }
          }
        }
      }
      // More than the ranges hold: any allocated pages, as order-0 pages.
      want.forEach((w, cpu) => {
        let n = w.reduce((a, b) => a + b, 0);
        for (let p = z.startPfn; n > 0 && p < z.endPfn; p++) {
          if (!free(p, 1)) continue;
          onPcp[p - z.startPfn] = 1;
          out.push({ cpu, pfn: p, order: 0 });
          n--;
        }
      });
    });
    return out;
  }
}
