// Fragmentation (E4): touch N MiB, give back every k-th page (MADV_DONTNEED), hold, then free the rest.
import { freeMany, PfnList } from './ops.js';
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
}

export class Fragment implements Workload {
  readonly kind = 'fragment';
  pageOps = 0;
  readonly pfns = new PfnList();
  exitAt = -1;

  constructor(readonly spec: FragmentSpec) {}

  markers(): Record<string, number> {
    return { exit: this.exitAt };
  }

  start(ctx: WorkloadContext): void {
    const s = this.spec;
    const { guest, clock } = ctx;
    if (!(Number.isInteger(s.every) && s.every >= 1)) throw new Error(`fragment.every must be an integer >= 1, got ${s.every}`);
    const tick = s.tickMs ?? 1;
    const cpu = s.cpu ?? 0;
    const total = Math.round((s.mib * 2 ** 20) / 4096);
    const exit = s.exitAfterFree === false ? () => {} : processExit(ctx, s.startS * 1000, cpu, (t) => (this.exitAt = t));
    touchPages(ctx, s.startS * 1000, tick, total, pagesPerTick(s.rateMiBps ?? 400, tick), cpu, this.pfns,
      (asked) => (this.pageOps += asked), (now) => {
        // Every k-th page of the mapping goes back now; the others when the hold ends.
        const holes = new PfnList();
        const rest = new PfnList();
        for (let i = 0; i < this.pfns.length; i++) (i % s.every === 0 ? holes : rest).push(this.pfns.data[i]!);
        freeMany(guest, holes.data, 0, holes.length, 0, cpu);
        this.pageOps += holes.length;
        clock.schedule(now + s.holdS * 1000, () => {
          freeMany(guest, rest.data, 0, rest.length, 0, cpu);
          this.pageOps += rest.length;
          this.pfns.clear();
          exit(clock.now());
        });
      });
  }
}
