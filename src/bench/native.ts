// The native C build of W1 (bench/native/w1.c), compiled here when a C compiler is on the machine, so the
// wasm/native ratio is measured side by side in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './w1.js';

export interface NativeW1 { line: number[]; nsPerStep: number[]; medianNs: number }

/** Compile bench/native/w1.c with -O2; null when there is no compiler or source. */
export function compileNativeW1(src = 'bench/native/w1.c'): string | null {
  if (!existsSync(src)) return null;
  const out = join(mkdtempSync(join(tmpdir(), 'prsim-w1-')), 'w1');
  for (const cc of ['cc', 'gcc', 'clang']) {
    try {
      execFileSync(cc, ['-O2', '-o', out, src], { stdio: 'ignore' });
      return out;
    } catch {
      // try the next compiler
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
