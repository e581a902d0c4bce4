// W1 of ../shared/docs/benchmarks.md: the loop driven inside wasm (what `npm run bench` times) must give the same
// result line as the same stream driven one call a step, on the wasm guest and on the reference model.
import { describe, it, expect } from 'vitest';
import { WasmGuest } from '../src/core/guest.js';
import { ReferenceAllocator } from '../src/model/reference.js';
import { w1Config, w1OnAllocator, w1Wasm } from '../src/bench/w1.js';
import { parse as parseCallgrind } from '../src/bench/instructions.js';

describe('W1 churn', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: the in-wasm loop, the per-call wasm guest and the reference model agree`, () => {
      const n = 2 ** 14, ops = 200_000;
      const inWasm = w1Wasm(n, seed, ops, 1).line;
      const wasmGuest = new WasmGuest(w1Config(n));
      wasmGuest.boot();
      const perCall = w1OnAllocator(wasmGuest, seed, ops);
      const ref = new ReferenceAllocator(w1Config(n));
      ref.boot();
      const reference = w1OnAllocator(ref, seed, ops);
      expect(inWasm).toHaveLength(17);
      expect(inWasm).toEqual(reference);
      expect(perCall).toEqual(reference);
    });
  }

  it('full size, seed 1: the line the native C build and the reference model print', () => {
    // Recorded from bench/native/w1.c and the reference model (`prsim bench` prints all three side by side).
    const line = w1Wasm(2 ** 20, 1, 10_000_000, 1).line;
    expect(line.join(' ')).toBe('1 1048576 10000000 0 15154 4087512456 217 73 168 160 48 45 10 3 1 0 506');
  });

  it('reads callgrind\'s instruction total, with or without thousands separators, and rejects output without it', () => {
    expect(parseCallgrind('==4318== Events    : Ir\n==4318== Collected : 104,997,033\n')).toBe(104997033);
    expect(parseCallgrind('==9== Collected : 850245111')).toBe(850245111);
    expect(() => parseCallgrind('valgrind: no such file')).toThrow(/no "Collected" line/);
  });
});
