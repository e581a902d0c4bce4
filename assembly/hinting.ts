// walk_free_mem_block (free page hinting v13): hand out free blocks one at a time, isolating nothing. The
// cursor is the last block handed out. v13 reads only the cursor page to go on: still a free block of this
// order on this list, the next entry (the last one ends the list); a free block of another order, the list
// head again; anything else (allocated, on a per-cpu list, absorbed by a merge, moved to another type's list)
// and v13 follows the page's stale list link, which says nothing the simulator can know: HINT_HAZARD.
import { NIL, PG_BUDDY, HINT_HAZARD } from './layout';
import { getNext, getWord, mtOf, orderOf } from './page';
import { freeListAddr, listHead } from './freelist';

/** Next block of free_list(zone, order, mt) after `cursor` (NIL = start). NIL when the list is done. */
export function hintNext(zone: u32, order: u32, mt: u32, cursor: u32): u32 {
  const head = listHead(freeListAddr(zone, order, mt));
  if (head == NIL) return NIL;
  if (cursor == NIL) return head;
  const w = getWord(cursor);
  if ((w & PG_BUDDY) == 0) return HINT_HAZARD;
  if (orderOf(w) != order) return head;
  if (mtOf(w) != mt) return HINT_HAZARD;
  return getNext(cursor);
}
