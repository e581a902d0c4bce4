// memhog: a process maps and touches N MiB of 4 KiB pages at a rate, holds them, then frees them all
// (munmap), as E2 of ../shared/real-kernel did.
import { MigrateType } from '../core/types.js';
import { allocMany, freeMany, PfnList } from './ops.js';
import { type Workload, type WorkloadContext, every } from './workload.js';

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
}

export class Memhog implements Workload {
  readonly kind = 'memhog';
  pageOps = 0;
  readonly pfns = new PfnList();
  allocFailed = 0;
  allocDoneAt = -1;
  freeStartAt = -1;
  freeDoneAt = -1;

  constructor(readonly spec: MemhogSpec) {}

  markers(): Record<string, number> {
    return { allocDone: this.allocDoneAt, freeStart: this.freeStartAt, freeDone: this.freeDoneAt };
  }

  start({ guest, clock }: WorkloadContext): void {
    const s = this.spec;
    const total = Math.round((s.mib * 2 ** 20) / 4096);
    const tick = s.tickMs ?? 1;
    const perTick = Math.max(1, Math.round((((s.rateMiBps ?? 400) * 2 ** 20) / 4096) * (tick / 1000)));
    const freePerTick = Math.max(1, Math.round((((s.freeRateMiBps ?? 1000) * 2 ** 20) / 4096) * (tick / 1000)));
    const cpu = s.cpu ?? 0;
    let asked = 0;
    every(clock, s.startS * 1000, tick, (now) => {
      const n = Math.min(perTick, total - asked);
      const got = allocMany(guest, n, 0, MigrateType.MOVABLE, cpu, this.pfns);
      this.allocFailed += n - got;
      this.pageOps += n;
      asked += n;
      if (asked < total) return true;
      this.allocDoneAt = now;
      const freeAt = now + s.holdS * 1000;
      let freed = 0;
      every(clock, freeAt, tick, (t) => {
        if (this.freeStartAt < 0) this.freeStartAt = t;
        const m = Math.min(freePerTick, this.pfns.length - freed);
        freeMany(guest, this.pfns.data, freed, freed + m, 0, cpu);
        this.pageOps += m;
        freed += m;
        if (freed < this.pfns.length) return true;
        this.freeDoneAt = t;
        this.pfns.clear();
        return false;
      });
      return false;
    });
  }
}
