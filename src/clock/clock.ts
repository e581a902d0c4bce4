// Time for the simulator. The virtual clock is a discrete-event queue (deterministic: events at the same time
// run in the order they were scheduled); the real clock uses timers, for live pages.

import { SimError } from '../core/errors.js';

export type TimerHandle = number;

/** A time argument must be a finite number: NaN would break the queue's order, Infinity never comes. */
function checkTime(op: string, atMs: number): void {
  if (typeof atMs !== 'number' || !Number.isFinite(atMs)) {
    throw new SimError('BAD_ARGUMENT', `${op}: time must be a finite number of ms, got ${String(atMs)}`, { field: 'atMs', value: atMs });
  }
}

function checkFn(op: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new SimError('BAD_ARGUMENT', `${op}: expected a function to run, got ${typeof fn}`, { field: 'fn' });
}

export interface Clock {
  /** Current time in milliseconds. */
  now(): number;
  /** Run fn at absolute time `atMs` (or now, if in the past). */
  schedule(atMs: number, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}

interface Event { at: number; seq: number; fn: () => void }

/** A binary heap of events ordered by (time, sequence). */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: Event[] = [];
  private cancelled = new Set<number>();

  now(): number {
    return this.t;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    checkTime('schedule', atMs);
    checkFn('schedule', fn);
    const ev = { at: Math.max(atMs, this.t), seq: ++this.seq, fn };
    this.push(ev);
    return ev.seq;
  }

  cancel(handle: TimerHandle): void {
    this.cancelled.add(handle);
  }

  /** Time of the next pending event, or Infinity. */
  peek(): number {
    this.dropCancelled();
    return this.heap.length ? this.heap[0]!.at : Infinity;
  }

  pending(): number {
    this.dropCancelled();
    return this.heap.length;
  }

  /** Run the next event (advancing time to it). Returns false when there is none. */
  step(): boolean {
    this.dropCancelled();
    const ev = this.pop();
    if (!ev) return false;
    this.t = ev.at;
    ev.fn();
    return true;
  }

  /** Run every event up to and including `untilMs`, then set the time to untilMs. */
  runUntil(untilMs: number): void {
    checkTime('runUntil', untilMs);
    if (untilMs < this.t) {
      throw new SimError('BAD_ARGUMENT', `runUntil(${untilMs}): the clock is already at ${this.t} ms and does not go back`, { field: 'untilMs', value: untilMs, now: this.t });
    }
    while (this.peek() <= untilMs) this.step();
    if (untilMs > this.t) this.t = untilMs;
  }

  private dropCancelled(): void {
    while (this.heap.length && this.cancelled.has(this.heap[0]!.seq)) {
      this.cancelled.delete(this.heap[0]!.seq);
      this.pop();
    }
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Event | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Wall-clock time with timers (browsers and live demos). */
export class RealClock implements Clock {
  private readonly t0 = Date.now();
  private timers = new Map<number, ReturnType<typeof setTimeout>>();
  private seq = 0;

  now(): number {
    return Date.now() - this.t0;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    checkTime('schedule', atMs);
    checkFn('schedule', fn);
    const id = ++this.seq;
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, atMs - this.now())));
    return id;
  }

  cancel(handle: TimerHandle): void {
    const t = this.timers.get(handle);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(handle);
  }
}
