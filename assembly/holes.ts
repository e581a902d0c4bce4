// Holes inside a zone's span: pages that exist in the pfn space but hold no memory.
import { PG_HOLE } from './layout';
import { getWord, setWord, makeWord, kindOf, zoneOf } from './page';
import { addAllocated } from './state';

/** Turn [start, end) of a populated zone into a hole (before boot: the pages are order-0 allocated). */
export function markHole(start: u32, end: u32): void {
  for (let p = start; p < end; p++) {
    const w = getWord(p);
    if (kindOf(w) != 0) addAllocated(-1);
    setWord(p, makeWord(PG_HOLE, 0, 0, zoneOf(w)));
  }
}

