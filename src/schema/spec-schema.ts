// The engine's SimulationSpec (what simulate() and new Simulation() take) checked with the same field schemas as
// scenario files: a policy, device, host, workload or zone is valid in a spec exactly when it is valid in a file.
// The spec differs from the file only in shape: a guest is {guest: {memBytes | zones, ...}, policy, ...}, one
// policy per guest, no shorthand strings, and a few engine-only knobs (a guest's own seed, `record`).
import { z } from 'zod';
import { MAX_CPUS } from '../core/types.js';
import { ScenarioError, issuesFromZod } from './errors.js';
import {
  DeviceSchema, HintingPolicySchema, HostSchema, NonePolicySchema, ProfileSchema, ReportingPolicySchema,
  WorkloadSchema, ZoneSchema, bool, intIn, nonNegative, positive, refineWorkloadCpus, text,
} from './schema.js';

const MiB = 2 ** 20;

const memBytes = () => {
  const error = `expected a whole number of 4 KiB pages in bytes, from ${32 * MiB} (32 MiB) to ${2 ** 44} (16 TiB)`;
  return z.number({ error }).int({ error }).min(32 * MiB, { error }).max(2 ** 44, { error })
    .refine((v) => v % 4096 === 0, { error });
};

export const GuestSpecSchema = z.strictObject({
  profile: ProfileSchema.optional(),
  memBytes: memBytes().optional(),
  zones: z.array(ZoneSchema, { error: 'expected an array of zones' }).min(1, { error: 'expected at least one zone' }).optional(),
  cpus: intIn(1, MAX_CPUS).optional(),
  pcp: bool().optional(),
  thp: bool().optional(),
}, { error: 'expected a guest: {"memBytes": N} or {"zones": [...]}, with optional profile, cpus, pcp, thp' }).superRefine((g, ctx) => {
  if ((g.memBytes === undefined) === (g.zones === undefined)) {
    ctx.addIssue({ code: 'custom', path: g.memBytes === undefined ? [] : ['zones'], message: 'expected exactly one of "memBytes" and "zones"' });
  }
});

const POLICY_EXPECTED = 'expected a policy object with kind "none", "reporting" or "hinting"';

export const SpecPolicySchema = z.discriminatedUnion('kind', [
  NonePolicySchema,
  // Engine-only: record every report() call; how long the kernel's fixed delay takes on the timer wheel.
  ReportingPolicySchema.extend({ record: bool().optional(), timerDelayMs: nonNegative().optional() }),
  HintingPolicySchema,
], { error: POLICY_EXPECTED });

const pfn = () => intIn(0, 2 ** 32 - 2);

/** A recorded state to start from (GuestStartState; the importers build it). */
export const GuestStartStateSchema = z.strictObject({
  free: z.array(z.strictObject({ pfn: pfn(), order: intIn(0, 10), mt: intIn(0, 5), reported: bool() }), { error: 'expected an array of free blocks' }),
  pageblocks: z.array(z.tuple([pfn(), intIn(0, 5)]), { error: 'expected an array of [pfn, migratetype]' }).optional(),
  pcp: z.array(z.strictObject({ cpu: intIn(0, MAX_CPUS - 1), pfn: pfn(), order: intIn(0, 10) }), { error: 'expected an array of per-cpu pages' }).optional(),
  allocatedResident: bool().optional(),
}, { error: 'expected a start state: {"free": [...], "pageblocks"?, "pcp"?}' });

export const GuestRunSpecSchema = z.strictObject({
  name: text().optional(),
  seed: intIn(0, 2 ** 32 - 1).optional(),
  guest: GuestSpecSchema,
  policy: SpecPolicySchema,
  device: DeviceSchema.optional(),
  host: HostSchema.optional(),
  initOnAlloc: bool().optional(),
  workloads: z.array(WorkloadSchema, { error: 'expected an array of workloads' }).optional(),
  startState: GuestStartStateSchema.optional(),
}, { error: 'expected a guest run: {"guest": {...}, "policy": {...}, ...}' }).superRefine((g, ctx) => refineWorkloadCpus(g.workloads, g.guest.cpus ?? 2, ctx));

export const SimulationSpecSchema = z.strictObject({
  guests: z.array(GuestRunSpecSchema, { error: 'expected an array of guests' }).min(1, { error: 'expected at least one guest' }),
  durationS: positive(),
  startS: nonNegative().optional(),
  sampleMs: positive().optional(),
  seed: intIn(0, 2 ** 32 - 1).optional(),
  hostMiB: positive().optional(),
}, { error: 'expected a simulation spec: an object with "guests" and "durationS"' });

/** Deepest nesting of arrays and objects, found without recursion (a hostile document may be 10^5 levels deep). */
export function nestingDepth(root: unknown, stopAt = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > deepest) {
      deepest = d + 1;
      if (deepest > stopAt) return deepest;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/** No scenario or spec needs more; the checks below and structuredClone recurse, so deeper is refused first. */
export const MAX_NESTING = 64;

export function checkNesting(raw: unknown, file: string): void {
  const depth = nestingDepth(raw, MAX_NESTING);
  if (depth > MAX_NESTING) {
    throw new ScenarioError(file, [{ path: '', message: `nested more than ${MAX_NESTING} levels deep (a scenario needs about 6)`, showValue: false }]);
  }
}

/** Throws ScenarioError (a SimError, code BAD_CONFIG) naming each bad field as `spec: guests[0].policy.kind: ...`. */
export function validateSimulationSpec(spec: unknown, what = 'spec'): void {
  checkNesting(spec, what);
  const r = SimulationSpecSchema.safeParse(spec);
  if (!r.success) throw new ScenarioError(what, issuesFromZod(r.error, spec));
}
