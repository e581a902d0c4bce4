// A simulated guest in a recorded kernel state: zones and watermarks from /proc/zoneinfo, and the free blocks
// either exactly from /proc/kpageflags, or, without a dump, laid out to match /proc/buddyinfo (and the
// migratetype split of /proc/pagetypeinfo) count for count.
import { WasmGuest, type WasmGuestOptions } from '../core/guest.js';
import { resolveGuest } from '../core/config.js';
import { SimError } from '../core/errors.js';
import { MigrateType, NR_ORDERS, type ProfileName } from '../core/types.js';
import { type Zoneinfo, zoneSpecsFromZoneinfo, cpusFromZoneinfo } from './zoneinfo.js';
import type { BuddyinfoRow } from './buddyinfo.js';
import { type Pagetypeinfo, pagetypeCounts } from './pagetypeinfo.js';
import { decodeKpageflags, type FreeBlock } from './kpageflags.js';

export interface StartStateInput {
  zoneinfo: Zoneinfo;
  /** Exact free blocks (and Reported flags): a kpageflags dump (raw or gzip bytes), or blocks already decoded. */
  kpageflags?: Uint8Array | { blocks: FreeBlock[] };
  /** Counts to reproduce when there is no dump. */
  buddyinfo?: BuddyinfoRow[];
  /** Migratetype split of the free blocks (optional). */
  pagetypeinfo?: Pagetypeinfo;
  memoryRanges?: Array<[number, number]>;
  profile?: ProfileName;
  pcp?: boolean;
  guestOptions?: WasmGuestOptions;
}

/**
 * Build the guest. Every non-free present page starts allocated (order 0, UNMOVABLE). From a dump, blocks go
 * to their lists in ascending pfn at the tail, as boot leaves them. From counts, order-10 blocks fill each zone
 * from its end downwards and smaller blocks are laid out from its start, each beside an allocated buddy so that
 * nothing could have merged; pageblocks take the migratetype pagetypeinfo gives their blocks.
 */
export function guestFromProc(input: StartStateInput): WasmGuest {
  if (!input || typeof input !== 'object' || !input.zoneinfo || !Array.isArray(input.zoneinfo.zones)) {
    throw new SimError('BAD_ARGUMENT', 'guestFromProc: expected {zoneinfo} (parseZoneinfo\'s result) and kpageflags or buddyinfo', { field: 'zoneinfo' });
  }
  const zones = zoneSpecsFromZoneinfo(input.zoneinfo, input.memoryRanges ? { memoryRanges: input.memoryRanges } : {});
  const cfg = resolveGuest({ profile: input.profile ?? 'linux-6.1', zones, cpus: cpusFromZoneinfo(input.zoneinfo) || 1, pcp: input.pcp ?? true });
  const g = new WasmGuest(cfg, input.guestOptions);
  if (input.kpageflags) {
    const dump = input.kpageflags instanceof Uint8Array
      ? decodeKpageflags(input.kpageflags, { zoneBounds: cfg.zones.map((z) => [z.startPfn, z.endPfn] as const) })
      : input.kpageflags;
    for (const b of dump.blocks) {
      const zone = cfg.zones.findIndex((z) => b.pfn >= z.startPfn && b.pfn < z.endPfn);
      if (zone < 0) continue; // free pages outside the zones zoneinfo names (firmware ranges)
      g.placeFreeBlock(b.pfn, b.order, MigrateType.MOVABLE, true, b.reported);
    }
    return g;
  }
  if (!input.buddyinfo) throw new SimError('BAD_CONFIG', 'guestFromProc needs kpageflags or buddyinfo', {});
  cfg.zones.forEach((z, zi) => {
    const row = input.buddyinfo!.find((r) => r.zone === z.name);
    if (!row) throw new SimError('BAD_CONFIG', `buddyinfo has no zone ${z.name}`, { zone: z.name });
    const byMt = input.pagetypeinfo ? pagetypeCounts(input.pagetypeinfo, z.name) : null;
    placeCounts(g, zi, row.counts, byMt);
  });
  return g;
}

/** For each order, the migratetype of each of its blocks: pagetypeinfo's split, else all MOVABLE. */
function typesFor(counts: number[], byMt: number[][] | null): number[][] {
  return counts.map((n, o) => {
    const types: number[] = [];
    if (byMt) byMt.forEach((perOrder, mt) => { for (let i = 0; i < (perOrder[o] ?? 0) && types.length < n; i++) types.push(mt); });
    while (types.length < n) types.push(MigrateType.MOVABLE);
    return types;
  });
}

function placeCounts(g: WasmGuest, zi: number, counts: number[], byMt: number[][] | null): void {
  const z = g.config.zones[zi]!;
  // Counts no zone of this size could hold are refused before anything is laid out (or a list of their types
  // is built: a count of 2^53 would never finish).
  const pages = counts.reduce((a, n, o) => a + n * 2 ** o, 0);
  if (counts.length > NR_ORDERS || pages > z.managed) {
    throw new SimError('BAD_CONFIG', `zone ${z.name}: buddyinfo counts ${counts.join(' ')} add up to ${pages} free pages; the zone manages ${z.managed}`, { zone: z.name, field: 'counts', value: pages });
  }
  const types = typesFor(counts, byMt);
  // used[p - start]: page p already holds a placed free block.
  const used = new Uint8Array(z.endPfn - z.startPfn);
  const placed = new Set<string>();
  const fits = (p: number, n: number) => {
    if (p < z.startPfn || p + n > z.endPfn) return false;
    if (!z.holes.every(([a, b]) => p + n <= a || p >= b)) return false;
    for (let q = p; q < p + n; q++) if (used[q - z.startPfn]) return false;
    return true;
  };
  // Largest blocks first (they need the most aligned room); within an order from the top of the zone for
  // order 10 (they never merge) and from the bottom for the rest. A block never sits beside a free buddy of its
  // own order, so nothing here could have merged.
  for (let o = NR_ORDERS - 1; o >= 0; o--) {
    const size = 2 ** o;
    const n = counts[o] ?? 0;
    const candidates = function* (): Generator<number> {
      const first = Math.ceil(z.startPfn / size) * size;
      const last = Math.floor((z.endPfn - size) / size) * size;
      if (o === NR_ORDERS - 1) for (let p = last; p >= first; p -= size) yield p;
      else for (let p = first; p <= last; p += size) yield p;
    };
    let i = 0;
    for (const p of candidates()) {
      if (i === n) break;
      if (!fits(p, size) || (o < NR_ORDERS - 1 && placed.has(`${p ^ size}/${o}`))) continue;
      const mt = types[o]![i++]!;
      // The pageblock(s) take the block's type so that the free list and the pageblock agree.
      for (let q = p; q < p + Math.max(size, 1); q += 512) g.setPageblockMt(q, mt);
      g.placeFreeBlock(p, o, mt, true, false);
      used.fill(1, p - z.startPfn, p - z.startPfn + size);
      placed.add(`${p}/${o}`);
    }
    if (i < n) {
      throw new SimError('BAD_CONFIG', `zone ${z.name}: ${n} order-${o} blocks do not fit (placed ${i})`, { zone: z.name, order: o, count: n });
    }
  }
}
