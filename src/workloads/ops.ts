// Applying many page operations at once through the wasm batch buffer.
import type { WasmGuest } from '../core/guest.js';

/**
 * Allocate `count` blocks of one order/mt/cpu; the pfns of those that succeeded are appended to `out`
 * (failures are counted by the core). Returns the number allocated.
 */
export function allocMany(g: WasmGuest, count: number, order: number, mt: number, cpu: number, out: PfnList): number {
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

// Resizable ArrayBuffers (ES2024; Node 20, current browsers) grow in place. Typed here as the ES2022 lib lacks them.
type ResizableBuffer = ArrayBuffer & { readonly resizable?: boolean; readonly maxByteLength?: number; resize?(n: number): void };
const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableBuffer;
/** Most pfns a list reserves room for: more than a wasm32 guest has (about 330 M). */
const MAX_PFNS = 2 ** 29;

/**
 * A growable Uint32Array list of pfns. `data` holds the pfns in [0, length). A list that grows past its first
 * kilo-entries moves into a resizable buffer that then grows in place: a memhog's list reaches millions of pfns,
 * and copying it into fresh zeroed memory at every doubling cost more than the allocations it records.
 */
export class PfnList {
  data: Uint32Array = new Uint32Array(1024);
  length = 0;
  pushAll(src: Uint32Array): void {
    if (this.length + src.length > this.data.length) this.grow(this.length + src.length);
    this.data.set(src, this.length);
    this.length += src.length;
  }
  push(p: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = p;
  }
  clear(): void {
    this.length = 0;
  }
  private grow(min: number): void {
    const want = Math.max(min, this.data.length * 2);
    const buf = this.data.buffer as ResizableBuffer;
    if (buf.resizable && want * 4 <= buf.maxByteLength!) {
      buf.resize!(want * 4); // `data` tracks the buffer's length
      return;
    }
    let d: Uint32Array;
    try {
      d = new Uint32Array(new Resizable(want * 4, { maxByteLength: Math.max(want, MAX_PFNS) * 4 }));
    } catch {
      d = new Uint32Array(want); // no resizable buffers here (or no room to reserve): grow by copying
    }
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }
}
