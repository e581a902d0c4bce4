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
export const SLOT_SIZE: u32 = 8;
export const OP_SIZE: u32 = 16; // kind, a, b, result
export const OPS_CAPACITY: u32 = 65536;
export const OUT_WORDS: u32 = 1024;
// OUT holds the W1 result line from word 0, a sample of the counters (sampleCounters) from word OUT_SAMPLE:
//   free pages by order (NR_ORDERS words), free pages, in flight, allocated, host RSS pages, refaults
// and at word OUT_NOTIFY the count of frees that reached the reporting order since TypeScript last took it
// (it reads and clears that word itself after every event, with no call into wasm).
export const OUT_SAMPLE: u32 = 64;
export const SAMPLE_WORDS: u32 = NR_ORDERS + 5;
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
export const FREE_TO_TAIL: u32 = 1;
export const FREE_SKIP_NOTIFY: u32 = 2;
export const FREE_DIRECT: u32 = 4;

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
export const E_ALLOC_FAILED: i32 = -14;

// --- report cycle results ---
export const CYCLE_DONE: i32 = 0;
export const CYCLE_REPORT: i32 = 1;
export const CYCLE_BUDGET: i32 = 2;
export const CYCLE_ISOLATE_FAILED: i32 = 3;
