// The one reader of the wasm core's linear memory and of its result codes. Every offset, field, bit and code
// comes by name from layout.generated.ts, which `npm run asbuild` makes from assembly/layout.ts: the layout is
// written once, there. WasmGuest (guest.ts) reads a guest through CoreMemory; the page's memory map reads the
// zero-copy PageViews through the page functions below. Nothing outside src/core reads the memory itself.
import type { CoreInstance } from './wasm.js';
import { SimError, type SimErrorCode } from './errors.js';
import type { PfnKind } from './types.js';
import {
  NIL, NR_ORDERS, MIGRATE_TYPES, MAX_ZONES, PAGEBLOCK_ORDER, PAGES_START, PAGE_DESC_SIZE, PAGE_NEXT, PAGE_WORD,
  PAGE_FLAGS, PAGE_ORDER, WORD_FLAGS_SHIFT, WORD_ORDER_SHIFT, WORD_MT_SHIFT, WORD_ZONE_SHIFT, WORD_FIELD_MASK,
  NO_ZONE, EXT_HOST_MASK, EXT_CPU_SHIFT, HOST_RESIDENT, PG_BUDDY, PG_REPORTED, PG_ALLOCATED, PG_INFLIGHT, PG_PCP,
  PG_HOLE, PG_KIND_MASK, FREE_LIST_START, LIST_HEAD_SIZE, NR_FREE_START, ZONES_START, ZONE_SIZE, ZONE_NR_FREE_PAGES,
  PCP_START, PCP_SIZE, PCP_COUNT, PCP_LISTS, BATCH_START, SLOT_SIZE, SLOT_PFN, SLOT_ORDER, OPS_START, OP_SIZE,
  OPS_CAPACITY, OP_KIND, OP_A, OP_B, OP_RESULT, OP_ORDER_SHIFT, OP_MT_SHIFT, OP_FLAGS_SHIFT, OP_ZONE_SHIFT, OP_CPU_SHIFT,
  OUT_START, OUT_NOTIFY, OUT_SAMPLE, SAMPLE_FREE_PAGES, SAMPLE_INFLIGHT, SAMPLE_ALLOCATED, SAMPLE_RSS,
  SAMPLE_REFAULTS, W1_WORDS, FREE_RESULT_PCP, FREE_RESULT_ORDER_MASK, E_NOT_ALLOCATED, E_WRONG_ORDER, E_BAD_ORDER,
  E_MISALIGNED, E_OUT_OF_RANGE, E_HOLE, E_BAD_MT, E_BAD_ZONE, E_BAD_CPU, E_NOT_FREE, E_NOT_INFLIGHT, E_BAD_STATE,
  E_BAD_OP, INV_ORPHAN, INV_BAD_HEAD, INV_BLOCK_OVERLAP, INV_REPORTED_NOT_FREE, INV_KIND_BITS, INV_LIST_ENTRY,
  INV_LIST_LINKS, INV_NR_FREE, INV_FREE_PAGES, INV_LISTED, INV_PCP, INV_ALLOCATED, INV_INFLIGHT, INV_HOLE, INV_ZONE,
} from './layout.generated.js';

// --- the state word: flags | order | mt | zone, one byte each ---

export function flagsOf(word: number): number { return (word >>> WORD_FLAGS_SHIFT) & WORD_FIELD_MASK; }
export function orderOf(word: number): number { return (word >>> WORD_ORDER_SHIFT) & WORD_FIELD_MASK; }
export function mtOf(word: number): number { return (word >>> WORD_MT_SHIFT) & WORD_FIELD_MASK; }
/** The zone of a pfn's state word, -1 for a pfn outside every zone. */
export function zoneOf(word: number): number {
  const z = (word >>> WORD_ZONE_SHIFT) & WORD_FIELD_MASK;
  return z === NO_ZONE ? -1 : z;
}
/** A head carries exactly one kind bit; the other pages of a block (and holes) carry none. */
export function isHead(flags: number): boolean { return (flags & PG_KIND_MASK) !== 0; }
export function isReported(flags: number): boolean { return (flags & PG_REPORTED) !== 0; }
/** What a head is, from its flags ('hole' for a page that is no head). */
export function kindOf(flags: number): PfnKind {
  if (flags & PG_BUDDY) return 'free';
  if (flags & PG_ALLOCATED) return 'allocated';
  if (flags & PG_INFLIGHT) return 'inflight';
  if (flags & PG_PCP) return 'pcp';
  return 'hole';
}

// --- result codes ---

const ERRORS: Record<number, [SimErrorCode, string]> = {
  [E_NOT_ALLOCATED]: ['NOT_ALLOCATED', 'is not the head of an allocated block (double free, or never allocated)'],
  [E_WRONG_ORDER]: ['WRONG_ORDER', 'was allocated with a different order'],
  [E_BAD_ORDER]: ['BAD_ORDER', 'order must be 0..10'],
  [E_MISALIGNED]: ['MISALIGNED', 'is not aligned to 2^order'],
  [E_OUT_OF_RANGE]: ['PFN_OUT_OF_RANGE', 'is outside the guest'],
  [E_HOLE]: ['PFN_IN_HOLE', 'is in a hole (no memory there)'],
  [E_BAD_MT]: ['BAD_MIGRATETYPE', 'unknown or unusable migratetype'],
  [E_BAD_ZONE]: ['BAD_ZONE', 'no such zone'],
  [E_BAD_CPU]: ['BAD_CPU', 'no such cpu'],
  [E_NOT_FREE]: ['NOT_FREE', 'is not a free block of that order'],
  [E_NOT_INFLIGHT]: ['NOT_INFLIGHT', 'is not an isolated block of that order'],
  [E_BAD_STATE]: ['BAD_STATE', 'operation not allowed now'],
  [E_BAD_OP]: ['BAD_STATE', 'unknown batch operation kind'],
};

/** The SimError for one of the core's negative results (E_* of assembly/layout.ts). */
export function errorFor(code: number, what: string, details: Record<string, unknown>): SimError {
  const [c, text] = ERRORS[code] ?? (['BAD_STATE', `error ${code}`] as [SimErrorCode, string]);
  return new SimError(c, `${what}: ${text}`, { ...details, code: c });
}

const INVARIANTS: Record<number, string> = {
  [INV_ORPHAN]: 'present pfn inside no block', [INV_BAD_HEAD]: 'misaligned or bad-order head',
  [INV_BLOCK_OVERLAP]: 'block crosses a zone end or another head',
  [INV_REPORTED_NOT_FREE]: 'Reported on a page that is not a free head', [INV_KIND_BITS]: 'more than one kind bit',
  [INV_LIST_ENTRY]: 'list entry is not a free head of the list', [INV_LIST_LINKS]: 'free list links broken',
  [INV_NR_FREE]: 'nr_free differs from list lengths', [INV_FREE_PAGES]: 'NR_FREE_PAGES differs from the lists',
  [INV_LISTED]: 'free or per-cpu head on no list or on two', [INV_PCP]: 'per-cpu list broken or count mismatch',
  [INV_ALLOCATED]: 'allocated page count differs', [INV_INFLIGHT]: 'in-flight page count differs',
  [INV_HOLE]: 'hole carries a kind bit', [INV_ZONE]: 'zone byte differs from zone ranges',
};

/** What checkInvariants' code means (INV_* of assembly/layout.ts). */
export function invariantMessage(code: number): string {
  return INVARIANTS[code] ?? 'unknown';
}

/** A free's result: the final order, and whether the block went to a per-cpu list. */
export function decodeFreeResult(r: number): { order: number; toPcp: boolean } {
  return { order: r & FREE_RESULT_ORDER_MASK, toPcp: (r & FREE_RESULT_PCP) !== 0 };
}

// --- the batch buffer: ops of OP_SIZE bytes (kind, a, b, result), seen as u32 words ---

export const OP_WORDS = OP_SIZE >> 2;
/** Word indexes inside an op of opsView(). */
export const OP_KIND_WORD = OP_KIND >> 2, OP_A_WORD = OP_A >> 2, OP_B_WORD = OP_B >> 2, OP_RESULT_WORD = OP_RESULT >> 2;
/** Write op i of an opsView(): its kind (OP_*) and operands; the result word is the core's to write. */
export function writeOp(ops: Uint32Array, i: number, kind: number, a: number, b: number): void {
  const at = i * OP_WORDS;
  ops[at + OP_KIND_WORD] = kind;
  ops[at + OP_A_WORD] = a;
  ops[at + OP_B_WORD] = b;
}
export function opKind(ops: Uint32Array, i: number): number { return ops[i * OP_WORDS + OP_KIND_WORD]!; }
/** The result the core wrote for op i: a pfn, a free's result, or an E_* code (negative). */
export function opResult(ops: Uint32Array, i: number): number { return ops[i * OP_WORDS + OP_RESULT_WORD]! | 0; }
/** The `a` of an OP_ALLOC. */
export function opAllocArg(order: number, mt: number, highestZone: number, cpu: number): number {
  return ((order << OP_ORDER_SHIFT) | (mt << OP_MT_SHIFT) | (highestZone << OP_ZONE_SHIFT) | (cpu << OP_CPU_SHIFT)) >>> 0;
}
/** The `b` of an OP_FREE or OP_FREE_RANGE (flags: FREE_*). */
export function opFreeArg(order: number, flags: number, cpu: number): number {
  return ((order << OP_ORDER_SHIFT) | (flags << OP_FLAGS_SHIFT) | (cpu << OP_CPU_SHIFT)) >>> 0;
}

// --- zero-copy views of the pages, for pictures of memory ---

/** Byte offsets of a page descriptor's fields, and the bits of its cold byte. */
export interface DescriptorLayout { size: number; flags: number; order: number; extHostMask: number; extCpuShift: number }
/** Zero-copy views of every page's descriptor and cold byte, with their layout (for pictures of memory). */
export interface PageViews { desc: Uint8Array; ext: Uint8Array; layout: DescriptorLayout }

export const DESCRIPTOR_LAYOUT: DescriptorLayout = Object.freeze({
  size: PAGE_DESC_SIZE, flags: PAGE_FLAGS, order: PAGE_ORDER, extHostMask: EXT_HOST_MASK, extCpuShift: EXT_CPU_SHIFT,
});

/** The flags byte of a pfn's descriptor. */
export function pageFlags(v: PageViews, pfn: number): number { return v.desc[pfn * PAGE_DESC_SIZE + PAGE_FLAGS]!; }
/** The order byte of a pfn's descriptor (the block's order on a head). */
export function pageOrder(v: PageViews, pfn: number): number { return v.desc[pfn * PAGE_DESC_SIZE + PAGE_ORDER]!; }
/** Is the host page that starts at `hostPfn` resident (its state is in that pfn's cold byte)? */
export function hostResidentAt(v: PageViews, hostPfn: number): boolean {
  return (v.ext[hostPfn]! & EXT_HOST_MASK & HOST_RESIDENT) !== 0;
}

/** One sample of a guest's counters (WasmGuest.sample). */
export interface GuestSample {
  freeByOrder: number[]; freePages: number; inflightPages: number; allocatedPages: number; rssPages: number; refaults: number;
}

/** Where a batch of frees first fails the allocated-head test, and whether it is strictly ordered. */
export interface BatchScan {
  /** Index of the first bad pfn, or -1. */
  index: number;
  /** Its E_* code. */
  code: number;
  /** Strictly ascending or descending up to there (so no pfn can appear twice in it). */
  monotone: boolean;
}

/** Typed reads of one guest's linear memory (private to src/core: WasmGuest is the facade). */
export class CoreMemory {
  constructor(private readonly core: CoreInstance, private readonly maxPfn: number) {}

  // --- pages ---

  /** The state word of a pfn: flags | order | mt | zone. */
  word(pfn: number): number {
    return this.core.u32[((PAGES_START + PAGE_WORD) >> 2) + pfn * (PAGE_DESC_SIZE >> 2)]!;
  }
  /** The cpu of a per-cpu page (its cold byte). */
  cpuOf(pfn: number): number {
    return this.core.u8[this.core.global('pageExtStart') + pfn]! >> EXT_CPU_SHIFT;
  }
  pageblockMt(pfn: number): number {
    return this.core.u8[this.core.global('pageblockStart') + Math.floor(pfn / 2 ** PAGEBLOCK_ORDER)]!;
  }

  /**
   * freeBulk's first pass: each pfn on its own must be an allocated head of `order` (the state word's low bytes
   * say so), and the scan notes whether the batch is strictly ordered. Reads words straight from the view: this
   * loop runs once per freed block.
   */
  scanAllocatedHeads(pfns: ArrayLike<number>, order: number): BatchScan {
    const u32 = this.core.u32;
    const wordBase = (PAGES_START + PAGE_WORD) >> 2;
    const descWords = PAGE_DESC_SIZE >> 2;
    const maxPfn = this.maxPfn;
    const mask = 2 ** order - 1;
    // An allocated head of `order` has exactly these flags and order bytes.
    const lowBytes = (1 << (WORD_ORDER_SHIFT + 8)) - 1;
    const want = (PG_ALLOCATED << WORD_FLAGS_SHIFT) | (order << WORD_ORDER_SHIFT);
    const reported = PG_REPORTED << WORD_FLAGS_SHIFT;
    const typed = pfns instanceof Uint32Array;
    let up = true, down = true, prev = -1;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      if (pfn >= maxPfn || (!typed && !(Number.isInteger(pfn) && pfn >= 0))) return { index: i, code: E_OUT_OF_RANGE, monotone: up || down };
      const w = u32[wordBase + pfn * descWords]! & lowBytes;
      if ((w & ~reported) !== want || (pfn & mask) !== 0) {
        const flags = flagsOf(w);
        const code = (pfn & mask) !== 0 ? E_MISALIGNED : (flags & PG_HOLE) !== 0 ? E_HOLE
          : (flags & PG_KIND_MASK) !== PG_ALLOCATED ? E_NOT_ALLOCATED : E_WRONG_ORDER;
        return { index: i, code, monotone: up || down };
      }
      if (i > 0) {
        up &&= pfn > prev;
        down &&= pfn < prev;
      }
      prev = pfn;
    }
    return { index: -1, code: 0, monotone: up || down };
  }

  // --- lists ---

  freeListLength(zone: number, order: number, mt: number): number {
    return this.walk(freeListAddr(zone, order, mt), null);
  }
  freeList(zone: number, order: number, mt: number): number[] {
    const out: number[] = [];
    this.walk(freeListAddr(zone, order, mt), out);
    return out;
  }
  pcpList(cpu: number, zone: number, pindex: number): number[] {
    const out: number[] = [];
    this.walk(pcpListAddr(cpu, zone, pindex), out);
    return out;
  }
  /** The first page of a per-cpu list, or -1 when it is empty. */
  pcpListHead(cpu: number, zone: number, pindex: number): number {
    const p = this.core.u32[pcpListAddr(cpu, zone, pindex) >> 2]!;
    return p === NIL ? -1 : p;
  }
  /** Pages on one cpu's per-cpu lists of a zone. */
  pcpCount(cpu: number, zone: number): number {
    return this.core.i32[(pcpAddr(cpu, zone) + PCP_COUNT) >> 2]!;
  }

  /** Walk a list from its head (a list head's first word): its length, its pfns into `out` when given. */
  private walk(listAddr: number, out: number[] | null): number {
    const u32 = this.core.u32;
    const nextBase = (PAGES_START + PAGE_NEXT) >> 2;
    const descWords = PAGE_DESC_SIZE >> 2;
    let n = 0;
    for (let p = u32[listAddr >> 2]!; p !== NIL; p = u32[nextBase + p * descWords]!) {
      out?.push(p);
      n++;
    }
    return n;
  }

  // --- counts ---

  /** free_area[order].nr_free of a zone. */
  nrFree(zone: number, order: number): number {
    return this.core.u32[(NR_FREE_START >> 2) + zone * NR_ORDERS + order]!;
  }
  /** NR_FREE_PAGES of a zone. */
  zoneFreePages(zone: number): number {
    return this.core.i32[(ZONES_START + zone * ZONE_SIZE + ZONE_NR_FREE_PAGES) >> 2]!;
  }
  /** Frees that reached the reporting order since the count was last taken. */
  notifications(): number {
    return this.core.u32[(OUT_START >> 2) + OUT_NOTIFY]!;
  }
  /** notifications(), and the count starts again (in memory: no call into wasm). */
  takeNotifications(): number {
    const u32 = this.core.u32;
    const i = (OUT_START >> 2) + OUT_NOTIFY;
    const n = u32[i]!;
    if (n !== 0) u32[i] = 0;
    return n;
  }
  /** What sampleCounters() wrote. */
  sample(): GuestSample {
    const u32 = this.core.u32;
    const base = (OUT_START >> 2) + OUT_SAMPLE;
    const freeByOrder = new Array<number>(NR_ORDERS);
    for (let o = 0; o < NR_ORDERS; o++) freeByOrder[o] = u32[base + o]!;
    return {
      freeByOrder, freePages: u32[base + SAMPLE_FREE_PAGES]!, inflightPages: u32[base + SAMPLE_INFLIGHT]!,
      allocatedPages: u32[base + SAMPLE_ALLOCATED]!, rssPages: u32[base + SAMPLE_RSS]!, refaults: u32[base + SAMPLE_REFAULTS]!,
    };
  }
  /** The W1 result line w1Run wrote. */
  w1Result(): number[] {
    const base = OUT_START >> 2;
    return Array.from(this.core.u32.subarray(base, base + W1_WORDS));
  }

  // --- the report batch and the op buffer ---

  /** Slots [offset, offset + n) of the scatterlist as (pfn, order) pairs. */
  reportBatch(offset: number, n: number): Array<[number, number]> {
    const u32 = this.core.u32;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const s = (BATCH_START + (offset + i) * SLOT_SIZE) >> 2;
      out.push([u32[s + (SLOT_PFN >> 2)]!, u32[s + (SLOT_ORDER >> 2)]!]);
    }
    return out;
  }
  /** Zero-copy view of slots [offset, offset + n): pfn, order, pfn, order, ... */
  reportBatchView(offset: number, n: number): Uint32Array {
    return new Uint32Array(this.core.memory.buffer, BATCH_START + offset * SLOT_SIZE, (n * SLOT_SIZE) >> 2);
  }
  /** Zero-copy view of the op buffer: OP_WORDS words an op. */
  opsView(): Uint32Array {
    return new Uint32Array(this.core.memory.buffer, OPS_START, OPS_CAPACITY * OP_WORDS);
  }
  /** Zero-copy view of the first n pfns of allocBulk's and freeBulk's buffer (the op buffer's memory). */
  bulkView(n: number): Uint32Array {
    return new Uint32Array(this.core.memory.buffer, OPS_START, n);
  }

  // --- zero-copy views of the pages ---

  pageDescriptors(): Uint8Array {
    return new Uint8Array(this.core.memory.buffer, PAGES_START, this.maxPfn * PAGE_DESC_SIZE);
  }
  pageExtView(): Uint8Array {
    return new Uint8Array(this.core.memory.buffer, this.core.global('pageExtStart'), this.maxPfn);
  }
  pageViews(): PageViews {
    return { desc: this.pageDescriptors(), ext: this.pageExtView(), layout: DESCRIPTOR_LAYOUT };
  }
  pageblockView(): Uint8Array {
    return new Uint8Array(this.core.memory.buffer, this.core.global('pageblockStart'), Math.floor(this.maxPfn / 2 ** PAGEBLOCK_ORDER) + 1);
  }
}

function freeListAddr(zone: number, order: number, mt: number): number {
  return FREE_LIST_START + ((zone * NR_ORDERS + order) * MIGRATE_TYPES + mt) * LIST_HEAD_SIZE;
}
function pcpAddr(cpu: number, zone: number): number {
  return PCP_START + (cpu * MAX_ZONES + zone) * PCP_SIZE;
}
function pcpListAddr(cpu: number, zone: number, pindex: number): number {
  return pcpAddr(cpu, zone) + PCP_LISTS + pindex * LIST_HEAD_SIZE;
}
