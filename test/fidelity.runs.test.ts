// Every real run beside the checkout, replayed as `prsim replay` does by default, is held to what the kernel
// did after the free: the same passes and report() calls, and the host RSS fall reaching 50% and 90% within
// 0.15 s of the real times. An idle boot (no free) is held to its boot-time reporting: the same passes, calls,
// blocks and bytes. The runs are examples of kinds of behaviour; nothing here names one run's numbers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fidelityRow, replay } from '../src/replay/folder.js';
import { withinTolerance, type RunComparison } from '../src/replay/format.js';
import { formatFidelity } from '../src/replay/text.js';
import { REAL, REAL_RUNS, HAVE_REAL, MISSING_REAL } from './helpers/shared.js';

const cache = new Map<string, RunComparison>();
const compared = (run: string) => cache.get(run) ?? cache.set(run, replay({ dir: REAL + run })).get(run)!;

describe.skipIf(!HAVE_REAL)(`fidelity on every run in ../shared/real-kernel (${HAVE_REAL ? REAL_RUNS.length : MISSING_REAL})`, () => {
  it.each(REAL_RUNS)('%s replays without a refusal, in the one format', (run) => {
    const c = compared(run);
    expect(Object.keys(c)).toEqual(expect.arrayContaining(['run', 'kind', 'warnings', 'real', 'sim', 'details']));
    for (const side of [c.real, c.sim]) expect(Object.keys(side)).toEqual(expect.arrayContaining(['passes', 'reports', 'afterFree', 'boot']));
    expect(c.sim.passes.length).toBeGreaterThan(0);
  });

  it.each(REAL_RUNS)('%s: after the free, the real passes and calls, t50 and t90 within 0.15 s (an idle boot: its boot passes)', (run) => {
    const c = compared(run);
    if (c.real.afterFree) {
      const t = withinTolerance(c.real.afterFree, c.sim.afterFree!, 0.15);
      expect(t.why, `${run}: ${JSON.stringify({ real: c.real.afterFree, sim: c.sim.afterFree })}`).toEqual([]);
    } else {
      const r = c.real.boot!, s = c.sim.boot!;
      expect([s.passes, s.calls, s.blocks, s.bytes]).toEqual([r.passes, r.calls, r.blocks, r.bytes]);
    }
  });

  it.each(REAL_RUNS.filter((r) => HAVE_REAL && compared(r).real.cycles))('%s: every cycle has its own passes, calls and blocks, as the real ones', (run) => {
    const c = compared(run);
    expect(c.sim.cycles!.length).toBe(c.real.cycles!.length);
    c.real.cycles!.forEach((r, i) => {
      const s = c.sim.cycles![i]!;
      // Memory freed but not yet reported is taken again by the next cycle: the passes in between carry little.
      expect([s.passes, s.calls], `cycle ${i}`).toEqual([r.passes, r.calls]);
    });
  });

  // The README's fidelity section is `npm run fidelity`'s output for the shared runs (not a copy that can drift).
  it.skipIf(process.env['PRSIM_REAL_KERNEL'] !== undefined)('the README\'s fidelity section is `prsim fidelity`\'s table of these runs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- fidelity:begin -->\n```\n([\s\S]*?)\n```\n<!-- fidelity:end -->/.exec(readme);
    expect(block, 'README has a fidelity:begin/end block').not.toBeNull();
    const table = formatFidelity(REAL_RUNS.map((r) => fidelityRow(compared(r), 0.15)), 0.15);
    expect(block![1]).toBe(table);
    expect(table).toMatch(new RegExp(`${REAL_RUNS.length} of ${REAL_RUNS.length} runs within tolerance$`));
  });
});
