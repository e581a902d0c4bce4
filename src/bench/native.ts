// The native C build of W1 (bench/native/w1.c), compiled here when a C compiler is on the machine, so the
// wasm/native ratio is measured side by side in the same run. It is built with the best flags the compiler
// offers for this machine: users compare against the best native code, not a portable -O2 build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './w1.js';

export interface NativeW1 { line: number[]; nsPerStep: number[]; medianNs: number }

/** A compiled native W1: the binary, the compiler and the flags it was built with. */
export interface NativeBuild { bin: string; cc: string; flags: string[] }

/** Flag sets from best to most portable; the first one the compiler accepts is used. */
export const NATIVE_FLAG_SETS: string[][] = [['-O3', '-march=native'], ['-O3'], ['-O2']];

/** Compile bench/native/w1.c with the best flags accepted (`flagSets` in order); null without compiler or source. */
export function compileNativeW1(src = 'bench/native/w1.c', flagSets = NATIVE_FLAG_SETS, tag = ''): NativeBuild | null {
  if (!existsSync(src)) return null;
  const out = join(mkdtempSync(join(tmpdir(), 'prsim-w1-')), `w1${tag}`);
  for (const cc of ['cc', 'gcc', 'clang']) {
    for (const flags of flagSets) {
      try {
        execFileSync(cc, [...flags, '-o', out, src], { stdio: 'ignore' });
        return { bin: out, cc, flags };
      } catch {
        // try the next flags, then the next compiler
      }
    }
  }
  return null;
}

export function runNativeW1(bin: string, log2n: number, seed: number, ops: number, runs: number): NativeW1 {
  const ns: number[] = [];
  let line: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [l, t] = execFileSync(bin, [String(log2n), String(ops), String(seed)], { encoding: 'utf8' }).trim().split('\n');
    line = l!.split(' ').map(Number);
    ns.push(Number(t));
  }
  return { line, nsPerStep: ns, medianNs: median(ns) };
}
