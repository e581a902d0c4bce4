// Every constant and offset of the simulator's linear memory, in one place.
//
// Linear memory stands in for the kernel's struct page array and the zone structures:
//
//   0            ┌───────────────────────────────┐
//                │ AssemblyScript static data    │  (< REGION_BASE, checked at setup)
//   REGION_BASE  ├───────────────────────────────┤
//                │ Zone[MAX_ZONES]               │  ZONE_SIZE bytes each
//   FREE_LIST_   ├───────────────────────────────┤
//                │ ListHead[zone][order][mt]     │  free_area[order].free_list[mt]: head, tail pfn
//   NR_FREE_     ├───────────────────────────────┤
//                │ u32[zone][order]              │  free_area[order].nr_free
//   PCP_         ├───────────────────────────────┤
//                │ Pcp[cpu][zone]                │  count, freeFactor, lists[NR_PCP_LISTS]
//   BATCH_       ├───────────────────────────────┤
//                │ ReportSlot[MAX_CAPACITY]      │  the report scatterlist: pfn, order
//   OPS_         ├───────────────────────────────┤
//                │ Op[OPS_CAPACITY]              │  the batch operation buffer
//   OUT_         ├───────────────────────────────┤
//                │ u32[OUT_WORDS]                │  multi-value results (read-outs, W1 result)
//   PAGES_START  ├───────────────────────────────┤
//                │ Page[maxPfn]                  │  12 bytes a pfn (below)
//   pageExtStart ├───────────────────────────────┤
//                │ u8[maxPfn]                    │  the page's cold byte: host state, cpu (below)
//   pageblockStart├──────────────────────────────┤
//                │ u8[maxPfn >> PAGEBLOCK_ORDER] │  pageblock migratetype
//   scratchStart ├───────────────────────────────┤
//                │ workload scratch (W1 live list), grown on demand
//                └───────────────────────────────┘
//
// A page descriptor (struct page), 12 bytes: what the allocator's hot paths read and write, and nothing else.
//
//   0        4        8     9     10    11
//   ┌────────┬────────┬─────┬─────┬─────┬─────┐
//   │ next   │ prev   │flags│order│ mt  │zone │
//   └────────┴────────┴─────┴─────┴─────┴─────┘
//
// and beside it, in its own array, the page's cold byte (read and written off the hot paths):
//
//   bit 7          2 1    0
//   ┌──────────────┬──────┐
//   │ cpu          │ host │
//   └──────────────┴──────┘
//
// 12 + 1 bytes a pfn (a 16-byte descriptor would cap a wasm32 guest below 1 TiB). A descriptor at pfn * 12 keeps
// every field 4-byte aligned; 5.3 descriptors share a 64-byte cache line, against 4 at 16 bytes.
//
// next/prev link a head into one free list or per-cpu list. flags/order/mt/zone form one u32 word ("state
// word") so the hot "is my buddy a free head of this order in my zone" test is one load and one compare.
// mt means: the list's migratetype while free (so deletion finds the list), the allocation migratetype while
// allocated (needed by the fallback's `alike` count), the pageblock migratetype recorded at a per-cpu free, the
// list migratetype at isolation. Only heads carry kind bits; the other pages of a block have flags 0, so the
// block containing any pfn is found by testing the aligned candidates pfn & ~(2^o - 1), o = 0..10.
// host (cold byte) holds the host-side state of the host page that starts at this pfn (resident, discarded);
// cpu (cold byte) is the cpu whose per-cpu list holds a PG_PCP head.

// --- geometry ---
export const NR_ORDERS: u32 = 11;
export const MAX_ORDER: u32 = 10; // inclusive, as linux-next's MAX_PAGE_ORDER
export const PAGEBLOCK_ORDER: u32 = 9;
export const PAGEBLOCK_PAGES: u32 = 1 << PAGEBLOCK_ORDER;
export const MAX_ZONES: u32 = 4;
export const MAX_CPUS: u32 = 64;
export const NIL: u32 = 0xffffffff;

// --- migratetypes ---
export const MT_UNMOVABLE: u32 = 0;
export const MT_MOVABLE: u32 = 1;
export const MT_RECLAIMABLE: u32 = 2;
export const MT_HIGHATOMIC: u32 = 3;
export const MT_CMA: u32 = 4;
export const MT_ISOLATE: u32 = 5;
export const MIGRATE_TYPES: u32 = 6;
export const MIGRATE_PCPTYPES: u32 = 3;

// --- page descriptor ---
export const PAGE_NEXT: u32 = 0;
export const PAGE_PREV: u32 = 4;
export const PAGE_WORD: u32 = 8; // flags | order << 8 | mt << 16 | zone << 24
export const PAGE_FLAGS: u32 = 8;
export const PAGE_ORDER: u32 = 9;
export const PAGE_MT: u32 = 10;
export const PAGE_ZONE: u32 = 11;
export const PAGE_DESC_SIZE: u32 = PAGE_ZONE + 1;
// The state word's fields, one byte each at the offsets above (wasm is little-endian).
export const WORD_FLAGS_SHIFT: u32 = (PAGE_FLAGS - PAGE_WORD) * 8;
export const WORD_ORDER_SHIFT: u32 = (PAGE_ORDER - PAGE_WORD) * 8;
export const WORD_MT_SHIFT: u32 = (PAGE_MT - PAGE_WORD) * 8;
export const WORD_ZONE_SHIFT: u32 = (PAGE_ZONE - PAGE_WORD) * 8;
export const WORD_FIELD_MASK: u32 = 0xff;
export const NO_ZONE: u32 = 0xff; // the zone byte of a pfn outside every zone (and normalZone when there is no Normal)

// --- the page's cold byte (pageExtStart + pfn) ---
export const EXT_HOST_MASK: u32 = 3; // HOST_RESIDENT | HOST_DISCARDED
export const EXT_CPU_SHIFT: u32 = 2; // cpu << 2: MAX_CPUS (64) fits the 6 bits above the host state

// flags: exactly one kind bit is set on a head; PG_REPORTED only together with PG_BUDDY.
export const PG_BUDDY: u32 = 1;
export const PG_REPORTED: u32 = 2;
export const PG_ALLOCATED: u32 = 4;
export const PG_INFLIGHT: u32 = 8;
export const PG_PCP: u32 = 16;
export const PG_HOLE: u32 = 32;
export const PG_CHECK_MARK: u32 = 64; // set only while check() walks the lists: "seen on a list"
export const PG_KIND_MASK: u32 = PG_BUDDY | PG_ALLOCATED | PG_INFLIGHT | PG_PCP;

// host page state, on the first pfn of each host page
export const HOST_RESIDENT: u32 = 1;
export const HOST_DISCARDED: u32 = 2;

// --- zone ---
export const ZONE_START_PFN: u32 = 0;
export const ZONE_END_PFN: u32 = 4;
export const ZONE_PRESENT: u32 = 8;
export const ZONE_MANAGED: u32 = 12;
export const ZONE_WMARK_MIN: u32 = 16;
export const ZONE_WMARK_LOW: u32 = 20;
export const ZONE_WMARK_HIGH: u32 = 24;
export const ZONE_NR_FREE_PAGES: u32 = 28; // NR_FREE_PAGES (i32)
export const ZONE_PCP_HIGH: u32 = 32;
export const ZONE_PCP_BATCH: u32 = 36;
export const ZONE_LOWMEM_RESERVE: u32 = 40; // u32[MAX_ZONES]
export const ZONE_SIZE: u32 = ZONE_LOWMEM_RESERVE + MAX_ZONES * 4;

// --- per-cpu pages ---
export const NR_PCP_LISTS: u32 = 13; // 3 types x orders 0..3, then one list for the THP (pageblock) order
export const PCP_THP_PINDEX: u32 = 12;
export const PCP_COUNT: u32 = 0;
export const PCP_FREE_FACTOR: u32 = 4;
export const PCP_LISTS: u32 = 8;
export const LIST_HEAD_SIZE: u32 = 8; // head pfn, tail pfn
export const FREE_AREA_SIZE: u32 = MIGRATE_TYPES * LIST_HEAD_SIZE; // free_area[order]'s lists, one order to the next
export const PCP_SIZE: u32 = PCP_LISTS + NR_PCP_LISTS * LIST_HEAD_SIZE;
export const PCP_FREE_FACTOR_MAX: u32 = 5;

// --- report batch and ops ---
export const MAX_CAPACITY: u32 = 256;
// a report slot (the scatterlist entry): pfn, order
export const SLOT_PFN: u32 = 0;
export const SLOT_ORDER: u32 = 4;
export const SLOT_SIZE: u32 = SLOT_ORDER + 4;
// an op: kind, a, b, result (i32, written back)
export const OP_KIND: u32 = 0;
export const OP_A: u32 = 4;
export const OP_B: u32 = 8;
export const OP_RESULT: u32 = 12;
export const OP_SIZE: u32 = OP_RESULT + 4;
export const OPS_CAPACITY: u32 = 65536;
export const OUT_WORDS: u32 = 1024;
// OUT holds the W1 result line from word 0, a sample of the counters (sampleCounters) from word OUT_SAMPLE,
// and at word OUT_NOTIFY the count of frees that reached the reporting order since TypeScript last took it
// (it reads and clears that word itself after every event, with no call into wasm).
// The W1 result line, by word: SEED N OPS FAILURES LEN SUMPFN, then nr_free of zone 0 by order.
export const W1_SEED: u32 = 0;
export const W1_PFNS: u32 = 1;
export const W1_OPS: u32 = 2;
export const W1_FAILURES: u32 = 3;
export const W1_LEN: u32 = 4;
export const W1_SUM: u32 = 5;
export const W1_NR_FREE: u32 = 6;
export const W1_WORDS: u32 = W1_NR_FREE + NR_ORDERS;
// A sample, by word from OUT_SAMPLE: free pages by order (NR_ORDERS words, summed over the zones), then these.
export const SAMPLE_FREE_PAGES: u32 = NR_ORDERS;
export const SAMPLE_INFLIGHT: u32 = NR_ORDERS + 1;
export const SAMPLE_ALLOCATED: u32 = NR_ORDERS + 2;
export const SAMPLE_RSS: u32 = NR_ORDERS + 3; // host RSS pages
export const SAMPLE_REFAULTS: u32 = NR_ORDERS + 4;
export const SAMPLE_WORDS: u32 = SAMPLE_REFAULTS + 1;
export const OUT_SAMPLE: u32 = 64;
export const OUT_NOTIFY: u32 = OUT_SAMPLE + SAMPLE_WORDS;

// --- regions ---
export const REGION_BASE: u32 = 65536;
export const ZONES_START: u32 = REGION_BASE;
export const FREE_LIST_START: u32 = ZONES_START + MAX_ZONES * ZONE_SIZE;
export const NR_FREE_START: u32 = FREE_LIST_START + MAX_ZONES * NR_ORDERS * MIGRATE_TYPES * LIST_HEAD_SIZE;
export const PCP_START: u32 = NR_FREE_START + MAX_ZONES * NR_ORDERS * 4;
export const BATCH_START: u32 = PCP_START + MAX_CPUS * MAX_ZONES * PCP_SIZE;
export const OPS_START: u32 = BATCH_START + MAX_CAPACITY * SLOT_SIZE;
export const OUT_START: u32 = OPS_START + OPS_CAPACITY * OP_SIZE;
export const PAGES_START: u32 = (OUT_START + OUT_WORDS * 4 + 63) & ~63;

// --- op kinds of the batch buffer ---
export const OP_ALLOC: u32 = 1; // a = order | mt << 8 | highestZone << 16 | cpu << 24 ; result = pfn or error
export const OP_FREE: u32 = 2; // a = pfn, b = order | flags << 8 | cpu << 24 ; result = final order | to << 8, or error
export const OP_TOUCH: u32 = 3; // a = pfn, b = pages ; result = refaulted host pages
export const OP_FREE_RANGE: u32 = 4; // a = pfn, b = order | flags << 8 ; lenient free of any allocated blocks inside
// the bytes of an op's a (OP_ALLOC) or b (OP_FREE, OP_FREE_RANGE)
export const OP_ORDER_SHIFT: u32 = 0;
export const OP_MT_SHIFT: u32 = 8; // OP_ALLOC
export const OP_FLAGS_SHIFT: u32 = 8; // OP_FREE, OP_FREE_RANGE: FREE_* flags
export const OP_ZONE_SHIFT: u32 = 16; // OP_ALLOC: the highest zone
export const OP_CPU_SHIFT: u32 = 24;
export const OP_FIELD_MASK: u32 = 0xff;
// free flags (FPI_*), of an OP_FREE and of free()
export const FREE_TO_TAIL: u32 = 1;
export const FREE_SKIP_NOTIFY: u32 = 2;
export const FREE_DIRECT: u32 = 4;
// a free's result: the final order, with FREE_RESULT_PCP set when the block went to a per-cpu list
export const FREE_RESULT_ORDER_MASK: u32 = 0xff;
export const FREE_RESULT_PCP: u32 = 256;

// --- error codes (negative results); the TypeScript side names them ---
export const E_NOT_ALLOCATED: i32 = -1;
export const E_WRONG_ORDER: i32 = -2;
export const E_BAD_ORDER: i32 = -3;
export const E_MISALIGNED: i32 = -4;
export const E_OUT_OF_RANGE: i32 = -5;
export const E_HOLE: i32 = -6;
export const E_BAD_MT: i32 = -7;
export const E_BAD_ZONE: i32 = -8;
export const E_BAD_CPU: i32 = -9;
export const E_NOT_FREE: i32 = -10;
export const E_NOT_INFLIGHT: i32 = -11;
export const E_BAD_STATE: i32 = -12;
export const E_BAD_OP: i32 = -13;
export const E_ALLOC_FAILED: i32 = -14; // not an error in the arguments: no memory (counted)

// --- reporting ---
export const REPORTING_ORDER_OFF: u32 = 255; // the reporting order while no device is registered: no free notifies
// report cycle results
export const CYCLE_DONE: i32 = 0;
export const CYCLE_REPORT: i32 = 1;
export const CYCLE_BUDGET: i32 = 2;
export const CYCLE_ISOLATE_FAILED: i32 = 3;

// --- hinting ---
export const HINT_HAZARD: u32 = 0xfffffffe; // hintNext: v13 would follow the cursor's stale list link

// --- invariant codes of checkInvariants (check.ts; checkPfn and checkArg name the place) ---
export const INV_ORPHAN: i32 = 1; // a present pfn inside no block
export const INV_BAD_HEAD: i32 = 2; // a misaligned head, or one of a bad order
export const INV_BLOCK_OVERLAP: i32 = 3; // a block crosses a zone end, a hole or another head
export const INV_REPORTED_NOT_FREE: i32 = 4; // Reported on a page that is not a free head
export const INV_KIND_BITS: i32 = 5; // more than one kind bit
export const INV_LIST_ENTRY: i32 = 6; // a free list entry is not a free head of the list's order, mt and zone
export const INV_LIST_LINKS: i32 = 7; // free list links broken (prev, next or tail)
export const INV_NR_FREE: i32 = 8; // nr_free differs from the list lengths
export const INV_FREE_PAGES: i32 = 9; // NR_FREE_PAGES differs from the lists
export const INV_LISTED: i32 = 10; // a free or per-cpu head on no list, or on two
export const INV_PCP: i32 = 11; // a per-cpu list broken, or its count differs
export const INV_ALLOCATED: i32 = 12; // the allocated page count differs
export const INV_INFLIGHT: i32 = 13; // the in-flight page count differs
export const INV_HOLE: i32 = 14; // a hole carries a kind bit
export const INV_ZONE: i32 = 15; // the zone byte differs from the zones' ranges
