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

/** Free blocks (pfns[from..to)) of one order from one cpu. Throws the named error of the first invalid free. */
export function freeMany(g: WasmGuest, pfns: Uint32Array, from: number, to: number, order: number, cpu: number, direct = false): void {
  for (let i = from; i < to; i += g.bulkCapacity) {
    g.freeBulk(pfns.subarray(i, Math.min(to, i + g.bulkCapacity)), order, cpu, { direct });
  }
}

/** A growable Uint32Array list of pfns. */
export class PfnList {
  data = new Uint32Array(1024);
  length = 0;
  pushAll(src: Uint32Array): void {
    while (this.length + src.length > this.data.length) {
      const d = new Uint32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data.set(src, this.length);
    this.length += src.length;
  }
  push(p: number): void {
    if (this.length === this.data.length) {
      const d = new Uint32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = p;
  }
  clear(): void {
    this.length = 0;
  }
}
