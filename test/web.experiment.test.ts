// The page's experiment: URL settings written into a catalogue scenario and validated by the scenario schema; a
// refused value is named by its URL key and left out, the rest still applies.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildExperiment, DEVICE_KINDS, jsonValue, type CatalogueEntry } from '../src/web/experiment.js';
import { parseScenario } from '../src/scenario/parse.js';

const entry = (id: string): CatalogueEntry => ({ id, file: `scenarios/${id}.json`, raw: JSON.parse(readFileSync(`scenarios/${id}.json`, 'utf8')) });

describe('the experiment from URL settings', () => {
  it('is the catalogue file with policies A and B when nothing else is set', () => {
    const b = buildExperiment(entry('memhog'), new URLSearchParams('a=none&b=linux-6.1'));
    expect(b.problems).toEqual([]);
    const file = entry('memhog').raw;
    const g = (file['guests'] as Array<Record<string, unknown>>)[0]!;
    const { policies: _p, ...rest } = g;
    expect(b.doc['guests']).toEqual([{ ...rest, policies: ['none', 'linux-6.1'] }]);
    expect(b.spec.guests.map((x) => x.name)).toEqual(['none', 'linux-6.1']);
    // Without a and b, the scenario's own first two policies (order0's carry their knobs).
    const o = buildExperiment(entry('order0'), new URLSearchParams());
    expect(o.spec.guests.map((x) => x.name)).toEqual(['linux-6.1', 'linux-6.1 order=0']);
  });

  it('writes each setting where the schema has it', () => {
    const b = buildExperiment(entry('fragment'), new URLSearchParams('a=linux-next&a.order=3&a.budgetDivisor=4&b=hinting&b.minOrder=7&b.use=migration&mem=2048&cpus=3&backing=4k&device=failing&device.every=2&w0.every=4&seed=9&duration=20'));
    expect(b.problems).toEqual([]);
    const g = (b.doc['guests'] as Array<Record<string, unknown>>)[0]!;
    expect(g['zones']).toBeUndefined();
    expect(g).toMatchObject({ memMiB: 2048, cpus: 3, host: { backing: '4k' }, device: { kind: 'failing', every: 2 } });
    expect(g['policies']).toEqual([{ kind: 'reporting', profile: 'linux-next', order: 3, budgetDivisor: 4 }, { kind: 'hinting', minOrder: 7, use: 'migration' }]);
    expect((g['workloads'] as Array<Record<string, unknown>>)[0]!['every']).toBe(4);
    expect(b.doc).toMatchObject({ seed: 9, durationS: 20 });
    // The document is a scenario file prsim run accepts.
    expect(parseScenario(JSON.parse(JSON.stringify(b.doc))).spec).toEqual(b.spec);
  });

  it('names every refused value by its URL key and applies the rest', () => {
    const b = buildExperiment(entry('memhog'), new URLSearchParams('a=bogus&b=linux-6.1&b.order=12&b.capacity=0&seed=-3&w0.mib=abc&w0.holdS=1&cpus=0&zzz=1&device=slow&device.latencyMs=-1'));
    const byKey = Object.fromEntries(b.problems.map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(['a', 'b.capacity', 'b.order', 'cpus', 'device.latencyMs', 'seed', 'w0.mib', 'zzz'].sort());
    expect(byKey['b.order']!.message).toMatch(/^expected integer 0\.\.11 \(scenario field guests\[0\]\.policies\[1\]\.order\)$/);
    expect(byKey['seed']).toMatchObject({ value: '-3' });
    expect(byKey['zzz']!.message).toBe('unknown setting');
    expect(b.params.get('w0.holdS')).toBe('1');
    expect(b.params.has('seed')).toBe(false);
    const g = (b.doc['guests'] as Array<Record<string, unknown>>)[0]!;
    expect((g['workloads'] as Array<Record<string, unknown>>)[0]!['holdS']).toBe(1);
    expect(g['policies']).toEqual(['none', 'linux-6.1']);
  });

  it('refuses a workload kind or a workload the scenario does not have, visibly, and still runs (the page never stalls)', () => {
    const b = buildExperiment(entry('memhog'), new URLSearchParams('w0.kind=churn&w1.mib=3&w0.mib=300'));
    expect(b.problems).toEqual([
      { key: 'w0.kind', value: 'churn', message: 'the workload kind is the scenario\'s (memhog): choose a scenario with that workload' },
      { key: 'w1.mib', value: '3', message: 'memhog has one workload, w0' },
    ]);
    expect(b.params.toString()).toBe('w0.mib=300');
    expect(buildExperiment(entry('order0'), new URLSearchParams('w9.x=1')).problems[0]!.message).toMatch(/^order0 has (one workload, w0|\d+ workloads, w0\.\.w\d+)$/);
  });

  it('sets the guest\'s THP and each device kind the form offers, null included', () => {
    const g = (b: ReturnType<typeof buildExperiment>) => (b.doc['guests'] as Array<Record<string, unknown>>)[0]!;
    const off = buildExperiment(entry('memhog'), new URLSearchParams('thp=false'));
    expect(off.problems).toEqual([]);
    expect(g(off)['thp']).toBe(false);
    expect(off.spec.guests[0]!.guest.thp).toBe(false);
    expect(buildExperiment(entry('memhog'), new URLSearchParams('thp=maybe')).problems.map((p) => p.key)).toEqual(['thp']);
    for (const kind of DEVICE_KINDS) {
      const b = buildExperiment(entry('memhog'), new URLSearchParams(`device=${kind}`));
      expect(b.problems, kind).toEqual([]);
      expect(g(b)['device']).toMatchObject({ kind });
    }
  });

  it('refuses the key whose value breaks a rule across fields when no issue is at a field a key set', () => {
    // A scenario whose workload asks for THP: the guest's thp=false breaks the workload's field, which no key set.
    const raw = structuredClone(entry('memhog').raw) as { guests: Array<{ workloads: Array<Record<string, unknown>> }> };
    raw.guests[0]!.workloads[0]!['thp'] = 'always';
    const b = buildExperiment({ id: 'memhog', file: 'scenarios/memhog.json', raw }, new URLSearchParams('thp=false&cpus=3'));
    expect(b.problems).toEqual([{ key: 'thp', value: 'false', message: expect.stringMatching(/this guest has THP off .*scenario field guests\[0\]\.workloads\[0\]\.thp/) }]);
    expect(b.params.toString()).toBe('cpus=3');
  });

  it('names a policy knob no policy has and a device parameter of another kind, which would otherwise do nothing', () => {
    const b = buildExperiment(entry('memhog'), new URLSearchParams('a.zzz=1&device=slow&device.every=3&device.latencyMs=2'));
    expect(b.problems).toEqual([
      { key: 'a.zzz', value: '1', message: expect.stringMatching(/^unknown policy knob \(reporting: order, capacity, .*; hinting: use, /) },
      { key: 'device.every', value: '3', message: 'applies with device=failing only' },
    ]);
    expect(b.params.toString()).toBe('device=slow&device.latencyMs=2');
    expect(buildExperiment(entry('memhog'), new URLSearchParams('device.latencyMs=3')).problems.map((p) => p.message)).toEqual(['applies with device=slow only']);
  });

  it('names a key given twice and runs the first value', () => {
    const b = buildExperiment(entry('memhog'), new URLSearchParams('seed=4&cpus=3&seed=9'));
    expect(b.problems).toEqual([{ key: 'seed', value: '9', message: 'seed is given more than once; the first value (4) is used' }]);
    expect(b.params.toString()).toBe('seed=4&cpus=3');
    expect(b.doc['seed']).toBe(4);
    expect(buildExperiment(entry('memhog'), new URLSearchParams('scenario=memhog&scenario=churn')).problems).toEqual([
      { key: 'scenario', value: 'churn', message: 'scenario is given more than once; the first value (memhog) is used' },
    ]);
  });

  it('reads URL values as the JSON values they stand for', () => {
    expect(jsonValue('12')).toBe(12);
    expect(jsonValue('-0.5')).toBe(-0.5);
    expect(jsonValue('1e3')).toBe(1000);
    expect(jsonValue('true')).toBe(true);
    expect(jsonValue('4k')).toBe('4k');
    expect(jsonValue('12abc')).toBe('12abc');
  });
});
