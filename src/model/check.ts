// The invariant walk (assembly/check.ts): throws InvariantError naming the first violation.
import { InvariantError } from '../core/errors.js';
import {
  MAX_ORDER_INCLUSIVE, MIGRATE_PCPTYPES, MIGRATE_TYPES, MigrateType, NR_ORDERS, NR_PCP_LISTS, PCP_FREE_FACTOR_MAX,
  PCP_THP_PINDEX,
} from '../core/types.js';
import { type ListSet, type ModelState, NIL } from './state.js';
import { ALLOCATED, FREE, INFLIGHT, KIND_NAMES, NONE, PCP, describe } from './page.js';
import { freeListIndex } from './freelist.js';
import { orderToPindex, pcpListIndex, pcpSet, pindexToOrder } from './pcp.js';

const { MOVABLE, CMA, ISOLATE } = MigrateType;

export function checkInvariants(s: ModelState): void {
  const fail = (msg: string): never => {
    throw new InvariantError(msg);
  };
  const heads = [0, 0, 0, 0, 0];
  let inflight = 0;

  // 1. Every present pfn lies in exactly one block, which lies in one zone and covers no hole.
  for (let p = 0; p < s.maxPfn; p++) {
    if (s.zoneOf[p] === -1 && (s.kind[p] !== NONE || s.reported[p])) fail(`pfn ${p} is a hole but has kind ${s.kind[p]}`);
  }
  for (let z = 0; z < s.nrZones; z++) {
    const { startPfn, endPfn } = s.zones[z]!;
    for (let p = startPfn; p < endPfn; ) {
      if (s.zoneOf[p] !== z) {
        p++;
        continue;
      }
      const k = s.kind[p]!;
      if (k === NONE) fail(`present pfn ${p} of zone ${z} lies in no block`);
      if (k > INFLIGHT) fail(`pfn ${p} has unknown kind ${k}`);
      const order = s.order[p]!;
      if (order > MAX_ORDER_INCLUSIVE) fail(`block at pfn ${p} has order ${order}`);
      const size = 1 << order;
      if (p & (size - 1)) fail(`block at pfn ${p} is not aligned to its order ${order}`);
      if (p + size > endPfn) fail(`block at pfn ${p} order ${order} passes the end of zone ${z}`);
      for (let q = p + 1; q < p + size; q++) {
        if (s.zoneOf[q] !== z) fail(`block at pfn ${p} order ${order} covers pfn ${q} outside zone ${z}`);
        if (s.kind[q] !== NONE) fail(`block at pfn ${p} order ${order} overlaps the block at pfn ${q}`);
        if (s.reported[q]) fail(`pfn ${q} inside the block at ${p} is marked Reported`);
      }
      if (s.reported[p] && k !== FREE) fail(`pfn ${p} is Reported but ${KIND_NAMES[k]}`);
      if (k === ALLOCATED && s.mt[p]! > CMA) fail(`allocated block at pfn ${p} has migratetype ${s.mt[p]}`);
      if (k === INFLIGHT) inflight += size;
      heads[k]!++;
      p += size;
    }
  }
  if (inflight !== s.stats.inflightPages) fail(`${inflight} pages are isolated but the counter says ${s.stats.inflightPages}`);
  for (let pb = 0; pb < s.pageblockMt.length; pb++) {
    if (s.pageblockMt[pb]! >= MIGRATE_TYPES) fail(`pageblock ${pb} has migratetype ${s.pageblockMt[pb]}`);
  }

  // 2. Free lists: links consistent both ways, every entry a free head of the list's zone/order/mt, each free
  // head on exactly one list, nr_free and NR_FREE_PAGES equal to what the lists hold.
  const seen = new Uint8Array(s.maxPfn);
  const walk = (lists: ListSet, l: number, what: string, visit: (pfn: number) => void): void => {
    let n = 0;
    let before = NIL;
    for (let p = lists.head[l]!; p !== NIL; p = s.next[p]!) {
      if (p < 0 || p >= s.maxPfn) fail(`${what}: link to pfn ${p} outside the guest`);
      if (seen[p]) fail(`${what}: pfn ${p} is on a list twice`);
      seen[p] = 1;
      if (s.prev[p] !== before) fail(`${what}: pfn ${p}.prev is ${s.prev[p]}, expected ${before}`);
      visit(p);
      before = p;
      n++;
    }
    if (lists.tail[l] !== before) fail(`${what}: tail is ${lists.tail[l]}, expected ${before}`);
    if (lists.len[l] !== n) fail(`${what}: length ${lists.len[l]} but ${n} entries`);
  };
  let listedFree = 0;
  for (let z = 0; z < s.nrZones; z++) {
    let nonIsolate = 0;
    for (let o = 0; o < NR_ORDERS; o++) {
      let blocks = 0;
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const l = freeListIndex(z, o, mt);
        walk(s.freeLists, l, `free_list(zone ${z}, order ${o}, mt ${mt})`, (p) => {
          if (s.kind[p] !== FREE || s.order[p] !== o || s.mt[p] !== mt || s.zoneOf[p] !== z) {
            fail(`free_list(zone ${z}, order ${o}, mt ${mt}) holds pfn ${p}, which is ${describe(s, p)} with mt ${s.mt[p]}`);
          }
        });
        blocks += s.freeLists.len[l]!;
        if (mt !== ISOLATE) nonIsolate += s.freeLists.len[l]! << o;
      }
      if (s.nrFree[z * NR_ORDERS + o] !== blocks) fail(`zone ${z} order ${o}: nr_free ${s.nrFree[z * NR_ORDERS + o]} but ${blocks} blocks listed`);
      listedFree += blocks;
    }
    if (s.nrFreePages[z] !== nonIsolate) fail(`zone ${z}: NR_FREE_PAGES ${s.nrFreePages[z]} but ${nonIsolate} pages on non-ISOLATE lists`);
  }
  if (listedFree !== heads[FREE]) fail(`${heads[FREE]} free heads but ${listedFree} listed`);

  // 3. Per-cpu lists: entries match their list's cpu, zone, order and type; counts add up.
  let listedPcp = 0;
  for (let c = 0; c < s.config.cpus; c++) {
    for (let z = 0; z < s.nrZones; z++) {
      let pages = 0;
      for (let pi = 0; pi < NR_PCP_LISTS; pi++) {
        const o = pindexToOrder(pi);
        const l = pcpListIndex(s, c, z, pi);
        walk(s.pcpLists, l, `pcp list (cpu ${c}, zone ${z}, pindex ${pi})`, (p) => {
          const listMt = s.mt[p]! >= MIGRATE_PCPTYPES ? MOVABLE : s.mt[p]!;
          if (s.kind[p] !== PCP || s.order[p] !== o || s.cpuOf[p] !== c || s.zoneOf[p] !== z || s.mt[p]! >= ISOLATE || (pi !== PCP_THP_PINDEX && orderToPindex(o, listMt) !== pi)) {
            fail(`pcp list (cpu ${c}, zone ${z}, pindex ${pi}) holds pfn ${p}, which is ${describe(s, p)} (cpu ${s.cpuOf[p]}, mt ${s.mt[p]})`);
          }
        });
        pages += s.pcpLists.len[l]! << o;
        listedPcp += s.pcpLists.len[l]!;
      }
      const set = pcpSet(s, c, z);
      if (s.pcpCount[set] !== pages) fail(`cpu ${c} zone ${z}: pcp count ${s.pcpCount[set]} but ${pages} pages listed`);
      if (s.pcpFreeFactor[set]! < 0 || s.pcpFreeFactor[set]! > PCP_FREE_FACTOR_MAX) fail(`cpu ${c} zone ${z}: free_factor ${s.pcpFreeFactor[set]}`);
    }
  }
  if (listedPcp !== heads[PCP]) fail(`${heads[PCP]} per-cpu heads but ${listedPcp} listed`);

  // 4. The report batch holds only isolated blocks.
  for (let i = s.offset; i < s.capacity; i++) {
    const p = s.slotPfn[i]!;
    if (p < 0 || p >= s.maxPfn || s.kind[p] !== INFLIGHT || s.order[p] !== s.slotOrder[i]) {
      fail(`report batch slot ${i} (pfn ${p}, order ${s.slotOrder[i]}) is not an isolated block`);
    }
  }
}
