// The per-cpu lists at the start of a trace (src/replay/pcp-start.ts, docs/engine-rules.md "Per-cpu lists at the
// start of a trace"): the rules on small hand-written traces, then whole synthetic traced runs (a true guest with
// known per-cpu lists runs a workload and writes the ftrace text a 6.1 kernel would) replayed in modelled mode,
// where every drain and refill must come out as traced: lists that start empty, full, in between, a 1-CPU
// guest, and order-9 (THP) list traffic.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { WasmGuest } from '../src/core/guest.js';
import { MigrateType } from '../src/core/types.js';
import { loadRun } from '../src/importers/run-folder.js';
import { parseFtraceText, type KmemEvent, type PageAllocEvent } from '../src/importers/ftrace.js';
import { anchorTrace, pcpRulesOf } from '../src/replay/modelled.js';
import { claimZoneLocked, inferPcpStart, type PcpStart } from '../src/replay/pcp-start.js';
import { guestConfigOf, loadTrace, replayTrace, type TraceReplayResult } from '../src/replay/trace-replay.js';
import { type Recorder, type SyntheticRun, type SyntheticSpec, syntheticRun } from './helpers/synthetic-trace.js';

const { UNMOVABLE, MOVABLE } = MigrateType;
/** List indexes (6.1 order_to_pindex): order * 3 + type for orders 0..3, 12 for order 9. */
const P = { UNMOVABLE_0: 0, MOVABLE_0: 1, MOVABLE_1: 4, MOVABLE_2: 7, THP: 12 };

// --- the rules, on hand-written traces ---

/** A 2-cpu guest with a small DMA32 per-cpu high (100) and batch (10). */
function rulesGuest(): WasmGuest {
  return WasmGuest.create({
    profile: 'linux-6.1', cpus: 2,
    zones: [{ name: 'DMA32', startPfn: 4096, endPfn: 4096 + 65536, pcpHigh: 100, pcpBatch: 10, watermarks: { min: 0, low: 0, high: 0 } }],
  });
}

class TraceText {
  private lines: string[] = [];
  private t = 1;
  private add(cpu: number, what: string): this {
    this.t += 0.000001;
    this.lines.push(`  wl-1  [00${cpu}] d..2.  ${this.t.toFixed(6)}: ${what}`);
    return this;
  }
  alloc(cpu: number, pfn: number, order = 0, mt: number = MOVABLE) {
    return this.add(cpu, `mm_page_alloc: page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order} migratetype=${mt} gfp_flags=GFP_HIGHUSER_MOVABLE`);
  }
  zoneLocked(cpu: number, pfn: number, order = 0, mt: number = MOVABLE) {
    return this.add(cpu, `mm_page_alloc_zone_locked: page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order} migratetype=${mt} percpu_refill=1`);
  }
  refill(cpu: number, pfns: number[], order = 0, mt: number = MOVABLE) {
    for (const p of pfns) this.zoneLocked(cpu, p, order, mt);
    return this.alloc(cpu, pfns[0]!, order, mt);
  }
  free(cpu: number, pfn: number, order = 0) {
    return this.add(cpu, `mm_page_free: page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order}`);
  }
  drain(cpu: number, pfn: number, order = 0, mt: number = MOVABLE) {
    return this.add(cpu, `mm_page_pcpu_drain: page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order} migratetype=${mt}`);
  }
  events(): KmemEvent[] {
    return [...parseFtraceText(this.lines.join('\n'))] as KmemEvent[];
  }
}

function infer(t: TraceText, zoneinfo: Record<number, number> = {}) {
  const ev = t.events();
  const g = rulesGuest();
  return inferPcpStart(ev, anchorTrace(ev).listFree, pcpRulesOf(g), (cpu) => zoneinfo[cpu]);
}
const pcpOf = (r: ReturnType<typeof infer>, cpu: number): PcpStart => r.pcps.find((p) => p.cpu === cpu)!;
const pfnsOf = (l: { heads: Array<{ pfn: number }>; tails: Array<{ pfn: number }> }) => [...l.heads.map((x) => x.pfn), ...l.tails.map((x) => x.pfn).reverse()];

describe('start per-cpu lists: the rules', () => {
  it('a list whose first event is a refill held nothing: zoneinfo\'s pages go on a list the trace leaves open', () => {
    const t = new TraceText().refill(1, [5000, 5001, 5002]).alloc(1, 5001).alloc(0, 7000, 0, UNMOVABLE);
    const c1 = pcpOf(infer(t, { 1: 40 }), 1);
    expect(c1.lists[P.MOVABLE_0]).toMatchObject({ closedBy: 'refill', heads: [], tails: [], fill: 0 });
    expect(c1).toMatchObject({ count: 40, pinnedBy: 'zoneinfo', named: 0 });
    expect(c1.lists[P.UNMOVABLE_0]!.fill).toBe(40);
    // cpu 0's UNMOVABLE list gave 7000 without a refill: that page was its head.
    expect(pfnsOf(pcpOf(infer(t, { 1: 40 }), 0).lists[P.UNMOVABLE_0]!)).toEqual([7000]);
  });

  it('allocations name the head in order; a refill after them closes the list with exactly those', () => {
    const t = new TraceText()
      .alloc(0, 6000).alloc(0, 6001)
      .free(0, 9000).free(0, 9001) // in-trace pages go in front of the start pages
      .alloc(0, 9001).alloc(0, 9000).alloc(0, 6002)
      .refill(0, [8000, 8001]);
    const c0 = pcpOf(infer(t), 0);
    const l = c0.lists[P.MOVABLE_0]!;
    expect(pfnsOf(l)).toEqual([6000, 6001, 6002]);
    expect(l.closedBy).toBe('refill');
    expect(c0).toMatchObject({ count: 3, named: 3, pinnedBy: 'known' });
  });

  it('drain_pages: its drains name each list\'s tail, show the lists between empty, and pin count', () => {
    // After an allocation (no free to trigger a bulk free) every list is drained from list 0 on.
    const t = new TraceText().alloc(0, 6200)
      .drain(0, 6000, 0, UNMOVABLE).drain(0, 6001, 0, UNMOVABLE).drain(0, 6100).drain(0, 12000, 1).drain(0, 16384, 9);
    const c0 = pcpOf(infer(t, { 0: 7 }), 0);
    expect(pfnsOf(c0.lists[P.UNMOVABLE_0]!)).toEqual([6001, 6000]);
    expect(pfnsOf(c0.lists[P.MOVABLE_0]!)).toEqual([6200, 6100]);
    expect(pfnsOf(c0.lists[P.MOVABLE_1]!)).toEqual([12000]);
    expect(pfnsOf(c0.lists[P.THP]!)).toEqual([16384]);
    const by = c0.lists.map((l) => l.closedBy);
    expect([by[0], by[1], by[4]]).toEqual(['emptied', 'emptied', 'emptied']);
    for (const p of [2, 3, 5, 6, 7, 8, 9, 10, 11]) expect(by[p]).toBe('skipped');
    expect(by[P.THP]).toBe('drained all');
    expect(c0).toMatchObject({ count: 518, named: 518, pinnedBy: 'drain', contradictions: 0 });
  });

  it('a drain of a page the trace freed means the start pages were gone; one named later on that list is a contradiction', () => {
    const t = new TraceText().free(0, 9000).drain(0, 6000).drain(0, 9000).drain(0, 6001);
    const c0 = pcpOf(infer(t), 0);
    expect(c0.lists[P.MOVABLE_0]).toMatchObject({ closedBy: 'old page drained', tails: [{ pfn: 6000 }] });
    expect(c0.contradictions).toBeGreaterThan(0);
  });

  it('a refill belongs to the allocation of its first block, of its order and type, even with another allocation between', () => {
    // cpu 0 refills its MOVABLE list (5000, 5001); an interrupt's UNMOVABLE allocation comes before the
    // mm_page_alloc of 5000; an earlier MOVABLE block (4000) was taken for an allocation the trace does not show.
    const all = new TraceText().zoneLocked(0, 4000).zoneLocked(0, 5000).zoneLocked(0, 5001)
      .alloc(0, 7000, 0, UNMOVABLE).alloc(0, 5000).events();
    const [irq, alloc] = [all[3] as PageAllocEvent, all[4] as PageAllocEvent];
    const pending = [0, 1, 2];
    expect(claimZoneLocked(pending, all, irq)).toEqual({ claimed: [], dropped: [] });
    expect(claimZoneLocked(pending, all, alloc)).toEqual({ claimed: [1, 2], dropped: [0] });
    expect(pending).toEqual([]);
    // The inference sees the refill of cpu 0's MOVABLE list and UNMOVABLE's head 7000.
    const g = rulesGuest();
    const c0 = inferPcpStart(all, anchorTrace(all).listFree, pcpRulesOf(g), () => undefined).pcps[0]!;
    expect(c0.lists[P.MOVABLE_0]!.closedBy).toBe('refill');
    expect(pfnsOf(c0.lists[P.UNMOVABLE_0]!)).toEqual([7000]);
  });

  it('count: a free without a bulk free bounds it from above, the one with a bulk free from below', () => {
    // 96 + 3 frees: the 99th (count0 + 99 >= 100) triggers, the 98th did not (count0 + 98 < 100): count0 = 1.
    const t = new TraceText();
    for (let i = 0; i < 98; i++) t.free(0, 10000 + i);
    t.free(0, 10098).drain(0, 6000);
    for (let k = 1; k < 10; k++) t.drain(0, 10000 + k - 1);
    const c0 = pcpOf(infer(t, { 0: 50 }), 0);
    expect(c0).toMatchObject({ count: 1, pinnedBy: 'drain', bounds: [1, 1], named: 1, freeFactor: 0 });
    // Without the drain, zoneinfo's 50 is outside the bound (count0 + 98 < 100): the bound wins.
    const u = new TraceText();
    for (let i = 0; i < 98; i++) u.free(0, 10000 + i);
    expect(pcpOf(infer(u, { 0: 50 }), 0)).toMatchObject({ count: 1, pinnedBy: 'drain', bounds: [0, 1] });
    expect(pcpOf(infer(u, { 0: 1 }), 0)).toMatchObject({ count: 1, pinnedBy: 'zoneinfo' });
  });

  it('free_factor at the start: the one that gives every bulk free its size', () => {
    // count0 = 99: the first free triggers a bulk free of 40 pages = batch 10 << 2: free_factor was 2.
    const t = new TraceText().free(0, 10000);
    for (let k = 0; k < 40; k++) t.drain(0, 6000 + k);
    const c0 = pcpOf(infer(t), 0);
    expect(c0.freeFactor).toBe(2);
    expect(c0.contradictions).toBe(0);
    // An order-1 free with free_factor > 0 takes everything (free_high): count is exact.
    const u = new TraceText().free(0, 10000);
    for (let k = 0; k < 10; k++) u.drain(0, 6000 + k);
    // The round robin starts at the order-1 list (the freed block, then empty), steps over lists 5..12 and 0, and
    // ends on the order-0 list: its start pages, then the page freed in the trace.
    u.free(0, 12000, 1).drain(0, 12000, 1);
    for (let k = 10; k < 99; k++) u.drain(0, 6000 + k);
    u.drain(0, 10000);
    const c = pcpOf(infer(u, { 0: 500 }), 0);
    expect(c).toMatchObject({ count: 99, pinnedBy: 'drain', named: 99, freeFactor: 0, contradictions: 0 });
    expect(c.lists.every((l) => l.closedBy !== null)).toBe(true);
  });
});

// --- whole runs ---

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(spec: SyntheticSpec): { syn: SyntheticRun; r: TraceReplayResult } {
  const syn = syntheticRun(spec);
  dirs.push(syn.dir);
  const r = replayTrace(loadRun(syn.dir), { mode: 'modelled' });
  return { syn, r };
}

/** Modelled mode reproduced every drain and refill, block for block, with no carving. */
function expectExact(r: TraceReplayResult): void {
  const m = r.modelled!;
  expect(m.startContradictions).toBe(0);
  expect(m.initialSkipped).toBe(0);
  expect({ pcp: m.carvedFromPcp, buddy: m.carvedFromBuddy, failed: m.carveFailed, notAllocated: m.freeNotAllocated })
    .toEqual({ pcp: 0, buddy: 0, failed: 0, notAllocated: 0 });
  expect(m.allocSamePfn).toBe(m.allocs);
  for (const s of [m.drains, m.zoneLocked]) {
    expect({ sim: s.sim, same: s.same, groups: s.simGroups, groupsSame: s.groupsSame }).toEqual({ sim: s.trace, same: s.trace, groups: s.traceGroups, groupsSame: s.traceGroups });
  }
}

/** What the rebuilt lists say against the true ones: closed lists exactly, open ones at both ends. */
function expectTrueLists(syn: SyntheticRun, dir: string): PcpStart[] {
  const run = loadRun(dir);
  const trace = loadTrace(run);
  const g = new WasmGuest(guestConfigOf(run));
  const inferred = inferPcpStart(trace.kmem, anchorTrace(trace.kmem).listFree, pcpRulesOf(g), () => undefined);
  const dma32 = inferred.pcps.filter((p) => p.zoneName === 'DMA32');
  for (const p of dma32) {
    for (const l of p.lists) {
      const truth = syn.startLists[p.cpu]![l.pindex]!;
      const named = pfnsOf(l);
      if (l.closedBy) expect(named, `cpu ${p.cpu} list ${l.pindex}`).toEqual(truth);
      else {
        expect(truth.slice(0, l.heads.length)).toEqual(l.heads.map((x) => x.pfn));
        expect(truth.slice(truth.length - l.tails.length)).toEqual(l.tails.map((x) => x.pfn).reverse());
      }
    }
  }
  return dma32;
}

/**
 * The fragmenting workload of the unseen traced run (E4's shape): touch `pages` 4 KiB pages (a page-table page
 * every 512), MADV_DONTNEED every other page (freed in lists as zap does), hold, unmap the rest, then the exit's
 * page-table frees, the last an order-1 root (a free_high flush when free_factor is up).
 */
function fragment(w: Recorder, cpu: number, pages: number, other?: { cpu: number; every: number }, exit = true): void {
  const user: number[] = [], tables: number[] = [];
  for (let i = 0; i < pages; i++) {
    if (i % 512 === 0) tables.push(w.alloc(cpu, 0, UNMOVABLE));
    user.push(w.alloc(cpu, 0, MOVABLE));
    // Another cpu's kernel work interleaves.
    if (other && i % other.every === 0) w.free(other.cpu, w.alloc(other.cpu, 0, UNMOVABLE), 0);
  }
  const root = w.alloc(cpu, 1, UNMOVABLE);
  const lists = (pfns: number[]) => {
    for (let i = 0; i < pfns.length; i += 256) w.freeList(cpu, pfns.slice(i, i + 256));
  };
  lists(user.filter((_, i) => i % 2 === 1));
  lists(user.filter((_, i) => i % 2 === 0));
  for (const t of tables) w.free(cpu, t, 0);
  if (exit) w.free(cpu, root, 1);
}

describe('synthetic traced runs: modelled replay reproduces every drain and refill', () => {
  it('a list that starts empty while zoneinfo counts other pages (the unseen run\'s case)', () => {
    // cpu 1 holds 40 UNMOVABLE pages no event touches; its MOVABLE list is empty: its first event there is a
    // refill. zoneinfo says 40.
    const { syn, r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31,
      start: [{ cpu: 1, pindex: P.UNMOVABLE_0, blocks: 40 }],
      // No exit flush: nothing drains the UNMOVABLE pages, so only zoneinfo tells they are there.
      workload: (w) => fragment(w, 1, 6000, { cpu: 0, every: 100 }, false),
    });
    expectExact(r);
    const m = r.modelled!;
    expect(m.drains.trace).toBeGreaterThan(50);
    expect(m.zoneLocked.traceGroups).toBeGreaterThan(100);
    // Its page-table allocations take 12 of them; the bulk frees bound count to exactly 40 (zoneinfo agrees); the
    // 28 nobody touches go on the UNMOVABLE list, the one list the trace leaves open.
    const c1 = m.initial.find((x) => x.cpu === 1)!;
    expect(c1).toMatchObject({ count: 40, pinnedBy: 'drain', known: 12, placeholders: 28, bounds: [40, 40] });
    expect(c1.lists).toContainEqual({ pindex: P.MOVABLE_0, order: 0, named: 0, placeholders: 0, closedBy: 'refill' });
    expect(c1.lists).toContainEqual({ pindex: P.UNMOVABLE_0, order: 0, named: 12, placeholders: 28, closedBy: null });
    expectTrueLists(syn, syn.dir);
  });

  it('a list that starts full: bulk frees name its tail and pin count though zoneinfo is stale', () => {
    const { syn, r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31, zoneinfoSkew: [200, 0],
      start: [{ cpu: 0, pindex: P.MOVABLE_0, blocks: 990 }, { cpu: 0, pindex: P.UNMOVABLE_0, blocks: 5 }],
      workload: (w) => {
        // cpu 0 takes a few of its start pages; cpu 1 faults pages in; cpu 0 frees them (a cross-cpu free), with
        // an allocation now and then.
        const taken = Array.from({ length: 30 }, () => w.alloc(0, 0, MOVABLE));
        const pages = Array.from({ length: 4000 }, () => w.alloc(1, 0, MOVABLE));
        pages.forEach((p, i) => {
          w.free(0, p, 0);
          if (i % 97 === 0) taken.push(w.alloc(0, 0, MOVABLE));
        });
        for (const p of taken) w.free(0, p, 0);
      },
    });
    expectExact(r);
    const m = r.modelled!;
    expect(m.drains.sameFromStartLists).toBeGreaterThan(900);
    expect(m.allocSameFromStartLists).toBe(30);
    const c0 = m.initial.find((x) => x.cpu === 0)!;
    // The 5 UNMOVABLE pages are never drained (the MOVABLE list always has enough): they are the 5 unnamed ones.
    expect(c0).toMatchObject({ count: 995, pinnedBy: 'drain', known: 990, placeholders: 5, zoneinfo: 1195 });
    expect(c0.lists).toContainEqual({ pindex: P.UNMOVABLE_0, order: 0, named: 0, placeholders: 5, closedBy: null });
    expect(expectTrueLists(syn, syn.dir).find((p) => p.cpu === 0)!.count).toBe(syn.startCounts[0]);
  });

  it('a trace begun inside a run of bulk frees (free_factor 3 at the start): the inferred factor is applied, every drain reproduced', () => {
    const { r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31, startFreeFactor: [3, 0],
      start: [{ cpu: 0, pindex: P.MOVABLE_0, blocks: 900 }],
      workload: (w) => {
        // cpu 1 faults pages in, cpu 0 frees them with no allocation between: the first bulk free is 31 << 3.
        const pages = Array.from({ length: 3000 }, () => w.alloc(1, 0, MOVABLE));
        for (const p of pages) w.free(0, p, 0);
      },
    });
    expectExact(r);
    const c0 = r.modelled!.initial.find((x) => x.cpu === 0)!;
    expect(c0.freeFactor).toBe(3);
  });

  it('a refill takes count past high before the first bulk free: count is bounded by the frees on both sides', () => {
    // 990 pages, high 1000: five frees stay below high (count0 <= 994), an UNMOVABLE refill adds 31, the next free
    // bulk frees (count0 >= 964), and the frees after pin it (990). zoneinfo, read earlier, says 993.
    const { syn, r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31, zoneinfoSkew: [3, 0],
      start: [{ cpu: 0, pindex: P.MOVABLE_0, blocks: 990 }],
      workload: (w) => {
        const pages = Array.from({ length: 400 }, () => w.alloc(1, 0, MOVABLE));
        for (let i = 0; i < 5; i++) w.free(0, pages[i]!, 0);
        const k = w.alloc(0, 0, UNMOVABLE);
        for (let i = 5; i < 400; i++) w.free(0, pages[i]!, 0);
        w.free(0, k, 0);
      },
    });
    expectExact(r);
    expect(r.modelled!.drains.traceGroups).toBeGreaterThan(2);
    expect(r.modelled!.initial.find((x) => x.cpu === 0)).toMatchObject({ count: 990, pinnedBy: 'drain', bounds: [990, 990], zoneinfo: 993 });
    expectTrueLists(syn, syn.dir);
  });

  it('lists in between, on both cpus and several orders, with free_high flushes', () => {
    const { syn, r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31, zoneinfoSkew: [-50, 30], seed: 7,
      start: [
        { cpu: 0, pindex: P.MOVABLE_0, blocks: 300 }, { cpu: 0, pindex: P.UNMOVABLE_0, blocks: 20 },
        { cpu: 0, pindex: P.MOVABLE_1, blocks: 6 }, { cpu: 0, pindex: P.MOVABLE_2, blocks: 3 }, { cpu: 0, pindex: P.THP, blocks: 1 },
        { cpu: 1, pindex: P.MOVABLE_0, blocks: 120 }, { cpu: 1, pindex: P.UNMOVABLE_0, blocks: 8 },
      ],
      workload: (w) => {
        const small = Array.from({ length: 4 }, () => w.alloc(0, 1, MOVABLE));
        fragment(w, 0, 5000, { cpu: 1, every: 50 });
        for (const p of small) w.free(0, p, 1);
        fragment(w, 1, 3000);
      },
    });
    expectExact(r);
    const m = r.modelled!;
    expect(m.drains.traceGroups).toBeGreaterThan(10);
    expect(m.drains.sameFromStartLists).toBeGreaterThan(0);
    const lists = expectTrueLists(syn, syn.dir);
    // cpu 0's order-1 list gave 4 of its 6 blocks to allocations before anything else touched it.
    expect(lists.find((p) => p.cpu === 0)!.lists[P.MOVABLE_1]!.heads).toHaveLength(4);
  });

  it('a 1-CPU guest (the real per-cpu high and batch of a 1 GiB guest)', () => {
    const { syn, r } = run({
      cpus: 1, dma32Pages: 65536, pcpHigh: 6928, pcpBatch: 63, zoneinfoSkew: [100], seed: 3,
      start: [{ cpu: 0, pindex: P.MOVABLE_0, blocks: 500 }, { cpu: 0, pindex: P.UNMOVABLE_0, blocks: 30 }],
      workload: (w) => fragment(w, 0, 20000),
    });
    expectExact(r);
    expect(r.config.cpus).toBe(1);
    expect(r.modelled!.drains.trace).toBeGreaterThan(1000);
    expectTrueLists(syn, syn.dir);
  });

  it('order-9 (THP) list traffic: refills of 2 blocks, frees of whole folios, bulk frees of order-9 blocks', () => {
    const { syn, r } = run({
      cpus: 2, dma32Pages: 65536, pcpHigh: 6928, pcpBatch: 63, seed: 5,
      start: [{ cpu: 0, pindex: P.THP, blocks: 2 }, { cpu: 0, pindex: P.MOVABLE_0, blocks: 100 }],
      workload: (w) => {
        const thp0 = Array.from({ length: 24 }, () => w.alloc(0, 9, MOVABLE, 'GFP_TRANSHUGE'));
        const small = Array.from({ length: 300 }, () => w.alloc(0, 0, MOVABLE));
        const thp1 = Array.from({ length: 12 }, () => w.alloc(1, 9, MOVABLE, 'GFP_TRANSHUGE'));
        for (const p of thp0) w.free(0, p, 9);
        w.freeList(0, small);
        for (const p of thp1) w.free(1, p, 9);
        for (let i = 0; i < 6; i++) w.free(0, w.alloc(0, 9, MOVABLE, 'GFP_TRANSHUGE'), 9);
      },
    });
    expectExact(r);
    const m = r.modelled!;
    expect(syn.counts['mm_page_pcpu_drain']).toBeGreaterThan(0);
    expect(m.drains.trace).toBe(syn.counts['mm_page_pcpu_drain']);
    expect(m.allocSameFromStartLists).toBeGreaterThanOrEqual(2);
    const c0 = expectTrueLists(syn, syn.dir).find((p) => p.cpu === 0)!;
    expect(c0.lists[P.THP]!.heads.map((x) => x.order)).toEqual([9, 9]);
  });

  it('ablation: the same full-list run replayed from empty lists misses drains and refills', () => {
    const syn = syntheticRun({
      cpus: 2, dma32Pages: 65536, pcpHigh: 1000, pcpBatch: 31,
      start: [{ cpu: 0, pindex: P.MOVABLE_0, blocks: 990 }],
      workload: (w) => {
        const pages = Array.from({ length: 3000 }, () => w.alloc(1, 0, MOVABLE));
        for (const p of pages) w.free(0, p, 0);
      },
    });
    dirs.push(syn.dir);
    const e = replayTrace(loadRun(syn.dir), { mode: 'modelled', pcpStart: 'empty' }).modelled!;
    expect(e.drains.same).toBeLessThan(e.drains.trace);
    expect(e.drains.groupsSame).toBeLessThan(e.drains.traceGroups);
    expectExact(replayTrace(loadRun(syn.dir), { mode: 'modelled' }));
  });
});
