// A validated scenario file → the engine's SimulationSpec: guests with several `policies` expand to one guest
// per policy (same memory, device, host and workload), names are made unique, MiB become bytes.
import { resolveGuest, type GuestSpec } from '../core/config.js';
import { SimError } from '../core/errors.js';
import type { ProfileName } from '../core/types.js';
import type { SimulationSpec } from '../sim/engine.js';
import { checkRunFits } from '../sim/estimate.js';
import type { GuestRunSpec, PolicySpec } from '../sim/guest-run.js';
import { ScenarioError, type ScenarioIssue } from '../schema/errors.js';
import { policyLabel } from '../schema/policies.js';
import type { GuestEntry, PolicyEntry, ScenarioFile } from '../schema/schema.js';

const DEFAULT_POLICY: PolicyEntry = { kind: 'reporting' };

function toPolicySpec(p: PolicyEntry): PolicySpec {
  // `name` is a label for reports, not an engine knob.
  const { name: _name, ...rest } = p;
  return structuredClone(rest) as PolicySpec;
}

function toGuestSpec(g: GuestEntry): GuestSpec {
  const spec: GuestSpec = {};
  if (g.profile !== undefined) spec.profile = g.profile;
  if (g.memMiB !== undefined) spec.memBytes = Math.round(g.memMiB * 2 ** 20);
  if (g.zones !== undefined) spec.zones = structuredClone(g.zones);
  if (g.cpus !== undefined) spec.cpus = g.cpus;
  if (g.pcp !== undefined) spec.pcp = g.pcp;
  if (g.thp !== undefined) spec.thp = g.thp;
  return spec;
}

/** The guests one entry stands for, names not yet made unique. */
function expandGuest(g: GuestEntry, index: number, entries: number): GuestRunSpec[] {
  const policies = g.policies ?? [g.policy ?? DEFAULT_POLICY];
  const guestProfile: ProfileName = g.profile ?? 'linux-6.1';
  return policies.map((p) => {
    const label = policyLabel(p, guestProfile);
    // One entry: columns are the policies. Several: the guest's name (or number) comes first.
    const base = g.name ?? (entries > 1 ? `guest${index}` : undefined);
    const name = base === undefined ? label : policies.length > 1 || !g.name ? `${base}/${label}` : base;
    const run: GuestRunSpec = { name, guest: toGuestSpec(g), policy: toPolicySpec(p) };
    if (g.device !== undefined) run.device = structuredClone(g.device);
    if (g.host !== undefined) run.host = structuredClone(g.host) as GuestRunSpec['host'];
    if (g.initOnAlloc !== undefined) run.initOnAlloc = g.initOnAlloc;
    if (g.workloads !== undefined) run.workloads = structuredClone(g.workloads);
    return run;
  });
}

function uniqueNames(guests: GuestRunSpec[]): void {
  const seen = new Map<string, number>();
  for (const g of guests) {
    const n = (seen.get(g.name!) ?? 0) + 1;
    seen.set(g.name!, n);
    if (n > 1) g.name = `${g.name} #${n}`;
  }
}

/**
 * Resolve every guest's memory layout now, so a bad zone table is reported against its place in the file
 * rather than when the run starts.
 */
function checkGuests(file: string, s: ScenarioFile): void {
  const issues: ScenarioIssue[] = [];
  s.guests.forEach((g, i) => {
    try {
      resolveGuest(toGuestSpec(g));
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      const field = g.zones !== undefined ? 'zones' : e.details['field'] === 'cpus' ? 'cpus' : 'memMiB';
      issues.push({ path: `guests[${i}].${field}`, message: e.message, showValue: false });
    }
  });
  if (issues.length) throw new ScenarioError(file, issues);
}

export function scenarioToSpec(s: ScenarioFile, file = 'scenario'): SimulationSpec {
  checkGuests(file, s);
  const guests = s.guests.flatMap((g, i) => expandGuest(g, i, s.guests.length));
  uniqueNames(guests);
  const spec: SimulationSpec = { guests, durationS: s.durationS };
  if (s.sampleMs !== undefined) spec.sampleMs = s.sampleMs;
  spec.seed = s.seed ?? 1;
  if (s.hostMiB !== undefined) spec.hostMiB = s.hostMiB;
  // The run's memory and time, before anything is built: a run that cannot fit is refused here, naming the file.
  try {
    checkRunFits(spec);
  } catch (e) {
    if (e instanceof SimError) throw new SimError(e.code, `${file}: ${e.message}`, { file, ...e.details });
    throw e;
  }
  return spec;
}
