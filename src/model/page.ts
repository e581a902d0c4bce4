// What a pfn is (assembly/page.ts keeps it in the descriptor's state word). Only the head of a block carries a
// kind; the other pfns of the block (and holes) are NONE, which keeps "is this a Buddy head of exactly order o" a
// two-field test, as PageBuddy + buddy_order is.
import type { PfnKind } from '../core/types.js';
import { MAX_ORDER_INCLUSIVE } from '../core/types.js';
import { type ModelState, NIL } from './state.js';

export const NONE = 0;
export const FREE = 1;
export const ALLOCATED = 2;
export const PCP = 3;
export const INFLIGHT = 4;
export const KIND_NAMES: PfnKind[] = ['hole', 'free', 'allocated', 'pcp', 'inflight'];

/** page_is_buddy: pfn is a free head of exactly `order` in zone z. */
export function pageIsBuddy(s: ModelState, pfn: number, order: number, z: number): boolean {
  return pfn >= 0 && pfn < s.maxPfn && s.zoneOf[pfn] === z && s.kind[pfn] === FREE && s.order[pfn] === order;
}

/** The head of the block holding pfn: blocks are aligned, so it is pfn rounded down to some order. NIL if none. */
export function findHead(s: ModelState, pfn: number): number {
  for (let o = 0; o <= MAX_ORDER_INCLUSIVE; o++) {
    const h = pfn & ~((1 << o) - 1);
    if (s.kind[h] !== NONE && h + (1 << s.order[h]!) > pfn) return h;
  }
  return NIL;
}

/** What a pfn is, in words (for error messages). */
export function describe(s: ModelState, pfn: number): string {
  if (s.zoneOf[pfn] === -1) return 'a hole';
  const h = findHead(s, pfn);
  if (h === NIL) return 'in no block';
  const what = `${KIND_NAMES[s.kind[h]!]} (order ${s.order[h]})`;
  return h === pfn ? what : `inside the block at pfn ${h}, ${what}`;
}
