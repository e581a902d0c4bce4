// Files written at given times: each write's page cache (order-0 MOVABLE pages) stays cached, as it does on an
// idle guest with no memory pressure. A recording guest does this itself: it saves its /proc snapshots and
// kpageflags dumps to files while the workload runs, and those pages sit among the workload's.
import { MigrateType } from '../core/types.js';
import { allocMany, PfnList } from './ops.js';
import type { Workload, WorkloadContext } from './workload.js';

export interface WritesSpec {
  kind: 'writes';
  /** Each write: when (seconds) and how many 4 KiB pages of page cache it leaves. */
  writes: Array<{ atS: number; pages: number }>;
  cpu?: number;
}

export class Writes implements Workload {
  readonly kind = 'writes';
  pageOps = 0;
  readonly pages = new PfnList();

  constructor(readonly spec: WritesSpec) {}

  start({ guest, clock }: WorkloadContext): void {
    const cpu = this.spec.cpu ?? 0;
    for (const w of this.spec.writes) {
      clock.schedule(w.atS * 1000, () => {
        allocMany(guest, w.pages, 0, MigrateType.MOVABLE, cpu, this.pages);
        this.pageOps += w.pages;
      });
    }
  }
}
