// Bursts: a memhog-like allocation of N MiB every period, held for a while, then freed.
import { Memhog } from './memhog.js';
import type { ThpMode } from './mapping.js';
import type { Workload, WorkloadContext } from './workload.js';

export interface BurstSpec {
  kind: 'burst';
  startS: number;
  mib: number;
  periodS: number;
  holdS: number;
  count: number;
  rateMiBps?: number;
  cpu?: number;
  /** How faults see transparent huge pages (default 'never'). */
  thp?: ThpMode;
}

export class Burst implements Workload {
  readonly kind = 'burst';
  private readonly hogs: Memhog[];

  constructor(readonly spec: BurstSpec) {
    this.hogs = Array.from({ length: spec.count }, (_, i) => new Memhog({
      kind: 'memhog', startS: spec.startS + i * spec.periodS, mib: spec.mib, holdS: spec.holdS,
      rateMiBps: spec.rateMiBps, cpu: spec.cpu, thp: spec.thp,
    }));
  }

  get pageOps(): number {
    return this.hogs.reduce((a, h) => a + h.pageOps, 0);
  }

  start(ctx: WorkloadContext): void {
    this.hogs.forEach((h) => h.start(ctx));
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const h of this.hogs) for (const [k, v] of Object.entries(h.counts())) out[k] = (out[k] ?? 0) + v;
    return out;
  }
}
