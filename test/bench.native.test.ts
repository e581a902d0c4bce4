// The native C build of W1 that `prsim bench` compares the wasm core against: built with the best flags the
// compiler accepts (-O3 -march=native first), and printing the same result line as the wasm core and the
// reference model for every seed. Skipped where the machine has no C compiler (the bench then skips it too).
import { describe, it, expect } from 'vitest';
import { ReferenceAllocator } from '../src/model/reference.js';
import { compileNativeW1, runNativeW1, NATIVE_FLAG_SETS } from '../src/bench/native.js';
import { w1Wasm, w1Reference } from '../src/bench/w1.js';

const build = compileNativeW1();

describe.skipIf(!build)('W1 native C build', () => {
  it('is built with -O3 -march=native, the first (best) flag set, and reports the flags', () => {
    expect(NATIVE_FLAG_SETS[0]).toEqual(['-O3', '-march=native']);
    expect(build!.flags).toEqual(['-O3', '-march=native']);
    expect(build!.cc).toMatch(/^(cc|gcc|clang)$/);
  });

  it('falls back to the next flag set when the compiler refuses one', () => {
    const b = compileNativeW1('bench/native/w1.c', [['-fno-such-flag-prsim'], ['-O2']], '-fallback');
    expect(b?.flags).toEqual(['-O2']);
    expect(compileNativeW1('bench/native/no-such-file.c')).toBeNull();
  });

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: native C, wasm and the reference model print the same result line`, () => {
      const log2n = 14, ops = 300_000;
      const native = runNativeW1(build!.bin, log2n, seed, ops, 1).line;
      const wasm = w1Wasm(2 ** log2n, seed, ops, 1).line;
      const ref = w1Reference((c) => new ReferenceAllocator(c), 2 ** log2n, seed, ops, 1).line;
      expect(native).toHaveLength(17);
      expect(native.slice(0, 3)).toEqual([seed, 2 ** log2n, ops]);
      expect(wasm).toEqual(native);
      expect(ref).toEqual(native);
    });
  }

  it('full size (N = 2^20, 10M steps), seeds 1 to 3: native C and wasm agree', () => {
    for (const seed of [1, 2, 3]) {
      const native = runNativeW1(build!.bin, 20, seed, 10_000_000, 1).line;
      expect(w1Wasm(2 ** 20, seed, 10_000_000, 1).line).toEqual(native);
    }
  });
});
