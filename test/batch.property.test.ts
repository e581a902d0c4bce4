// The batch entry points (allocBulk, freeBulk, applyOps) take shortcuts of their own: the request's fixed values
// are worked out once per batch, and a free that passes a quick test skips the full validation. They must leave
// exactly the state that the same operations one call at a time leave, on the wasm core and on the reference
// model, errors included (a batch stops at its first bad free and changes nothing for it).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveGuest } from '../src/core/config.js';
import { WasmGuest, OP_ALLOC, OP_FREE } from '../src/core/guest.js';
import { ReferenceAllocator } from '../src/model/reference.js';
import { SimError } from '../src/core/errors.js';
import { comparableState } from './helpers/factories.js';
import { type Allocator, type GuestConfig, type MigrateType, type ProfileName } from '../src/core/types.js';

/** Two zones; big per-cpu batches make a refill split blocks of several orders and hand out many pieces. */
function guestConfig(profile: ProfileName, pcp: boolean, bigBatch = false): GuestConfig {
  return resolveGuest({
    profile, cpus: 2, pcp, thp: false,
    zones: [
      { name: 'DMA32', startPfn: 1, endPfn: 2048, holes: [[100, 130]], managed: 1900, watermarks: { min: 16, low: 24, high: 32 }, pcpHigh: bigBatch ? 80 : 6, pcpBatch: bigBatch ? 31 : 2 },
      { name: 'Normal', startPfn: 2048, endPfn: 6144, managed: 4000, watermarks: { min: 32, low: 48, high: 64 }, pcpHigh: bigBatch ? 150 : 12, pcpBatch: bigBatch ? 63 : 3 },
    ],
  });
}

type Batch =
  | { k: 'alloc'; order: number; mt: number; cpu: number; zone: number; n: number }
  | { k: 'free'; order: number; cpu: number; flags: number; pick: number[]; bad: number; badAt: number };

const batchArb: fc.Arbitrary<Batch> = fc.oneof(
  fc.record({
    k: fc.constant('alloc' as const), order: fc.constantFrom(0, 0, 0, 1, 3, 9, 11), mt: fc.constantFrom(0, 1, 1, 2, 3, 5),
    cpu: fc.constantFrom(0, 1, 1, 2), zone: fc.constantFrom(0, 1, 1, 2), n: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({
    k: fc.constant('free' as const), order: fc.constantFrom(0, 0, 1, 3, 9), cpu: fc.constantFrom(0, 1, 1, 2),
    flags: fc.constantFrom(0, 0, 0, 1, 2, 4), pick: fc.array(fc.nat(), { maxLength: 300 }),
    // 0: none; 1: a double free; 2: out of range; 3: misaligned; 4: in a hole; 5: a free page
    bad: fc.constantFrom(0, 0, 1, 2, 3, 4, 5), badAt: fc.nat(),
  }),
);

/** The live blocks of one order picked for a free batch (removed from `live`), with a bad pfn spliced in. */
function freeList(b: Extract<Batch, { k: 'free' }>, live: Map<number, number[]>, a: Allocator): number[] {
  const mine = live.get(b.order) ?? [];
  const out: number[] = [];
  for (const i of b.pick) {
    if (!mine.length) break;
    out.push(mine.splice(i % mine.length, 1)[0]!);
  }
  if (b.bad !== 0) {
    const bad = b.bad === 1 ? (out[0] ?? 5000) : b.bad === 2 ? 9999 : b.bad === 3 ? 2049 : b.bad === 4 ? 112
      : a.freeList(1, 10, 1)[0] ?? 7000;
    out.splice(b.badAt % (out.length + 1), 0, bad);
  }
  return out;
}

/** One batch through the batch API of a wasm guest. */
function viaBatch(g: WasmGuest, b: Batch, live: Map<number, number[]>): string {
  try {
    if (b.k === 'alloc') {
      const highestZone = Math.min(b.zone, 1);
      const n = Math.min(b.n, g.bulkCapacity);
      const got = b.order > 10 || b.mt >= 5 || b.cpu >= 2 || b.zone > 1 ? new Uint32Array(0) : g.allocBulk(b.order, b.mt as MigrateType, n, b.cpu, highestZone);
      const pfns = Array.from(got);
      if (pfns.length) live.set(b.order, [...(live.get(b.order) ?? []), ...pfns]);
      return `alloc ${pfns.join(',')}`;
    }
    const pfns = freeList(b, live, g);
    const opts = { toTail: (b.flags & 1) !== 0, skipNotify: (b.flags & 2) !== 0, direct: (b.flags & 4) !== 0 };
    try {
      g.freeBulk(Uint32Array.from(pfns), b.order, b.cpu, opts);
      return `free ${pfns.length}`;
    } catch (e) {
      // All or nothing: the whole batch is checked first, and a bad entry frees none of it.
      if (e instanceof SimError) return `free error at ${(e.details as { index?: number }).index ?? '-'}`;
      throw e;
    }
  } catch (e) {
    if (e instanceof SimError) return `error ${e.code}`;
    throw e;
  }
}

/** The same batch one call at a time, stopping where the batch API stops. */
function oneByOne(a: Allocator, b: Batch, live: Map<number, number[]>): string {
  if (b.k === 'alloc') {
    const highestZone = Math.min(b.zone, 1);
    const n = Math.min(b.n, 65536 * 4);
    const pfns: number[] = [];
    if (!(b.order > 10 || b.mt >= 5 || b.cpu >= 2 || b.zone > 1)) {
      for (let i = 0; i < n; i++) {
        const p = a.alloc(b.order, b.mt as MigrateType, { cpu: b.cpu, highestZone });
        if (p < 0) break;
        pfns.push(p);
      }
    }
    if (pfns.length) live.set(b.order, [...(live.get(b.order) ?? []), ...pfns]);
    return `alloc ${pfns.join(',')}`;
  }
  const pfns = freeList(b, live, a);
  const opts = { cpu: b.cpu, toTail: (b.flags & 1) !== 0, skipNotify: (b.flags & 2) !== 0, direct: (b.flags & 4) !== 0 };
  // The batch API frees all or nothing: find the first entry a single free would refuse before freeing any.
  if (b.cpu >= a.config.cpus || b.order > 10) return 'free error at -';
  const seen = new Set<number>();
  for (let i = 0; i < pfns.length; i++) {
    const p = pfns[i]!;
    let ok = p < a.config.maxPfn && !seen.has(p);
    if (ok) {
      const st = a.pfnState(p);
      ok = st.kind === 'allocated' && st.isHead && st.order === b.order;
    }
    if (!ok) return `free error at ${i}`;
    seen.add(p);
  }
  for (const p of pfns) a.free(p, b.order, opts);
  return `free ${pfns.length}`;
}

describe('batched operations = the same operations one at a time', () => {
  for (const profile of ['linux-6.1', 'linux-5.7'] as ProfileName[]) {
    for (const [pcp, bigBatch] of [[true, false], [true, true], [false, false]] as Array<[boolean, boolean]>) {
      it(`${profile}, pcp ${pcp}${bigBatch ? ', batches of 31 and 63' : ''}: allocBulk and freeBulk leave the state single calls leave (wasm and reference model)`, () => {
        fc.assert(
          fc.property(fc.array(batchArb, { minLength: 1, maxLength: 25 }), (batches) => {
            const cfg = guestConfig(profile, pcp, bigBatch);
            const batched = new WasmGuest(cfg);
            const single = new WasmGuest(cfg);
            const ref = new ReferenceAllocator(cfg);
            const guests: Allocator[] = [batched, single, ref];
            guests.forEach((g) => { g.setReportingOrder(3); g.boot(); });
            const lives = guests.map(() => new Map<number, number[]>());
            for (const b of batches) {
              const outcomes = [viaBatch(batched, b, lives[0]!), oneByOne(single, b, lives[1]!), oneByOne(ref, b, lives[2]!)];
              expect(outcomes[0], JSON.stringify(b)).toBe(outcomes[2]);
              expect(outcomes[1], JSON.stringify(b)).toBe(outcomes[2]);
              const notes = guests.map((g) => g.takeNotifications());
              expect(notes[0]).toBe(notes[2]);
              expect(notes[1]).toBe(notes[2]);
              batched.check();
              const want = comparableState(ref);
              expect(comparableState(batched)).toEqual(want);
              expect(comparableState(single)).toEqual(want);
            }
          }),
          { numRuns: 30, seed: 20261123 },
        );
      });
    }
  }

  it('applyOps: allocations and frees mixed in one batch, with per-op results and bad ops changing nothing', () => {
    const cfg = guestConfig('linux-6.1', true);
    const batched = new WasmGuest(cfg);
    const single = new WasmGuest(cfg);
    batched.boot();
    single.boot();
    const ops = batched.opsView();
    const want: number[] = [];
    const live: number[] = [];
    for (let i = 0; i < 200; i++) {
      const free = i % 3 === 2 && live.length > 0;
      const pfn = free ? live.splice((i * 7) % live.length, 1)[0]! : 0;
      const cpu = i & 1;
      if (free) {
        ops.set([OP_FREE, pfn, cpu << 24, 0], 4 * i);
        want.push(single.free(pfn, 0, { cpu }).order | (single.pfnState(pfn).kind === 'pcp' ? 256 : 0));
      } else {
        ops.set([OP_ALLOC, (1 << 8) | (1 << 16) | (cpu << 24), 0, 0], 4 * i);
        const p = single.alloc(0, 1, { cpu, highestZone: 1 });
        live.push(p);
        want.push(p);
      }
    }
    ops.set([OP_FREE, 9999, 0, 0], 4 * 200); // out of range: an error for this op only
    expect(batched.applyOps(201)).toBe(1);
    const view = batched.opsView();
    const got = Array.from({ length: 200 }, (_, i) => view[4 * i + 3]!);
    expect(got).toEqual(want);
    expect(new Int32Array(view.buffer, view.byteOffset, 4 * 201)[4 * 200 + 3]).toBe(-5);
    batched.check();
    expect(comparableState(batched)).toEqual(comparableState(single));
  });
});
