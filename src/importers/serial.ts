// The /proc records a recording guest prints on its console (serial.log): `@B t zone c0..c10` (a
// /proc/buddyinfo row) and `@P t zone migratetype c0..c10` (pagetypeinfo's free counts), every half second; the
// rows of one moment share its time. Browser-safe: it takes lines already read (run.ts reads the file).
import { MIGRATE_NAMES, NR_ORDERS, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES } from '../core/types.js';
import type { BuddyinfoRow } from './buddyinfo.js';
import type { Pagetypeinfo } from './pagetypeinfo.js';

/** One console line: host seconds and the text; guest records start with `@X <t_guest_s>`. */
export interface SerialLine {
  tHost: number;
  text: string;
  /** For `@X t ...` records: X, the guest time and the remaining fields. */
  record?: { kind: string; tGuest: number; fields: string[] };
}

export interface SerialProcSnapshot { t: number; buddyinfo: BuddyinfoRow[]; pagetypeinfo: Pagetypeinfo }

/** Every moment with `@B` rows, in time order, with its buddyinfo rows and pagetypeinfo free counts. */
export function serialProcSnapshots(lines: readonly SerialLine[]): SerialProcSnapshot[] {
  const at = new Map<number, { buddyinfo: BuddyinfoRow[]; pagetypeinfo: Pagetypeinfo }>();
  const get = (t: number) => {
    let s = at.get(t);
    if (!s) at.set(t, (s = { buddyinfo: [], pagetypeinfo: { pageblockOrder: PAGEBLOCK_ORDER, pagesPerBlock: PAGEBLOCK_PAGES, orders: NR_ORDERS, free: [], blockTypes: [], blocks: [] } }));
    return s;
  };
  for (const l of lines) {
    const r = l.record;
    if (r?.kind === 'B' && r.fields.length >= 2) {
      get(r.tGuest).buddyinfo.push({ node: 0, zone: r.fields[0]!, counts: r.fields.slice(1).map(Number) });
    } else if (r?.kind === 'P' && r.fields.length >= 3) {
      const mt = (MIGRATE_NAMES as readonly string[]).indexOf(r.fields[1]!);
      if (mt >= 0) get(r.tGuest).pagetypeinfo.free.push({ node: 0, zone: r.fields[0]!, type: r.fields[1]!, mt, counts: r.fields.slice(2).map(Number) });
    }
  }
  // A moment cut short (a row with a missing count) is no snapshot.
  return [...at.entries()].filter(([, s]) => s.buddyinfo.length && s.buddyinfo.every((b) => b.counts.length === NR_ORDERS && b.counts.every(Number.isFinite)))
    .map(([t, s]) => ({ t, ...s })).sort((a, b) => a.t - b.t);
}
