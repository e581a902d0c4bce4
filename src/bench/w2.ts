// W2 `drain`: one reporting sweep over fragmented memory (W1 with N = 2^22, 2M steps, then free everything).
import { WasmGuest } from '../core/guest.js';
import { VirtualClock } from '../clock/clock.js';
import { PageReporting } from '../reporting/worker.js';
import { w1Config } from './w1.js';

export interface W2Result {
  reportCalls: number;
  pagesReported: number;
  passes: number;
  simSecondsUntilIdle: number;
  wallMs: number;
  wallUsPerCall: number;
}

export function w2(n = 2 ** 22, seed = 1, ops = 2_000_000): W2Result {
  const g = new WasmGuest(w1Config(n));
  g.boot();
  g.w1Run(seed, ops);
  g.w1FreeAll();
  const clock = new VirtualClock();
  // 6.1's batch capacity is its constant 32 (PAGE_REPORTING_CAPACITY): no option to pass.
  const pr = new PageReporting(g, clock);
  const t0 = performance.now();
  pr.register({ report: () => 0 });
  // Run until nothing is scheduled and the state machine rests in IDLE.
  while (clock.pending() > 0) {
    clock.step();
    pr.poll();
  }
  const wallMs = performance.now() - t0;
  if (pr.state !== 'IDLE') throw new Error(`W2: worker ended in ${pr.state}`);
  g.check();
  const m = pr.metrics;
  return {
    reportCalls: m.reportCalls, pagesReported: m.pagesReported, passes: m.passes,
    simSecondsUntilIdle: clock.now() / 1000, wallMs, wallUsPerCall: (wallMs * 1000) / Math.max(1, m.reportCalls),
  };
}
