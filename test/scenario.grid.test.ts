// Sweep grids: expansion order and how each parameter path lands in the scenario.
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/schema/errors.js';
import { applyParams, describePoint, expandGrid, splitPath } from '../src/scenario/grid.js';
import { parseScenario } from '../src/scenario/load.js';

const raw = () => ({
  durationS: 5,
  guests: [
    { memMiB: 128, policies: ['none', 'linux-5.7', { kind: 'reporting', profile: 'linux-next' }], workloads: [{ kind: 'memhog', startS: 1, mib: 16, holdS: 1 }] },
    { memMiB: 64, policy: 'linux-6.1' },
  ],
  sweep: { 'policy.order': [0, 9] },
});

describe('expandGrid', () => {
  it('is the cartesian product, last parameter fastest', () => {
    const points = expandGrid({ a: [1, 2], b: ['x', 'y', 'z'] });
    expect(points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(points.map((p) => describePoint(p.params))).toEqual(['a=1 b=x', 'a=1 b=y', 'a=1 b=z', 'a=2 b=x', 'a=2 b=y', 'a=2 b=z']);
  });

  it('splits paths with indexes', () => {
    expect(splitPath('workloads[0].mib')).toEqual(['workloads', 0, 'mib']);
    expect(splitPath('guests[1].policy.order')).toEqual(['guests', 1, 'policy', 'order']);
  });
});

describe('applyParams', () => {
  it('policy.* goes to every policy except none, on every guest; the sweep section is dropped', () => {
    const input = raw();
    const doc = applyParams(input, { 'policy.order': 3 }) as any;
    expect(doc.sweep).toBeUndefined();
    expect(doc.guests[0].policies).toEqual(['none', { kind: 'reporting', profile: 'linux-5.7', order: 3 }, { kind: 'reporting', profile: 'linux-next', order: 3 }]);
    expect(doc.guests[1].policy).toEqual({ kind: 'reporting', profile: 'linux-6.1', order: 3 });
    expect(input).toEqual(raw()); // the input is not touched
  });

  it('guest fields, top-level fields, indexed paths and the policy itself', () => {
    const doc = applyParams(raw(), { 'guest.memMiB': 256, durationS: 9, 'guests[0].workloads[0].mib': 8, 'guests[1].cpus': 4, 'host.backing': '4k' }) as any;
    expect(doc.guests.map((g: any) => g.memMiB)).toEqual([256, 256]);
    expect(doc.durationS).toBe(9);
    expect(doc.guests[0].workloads[0].mib).toBe(8);
    expect(doc.guests[1].cpus).toBe(4);
    expect(doc.guests.map((g: any) => g.host)).toEqual([{ backing: '4k' }, { backing: '4k' }]);
    const one = applyParams(raw(), { policy: 'hinting' }) as any;
    expect(one.guests.map((g: any) => [g.policy, g.policies])).toEqual([['hinting', undefined], ['hinting', undefined]]);
  });

  it('a path into nothing is an error naming the sweep key', () => {
    // workloads[0] applies to every guest, and the second guest has none.
    expect(() => applyParams(raw(), { 'workloads[0].mib': 8 }, 's.json')).toThrow('s.json: sweep["workloads[0].mib"]: guests[1].workloads does not exist');
    expect(() => applyParams(raw(), { 'guests[5].cpus': 2 }, 's.json')).toThrow(new ScenarioError('s.json', [{ path: 'sweep["guests[5].cpus"]', message: 'guests[5] does not exist', showValue: false }]).message);
  });

  it('a bad value is reported by the schema with the point it came from', () => {
    const doc = applyParams(raw(), { 'policy.order': 'x' });
    expect(() => parseScenario(doc, 's.json (sweep point 1: policy.order=x)')).toThrow(
      's.json (sweep point 1: policy.order=x): guests[0].policies[1].order: expected integer 0..11, got "x"',
    );
  });
});
