// free_area[order].free_list[mt] and the per-cpu lists (assembly/freelist.ts): the list primitives, and the
// free-list verbs, the only code that touches free lists, nr_free and NR_FREE_PAGES, and that sets or clears
// Reported.
import { MIGRATE_TYPES, MigrateType, NR_ORDERS } from '../core/types.js';
import { type ListSet, type ModelState, NIL } from './state.js';
import { FREE, NONE } from './page.js';

export function listAddHead(ls: ListSet, l: number, pfn: number): void {
  const first = ls.head[l]!;
  ls.prev[pfn] = NIL;
  ls.next[pfn] = first;
  if (first === NIL) ls.tail[l] = pfn;
  else ls.prev[first] = pfn;
  ls.head[l] = pfn;
  ls.len[l]!++;
}

export function listAddTail(ls: ListSet, l: number, pfn: number): void {
  const last = ls.tail[l]!;
  ls.next[pfn] = NIL;
  ls.prev[pfn] = last;
  if (last === NIL) ls.head[l] = pfn;
  else ls.next[last] = pfn;
  ls.tail[l] = pfn;
  ls.len[l]!++;
}

export function listUnlink(ls: ListSet, l: number, pfn: number): void {
  const p = ls.prev[pfn]!;
  const n = ls.next[pfn]!;
  if (p === NIL) ls.head[l] = n;
  else ls.next[p] = n;
  if (n === NIL) ls.tail[l] = p;
  else ls.prev[n] = p;
  ls.next[pfn] = NIL;
  ls.prev[pfn] = NIL;
  ls.len[l]!--;
}

/** list_rotate_to_front: the list becomes pfn..tail followed by head..pfn's predecessor. */
export function listRotateToFront(ls: ListSet, l: number, pfn: number): void {
  const first = ls.head[l]!;
  if (first === pfn) return;
  const last = ls.tail[l]!;
  const before = ls.prev[pfn]!;
  ls.next[last] = first;
  ls.prev[first] = last;
  ls.next[before] = NIL;
  ls.prev[pfn] = NIL;
  ls.head[l] = pfn;
  ls.tail[l] = before;
}

export function listToArray(ls: ListSet, l: number): number[] {
  const out: number[] = [];
  for (let p = ls.head[l]!; p !== NIL; p = ls.next[p]!) out.push(p);
  return out;
}

export function freeListIndex(z: number, order: number, mt: number): number {
  return (z * NR_ORDERS + order) * MIGRATE_TYPES + mt;
}

/**
 * NR_FREE_PAGES follows list membership (blocks on ISOLATE lists are not free pages), so it is adjusted where
 * a block enters or leaves a list. This equals the rules' per-operation accounting whenever a merge joins blocks
 * of the same ISOLATE-ness, and keeps NR_FREE_PAGES exact when a raw pageblock retype makes them differ.
 */
export function accountFree(s: ModelState, z: number, order: number, mt: number, sign: 1 | -1): void {
  if (mt !== MigrateType.ISOLATE) s.nrFreePages[z]! += sign * (1 << order);
}

/** add_to_free_list / add_to_free_list_tail: a new Buddy head, never Reported. */
export function addToFreeList(s: ModelState, pfn: number, z: number, order: number, mt: number, tail: boolean): void {
  s.kind[pfn] = FREE;
  s.order[pfn] = order;
  s.mt[pfn] = mt;
  s.reported[pfn] = 0;
  const l = freeListIndex(z, order, mt);
  if (tail) listAddTail(s.freeLists, l, pfn);
  else listAddHead(s.freeLists, l, pfn);
  s.nrFree[z * NR_ORDERS + order]!++;
  accountFree(s, z, order, mt, 1);
}

/** del_page_from_free_list: the one place Reported is cleared. Leaves the pfn kind NONE for the caller. */
export function delFromFreeList(s: ModelState, pfn: number, z: number): void {
  const order = s.order[pfn]!;
  const mt = s.mt[pfn]!;
  s.reported[pfn] = 0;
  listUnlink(s.freeLists, freeListIndex(z, order, mt), pfn);
  s.kind[pfn] = NONE;
  s.nrFree[z * NR_ORDERS + order]!--;
  accountFree(s, z, order, mt, -1);
}

/** __SetPageReported: a free head the device has taken (page_reporting_drain). */
export function markReported(s: ModelState, pfn: number): void {
  s.reported[pfn] = 1;
}

/** move_to_free_list: same order, another list; nr_free and Reported unchanged. */
export function moveToFreeList(s: ModelState, pfn: number, z: number, mt: number): void {
  const order = s.order[pfn]!;
  const oldMt = s.mt[pfn]!;
  listUnlink(s.freeLists, freeListIndex(z, order, oldMt), pfn);
  accountFree(s, z, order, oldMt, -1);
  const l = freeListIndex(z, order, mt);
  if (s.profile.moveToTail) listAddTail(s.freeLists, l, pfn);
  else listAddHead(s.freeLists, l, pfn);
  s.mt[pfn] = mt;
  accountFree(s, z, order, mt, 1);
}
