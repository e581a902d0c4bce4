// Page descriptor accessors: the only code that knows the descriptor's byte layout.
import {
  PAGES_START, PAGE_DESC_SIZE, PAGE_NEXT, PAGE_PREV, PAGE_WORD, PAGE_FLAGS, PAGE_ORDER, PAGE_MT, PAGE_ZONE,
  EXT_HOST_MASK, EXT_CPU_SHIFT, PG_BUDDY, PG_KIND_MASK, PAGEBLOCK_ORDER, NIL,
} from './layout';
import { pageblockStart, pageExtStart } from './state';

// A descriptor's fields are read as load(pfn * 12, PAGES_START + field): the constant rides in the load's offset
// immediate, so V8 addresses it as [memory + index + displacement] with no separate add, and pfn * 12 is one
// three-operand multiply.
@inline function pageOff(pfn: u32): usize { return <usize>(pfn * PAGE_DESC_SIZE); }
@inline export function getNext(pfn: u32): u32 { return load<u32>(pageOff(pfn), PAGES_START + PAGE_NEXT); }
@inline export function setNext(pfn: u32, v: u32): void { store<u32>(pageOff(pfn), v, PAGES_START + PAGE_NEXT); }
@inline export function getPrev(pfn: u32): u32 { return load<u32>(pageOff(pfn), PAGES_START + PAGE_PREV); }
@inline export function setPrev(pfn: u32, v: u32): void { store<u32>(pageOff(pfn), v, PAGES_START + PAGE_PREV); }

/** flags | order << 8 | mt << 16 | zone << 24 */
@inline export function getWord(pfn: u32): u32 { return load<u32>(pageOff(pfn), PAGES_START + PAGE_WORD); }
@inline export function setWord(pfn: u32, v: u32): void { store<u32>(pageOff(pfn), v, PAGES_START + PAGE_WORD); }
@inline export function makeWord(flags: u32, order: u32, mt: u32, zone: u32): u32 {
  return flags | (order << 8) | (mt << 16) | (zone << 24);
}
@inline export function getFlags(pfn: u32): u32 { return <u32>load<u8>(pageOff(pfn), PAGES_START + PAGE_FLAGS); }
@inline export function setFlags(pfn: u32, v: u32): void { store<u8>(pageOff(pfn), <u8>v, PAGES_START + PAGE_FLAGS); }
@inline export function getOrder(pfn: u32): u32 { return <u32>load<u8>(pageOff(pfn), PAGES_START + PAGE_ORDER); }
@inline export function getMt(pfn: u32): u32 { return <u32>load<u8>(pageOff(pfn), PAGES_START + PAGE_MT); }
@inline export function setMt(pfn: u32, v: u32): void { store<u8>(pageOff(pfn), <u8>v, PAGES_START + PAGE_MT); }
@inline export function getZone(pfn: u32): u32 { return <u32>load<u8>(pageOff(pfn), PAGES_START + PAGE_ZONE); }

// The cold byte: host state in the low bits, the per-cpu list's cpu above them.
@inline function extAddr(pfn: u32): usize { return pageExtStart + <usize>pfn; }
@inline export function getHost(pfn: u32): u32 { return <u32>load<u8>(extAddr(pfn)) & EXT_HOST_MASK; }
@inline export function setHost(pfn: u32, v: u32): void {
  const a = extAddr(pfn);
  store<u8>(a, <u8>((<u32>load<u8>(a) & ~EXT_HOST_MASK) | v));
}
@inline export function getCpu(pfn: u32): u32 { return <u32>load<u8>(extAddr(pfn)) >> EXT_CPU_SHIFT; }
@inline export function setCpu(pfn: u32, v: u32): void {
  const a = extAddr(pfn);
  store<u8>(a, <u8>((<u32>load<u8>(a) & EXT_HOST_MASK) | (v << EXT_CPU_SHIFT)));
}

/** Kind bits of the state word: zero for a page inside a block (or a hole). */
@inline export function kindOf(word: u32): u32 { return word & PG_KIND_MASK; }
@inline export function orderOf(word: u32): u32 { return (word >> 8) & 0xff; }
@inline export function mtOf(word: u32): u32 { return (word >> 16) & 0xff; }
@inline export function zoneOf(word: u32): u32 { return word >> 24; }

/** page_is_buddy: a free head of exactly `order` in `zone`. One load, one compare. */
@inline export function isBuddyOfOrder(pfn: u32, order: u32, zone: u32): bool {
  return isBuddyWord(getWord(pfn), order, zone);
}
/** page_is_buddy on a state word already read. */
@inline export function isBuddyWord(w: u32, order: u32, zone: u32): bool {
  return buddyBits(w) == buddyKey(order, zone);
}
/**
 * The bits of a state word page_is_buddy compares (Buddy, order, zone), and the value they have on a free head
 * of `order` in `zone`. A caller testing several buddies builds the key once: the key of order + 1 is
 * key + (1 << 8).
 */
@inline export function buddyBits(w: u32): u32 { return w & 0xff00ff01; }
@inline export function buddyKey(order: u32, zone: u32): u32 { return PG_BUDDY | (order << 8) | (zone << 24); }

@inline export function pageblockMt(pfn: u32): u32 {
  return <u32>load<u8>(pageblockStart + <usize>(pfn >> PAGEBLOCK_ORDER));
}
@inline export function setPageblockMtRaw(pfn: u32, mt: u32): void {
  store<u8>(pageblockStart + <usize>(pfn >> PAGEBLOCK_ORDER), <u8>mt);
}

/**
 * Head of the block holding pfn, or NIL-like 0xffffffff if pfn is inside no block (a hole).
 * Blocks are aligned, so the head is the first aligned candidate pfn & ~(2^o - 1) carrying a kind bit with an
 * order >= o. Example: pfn 13 in a free order-2 block at 12: o=0 tests 13 (no kind bit), o=1 tests 12: a head
 * of order 2 >= 1, found.
 */
export function findHead(pfn: u32): u32 {
  for (let o: u32 = 0; o <= 10; o++) {
    const h = pfn & ~((<u32>1 << o) - 1);
    const w = getWord(h);
    if (kindOf(w) != 0) {
      if (orderOf(w) >= o) return h;
      return 0xffffffff; // a smaller block sits at h: pfn is in no block
    }
  }
  return 0xffffffff;
}

// Runs of pages whose state words are set or tested together (initMemory, releaseRange over a boot block): four
// descriptors are 48 bytes, three v128 words whose lanes hold, in order,
//   [next0 prev0 word0 next1] [prev1 word1 next2 prev2] [word2 next3 prev3 word3]
// so a group of four pages is set with three stores and tested with three loads. Only pages on no list are set
// this way (their links are never read; they are set to NIL).

// The lane patterns below spell out that layout (layout.ts): a change of the descriptor stops the build here.
// @ts-ignore: compile-time check (AssemblyScript's ERROR)
if (PAGE_NEXT != 0 || PAGE_PREV != 4 || PAGE_WORD != 8 || PAGE_DESC_SIZE != 12) ERROR('fillWords/allWordsAre assume next, prev, word in 12 bytes');

/** Set the state word of every pfn of [start, end) to w, and its links to NIL: pages on no list only. */
export function fillWords(start: u32, end: u32, w: u32): void {
  let p = start;
  for (; p < end && (p & 3) != 0; p++) setRunWord(p, w);
  const v0 = i32x4(NIL, NIL, w, NIL), v1 = i32x4(NIL, w, NIL, NIL), v2 = i32x4(w, NIL, NIL, w);
  for (; p + 4 <= end; p += 4) {
    const a = pageOff(p);
    v128.store(a, v0, PAGES_START);
    v128.store(a, v1, PAGES_START + 16);
    v128.store(a, v2, PAGES_START + 32);
  }
  for (; p < end; p++) setRunWord(p, w);
}

/** True when the state word of every pfn of [start, end) is w. */
export function allWordsAre(start: u32, end: u32, w: u32): bool {
  let p = start;
  for (; p < end && (p & 3) != 0; p++) if (getWord(p) != w) return false;
  // lanes that hold links always pass: (lane == w) | linkLane
  const pat0 = i32x4(0, 0, w, 0), pat1 = i32x4(0, w, 0, 0), pat2 = i32x4(w, 0, 0, w);
  const link0 = i32x4(-1, -1, 0, -1), link1 = i32x4(-1, 0, -1, -1), link2 = i32x4(0, -1, -1, 0);
  for (; p + 4 <= end; p += 4) {
    const a = pageOff(p);
    const ok = v128.and(
      v128.and(v128.or(i32x4.eq(v128.load(a, PAGES_START), pat0), link0), v128.or(i32x4.eq(v128.load(a, PAGES_START + 16), pat1), link1)),
      v128.or(i32x4.eq(v128.load(a, PAGES_START + 32), pat2), link2));
    if (!i32x4.all_true(ok)) return false;
  }
  for (; p < end; p++) if (getWord(p) != w) return false;
  return true;
}

@inline function setRunWord(p: u32, w: u32): void {
  setWord(p, w);
  setNext(p, NIL);
  setPrev(p, NIL);
}