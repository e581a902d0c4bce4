// The hot walk of page_reporting_cycle over one (order, mt) list and page_reporting_drain. The TypeScript
// worker drives it: it owns the state machine, the zone gate and the device call made while "the lock is dropped".
import {
  BATCH_START, SLOT_SIZE, SLOT_PFN, SLOT_ORDER, NIL, PG_REPORTED, CYCLE_DONE, CYCLE_REPORT, CYCLE_BUDGET,
  CYCLE_ISOLATE_FAILED, E_BAD_STATE,
} from './layout';
import { getNext, getFlags, getZone, pageIsBuddy } from './page';
import { freeListAddr, nrFree, listHead, listRotateToFront, markReported } from './freelist';
import { isolateFreePage, putbackIsolatedPage } from './isolate';

let capacity: u32 = 32;
let budgetDivisor: u32 = 16;
let offset: u32 = 32;
let cycZone: u32 = 0;
let cycOrder: u32 = 0;
let cycMt: u32 = 0;
let budget: i32 = 0;
let cycActive: bool = false;

@inline function slotAddr(i: u32): usize { return <usize>BATCH_START + <usize>(i * SLOT_SIZE); }

export function reportBatchReset(cap: u32, divisor: u32): void {
  capacity = cap;
  budgetDivisor = divisor == 0 ? 16 : divisor;
  offset = cap;
  cycActive = false;
}

export function reportBatchCount(): u32 { return capacity - offset; }
export function reportBatchOffset(): u32 { return offset; }
export function reportBatchCapacity(): u32 { return capacity; }

/** Start the cycle of one list; false when it is empty. budget = ceil(nr_free / (capacity * divisor)); the
 *  kernel's divisor is 16: enough calls for a sixteenth of the list plus one. */
export function reportCycleBegin(zone: u32, order: u32, mt: u32): bool {
  const head = listHead(freeListAddr(zone, order, mt));
  cycActive = false;
  if (head == NIL) return false;
  cycZone = zone;
  cycOrder = order;
  cycMt = mt;
  const div = capacity * budgetDivisor;
  budget = <i32>((nrFree(zone, order) + div - 1) / div);
  cycActive = true;
  return true;
}

/**
 * Walk until an event. Reported blocks are skipped; each unreported block is isolated into the scatterlist
 * (filled from the end); a full scatterlist is only sent when the NEXT unreported block shows up. On every exit
 * but the end of the list, that block is rotated to the front so the next walk starts there. Each walk starts at
 * the list's first entry, as the kernel's does once it retakes the zone lock: no position is kept across calls,
 * so whatever changed the list in between (allocations while report() ran) cannot leave the walk on a block
 * that is no longer there.
 */
export function reportCycleStep(): i32 {
  if (!cycActive) return E_BAD_STATE;
  const list = freeListAddr(cycZone, cycOrder, cycMt);
  let p = listHead(list);
  while (p != NIL) {
    const next = getNext(p);
    if ((getFlags(p) & PG_REPORTED) != 0) {
      p = next;
      continue;
    }
    if (budget < 0) {
      listRotateToFront(list, p);
      cycActive = false;
      return CYCLE_BUDGET;
    }
    if (offset > 0) {
      if (!isolateFreePage(p, cycOrder, cycZone)) {
        listRotateToFront(list, p);
        cycActive = false;
        return CYCLE_ISOLATE_FAILED;
      }
      offset--;
      const s = slotAddr(offset);
      store<u32>(s, p, SLOT_PFN);
      store<u32>(s, cycOrder, SLOT_ORDER);
      p = next;
      continue;
    }
    listRotateToFront(list, p);
    return CYCLE_REPORT;
  }
  cycActive = false;
  return CYCLE_DONE;
}

/**
 * page_reporting_drain over the filled part of the scatterlist (scatterlist order: the last isolated first).
 * A block is marked Reported only if the report succeeded and it did not merge on the way back. Then the
 * walk of the current list (if any) goes on with one budget less.
 */
export function reportDrain(reported: bool): void {
  for (let i = offset; i < capacity; i++) {
    const s = slotAddr(i);
    const pfn = load<u32>(s, SLOT_PFN);
    const order = load<u32>(s, SLOT_ORDER);
    const zone = getZone(pfn);
    putbackIsolatedPage(pfn, order, zone);
    if (reported && pageIsBuddy(pfn, order, zone)) markReported(pfn);
  }
  offset = capacity;
  budget--;
}

/** The batch as (pfn, order) pairs in scatterlist order, for the device: slots offset..capacity-1. */
export function reportSlotPfn(i: u32): u32 { return load<u32>(slotAddr(offset + i), SLOT_PFN); }
export function reportSlotOrder(i: u32): u32 { return load<u32>(slotAddr(offset + i), SLOT_ORDER); }
