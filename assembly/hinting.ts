// walk_free_mem_block (free page hinting v13): hand out free blocks one at a time, isolating nothing. The
// cursor is the last block handed out; if it is no longer a free head of that order the walk restarts at the
// list head; the last entry ends the list.
import { NIL } from './layout';
import { getNext, isBuddyOfOrder } from './page';
import { freeListAddr, listHead } from './freelist';

/** Next block of free_list(zone, order, mt) after `cursor` (NIL = start). NIL when the list is done. */
export function hintNext(zone: u32, order: u32, mt: u32, cursor: u32): u32 {
  const head = listHead(freeListAddr(zone, order, mt));
  if (head == NIL) return NIL;
  if (cursor == NIL) return head;
  if (!isBuddyOfOrder(cursor, order, zone)) return head;
  return getNext(cursor);
}
