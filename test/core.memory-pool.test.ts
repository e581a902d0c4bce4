// A finished simulation hands its guests' wasm memories to a pool, and the next guest of the same size starts in
// one of them. Nothing of the previous guest may show through: the same run gives the same result whether its
// memory is new or was used by another guest before; and a released guest refuses to be used.
import { describe, it, expect } from 'vitest';
import { simulate, Simulation, type SimulationSpec, type SimulationResult } from '../src/sim/engine.js';
import { pooledMemories } from '../src/core/wasm.js';

function spec(workload: 'memhog' | 'fragment', seed: number): SimulationSpec {
  return {
    durationS: 12, sampleMs: 100, seed,
    guests: [{
      guest: { profile: 'linux-6.1', memBytes: 256 * 2 ** 20, cpus: 2, pcp: true },
      policy: { kind: 'reporting', profile: 'linux-6.1' },
      device: { kind: 'virtio-balloon' }, host: { backing: 'thp' },
      workloads: workload === 'memhog'
        ? [{ kind: 'memhog', startS: 1, mib: 96, holdS: 1 }]
        : [{ kind: 'fragment', startS: 1, mib: 64, every: 3, holdS: 2 } as never],
    }],
  };
}

const withoutWall = (r: SimulationResult) => ({ ...r, wallMs: 0 });

describe('wasm memory pool', () => {
  it('a run in a memory another guest used gives the same result as in a new one', async () => {
    // A fresh Simulation without dispose(): its memory is new and never pooled.
    const fresh = new Simulation(spec('memhog', 7));
    await fresh.run();
    const want = withoutWall(fresh.result());

    const before = pooledMemories();
    await simulate(spec('fragment', 3)); // leaves its pages, lists and counters behind in the pool
    expect(pooledMemories()).toBe(Math.min(4, before + 1));
    const again = await simulate(spec('memhog', 7)); // takes that memory
    expect(withoutWall(again)).toEqual(want);
    const third = await simulate(spec('memhog', 7));
    expect(withoutWall(third)).toEqual(want);
  });

  it('a released guest refuses every call instead of reading memory that now serves another guest', async () => {
    const sim = new Simulation(spec('memhog', 1));
    await sim.run(2000);
    const g = sim.guests[0]!.guest;
    sim.dispose();
    expect(() => g.buddyinfo()).toThrow(/released/);
    expect(() => g.alloc(0, 1)).toThrow(/released/);
    expect(() => g.core.memory).toThrow(/released/);
  });
});
