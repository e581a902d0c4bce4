// Synthetic traced runs: a "true" guest in a known state, per-cpu lists included, runs a workload while every
// kmem event the 6.1 kernel would emit is written as ftrace text (the format src/importers/ftrace.ts reads),
// together with the files a replay starts from: the free blocks (kpageflags.pre.blocks.csv, as the kpageflags
// dump decodes them: per-cpu pages are not free there) and /proc/zoneinfo with each cpu's per-cpu count.
// The replay sees only those files; what the true guest had on its per-cpu lists is returned for the test.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmGuest } from '../../src/core/guest.js';
import { resolveGuest } from '../../src/core/config.js';
import { MigrateType, PAGEBLOCK_PAGES } from '../../src/core/types.js';
import { parseZoneinfo, zoneSpecsFromZoneinfo } from '../../src/importers/zoneinfo.js';
import { freeBlocksOf } from '../../src/replay/trace-replay.js';

export interface SyntheticSpec {
  cpus: number;
  /** DMA32 pages, from pfn 4096. */
  dma32Pages: number;
  pcpHigh: number;
  pcpBatch: number;
  /** Blocks on each cpu's DMA32 per-cpu lists at the start, by list index. */
  start: Array<{ cpu: number; pindex: number; blocks: number }>;
  /** zoneinfo's count is read a moment before the trace: the true count plus this, per cpu (default 0). */
  zoneinfoSkew?: number[];
  /** free_factor of each cpu's DMA32 lists at the start (a trace begun inside a run of bulk frees; default 0). */
  startFreeFactor?: number[];
  seed?: number;
  workload(w: Recorder): void;
}

export interface SyntheticRun {
  dir: string;
  /** The true start lists, [cpu][pindex] head first (DMA32). */
  startLists: number[][][];
  startCounts: number[];
  /** Events written, by kind. */
  counts: Record<string, number>;
}

const DMA32_START = 4096;
/** The types per-cpu lists are kept for, MOVABLE first (the THP list's pages are movable). */
const LIST_TYPES = [MigrateType.MOVABLE, MigrateType.UNMOVABLE, MigrateType.RECLAIMABLE];
/** UNMOVABLE pageblocks at the bottom of DMA32, all allocated at the start ("kernel memory"). */
const KERNEL_BLOCKS = 4;
/** MOVABLE pageblocks after them, all allocated at the start (pages in use, and where start per-cpu pages come from). */
const USER_BLOCKS = 12;
/** Then pageblocks with every third page allocated (small free blocks), then free memory. */
const SPARSE_BLOCKS = 8;

function zoneinfoText(spec: SyntheticSpec, counts: number[][]): string {
  const pagesets = (zone: number, high: number, batch: number) =>
    Array.from({ length: spec.cpus }, (_, c) =>
      `    cpu: ${c}\n              count: ${counts[zone]![c]!}\n              high:  ${high}\n              batch: ${batch}\n  vm stats threshold: 4\n`).join('');
  const zone = (name: string, start: number, spanned: number, present: number, wm: [number, number, number], idx: number, high: number, batch: number) =>
    `Node 0, zone ${name.padStart(8)}\n  pages free     0\n        boost    0\n        min      ${wm[0]}\n        low      ${wm[1]}\n        high     ${wm[2]}\n` +
    `        spanned  ${spanned}\n        present  ${present}\n        managed  ${present}\n        cma      0\n        protection: (0, 0, 0, 0, 0)\n` +
    `      nr_free_pages 0\n  pagesets\n${pagesets(idx, high, batch)}  node_unreclaimable:  0\n  start_pfn:           ${start}\n`;
  return zone('DMA', 1, 4095, 3998, [177, 221, 265], 0, 110, 1) +
    zone('DMA32', DMA32_START, spec.dma32Pages, spec.dma32Pages, [256, 320, 384], 1, spec.pcpHigh, spec.pcpBatch);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes what a 6.1 kernel traces for each operation, applying it to the true guest. */
export class Recorder {
  readonly lines: string[] = [];
  readonly counts: Record<string, number> = {};
  private ts = 20;
  constructor(readonly g: WasmGuest, readonly random: () => number) {}

  private emit(cpu: number, event: string, args: string): void {
    this.ts += 0.000002;
    this.counts[event] = (this.counts[event] ?? 0) + 1;
    this.lines.push(`              wl-200     [${String(cpu).padStart(3, '0')}] d..2. ${this.ts.toFixed(6).padStart(12)}: ${event}: ${args}`);
  }
  private page(pfn: number): string {
    return `page=(____ptrval____) pfn=0x${pfn.toString(16)}`;
  }
  private zoneOf(pfn: number): number {
    return this.g.config.zones.findIndex((z) => pfn >= z.startPfn && pfn < z.endPfn);
  }

  marker(text: string): void {
    this.emit(0, 'tracing_mark_write', `@T ${this.ts.toFixed(6)} ${text}`);
  }

  /** __alloc_pages on `cpu`; returns the pfn, or -1 (traced as pfn=0). */
  alloc(cpu: number, order: number, mt: MigrateType, gfp = mt === MigrateType.MOVABLE ? 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO' : 'GFP_KERNEL'): number {
    const g = this.g;
    const pindex = g.pcpIndex(order, mt);
    const empty = g.config.zones.map((_, z) => pindex >= 0 && g.pcpListHead(cpu, z, pindex) < 0);
    const pbBefore = g.pageblockView().slice();
    const x = g.alloc(order, mt, { cpu });
    if (x < 0) {
      this.emit(cpu, 'mm_page_alloc', `page=0000000000000000 pfn=0x0 order=${order} migratetype=${mt} gfp_flags=${gfp}`);
      return -1;
    }
    const z = this.zoneOf(x);
    // A steal changed pageblocks: __rmqueue_fallback traces it before the block is taken.
    const pbAfter = g.pageblockView();
    for (let pb = 0; pb < pbBefore.length; pb++) {
      if (pbBefore[pb] !== pbAfter[pb]) {
        this.emit(cpu, 'mm_page_alloc_extfrag', `${this.page(pb * PAGEBLOCK_PAGES)} alloc_order=${order} fallback_order=9 pageblock_order=9 alloc_migratetype=${mt} fallback_migratetype=${pbBefore[pb]} fragmenting=0 change_ownership=1`);
      }
    }
    const blocks = pindex < 0 ? [x] : empty[z] ? [x, ...g.pcpList(cpu, z, pindex)] : [];
    for (const b of blocks) this.emit(cpu, 'mm_page_alloc_zone_locked', `${this.page(b)} order=${order} migratetype=${mt} percpu_refill=${pindex < 0 ? 0 : 1}`);
    this.emit(cpu, 'mm_page_alloc', `${this.page(x)} order=${order} migratetype=${mt} gfp_flags=${gfp}`);
    return x;
  }

  /** free_unref_page (or a direct free for orders per-cpu lists do not take). */
  free(cpu: number, pfn: number, order: number): void {
    this.emit(cpu, 'mm_page_free', `${this.page(pfn)} order=${order}`);
    this.commit(cpu, pfn, order);
  }

  /** free_unref_page_list: every page prepared (mm_page_free), then committed one by one. */
  freeList(cpu: number, pfns: readonly number[]): void {
    for (const p of pfns) this.emit(cpu, 'mm_page_free', `${this.page(p)} order=0`);
    for (const p of pfns) {
      this.emit(cpu, 'mm_page_free_batched', `${this.page(p)} order=0`);
      this.commit(cpu, p, 0);
    }
  }

  /** The free itself, and the bulk free it triggers, list by list from the freed page's list, tails first. */
  private commit(cpu: number, pfn: number, order: number): void {
    const g = this.g;
    const z = this.zoneOf(pfn);
    const p0 = g.pcpIndex(order, g.getPageblockMt(pfn));
    // Only a free that may bulk free needs the lists beforehand: count reaching high, or free_high (orders 1..3).
    const may = p0 >= 0 && (g.pcpCount(cpu, z) + 2 ** order >= g.config.zones[z]!.pcpHigh || (order >= 1 && order <= 3));
    const lists = may ? g.pcpLists(cpu, z) : [];
    const mts = new Map<number, number>();
    for (const l of lists) for (const p of l) mts.set(p, g.recordedMt(p));
    mts.set(pfn, g.getPageblockMt(pfn));
    const drains = g.counters().pcpDrains;
    g.free(pfn, order, { cpu });
    if (g.counters().pcpDrains === drains) return;
    if (!may) throw new Error(`synthetic trace: an unforeseen bulk free of ${pfn}`);
    lists[p0]!.unshift(pfn);
    for (let s = 0; s < lists.length; s++) {
      const p = (p0 + s) % lists.length;
      const now = g.pcpList(cpu, z, p).length;
      for (let j = lists[p]!.length - 1; j >= now; j--) {
        const d = lists[p]![j]!;
        this.emit(cpu, 'mm_page_pcpu_drain', `${this.page(d)} order=${g.pcpIndexOrder(p)} migratetype=${mts.get(d)}`);
      }
    }
  }
}

/** Build the true guest, run the workload, write the run folder. */
export function syntheticRun(spec: SyntheticSpec): SyntheticRun {
  const random = mulberry32(spec.seed ?? 1);
  // The zone layout does not depend on the counts zoneinfo prints, so the guest comes first.
  const none = Array(spec.cpus).fill(0);
  const zones = zoneSpecsFromZoneinfo(parseZoneinfo(zoneinfoText(spec, [none, none])));
  const g = new WasmGuest(resolveGuest({ profile: 'linux-6.1', zones, cpus: spec.cpus }));
  const startCounts = Array.from({ length: spec.cpus }, (_, c) =>
    spec.start.filter((s) => s.cpu === c).reduce((a, s) => a + s.blocks * 2 ** g.pcpIndexOrder(s.pindex), 0));
  const skew = (c: number) => spec.zoneinfoSkew?.[c] ?? 0;
  const zi = zoneinfoText(spec, [none, startCounts.map((n, c) => Math.max(0, n + skew(c)))]);

  // The start: kernel pageblocks, pages in use, a sparse stretch, then free memory; free blocks go on their lists
  // in ascending pfn at the tail (as the replay rebuilds them from the dump), the large ones already Reported.
  const end = DMA32_START + spec.dma32Pages;
  for (let b = 0; b < KERNEL_BLOCKS; b++) g.setPageblockMt(DMA32_START + b * PAGEBLOCK_PAGES, MigrateType.UNMOVABLE);
  const sparseStart = DMA32_START + (KERNEL_BLOCKS + USER_BLOCKS) * PAGEBLOCK_PAGES;
  const freeStart = sparseStart + SPARSE_BLOCKS * PAGEBLOCK_PAGES;
  const ranges: Array<[number, number]> = [];
  for (let p = sparseStart; p < freeStart; p += 3) ranges.push([p + 1, Math.min(p + 3, freeStart)]);
  ranges.push([freeStart, end]);
  for (const [a, b] of ranges) {
    let p = a;
    while (p < b) {
      let o = 10;
      while (o > 0 && (p % 2 ** o !== 0 || p + 2 ** o > b)) o--;
      g.placeFreeBlock(p, o, g.getPageblockMt(p), true, o >= 9);
      p += 2 ** o;
    }
  }
  const dump = freeBlocksOf(g);

  // Start per-cpu pages: UNMOVABLE lists from the kernel pageblocks, the others from the pages in use, picked at
  // random and queued in random order.
  const used = new Set<number>();
  const pick = (order: number, unmovable: boolean): number => {
    const lo = unmovable ? DMA32_START : DMA32_START + KERNEL_BLOCKS * PAGEBLOCK_PAGES;
    const blocks = (unmovable ? KERNEL_BLOCKS : USER_BLOCKS) * PAGEBLOCK_PAGES / 2 ** order;
    for (;;) {
      const pfn = lo + Math.floor(random() * blocks) * 2 ** order;
      let free = true;
      for (let p = pfn; p < pfn + 2 ** order; p++) if (used.has(p)) free = false;
      if (!free) continue;
      for (let p = pfn; p < pfn + 2 ** order; p++) used.add(p);
      return pfn;
    }
  };
  // Larger blocks are picked first (they need whole aligned runs), then everything is queued in random order.
  const blocks = spec.start.flatMap((s) => Array.from({ length: s.blocks }, () => s))
    .map((s) => ({ ...s, order: g.pcpIndexOrder(s.pindex), mt: LIST_TYPES.find((mt) => g.pcpIndex(g.pcpIndexOrder(s.pindex), mt) === s.pindex)! }))
    .sort((a, b) => b.order - a.order)
    .map((s) => ({ ...s, pfn: pick(s.order, s.mt === MigrateType.UNMOVABLE), key: random() }))
    .sort((a, b) => a.key - b.key);
  for (const s of blocks) {
    if (s.order > 0) g.reshapeAllocated(s.pfn, s.order, s.order, s.mt);
    if (g.getPageblockMt(s.pfn) !== s.mt) g.setPageblockMt(s.pfn, s.mt);
    g.pcpPlace(s.pfn, s.order, s.cpu, true);
  }
  const dma32 = 1;
  spec.startFreeFactor?.forEach((f, c) => g.setPcpFreeFactor(c, dma32, f));
  const startLists = Array.from({ length: spec.cpus }, (_, c) => g.pcpLists(c, dma32));

  const w = new Recorder(g, random);
  w.marker('kpf_end');
  spec.workload(w);
  w.marker('kmem_trace_off');
  g.check();

  const dir = mkdtempSync(join(tmpdir(), 'prsim-synthetic-'));
  mkdirSync(join(dir, 'guest'));
  writeFileSync(join(dir, 'guest', 'kpf_pre.zoneinfo'), zi);
  writeFileSync(join(dir, 'guest', 'trace.txt'), `# tracer: nop\n#\n${w.lines.join('\n')}\n`);
  writeFileSync(join(dir, 'kpageflags.pre.blocks.csv'), `pfn,order,reported\n${dump.map((b) => `${b.pfn},${b.order},${b.reported ? 1 : 0}`).join('\n')}\n`);
  return { dir, startLists, startCounts, counts: w.counts };
}
