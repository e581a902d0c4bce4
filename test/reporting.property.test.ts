// Property tests: random workloads against the reporting worker with random device latencies, errors,
// exceptions and promise answers, run on the virtual clock event by event. After every event the wasm
// invariant walk passes and every page is counted exactly once.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pageAccount, presentPages, rig, smallGuest } from './helpers/reporting.js';
import { EIO, type ReportBatch, type ReportingDevice } from '../src/reporting/device.js';
import { Simulation } from '../src/sim/engine.js';
import type { WasmGuest } from '../src/core/guest.js';
import type { MigrateType, ProfileName } from '../src/core/types.js';
import { getProfile } from '../src/core/profiles.js';

const PROFILES: ProfileName[] = ['linux-5.7', 'linux-6.1', 'linux-next'];

interface Op { dt: number; alloc: boolean; order: number; mt: number; cpu: number; pick: number }
type Outcome = 'ok' | 'eio' | 'throw' | 'promise' | 'reject';
interface Act { latency: number; outcome: Outcome }

const opArb: fc.Arbitrary<Op> = fc.record({
  dt: fc.integer({ min: 0, max: 400 }),
  alloc: fc.boolean(),
  order: fc.constantFrom(0, 0, 0, 0, 1, 2, 3, 4, 8, 9, 9, 10),
  mt: fc.constantFrom(1, 1, 1, 0, 2),
  cpu: fc.integer({ min: 0, max: 1 }),
  pick: fc.nat(),
});

const actArb: fc.Arbitrary<Act> = fc.record({
  latency: fc.constantFrom(0, 0, 1, 30, 120, 700),
  outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'ok', 'eio', 'throw', 'promise', 'reject'),
});

function expectAccounted(g: WasmGuest, where: string): void {
  g.check();
  const a = pageAccount(g);
  if (a.total !== presentPages(g)) throw new Error(`${where}: ${JSON.stringify(a)} != ${presentPages(g)}`);
}

/** A device that plays a script of answers, cycled, and records any entry it gets that is not in flight. */
class ScriptedDevice implements ReportingDevice {
  calls = 0;
  violations: string[] = [];
  onCall: ((n: number) => void) | null = null;
  callTimes: number[] = [];
  private cur: Act = { latency: 0, outcome: 'ok' };
  constructor(readonly g: WasmGuest, readonly acts: Act[], readonly now: () => number, readonly order?: number, readonly capacity?: number) {}
  report(b: ReportBatch): number | Promise<number> {
    for (let i = 0; i < b.length; i++) {
      const s = this.g.pfnState(b.entries[2 * i]!);
      // Recorded, not thrown: the worker would take a throw for a device fault.
      if (s.kind !== 'inflight' || !s.isHead || s.order !== b.entries[2 * i + 1]) {
        this.violations.push(`batch entry ${b.entries[2 * i]} is not an isolated head of order ${b.entries[2 * i + 1]}: ${JSON.stringify(s)}`);
      }
    }
    this.cur = this.acts[this.calls % this.acts.length]!;
    this.calls++;
    this.callTimes.push(this.now());
    this.onCall?.(this.calls);
    switch (this.cur.outcome) {
      case 'ok': return 0;
      case 'eio': return EIO;
      case 'throw': throw new Error('device fault');
      case 'promise': return new Promise((res) => queueMicrotask(() => res(0)));
      case 'reject': return Promise.reject(new Error('device gone'));
    }
  }
  latencyMs(): number {
    return this.cur.latency;
  }
}

interface Case {
  profile: ProfileName; pcp: boolean; cpus: number; pages: number; order: number | undefined; capacity: number | undefined;
  delayMs: number; ops: Op[]; acts: Act[]; unregisterAt: number | undefined; unregisterOnCall: number | undefined;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  profile: fc.constantFrom(...PROFILES),
  pcp: fc.boolean(),
  cpus: fc.integer({ min: 1, max: 2 }),
  pages: fc.constantFrom(1 << 14, (1 << 15) + 256, 3 << 13),
  order: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  capacity: fc.option(fc.integer({ min: 1, max: 32 }), { nil: undefined }),
  delayMs: fc.constantFrom(100, 500, 2000),
  ops: fc.array(opArb, { minLength: 10, maxLength: 160 }),
  acts: fc.array(actArb, { minLength: 1, maxLength: 8 }),
  unregisterAt: fc.option(fc.integer({ min: 0, max: 30000 }), { nil: undefined }),
  unregisterOnCall: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
});

/** One random run, driven like Simulation.run(): step, poll, wait for a promise answer; check after each event. */
async function runCase(c: Case): Promise<void> {
  const g = smallGuest({ profile: c.profile, pages: c.pages, pcp: c.pcp, cpus: c.cpus, watermarks: { min: 64, low: 128, high: 192 } });
  // The delay as a timer model (every kernel has a delay; only linux-next has the knob), the capacity only
  // where the kernel has one.
  const knobs = getProfile(c.profile).knobs;
  const r = rig(g, { timerDelayMs: c.delayMs, record: false, ...(knobs.capacity ? { capacity: c.capacity } : {}) });
  const dev = new ScriptedDevice(g, c.acts, () => r.clock.now(), c.order, c.capacity);
  expect(r.rep.register(dev)).toBe(0);
  if (c.order !== undefined && knobs.order) r.rep.setOrder(c.order);
  const live: Array<[number, number, number]> = [];
  let t = 0;
  for (const op of c.ops) {
    t += op.dt;
    r.clock.schedule(t, () => {
      if (op.alloc || live.length === 0) {
        const cpu = op.cpu % c.cpus;
        const p = g.alloc(op.order, op.mt as MigrateType, { cpu });
        if (p >= 0) live.push([p, op.order, cpu]);
      } else {
        const k = op.pick % live.length;
        const [p, o, cpu] = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        g.free(p, o, { cpu });
      }
    });
  }
  let unregisterCalled = false;
  let unregisteredAt = -1;
  let resolved = false;
  const unregister = () => {
    if (unregisterCalled) return;
    unregisterCalled = true;
    void r.rep.unregister().then(() => (resolved = true));
  };
  if (c.unregisterAt !== undefined) r.clock.schedule(c.unregisterAt, unregister);
  // Or right after the k-th report() call: the next event, usually while that report is outstanding.
  if (c.unregisterOnCall !== undefined) {
    dev.onCall = (n) => {
      if (n === c.unregisterOnCall) r.clock.schedule(r.clock.now(), unregister);
    };
  }
  let events = 0;
  while (r.clock.pending() > 0 && events < 20000) {
    r.clock.step();
    r.rep.poll();
    if (r.rep.pending) await r.rep.pending;
    events++;
    expectAccounted(g, `event ${events} at ${r.clock.now()}`);
    if (unregisterCalled && unregisteredAt < 0 && r.rep.device === null) unregisteredAt = r.clock.now();
  }
  await new Promise((res) => setTimeout(res, 0));
  // Every pass ends (no retry without a request), so the clock runs dry.
  expect(r.clock.pending()).toBe(0);
  expect(r.rep.busy()).toBe(false);
  expect(r.rep.state).toBe('IDLE');
  expect(g.counters().inflightPages).toBe(0);
  expect(pageAccount(g).allocated).toBe(live.reduce((n, [, o]) => n + 2 ** o, 0));
  const m = r.rep.metrics;
  expect(dev.violations).toEqual([]);
  expect(m.reportCalls).toBe(dev.calls);
  expect(m.bytesReported).toBe(m.pagesReported * 4096);
  expect(m.reportedByOrder.reduce((a, b) => a + b, 0)).toBe(m.blocksReported);
  expect(m.pagesReportedAgain).toBeLessThanOrEqual(m.pagesReported);
  if (unregisterCalled) {
    expect(resolved).toBe(true);
    expect(unregisteredAt).toBeGreaterThanOrEqual(0);
    // No report() once unregister is done; calls after it was asked for belong to the pass it waited for.
    expect(dev.callTimes.every((x) => x <= unregisteredAt)).toBe(true);
    expect(r.rep.device).toBe(null);
  }
  // Frees after everything settled: reported pages are all still free heads (check() covers flags).
  for (const [p, o, cpu] of live) g.free(p, o, { cpu });
  g.drainPcp();
  expectAccounted(g, 'after freeing everything');
  expect(pageAccount(g).free).toBe(presentPages(g));

}

describe('random workloads, devices and timings', () => {
  it('after every event: invariants hold, no page lost or counted twice; idle at the end means nothing in flight', async () => {
    await fc.assert(fc.asyncProperty(caseArb, runCase), { numRuns: 500, seed: 20260601 });
  });

  // Found by the property above with per-cpu lists on: assembly/pcp.ts pcpPageToBuddy used to hand the page to
  // freeOnePage with its PG_PCP word still set, leaving a stale per-cpu head inside the merged block.
  it('core: a drained per-cpu page that merges downwards leaves no stale per-cpu head behind', () => {
    const g = smallGuest({ profile: 'linux-6.1', pages: 24576, pcp: true, cpus: 2, watermarks: { min: 64, low: 128, high: 192 } });
    const a = g.alloc(1, 1, { cpu: 1 }); // refill: 0, 2, 4 at order 1
    const b = g.alloc(3, 1, { cpu: 1 }); // refill: 8, 16 at order 3
    expect([a, b]).toEqual([0, 8]);
    g.free(a, 1, { cpu: 1 });
    g.free(b, 3, { cpu: 1 });
    g.drainPcp(1);
    // Everything merged back into the order-10 block at 0 ...
    expect(g.pfnState(0)).toMatchObject({ kind: 'free', isHead: true, order: 10 });
    expect(g.pcpPages(0)).toBe(0);
    // ... but pfn 8 (the upper buddy of 0 at order 3) still claims to be a per-cpu head.
    expect(g.pfnState(8)).toMatchObject({ kind: 'free', head: 0, isHead: false });
    g.check();
  });

  it('the engine: random churn on random profiles with the built-in devices, stepped event by event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          profile: fc.constantFrom(...PROFILES),
          pcp: fc.boolean(),
          device: fc.constantFrom<object>(
            { kind: 'virtio-balloon' }, { kind: 'virtio-balloon', queueSize: 16 }, { kind: 'null' },
            { kind: 'failing', every: 2 }, { kind: 'slow', latencyMs: 80 }, { kind: 'slow', latencyMs: 900 },
          ),
          opsPerS: fc.integer({ min: 200, max: 3000 }),
          target: fc.double({ min: 0.2, max: 0.95, noNaN: true }),
          seed: fc.nat(),
          backing: fc.constantFrom('4k' as const, 'thp' as const),
        }),
        async (c) => {
          const N = (1 << 15) + 256;
          const sim = new Simulation({
            durationS: 8, sampleMs: 250, seed: c.seed,
            guests: [{
              guest: { profile: c.profile, pcp: c.pcp, cpus: 2, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: N, managed: N, watermarks: { min: 64, low: 128, high: 192 } }] },
              policy: { kind: 'reporting', timerDelayMs: 500 }, device: c.device as never, host: { backing: c.backing },
              workloads: [
                { kind: 'churn', startS: 0.2, durationS: 5, opsPerS: c.opsPerS, targetFraction: c.target, cpu: 0 },
                { kind: 'churn', startS: 1, durationS: 3, opsPerS: c.opsPerS / 2, targetFraction: c.target / 3, cpu: 1 },
              ],
            }],
          });
          const gr = sim.guests[0]!;
          sim.start();
          let events = 0;
          while (sim.clock.peek() <= 8000) {
            sim.clock.step();
            gr.poll();
            if (gr.reporting!.pending) await gr.reporting!.pending;
            if (++events % 4 === 0) expectAccounted(gr.guest, `event ${events} at ${sim.clock.now()}`);
          }
          expectAccounted(gr.guest, 'end');
          const rssPages = gr.guest.hostRssPages();
          expect(rssPages).toBeGreaterThanOrEqual(0);
          expect(rssPages).toBeLessThanOrEqual(N + 512);
          if (!gr.reporting!.busy()) expect(gr.guest.counters().inflightPages).toBe(0);
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });
});
