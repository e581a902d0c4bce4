// Page-cache-like growth: order-0 MOVABLE pages read in at a rate up to a limit; past it the oldest pages are
// dropped (LRU) to make room, so the cache turns over without growing.
import { MigrateType } from '../core/types.js';
import { type Workload, type WorkloadContext, every } from './workload.js';

export interface PageCacheSpec {
  kind: 'pagecache';
  startS: number;
  durationS: number;
  rateMiBps: number;
  limitMiB: number;
  cpu?: number;
  tickMs?: number;
}

export class PageCache implements Workload {
  readonly kind = 'pagecache';
  pageOps = 0;
  private lru: number[] = [];
  private head = 0;

  constructor(readonly spec: PageCacheSpec) {}

  start({ guest, clock }: WorkloadContext): void {
    const s = this.spec;
    const tick = s.tickMs ?? 10;
    const perTick = Math.max(1, Math.round(((s.rateMiBps * 2 ** 20) / 4096) * (tick / 1000)));
    const limit = Math.round((s.limitMiB * 2 ** 20) / 4096);
    const end = (s.startS + s.durationS) * 1000;
    const cpu = s.cpu ?? 0;
    every(clock, s.startS * 1000, tick, (now) => {
      for (let i = 0; i < perTick; i++) {
        // At the limit the oldest page goes (a limit under one page holds none: each page goes on the next step).
        if (this.lru.length - this.head >= limit && this.head < this.lru.length) {
          guest.free(this.lru[this.head++]!, 0, { cpu });
          this.pageOps++;
        }
        const pfn = guest.alloc(0, MigrateType.MOVABLE, { cpu });
        this.pageOps++;
        if (pfn >= 0) this.lru.push(pfn);
      }
      if (this.head > 65536) {
        this.lru = this.lru.slice(this.head);
        this.head = 0;
      }
      return now + tick < end;
    });
  }
}
