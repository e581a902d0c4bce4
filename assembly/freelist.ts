// free_area[order].free_list[mt] and the per-cpu lists: doubly linked lists of pfns through the descriptors.
// Every list head and every link is written here (the list primitives), and every change to a buddy free list
// goes through addToFreeList / delFromFreeList / moveToFreeList, so nr_free and the Reported flag are kept in one
// place (NR_FREE_PAGES is the callers', see zone.ts).
import {
  FREE_LIST_START, NR_FREE_START, NR_ORDERS, MIGRATE_TYPES, NIL, PG_BUDDY, PG_REPORTED, MT_ISOLATE, LIST_HEAD_SIZE,
  WORD_FIELD_MASK, WORD_ZONE_SHIFT,
} from './layout';
import {
  getNext, setNext, getPrev, setPrev, setWord, makeWord, getWord, mtOf, orderOf, setMt, getFlags, setFlags,
} from './page';
import { zoneAddFreePages } from './zone';
import { moveToTail } from './state';

@inline export function freeListAddr(zone: u32, order: u32, mt: u32): usize {
  return <usize>FREE_LIST_START + (<usize>((zone * NR_ORDERS + order) * MIGRATE_TYPES + mt) << 3);
}
@inline export function nrFreeAddr(zone: u32, order: u32): usize {
  return <usize>NR_FREE_START + (<usize>(zone * NR_ORDERS + order) << 2);
}
@inline export function nrFree(zone: u32, order: u32): u32 { return load<u32>(nrFreeAddr(zone, order)); }
@inline export function listHead(list: usize): u32 { return load<u32>(list); }
@inline export function listTail(list: usize): u32 { return load<u32>(list, 4); }
@inline export function listEmpty(list: usize): bool { return load<u32>(list) == NIL; }

export function listInit(list: usize): void {
  store<u32>(list, NIL);
  store<u32>(list, NIL, 4);
}

/** A zone's free_area: every list empty, every nr_free 0. */
export function initFreeArea(zone: u32): void {
  for (let o: u32 = 0; o < NR_ORDERS; o++) {
    store<u32>(nrFreeAddr(zone, o), 0);
    for (let mt: u32 = 0; mt < MIGRATE_TYPES; mt++) listInit(freeListAddr(zone, o, mt));
  }
}

@inline export function listAddHead(list: usize, pfn: u32): void {
  const h = load<u32>(list);
  setNext(pfn, h);
  setPrev(pfn, NIL);
  if (h != NIL) setPrev(h, pfn);
  else store<u32>(list, pfn, 4);
  store<u32>(list, pfn);
}

@inline export function listAddTail(list: usize, pfn: u32): void {
  const t = load<u32>(list, 4);
  setPrev(pfn, t);
  setNext(pfn, NIL);
  if (t != NIL) setNext(t, pfn);
  else store<u32>(list, pfn);
  store<u32>(list, pfn, 4);
}

/** The first entry leaves the list: `next`, its successor (or NIL), becomes the first. Its own links are left. */
@inline export function listTakeFirst(list: usize, next: u32): void {
  store<u32>(list, next);
  if (next != NIL) setPrev(next, NIL);
  else store<u32>(list, NIL, 4);
}

/** pfn and every entry after it leave the list in one cut (their own links are left as they were). */
@inline export function listCutFrom(list: usize, pfn: u32): void {
  const rest = getPrev(pfn);
  store<u32>(list, rest, 4);
  if (rest != NIL) setNext(rest, NIL);
  else store<u32>(list, NIL);
}

@inline export function listUnlink(list: usize, pfn: u32): void {
  const p = getPrev(pfn);
  const n = getNext(pfn);
  if (p != NIL) setNext(p, n);
  else store<u32>(list, n);
  if (n != NIL) setPrev(n, p);
  else store<u32>(list, p, 4);
}

/**
 * list_rotate_to_front: make pfn the first entry, keeping the cyclic order. Example: a b c d with pfn c becomes
 * c d a b.
 */
export function listRotateToFront(list: usize, pfn: u32): void {
  const head = load<u32>(list);
  if (head == pfn) return;
  const tail = load<u32>(list, 4);
  const newTail = getPrev(pfn);
  setNext(tail, head);
  setPrev(head, tail);
  setPrev(pfn, NIL);
  setNext(newTail, NIL);
  store<u32>(list, pfn);
  store<u32>(list, newTail, 4);
}

/** add_to_free_list / add_to_free_list_tail: the block becomes a Buddy head (never Reported). */
@inline export function addToFreeList(pfn: u32, zone: u32, order: u32, mt: u32, tail: bool): void {
  setWord(pfn, makeWord(PG_BUDDY, order, mt, zone));
  const list = freeListAddr(zone, order, mt);
  if (tail) listAddTail(list, pfn);
  else listAddHead(list, pfn);
  const nf = nrFreeAddr(zone, order);
  store<u32>(nf, load<u32>(nf) + 1);
}

/** del_page_from_free_list: the one place Reported is cleared. The page keeps its zone, loses its kind. */
@inline export function delFromFreeList(pfn: u32, zone: u32, order: u32): void {
  delFromFreeListWord(pfn, zone, order, getWord(pfn));
}

/**
 * __rmqueue_smallest's take of the first block of `list` (free_list[mt] of zone, order): unlinked, counted out of
 * nr_free. Its state word is left for the caller, which always relabels the block (allocated, per-cpu, or the
 * kept half of a split) before anything reads it.
 */
@inline export function takeFirstFromFreeList(list: usize, pfn: u32, zone: u32, order: u32): void {
  listTakeFirst(list, getNext(pfn));
  const nf = nrFreeAddr(zone, order);
  store<u32>(nf, load<u32>(nf) - 1);
}

/** delFromFreeList for a caller that already holds the head's state word w. */
@inline export function delFromFreeListWord(pfn: u32, zone: u32, order: u32, w: u32): void {
  delFromFreeAreaWord(freeAreaAddr(zone, order), nrFreeAddr(zone, order), pfn, w);
}

/**
 * The lists of a zone's free_area[order]: free_list[mt] is at area + mt * LIST_HEAD_SIZE, and the next order's
 * area FREE_AREA_SIZE further on (a walk up the orders steps through them; nr_free steps by 4).
 */
@inline export function freeAreaAddr(zone: u32, order: u32): usize { return freeListAddr(zone, order, 0); }

/** delFromFreeListWord with free_area[order]'s lists (area) and its nr_free (nf) worked out by the caller. */
@inline export function delFromFreeAreaWord(area: usize, nf: usize, pfn: u32, w: u32): void {
  listUnlink(area + (<usize>mtOf(w) * LIST_HEAD_SIZE), pfn);
  setWord(pfn, w & (WORD_FIELD_MASK << WORD_ZONE_SHIFT));
  store<u32>(nf, load<u32>(nf) - 1);
}

/** __SetPageReported: a free head the device has taken (page_reporting_drain), or a recorded state says so. */
@inline export function markReported(pfn: u32): void { setFlags(pfn, getFlags(pfn) | PG_REPORTED); }

/** move_to_free_list: same order, another migratetype's list; Reported kept; head or tail by profile. */
export function moveToFreeList(pfn: u32, zone: u32, order: u32, mt: u32): void {
  const old = mtOf(getWord(pfn));
  listUnlink(freeListAddr(zone, order, old), pfn);
  const list = freeListAddr(zone, order, mt);
  if (moveToTail) listAddTail(list, pfn);
  else listAddHead(list, pfn);
  setMt(pfn, mt);
  // NR_FREE_PAGES excludes ISOLATE lists: keep the count true when a block crosses that line.
  if (old == MT_ISOLATE && mt != MT_ISOLATE) zoneAddFreePages(zone, 1 << order);
  else if (old != MT_ISOLATE && mt == MT_ISOLATE) zoneAddFreePages(zone, -(1 << order));
}

