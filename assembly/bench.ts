// W1 `churn` of ../shared/docs/benchmarks.md, driven inside wasm so the stream costs what the allocator costs.
import { OUT_START, MAX_ORDER, MT_MOVABLE, NIL } from './layout';
import { allocPages, freePages } from './alloc';
import { nrFree } from './freelist';
import { scratchStart, maxPfn, allocatedPages } from './state';

// mulberry32's output for a state already advanced by 0x6d2b79f5 (the state is a local of the loop: a wasm
// global would be stored and reloaded on every call).
@inline function mulberry32Mix(state: u32): u32 {
  let t = state;
  t = (t ^ (t >>> 15)) * (t | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return t ^ (t >>> 14);
}

// ORDERS of W1, indexed by r & 15 (a table, as the native build has: a compare chain costs mispredicted branches)
const ORDERS = memory.data<u8>([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9]);

/**
 * Run W1 on zone 0 of a guest already booted with W1's start state. The live list L lives in the scratch
 * region (pfn, order per entry). Writes SEED N OPS FAILURES LEN SUMPFN F0..F10 to OUT.
 */
export function w1Run(seed: u32, ops: u32): void {
  const need = <i32>((scratchStart + <usize>(maxPfn / 2 + 2) * 8 + 65535) >> 16) - memory.size();
  if (need > 0 && memory.grow(need) < 0) unreachable();
  let rng = seed;
  const L = scratchStart;
  let len: u32 = 0;
  // `allocated` of the workload text is the core's own allocatedPages, counted from here: one counter, not a
  // second loop-carried copy. Failures are rare and counted in OUT directly.
  const out = <usize>OUT_START;
  store<u32>(out, 0, 12);
  const limit = allocatedPages + maxPfn / 2;
  // Counted down: one loop variable fewer for V8 to keep in a register.
  for (let s = ops; s != 0; s--) {
    rng += 0x6d2b79f5;
    const r = mulberry32Mix(rng);
    if (allocatedPages < limit) {
      const order = <u32>load<u8>(ORDERS + <usize>(r & 15));
      const pfn = allocPages(order, MT_MOVABLE, 0, 0);
      if (pfn != NIL) {
        const e = L + (<usize>len << 3);
        store<u32>(e, pfn);
        store<u32>(e, order, 4);
        len++;
      } else {
        store<u32>(out, load<u32>(out, 12) + 1, 12);
      }
    } else {
      rng += 0x6d2b79f5;
      const i = mulberry32Mix(rng) % len;
      const e = L + (<usize>i << 3);
      const pfn = load<u32>(e);
      const order = load<u32>(e, 4);
      freePages(pfn, order, 0, 0, 0);
      len--;
      const last = L + (<usize>len << 3);
      store<u64>(e, load<u64>(last));
    }
  }
  let sum: u32 = 0;
  for (let i: u32 = 0; i < len; i++) sum += load<u32>(L + (<usize>i << 3));
  store<u32>(out, seed);
  store<u32>(out, maxPfn, 4);
  store<u32>(out, ops, 8);
  store<u32>(out, len, 16);
  store<u32>(out, sum, 20);
  for (let o: u32 = 0; o <= MAX_ORDER; o++) store<u32>(out + <usize>(24 + o * 4), nrFree(0, o));
}

/** W2's tail: free every live allocation of the W1 run, in L's order. */
export function w1FreeAll(): u32 {
  const L = scratchStart;
  const len = load<u32>(<usize>OUT_START, 16);
  for (let i: u32 = 0; i < len; i++) {
    const e = L + (<usize>i << 3);
    freePages(load<u32>(e), load<u32>(e, 4), 0, 0, 0);
  }
  return len;
}
