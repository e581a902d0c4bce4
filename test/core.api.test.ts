// The wasm guest's API beyond the shared Allocator interface: configuration errors, the wasm32 size limit, the
// batch API, zero-copy views, /proc text (views across memory growth: core.wasm.test.ts).
import { describe, it, expect } from 'vitest';
import { WasmGuest, maxGuestPages, OP_ALLOC, OP_FREE } from '../src/core/guest.js';
import { resolveGuest } from '../src/core/config.js';
import { SimError } from '../src/core/errors.js';
import { buddyinfoText } from '../src/importers/procfs.js';
import { parseBuddyinfo } from '../src/importers/buddyinfo.js';
import { MigrateType } from '../src/core/types.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SimError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('guest configuration errors', () => {
  it('overlapping zones are rejected, naming both', () => {
    expect(() => resolveGuest({ zones: [{ name: 'DMA', startPfn: 0, endPfn: 5000 }, { name: 'DMA32', startPfn: 4096, endPfn: 9000 }] }))
      .toThrow(/zones DMA \[0, 5000\) and DMA32 \[4096, 9000\) overlap/);
  });
  it('a zone with no pages is rejected', () => {
    expect(codeOf(() => resolveGuest({ zones: [{ name: 'Normal', startPfn: 10, endPfn: 10 }] }))).toBe('BAD_CONFIG');
    expect(() => resolveGuest({ zones: [{ name: 'Normal', startPfn: 0, endPfn: 512, holes: [[0, 512]] }] })).toThrow(/no present pages/);
  });
  it('an unknown profile or zone name is rejected', () => {
    expect(() => resolveGuest({ profile: 'linux-4.0' as never, memBytes: 2 ** 30 })).toThrow(/unknown profile 'linux-4.0'/);
    expect(() => resolveGuest({ zones: [{ name: 'High' as never, startPfn: 0, endPfn: 10 }] })).toThrow(/unknown zone name 'High'/);
  });
  it('a guest too large for wasm32 linear memory is rejected with the largest size that fits', () => {
    const max = maxGuestPages();
    expect(max).toBeGreaterThan(2 ** 26); // more than 256 GiB of 4 KiB pages
    const err = (() => {
      try {
        WasmGuest.create({ memBytes: 2 ** 42, pcp: false });
      } catch (e) {
        return e as SimError;
      }
    })();
    expect(err?.code).toBe('TOO_LARGE');
    expect(err?.message).toMatch(/wasm32 allows 4 GiB \(largest guest: \d+ pfns\)/);
  });
  it('the default x86 layout of a 1 GiB guest has DMA and DMA32 with the kernel watermark formula', () => {
    const cfg = resolveGuest({ memBytes: 2 ** 30, cpus: 2 });
    expect(cfg.zones.map((z) => [z.name, z.startPfn, z.endPfn])).toEqual([['DMA', 1, 4096], ['DMA32', 4096, 262144]]);
    const dma32 = cfg.zones[1]!;
    expect(dma32.pcpBatch).toBe(63);
    // THP raises min_free_kbytes to 11264 pages for two zones; DMA32 gets its managed share.
    expect(dma32.watermarks.min).toBeGreaterThan(10_000);
    expect(dma32.watermarks.low - dma32.watermarks.min).toBe(dma32.watermarks.min >> 2);
  });
});

describe('wasm guest API', () => {
  const small = () => WasmGuest.create({ profile: 'linux-6.1', pcp: false, cpus: 1, thp: false,
    zones: [{ name: 'Normal', startPfn: 0, endPfn: 8192, managed: 8192, watermarks: { min: 0, low: 0, high: 0 } }] });

  it('the batch API applies many operations with per-operation results', () => {
    const g = small();
    g.boot();
    const ops = g.opsView();
    for (let i = 0; i < 100; i++) {
      ops[4 * i] = OP_ALLOC;
      ops[4 * i + 1] = 0 | (MigrateType.MOVABLE << 8);
    }
    ops[400] = OP_FREE; // op 100: a free of a pfn that is not allocated
    ops[401] = 8191;
    ops[402] = 0;
    expect(g.applyOps(101)).toBe(1);
    const res = new Int32Array(ops.buffer, ops.byteOffset, 404);
    const pfns = Array.from({ length: 100 }, (_, i) => res[4 * i + 3]!);
    expect(new Set(pfns).size).toBe(100);
    expect(pfns.every((p) => p >= 0 && g.pfnState(p).kind === 'allocated')).toBe(true);
    expect(res[403]).toBe(-1); // NOT_ALLOCATED, and nothing changed
    expect(g.allocatedPages()).toBe(100);
    g.check();
  });

  it('allocBulk/freeBulk round-trip; a bad free in a bulk names the pfn and frees nothing (all or nothing)', () => {
    const g = small();
    g.boot();
    const got = Uint32Array.from(g.allocBulk(0, MigrateType.MOVABLE, 1000));
    expect(got.length).toBe(1000);
    const twice = Uint32Array.from([...got.subarray(0, 10), got[0]!]);
    expect(() => g.freeBulk(twice, 0)).toThrow(new RegExp(`freeBulk: pfns\\[10\\] = ${got[0]} appears twice`));
    const outside = Uint32Array.from([...got.subarray(0, 10), g.config.maxPfn]);
    g.free(got[999]!, 0);
    const stale = Uint32Array.from([...got.subarray(0, 10), got[999]!]);
    expect(() => g.freeBulk(stale, 0)).toThrow(new RegExp(`freeBulk: pfns\\[10\\] = ${got[999]} \\(order 0\\): is not the head of an allocated block`));
    expect(() => g.freeBulk(outside, 0)).toThrow(/freeBulk: pfns\[10\] = \d+ is outside the guest/);
    expect(() => g.freeBulk(got.subarray(0, 10), 1)).toThrow(/freeBulk: pfns\[0\] = \d+ \(order 1\): was allocated with a different order/);
    expect(g.allocatedPages()).toBe(999);
    g.check();
    // In no order (the duplicate check then keeps a bitmap; it must be clean again for the next batch).
    const shuffled = Uint32Array.from(got.subarray(0, 999)).sort((a, b) => ((a * 2654435761) % 1000) - ((b * 2654435761) % 1000));
    g.freeBulk(shuffled, 0);
    expect(g.allocatedPages()).toBe(0);
    const again = Uint32Array.from(g.allocBulk(0, MigrateType.MOVABLE, 999)).reverse();
    g.freeBulk(again.subarray(0, 500).sort((a, b) => (a & 7) - (b & 7)), 0);
    g.freeBulk(again.subarray(500), 0);
    expect(g.allocatedPages()).toBe(0);
    expect(g.buddyinfo()[0]![10]).toBe(8);
  });

  it('reshapeAllocated splits an allocated block into smaller ones and back; a range with a free page is refused', () => {
    const g = small();
    g.boot();
    const pfn = g.alloc(3, MigrateType.MOVABLE);
    g.reshapeAllocated(pfn, 3, 0, MigrateType.UNMOVABLE);
    expect(g.pfnState(pfn + 5)).toMatchObject({ kind: 'allocated', head: pfn + 5, order: 0, mt: MigrateType.UNMOVABLE });
    expect(g.allocatedPages()).toBe(8);
    g.check();
    g.reshapeAllocated(pfn, 3, 3, MigrateType.MOVABLE);
    expect(g.pfnState(pfn + 5)).toMatchObject({ kind: 'allocated', head: pfn, order: 3 });
    g.free(pfn + 0, 3);
    const before = JSON.stringify(g.buddyinfo());
    expect(codeOf(() => g.reshapeAllocated(pfn, 3, 0, MigrateType.MOVABLE))).toBe('NOT_ALLOCATED');
    expect(JSON.stringify(g.buddyinfo())).toBe(before);
    g.check();
  });

  it('pageDescriptors is a zero-copy view: an allocation shows at once', () => {
    const g = small();
    g.boot();
    const view = g.pageDescriptors();
    const L = g.descriptorLayout();
    g.alloc(3, MigrateType.MOVABLE);
    const pfn = g.alloc(3, MigrateType.MOVABLE); // not pfn 0: a wrong descriptor size would show
    expect(pfn).toBeGreaterThan(0);
    expect(view[pfn * L.size + L.flags]! & 4).toBe(4); // allocated head
    expect(view[pfn * L.size + L.order]).toBe(3); // its order
  });

  it('prints /proc/buddyinfo exactly, and it parses back to the same counts', () => {
    const g = WasmGuest.create({ memBytes: 2 ** 30, cpus: 2 });
    g.boot();
    const text = buddyinfoText(g);
    expect(text.split('\n')[0]).toMatch(/^Node 0, zone {6}DMA( +\d+){11} *$/);
    const rows = parseBuddyinfo(text);
    expect(rows.map((r) => r.counts)).toEqual(g.buddyinfo());
  });

  it('bad input: pfn not a number, out of range, in a hole, unknown migratetype, bad cpu', () => {
    const g = WasmGuest.create({ profile: 'linux-6.1', pcp: true, cpus: 2, thp: false,
      zones: [{ name: 'Normal', startPfn: 0, endPfn: 4096, holes: [[1024, 2048]], managed: 3072, watermarks: { min: 0, low: 0, high: 0 } }] });
    g.boot();
    const snapshot = JSON.stringify(g.buddyinfo());
    expect(codeOf(() => g.free(1.5, 0))).toBe('PFN_OUT_OF_RANGE');
    expect(codeOf(() => g.free(99999, 0))).toBe('PFN_OUT_OF_RANGE');
    expect(codeOf(() => g.free(1030, 0))).toBe('PFN_IN_HOLE');
    expect(codeOf(() => g.alloc(0, 7 as never))).toBe('BAD_MIGRATETYPE');
    expect(codeOf(() => g.alloc(0, 1, { cpu: 5 }))).toBe('BAD_CPU');
    expect(codeOf(() => g.alloc(11, 1))).toBe('BAD_ORDER');
    expect(JSON.stringify(g.buddyinfo())).toBe(snapshot);
    g.check();
  });
});
