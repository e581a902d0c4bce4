// `prsim bench --only w1 --quick` end to end (no timing asserted): it names the native build's flags, prints the
// three result lines of every seed side by side, and its summary table holds each figure against its target,
// the result lines included.
import { describe, it, expect } from 'vitest';
import { benchCommand } from '../src/cli/bench.js';
import { memoryIo } from '../src/cli/io.js';
import { compileNativeW1 } from '../src/bench/native.js';

const haveCc = compileNativeW1() !== null;

describe('prsim bench --only w1 --quick', () => {
  it('reports the native flags, identical result lines per seed, and a summary against the targets', async () => {
    const io = memoryIo();
    expect(await benchCommand(['--only', 'w1', '--quick'], io)).toBe(0);
    const out = io.stdout;
    if (haveCc) expect(out).toMatch(/native C build: \w+ -O3 -march=native bench\/native\/w1\.c/);
    for (const seed of [1, 2, 3]) {
      const lines = out.split('\n').filter((l) => new RegExp(`^  (wasm|reference|native C) +${seed} 1048576 1000000 `).test(l));
      expect(lines).toHaveLength(haveCc ? 3 : 2);
      expect(new Set(lines.map((l) => l.replace(/^  (wasm|reference|native C) +/, ''))).size).toBe(1);
      expect(out).toMatch(new RegExp(`seed ${seed}: .*lines identical`));
    }
    const summary = out.slice(out.indexOf('\nSummary'));
    expect(summary).toMatch(/^figure +target +previous +now$/m);
    const row = (name: string) => summary.split('\n').find((l) => l.startsWith(name));
    expect(row(`W1 seeds whose result lines are identical: wasm = reference${haveCc ? ' = native C' : ''} `))
      .toMatch(/>= 3 of 3 seeds +- +3 +met$/);
    if (haveCc) expect(row('W1 wasm / native C (-O3 -march=native), median of pairs')).toMatch(/<= 1\.3 x +- +\d+\.\d\d( +(met|NOT met))$/);
    expect(row('W1 reference model / wasm')).toMatch(/>= 3 x +- +\d+\.\d\d +(met|NOT met)$/);
    expect(row('linear memory per page, 64 GiB guest (N = 2^24)')).toMatch(/<= 16 bytes +- +13\.\d\d +met$/);
    expect(row('largest guest in one instance (pfn span)')).toMatch(/>= 1024 GiB +- +\d{4}\.\d +met$/);
  });
});
