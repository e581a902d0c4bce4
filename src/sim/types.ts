// What a simulation takes and gives back: its spec, its samples, and each guest's result with its metrics, one
// interface per group of figures. Kept apart from the engine so the run estimate and the reports can name them
// without importing the engine.
import type { GuestSpec } from '../core/config.js';
import type { GuestStartState, ProfileName } from '../core/types.js';
import type { HintingMetrics, HintingOptions } from '../hinting/hinting.js';
import type { QemuHostOptions } from '../host/qemu.js';
import type { ReportingMetrics } from '../reporting/metrics.js';
import type { PassRecord, ReportingOptions } from '../reporting/worker.js';
import type { WorkloadSpec } from '../workloads/index.js';

export type PolicySpec =
  | { kind: 'none' }
  | ({
    kind: 'reporting'; profile?: ProfileName; registerAtS?: number;
    /** A write to /sys/module/page_reporting/parameters/page_reporting_order at this time (E3 does it). */
    sysfsOrder?: { atS: number; order: number };
  } & ReportingOptions)
  | ({ kind: 'hinting' } & Partial<HintingOptions>);

export type DeviceSpec =
  | { kind: 'virtio-balloon'; queueSize?: number; order?: number; capacity?: number }
  | { kind: 'null'; order?: number }
  | { kind: 'failing'; every: number }
  | { kind: 'slow'; latencyMs: number };

export interface GuestRunSpec {
  name?: string;
  /** Seed of this guest's workloads (default: the simulation's seed, so guests with the same workload see the
   *  same stream and a comparison measures only the policy). */
  seed?: number;
  guest: GuestSpec;
  policy: PolicySpec;
  device?: DeviceSpec;
  host?: QemuHostOptions;
  /** init_on_alloc: allocations zero (touch) their pages. Default true, as in the reference guest. */
  initOnAlloc?: boolean;
  /**
   * Start from this recorded state instead of a clean boot (a real guest's /proc files or kpageflags dump, built
   * by src/importers/start-state.ts). A registration time before the simulation's start means the device
   * registered before the state was captured.
   */
  startState?: GuestStartState;
  workloads?: WorkloadSpec[];
}


export interface SimulationSpec {
  guests: GuestRunSpec[];
  /** Simulated time at which the run ends, seconds. */
  durationS: number;
  /**
   * Simulated time at which it starts (default 0): a run from recorded guest states (GuestRunSpec.startState)
   * starts at the moment they were captured, so workload and marker times stay those of the recording.
   */
  startS?: number;
  /** Sampling interval, ms (default 50, like rss.csv). */
  sampleMs?: number;
  seed?: number;
  /** Host RAM in MiB (for the overcommit ratio); default: the sum of guest RAM. */
  hostMiB?: number;
}

export interface Sample {
  t: number;
  /** Guest RAM resident on the host, KiB. */
  rssKib: number;
  freePages: number;
  /** Free pages by order, all zones. */
  freeByOrder: number[];
  pagesReported: number;
  reportCalls: number;
  inflightPages: number;
  allocatedPages: number;
  refaults: number;
}

/** The allocator's own counts (the wasm core's counters). */
export interface AllocatorMetrics {
  /** Blocks not isolated because the zone would fall to its min watermark. */
  isolationFailures: number;
  allocFailures: number;
  /** Failed allocations made while pages were isolated on a batch. */
  allocFailuresInFlight: number;
  /** Most pages isolated on a batch at once. */
  inflightPeakPages: number;
}

/** The host's side of the guest's memory (src/host/qemu.ts). */
export interface HostMetrics {
  /** Guest RAM resident on the host at the end, KiB. */
  rssKib: number;
  discardedPages: number;
  /** Touches of discarded host pages, the pages they brought back, and their zeroing cost. */
  refaults: number;
  refaultPages: number;
  refaultCostMs: number;
}

/** What the guest's workloads did. */
export interface WorkloadMetrics {
  /** Page operations (allocations and frees of pages) of every workload. */
  pageOps: number;
  /** THP faults served with an order-9 folio, and those that fell back to 4 KiB pages. */
  thpFaults: number;
  thpFallbacks: number;
}

export interface GuestMetrics {
  /** The free page reporting worker's counts: all zero for a guest without reporting. */
  reporting: ReportingMetrics;
  /** page_reporting_order at the end of the run; null for a guest without reporting. */
  reportingOrder: number | null;
  allocator: AllocatorMetrics;
  host: HostMetrics;
  workloads: WorkloadMetrics;
  /** Free page hinting's counts; null for a guest without hinting. */
  hinting: HintingMetrics | null;
}

export interface GuestResult {
  name: string;
  policy: string;
  samples: Sample[];
  metrics: GuestMetrics;
  reportedByOrder: number[];
  passes: PassRecord[];
  buddyinfo: number[][];
  zones: string[];
  /** Workload phase times (ms). */
  markers: Record<string, number>;
}

export interface SimulationResult {
  durationS: number;
  seed: number;
  guests: GuestResult[];
  host: { totalRssKib: number; guestMemKib: number; hostMiB: number; overcommit: number };
  wallMs: number;
  pageOps: number;
}
