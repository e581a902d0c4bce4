// /proc/buddyinfo: nr_free per order for every populated zone. The formatter prints the kernel's exact text
// (`Node %d, zone %8s ` then `%6lu ` per order, then a newline), so simulator output diffs cleanly against a
// real guest's file.
import { ParseError, checkText } from '../core/errors.js';
import { NR_ORDERS } from '../core/types.js';

export interface BuddyinfoRow {
  node: number;
  zone: string;
  /** Free blocks per order, orders 0..counts.length-1 (11 on x86-64 6.1). */
  counts: number[];
}

const ROW = /^Node\s+(\d+),\s+zone\s+(\S+)\s+(.*)$/;

/**
 * Parse /proc/buddyinfo text: at least one row, each with exactly `orders` counts (11 on x86-64: orders 0..10,
 * which is what the simulator models).
 */
export function parseBuddyinfo(text: string, file = 'buddyinfo', orders = NR_ORDERS): BuddyinfoRow[] {
  checkText('parseBuddyinfo', text);
  const rows: BuddyinfoRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = ROW.exec(line);
    if (!m) throw new ParseError(file, i + 1, `expected 'Node N, zone NAME counts...', got '${line}'`, { field: 'row', value: line });
    const fields = m[3]!.trim().split(/\s+/);
    const counts = fields.map((f, order) => {
      const v = Number(f);
      if (!/^\d+$/.test(f) || !Number.isSafeInteger(v)) {
        throw new ParseError(file, i + 1, `zone ${m[2]} order ${order}: '${f}' is not a count`, { field: `order${order}`, value: f, zone: m[2] });
      }
      return v;
    });
    if (counts.length !== orders) {
      throw new ParseError(file, i + 1, `zone ${m[2]} has ${counts.length} counts, expected ${orders} (orders 0..${orders - 1})`, { field: 'orders', value: counts.length, zone: m[2] });
    }
    const node = Number(m[1]);
    if (!Number.isSafeInteger(node)) throw new ParseError(file, i + 1, `node '${m[1]}' is not a node number`, { field: 'node', value: m[1] });
    rows.push({ node, zone: m[2]!, counts });
  }
  if (!rows.length) throw new ParseError(file, 1, 'no rows: the file is empty (a /proc/buddyinfo has a row per populated zone)', { field: 'row', value: '' });
  return rows;
}

/** Byte-identical to the kernel's /proc/buddyinfo for the same rows. */
export function formatBuddyinfo(rows: readonly BuddyinfoRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `Node ${r.node}, zone ${r.zone.padStart(8)} `;
    for (const c of r.counts) out += `${String(c).padStart(6)} `;
    out += '\n';
  }
  return out;
}

/** Rows from a simulator read-out: `counts[z][order]` for zones named in the same order (node 0). */
export function buddyinfoRows(zones: ReadonlyArray<{ name: string }>, counts: number[][], node = 0): BuddyinfoRow[] {
  return zones.map((z, i) => ({ node, zone: z.name, counts: [...(counts[i] ?? [])] }));
}
