// The batch API: the caller fills Op records in linear memory and applies thousands in one call.
// Op: kind u32, a u32, b u32, result i32 (written back). Errors are per operation and change nothing.
import {
  OPS_START, OP_SIZE, OP_ALLOC, OP_FREE, OP_TOUCH, OP_FREE_RANGE, E_BAD_OP, MAX_ORDER, PG_ALLOCATED, PG_KIND_MASK,
  PG_HOLE,
} from './layout';
import { getWord, zoneOf } from './page';
import { maxPfn, nrCpus } from './state';
import { alloc, free, freeRange, checkAllocArgs, freeChecked } from './guest';
import { allocPagesBatch, freePagesVia, pcpFrees } from './alloc';
import { hostTouch } from './host';
import { setCurrentOp, resetFirstNotifyOp } from './state';

/** Apply ops [0, n); returns how many failed (error or allocation failure). */
export function applyOps(n: u32): u32 {
  let failed: u32 = 0;
  resetFirstNotifyOp();
  for (let i: u32 = 0; i < n; i++) {
    const op = <usize>OPS_START + <usize>(i * OP_SIZE);
    const kind = load<u32>(op);
    const a = load<u32>(op, 4);
    const b = load<u32>(op, 8);
    setCurrentOp(<i32>i);
    let r: i32 = 0;
    if (kind == OP_ALLOC) r = alloc(a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
    else if (kind == OP_FREE) r = free(a, b & 0xff, (b >> 8) & 0xff, b >> 24);
    else if (kind == OP_TOUCH) r = <i32>hostTouch(a, b);
    else if (kind == OP_FREE_RANGE) r = freeRange(a, b & 0xff, (b >> 8) & 0xff);
    else r = E_BAD_OP;
    if (r < 0) failed++;
    store<i32>(op, r, 12);
  }
  setCurrentOp(-1);
  return failed;
}

export let bulkError: i32 = 0;

/**
 * Allocate up to n blocks of one kind; their pfns are written as u32 from OPS_START (capacity 4 * OPS_CAPACITY).
 * Stops at the first failure. Returns the number allocated.
 */
export function allocBulk(order: u32, mt: u32, highest: u32, cpu: u32, n: u32): u32 {
  // The arguments are the same for every block: validated once (a bad one allocates nothing).
  if (checkAllocArgs(order, mt, highest, cpu) != 0) return 0;
  return allocPagesBatch(order, mt, highest, cpu, n, <usize>OPS_START);
}

/**
 * Free n blocks whose pfns are u32 from OPS_START, all of one order. Stops at the first invalid one (nothing
 * changed for it): returns the number freed; bulkError holds the error code.
 */
export function freeBulk(n: u32, order: u32, flags: u32, cpu: u32): u32 {
  const src = <usize>OPS_START;
  bulkError = 0;
  // What does not change from one pfn to the next is worked out once: a pfn that passes the quick test below is
  // an allocated head of `order` inside the guest, and is freed at once; any other goes through the full
  // validation, which frees it or names the error.
  const pages: u32 = order <= MAX_ORDER ? 1 << order : 0;
  const quick = pages != 0 && pages <= maxPfn && cpu < nrCpus;
  const last = maxPfn - pages; // highest head that fits
  const want = PG_ALLOCATED | (order << 8);
  const viaPcp = pcpFrees(pages, flags);
  for (let i: u32 = 0; i < n; i++) {
    const pfn = load<u32>(src + (<usize>i << 2));
    if (quick && pfn <= last && (pfn & (pages - 1)) == 0) {
      const w = getWord(pfn);
      if ((w & (0xff00 | PG_KIND_MASK | PG_HOLE)) == want) {
        freePagesVia(pfn, order, zoneOf(w), flags, cpu, viaPcp);
        continue;
      }
    }
    const r = freeChecked(pfn, order, flags, cpu);
    if (r < 0) {
      bulkError = r;
      return i;
    }
  }
  return n;
}
