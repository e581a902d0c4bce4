// The invariant walk. Returns 0 when every invariant holds, else a code; checkPfn/checkArg name the place.
//  1 orphan: a present pfn inside no block
//  2 misaligned head            3 block crosses a zone end / a hole / another head
//  4 Reported on a non-free head 5 bad kind bits (more than one kind)
//  6 list entry is not a free head of the list's order/mt/zone  7 list link broken (prev/next/tail)
//  8 nr_free differs from the list lengths  9 NR_FREE_PAGES differs from the lists
// 10 a free head on no list (or on two)     11 pcp list entry broken / count mismatch
// 12 allocated page count differs            13 in-flight page count differs
// 14 hole page carries a kind              15 zone byte differs from the zone's range
import {
  NR_ORDERS, MIGRATE_TYPES, MT_ISOLATE, NIL, PG_BUDDY, PG_REPORTED, PG_ALLOCATED, PG_INFLIGHT, PG_PCP,
  PG_HOLE, PG_KIND_MASK, PG_CHECK_MARK, NR_PCP_LISTS, MAX_ORDER,
} from './layout';
import {
  getWord, getNext, getPrev, getFlags, setFlags, kindOf, orderOf, mtOf, zoneOf, getCpu,
} from './page';
import { freeListAddr, nrFree, listHead, listTail } from './freelist';
import { zoneStartPfn, zoneEndPfn, zoneFreePages } from './zone';
import { pcpAddr, pcpListAddr, pcpCount, pindexToOrder } from './pcp';
import { maxPfn, nrZones, nrCpus, allocatedPages, inflightPages } from './state';

export let checkPfn: u32 = 0;
export let checkArg: u32 = 0;

// "Seen on a list": a flag bit that exists only while the check runs (every exit clears it again).
@inline function getMark(pfn: u32): bool { return (getFlags(pfn) & PG_CHECK_MARK) != 0; }
@inline function setMark(pfn: u32): void { setFlags(pfn, getFlags(pfn) | PG_CHECK_MARK); }
@inline function clearMark(pfn: u32): void { setFlags(pfn, getFlags(pfn) & ~PG_CHECK_MARK); }

@inline function fail(code: i32, pfn: u32, arg: u32): i32 {
  checkPfn = pfn;
  checkArg = arg;
  return code;
}

function zoneOfPfn(pfn: u32): u32 {
  for (let z: u32 = 0; z < nrZones; z++) {
    if (pfn >= zoneStartPfn(z) && pfn < zoneEndPfn(z)) return z;
  }
  return 0xff;
}

function checkLists(): i32 {
  for (let z: u32 = 0; z < nrZones; z++) {
    let freePages: i32 = 0;
    for (let o: u32 = 0; o < NR_ORDERS; o++) {
      let n: u32 = 0;
      for (let mt: u32 = 0; mt < MIGRATE_TYPES; mt++) {
        const list = freeListAddr(z, o, mt);
        let prev = NIL;
        let p = listHead(list);
        while (p != NIL) {
          if (p >= maxPfn) return fail(7, p, o);
          const w = getWord(p);
          if (kindOf(w) != PG_BUDDY || orderOf(w) != o || mtOf(w) != mt || zoneOf(w) != z) return fail(6, p, o);
          if (getPrev(p) != prev) return fail(7, p, o);
          if (getMark(p)) return fail(10, p, o); // on two lists, or a cycle
          setMark(p);
          n++;
          if (mt != MT_ISOLATE) freePages += 1 << o;
          prev = p;
          p = getNext(p);
        }
        if (listTail(list) != prev) return fail(7, prev, o);
      }
      if (n != nrFree(z, o)) return fail(8, z, o);
    }
    if (freePages != zoneFreePages(z)) return fail(9, z, <u32>freePages);
  }
  return 0;
}

function checkPcp(): i32 {
  for (let cpu: u32 = 0; cpu < nrCpus; cpu++) {
    for (let z: u32 = 0; z < nrZones; z++) {
      const pcp = pcpAddr(cpu, z);
      let pages: i32 = 0;
      for (let pi: u32 = 0; pi < NR_PCP_LISTS; pi++) {
        const list = pcpListAddr(pcp, pi);
        const o = pindexToOrder(pi);
        let prev = NIL;
        let p = listHead(list);
        while (p != NIL) {
          if (p >= maxPfn) return fail(11, p, pi);
          const w = getWord(p);
          if (kindOf(w) != PG_PCP || orderOf(w) != o || zoneOf(w) != z || getCpu(p) != cpu) return fail(11, p, pi);
          if (getPrev(p) != prev || getMark(p)) return fail(11, p, pi);
          setMark(p);
          pages += 1 << o;
          prev = p;
          p = getNext(p);
        }
        if (listTail(list) != prev) return fail(11, prev, pi);
      }
      if (pages != pcpCount(pcp)) return fail(11, cpu, z);
    }
  }
  return 0;
}

export function checkInvariants(): i32 {
  let r = checkLists();
  if (r == 0) r = checkPcp();
  let allocated: u32 = 0;
  let inflight: u32 = 0;
  let pfn: u32 = 0;
  // Walk every pfn by blocks; clear the list marks as heads are met so the next check starts clean.
  while (r == 0 && pfn < maxPfn) {
    const w = getWord(pfn);
    const flags = w & 0xff & ~PG_CHECK_MARK;
    const kind = flags & PG_KIND_MASK;
    const z = zoneOfPfn(pfn);
    if ((flags & PG_HOLE) != 0) {
      if (kind != 0) { r = fail(14, pfn, flags); break; }
      pfn++;
      continue;
    }
    if (z == 0xff) { r = fail(15, pfn, 0xff); break; }
    if (zoneOf(w) != z) { r = fail(15, pfn, zoneOf(w)); break; }
    if (kind == 0) { r = fail(1, pfn, 0); break; }
    if (kind != PG_BUDDY && kind != PG_ALLOCATED && kind != PG_INFLIGHT && kind != PG_PCP) { r = fail(5, pfn, flags); break; }
    if ((flags & PG_REPORTED) != 0 && kind != PG_BUDDY) { r = fail(4, pfn, flags); break; }
    const o = orderOf(w);
    if (o > MAX_ORDER || (pfn & ((<u32>1 << o) - 1)) != 0) { r = fail(2, pfn, o); break; }
    const onList = getMark(pfn);
    if ((kind == PG_BUDDY || kind == PG_PCP) && !onList) { r = fail(10, pfn, o); break; }
    if (kind != PG_BUDDY && kind != PG_PCP && onList) { r = fail(10, pfn, o); break; }
    clearMark(pfn);
    const end = pfn + (<u32>1 << o);
    if (end > zoneEndPfn(z) || end > maxPfn) { r = fail(3, pfn, o); break; }
    for (let q = pfn + 1; q < end; q++) {
      const wq = getWord(q);
      if ((wq & 0xff) != 0 || zoneOf(wq) != z) { r = fail(3, q, o); break; }
    }
    if (r != 0) break;
    if (kind == PG_ALLOCATED) allocated += <u32>1 << o;
    else if (kind == PG_INFLIGHT) inflight += <u32>1 << o;
    pfn = end;
  }
  if (r == 0 && allocated != allocatedPages) r = fail(12, allocated, allocatedPages);
  if (r == 0 && inflight != inflightPages) r = fail(13, inflight, inflightPages);
  if (r != 0) clearMarks();
  return r;
}

function clearMarks(): void {
  for (let p: u32 = 0; p < maxPfn; p++) clearMark(p);
}
