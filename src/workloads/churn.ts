// Steady churn: W1's stream (orders 0..4 and 9, MOVABLE) at a rate in simulated time, keeping about
// `targetFraction` of the guest allocated.
import { MigrateType } from '../core/types.js';
import { Mulberry32 } from '../clock/rng.js';
import { type Workload, type WorkloadContext, every } from './workload.js';

export interface ChurnSpec {
  kind: 'churn';
  startS: number;
  durationS: number;
  /** Operations per simulated second. */
  opsPerS: number;
  /** Share of the guest's managed pages the process keeps allocated (W1: 0.5). */
  targetFraction?: number;
  cpu?: number;
  tickMs?: number;
}

const ORDERS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9];

export class Churn implements Workload {
  readonly kind = 'churn';
  pageOps = 0;
  failures = 0;
  private live: Array<[number, number]> = [];
  private allocated = 0;

  constructor(readonly spec: ChurnSpec) {}

  start({ guest, clock, seed }: WorkloadContext): void {
    const s = this.spec;
    const rng = new Mulberry32(seed);
    const managed = guest.config.zones.reduce((a, z) => a + z.managed, 0);
    const target = managed * (s.targetFraction ?? 0.5);
    const tick = s.tickMs ?? 10;
    const perTick = Math.max(1, Math.round(s.opsPerS * (tick / 1000)));
    const end = (s.startS + s.durationS) * 1000;
    const cpu = s.cpu ?? 0;
    every(clock, s.startS * 1000, tick, (now) => {
      for (let i = 0; i < perTick; i++) {
        const r = rng.next();
        // Below the target it allocates; at it, it frees one of its blocks (with none held, as when the target
        // is 0 or every allocation failed, it can only allocate).
        if (this.allocated < target || this.live.length === 0) {
          const order = ORDERS[r & 15]!;
          const pfn = guest.alloc(order, MigrateType.MOVABLE, { cpu });
          if (pfn >= 0) {
            this.live.push([pfn, order]);
            this.allocated += 2 ** order;
          } else this.failures++;
        } else {
          const k = rng.next() % this.live.length;
          const [pfn, order] = this.live[k]!;
          guest.free(pfn, order, { cpu });
          this.live[k] = this.live[this.live.length - 1]!;
          this.live.pop();
          this.allocated -= 2 ** order;
        }
      }
      this.pageOps += perTick;
      return now + tick < end;
    });
  }
}
