// Scenario files: the shipped ones load, policies expand to one guest each, and every error names the file, the
// field path and the value found.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/core/errors.js';
import { memoryRangesFromDmesg, parseZoneinfo, zoneSpecsFromZoneinfo } from '../src/importers/zoneinfo.js';
import { ScenarioError } from '../src/schema/errors.js';
import { loadScenario, parseScenario, readScenario } from '../src/scenario/load.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));
const E2 = `${REAL}E2_memhog512_r1/guest/`;
const FILE = 'scenarios/x.json';

const base = () => ({
  durationS: 5,
  guests: [{ memMiB: 128, policy: { kind: 'reporting', profile: 'linux-6.1' }, workloads: [{ kind: 'memhog', startS: 1, mib: 16, holdS: 1 }] }],
});

function errorOf(raw: unknown): ScenarioError {
  try {
    parseScenario(raw, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('shipped scenarios', () => {
  it.each(readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')))('%s loads', (f) => {
    const spec = loadScenario(join(SCENARIOS, f));
    expect(spec.guests.length).toBeGreaterThan(0);
    expect(spec.durationS).toBeGreaterThan(0);
  });

  it('memhog.json is W3: four policies on the real 1 GiB guest, memhog 512 MiB at 10 s held 3 s, 40 s', () => {
    const spec = loadScenario(join(SCENARIOS, 'memhog.json'));
    expect(spec.guests.map((g) => g.name)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
    expect(spec.guests.map((g) => g.policy)).toEqual([
      { kind: 'none' }, { kind: 'reporting', profile: 'linux-5.7' }, { kind: 'reporting', profile: 'linux-6.1' }, { kind: 'hinting' },
    ]);
    expect(spec.durationS).toBe(40);
    for (const g of spec.guests) {
      expect(g.guest.cpus).toBe(2);
      expect(g.guest.zones!.map((z) => [z.name, z.startPfn, z.endPfn])).toEqual([['DMA', 1, 4096], ['DMA32', 4096, 262109]]);
      expect(g.workloads).toEqual([{ kind: 'memhog', startS: 10, mib: 512, rateMiBps: 400, holdS: 3, freeRateMiBps: 1000 }]);
    }
  });

  it.runIf(haveReal('E2_memhog512_r1'))(needsReal('memhog.json holds exactly the zones of E2 pre.zoneinfo (self-contained copy)', 'E2_memhog512_r1'), () => {
    const zones = zoneSpecsFromZoneinfo(parseZoneinfo(readFileSync(E2 + 'pre.zoneinfo', 'utf8')), {
      memoryRanges: memoryRangesFromDmesg(readFileSync(E2 + 'dmesg.txt', 'utf8')),
    });
    expect(loadScenario(join(SCENARIOS, 'memhog.json')).guests[0]!.guest.zones).toEqual(zones);
  });
});

describe('policies', () => {
  it('a guest with several policies becomes one guest per policy, same guest and workload', () => {
    const raw = base() as Record<string, any>;
    delete raw.guests[0].policy;
    raw.guests[0].policies = ['none', 'linux-5.7', { kind: 'reporting', profile: 'linux-next', order: 0, capacity: 16 }, { kind: 'hinting', use: 'migration', name: 'mig' }];
    const { spec } = parseScenario(raw, FILE);
    expect(spec.guests.map((g) => g.name)).toEqual(['none', 'linux-5.7', 'linux-next order=0 cap=16', 'mig']);
    expect(spec.guests[3]!.policy).toEqual({ kind: 'hinting', use: 'migration' });
    for (const g of spec.guests) {
      expect(g.guest).toEqual({ memBytes: 128 * 2 ** 20 });
      expect(g.workloads).toEqual(raw.guests[0].workloads);
    }
    expect(spec.guests[0]!.workloads).not.toBe(spec.guests[1]!.workloads);
  });

  it('names stay unique and several guest entries are told apart', () => {
    const raw = base() as Record<string, any>;
    raw.guests.push({ memMiB: 256, name: 'big', policies: ['none', 'none'] });
    raw.guests.push({ memMiB: 64 });
    const { spec } = parseScenario(raw, FILE);
    expect(spec.guests.map((g) => g.name)).toEqual(['guest0/linux-6.1', 'big/none', 'big/none #2', 'guest2/linux-6.1']);
    expect(spec.guests[3]!.policy).toEqual({ kind: 'reporting' });
  });

  it('seed defaults to 1; devices and hosts pass through', () => {
    const raw = base() as Record<string, any>;
    raw.guests[0].device = { kind: 'slow', latencyMs: 3 };
    raw.guests[0].host = { backing: '4k', inhibit: 'vfio' };
    const { spec } = parseScenario(raw, FILE);
    expect(spec.seed).toBe(1);
    expect(spec.guests[0]!.device).toEqual({ kind: 'slow', latencyMs: 3 });
    expect(spec.guests[0]!.host).toEqual({ backing: '4k', inhibit: 'vfio' });
    raw.guests[0].device = 'null';
    expect(parseScenario(raw, FILE).spec.guests[0]!.device).toEqual({ kind: 'null' });
  });
});

describe('a reporting knob the kernel lacks is refused, naming the kernel that added it', () => {
  const NO_ORDER = 'linux-5.7 has no page_reporting_order (added in Linux 5.14): it always reports at pageblock order 9';
  const NO_CAPACITY = 'has no per-device report capacity (added in linux-next): it always reports batches of up to 32 (PAGE_REPORTING_CAPACITY)';
  const NO_DELAY = 'has no page_reporting_delay_ms (added in linux-next): it always starts a pass 2 s (2*HZ) after a request';
  const cases: Array<[string, (r: Record<string, any>) => void, string]> = [
    ['an order on 5.7', (r) => (r.guests[0].policy = { kind: 'reporting', profile: 'linux-5.7', order: 0 }), `guests[0].policy.order: ${NO_ORDER}, got 0`],
    ['an order on a 5.7 guest whose policy names no profile', (r) => {
      r.guests[0].profile = 'linux-5.7';
      r.guests[0].policy = { kind: 'reporting', order: 9 };
    }, `guests[0].policy.order: ${NO_ORDER}, got 9`],
    ['a sysfs order write on 5.7', (r) => (r.guests[0].policy = { kind: 'reporting', profile: 'linux-5.7', sysfsOrder: { atS: 1, order: 0 } }), `guests[0].policy.sysfsOrder: ${NO_ORDER}`],
    ['a capacity on 6.1', (r) => (r.guests[0].policy.capacity = 16), `guests[0].policy.capacity: linux-6.1 ${NO_CAPACITY}, got 16`],
    ['a capacity on 5.7, in a list of policies', (r) => {
      delete r.guests[0].policy;
      r.guests[0].policies = ['none', { kind: 'reporting', profile: 'linux-5.7', capacity: 32 }];
    }, `guests[0].policies[1].capacity: linux-5.7 ${NO_CAPACITY}, got 32`],
    ['a delay on 6.1', (r) => (r.guests[0].policy.delayMs = 500), `guests[0].policy.delayMs: linux-6.1 ${NO_DELAY}, got 500`],
    ['order 11 on linux-next (its setter takes 0..MAX_PAGE_ORDER)', (r) => (r.guests[0].policy = { kind: 'reporting', profile: 'linux-next', order: 11 }),
      "guests[0].policy.order: linux-next's page_reporting_order takes 0..10 (MAX_PAGE_ORDER; a write of anything else is refused with -EINVAL), got 11"],
    ['a sysfs write of 11 on linux-next', (r) => (r.guests[0].policy = { kind: 'reporting', profile: 'linux-next', sysfsOrder: { atS: 1, order: 11 } }),
      "guests[0].policy.sysfsOrder.order: linux-next's page_reporting_order takes 0..10 (MAX_PAGE_ORDER; a write of anything else is refused with -EINVAL), got 11"],
  ];
  it.each(cases)('%s', (_name, edit, expected) => {
    const raw = base() as Record<string, any>;
    edit(raw);
    const e = errorOf(raw);
    expect(e.message).toBe(`${FILE}: ${expected}`);
  });

  it('each kernel keeps the knobs it has: 6.1 an order (and 11, any value >= MAX_ORDER), linux-next all three', () => {
    const raw = base() as Record<string, any>;
    delete raw.guests[0].policy;
    raw.guests[0].policies = [
      { kind: 'reporting', profile: 'linux-6.1', order: 11, sysfsOrder: { atS: 1, order: 0 } },
      { kind: 'reporting', profile: 'linux-next', order: 0, capacity: 8, delayMs: 100, sysfsOrder: { atS: 1, order: 10 } },
      'linux-5.7',
    ];
    const { spec } = parseScenario(raw, FILE);
    expect(spec.guests.map((g) => g.policy)).toEqual([
      { kind: 'reporting', profile: 'linux-6.1', order: 11, sysfsOrder: { atS: 1, order: 0 } },
      { kind: 'reporting', profile: 'linux-next', order: 0, capacity: 8, delayMs: 100, sysfsOrder: { atS: 1, order: 10 } },
      { kind: 'reporting', profile: 'linux-5.7' },
    ]);
  });

  it('a scenario file read from disk (what the CLI reads; a ScenarioError is its exit 2) names the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prsim-knob-'));
    const file = join(dir, 'k.json');
    const raw = base() as Record<string, any>;
    raw.guests[0].policy = { kind: 'reporting', profile: 'linux-5.7', order: 0 };
    writeFileSync(file, JSON.stringify(raw));
    expect(() => readScenario(file, 'k.json')).toThrow(`k.json: guests[0].policy.order: ${NO_ORDER}, got 0`);
  });
});

describe('errors name the file, the field and the value', () => {
  const cases: Array<[string, (r: Record<string, any>) => void, string]> = [
    ['a non-integer order', (r) => (r.guests[0].policy.order = 'a'), 'guests[0].policy.order: expected integer 0..11, got "a"'],
    ['an order out of range', (r) => (r.guests[0].policy.order = 12), 'guests[0].policy.order: expected integer 0..11, got 12'],
    ['a capacity of 0', (r) => (r.guests[0].policy.capacity = 0), 'guests[0].policy.capacity: expected integer 1..256, got 0'],
    ['an unknown policy name', (r) => (r.guests[0].policy = 'linux-9'), 'guests[0].policy: expected a policy: "none", "linux-5.7", "linux-6.1", "linux-next", "hinting" or an object with kind "none", "reporting" or "hinting", got "linux-9"'],
    ['an unknown policy kind', (r) => (r.guests[0].policy = { kind: 'balloon' }), 'guests[0].policy.kind: expected a policy: "none", "linux-5.7", "linux-6.1", "linux-next", "hinting" or an object with kind "none", "reporting" or "hinting", got "balloon"'],
    ['a misspelt field', (r) => (r.guests[0].polcy = 'none'), 'guests[0].polcy: unknown field'],
    ['a reporting knob on hinting', (r) => (r.guests[0].policy = { kind: 'hinting', order: 3 }), 'guests[0].policy.order: unknown field'],
    ['a missing duration', (r) => delete r.durationS, 'durationS: expected a number > 0, but it is missing'],
    ['a negative workload size', (r) => (r.guests[0].workloads[0].mib = -3), 'guests[0].workloads[0].mib: expected a number > 0, got -3'],
    ['an unknown workload', (r) => (r.guests[0].workloads[0] = { kind: 'stress' }), 'guests[0].workloads[0].kind: expected a workload with kind "memhog", "churn", "fragment", "pagecache", "burst" or "writes", got "stress"'],
    ['a cpu the guest lacks', (r) => ((r.guests[0].cpus = 1), (r.guests[0].workloads[0].cpu = 1)), 'guests[0].workloads[0].cpu: expected a cpu of this 1-cpu guest (0..0), got 1'],
    ['a failing device that never fails', (r) => (r.guests[0].device = { kind: 'failing', every: 0 }), 'guests[0].device.every: expected integer >= 1, got 0'],
    ['JSON null as a device', (r) => (r.guests[0].device = null), 'guests[0].device: expected a device: "virtio-balloon", "null", {"kind": "failing", "every": N} or {"kind": "slow", "latencyMs": T}, got null'],
    ['an unknown host backing', (r) => (r.guests[0].host = { backing: '2m' }), 'guests[0].host.backing: expected one of "4k", "thp", got "2m"'],
    ['a tiny guest', (r) => (r.guests[0].memMiB = 16), 'guests[0].memMiB: expected a number of MiB >= 32, got 16'],
    ['both memMiB and zones', (r) => (r.guests[0].zones = [{ name: 'Normal', startPfn: 0, endPfn: 4096 }]), 'guests[0].zones: expected exactly one of "memMiB" and "zones"'],
    ['a seed that is not an integer', (r) => (r.seed = 1.5), 'seed: expected integer 0..4294967295, got 1.5'],
    ['an empty sweep list', (r) => (r.sweep = { 'policy.order': [] }), 'sweep["policy.order"]: expected at least one value, got []'],
    ['a sweep key that is no path', (r) => (r.sweep = { 'policy..order': [1] }), 'sweep["policy..order"]: expected a parameter path such as "policy.order" or "workloads[0].mib"'],
  ];
  it.each(cases)('%s', (_, mutate, message) => {
    const raw = base() as Record<string, any>;
    mutate(raw);
    const e = errorOf(raw);
    expect(e.message).toBe(`${FILE}: ${message}`);
    expect(e).toBeInstanceOf(SimError);
    expect(e.code).toBe('BAD_CONFIG');
  });

  it('every problem is listed, one line each', () => {
    const raw = base() as Record<string, any>;
    raw.guests[0].policy.order = 'a';
    raw.guests[0].cpus = 0;
    delete raw.durationS;
    const e = errorOf(raw);
    expect(e.message.split('\n')).toEqual([
      `${FILE}: guests[0].cpus: expected integer 1..64, got 0`,
      `${FILE}: guests[0].policy.order: expected integer 0..11, got "a"`,
      `${FILE}: durationS: expected a number > 0, but it is missing`,
    ]);
    expect(e.issues.map((i) => i.path)).toEqual(['guests[0].cpus', 'guests[0].policy.order', 'durationS']);
  });

  it('a zone table the allocator rejects is reported at its place in the file', () => {
    const raw = base() as Record<string, any>;
    delete raw.guests[0].memMiB;
    raw.guests[0].zones = [{ name: 'DMA', startPfn: 1, endPfn: 4096 }, { name: 'DMA32', startPfn: 4000, endPfn: 65536 }];
    expect(errorOf(raw).message).toBe(`${FILE}: guests[0].zones: zones DMA [1, 4096) and DMA32 [4000, 65536) overlap`);
  });

  it('a document that is not a scenario', () => {
    expect(errorOf('hello').message).toBe(`${FILE}: expected a scenario: a JSON object with "guests" and "durationS", got "hello"`);
  });

  it('files: missing, or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prsim-scenario-'));
    expect(() => loadScenario(join(dir, 'nope.json'))).toThrow(`${join(dir, 'nope.json')}: no such file`);
    writeFileSync(join(dir, 'bad.json'), '{\n  "durationS": 5,\n  "guests": [,]\n}\n');
    // Node 22 gives the position (so the line); Node 20 only quotes the text around it.
    expect(() => readScenario(join(dir, 'bad.json'), 'bad.json')).toThrow(/^bad\.json: (line 3: )?invalid JSON \([^\n]*\)$/);
  });
});
