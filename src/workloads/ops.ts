// Applying many page operations at once through the wasm batch buffer.
import type { WasmGuest } from '../core/guest.js';
import type { MigrateType } from '../core/types.js';

/**
 * Allocate `count` blocks of one order/mt/cpu; the pfns of those that succeeded are appended to `out`
 * (failures are counted by the core). Returns the number allocated.
 */
export function allocMany(g: WasmGuest, count: number, order: number, mt: MigrateType, cpu: number, out: PfnList): number {
  let done = 0;
  while (count > 0) {
    const n = Math.min(g.bulkCapacity, count);
    const got = g.allocBulk(order, mt, n, cpu);
    out.pushAll(got);
    done += got.length;
    count -= n;
    if (got.length < n) {
      // The core stopped at a failure (counted there); the rest of this request fails the same way one by one.
      for (let i = got.length + 1; i < n; i++) {
        const p = g.alloc(order, mt, { cpu });
        if (p >= 0) {
          out.push(p);
          done++;
        }
      }
    }
  }
  return done;
}

/**
 * Free blocks (pfns[from..to)) of one order from one cpu: blocks the workload allocated itself and holds, so the
 * batch goes to the core without freeBulk's check on this side (WasmGuest.freeBulkOwned).
 */
export function freeMany(g: WasmGuest, pfns: Uint32Array, from: number, to: number, order: number, cpu: number): void {
  for (let i = from; i < to; i += g.bulkCapacity) g.freeBulkOwned(pfns.subarray(i, Math.min(to, i + g.bulkCapacity)), order, cpu);
}

/**
 * A growable Uint32Array list of pfns. `data` holds the pfns in [0, length). A workload that knows how many pages
 * it will hold reserves them first: a memhog's list reaches millions of pfns, and growing it by doubling copies it
 * into fresh memory again and again.
 */
export class PfnList {
  data: Uint32Array = new Uint32Array(1024);
  length = 0;
  /** Make room for `n` pfns in all, at once. */
  reserve(n: number): void {
    if (n > this.data.length) this.resize(n);
  }
  pushAll(src: Uint32Array): void {
    if (this.length + src.length > this.data.length) this.resize(Math.max(this.length + src.length, this.data.length * 2));
    this.data.set(src, this.length);
    this.length += src.length;
  }
  push(p: number): void {
    if (this.length === this.data.length) this.resize(this.data.length * 2);
    this.data[this.length++] = p;
  }
  clear(): void {
    this.length = 0;
  }
  private resize(n: number): void {
    const d = new Uint32Array(n);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }
}
