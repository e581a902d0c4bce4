// /proc/kpageflags (one little-endian u64 of KPF_* bits per pfn, from pfn 0) → the free blocks of the buddy
// allocator and their Reported state.
//
// In 6.1 KPF_BUDDY is set on every page of a free block, not only on the head, so a dump shows runs of free
// pages, not blocks. Buddies always merge, so a free block is the largest aligned power-of-two piece of its run:
// splitting every run greedily into maximal aligned blocks (never across a zone boundary, at most order 10)
// recovers the blocks. Reported is PG_reported, which aliases PG_uptodate: KPF_UPTODATE on the head.
// Pages on per-cpu lists are not Buddy and so are invisible here.
import { ParseError, SimError } from '../core/errors.js';
import { MAX_ORDER_INCLUSIVE, NR_ORDERS } from '../core/types.js';

export const KPF_UPTODATE = 3;
export const KPF_BUDDY = 10;
const BYTES_PER_PFN = 8;

export interface FreeBlock {
  pfn: number;
  order: number;
  reported: boolean;
}

export interface KpageflagsBlocks {
  blocks: FreeBlock[];
  /** Pfns in the dump (bytes / 8). */
  pfns: number;
  freePages: number;
  /** Free blocks per order. */
  byOrder: number[];
  /** Reported free blocks per order. */
  reportedByOrder: number[];
}

export interface DecodeOptions {
  /** Half-open [start, end) pfn ranges of the zones; blocks never cross their boundaries. */
  zoneBounds?: ReadonlyArray<readonly [number, number]>;
  /** Highest block order (default 10). */
  maxOrder?: number;
  /** Name used in errors. */
  file?: string;
}

const MAX_GUNZIP_BYTES = 2 ** 31;

/** True when the bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzip with node:zlib when the bytes are gzip'd, else return them as they are. The module is reached through
 * process.getBuiltinModule so this file imports nothing from Node and bundles for a browser; there, decompress
 * with DecompressionStream('gzip') first and pass the raw bytes.
 */
export function gunzipIfNeeded(bytes: Uint8Array, file = 'kpageflags'): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as typeof import('node:zlib') | undefined;
  if (!zlib) throw new ParseError(file, 0, 'gzip input needs node:zlib; decompress it first (DecompressionStream) and pass the raw bytes', { field: 'encoding', value: 'gzip' });
  try {
    // A dump of the largest guest the simulator holds is 8 bytes x 2^28 pfns; more is a gzip bomb, not a dump.
    return zlib.gunzipSync(bytes, { maxOutputLength: MAX_GUNZIP_BYTES });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new ParseError(file, 0, `gzip data expands to more than ${MAX_GUNZIP_BYTES / 2 ** 30} GiB`, { field: 'encoding', value: 'gzip' });
    throw new ParseError(file, 0, `gzip data is corrupt: ${(e as Error).message}`, { field: 'encoding', value: 'gzip' });
  }
}

/**
 * Split the free run [start, end) into maximal aligned blocks: at each pfn take the largest order its alignment
 * allows (capped at maxOrder) that still fits in the run. E.g. [288, 1024) → 288/5, 320/6, 384/7, 512/9.
 * Zone boundaries cut the run first, since buddies of different zones never merge.
 */
export function splitFreeRun(
  start: number, end: number, zoneBounds: ReadonlyArray<readonly [number, number]> = [], maxOrder = MAX_ORDER_INCLUSIVE,
): Array<[number, number]> {
  const cuts = new Set<number>();
  for (const [a, b] of zoneBounds) {
    if (a > start && a < end) cuts.add(a);
    if (b > start && b < end) cuts.add(b);
  }
  const edges = [start, ...[...cuts].sort((x, y) => x - y), end];
  const out: Array<[number, number]> = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    let pfn = edges[k]!;
    const stop = edges[k + 1]!;
    while (pfn < stop) {
      let order = 0;
      // Grow while pfn stays aligned and the bigger block still fits.
      while (order < maxOrder && pfn % (2 ** (order + 1)) === 0 && pfn + 2 ** (order + 1) <= stop) order++;
      out.push([pfn, order]);
      pfn += 2 ** order;
    }
  }
  return out;
}

/** Decode a raw or gzip'd kpageflags dump into free blocks, ascending by pfn. */
export function decodeKpageflags(input: Uint8Array, opts: DecodeOptions = {}): KpageflagsBlocks {
  const file = opts.file ?? 'kpageflags';
  if (!(input instanceof Uint8Array)) throw new SimError('BAD_ARGUMENT', 'decodeKpageflags: expected the dump as a Uint8Array', { field: 'input' });
  const bytes = gunzipIfNeeded(input, file);
  if (bytes.length === 0) throw new ParseError(file, 0, 'empty: a kpageflags dump has 8 bytes for every pfn from 0', { field: 'length', value: 0 });
  if (bytes.length % BYTES_PER_PFN !== 0) {
    throw new ParseError(file, 0, `length ${bytes.length} is not a multiple of ${BYTES_PER_PFN} bytes`, { field: 'length', value: bytes.length });
  }
  const maxOrder = opts.maxOrder ?? MAX_ORDER_INCLUSIVE;
  const pfns = bytes.length / BYTES_PER_PFN;
  // KPF_BUDDY (bit 10) lives in byte 1 of each little-endian word, KPF_UPTODATE (bit 3) in byte 0.
  const buddyByte = KPF_BUDDY >> 3, buddyMask = 1 << (KPF_BUDDY & 7);
  const uptodateByte = KPF_UPTODATE >> 3, uptodateMask = 1 << (KPF_UPTODATE & 7);
  const isBuddy = (p: number) => (bytes[p * BYTES_PER_PFN + buddyByte]! & buddyMask) !== 0;
  const blocks: FreeBlock[] = [];
  const byOrder = new Array<number>(Math.max(NR_ORDERS, maxOrder + 1)).fill(0);
  const reportedByOrder = byOrder.slice();
  let freePages = 0;
  let p = 0;
  while (p < pfns) {
    if (!isBuddy(p)) {
      p++;
      continue;
    }
    const start = p;
    while (p < pfns && isBuddy(p)) p++;
    freePages += p - start;
    for (const [pfn, order] of splitFreeRun(start, p, opts.zoneBounds, maxOrder)) {
      const reported = (bytes[pfn * BYTES_PER_PFN + uptodateByte]! & uptodateMask) !== 0;
      blocks.push({ pfn, order, reported });
      byOrder[order]!++;
      if (reported) reportedByOrder[order]!++;
    }
  }
  return { blocks, pfns, freePages, byOrder, reportedByOrder };
}
