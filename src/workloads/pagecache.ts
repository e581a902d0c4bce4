// Page-cache-like growth: order-0 MOVABLE pages read in at a rate up to a limit; past it the oldest pages are
// dropped (LRU) to make room, so the cache turns over without growing.
import { MigrateType } from '../core/types.js';
import { OP_ALLOC, OP_FREE, E_ALLOC_FAILED, type WasmGuest } from '../core/guest.js';
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
      this.tick(guest, perTick, limit, cpu);
      if (this.head > 65536) {
        this.lru = this.lru.slice(this.head);
        this.head = 0;
      }
      return now + tick < end;
    });
  }

  /**
   * One tick: `perTick` times, drop the oldest page if the cache is at its limit, then read a page in. Applied in
   * batches through the wasm op buffer: a batch is planned as if every read succeeds and stops at the first that
   * fails (the cache is then one page short, so the next step drops nothing); the rest is planned again.
   */
  private tick(guest: WasmGuest, perTick: number, limit: number, cpu: number): void {
    const allocOp = 0 | (MigrateType.MOVABLE << 8) | ((guest.config.zones.length - 1) << 16) | (cpu << 24);
    let left = perTick;
    while (left > 0) {
      const ops = guest.opsView();
      let n = 0, len = this.lru.length - this.head, h = this.head;
      for (let planned = 0; planned < left && n + 2 <= guest.opsCapacity; planned++) {
        // At the limit the oldest page goes (a limit under one page holds none: each page goes on the next step).
        if (len >= limit && len > 0) {
          ops.set([OP_FREE, this.lru[h++]!, cpu << 24, 0], 4 * n++);
          len--;
        }
        ops.set([OP_ALLOC, allocOp, 0, 0], 4 * n++);
        len++;
      }
      const applied = guest.applyOpsUntilFailure(n);
      const view = guest.opsView();
      const results = new Int32Array(view.buffer, view.byteOffset, 4 * applied);
      for (let k = 0; k < applied; k++) {
        const r = results[4 * k + 3]!;
        this.pageOps++;
        if (view[4 * k] === OP_FREE) {
          // A failed free changed nothing: the call one at a time throws its named error.
          if (r < 0) guest.free(this.lru[this.head]!, 0, { cpu });
          this.head++;
        } else {
          if (r >= 0) this.lru.push(r);
          else if (r !== E_ALLOC_FAILED) guest.alloc(0, MigrateType.MOVABLE, { cpu }); // an error: the call throws it
          left--;
        }
      }
    }
  }
}
