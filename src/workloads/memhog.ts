// memhog: a process maps and touches N MiB at a rate, holds them, then frees them all (munmap), as E2 of
// ../shared/real-kernel did (4 KiB pages) and E2t (THP folios, `thp`).
import { AnonMapping, mappingCounts, type ThpMode } from './mapping.js';
import { type Workload, type WorkloadContext, every, pagesPerTick, processExit, touchPages } from './workload.js';

export interface MemhogSpec {
  kind: 'memhog';
  /** When the process starts, seconds. */
  startS: number;
  mib: number;
  /** Allocation speed, MiB/s (E2: about 400 in a TCG guest). */
  rateMiBps?: number;
  holdS: number;
  /** munmap speed, MiB/s (E2: about 1000). */
  freeRateMiBps?: number;
  cpu?: number;
  /** Simulation tick of the process, ms (default 1). */
  tickMs?: number;
  /** The process exits after its last free, freeing its order-1 page-table root (default true; see processExit). */
  exitAfterFree?: boolean;
  /** How faults see transparent huge pages (default 'never': 4 KiB pages); see ThpMode. */
  thp?: ThpMode;
}

export class Memhog implements Workload {
  readonly kind = 'memhog';
  pageOps = 0;
  mapping: AnonMapping | null = null;
  allocDoneAt = -1;
  freeStartAt = -1;
  freeDoneAt = -1;
  exitAt = -1;

  constructor(readonly spec: MemhogSpec) {}

  markers(): Record<string, number> {
    return { allocDone: this.allocDoneAt, freeStart: this.freeStartAt, freeDone: this.freeDoneAt, exit: this.exitAt };
  }

  get allocFailed(): number {
    return this.mapping?.failedPages ?? 0;
  }

  counts(): Record<string, number> {
    return mappingCounts(this.mapping);
  }

  start(ctx: WorkloadContext): void {
    const s = this.spec;
    const { guest, clock } = ctx;
    const tick = s.tickMs ?? 1;
    const cpu = s.cpu ?? 0;
    const total = Math.round((s.mib * 2 ** 20) / 4096);
    const freePerTick = pagesPerTick(s.freeRateMiBps ?? 1000, tick);
    const exit = s.exitAfterFree === false ? () => {} : processExit(ctx, s.startS * 1000, cpu, (t) => (this.exitAt = t));
    const mapping = (this.mapping = new AnonMapping(guest, cpu, (s.thp ?? 'never') !== 'never'));
    touchPages(ctx, s.startS * 1000, tick, total, pagesPerTick(s.rateMiBps ?? 400, tick), mapping,
      (asked) => (this.pageOps += asked),
      (now) => {
        this.allocDoneAt = now;
        let freed = 0;
        every(clock, now + s.holdS * 1000, tick, (t) => {
          if (this.freeStartAt < 0) this.freeStartAt = t;
          // munmap frees in address order; a folio goes whole, so a tick frees at least one entry.
          const to = mapping.entriesFor(freed, freePerTick);
          this.pageOps += mapping.free(freed, to);
          freed = to;
          if (freed < mapping.entries) return true;
          this.freeDoneAt = t;
          mapping.clear();
          mapping.freePageTables();
          exit(t);
          return false;
        });
      });
  }
}
