// The walk of page_reporting_cycle over one (order, mt) list and page_reporting_drain, over a shared scatterlist
// (assembly/reporting.ts). The reporting worker drives it; misuse the rules leave open is refused with BAD_STATE.
import { SimError } from '../core/errors.js';
import { CycleResult, NR_ORDERS } from '../core/types.js';
import { type ModelState, NIL } from './state.js';
import { INFLIGHT, FREE, describe } from './page.js';
import { freeListIndex, listRotateToFront, markReported } from './freelist.js';
import { isolateFreePage, putbackIsolatedPage } from './isolate.js';

/** A fresh scatterlist of `capacity` entries, filled from the end (offset = capacity). */
export function reportBatchReset(s: ModelState, capacity: number, budgetDivisor: number): void {
  if (!Number.isInteger(budgetDivisor) || budgetDivisor < 1) {
    throw new SimError('BAD_CONFIG', `reportBatchReset: budget divisor ${budgetDivisor} must be a positive integer`, { budgetDivisor });
  }
  s.budgetDivisor = budgetDivisor;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 16) {
    throw new SimError('BAD_CONFIG', `reportBatchReset: capacity ${capacity} must be an integer in 1..65536`, { capacity });
  }
  if (s.offset !== s.capacity) {
    throw new SimError('BAD_STATE', `reportBatchReset: ${s.capacity - s.offset} isolated entries are still in the batch; drain them first`, { entries: s.capacity - s.offset });
  }
  s.capacity = capacity;
  s.offset = capacity;
  s.slotPfn = new Array<number>(capacity).fill(NIL);
  s.slotOrder = new Array<number>(capacity).fill(0);
  s.cycle = null;
}

/** Start the cycle of one list; false when it is empty. Budget by the whole free_area (all migratetypes). */
export function reportCycleBegin(s: ModelState, zone: number, order: number, mt: number): boolean {
  if (s.cycle?.awaitingDrain) {
    throw new SimError('BAD_STATE', 'reportCycleBegin: the full batch of the previous REPORT has not been drained', {});
  }
  s.cycle = null;
  if (s.freeLists.len[freeListIndex(zone, order, mt)] === 0) return false;
  const budget = Math.ceil(s.nrFree[zone * NR_ORDERS + order]! / (s.capacity * s.budgetDivisor));
  s.cycle = { zone, order, mt, budget, awaitingDrain: false };
  return true;
}

/**
 * Walks from the list's first entry: between calls the walk only ever resumes from the first entry (after a
 * REPORT and its drain), so no cursor is kept that allocations during report() could invalidate.
 */
export function reportCycleStep(s: ModelState): CycleResult {
  const c = s.cycle;
  if (!c) throw new SimError('BAD_STATE', 'reportCycleStep: no report cycle is active (call reportCycleBegin)', {});
  if (c.awaitingDrain) throw new SimError('BAD_STATE', 'reportCycleStep: the full batch must be reported and drained first', {});
  const l = freeListIndex(c.zone, c.order, c.mt);
  let page = s.freeLists.head[l]!;
  while (page !== NIL) {
    if (s.reported[page]) {
      page = s.next[page]!;
      continue;
    }
    if (c.budget < 0) {
      listRotateToFront(s.freeLists, l, page);
      s.cycle = null;
      return CycleResult.BUDGET;
    }
    if (s.offset > 0) {
      const after = s.next[page]!;
      if (!isolateFreePage(s, page, c.order, c.zone)) {
        listRotateToFront(s.freeLists, l, page);
        s.cycle = null;
        return CycleResult.ISOLATE_FAILED;
      }
      s.offset--;
      s.slotPfn[s.offset] = page;
      s.slotOrder[s.offset] = c.order;
      page = after;
      continue;
    }
    // The batch is full and there is more to do: leave this page first so the walk resumes here.
    listRotateToFront(s.freeLists, l, page);
    c.awaitingDrain = true;
    return CycleResult.REPORT;
  }
  s.cycle = null;
  return CycleResult.DONE;
}

export function reportBatchCount(s: ModelState): number {
  return s.capacity - s.offset;
}

/** The batch as (pfn, order) pairs in scatterlist order (the last isolated first). */
export function reportBatchEntries(s: ModelState): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = s.offset; i < s.capacity; i++) out.push([s.slotPfn[i]!, s.slotOrder[i]!]);
  return out;
}

/**
 * page_reporting_drain: every entry is put back; one that did not merge on the way back is marked Reported when
 * the report succeeded. The walk of the current list then restarts with one budget less.
 */
export function reportDrain(s: ModelState, reported: boolean): void {
  for (let i = s.offset; i < s.capacity; i++) {
    const pfn = s.slotPfn[i]!;
    if (s.kind[pfn] !== INFLIGHT || s.order[pfn] !== s.slotOrder[i]) {
      throw new SimError('BAD_STATE', `reportDrain: batch entry pfn ${pfn} is no longer isolated at order ${s.slotOrder[i]} (it is ${describe(s, pfn)})`, { pfn });
    }
  }
  for (let i = s.offset; i < s.capacity; i++) {
    const pfn = s.slotPfn[i]!;
    const order = s.slotOrder[i]!;
    putbackIsolatedPage(s, pfn, order, s.zoneOf[pfn]!);
    // A block that merged on the way back is a different, larger block: it must be reported again.
    if (reported && s.kind[pfn] === FREE && s.order[pfn] === order) markReported(s, pfn);
    s.slotPfn[i] = NIL;
  }
  s.offset = s.capacity;
  const c = s.cycle;
  if (c?.awaitingDrain) {
    c.awaitingDrain = false;
    c.budget--;
  }
}
