// Every public API method checks its arguments before it changes anything: numbers must be finite integers in
// range, cpus and zones must exist, orders are 0..10; a bulk free is checked whole and applied all or nothing;
// the clock refuses times it cannot keep; simulate() checks its spec with the scenario schema, yields to the event
// loop and can be cancelled. Each refused call is a SimError naming the value, with the state as it was.
import { describe, expect, it } from 'vitest';
import { SimError, type SimErrorCode } from '../src/core/errors.js';
import { WasmGuest } from '../src/core/guest.js';
import { MigrateType } from '../src/core/types.js';
import { VirtualClock } from '../src/clock/clock.js';
import { Simulation, simulate, type SimulationSpec } from '../src/sim/engine.js';
import { checkRunFits, estimateRun } from '../src/sim/estimate.js';
import { PageReporting } from '../src/reporting/worker.js';
import { expectSimError } from './helpers/factories.js';
import { gridPoint } from '../src/scenario/grid.js';

const { MOVABLE } = MigrateType;
const GiB = 2 ** 30;

/** A 1 GiB guest (maxPfn 262144), booted, with a few allocations. */
function guest(): WasmGuest {
  const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: GiB, cpus: 2 }, { hostShift: 9, touchOnAlloc: true });
  g.boot();
  return g;
}

/** Everything a refused call could have changed, cheaply. */
function fingerprint(g: WasmGuest): unknown {
  return {
    buddyinfo: g.buddyinfo(), counters: g.counters(), host: g.hostCounters(), allocated: g.allocatedPages(),
    pcp: g.config.zones.map((_, z) => g.pcpPages(z)), free: g.config.zones.map((_, z) => g.freePages(z)),
  };
}

function refused(g: WasmGuest, fn: () => unknown, code: SimErrorCode, value?: string | number): void {
  const before = fingerprint(g);
  expectSimError(fn, code, value);
  expect(fingerprint(g)).toEqual(before);
  g.check();
}

describe('WasmGuest arguments', () => {
  it('pcpList of a cpu, zone or list that does not exist (the issue: pcpList(100000, 1, 0) aborted the process)', () => {
    const g = guest();
    refused(g, () => g.pcpList(100000, 1, 0), 'BAD_CPU', 100000);
    refused(g, () => g.pcpList(2, 1, 0), 'BAD_CPU', 2);
    refused(g, () => g.pcpList(-1, 1, 0), 'BAD_CPU', -1);
    refused(g, () => g.pcpList(0, 9, 0), 'BAD_ZONE', 9);
    refused(g, () => g.pcpList(0, 1, 13), 'BAD_ORDER', 13);
    refused(g, () => g.pcpList(0, 1, 0.5), 'BAD_ORDER', 0.5);
    expect(g.pcpList(1, 1, 12)).toEqual([]);
  });

  it('touch and discard of a range that is not inside the guest: nothing touched, RSS unchanged', () => {
    const g = guest();
    const max = g.config.maxPfn;
    expect(max).toBe(262144);
    refused(g, () => g.touch(0, -1), 'BAD_ARGUMENT', -1);
    refused(g, () => g.touch(0, 2 ** 31), 'PFN_OUT_OF_RANGE', 2 ** 31);
    refused(g, () => g.touch(262140, 100), 'PFN_OUT_OF_RANGE', 262140);
    refused(g, () => g.touch(NaN, 1), 'PFN_OUT_OF_RANGE', 'NaN');
    refused(g, () => g.touch(1.5, 1), 'PFN_OUT_OF_RANGE', 1.5);
    refused(g, () => g.touch(0, Infinity), 'BAD_ARGUMENT', 'Infinity');
    refused(g, () => g.discard(max, 1), 'PFN_OUT_OF_RANGE', max);
    refused(g, () => g.rangeFree(-5, 1), 'PFN_OUT_OF_RANGE', -5);
    refused(g, () => g.hostResident(max), 'PFN_OUT_OF_RANGE', max);
    // The last pages exactly, and an empty range, are fine.
    const rss = g.hostRssPages();
    expect(g.touch(max - 4, 4)).toBe(0);
    expect(g.hostRssPages()).toBe(rss + 512);
    expect(g.touch(max, 0)).toBe(0);
    g.check();
  });

  it('alloc with an order, migratetype, zone or cpu that is not a valid integer', () => {
    const g = guest();
    refused(g, () => g.alloc(NaN, MOVABLE), 'BAD_ORDER', 'NaN');
    refused(g, () => g.alloc(1.5, MOVABLE), 'BAD_ORDER', 1.5);
    refused(g, () => g.alloc(-1, MOVABLE), 'BAD_ORDER', -1);
    refused(g, () => g.alloc(11, MOVABLE), 'BAD_ORDER', 11);
    refused(g, () => g.alloc(0, NaN as never), 'BAD_MIGRATETYPE', 'NaN');
    refused(g, () => g.alloc(0, MigrateType.ISOLATE), 'BAD_MIGRATETYPE', 5);
    refused(g, () => g.alloc(0, MOVABLE, { highestZone: 2 }), 'BAD_ZONE', 2);
    refused(g, () => g.alloc(0, MOVABLE, { cpu: 0.5 }), 'BAD_CPU', 0.5);
    refused(g, () => g.alloc(0, MOVABLE, { cpu: 2 ** 32 }), 'BAD_CPU', 2 ** 32);
  });

  it('free, isolate, putback and friends check order, cpu and migratetype before wasm sees them', () => {
    const g = guest();
    const p = g.alloc(2, MOVABLE);
    refused(g, () => g.free(p, 2.5), 'BAD_ORDER', 2.5);
    refused(g, () => g.free(p, 2, { cpu: 7 }), 'BAD_CPU', 7);
    refused(g, () => g.free(p + 0.5, 2), 'PFN_OUT_OF_RANGE', p + 0.5);
    refused(g, () => g.isolate(p, NaN), 'BAD_ORDER', 'NaN');
    refused(g, () => g.putback(p, -3), 'BAD_ORDER', -3);
    refused(g, () => g.moveFreePagesBlock(0, 9 as never), 'BAD_MIGRATETYPE', 9);
    refused(g, () => g.setPageblockMt(0, 1.5 as never), 'BAD_MIGRATETYPE', 1.5);
    refused(g, () => g.drainPcp(5), 'BAD_CPU', 5);
    refused(g, () => g.freeList(0, 11, 0), 'BAD_ORDER', 11);
    refused(g, () => g.freeList(0, 0, 6 as never), 'BAD_MIGRATETYPE', 6);
    refused(g, () => g.hintNext(0, 12, 0, -1), 'BAD_ORDER', 12);
    refused(g, () => g.reportCycleBegin(0, 0, 7 as never), 'BAD_MIGRATETYPE', 7);
    refused(g, () => g.freeRange(p, 99), 'BAD_ORDER', 99);
    refused(g, () => g.reshapeAllocated(p, 2, -1, MOVABLE), 'BAD_ORDER', -1);
    refused(g, () => g.word(g.config.maxPfn), 'PFN_OUT_OF_RANGE', g.config.maxPfn);
    g.free(p, 2);
  });

  it('allocBulk with a count, order or cpu out of range allocates nothing (the issue: n = -1 took almost all memory)', () => {
    const g = guest();
    refused(g, () => g.allocBulk(0, MOVABLE, -1), 'BAD_ARGUMENT', -1);
    refused(g, () => g.allocBulk(0, MOVABLE, g.bulkCapacity + 1), 'BAD_ARGUMENT', g.bulkCapacity + 1);
    refused(g, () => g.allocBulk(0, MOVABLE, 2.5), 'BAD_ARGUMENT', 2.5);
    refused(g, () => g.allocBulk(11, MOVABLE, 1), 'BAD_ORDER', 11);
    refused(g, () => g.allocBulk(0, MOVABLE, 1, 9), 'BAD_CPU', 9);
    refused(g, () => g.allocBulk(0, MOVABLE, 1, 0, 7), 'BAD_ZONE', 7);
    expect(g.allocBulk(0, MOVABLE, 0).length).toBe(0);
  });

  it('freeBulk is all or nothing: one bad pfn anywhere in the batch and nothing is freed', () => {
    const g = guest();
    const good = g.alloc(9, MOVABLE);
    const other = g.alloc(9, MOVABLE);
    refused(g, () => g.freeBulk(Uint32Array.from([good, 5]), 9), 'MISALIGNED', 5);
    refused(g, () => g.freeBulk([good, other, good], 9), 'NOT_ALLOCATED', good);
    refused(g, () => g.freeBulk([good, NaN], 9), 'PFN_OUT_OF_RANGE', 'NaN');
    refused(g, () => g.freeBulk([good], 8), 'WRONG_ORDER', good);
    refused(g, () => g.freeBulk([good], 9, 3), 'BAD_CPU', 3);
    refused(g, () => g.freeBulk(null as unknown as number[], 9), 'BAD_ARGUMENT');
    g.freeBulk([good, other], 9);
    expect(g.pfnState(good).kind).not.toBe('allocated');
    g.check();
  });

  it('applyOps refuses a touch op outside the guest before applying any op', () => {
    const g = guest();
    const ops = g.opsView();
    ops.set([1, 0 | (MOVABLE << 8) | (1 << 16), 0, 0, 3, g.config.maxPfn - 1, 2, 0]);
    refused(g, () => g.applyOps(2), 'PFN_OUT_OF_RANGE');
    refused(g, () => g.applyOps(-1), 'BAD_ARGUMENT', -1);
    refused(g, () => g.applyOps(NaN), 'BAD_ARGUMENT', 'NaN');
  });

  it('setReportingOrder takes 0..11 or 255 (off), nothing else', () => {
    const g = guest();
    for (const bad of [12, -1, NaN, 1.5, 254]) expectSimError(() => g.setReportingOrder(bad), 'BAD_ORDER', String(bad));
    for (const ok of [0, 10, 11, 255]) g.setReportingOrder(ok);
    const rep = new PageReporting(g, new VirtualClock());
    expectSimError(() => rep.setOrder(12), 'BAD_CONFIG', 12);
  });

  it('a hand-built config that does not fit its own maxPfn is refused before wasm writes anything', () => {
    const good = WasmGuest.create({ memBytes: 64 * 2 ** 20 }).config;
    expectSimError(() => new WasmGuest({ ...good, maxPfn: good.maxPfn - 100 }), 'BAD_CONFIG', 'maxPfn');
    const overlapping = { ...good, zones: good.zones.map((z, i) => (i === 1 ? { ...z, startPfn: z.startPfn - 1, present: z.present + 1 } : z)) };
    expectSimError(() => new WasmGuest(overlapping), 'BAD_CONFIG', 'overlaps');
    expectSimError(() => new WasmGuest({ ...good, cpus: 0 }), 'BAD_CONFIG', 'cpus');
    expectSimError(() => new WasmGuest(good, { hostShift: 3 }), 'BAD_ARGUMENT', 3);
    expectSimError(() => WasmGuest.create({ memBytes: 512.001 * 2 ** 20 }), 'BAD_CONFIG', 'whole number of 4 KiB pages');
    expectSimError(() => WasmGuest.create({ memBytes: GiB, profile: 'toString' as never }), 'BAD_CONFIG', 'toString');
  });
});

describe('VirtualClock arguments', () => {
  it('runUntil refuses NaN, negative, backwards and Infinity, and the clock stays where it was', () => {
    const c = new VirtualClock();
    let ran = 0;
    c.schedule(10, () => ran++);
    c.runUntil(5);
    for (const bad of [NaN, -5, 4, Infinity, -Infinity]) {
      expectSimError(() => c.runUntil(bad), 'BAD_ARGUMENT', String(bad));
      expect(c.now()).toBe(5);
    }
    expectSimError(() => c.schedule(NaN, () => ran++), 'BAD_ARGUMENT', 'NaN');
    expectSimError(() => c.schedule(1, 'x' as never), 'BAD_ARGUMENT');
    c.runUntil(5);
    c.runUntil(10);
    expect(ran).toBe(1);
  });
});

describe('simulate() and new Simulation()', () => {
  const base = (): SimulationSpec => ({
    durationS: 4,
    guests: [{ guest: { memBytes: 128 * 2 ** 20 }, policy: { kind: 'reporting' }, workloads: [{ kind: 'memhog', startS: 0.5, mib: 16, holdS: 0.5 }] }],
  });

  const cases: Array<[string, (s: any) => void, string]> = [
    ['sampleMs 0 (blocked 180 s, then a heap OOM)', (s) => (s.sampleMs = 0), 'spec: sampleMs: expected a number > 0, got 0'],
    ['durationS -1', (s) => (s.durationS = -1), 'spec: durationS: expected a number > 0, got -1'],
    ['durationS NaN', (s) => (s.durationS = NaN), 'spec: durationS: expected a number > 0, got NaN'],
    ['a policy of kind bogus (ran as none)', (s) => (s.guests[0].policy = { kind: 'bogus' }), 'spec: guests[0].policy.kind: expected a policy object with kind "none", "reporting" or "hinting", got "bogus"'],
    ['a bad workload kind (a TypeError)', (s) => (s.guests[0].workloads[0].kind = 'hog'), 'spec: guests[0].workloads[0].kind: expected a workload with kind "memhog", "churn", "fragment", "pagecache", "burst" or "writes", got "hog"'],
    ['no guests (a TypeError)', (s) => delete s.guests, 'spec: guests: expected an array of guests, but it is missing'],
    ['memBytes not whole pages', (s) => (s.guests[0].guest.memBytes = 512.001 * 2 ** 20), 'spec: guests[0].guest.memBytes: expected a whole number of 4 KiB pages in bytes, from 33554432 (32 MiB) to 17592186044416 (16 TiB), got 536871960.576'],
    ['a workload cpu the guest lacks', (s) => (s.guests[0].workloads[0].cpu = 5), 'spec: guests[0].workloads[0].cpu: expected a cpu of this 2-cpu guest (0..1), got 5'],
  ];
  it.each(cases)('%s: SimError BAD_CONFIG naming the field, nothing run', async (_, mutate, message) => {
    const spec = base();
    mutate(spec);
    const e = await simulate(spec).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe('BAD_CONFIG');
    expect((e as SimError).message).toBe(message);
  });

  it('a run too large for the limits is refused with the estimate and the limit (durationS 1e12 used to run to a heap OOM)', async () => {
    const spec = { ...base(), durationS: 1e12 };
    const e = await simulate(spec).then(() => null, (x: unknown) => x) as SimError;
    expect(e).toBeInstanceOf(SimError);
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(/needs about .* of JS heap \(2\.0e\+13 samples .*the limit is/);
    // The same spec fits when the samples are few; then time is the limit.
    const slow = { ...spec, sampleMs: 1e9, guests: [{ ...spec.guests[0]!, policy: { kind: 'hinting' as const } }] };
    expect(() => checkRunFits(slow)).toThrow(/would take about .* the limit is 1\.00 h/);
    // And limits can be given: a small heap refuses even the short run.
    expect(() => new Simulation(base(), { limits: { heapBytes: 1000 } })).toThrow(SimError);
    expect(estimateRun(base()).samples).toBe(81);
  });

  it('yields to the event loop between slices: a timer set before the run fires while it runs', async () => {
    const sim = new Simulation(base());
    let seenAtMs = -1;
    setImmediate(() => (seenAtMs = sim.clock.now()));
    await sim.run(undefined, { sliceMs: Number.MIN_VALUE });
    expect(seenAtMs).toBeGreaterThanOrEqual(0);
    expect(seenAtMs).toBeLessThan(4000);
  });

  it('an AbortSignal cancels a run between slices, and an aborted one does not start', async () => {
    const sim = new Simulation(base());
    const ctl = new AbortController();
    let stoppedAt = -1;
    setImmediate(() => {
      stoppedAt = sim.clock.now();
      ctl.abort();
    });
    const e = await sim.run(undefined, { signal: ctl.signal, sliceMs: Number.MIN_VALUE }).then(() => null, (x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
    expect(sim.clock.now()).toBeLessThan(4000);
    expect(sim.clock.now()).toBe(stoppedAt);
    const pre = await simulate(base(), { signal: AbortSignal.abort() }).then(() => null, (x: unknown) => x);
    expect((pre as Error).name).toBe('AbortError');
  });

  it('run(untilMs) refuses NaN, Infinity and a time already passed', async () => {
    const sim = new Simulation(base());
    await sim.run(1000);
    for (const bad of [NaN, Infinity, 500]) {
      const e = await sim.run(bad).then(() => null, (x: unknown) => x);
      expect((e as SimError).code).toBe('BAD_ARGUMENT');
    }
    expect(() => sim.runSync(NaN)).toThrow(SimError);
    await sim.run();
    expect(sim.clock.now()).toBe(4000);
  });
});

describe('the options of simulate() and run(), and gridPoint', () => {
  const rejection = (p: Promise<unknown>) => p.then(() => null, (x: unknown) => x) as Promise<SimError | null>;
  const base = (): SimulationSpec => ({
    durationS: 4,
    guests: [{ guest: { memBytes: 128 * 2 ** 20 }, policy: { kind: 'reporting' }, workloads: [{ kind: 'memhog', startS: 0.5, mib: 16, holdS: 0.5 }] }],
  });

  it('options that are not an object, or a signal that is not an AbortSignal, are a SimError, not a TypeError', async () => {
    for (const [opts, words] of [[null, 'options must be an object, got null'], [5, 'options must be an object, got number'], [{ signal: 42 }, 'signal must be an AbortSignal, got number'], [{ signal: null }, 'signal must be an AbortSignal, got null']] as const) {
      const e = await rejection(simulate(base(), opts as never));
      expect(e, JSON.stringify(opts)).toBeInstanceOf(SimError);
      expect(e!.code).toBe('BAD_ARGUMENT');
      expect(e!.message).toBe(`simulate: ${words}`);
    }
    const sim = new Simulation(base());
    expect((await rejection(sim.run(undefined, { signal: {} as never })))!.message).toBe('run: signal must be an AbortSignal, got object');
    expect(sim.clock.now()).toBe(0);
    expectSimError(() => new Simulation(base(), null as never), 'BAD_ARGUMENT', 'Simulation: options must be an object');
  });

  it('limits are checked: NaN (which let any run through), 0, negatives, strings and unknown keys are refused', async () => {
    // NaN compared false with every estimate, so a 1e12 s run passed the check it was meant to fail.
    const huge = { ...base(), durationS: 1e12 };
    for (const [limits, words] of [
      [{ heapBytes: NaN }, 'limits.heapBytes: expected a number > 0 (Infinity for none), got NaN'],
      [{ wallSeconds: 0 }, 'limits.wallSeconds: expected a number > 0 (Infinity for none), got 0'],
      [{ memoryBytes: -1 }, 'limits.memoryBytes: expected a number > 0 (Infinity for none), got -1'],
      [{ heapBytes: '1e9' }, 'limits.heapBytes: expected a number > 0 (Infinity for none), got "1e9"'],
      [{ heap: 1e9 }, 'limits.heap: unknown limit (expected memoryBytes, heapBytes, wallSeconds)'],
      [null, 'limits: expected an object of memoryBytes, heapBytes, wallSeconds, got null'],
    ] as const) {
      const e = await rejection(simulate(huge, { limits: limits as never }));
      expect(e, JSON.stringify(limits)).toBeInstanceOf(SimError);
      expect(e!.code).toBe('BAD_ARGUMENT');
      expect(e!.message).toBe(words);
    }
    // A limit the caller gave is named as theirs, not as the machine's.
    expect(() => checkRunFits(base(), { heapBytes: 1000 })).toThrow(/the limit is .* \(limits\.heapBytes\)/);
    // Infinity is no limit on that axis; the machine's other limits still hold.
    expect(() => checkRunFits(huge, { heapBytes: Infinity, memoryBytes: Infinity })).toThrow(/would take about/);
  });

  it('PageReporting refuses a misspelt option (it ran with the kernel default) and a missing guest (a TypeError)', () => {
    const g = WasmGuest.create({ profile: 'linux-next', memBytes: 128 * 2 ** 20, cpus: 2 });
    const clock = new VirtualClock();
    const e = expectSimError(() => new PageReporting(g, clock, { delayMS: 100 } as never), 'BAD_CONFIG', "unknown option 'delayMS'");
    expect(e.message).toBe("PageReporting: unknown option 'delayMS' (expected order, capacity, delayMs, timerDelayMs, budgetDivisor, record)");
    expectSimError(() => new PageReporting(null as never, clock), 'BAD_ARGUMENT', 'expected a guest');
    expectSimError(() => new PageReporting(g, clock, null as never), 'BAD_ARGUMENT', 'options must be an object');
    expect(new PageReporting(g, clock, { delayMs: 100, capacity: 16 }).capacity).toBe(16);
  });

  it('gridPoint refuses an index outside the grid (it returned a point with no parameters, or wrapped round)', () => {
    const grid = { 'policy.order': [0, 9], 'policy.capacity': [8, 16, 32] };
    expect(gridPoint(grid, 5)).toEqual({ index: 5, params: { 'policy.order': 9, 'policy.capacity': 32 } });
    for (const bad of [-1, 6, 99, 1.5, NaN, Infinity]) expectSimError(() => gridPoint(grid, bad), 'BAD_ARGUMENT', String(bad));
    expect(() => gridPoint(grid, 6)).toThrow('gridPoint: index 6 is outside the grid (its points are 0..5)');
    expectSimError(() => gridPoint(null as never, 0), 'BAD_ARGUMENT', 'null');
    expectSimError(() => gridPoint({ a: [] } as never, 0), 'BAD_ARGUMENT', 'grid["a"]');
  });
});

describe('the other public classes check their options', () => {
  it('QemuHost, the devices, hinting, the worker, createWorkload and GuestRun refuse values that would break the clock', async () => {
    const { QemuHost } = await import('../src/host/qemu.js');
    const { VirtioBalloonDevice, NullDevice, FailingDevice, SlowDevice } = await import('../src/host/devices.js');
    const { FreePageHinting } = await import('../src/hinting/hinting.js');
    const { createWorkload } = await import('../src/workloads/index.js');
    const { GuestRun } = await import('../src/sim/guest-run.js');
    const { transition } = await import('../src/reporting/state.js');
    const g = guest();
    const clock = new VirtualClock();
    expectSimError(() => new QemuHost(g, { callLatencyMs: NaN }), 'BAD_CONFIG', 'callLatencyMs');
    expectSimError(() => new QemuHost(g, { poisonValue: 256 }), 'BAD_CONFIG', '256');
    expectSimError(() => new QemuHost(g, { inhibit: 'always' as never }), 'BAD_CONFIG', 'always');
    const host = new QemuHost(g);
    expectSimError(() => new VirtioBalloonDevice(host, { queueSize: 0 }), 'BAD_CONFIG', 'queueSize');
    expectSimError(() => new VirtioBalloonDevice(host, { order: 11 }), 'BAD_CONFIG', '11');
    expectSimError(() => new NullDevice(-1), 'BAD_CONFIG', '-1');
    expectSimError(() => new FailingDevice(0), 'BAD_CONFIG', '0');
    expectSimError(() => new SlowDevice(Infinity), 'BAD_CONFIG', 'Infinity');
    expectSimError(() => new SlowDevice(1, {} as never), 'BAD_ARGUMENT', 'report');
    expectSimError(() => new FreePageHinting(g, clock, { use: 'discard', intervalMs: 0 }), 'BAD_CONFIG', 'intervalMs');
    expectSimError(() => new FreePageHinting(g, clock, { use: 'discard', stepMs: NaN }), 'BAD_CONFIG', 'stepMs');
    expectSimError(() => new FreePageHinting(g, clock, { use: 'bogus' as never }), 'BAD_CONFIG', 'bogus');
    // Capacity is linux-next's knob (6.1 refuses it outright); its range is checked there.
    expectSimError(() => new PageReporting(g, clock, { capacity: 32 }), 'BAD_CONFIG', 'linux-next');
    const next = WasmGuest.create({ profile: 'linux-next', memBytes: GiB, cpus: 2 });
    expectSimError(() => new PageReporting(next, clock, { capacity: 257 }), 'BAD_CONFIG', '1..256');
    const rep = new PageReporting(g, clock);
    expectSimError(() => rep.register(null as never), 'BAD_ARGUMENT', 'report');
    expect(rep.device).toBeNull();
    expectSimError(() => createWorkload({ kind: 'memhog', startS: 0, mib: 8, holdS: 1, tickMs: 0 }), 'BAD_CONFIG', 'workload: tickMs: expected a number > 0, got 0');
    expectSimError(() => new GuestRun({ guest: { memBytes: GiB }, policy: { kind: 'hinting', intervalMs: -1 } } as never, clock, 0, 1), 'BAD_CONFIG', 'guest run: policy.intervalMs');
    expectSimError(() => transition('IDLE', 'explode' as never), 'BAD_ARGUMENT', 'explode');
  });

  it('the importers take text, and guestFromProc a parsed zoneinfo', async () => {
    const { parseBuddyinfo } = await import('../src/importers/buddyinfo.js');
    const { parseZoneinfo } = await import('../src/importers/zoneinfo.js');
    const { parseFtraceLine } = await import('../src/importers/ftrace.js');
    const { decodeKpageflags } = await import('../src/importers/kpageflags.js');
    const { guestFromProc } = await import('../src/importers/start-state.js');
    expectSimError(() => parseBuddyinfo(undefined as never), 'BAD_ARGUMENT', 'parseBuddyinfo');
    expectSimError(() => parseZoneinfo(42 as never), 'BAD_ARGUMENT', 'parseZoneinfo');
    expectSimError(() => parseFtraceLine(null as never), 'BAD_ARGUMENT', 'null');
    expectSimError(() => decodeKpageflags('abc' as never), 'BAD_ARGUMENT', 'Uint8Array');
    expectSimError(() => guestFromProc({} as never), 'BAD_ARGUMENT', 'zoneinfo');
  });
});
