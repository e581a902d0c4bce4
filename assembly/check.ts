// The invariant walk. Returns 0 when every invariant holds, else one of the INV_* codes of layout.ts;
// checkPfn/checkArg name the place.
import {
  NR_ORDERS, MIGRATE_TYPES, MT_ISOLATE, NIL, NO_ZONE, PG_BUDDY, PG_REPORTED, PG_ALLOCATED, PG_INFLIGHT, PG_PCP,
  PG_HOLE, PG_KIND_MASK, PG_CHECK_MARK, NR_PCP_LISTS, MAX_ORDER, INV_ORPHAN, INV_BAD_HEAD, INV_BLOCK_OVERLAP,
  INV_REPORTED_NOT_FREE, INV_KIND_BITS, INV_LIST_ENTRY, INV_LIST_LINKS, INV_NR_FREE, INV_FREE_PAGES, INV_LISTED,
  INV_PCP, INV_ALLOCATED, INV_INFLIGHT, INV_HOLE, INV_ZONE,
} from './layout';
import {
  getWord, getNext, getPrev, getFlags, setFlags, kindOf, flagsOf, orderOf, mtOf, zoneOf, getCpu,
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
  return NO_ZONE;
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
          if (p >= maxPfn) return fail(INV_LIST_LINKS, p, o);
          const w = getWord(p);
          if (kindOf(w) != PG_BUDDY || orderOf(w) != o || mtOf(w) != mt || zoneOf(w) != z) return fail(INV_LIST_ENTRY, p, o);
          if (getPrev(p) != prev) return fail(INV_LIST_LINKS, p, o);
          if (getMark(p)) return fail(INV_LISTED, p, o); // on two lists, or a cycle
          setMark(p);
          n++;
          if (mt != MT_ISOLATE) freePages += 1 << o;
          prev = p;
          p = getNext(p);
        }
        if (listTail(list) != prev) return fail(INV_LIST_LINKS, prev, o);
      }
      if (n != nrFree(z, o)) return fail(INV_NR_FREE, z, o);
    }
    if (freePages != zoneFreePages(z)) return fail(INV_FREE_PAGES, z, <u32>freePages);
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
          if (p >= maxPfn) return fail(INV_PCP, p, pi);
          const w = getWord(p);
          if (kindOf(w) != PG_PCP || orderOf(w) != o || zoneOf(w) != z || getCpu(p) != cpu) return fail(INV_PCP, p, pi);
          if (getPrev(p) != prev || getMark(p)) return fail(INV_PCP, p, pi);
          setMark(p);
          pages += 1 << o;
          prev = p;
          p = getNext(p);
        }
        if (listTail(list) != prev) return fail(INV_PCP, prev, pi);
      }
      if (pages != pcpCount(pcp)) return fail(INV_PCP, cpu, z);
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
    const flags = flagsOf(w) & ~PG_CHECK_MARK;
    const kind = flags & PG_KIND_MASK;
    const z = zoneOfPfn(pfn);
    if ((flags & PG_HOLE) != 0) {
      if (kind != 0) { r = fail(INV_HOLE, pfn, flags); break; }
      pfn++;
      continue;
    }
    if (z == NO_ZONE) { r = fail(INV_ZONE, pfn, NO_ZONE); break; }
    if (zoneOf(w) != z) { r = fail(INV_ZONE, pfn, zoneOf(w)); break; }
    if (kind == 0) { r = fail(INV_ORPHAN, pfn, 0); break; }
    if (kind != PG_BUDDY && kind != PG_ALLOCATED && kind != PG_INFLIGHT && kind != PG_PCP) { r = fail(INV_KIND_BITS, pfn, flags); break; }
    if ((flags & PG_REPORTED) != 0 && kind != PG_BUDDY) { r = fail(INV_REPORTED_NOT_FREE, pfn, flags); break; }
    const o = orderOf(w);
    if (o > MAX_ORDER || (pfn & ((<u32>1 << o) - 1)) != 0) { r = fail(INV_BAD_HEAD, pfn, o); break; }
    const onList = getMark(pfn);
    if ((kind == PG_BUDDY || kind == PG_PCP) && !onList) { r = fail(INV_LISTED, pfn, o); break; }
    if (kind != PG_BUDDY && kind != PG_PCP && onList) { r = fail(INV_LISTED, pfn, o); break; }
    clearMark(pfn);
    const end = pfn + (<u32>1 << o);
    if (end > zoneEndPfn(z) || end > maxPfn) { r = fail(INV_BLOCK_OVERLAP, pfn, o); break; }
    for (let q = pfn + 1; q < end; q++) {
      const wq = getWord(q);
      if (flagsOf(wq) != 0 || zoneOf(wq) != z) { r = fail(INV_BLOCK_OVERLAP, q, o); break; }
    }
    if (r != 0) break;
    if (kind == PG_ALLOCATED) allocated += <u32>1 << o;
    else if (kind == PG_INFLIGHT) inflight += <u32>1 << o;
    pfn = end;
  }
  if (r == 0 && allocated != allocatedPages) r = fail(INV_ALLOCATED, allocated, allocatedPages);
  if (r == 0 && inflight != inflightPages) r = fail(INV_INFLIGHT, inflight, inflightPages);
  if (r != 0) clearMarks();
  return r;
}

function clearMarks(): void {
  for (let p: u32 = 0; p < maxPfn; p++) clearMark(p);
}
