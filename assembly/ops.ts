// The batch API: the caller fills Op records in linear memory and applies thousands in one call.
// Op: kind u32, a u32, b u32, result i32 (written back). Errors are per operation and change nothing.
import {
  OPS_START, OP_SIZE, OP_ALLOC, OP_FREE, OP_TOUCH, OP_FREE_RANGE, E_BAD_OP, MAX_ORDER, PG_ALLOCATED, PG_KIND_MASK,
  PG_HOLE,
} from './layout';
import { getWord, zoneOf } from './page';
import { maxPfn, nrCpus, pcpFreeFactor } from './state';
import { alloc, free, freeRange, checkAllocArgs, freeChecked } from './guest';
import { allocPagesBatch, freePagesVia, pcpFrees } from './alloc';
import { hostTouch } from './host';
import { setCurrentOp, resetFirstNotifyOp } from './state';

/** Apply ops [0, n); returns how many failed (error or allocation failure). */
export function applyOps(n: u32): u32 {
  let failed: u32 = 0;
  resetFirstNotifyOp();
  for (let i: u32 = 0; i < n; i++) if (applyOp(i) < 0) failed++;
  setCurrentOp(-1);
  return failed;
}

/**
 * Apply ops from 0 up to and including the first that fails (error or allocation failure); returns how many were
 * applied. For a caller whose next operations depend on each one's outcome: it plans a batch as if every
 * operation succeeds and plans again from where the batch stopped.
 */
export function applyOpsUntilFailure(n: u32): u32 {
  resetFirstNotifyOp();
  let i: u32 = 0;
  while (i < n) {
    const r = applyOp(i);
    i++;
    if (r < 0) break;
  }
  setCurrentOp(-1);
  return i;
}

/** Apply op i of the buffer and write its result. */
@inline function applyOp(i: u32): i32 {
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
  store<i32>(op, r, 12);
  return r;
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
  bulkError = 0;
  // What does not change from one pfn to the next is decided once, and each case gets a loop of its own (V8 would
  // otherwise test it again for every pfn).
  if (order > MAX_ORDER || cpu >= nrCpus) return freeRun(n, order, flags, cpu, false, false, false);
  if (!pcpFrees(<u32>1 << order, flags)) return freeRun(n, order, flags, cpu, true, false, false);
  if (pcpFreeFactor && order - 1 < 3) return freeRun(n, order, flags, cpu, true, true, true);
  // Order 0, the most common free by far, has a loop of its own with the order a constant.
  if (order == 0) return freeRunPcpOrder0(n, flags, cpu);
  return freeRun(n, order, flags, cpu, true, true, false);
}

function freeRunPcpOrder0(n: u32, flags: u32, cpu: u32): u32 {
  return freeRun(n, 0, flags, cpu, true, true, false);
}

/**
 * freeBulk's loop. With `quick`, a pfn whose state word says "allocated head of `order`" is freed at once (heads
 * are aligned and lie inside the guest, so that is all the validation asks); any other goes through the full
 * validation, which frees it or names the error. viaPcp and freeHighOrder: see freePagesVia and freeToPcpAt.
 */
@inline function freeRun(n: u32, order: u32, flags: u32, cpu: u32, quick: bool, viaPcp: bool, freeHighOrder: bool): u32 {
  const src = <usize>OPS_START;
  const want = PG_ALLOCATED | (order << 8);
  for (let i: u32 = 0; i < n; i++) {
    const pfn = load<u32>(src + (<usize>i << 2));
    if (quick) {
      if (pfn < maxPfn) {
        const w = getWord(pfn);
        if ((w & (0xff00 | PG_KIND_MASK | PG_HOLE)) == want) {
          freePagesVia(pfn, order, zoneOf(w), flags, cpu, viaPcp, freeHighOrder);
          continue;
        }
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
