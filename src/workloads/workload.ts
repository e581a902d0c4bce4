// A workload is a process in the guest: it schedules its own events on the simulation clock.
import type { Clock } from '../sim/clock.js';
import type { WasmGuest } from '../core/guest.js';

export interface WorkloadContext {
  guest: WasmGuest;
  clock: Clock;
  /** Seed for this workload's random stream. */
  seed: number;
}

export interface Workload {
  readonly kind: string;
  start(ctx: WorkloadContext): void;
  /** Page operations applied so far (allocations + frees). */
  readonly pageOps: number;
  /** Times (ms) of the process's phases so far, -1 for phases not reached. */
  markers?(): Record<string, number>;
}

/** Run `fn(dtMs)` every tickMs from startMs until it returns false. */
export function every(clock: Clock, startMs: number, tickMs: number, fn: (nowMs: number) => boolean): void {
  const step = () => {
    if (fn(clock.now())) clock.schedule(clock.now() + tickMs, step);
  };
  clock.schedule(startMs, step);
}
