// The scenario file format: one JSON document describing guests, their free-memory policy, device, host,
// workload timeline and the run (duration, sampling, seed), optionally a sweep grid. Objects are strict, so a
// misspelt field is an error rather than a silently ignored default. Every message says what was expected;
// load.ts adds the file, the field path and the value that was found.
import { z } from 'zod';
import { PROFILE_NAMES, getProfile, knobRefusal, orderRefusal } from '../core/profiles.js';
import { MAX_CPUS, MAX_ORDER_INCLUSIVE, ZONE_NAMES } from '../core/types.js';
import { expandPolicyShorthand, POLICY_SHORTHANDS } from './policies.js';

/** A workload's cpu must be one the guest has (2 cpus when the guest does not say). */
export function refineWorkloadCpus(workloads: ReadonlyArray<{ cpu?: number | undefined }> | undefined, cpus: number, ctx: z.RefinementCtx): void {
  (workloads ?? []).forEach((w, i) => {
    if (w.cpu !== undefined && w.cpu >= cpus) {
      ctx.addIssue({ code: 'custom', path: ['workloads', i, 'cpu'], message: `expected a cpu of this ${cpus}-cpu guest (0..${cpus - 1})` });
    }
  });
}

// --- value helpers: each carries one message for every way the value can be wrong ---

export const intIn = (min: number, max: number) => {
  const error = `expected integer ${min}..${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
export const intAtLeast = (min: number) => {
  const error = `expected integer >= ${min}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(Number.MAX_SAFE_INTEGER, { error });
};
export const positive = () => {
  const error = 'expected a number > 0';
  return z.number({ error }).positive({ error }).max(Number.MAX_VALUE, { error });
};
export const nonNegative = () => {
  const error = 'expected a number >= 0';
  return z.number({ error }).min(0, { error }).max(Number.MAX_VALUE, { error });
};
const fraction = () => {
  const error = 'expected a number in 0..1';
  return z.number({ error }).min(0, { error }).max(1, { error });
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.map((v) => `"${v}"`).join(', ')}` });
export const bool = () => z.boolean({ error: 'expected true or false' });
export const text = () => z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });

/** The reporting order: 0..10, or 11 (MAX_ORDER), which disables reporting as the unset module parameter does. */
const REPORT_ORDER_MAX = MAX_ORDER_INCLUSIVE + 1;
/** The wasm scatterlist holds at most this many entries (assembly/layout.ts MAX_CAPACITY). */
const MAX_CAPACITY = 256;
/** A guest's workload cpu must exist; 64 is the core's limit, the guest's own count is checked below. */
const cpuIndex = () => intIn(0, MAX_CPUS - 1);

export const ProfileSchema = oneOf(PROFILE_NAMES as unknown as readonly [string, ...string[]]).transform(
  (p) => p as (typeof PROFILE_NAMES)[number],
);

// --- policies ---

const policyName = text().optional();

export const NonePolicySchema = z.strictObject({ kind: z.literal('none'), name: policyName });

export const ReportingPolicySchema = z.strictObject({
  kind: z.literal('reporting'),
  name: policyName,
  /** Kernel whose page_reporting runs (and whose allocator rules the guest follows). Default: the guest's. */
  profile: ProfileSchema.optional(),
  /** page_reporting_order set before register (5.14 on; 6.1 overwrites it, as the real kernel does). */
  order: intIn(0, REPORT_ORDER_MAX).optional(),
  /** Batch capacity for a device that states none (linux-next only). */
  capacity: intIn(1, MAX_CAPACITY).optional(),
  /** page_reporting_delay_ms (linux-next only). */
  delayMs: nonNegative().optional(),
  budgetDivisor: intAtLeast(1).optional(),
  /** When the balloon driver registers, seconds after boot. */
  registerAtS: nonNegative().optional(),
  /** A write of page_reporting_order through sysfs at a time (what E3 did right after register). */
  sysfsOrder: z.strictObject({ atS: nonNegative(), order: intIn(0, REPORT_ORDER_MAX) }).optional(),
});

export const HintingPolicySchema = z.strictObject({
  kind: z.literal('hinting'),
  name: policyName,
  use: oneOf(['discard', 'migration']).optional(),
  minOrder: intIn(0, MAX_ORDER_INCLUSIVE).optional(),
  // A zero interval would walk forever at one instant.
  intervalMs: positive().optional(),
  /** Time one hint takes (the guest runs between two hints); 0 walks a whole pass at one instant. */
  stepMs: nonNegative().optional(),
  hostDelayMs: nonNegative().optional(),
  migrationMs: nonNegative().optional(),
});

const POLICY_EXPECTED = `expected a policy: ${POLICY_SHORTHANDS.map((p) => `"${p}"`).join(', ')} or an object with kind "none", "reporting" or "hinting"`;

export const PolicySchema = z.preprocess(
  expandPolicyShorthand,
  z.discriminatedUnion('kind', [NonePolicySchema, ReportingPolicySchema, HintingPolicySchema], { error: POLICY_EXPECTED }),
);

// --- device and host ---

const DEVICE_EXPECTED = 'expected a device: "virtio-balloon", "null", {"kind": "failing", "every": N} or {"kind": "slow", "latencyMs": T}';

export const DeviceSchema = z.preprocess(
  (v) => (v === 'virtio-balloon' || v === 'null' ? { kind: v } : v),
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('virtio-balloon'),
      queueSize: intIn(1, 65536).optional(),
      order: intIn(0, MAX_ORDER_INCLUSIVE).optional(),
      capacity: intIn(0, MAX_CAPACITY).optional(),
    }),
    z.strictObject({ kind: z.literal('null'), order: intIn(0, MAX_ORDER_INCLUSIVE).optional() }),
    z.strictObject({ kind: z.literal('failing'), every: intAtLeast(1) }),
    z.strictObject({ kind: z.literal('slow'), latencyMs: nonNegative() }),
  ], { error: DEVICE_EXPECTED }),
);

export const HostSchema = z.strictObject({
  backing: oneOf(['4k', 'thp']).optional(),
  inhibit: oneOf(['vfio', 'postcopy', 'background-snapshot']).nullable().optional(),
  poisonValue: intIn(0, 255).optional(),
  overheadKib: nonNegative().optional(),
  callLatencyMs: nonNegative().optional(),
  latencyMsPerMiB: nonNegative().optional(),
  refaultNsPerPage: nonNegative().optional(),
});

// --- workloads (the specs of src/workloads) ---

const tickMs = () => positive().optional();
/** How a workload's faults see transparent huge pages (src/workloads/mapping.ts). */
const thpMode = () => oneOf(['never', 'always', 'madvise']).optional();

export const MemhogSchema = z.strictObject({
  kind: z.literal('memhog'),
  startS: nonNegative(),
  mib: positive(),
  rateMiBps: positive().optional(),
  holdS: nonNegative(),
  freeRateMiBps: positive().optional(),
  cpu: cpuIndex().optional(),
  tickMs: tickMs(),
  thp: thpMode(),
  exitAfterFree: bool().optional(),
});

export const ChurnSchema = z.strictObject({
  kind: z.literal('churn'),
  startS: nonNegative(),
  durationS: positive(),
  opsPerS: positive(),
  targetFraction: fraction().optional(),
  cpu: cpuIndex().optional(),
  tickMs: tickMs(),
});

export const FragmentSchema = z.strictObject({
  kind: z.literal('fragment'),
  startS: nonNegative(),
  mib: positive(),
  every: intAtLeast(1),
  holdS: nonNegative(),
  rateMiBps: positive().optional(),
  cpu: cpuIndex().optional(),
  tickMs: tickMs(),
  thp: thpMode(),
  exitAfterFree: bool().optional(),
});

export const PageCacheSchema = z.strictObject({
  kind: z.literal('pagecache'),
  startS: nonNegative(),
  durationS: positive(),
  rateMiBps: positive(),
  limitMiB: positive(),
  cpu: cpuIndex().optional(),
  tickMs: tickMs(),
});

export const BurstSchema = z.strictObject({
  kind: z.literal('burst'),
  startS: nonNegative(),
  mib: positive(),
  periodS: positive(),
  holdS: nonNegative(),
  count: intAtLeast(1),
  rateMiBps: positive().optional(),
  cpu: cpuIndex().optional(),
  thp: thpMode(),
});

export const WritesSchema = z.strictObject({
  kind: z.literal('writes'),
  writes: z.array(z.strictObject({ atS: nonNegative(), pages: intAtLeast(1) }), { error: 'expected an array of {"atS", "pages"}' }),
  cpu: cpuIndex().optional(),
});

export const WorkloadSchema = z.discriminatedUnion('kind', [MemhogSchema, ChurnSchema, FragmentSchema, PageCacheSchema, BurstSchema, WritesSchema], {
  error: 'expected a workload with kind "memhog", "churn", "fragment", "pagecache", "burst" or "writes"',
});

// --- guests ---

/** Guest RAM in MiB: a whole number of 4 KiB pages (a multiple of 1/256 MiB), 32 MiB to 16 TiB. */
const memMiB = () => {
  const error = 'expected a number of MiB >= 32';
  return z.number({ error }).min(32, { error }).max(2 ** 24, { error: 'expected a number of MiB <= 16777216' })
    .refine((v) => Number.isInteger(v * 256), { error: 'expected a whole number of 4 KiB pages (a multiple of 1/256 MiB, e.g. 512 or 512.25)' });
};

const pfn = () => intIn(0, 2 ** 32 - 2);

export const ZoneSchema = z.strictObject({
  name: oneOf(ZONE_NAMES),
  startPfn: pfn(),
  endPfn: pfn(),
  holes: z.array(z.tuple([pfn(), pfn()], { error: 'expected a [startPfn, endPfn] pair' }), { error: 'expected an array of [startPfn, endPfn] pairs' }).optional(),
  managed: intAtLeast(0).optional(),
  watermarks: z.strictObject({ min: intAtLeast(0), low: intAtLeast(0), high: intAtLeast(0) }, { error: 'expected {"min", "low", "high"} in pages' }).optional(),
  lowmemReserve: z.array(intAtLeast(0), { error: 'expected an array of page counts' }).optional(),
  pcpHigh: intAtLeast(0).optional(),
  pcpBatch: intAtLeast(1).optional(),
});

export const GuestSchema = z.strictObject({
  name: text().optional(),
  /** Guest RAM (x86-64 q35 layout); or `zones` for an exact layout. */
  memMiB: memMiB().optional(),
  zones: z.array(ZoneSchema, { error: 'expected an array of zones' }).min(1, { error: 'expected at least one zone' }).optional(),
  profile: ProfileSchema.optional(),
  cpus: intIn(1, MAX_CPUS).optional(),
  pcp: bool().optional(),
  thp: bool().optional(),
  policy: PolicySchema.optional(),
  /** Several policies to compare on this guest and workload: one simulated guest per policy. */
  policies: z.array(PolicySchema, { error: 'expected an array of policies' }).min(1, { error: 'expected at least one policy' }).optional(),
  device: DeviceSchema.optional(),
  host: HostSchema.optional(),
  initOnAlloc: bool().optional(),
  workloads: z.array(WorkloadSchema, { error: 'expected an array of workloads' }).optional(),
}).superRefine((g, ctx) => {
  if ((g.memMiB === undefined) === (g.zones === undefined)) {
    ctx.addIssue({ code: 'custom', path: g.memMiB === undefined ? [] : ['zones'], message: 'expected exactly one of "memMiB" and "zones"' });
  }
  if (g.policy !== undefined && g.policies !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['policies'], message: 'expected "policy" or "policies", not both' });
  }
  // A reporting knob the policy's kernel lacks is refused, naming the kernel that added it.
  const policies: Array<[Array<string | number>, unknown]> = g.policies
    ? g.policies.map((p, i) => [['policies', i], p])
    : [[['policy'], g.policy]];
  for (const [where, p] of policies) {
    // Only values that passed their own field's check: a bad one is reported there, once.
    const r = ReportingPolicySchema.safeParse(p);
    const name = r.success ? (r.data.profile ?? g.profile) : undefined;
    if (!r.success || (name !== undefined && !(PROFILE_NAMES as readonly string[]).includes(name))) continue;
    const profile = getProfile(name ?? 'linux-6.1');
    const { order, sysfsOrder, capacity, delayMs } = r.data;
    const refuse = (path: Array<string | number>, message: string | null) => {
      if (message) ctx.addIssue({ code: 'custom', path: [...where, ...path], message });
    };
    if (order !== undefined) refuse(['order'], orderRefusal(profile, order));
    if (sysfsOrder !== undefined) {
      const why = knobRefusal(profile, 'order');
      refuse(['sysfsOrder'], why);
      if (!why) refuse(['sysfsOrder', 'order'], orderRefusal(profile, sysfsOrder.order));
    }
    if (capacity !== undefined) refuse(['capacity'], knobRefusal(profile, 'capacity'));
    if (delayMs !== undefined) refuse(['delayMs'], knobRefusal(profile, 'delayMs'));
  }
  refineWorkloadCpus(g.workloads, g.cpus ?? 2, ctx);
  (g.workloads ?? []).forEach((w, i) => {
    // A folio needs THP in the guest (transparent_hugepage is never, or THP not built: guest.thp false).
    if ('thp' in w && w.thp !== undefined && w.thp !== 'never' && g.thp === false) {
      ctx.addIssue({ code: 'custom', path: ['workloads', i, 'thp'], message: `expected "never": this guest has THP off ("thp": false)` });
    }
  });
});

// --- the scenario ---

/** A sweep parameter: a path into the scenario (`policy.order`, `guest.memMiB`, `workloads[0].mib`, `durationS`). */
const SWEEP_PATH = /^[A-Za-z_$][\w$]*(\[\d+\])*(\.[A-Za-z_$][\w$]*(\[\d+\])*)*$/;

export const SweepSchema = z.record(
  z.string(),
  z.array(z.json(), { error: 'expected an array of values' }).min(1, { error: 'expected at least one value' }),
  { error: 'expected an object mapping parameter paths to arrays of values' },
).superRefine((s, ctx) => {
  const keys = Object.keys(s);
  if (!keys.length) ctx.addIssue({ code: 'custom', path: [], message: 'expected at least one parameter' });
  // Checked here rather than on the record key so the message names the key itself.
  for (const k of keys) {
    if (!SWEEP_PATH.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'expected a parameter path such as "policy.order" or "workloads[0].mib"' });
  }
});

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: text().optional(),
  description: z.string({ error: 'expected a string' }).optional(),
  guests: z.array(GuestSchema, { error: 'expected an array of guests' }).min(1, { error: 'expected at least one guest' }),
  durationS: positive(),
  /** Sampling interval of the time series, ms (default 50, as rss.csv). */
  sampleMs: positive().optional(),
  seed: intIn(0, 2 ** 32 - 1).optional(),
  /** Host RAM, MiB (for the overcommit ratio); default the sum of guest RAM. */
  hostMiB: positive().optional(),
  sweep: SweepSchema.optional(),
}, { error: 'expected a scenario: a JSON object with "guests" and "durationS"' });

export type ScenarioFile = z.infer<typeof ScenarioSchema>;
export type GuestEntry = z.infer<typeof GuestSchema>;
export type PolicyEntry = z.infer<typeof PolicySchema>;
export type WorkloadEntry = z.infer<typeof WorkloadSchema>;
export type SweepGrid = z.infer<typeof SweepSchema>;
