// page_reporting_notify_free: a free that ends (after merging) at the reporting order or above counts one
// notification; putback and FPI_SKIP_REPORT_NOTIFY frees never do; order 255 switches notification off.
import { describe, it, expect } from 'vitest';
import { MigrateType } from '../src/core/types.js';
import { allocatorFactories, booted, smallGuest } from './helpers/factories.js';

const { MOVABLE } = MigrateType;

describe.each(allocatorFactories)('reporting notification ($name)', (f) => {
  it('counts frees whose final (merged) order reaches the reporting order', () => {
    const a = booted(f, smallGuest({ pages: 1024 }), 9);
    a.takeNotifications();
    expect([a.alloc(0, MOVABLE), a.alloc(0, MOVABLE)]).toEqual([0, 1]);
    expect(a.free(1, 0)).toMatchObject({ order: 0 }); // 0 still allocated: no merge
    expect(a.takeNotifications()).toBe(0);
    expect(a.free(0, 0)).toMatchObject({ order: 10 }); // merges all the way up
    expect(a.takeNotifications()).toBe(1);
    expect(a.takeNotifications()).toBe(0);
  });

  it('reporting order 0 makes every free notify', () => {
    const a = booted(f, smallGuest({ pages: 1024 }), 0);
    a.takeNotifications();
    const pfns = [0, 1, 2, 3].map(() => a.alloc(0, MOVABLE));
    for (const p of pfns) a.free(p, 0);
    expect(a.takeNotifications()).toBe(4);
  });

  it('order 255 switches notification off', () => {
    const a = booted(f, smallGuest({ pages: 1024 }), 255);
    expect(a.takeNotifications()).toBe(0);
    a.free(a.alloc(0, MOVABLE), 0);
    expect(a.takeNotifications()).toBe(0);
  });

  it('putback and skipNotify frees do not notify', () => {
    const a = booted(f, smallGuest({ pages: 2048 }), 9);
    a.takeNotifications();
    expect(a.isolate(0, 10)).toBe(true);
    a.putback(0, 10);
    expect(a.takeNotifications()).toBe(0);
    const p = a.alloc(0, MOVABLE);
    a.free(p, 0, { skipNotify: true });
    expect(a.takeNotifications()).toBe(0);
    a.free(a.alloc(0, MOVABLE), 0);
    expect(a.takeNotifications()).toBe(1);
  });

  it('per-cpu frees notify only when the bulk free reaches the buddy', () => {
    const a = booted(f, smallGuest({ pages: 4096, pcp: true, pcpHigh: 8, pcpBatch: 2 }), 0);
    a.takeNotifications();
    const pfns = Array.from({ length: 8 }, () => a.alloc(0, MOVABLE));
    for (const p of pfns.slice(0, 7)) a.free(p, 0);
    expect(a.takeNotifications()).toBe(0);
    a.free(pfns[7]!, 0); // bulk free of two pages, each a buddy free
    expect(a.takeNotifications()).toBe(2);
  });
});
