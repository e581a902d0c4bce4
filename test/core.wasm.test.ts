// src/core's own plumbing: the generated layout module against the AssemblyScript source and the compiled module,
// and the instance's views across memory growth, read through the one decoder.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import * as layout from '../src/core/layout.generated.js';
import { CoreInstance } from '../src/core/wasm.js';
import { CoreMemory, DESCRIPTOR_LAYOUT } from '../src/core/decode.js';

describe('the generated layout', () => {
  it('holds every constant of assembly/layout.ts with the value JavaScript gives its expression', async () => {
    // An evaluation independent of scripts/gen-layout.mjs: esbuild strips the types, JavaScript computes, and the
    // result is read as the declared type (none of these expressions leaves 32 bits on the way).
    const source = readFileSync('assembly/layout.ts', 'utf8');
    const types = new Map([...source.matchAll(/^export const (\w+): (\w+) =/gm)].map((m) => [m[1]!, m[2]!]));
    const js = transformSync(source, { loader: 'ts', format: 'esm' }).code;
    const evaluated = await import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`) as Record<string, number>;
    expect(types.size).toBeGreaterThan(100);
    expect(Object.keys(layout).sort()).toEqual([...types.keys()].sort());
    for (const [name, type] of types) {
      const v = evaluated[name]!;
      expect([name, (layout as Record<string, number>)[name]]).toEqual([name, type === 'u32' ? v >>> 0 : v | 0]);
    }
  });

  it('places the descriptors, cold bytes and pageblock types where the compiled module does', () => {
    const core = new CoreInstance();
    for (const pfns of [1, 8192, 100_003]) {
      expect(core.x.setup(pfns, 1, 1)).toBe(0);
      expect(core.global('pageExtStart')).toBe(layout.PAGES_START + pfns * layout.PAGE_DESC_SIZE);
      expect(core.global('pageblockStart')).toBe(core.global('pageExtStart') + pfns);
    }
    expect(DESCRIPTOR_LAYOUT).toEqual({ size: 12, flags: 8, order: 9, extHostMask: 3, extCpuShift: 2 });
  });
});

describe('views of linear memory', () => {
  it('are re-created after memory grows, and the decoder reads the grown memory', () => {
    const core = new CoreInstance();
    const pfns = 8192;
    expect(core.x.setup(pfns, 1, 1)).toBe(0);
    core.x.setZone(0, 0, pfns, pfns, pfns, 0, 0, 0, 0, 1);
    core.x.initMemory(1);
    core.x.resetCounters();
    expect(core.x.bootFreeRange(0, 0, pfns)).toBe(0);
    const mem = new CoreMemory(core, pfns);
    const before = core.memory.buffer.byteLength;
    const stale = core.u32;
    core.memory.grow(1); // as when a workload's scratch needs room: every old view is detached
    expect(core.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(stale.length).toBe(0);
    expect(core.u32.length).toBe(core.memory.buffer.byteLength / 4);
    // 8192 pages boot as eight order-10 blocks, all on the MOVABLE list
    expect(mem.nrFree(0, 10)).toBe(8);
    expect(mem.freeList(0, 10, layout.MT_MOVABLE)).toHaveLength(8);
    expect(mem.zoneFreePages(0)).toBe(pfns);
    expect(mem.pageDescriptors().byteLength).toBe(pfns * layout.PAGE_DESC_SIZE);
    expect(core.x.checkInvariants()).toBe(0);
  });
});
