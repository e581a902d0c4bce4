// Applying many page operations at once through the wasm batch buffer.
import type { WasmGuest } from '../core/guest.js';
import { OP_ALLOC, OP_FREE, FREE_DIRECT } from '../core/guest.js';

export interface AllocRequest { order: number; mt: number; cpu: number }

/**
 * Allocate `count` blocks of one order/mt/cpu; the pfns of those that succeeded are appended to `out`
 * (failures are counted by the core). Returns the number allocated.
 */
export function allocMany(g: WasmGuest, count: number, order: number, mt: number, cpu: number, out: { push(p: number): void }): number {
  const cap = g.opsCapacity;
  const highest = g.config.zones.length - 1;
  const a = (order & 0xff) | (mt << 8) | (highest << 16) | (cpu << 24);
  let done = 0;
  while (count > 0) {
    const n = Math.min(cap, count);
    const ops = g.opsView();
    for (let i = 0; i < n; i++) {
      ops[4 * i] = OP_ALLOC;
      ops[4 * i + 1] = a;
    }
    g.applyOps(n);
    const res = new Int32Array(ops.buffer, ops.byteOffset, ops.length);
    for (let i = 0; i < n; i++) {
      const r = res[4 * i + 3]!;
      if (r >= 0) {
        out.push(r);
        done++;
      }
    }
    count -= n;
  }
  return done;
}

/** Free blocks (pfns[from..to)) of one order from one cpu. Throws on the first invalid free. */
export function freeMany(g: WasmGuest, pfns: ArrayLike<number>, from: number, to: number, order: number, cpu: number, direct = false): void {
  const cap = g.opsCapacity;
  const b = (order & 0xff) | ((direct ? FREE_DIRECT : 0) << 8) | (cpu << 24);
  let i = from;
  while (i < to) {
    const n = Math.min(cap, to - i);
    const ops = g.opsView();
    for (let k = 0; k < n; k++) {
      ops[4 * k] = OP_FREE;
      ops[4 * k + 1] = pfns[i + k]!;
      ops[4 * k + 2] = b;
    }
    const failed = g.applyOps(n);
    if (failed) {
      const res = new Int32Array(ops.buffer, ops.byteOffset, ops.length);
      for (let k = 0; k < n; k++) {
        if (res[4 * k + 3]! < 0) {
          g.free(pfns[i + k]!, order, { cpu }); // throws the named error
        }
      }
    }
    i += n;
  }
}

/** A growable Uint32Array list of pfns. */
export class PfnList {
  data = new Uint32Array(1024);
  length = 0;
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
