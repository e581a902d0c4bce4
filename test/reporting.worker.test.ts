// The page reporting worker (src/reporting/worker.ts): batching, budget, leftover flush, the state machine,
// register/unregister, device errors and exceptions, promise devices, and the profile knobs.
import { describe, expect, it } from 'vitest';
import {
  MOVABLE, RecordingDevice, at, expectConserved, listWithFlags, pageAccount, range, rig, runUntil, smallGuest,
} from './helpers/reporting.js';
import { TRANSITIONS, transition, type ReportingEvent, type ReportingState } from '../src/reporting/state.js';
import { EBUSY, EIO, type ReportBatch, type ReportingDevice } from '../src/reporting/device.js';
import { FailingDevice, NullDevice, SlowDevice, VirtioBalloonDevice } from '../src/host/devices.js';
import { QemuHost } from '../src/host/qemu.js';
import { PageReporting } from '../src/reporting/worker.js';
import { Simulation } from '../src/sim/engine.js';
import { SimError } from '../src/core/errors.js';
import type { MigrateType, ProfileName } from '../src/core/types.js';

/** linux-next guest: order-10 blocks [0, 9216) and four order-9 blocks at 9216, 10240, 11264, 12288 kept apart
 *  by holes (so they cannot merge). */
function mixedGuest(profile: ProfileName = 'linux-next') {
  return smallGuest({ profile, pages: 12800, holes: [[9728, 10240], [10752, 11264], [11776, 12288]] });
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

describe('batching: the scatterlist is shared by the lists of a zone and sent when the NEXT unreported page shows up', () => {
  it('a full batch is carried into the next list and sent there; the budget of that list pays for it', () => {
    const g = mixedGuest();
    expect(g.freeList(0, 9, MOVABLE)).toEqual([9216, 10240, 11264, 12288]);
    expect(g.freeList(0, 10, MOVABLE)).toEqual(range(0, 9216, 1024));
    const r = rig(g);
    const dev = new RecordingDevice(r.clock, 0, undefined, 4);
    r.rep.register(dev);
    expect(r.rep.capacity).toBe(4);
    runUntil(r, 2000);
    // The 4 order-9 blocks fill the batch exactly; it goes out only when the walk of the order-10 list meets
    // block 0 (budget of that list: ceil(9 / 64) = 1 -> 0). Four order-10 blocks follow (budget -> -1) and the
    // next unreported block (4096) exhausts the budget.
    expect(dev.batches).toEqual([
      [[12288, 9], [11264, 9], [10240, 9], [9216, 9]],
      [[3072, 10], [2048, 10], [1024, 10], [0, 10]],
    ]);
    expect(r.rep.metrics.budgetExhaustions).toBe(1);
    expect(r.rep.state).toBe('REQUESTED');
    // The block where the walk stopped was rotated to the front; the reported ones are behind the rest.
    expect(listWithFlags(g, 10)).toEqual([
      ...range(4096, 9216, 1024).map((p) => [p, false]),
      ...[3072, 2048, 1024, 0].map((p) => [p, true]),
    ]);
    // Another pass one delay after the end of the first.
    runUntil(r, 5000);
    expect(r.rep.passLog.map((p) => [p.start, p.batches, p.blocks])).toEqual([[2000, 2, 8], [4000, 2, 5]]);
    expect(dev.batches.slice(2)).toEqual([
      [[7168, 10], [6144, 10], [5120, 10], [4096, 10]],
      [[8192, 10]], // the leftover flush
    ]);
    expect(r.rep.metrics.budgetExhaustions).toBe(1);
    expect(r.rep.state).toBe('IDLE');
    expect(r.clock.pending()).toBe(0);
  });

  it('exactly capacity unreported blocks go out in one leftover flush, never in the middle of the walk', () => {
    const r = rig(smallGuest({ pages: 32 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(dev.batches.length).toBe(1);
    expect(dev.batches[0]!.length).toBe(32);
    // One cycle (order 10, MOVABLE) and one drain: the batch was never sent from inside the cycle.
    expect(r.rep.metrics.lockAcquisitions).toBe(2);
  });

  it('a leftover flush reports fewer than capacity entries at the end of the zone', () => {
    const r = rig(smallGuest({ profile: 'linux-next', pages: 5 * 1024 + 256, watermarks: { min: 0, low: 0, high: 0 } }), { capacity: 8 });
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    expect(dev.batches).toEqual([[4096, 3072, 2048, 1024, 0].map((p) => [p, 10])]);
    expect(r.rep.metrics.blocksReported).toBe(5);
  });

  it('blocks already Reported are skipped and do not trigger a report', () => {
    const r = rig(smallGuest({ pages: 32 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    runUntil(r, 2000);
    at(r, 3000, () => {
      const p = r.g.alloc(10, MOVABLE);
      r.g.free(p, 10);
    });
    runUntil(r, 6000);
    // Pass 2: one unreported block among 31 Reported ones, sent alone by the leftover flush.
    expect(dev.batches.length).toBe(2);
    expect(dev.batches[1]!.length).toBe(1);
  });
});

describe('budget = ceil(nr_free / (capacity * 16))', () => {
  function budgetRun(blocks: number, moved: number[] = [], divisor?: number, capacity = 2, mt: MigrateType = 0) {
    const g = smallGuest({ profile: 'linux-next', pages: blocks * 1024 + 256 });
    for (const p of moved) {
      g.setPageblockMt(p, mt);
      g.setPageblockMt(p + 512, mt);
      expect(g.moveFreePagesBlock(p, mt)).toBe(1024);
      expect(g.freeList(0, 10, mt)).toEqual([p]);
    }
    const r = rig(g, divisor === undefined ? {} : { budgetDivisor: divisor });
    const dev = new RecordingDevice(r.clock, 0, undefined, capacity);
    r.rep.register(dev);
    runUntil(r, 2000);
    return { r, dev };
  }

  it('32 blocks, capacity 2: budget 1 allows 2 calls in the list, the third unreported block exhausts it', () => {
    const { r, dev } = budgetRun(32);
    expect(dev.batches.length).toBe(2);
    expect(r.rep.metrics.blocksReported).toBe(4);
    expect(r.rep.metrics.budgetExhaustions).toBe(1);
  });

  it('33 blocks, capacity 2: budget ceil(33 / 32) = 2 allows 3 calls', () => {
    const { r, dev } = budgetRun(33);
    expect(dev.batches.length).toBe(3);
    expect(r.rep.metrics.blocksReported).toBe(6);
    expect(r.rep.metrics.budgetExhaustions).toBe(1);
  });

  it('nr_free counts every migratetype of the order (but not blocks in flight)', () => {
    // 33 order-10 blocks, one on the RECLAIMABLE list (walked after MOVABLE): MOVABLE holds 32 but its budget is
    // ceil(33 / 32) = 2, so it gets 3 calls; the RECLAIMABLE block goes out in the leftover flush.
    const late = budgetRun(33, [32768], undefined, 2, 2);
    expect(late.r.g.freeList(0, 10, 2)).toEqual([]); // isolated and put back on MOVABLE (pageblocks retyped)
    expect(late.dev.batches.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    expect(late.dev.batches[3]).toEqual([[32768, 10]]);
    expect(late.r.rep.metrics.budgetExhaustions).toBe(1);
    // The same block on the UNMOVABLE list (walked first) is isolated before MOVABLE's cycle begins, which then
    // counts nr_free = 32: budget 1, 2 calls; the UNMOVABLE block rides in the first batch.
    const early = budgetRun(33, [32768], undefined, 2, 0);
    expect(early.dev.batches.length).toBe(2);
    expect(early.dev.batches[0]).toContainEqual([32768, 10]);
    expect(early.r.rep.metrics.blocksReported).toBe(4);
    expect(early.r.rep.metrics.budgetExhaustions).toBe(1);
  });

  it('the budget divisor knob: divisor 1 gives budget ceil(9 / 4) = 3, enough for the whole list in one pass', () => {
    const run = (divisor?: number) => {
      const r = rig(mixedGuest(), divisor === undefined ? {} : { budgetDivisor: divisor });
      r.rep.register(new RecordingDevice(r.clock, 0, undefined, 4));
      runUntil(r, 2000);
      return r.rep.metrics;
    };
    expect(run()).toMatchObject({ budgetExhaustions: 1, blocksReported: 8 });
    expect(run(16)).toMatchObject({ budgetExhaustions: 1, blocksReported: 8 });
    expect(run(1)).toMatchObject({ budgetExhaustions: 0, blocksReported: 13, reportCalls: 4 });
    // Bad knobs are refused when the worker is built, not from inside the first pass's timer event.
    const clock = rig(smallGuest()).clock;
    expect(() => new PageReporting(smallGuest(), clock, { budgetDivisor: 0 })).toThrow(SimError);
    expect(() => new PageReporting(smallGuest(), clock, { budgetDivisor: 1.5 })).toThrow(SimError);
    expect(() => new PageReporting(smallGuest(), clock, { capacity: 0 })).toThrow(SimError);
  });

  it('budget exhaustion: state REQUESTED, and the next pass starts one delay (here 700 ms) after the end', () => {
    const r = rig(mixedGuest(), { delayMs: 700 });
    r.rep.register(new SlowDevice(30, new RecordingDevice(null, 0, undefined, 4)));
    expect(r.rep.capacity).toBe(4);
    runUntil(r, 700 + 60);
    expect(r.rep.passLog[0]).toMatchObject({ start: 700, end: 760, batches: 2 });
    expect(r.rep.state).toBe('REQUESTED');
    expect(r.rep.busy()).toBe(true);
    runUntil(r, 700 + 60 + 699);
    expect(r.rep.passLog.length).toBe(1);
    runUntil(r, 700 + 60 + 700);
    expect(r.rep.metrics.passes).toBe(2);
    runUntil(r, 2000);
    expect(r.rep.passLog[1]!.start).toBe(1460);
  });
});

describe('the state machine', () => {
  const S: ReportingState[] = ['IDLE', 'REQUESTED', 'ACTIVE'];
  const want: Record<ReportingEvent, Record<ReportingState, [ReportingState, boolean]>> = {
    // __page_reporting_request: return if REQUESTED; xchg to REQUESTED; schedule only if it was IDLE.
    request: { IDLE: ['REQUESTED', true], REQUESTED: ['REQUESTED', false], ACTIVE: ['REQUESTED', false] },
    // page_reporting_process: atomic_set(ACTIVE).
    passStart: { IDLE: ['ACTIVE', false], REQUESTED: ['ACTIVE', false], ACTIVE: ['ACTIVE', false] },
    // cmpxchg(ACTIVE -> IDLE); REQUESTED schedules another pass.
    passEnd: { IDLE: ['IDLE', false], REQUESTED: ['REQUESTED', true], ACTIVE: ['IDLE', false] },
    // page_reporting_cycle: atomic_set(REQUESTED), nothing scheduled there.
    budgetExhausted: { IDLE: ['REQUESTED', false], REQUESTED: ['REQUESTED', false], ACTIVE: ['REQUESTED', false] },
  };
  for (const ev of Object.keys(want) as ReportingEvent[]) {
    for (const s of S) {
      it(`${ev} in ${s} -> ${want[ev][s][0]}${want[ev][s][1] ? ', schedule' : ''}`, () => {
        expect(transition(s, ev)).toEqual({ next: want[ev][s][0], schedule: want[ev][s][1] });
        expect(TRANSITIONS[ev][s]).toEqual({ next: want[ev][s][0], schedule: want[ev][s][1] });
      });
    }
  }

  it('requests while REQUESTED schedule one pass; a request during a pass schedules exactly one more after it', () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock, 0, undefined, undefined, 100);
    expect(r.rep.state).toBe('IDLE');
    r.rep.register(dev);
    expect(r.rep.state).toBe('REQUESTED');
    expect(r.clock.pending()).toBe(1);
    // Frees while REQUESTED: no second timer.
    at(r, 500, () => {
      for (let i = 0; i < 3; i++) r.g.free(r.g.alloc(10, MOVABLE), 10);
    });
    runUntil(r, 600);
    expect(r.clock.pending()).toBe(1);
    expect(r.rep.state).toBe('REQUESTED');
    const states: string[] = [];
    at(r, 2050, () => states.push(r.rep.state));
    // A qualifying free during the pass (lock dropped): ACTIVE -> REQUESTED, nothing scheduled yet.
    at(r, 2060, () => {
      r.g.free(r.g.alloc(10, MOVABLE), 10);
    });
    at(r, 2070, () => states.push(`${r.rep.state}:${r.clock.pending()}`));
    runUntil(r, 2300);
    expect(states[0]).toBe('ACTIVE');
    // Pending events at 2070: the report completion only.
    expect(states[1]).toBe('REQUESTED:1');
    expect(r.rep.passLog[0]!.end).toBe(2200);
    expect(r.rep.state).toBe('REQUESTED');
    runUntil(r, 10000);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000, 4200]);
    expect(r.rep.state).toBe('IDLE');
  });
});

describe('register and unregister', () => {
  it('register returns -EBUSY while a device is registered and keeps the first one', () => {
    const r = rig(smallGuest());
    const a = new RecordingDevice(r.clock), b = new RecordingDevice(r.clock);
    expect(r.rep.register(a)).toBe(0);
    expect(r.rep.register(b)).toBe(EBUSY);
    expect(EBUSY).toBe(-16);
    expect(r.rep.device).toBe(a);
    expect(r.clock.pending()).toBe(1);
    runUntil(r, 3000);
    expect(a.batches.length).toBeGreaterThan(0);
    expect(b.batches.length).toBe(0);
  });

  it('register schedules the first pass one delay later (no free needed)', () => {
    const r = rig(smallGuest());
    const dev = new RecordingDevice(r.clock);
    at(r, 1234, () => r.rep.register(dev));
    runUntil(r, 3233);
    expect(r.rep.metrics.passes).toBe(0);
    runUntil(r, 3234);
    expect(r.rep.passLog[0]!.start).toBe(3234);
    expect(dev.times[0]).toBe(3234);
  });

  it('unregister cancels a scheduled pass; nothing is reported afterwards, frees do not notify', async () => {
    const r = rig(smallGuest());
    const dev = new RecordingDevice(r.clock);
    r.rep.register(dev);
    let done = false;
    r.rep.unregister().then(() => (done = true));
    await flush();
    expect(done).toBe(true);
    expect(r.rep.device).toBe(null);
    expect(r.rep.state).toBe('IDLE');
    expect(r.rep.busy()).toBe(false);
    let notes = -1;
    at(r, 5000, () => {
      r.g.free(r.g.alloc(10, MOVABLE), 10);
      notes = r.g.takeNotifications();
    });
    runUntil(r, 20000);
    expect(notes).toBe(0);
    expect(r.rep.metrics.passes).toBe(0);
    expect(dev.batches).toEqual([]);
    // A new device may register afterwards.
    expect(r.rep.register(new NullDevice())).toBe(0);
  });

  it('unregister waits for a running pass (slow device), which ends normally; no report() happens after it', async () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    const calls: number[] = [];
    const inner = new NullDevice();
    const dev: ReportingDevice = {
      report: (b) => {
        calls.push(r.clock.now());
        return inner.report();
      },
      latencyMs: () => 100,
    };
    r.rep.register(dev);
    runUntil(r, 2050);
    expect(r.g.counters().inflightPages).toBe(32 * 1024);
    let doneAt = -1;
    const p = r.rep.unregister().then(() => (doneAt = r.clock.now()));
    await flush();
    expect(doneAt).toBe(-1);
    expect(r.rep.device).toBe(dev);
    // A qualifying free during the wait is ignored (notifications are off): no pass follows.
    at(r, 2060, () => r.g.free(r.g.alloc(10, MOVABLE), 10));
    runUntil(r, 2150);
    await flush();
    expect(doneAt).toBe(-1); // the second call (the rest of the list) is still running
    runUntil(r, 2200);
    await p;
    expect(doneAt).toBe(2200);
    expect(calls).toEqual([2000, 2100]);
    expect(r.rep.passLog[0]).toMatchObject({ start: 2000, end: 2200, blocks: 64 });
    expect(r.g.counters().inflightPages).toBe(0);
    expect(r.rep.device).toBe(null);
    at(r, 3000, () => r.g.free(r.g.alloc(10, MOVABLE), 10));
    runUntil(r, 30000);
    expect(calls.length).toBe(2);
    expect(r.rep.metrics.passes).toBe(1);
    expect(r.clock.pending()).toBe(0);
    expectConserved(r.g);
  });

  it('register while an unregister waits for the running pass: blocks on the mutex, then succeeds when the pass ends', async () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    const slow: ReportingDevice = { report: () => 0, latencyMs: () => 100 };
    r.rep.register(slow);
    runUntil(r, 2050); // the first call of the pass runs from 2000 to 2100, the second to 2200
    let unregisteredAt = -1, registeredAt = -1, status: number | undefined;
    void r.rep.unregister().then(() => (unregisteredAt = r.clock.now()));
    const next = new RecordingDevice(r.clock);
    const answer = r.rep.register(next);
    expect(answer).toBeInstanceOf(Promise);
    void (answer as Promise<number>).then((s) => { status = s; registeredAt = r.clock.now(); });
    await flush();
    expect(status).toBeUndefined();
    expect(r.rep.device).toBe(slow);
    runUntil(r, 2199);
    await flush();
    expect(status).toBeUndefined();
    runUntil(r, 2200);
    await flush();
    // At 2200 the pass ends, the unregister completes, and the blocked register takes the mutex and succeeds.
    expect([unregisteredAt, registeredAt, status]).toEqual([2200, 2200, 0]);
    expect(r.rep.device).toBe(next);
    expect(r.rep.order).toBe(9);
    // The new device's first pass comes one delay after its register, not after the unregister was asked for.
    runUntil(r, 4199);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000]);
    runUntil(r, 4200);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([2000, 4200]);
    // Pages the old device reported keep their mark: the new device is not sent them again.
    expect(next.batches).toEqual([]);
    expectConserved(r.g);
  });

  it('register blocked behind an unregister gets -EBUSY if another register got the mutex first', async () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    r.rep.register({ report: () => 0, latencyMs: () => 100 });
    runUntil(r, 2050);
    void r.rep.unregister();
    const a = new NullDevice(), b = new NullDevice();
    const first = r.rep.register(a) as Promise<number>;
    const second = r.rep.register(b) as Promise<number>;
    runUntil(r, 2200);
    expect([await first, await second]).toEqual([0, EBUSY]);
    expect(r.rep.device).toBe(a);
  });

  it('unregister with nothing registered resolves at once', async () => {
    const r = rig(smallGuest());
    await expect(r.rep.unregister()).resolves.toBeUndefined();
  });
});

describe('device errors', () => {
  it('a device that throws counts as an exception and an error; the batch goes back unreported; the pass ends', () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    let calls = 0;
    r.rep.register({ report: () => { calls++; throw new Error('boom'); } });
    runUntil(r, 30000);
    expect(calls).toBe(1);
    expect(r.rep.metrics).toMatchObject({ reportCalls: 1, reportErrors: 1, deviceExceptions: 1, pagesReported: 0, passes: 1 });
    expect(r.rep.reports[0]!.status).toBe(EIO);
    expect(r.g.counters().inflightPages).toBe(0);
    expect(listWithFlags(r.g, 10).some(([, rep]) => rep)).toBe(false);
    expect(r.rep.state).toBe('IDLE');
    r.g.check();
    expectConserved(r.g);
  });

  it('an error status (EIO) ends the pass the same way but is not an exception', () => {
    const r = rig(smallGuest({ pages: 64 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock, EIO);
    r.rep.register(dev);
    runUntil(r, 30000);
    expect(dev.batches.length).toBe(1);
    expect(r.rep.metrics).toMatchObject({ reportCalls: 1, reportErrors: 1, deviceExceptions: 0, pagesReported: 0 });
  });

  it('FailingDevice(k) fails calls k, 2k, ... only; the failed batch ends that pass', () => {
    const r = rig(smallGuest({ pages: 128 * 1024 + 256 }));
    const dev = new FailingDevice(3);
    r.rep.register(dev);
    runUntil(r, 2000);
    // 128 blocks: budget 1 -> up to 2 calls a pass. Call 1 ok, call 2 ok (budget exhausted: REQUESTED).
    expect(r.rep.reports.map((x) => x.status)).toEqual([0, 0]);
    runUntil(r, 4000);
    // Pass 2: call 3 fails, the pass ends; no pass follows (the error requests nothing).
    expect(r.rep.reports.map((x) => x.status)).toEqual([0, 0, EIO]);
    runUntil(r, 30000);
    expect(r.rep.metrics.passes).toBe(2);
    expect(dev.calls).toBe(3);
    expect(() => new FailingDevice(0)).toThrow();
  });
});

describe('promise-returning devices', () => {
  function simWithDevice(dev: ReportingDevice, pages: number, opts: { delayMs?: number; durationS?: number; sampleMs?: number } = {}) {
    const sim = new Simulation({
      durationS: opts.durationS ?? 3, sampleMs: opts.sampleMs ?? 50,
      guests: [{
        guest: { profile: 'linux-6.1', pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: pages, managed: pages, watermarks: { min: 16, low: 32, high: 48 } }] },
        policy: { kind: 'reporting', record: true, timerDelayMs: opts.delayMs }, device: { kind: 'null' },
      }],
    });
    (sim.guests[0] as unknown as { device: ReportingDevice }).device = dev;
    return sim;
  }
  const later = (s: number, ms = 2): Promise<number> => new Promise((res) => setTimeout(() => res(s), ms));

  it('a promise that resolves to 0 is a success; the engine run() waits for it', async () => {
    let calls = 0;
    const sim = simWithDevice({ report: () => { calls++; return later(0); } }, 32 * 1024 + 256);
    await sim.run();
    const rep = sim.guests[0]!.reporting!;
    expect(calls).toBe(1);
    expect(rep.metrics.pagesReported).toBe(32 * 1024);
    expect(rep.pending).toBe(null);
    expect(sim.guests[0]!.guest.counters().inflightPages).toBe(0);
  });

  it('a rejected promise is an exception and an error', async () => {
    const sim = simWithDevice({ report: () => Promise.reject(new Error('gone')) }, 32 * 1024 + 256);
    await sim.run();
    const m = sim.guests[0]!.reporting!.metrics;
    expect(m).toMatchObject({ reportCalls: 1, reportErrors: 1, deviceExceptions: 1, pagesReported: 0 });
    expect(sim.guests[0]!.guest.counters().inflightPages).toBe(0);
  });

  it('runSync refuses a promise device', () => {
    const sim = simWithDevice({ report: () => later(0) }, 32 * 1024 + 256);
    expect(() => sim.runSync()).toThrow(/promise/);
  });

  it('simulated time does not move while a promise report is outstanding, also for the second call of a pass', async () => {
    // 128 blocks: two calls in the first pass (budget 1). The pass starts at 2010, between two samples.
    const sim = simWithDevice({ report: () => later(0, 5) }, 128 * 1024, { delayMs: 2010, durationS: 2.2 });
    await sim.run();
    const rep = sim.guests[0]!.reporting!;
    expect(rep.reports.map((x) => x.t)).toEqual([2010, 2010]);
    expect(rep.passLog[0]).toMatchObject({ start: 2010, end: 2010, blocks: 64 });
    expect(sim.samples[0]!.every((s) => s.inflightPages === 0)).toBe(true);
  });

  it('run() does not return while a report is outstanding', async () => {
    const sim = simWithDevice({ report: () => later(0, 5) }, 128 * 1024, { delayMs: 2010, durationS: 2.02, sampleMs: 1000 });
    await sim.run();
    const g = sim.guests[0]!.guest;
    expect(sim.guests[0]!.reporting!.pending).toBe(null);
    expect(g.counters().inflightPages).toBe(0);
    expect(sim.guests[0]!.reporting!.metrics.reportCalls).toBe(2);
  });
});

describe('profile knobs', () => {
  it.each([
    ['linux-next', 4, 4], ['linux-next', 0, 32], ['linux-next', 40, 32], ['linux-next', undefined, 32],
    ['linux-6.1', 4, 32], ['linux-5.7', 4, 32],
  ] as Array<[ProfileName, number | undefined, number]>)('%s, device capacity %s -> batches of up to %i', (profile, cap, want) => {
    const r = rig(smallGuest({ profile, pages: 64 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock, 0, undefined, cap);
    r.rep.register(dev);
    expect(r.rep.capacity).toBe(want);
    runUntil(r, 2000);
    expect(Math.max(...dev.batches.map((b) => b.length))).toBe(want);
  });

  it('linux-next: the capacity belongs to the device; a later device without one gets 32 again', async () => {
    const r = rig(smallGuest({ profile: 'linux-next' }));
    r.rep.register(new RecordingDevice(null, 0, undefined, 4));
    expect(r.rep.capacity).toBe(4);
    await r.rep.unregister();
    r.rep.register(new RecordingDevice(null, 0, undefined, undefined));
    expect(r.rep.capacity).toBe(32);
  });

  it('linux-next: wrapping devices (slow, failing) keep the inner device\'s capacity and order', () => {
    const inner = new RecordingDevice(null, 0, 5, 4);
    const r = rig(smallGuest({ profile: 'linux-next' }));
    r.rep.register(new SlowDevice(10, inner));
    expect(r.rep.capacity).toBe(4);
    expect(r.rep.order).toBe(5);
    const r2 = rig(smallGuest({ profile: 'linux-next' }));
    r2.rep.register(new FailingDevice(2, inner));
    expect(r2.rep.capacity).toBe(4);
    expect(r2.rep.order).toBe(5);
  });

  it('the delay knob (page_reporting_delay_ms) moves the first and later passes', () => {
    const r = rig(smallGuest({ profile: 'linux-next', pages: 128 * 1024 }), { delayMs: 250 });
    r.rep.register(new NullDevice());
    runUntil(r, 249);
    expect(r.rep.metrics.passes).toBe(0);
    runUntil(r, 250);
    expect(r.rep.metrics.passes).toBe(1);
    runUntil(r, 500);
    expect(r.rep.passLog.map((p) => p.start)).toEqual([250, 500]); // budget exhaustion reschedules
    expect(() => rig(smallGuest(), { delayMs: -1 })).toThrow(SimError);
  });

  it.each([
    ['linux-next', 0, 0], ['linux-next', 4, 4], ['linux-next', undefined, 9],
    ['linux-6.1', 0, 9], ['linux-6.1', 4, 4], ['linux-6.1', undefined, 9],
    ['linux-5.7', 0, 9], ['linux-5.7', 4, 9],
  ] as Array<[ProfileName, number | undefined, number]>)('%s: device order %s -> reporting order %i', (profile, devOrder, want) => {
    const r = rig(smallGuest({ profile }));
    r.rep.register(new RecordingDevice(null, 0, devOrder));
    expect(r.rep.order).toBe(want);
  });

  it('linux-next with virtio-balloon (which asks for no order) reports at the pageblock order', () => {
    const g = smallGuest({ profile: 'linux-next' });
    const r = rig(g);
    r.rep.register(new VirtioBalloonDevice(new QemuHost(g)));
    expect(r.rep.order).toBe(9);
  });

  it('linux-next: page_reporting_order written before register is kept (parameter first)', () => {
    const r = rig(smallGuest({ profile: 'linux-next' }));
    r.rep.setOrder(3);
    r.rep.register(new RecordingDevice(null, 0, 5));
    expect(r.rep.order).toBe(3);
  });

  it('linux-next order 0: every free notifies and order-0 blocks are reported', () => {
    const r = rig(smallGuest({ profile: 'linux-next', pages: 32 * 1024 + 256 }));
    const dev = new RecordingDevice(r.clock, 0, 0);
    r.rep.register(dev);
    runUntil(r, 2000);
    at(r, 3000, () => {
      const a = r.g.alloc(0, MOVABLE);
      expect(r.g.alloc(0, MOVABLE)).toBe(a + 1);
      expect(r.g.free(a, 0).order).toBe(0);
    });
    runUntil(r, 6000);
    expect(r.rep.metrics.passes).toBe(2);
    expect(r.rep.metrics.reportedByOrder[0]).toBe(1);
  });

  it('setOrder validates its argument and 11 switches reporting off', () => {
    const r = rig(smallGuest({ pages: 32 * 1024 + 256 }));
    r.rep.register(new NullDevice());
    expect(() => r.rep.setOrder(12)).toThrow(SimError);
    expect(() => r.rep.setOrder(-1)).toThrow(SimError);
    expect(() => r.rep.setOrder(1.5)).toThrow(SimError);
    r.rep.setOrder(11);
    runUntil(r, 2000);
    expect(r.rep.metrics.passes).toBe(1);
    expect(r.rep.metrics.reportCalls).toBe(0);
    expect(() => rig(smallGuest(), { order: 12 })).toThrow(SimError);
  });
});

describe('each kernel\'s knobs: what it lacks is refused, naming the kernel that added it', () => {
  const NO_ORDER = 'linux-5.7 has no page_reporting_order (added in Linux 5.14): it always reports at pageblock order 9';

  it('linux-5.7: no order (option or write), capacity or delay; it reports at pageblock order 9', () => {
    const g = smallGuest({ profile: 'linux-5.7' });
    const clock = { now: () => 0 } as never;
    expect(() => new PageReporting(g, clock, { order: 0 })).toThrow(NO_ORDER);
    expect(() => new PageReporting(g, clock, { capacity: 16 })).toThrow('linux-5.7 has no per-device report capacity (added in linux-next)');
    expect(() => new PageReporting(g, clock, { delayMs: 500 })).toThrow('linux-5.7 has no page_reporting_delay_ms (added in linux-next)');
    const r = rig(g);
    r.rep.register(new NullDevice(4));
    expect(r.rep.order).toBe(9);
    expect(() => r.rep.setOrder(0)).toThrow(NO_ORDER);
    expect(r.rep.order).toBe(9);
    try {
      r.rep.setOrder(3);
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).details).toMatchObject({ field: 'order', value: 3, profile: 'linux-5.7' });
    }
  });

  it('linux-6.1: an order (0..11; 11 stands for any value >= MAX_ORDER), but no capacity or delay', () => {
    const g = smallGuest({ profile: 'linux-6.1' });
    expect(() => rig(g, { capacity: 32 })).toThrow('linux-6.1 has no per-device report capacity (added in linux-next)');
    expect(() => rig(g, { delayMs: 2000 })).toThrow('linux-6.1 has no page_reporting_delay_ms (added in linux-next)');
    const r = rig(g, { order: 11 });
    r.rep.register(new NullDevice());
    expect(r.rep.order).toBe(9); // register() overwrote the parameter
    r.rep.setOrder(11);
    expect(r.rep.order).toBe(11);
    expect(() => r.rep.setOrder(12)).toThrow("linux-6.1's page_reporting_order takes 0..11");
  });

  it('linux-next: a write takes only 0..MAX_PAGE_ORDER (10)', () => {
    const r = rig(smallGuest({ profile: 'linux-next' }), { capacity: 8, delayMs: 100 });
    r.rep.register(new NullDevice());
    r.rep.setOrder(10);
    expect(r.rep.order).toBe(10);
    expect(() => r.rep.setOrder(11)).toThrow("linux-next's page_reporting_order takes 0..10 (MAX_PAGE_ORDER");
    expect(r.rep.order).toBe(10);
    expect(() => rig(smallGuest({ profile: 'linux-next' }), { order: 11 })).toThrow(SimError);
  });

  it('linux-next: the parameter, once set by the first register, stays for the next device', async () => {
    const r = rig(smallGuest({ profile: 'linux-next' }));
    r.rep.register(new NullDevice(5));
    expect(r.rep.order).toBe(5);
    await r.rep.unregister();
    expect(r.rep.order).toBe(255);
    r.rep.register(new NullDevice(3));
    expect(r.rep.order).toBe(5);
    await r.rep.unregister();
    r.rep.register(new NullDevice());
    expect(r.rep.order).toBe(5);
  });

  it('linux-next: a write while no device is registered is the parameter the next register keeps', async () => {
    const r = rig(smallGuest({ profile: 'linux-next' }));
    r.rep.register(new NullDevice(5));
    await r.rep.unregister();
    r.rep.setOrder(2);
    expect(r.rep.order).toBe(255); // nothing registered: nothing reports
    r.rep.register(new NullDevice(7));
    expect(r.rep.order).toBe(2);
  });

  it('linux-6.1: every register overwrites the parameter with the device\'s order or 9', async () => {
    const r = rig(smallGuest({ profile: 'linux-6.1' }));
    r.rep.register(new NullDevice(5));
    expect(r.rep.order).toBe(5);
    await r.rep.unregister();
    r.rep.setOrder(2);
    r.rep.register(new NullDevice(3));
    expect(r.rep.order).toBe(3);
    await r.rep.unregister();
    r.rep.register(new NullDevice());
    expect(r.rep.order).toBe(9);
  });

  it('a scenario\'s sysfs write the kernel would refuse is refused when the guest is built, not during the run', () => {
    const guest = (profile: ProfileName) => ({ profile, pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal' as const, startPfn: 0, endPfn: 4096, managed: 4096 }] });
    const sim = (profile: ProfileName, order: number) => new Simulation({
      durationS: 1, guests: [{ guest: guest(profile), policy: { kind: 'reporting', sysfsOrder: { atS: 0.5, order } } }],
    });
    expect(() => sim('linux-5.7', 0)).toThrow(NO_ORDER);
    expect(() => sim('linux-next', 11)).toThrow(SimError);
    expect(() => sim('linux-6.1', 11)).not.toThrow();
  });
});

describe('the batch handed to the device', () => {
  it('carries guest id, zone, length, pages and (pfn, order) pairs in scatterlist order', () => {
    const r = rig(mixedGuest());
    r.rep.guestId = 7;
    const seen: Array<Omit<ReportBatch, 'entries'> & { entries: number[] }> = [];
    r.rep.register({ capacity: 4, report: (b) => { seen.push({ ...b, entries: Array.from(b.entries) }); return 0; } });
    runUntil(r, 2000);
    expect(seen[0]).toEqual({ guest: 7, zone: 0, length: 4, pages: 2048, entries: [12288, 9, 11264, 9, 10240, 9, 9216, 9] });
    expect(seen[1]!.pages).toBe(4096);
    expect(pageAccount(r.g).inflight).toBe(0);
  });
});

describe('regressions outside the worker', () => {
  // A 'null' device spec without an order must leave the order unspecified: under linux-next an explicit 0 is a
  // real order (the engine once passed 0 by default).
  it('engine: a linux-next guest with a null device spec and no order reports at the pageblock order', () => {
    const sim = new Simulation({
      durationS: 1,
      guests: [{ guest: { profile: 'linux-next', pcp: false, cpus: 1, thp: false, zones: [{ name: 'Normal', startPfn: 0, endPfn: 32768, managed: 32768, watermarks: { min: 16, low: 32, high: 48 } }] }, policy: { kind: 'reporting' }, device: { kind: 'null' } }],
    });
    sim.runSync();
    expect(sim.guests[0]!.reporting!.order).toBe(9);
  });

  // The budget divisor knob must reach the reference model too (it once divided by capacity * 16 always).
  it('reference model: the budget divisor knob gives the same pass as on the wasm core', async () => {
    const { ReferenceAllocator } = await import('../src/model/reference.js');
    const wasm = mixedGuest();
    const ref = new ReferenceAllocator(wasm.config);
    ref.boot();
    ref.takeNotifications();
    const runOn = (g: ConstructorParameters<typeof PageReporting>[0]) => {
      const clock = rig(smallGuest()).clock;
      const rep = new PageReporting(g, clock, { budgetDivisor: 1, record: true });
      rep.register(new RecordingDevice(null, 0, undefined, 4));
      clock.runUntil(2000);
      return rep.metrics;
    };
    const w = runOn(wasm);
    expect(w).toMatchObject({ budgetExhaustions: 0, blocksReported: 13 });
    expect(runOn(ref)).toEqual(w);
  });
});
