// A workload is a process in the guest: it schedules its own events on the simulation clock.
import type { Clock } from '../clock/clock.js';
import type { WasmGuest } from '../core/guest.js';
import { MigrateType } from '../core/types.js';
import type { AnonMapping } from './mapping.js';

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
  /** Event counts of the process (THP faults and fallbacks, pages it could not get). */
  counts?(): Record<string, number>;
}

/** Run `fn(dtMs)` every tickMs from startMs until it returns false. */
export function every(clock: Clock, startMs: number, tickMs: number, fn: (nowMs: number) => boolean): void {
  const step = () => {
    if (fn(clock.now())) clock.schedule(clock.now() + tickMs, step);
  };
  clock.schedule(startMs, step);
}

/** Pages a rate (MiB/s) gives per tick (at least one). */
export function pagesPerTick(rateMiBps: number, tickMs: number): number {
  return Math.max(1, Math.round(((rateMiBps * 2 ** 20) / 4096) * (tickMs / 1000)));
}

/**
 * A process touching `total` pages of an anonymous mapping at `perTick` pages a tick from `startMs` (mmap + first
 * touch, 4 KiB pages or THP folios as the mapping says); `count(asked)` after each tick, `done(now)` after the
 * last one.
 */
export function touchPages(
  ctx: WorkloadContext, startMs: number, tickMs: number, total: number, perTick: number, mapping: AnonMapping,
  count: (asked: number) => void, done: (nowMs: number) => void,
): void {
  let asked = 0;
  mapping.reserve(total);
  every(ctx.clock, startMs, tickMs, (now) => {
    const n = Math.min(perTick, total - asked);
    asked += n;
    mapping.touch(n, asked === total);
    count(n);
    if (asked < total) return true;
    done(now);
    return false;
  });
}

/**
 * A process's exit after its last free: its page-table root, an order-1 UNMOVABLE page (the x86 PTI pgd),
 * allocated when the process starts, is freed 4 ms after. On 6.1 after a run of bulk frees that order-1 free
 * flushes the cpu's whole per-cpu list (free_high), which lets the last freed pages merge: the real E5 trace
 * shows it 3.8 ms after the munmap ends. Returns the function to call at the last free.
 */
export function processExit(ctx: WorkloadContext, startMs: number, cpu: number, onExit: (nowMs: number) => void): (nowMs: number) => void {
  let pgd = -1;
  ctx.clock.schedule(startMs, () => {
    pgd = ctx.guest.alloc(1, MigrateType.UNMOVABLE, { cpu });
  });
  return (now) => {
    ctx.clock.schedule(now + 4, () => {
      if (pgd >= 0) ctx.guest.free(pgd, 1, { cpu });
      onExit(ctx.clock.now());
    });
  };
}
