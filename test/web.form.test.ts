// The page's experiment form: an input for every URL setting that applies, named by its URL key; workload
// fields come from the scenario schema itself, enum fields as lists.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { choicesOf, formHtml } from '../src/web/form.js';
import { buildExperiment } from '../src/web/experiment.js';

const keys = (html: string) => [...html.matchAll(/data-key="([^"]+)"/g)].map((m) => m[1]);

describe('the experiment form', () => {
  it('has an input per setting: guest, both policies\' knobs, device, every workload field', () => {
    const raw = JSON.parse(readFileSync('scenarios/memhog.json', 'utf8'));
    const b = buildExperiment({ id: 'memhog', file: 'scenarios/memhog.json', raw }, new URLSearchParams('a=linux-6.1&b=hinting&device=slow&w0.mib=300'));
    const html = formHtml(b.doc, b.params, ['linux-6.1', 'hinting'], false);
    expect(keys(html)).toEqual([
      'duration', 'seed', 'mem', 'cpus', 'thp', 'backing',
      // linux-6.1 has the order knob, not capacity or delay (linux-next's): the form offers only what it has.
      'a.order', 'a.budgetDivisor', 'a.registerAtS',
      'b.use', 'b.minOrder', 'b.intervalMs', 'b.hostDelayMs',
      'device', 'device.latencyMs',
      'w0.startS', 'w0.mib', 'w0.rateMiBps', 'w0.holdS', 'w0.freeRateMiBps', 'w0.cpu', 'w0.tickMs', 'w0.thp', 'w0.exitAfterFree',
    ]);
    // THP is a list of the schema's values.
    expect(html).toMatch(/data-key="w0\.thp"[^>]*>[\s\S]*?never[\s\S]*?always[\s\S]*?madvise/);
    expect(html).toMatch(/data-key="w0\.mib" value="300"/);
    // The guest's own THP (watermarks; a workload's thp needs it): true or false, the scenario's value by default.
    expect(html).toMatch(/data-key="thp"><option value="">true<\/option><option>true<\/option><option>false<\/option>/);
    expect(html).toMatch(/data-key="w0\.holdS" value="" placeholder="3"/);
  });

  it('offers an enum field of the schema as a list', () => {
    expect(choicesOf(z.enum(['never', 'always', 'madvise']).optional())).toEqual(['never', 'always', 'madvise']);
    expect(choicesOf(z.number().optional())).toBeUndefined();
  });
});
