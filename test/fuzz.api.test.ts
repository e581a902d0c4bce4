// Fuzz: the API called with random arguments. Sequences of calls on a small guest with numbers drawn from valid
// ranges, their edges and beyond (NaN, Infinity, negatives, fractions, 2^31, 2^32, 2^53): each call either works
// or throws a SimError, a refused call leaves the state exactly as it was, and check() holds after every call.
// The clock and simulate() get the same treatment. FUZZ_SCALE multiplies the runs (npm run fuzz).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/core/errors.js';
import { WasmGuest } from '../src/core/guest.js';
import { PROFILE_NAMES } from '../src/core/profiles.js';
import { VirtualClock } from '../src/clock/clock.js';
import { simulate, type SimulationSpec } from '../src/sim/engine.js';
import { Rng, mutateJson } from './fuzz/mutate.js';

const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261205);
const MAX_PFN = 16384; // a 64 MiB guest

const weird = fc.constantFrom(NaN, Infinity, -Infinity, -1, -0, 0.5, 1.5, 2 ** 31, 2 ** 32, -(2 ** 31), 2 ** 53, 1e300, 1e-300, 65535, 65536, 65537, 0xfffffffe);
const num = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -1, max: 12 }) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_PFN + 16 }) },
  { weight: 2, arbitrary: weird },
  { weight: 1, arbitrary: fc.double() },
);
const call = fc.record({ m: fc.nat(), a: num, b: num, c: num, d: num, flag: fc.boolean(), k: fc.nat() });

interface World { g: WasmGuest; live: Array<[number, number]>; inflight: Array<[number, number]> }

/** The method table: each entry makes one call from the drawn numbers (live blocks make the valid calls likely). */
interface Call { m: number; a: number; b: number; c: number; d: number; flag: boolean; k: number }
const METHODS: Array<[string, (w: World, x: Call) => void]> = [
  ['alloc', (w, x) => {
    const p = w.g.alloc(x.a, x.b as never, x.flag ? { cpu: x.c } : { cpu: x.c, highestZone: x.d });
    if (p >= 0) w.live.push([p, x.a]);
  }],
  ['free', (w, x) => {
    const i = w.live.length ? x.k % w.live.length : -1;
    const [pfn, order] = x.flag && i >= 0 ? w.live[i]! : [x.a, x.b];
    w.g.free(pfn, order, { cpu: x.flag ? (x.c & 1) : x.c, direct: x.d === 1, toTail: x.d === 2, skipNotify: x.d === 3 });
    if (x.flag && i >= 0) w.live.splice(i, 1);
  }],
  ['freeRange', (w, x) => w.g.freeRange(x.a, x.b, { toTail: x.flag })],
  ['allocExact', (w, x) => w.g.allocExact(x.a, x.b, x.c)],
  ['reshapeAllocated', (w, x) => w.g.reshapeAllocated(x.a, x.b, x.c, x.d)],
  ['isolate', (w, x) => {
    const s = Number.isInteger(x.a) && x.a >= 0 && x.a < MAX_PFN ? w.g.pfnState(x.a) : null;
    const [pfn, order] = x.flag && s && s.kind === 'free' ? [s.head, s.order] : [x.a, x.b];
    if (w.g.isolate(pfn, order)) w.inflight.push([pfn, order]);
  }],
  ['putback', (w, x) => {
    const i = w.inflight.length ? x.k % w.inflight.length : -1;
    const [pfn, order] = x.flag && i >= 0 ? w.inflight[i]! : [x.a, x.b];
    w.g.putback(pfn, order);
    if (x.flag && i >= 0) w.inflight.splice(i, 1);
  }],
  ['setPageblockMt', (w, x) => w.g.setPageblockMt(x.a, x.b as never)],
  ['moveFreePagesBlock', (w, x) => w.g.moveFreePagesBlock(x.a, x.b as never)],
  ['drainPcp', (w, x) => w.g.drainPcp(x.flag ? undefined : x.a)],
  ['setReportingOrder', (w, x) => w.g.setReportingOrder(x.flag ? 255 : x.a)],
  ['touch', (w, x) => w.g.touch(x.a, x.b)],
  ['discard', (w, x) => w.g.discard(x.a, x.b)],
  ['rangeFree', (w, x) => w.g.rangeFree(x.a, x.b)],
  ['hostResident', (w, x) => w.g.hostResident(x.a)],
  ['hintNext', (w, x) => w.g.hintNext(x.a, x.b, x.c, x.flag ? -1 : x.d)],
  ['reportBatchReset', (w, x) => w.g.reportBatchReset(x.a, x.flag ? undefined : x.b)],
  ['reportCycleBegin', (w, x) => w.g.reportCycleBegin(x.a, x.b, x.c as never)],
  ['reportCycleStep', (w) => w.g.reportCycleStep()],
  ['reportDrain', (w, x) => w.g.reportDrain(x.flag)],
  ['allocBulk', (w, x) => {
    const got = w.g.allocBulk(x.a, x.b as never, x.flag ? (x.c & 63) : x.c, x.d & 1, x.flag ? undefined : x.d);
    for (const p of got) w.live.push([p, x.a]);
  }],
  ['freeBulk', (w, x) => {
    const order = w.live.length ? w.live[x.k % w.live.length]![1] : x.b;
    const pick = w.live.filter(([, o]) => o === order).slice(0, 1 + (x.k % 40));
    const pfns = pick.map(([p]) => p);
    if (!x.flag) pfns.splice(x.k % (pfns.length + 1), 0, x.a); // one random pfn: the batch must then be refused whole
    w.g.freeBulk(pfns, x.flag ? order : x.b, x.c & 1);
    w.live = w.live.filter(([p, o]) => !(o === (x.flag ? order : x.b) && pfns.includes(p)));
  }],
  ['applyOps', (w, x) => {
    const ops = w.g.opsView();
    const n = Math.abs(x.k) % 8;
    for (let i = 0; i < n; i++) ops.set([1 + ((x.k + i) % 4), (x.a >>> 0) + i, x.b >>> 0, 0], 4 * i);
    w.g.applyOps(x.flag ? n : x.c);
  }],
  ['readouts', (w, x) => {
    w.g.freeList(x.a, x.b, x.c as never);
    w.g.pcpList(x.a, x.b, x.c);
    w.g.pfnState(x.d);
    w.g.getPageblockMt(x.d);
    w.g.freePages(x.a);
    w.g.pcpPages(x.b);
    w.g.word(x.d);
  }],
  ['placeFreeBlock', (w, x) => w.g.placeFreeBlock(x.a, x.b, x.c, x.flag, x.d === 1)],
];

function fingerprint(g: WasmGuest): string {
  return JSON.stringify([
    g.buddyinfo(), g.counters(), g.hostCounters(), g.allocatedPages(), g.reportBatchCount(),
    g.config.zones.map((_, z) => [g.freePages(z), g.pcpPages(z)]),
  ]);
}

describe('fuzz: WasmGuest called with random arguments', () => {
  it(`${150 * SCALE} sequences of 20 to 150 calls: success or SimError, state unchanged on refusal, check() after every call`, () => {
    const stats = { calls: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...PROFILE_NAMES), fc.boolean(), fc.boolean(), fc.array(call, { minLength: 20, maxLength: 150, size: 'max' }), (profile, thp, pcp, calls) => {
        const g = WasmGuest.create({ profile, memBytes: MAX_PFN * 4096, cpus: 2, pcp }, { hostShift: thp ? 9 : 0, touchOnAlloc: true });
        g.boot();
        const w: World = { g, live: [], inflight: [] };
        for (const x of calls) {
          const [name, fn] = METHODS[x.m % METHODS.length]!;
          const before = fingerprint(g);
          stats.calls++;
          try {
            fn(w, x);
          } catch (e) {
            if (!(e instanceof SimError)) throw new Error(`${name}(${JSON.stringify(x)}) threw ${(e as Error).stack}`);
            stats.refused++;
            expect(fingerprint(g), `${name} refused (${e.message}) but changed the state`).toBe(before);
          }
          g.check();
        }
      }),
      { numRuns: 150 * SCALE, seed: SEED },
    );
    console.log(`fuzz api: ${stats.calls} calls, ${stats.refused} refused with a SimError`);
  });
});

describe('fuzz: the clock and simulate()', () => {
  it(`VirtualClock: ${300 * SCALE} random sequences of schedule, cancel, step and runUntil`, () => {
    fc.assert(
      fc.property(fc.array(fc.record({ op: fc.nat(3), t: num, h: fc.nat() }), { maxLength: 60, size: 'max' }), (ops) => {
        const c = new VirtualClock();
        let last = 0;
        for (const o of ops) {
          try {
            if (o.op === 0) c.schedule(o.t, () => {});
            else if (o.op === 1) c.cancel(o.h % 64);
            else if (o.op === 2) c.step();
            else c.runUntil(o.t);
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
          }
          expect(c.now()).toBeGreaterThanOrEqual(last);
          expect(Number.isFinite(c.now())).toBe(true);
          last = c.now();
        }
      }),
      { numRuns: 300 * SCALE, seed: SEED },
    );
  });

  it('every number of every workload at its edges (0, 1e-300, 0.001 ... 1e300) under each policy', async () => {
    const workloads: Array<Record<string, unknown>> = [
      { kind: 'memhog', startS: 0.1, mib: 8, holdS: 0.2, rateMiBps: 400, freeRateMiBps: 1000, cpu: 1, tickMs: 1 },
      { kind: 'churn', startS: 0.1, durationS: 1, opsPerS: 2000, targetFraction: 0.5, cpu: 1, tickMs: 10 },
      { kind: 'fragment', startS: 0.1, mib: 8, every: 2, holdS: 0.2, rateMiBps: 400, cpu: 1, tickMs: 1 },
      { kind: 'pagecache', startS: 0.1, durationS: 1, rateMiBps: 50, limitMiB: 4, cpu: 1, tickMs: 10 },
      { kind: 'burst', startS: 0.1, mib: 4, periodS: 0.5, holdS: 0.1, count: 3, rateMiBps: 100, cpu: 1 },
    ];
    const policies = [{ kind: 'none' }, { kind: 'reporting', order: 0, capacity: 1, delayMs: 0 }, { kind: 'hinting', stepMs: 0, intervalMs: 1 }];
    const edges = [0, 1e-300, 0.001, 0.5, 1, 2, 1000, 1e6, 1e12, 1e300];
    let ran = 0;
    for (const w of workloads) {
      for (const [k, v0] of Object.entries(w)) {
        if (typeof v0 !== 'number') continue;
        for (const v of edges) {
          for (const policy of policies) {
            const spec = { durationS: 2, sampleMs: 100, guests: [{ guest: { memBytes: 64 * 2 ** 20, cpus: 2 }, policy, workloads: [{ ...w, [k]: v }] }] };
            try {
              await simulate(spec as unknown as SimulationSpec, { limits: { wallSeconds: 1 }, signal: AbortSignal.timeout(20_000) });
              ran++;
            } catch (e) {
              // A value the schema refuses, or a run too large, is a SimError; anything else is a bug (pagecache with
              // a limit under one page and churn keeping no pages were, before this test).
              if (!(e instanceof SimError)) throw new Error(`${w['kind']}.${k} = ${v} under ${policy.kind}: ${(e as Error).stack}`);
              expect(['BAD_CONFIG', 'TOO_LARGE'], `${w['kind']}.${k} = ${v} under ${policy.kind}: ${e.message}`).toContain(e.code);
            }
          }
        }
      }
    }
    expect(ran).toBeGreaterThan(300);
  });

  it(`simulate(): ${120 * SCALE} mutated specs end in a result or a SimError, within the limits`, async () => {
    const base: SimulationSpec = {
      durationS: 3, sampleMs: 100, seed: 5,
      guests: [
        { guest: { memBytes: 64 * 2 ** 20, cpus: 2 }, policy: { kind: 'reporting', capacity: 16, order: 5 }, device: { kind: 'failing', every: 3 }, workloads: [{ kind: 'memhog', startS: 0.2, mib: 16, holdS: 0.3 }, { kind: 'churn', startS: 0.1, durationS: 1, opsPerS: 2000 }] },
        { guest: { memBytes: 64 * 2 ** 20 }, policy: { kind: 'hinting', stepMs: 0.5 }, workloads: [{ kind: 'burst', startS: 0.1, mib: 4, periodS: 0.5, holdS: 0.1, count: 3 }] },
      ],
    };
    const rng = new Rng(SEED ^ 0xa1);
    let results = 0, refused = 0, stopped = 0;
    for (let i = 0; i < 120 * SCALE; i++) {
      const m = mutateJson(rng, base as never);
      let spec: unknown;
      try {
        spec = JSON.parse(m.text);
      } catch {
        continue; // 100000 levels of nesting: JSON.parse takes it, but nothing here needs it as an object
      }
      try {
        await simulate(spec as SimulationSpec, { limits: { wallSeconds: 0.5, heapBytes: 512 * 2 ** 20 }, signal: AbortSignal.timeout(10_000) });
        results++;
      } catch (e) {
        // Stopped by the deadline: bounded in time, though the estimate let it start (counted, shown below).
        if ((e as Error).name === 'TimeoutError') stopped++;
        else if (!(e instanceof SimError)) throw new Error(`case ${i} (${m.what}): ${(e as Error).stack}`);
        else refused++;
      }
    }
    expect(results + refused).toBeGreaterThan(0);
    console.log(`fuzz simulate: ${results} ran, ${refused} refused, ${stopped} stopped by the signal`);
  });
});
