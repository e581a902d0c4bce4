// The scenarios and policies the web page offers, as plain SimulationSpec objects: the page, its worker and the
// browser test all build their runs from here, so a run in the page and a run in Node are the same Simulation.
import type { SimulationSpec } from '../sim/engine.js';
import type { GuestRunSpec, PolicySpec } from '../sim/guest-run.js';
import type { WorkloadSpec } from '../workloads/index.js';

export const POLICY_IDS = ['none', 'linux-5.7', 'linux-6.1', 'linux-next', 'hinting'] as const;
export type PolicyId = (typeof POLICY_IDS)[number];

export const POLICY_LABELS: Record<PolicyId, string> = {
  none: 'none (no reporting)',
  'linux-5.7': 'reporting · linux-5.7',
  'linux-6.1': 'reporting · linux-6.1',
  'linux-next': 'reporting · linux-next',
  hinting: 'hinting (v13, discard)',
};

export function policySpec(id: PolicyId): PolicySpec {
  switch (id) {
    case 'none': return { kind: 'none' };
    case 'hinting': return { kind: 'hinting', use: 'discard' };
    default: return { kind: 'reporting', profile: id };
  }
}

export interface Scenario {
  id: string;
  label: string;
  description: string;
  durationS: number;
  /** Guest RAM, bytes. */
  memBytes: number;
  cpus: number;
  workloads: WorkloadSpec[];
  /** Marks drawn on the time axis of the charts: [seconds, text]. */
  marks: Array<[number, string]>;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export const SCENARIOS: Scenario[] = [
  {
    id: 'memhog',
    label: 'memhog 512 MiB (W3)',
    description: '1 GiB guest, 2 CPUs. At 10 s a process touches 512 MiB of order-0 pages, holds them 3 s, then frees them all.',
    durationS: 40,
    memBytes: GiB,
    cpus: 2,
    workloads: [{ kind: 'memhog', startS: 10, mib: 512, holdS: 3 }],
    marks: [[10, 'alloc'], [14.3, 'free']],
  },
  {
    id: 'churn',
    label: 'churn (W1 stream)',
    description: '1 GiB guest, 2 CPUs. From 2 s to 22 s the W1 mix (orders 0-4 and 9) churns about half the guest at 20k ops/s.',
    durationS: 40,
    memBytes: GiB,
    cpus: 2,
    workloads: [{ kind: 'churn', startS: 2, durationS: 20, opsPerS: 20_000, targetFraction: 0.5 }],
    marks: [[2, 'churn'], [22, 'stop']],
  },
  {
    id: 'fragment',
    label: 'fragment 512 MiB (E4)',
    description: '1 GiB guest, 2 CPUs. At 5 s a process touches 512 MiB, gives back every 2nd page, holds the rest 15 s, then frees it.',
    durationS: 40,
    memBytes: GiB,
    cpus: 2,
    workloads: [{ kind: 'fragment', startS: 5, mib: 512, every: 2, holdS: 15 }],
    marks: [[5, 'touch'], [6.3, 'holes'], [21.3, 'free']],
  },
  {
    id: 'bursts',
    label: 'bursts 3 × 256 MiB',
    description: '1 GiB guest, 2 CPUs. Every 10 s from 5 s a process touches 256 MiB, holds it 4 s and frees it.',
    durationS: 40,
    memBytes: GiB,
    cpus: 2,
    workloads: [{ kind: 'burst', startS: 5, mib: 256, periodS: 10, holdS: 4, count: 3 }],
    marks: [[5, 'burst'], [15, 'burst'], [25, 'burst']],
  },
];

export const DEFAULT_SCENARIO = 'memhog';
export const DEFAULT_POLICIES: [PolicyId, PolicyId] = ['none', 'linux-6.1'];
export const DEFAULT_SEED = 1;

export function getScenario(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown scenario '${id}' (expected one of ${SCENARIOS.map((x) => x.id).join(', ')})`);
  return s;
}

export function isPolicyId(id: string): id is PolicyId {
  return (POLICY_IDS as readonly string[]).includes(id);
}

/** One guest running `scenario` under `policy`: the spec of one Simulation. */
export function scenarioSpec(scenarioId: string, policy: PolicyId, seed = DEFAULT_SEED): SimulationSpec {
  const s = getScenario(scenarioId);
  if (!isPolicyId(policy)) throw new Error(`unknown policy '${policy}' (expected one of ${POLICY_IDS.join(', ')})`);
  const guest: GuestRunSpec = {
    name: policy,
    guest: { memBytes: s.memBytes, cpus: s.cpus },
    policy: policySpec(policy),
    device: { kind: 'virtio-balloon' },
    host: { backing: 'thp' },
    workloads: s.workloads.map((w) => ({ ...w })),
  };
  return { guests: [guest], durationS: s.durationS, seed, sampleMs: 50 };
}
