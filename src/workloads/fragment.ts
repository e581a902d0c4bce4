// Fragmentation (E4): touch N MiB, give back every k-th page (MADV_DONTNEED), hold, then free the rest. With
// THP the MADV_DONTNEED frees nothing of a folio (see AnonMapping.dontneedEvery): the hold keeps it whole.
import { AnonMapping, mappingCounts, type ThpMode } from './mapping.js';
import { type Workload, type WorkloadContext, pagesPerTick, processExit, touchPages } from './workload.js';

export interface FragmentSpec {
  kind: 'fragment';
  startS: number;
  mib: number;
  /** Free every k-th page first (E4: 2). */
  every: number;
  holdS: number;
  rateMiBps?: number;
  cpu?: number;
  tickMs?: number;
  /** The process exits after its last free, freeing its order-1 page-table root (default true; see processExit). */
  exitAfterFree?: boolean;
  /** How faults see transparent huge pages (default 'never': 4 KiB pages); see ThpMode. */
  thp?: ThpMode;
}

export class Fragment implements Workload {
  readonly kind = 'fragment';
  pageOps = 0;
  mapping: AnonMapping | null = null;
  exitAt = -1;

  constructor(readonly spec: FragmentSpec) {}

  markers(): Record<string, number> {
    return { exit: this.exitAt };
  }

  counts(): Record<string, number> {
    return mappingCounts(this.mapping);
  }

  start(ctx: WorkloadContext): void {
    const s = this.spec;
    const { guest, clock } = ctx;
    if (!(Number.isInteger(s.every) && s.every >= 1)) throw new Error(`fragment.every must be an integer >= 1, got ${s.every}`);
    const tick = s.tickMs ?? 1;
    const cpu = s.cpu ?? 0;
    const total = Math.round((s.mib * 2 ** 20) / 4096);
    const exit = s.exitAfterFree === false ? () => {} : processExit(ctx, s.startS * 1000, cpu, (t) => (this.exitAt = t));
    const mapping = (this.mapping = new AnonMapping(guest, cpu, (s.thp ?? 'never') !== 'never'));
    touchPages(ctx, s.startS * 1000, tick, total, pagesPerTick(s.rateMiBps ?? 400, tick), mapping,
      (asked) => (this.pageOps += asked), (now) => {
        // Every k-th page of the mapping goes back now; the others when the hold ends.
        this.pageOps += mapping.dontneedEvery(s.every);
        clock.schedule(now + s.holdS * 1000, () => {
          this.pageOps += mapping.free(0, mapping.entries);
          mapping.clear();
          mapping.freePageTables();
          exit(clock.now());
        });
      });
  }
}
