// /proc/pagetypeinfo: free blocks per zone, migratetype and order, and the number of pageblocks of each type.
// The formatter reproduces the kernel's text byte for byte (6.1 mm/vmstat.c layout: `%-43s ` header,
// `Node %4d, zone %8s, type %12s ` then `%6lu ` per order; blocks table `\n%-23s` header, `%12s ` per type,
// rows `Node %d, zone %8s ` then `%12lu `).
import { ParseError, checkText } from '../core/errors.js';
import { MIGRATE_NAMES } from '../core/types.js';

export interface PagetypeFreeRow {
  node: number;
  zone: string;
  /** Name as printed (Unmovable, Movable, Reclaimable, HighAtomic, CMA, Isolate). */
  type: string;
  /** The kernel migratetype number of `type` (MigrateType). */
  mt: number;
  /** Free blocks per order. The kernel stops counting a list at 100000 and prints `>100000`; that reads back as
   *  100000, and any count >= 100000 is printed that way again. */
  counts: number[];
}

export interface PagetypeBlockRow {
  node: number;
  zone: string;
  /** Pageblocks per type, in the order of Pagetypeinfo.blockTypes. */
  counts: number[];
}

export interface Pagetypeinfo {
  pageblockOrder: number;
  pagesPerBlock: number;
  /** Number of order columns (11 on x86-64 6.1). */
  orders: number;
  free: PagetypeFreeRow[];
  /** Column names of the blocks table (the migratetypes the kernel was built with). */
  blockTypes: string[];
  blocks: PagetypeBlockRow[];
}

/** The types a 6.1 x86-64 kernel without CONFIG_CMA prints (the real guest's). */
export const PAGETYPE_NAMES_NO_CMA = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const;

const FREE_CAP = 100000;
const FREE_HEADER = 'Free pages count per migrate type at order';
const BLOCKS_HEADER = 'Number of blocks type';
const FREE_ROW = /^Node\s+(\d+),\s+zone\s+(\S+),\s+type\s+(\S+)\s+(.*)$/;
const BLOCK_ROW = /^Node\s+(\d+),\s+zone\s+(\S+)\s+(.*)$/;

function migratetypeOf(file: string, line: number, name: string): number {
  const mt = (MIGRATE_NAMES as readonly string[]).indexOf(name);
  if (mt < 0) throw new ParseError(file, line, `unknown migratetype '${name}' (expected ${MIGRATE_NAMES.join(', ')})`, { field: 'type', value: name });
  return mt;
}

function counts(file: string, line: number, text: string, what: string, allowCap: boolean): number[] {
  return text.trim().split(/\s+/).map((f, i) => {
    const capped = allowCap && f.startsWith('>');
    const digits = capped ? f.slice(1) : f;
    if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) throw new ParseError(file, line, `${what} column ${i}: '${f}' is not a count`, { field: `${what}[${i}]`, value: f });
    return Number(digits);
  });
}

/** Parse /proc/pagetypeinfo text. A trailing "Number of mixed blocks" section (page_owner builds) is skipped. */
export function parsePagetypeinfo(text: string, file = 'pagetypeinfo'): Pagetypeinfo {
  checkText('parsePagetypeinfo', text);
  const info: Pagetypeinfo = { pageblockOrder: NaN, pagesPerBlock: NaN, orders: 0, free: [], blockTypes: [], blocks: [] };
  let section: 'head' | 'free' | 'blocks' | 'skip' = 'head';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const ln = i + 1;
    if (line.trim() === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^Page block order:\s*(\S+)$/.exec(line))) {
      info.pageblockOrder = counts(file, ln, m[1]!, 'Page block order', false)[0]!;
    } else if ((m = /^Pages per block:\s*(\S+)$/.exec(line))) {
      info.pagesPerBlock = counts(file, ln, m[1]!, 'Pages per block', false)[0]!;
    } else if (line.startsWith(FREE_HEADER)) {
      const orders = counts(file, ln, line.slice(FREE_HEADER.length), 'order', false);
      orders.forEach((o, k) => {
        if (o !== k) throw new ParseError(file, ln, `order header column ${k} is ${o}`, { field: 'order', value: o });
      });
      info.orders = orders.length;
      section = 'free';
    } else if (line.startsWith(BLOCKS_HEADER)) {
      info.blockTypes = line.slice(BLOCKS_HEADER.length).trim().split(/\s+/);
      info.blockTypes.forEach((t) => migratetypeOf(file, ln, t));
      section = 'blocks';
    } else if (line.startsWith('Number of mixed blocks')) {
      section = 'skip';
    } else if (section === 'free' && (m = FREE_ROW.exec(line))) {
      const c = counts(file, ln, m[4]!, 'order', true);
      if (c.length !== info.orders) {
        throw new ParseError(file, ln, `zone ${m[2]} type ${m[3]}: ${c.length} orders, header has ${info.orders}`, { field: 'orders', value: c.length });
      }
      info.free.push({ node: Number(m[1]), zone: m[2]!, type: m[3]!, mt: migratetypeOf(file, ln, m[3]!), counts: c });
    } else if (section === 'blocks' && (m = BLOCK_ROW.exec(line))) {
      const c = counts(file, ln, m[3]!, 'blocks', false);
      if (c.length !== info.blockTypes.length) {
        throw new ParseError(file, ln, `zone ${m[2]}: ${c.length} block counts, header has ${info.blockTypes.length} types`, { field: 'blocks', value: c.length });
      }
      info.blocks.push({ node: Number(m[1]), zone: m[2]!, counts: c });
    } else if (section !== 'skip') {
      throw new ParseError(file, ln, `unexpected line '${line}'`, { field: section === 'head' ? 'header' : section, value: line });
    }
  }
  if (Number.isNaN(info.pageblockOrder)) throw new ParseError(file, 1, "no 'Page block order:' line", { field: 'Page block order' });
  if (Number.isNaN(info.pagesPerBlock)) throw new ParseError(file, 1, "no 'Pages per block:' line", { field: 'Pages per block' });
  if (info.pageblockOrder > 30 || info.pagesPerBlock !== 2 ** info.pageblockOrder) {
    throw new ParseError(file, 1, `Pages per block ${info.pagesPerBlock} is not 2^(Page block order ${info.pageblockOrder})`, { field: 'Pages per block', value: info.pagesPerBlock });
  }
  if (info.orders === 0) throw new ParseError(file, 1, `no '${FREE_HEADER}' table`, { field: 'free' });
  return info;
}

/** The free-count part: header and one line per zone and type, as the kernel prints it. */
export function formatPagetypeinfoFree(rows: readonly PagetypeFreeRow[], orders = rows[0]?.counts.length ?? 11): string {
  let out = `${FREE_HEADER.padEnd(43)} `;
  for (let o = 0; o < orders; o++) out += `${String(o).padStart(6)} `;
  out += '\n';
  for (const r of rows) {
    out += `Node ${String(r.node).padStart(4)}, zone ${r.zone.padStart(8)}, type ${r.type.padStart(12)} `;
    for (const c of r.counts) out += c >= FREE_CAP ? `>${FREE_CAP} ` : `${String(c).padStart(6)} `;
    out += '\n';
  }
  return out;
}

/** The "Number of blocks type" table, including its leading blank line. */
export function formatPagetypeinfoBlocks(types: readonly string[], rows: readonly PagetypeBlockRow[]): string {
  let out = `\n${`${BLOCKS_HEADER} `.padEnd(23)}`;
  for (const t of types) out += `${t.padStart(12)} `;
  out += '\n';
  for (const r of rows) {
    out += `Node ${r.node}, zone ${r.zone.padStart(8)} `;
    for (const c of r.counts) out += `${String(c).padStart(12)} `;
    out += '\n';
  }
  return out;
}

/** The whole file; byte-identical to the kernel's for the same content (the mixed-blocks section is not printed). */
export function formatPagetypeinfo(info: Pagetypeinfo): string {
  let out = `Page block order: ${info.pageblockOrder}\nPages per block:  ${info.pagesPerBlock}\n\n`;
  out += formatPagetypeinfoFree(info.free, info.orders);
  if (info.blockTypes.length) out += formatPagetypeinfoBlocks(info.blockTypes, info.blocks);
  return out;
}

/** Free-count rows from a simulator read-out `counts[z][mt][order]` (mt = MigrateType), printing `types`. */
export function pagetypeFreeRows(
  zones: ReadonlyArray<{ name: string }>, counts: number[][][], types: readonly string[] = PAGETYPE_NAMES_NO_CMA, node = 0,
): PagetypeFreeRow[] {
  const rows: PagetypeFreeRow[] = [];
  zones.forEach((z, zi) => {
    for (const type of types) {
      const mt = (MIGRATE_NAMES as readonly string[]).indexOf(type);
      rows.push({ node, zone: z.name, type, mt, counts: [...(counts[zi]?.[mt] ?? [])] });
    }
  });
  return rows;
}

/** `[mt][order]` free counts of one zone (all six migratetypes; types the file does not print are zero). */
export function pagetypeCounts(info: Pagetypeinfo, zone: string, node = 0): number[][] {
  const out = MIGRATE_NAMES.map(() => new Array<number>(info.orders).fill(0));
  for (const r of info.free) if (r.zone === zone && r.node === node) out[r.mt] = [...r.counts];
  return out;
}
