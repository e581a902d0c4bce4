// The benchmark summary: each figure against its target and the previous build's figure; and --baseline
// refusing a file that is not a simulator's library bundle.
import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summaryTable, met, TARGETS } from '../src/bench/summary.js';
import { loadSubject, currentSubject, bytesPerPage } from '../src/bench/subject.js';
import { SimError } from '../src/core/errors.js';

describe('benchmark summary', () => {
  it('says whether a figure meets its target, in either direction, and nothing without one', () => {
    expect(met(TARGETS.w1OverNative, 1.3)).toBe(true);
    expect(met(TARGETS.w1OverNative, 1.31)).toBe(false);
    expect(met(TARGETS.w3ScaledMops, 49.9)).toBe(false);
    expect(met(TARGETS.w3ScaledMops, 50)).toBe(true);
    expect(met(null, 3)).toBeNull();
    expect(met(TARGETS.guestMinuteMs, null)).toBeNull();
  });

  it('prints figure, target, previous, now and the verdict in aligned columns', () => {
    const text = summaryTable([
      { name: 'guest-minute', unit: 'ms', target: TARGETS.guestMinuteMs, now: 4.64, previous: 17.28, digits: 2 },
      { name: 'W1 ns per step', unit: 'ns', target: null, now: 10.4, previous: null, digits: 1 },
      { name: 'W3 scaled', unit: 'M/s', target: TARGETS.w3ScaledMops, now: 40, previous: 25.4, digits: 1 },
    ]).split('\n');
    expect(text[0]).toMatch(/^figure\s+target\s+previous\s+now$/);
    expect(text[1]).toMatch(/^guest-minute\s+<= 10 ms\s+17\.28\s+4\.64\s+met$/);
    expect(text[2]).toMatch(/^W1 ns per step\s+ns\s+-\s+10\.4$/);
    expect(text[3]).toMatch(/NOT met$/);
    // numbers are right-aligned under their headings
    const prevEnd = text[0]!.indexOf('previous') + 'previous'.length;
    expect(text[1]!.indexOf('17.28') + 5).toBe(prevEnd);
    expect(text[3]!.indexOf('25.4') + 4).toBe(prevEnd);
  });

  it('--baseline refuses a module that is not a build\'s dist/index.js, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prsim-baseline-'));
    const file = join(dir, 'index.js');
    writeFileSync(file, 'export const simulate = () => 0;\n');
    await expect(loadSubject(file)).rejects.toThrow(SimError);
    await expect(loadSubject(file)).rejects.toThrow(/index\.js: the module exports no WasmGuest/);
    await expect(loadSubject(join(dir, 'missing.js'))).rejects.toThrow(/missing\.js: cannot load it/);
  });

  it('measures linear memory per page of a fresh guest', () => {
    const b = bytesPerPage(currentSubject(), 2 ** 16);
    expect(b).toBeGreaterThan(13);
    expect(b).toBeLessThan(40); // fixed regions dominate a small guest
  });
});
