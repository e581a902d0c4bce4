// The pass timeline's hover: which pass the readout names for a mouse position.
import { describe, expect, it } from 'vitest';
import { passNear, type TimelinePass } from '../src/web/charts.js';

const pass = (n: number, startMs: number, endMs?: number): TimelinePass => ({ pass: n, start: startMs, ...(endMs !== undefined ? { end: endMs } : {}), calls: [], pages: 0, blocks: 0 });

describe('passNear', () => {
  const passes = [pass(1, 2000, 5000), pass(2, 5200, 5300), pass(3, 9000)];
  it('names the pass under the mouse, even with a neighbour whose start is nearer', () => {
    // 4.9 s is inside pass 1 (2..5 s) and 0.3 s from pass 2's start, 2.9 s from pass 1's.
    expect(passNear(passes, 4.9, 0.5)?.pass).toBe(1);
    expect(passNear(passes, 5.25, 0.5)?.pass).toBe(2);
  });
  it('else the nearest span within the tolerance, and none beyond it', () => {
    expect(passNear(passes, 5.12, 0.5)?.pass).toBe(2);
    expect(passNear(passes, 8.8, 0.5)?.pass).toBe(3);
    expect(passNear(passes, 7, 0.5)).toBeNull();
    expect(passNear([], 1, 1)).toBeNull();
  });
});
