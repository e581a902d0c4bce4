// The types trace replay shares between its modes (forced in trace-replay.ts, modelled in modelled.ts) and its
// readers (compare.ts, cli.ts).
import type { GuestConfig } from '../core/types.js';
import type { FreeBlock } from '../importers/kpageflags.js';
import type { KmemEvent, PrnotifyEvent } from '../importers/ftrace.js';

/** What showed a per-cpu list's start pages used up (src/replay/pcp-start.ts). */
export type ClosedBy = 'refill' | 'skipped' | 'emptied' | 'old page drained' | 'drained all';

/** One cpu's start per-cpu lists of one zone as rebuilt. */
export interface PcpStartSummary {
  cpu: number;
  zone: string;
  /** Pages placed (count at the start). */
  count: number;
  /** 'drain': fixed by the trace's bulk frees; 'zoneinfo': zoneinfo's count, inside the trace's bounds; 'known':
   *  the pages the trace names. */
  pinnedBy: 'drain' | 'zoneinfo' | 'known';
  /** Pages named by the trace (allocated or drained before anything else touched them). */
  known: number;
  /** Pages no event touches, placed to make up count. */
  placeholders: number;
  zoneinfo: number | null;
  /** The start count the trace's bulk frees allow (null: no upper bound). */
  bounds: [number, number | null];
  /** free_factor at the start as the bulk frees' sizes tell (the simulator starts every cpu at 0). */
  freeFactor: number;
  /** The lists that held pages or that the trace showed used up. */
  lists: Array<{ pindex: number; order: number; named: number; placeholders: number; closedBy: ClosedBy | null }>;
}

export type ReplayMode = 'forced' | 'modelled';

export interface TraceReplayOptions {
  mode?: ReplayMode;
  /** Delay before a pass, ms, or 'trace': each pass starts when the real one did (prproc), when one is near. */
  delayMs?: number | 'trace';
  capacity?: number;
  /**
   * page_reporting_order written (as through sysfs) when the trace starts, after the boot passes were
   * reproduced: what reporting would have done at another order on the same allocator traffic.
   */
  order?: number;
  /** Run the reporting worker this long after the last event, ms (default: to the end of the trace). */
  tailMs?: number;
  /** Check the allocator's invariants at the end (slow-ish: one full walk). Default true. */
  check?: boolean;
  /**
   * Modelled mode: the per-cpu lists at the start. 'trace' (default) rebuilds them from the trace; 'empty' starts
   * with empty lists (an ablation: what the rebuilt lists are worth).
   */
  pcpStart?: 'trace' | 'empty';
}

/** The blocks one report() call carried, in scatterlist order; times in guest seconds. */
export interface ReplayReport { t: number; pass: number; batch: number; entries: Array<[number, number]> }
export interface ReplayPass { pass: number; t: number; batches: number; blocks: number; bytes: number }

export interface ReplayDivergence {
  /** alloc_zone_locked of a pfn that is no free block head in the simulator (carved out anyway when free). */
  allocNotHead: number;
  allocNotFree: number;
  /** alloc_zone_locked whose migratetype differs from the list the block sat on. */
  allocListMt: number;
  /** A drain or direct free of pages that are not allocated in the simulator (skipped). */
  freeNotAllocated: number;
  /** pcpu_drain whose migratetype differs from the pageblock's. */
  drainMtOverride: number;
  first: string[];
}

/** A trace event sequence against the simulator's (drains, or zone-locked blocks). */
export interface EventSeqComparison {
  /** Events (pages or blocks) in the trace / done by the simulator. */
  trace: number;
  sim: number;
  /** Trace events the simulator reproduced: same pfn and order at the same position (same anchoring event,
   *  same ordinal inside it). */
  same: number;
  /** ... of which concern pages put on the start lists from the trace itself. */
  sameFromStartLists: number;
  tracePages: number;
  simPages: number;
  /** Bulk frees (drains) or refills: runs of events with one anchor; `groupsSame` are identical as a whole. */
  traceGroups: number;
  simGroups: number;
  groupsSame: number;
  firstDifferences: string[];
}

export interface ModelledStats {
  /** The per-cpu lists rebuilt at the start, per cpu and zone (src/replay/pcp-start.ts). */
  initial: PcpStartSummary[];
  /** Trace events no start state explains (a start page named on a list the trace showed used up, a bulk free
   *  of a size no start free_factor gives). */
  startContradictions: number;
  initialPcpPages: number;
  /** Per-cpu count at the end of the trace, per cpu and zone. */
  endCounts: Array<{ cpu: number; zone: string; count: number }>;
  /** Start per-cpu pages named by the trace that are free in the start dump (left out). */
  initialSkipped: number;
  /** mm_page_alloc events fed to the simulator. */
  allocs: number;
  /** ... answered by the simulator with the trace's page. */
  allocSamePfn: number;
  /** ... of which were pages put on the start lists from the trace itself (their list order came from it). */
  allocSameFromStartLists: number;
  /** Failed allocations in the trace (pfn 0): nothing to do. */
  allocFailedInTrace: number;
  /** The simulator picked another page: the trace's came off a per-cpu list / out of the buddy / could not be had. */
  carvedFromPcp: number;
  carvedFromBuddy: number;
  carveFailed: number;
  /** Allocations made to pop a per-cpu list down to a carved page (each halves that cpu's free_factor). */
  carvePops: number;
  /** Frees fed: per-cpu (single and batched) and direct, and list frees waiting for their batched event. */
  frees: number;
  listFrees: number;
  directFrees: number;
  freeNotAllocated: number;
  /** mm_page_pcpu_drain events against the simulator's bulk frees. */
  drains: EventSeqComparison;
  /** mm_page_alloc_zone_locked events against the simulator's refills (and direct buddy allocations). */
  zoneLocked: EventSeqComparison;
  firstMismatches: string[];
}

export interface TraceReplayResult {
  run: string;
  mode: ReplayMode;
  config: GuestConfig;
  /** Trace window, guest seconds. */
  start: number;
  end: number;
  events: number;
  applied: { allocZoneLocked: number; pcpuDrain: number; directFree: number };
  /** Boot-time passes replayed on the inferred start lists vs reports.csv. */
  boot: { passes: number; calls: number; blocks: number; blocksSame: number; callsSame: number; reportedMismatch: number };
  reports: ReplayReport[];
  passes: ReplayPass[];
  /** Free blocks at the end (ascending pfn). */
  endBlocks: FreeBlock[];
  endBuddyinfo: number[][];
  pageblockMtFromTrace: number;
  /** Inferred pageblock types per zone: counts by migratetype. */
  pageblockCounts: number[][];
  divergence: ReplayDivergence;
  modelled?: ModelledStats;
  wallMs: number;
}

export interface TraceData {
  /** Kmem events after the start dump, in trace order. */
  kmem: KmemEvent[];
  /** prproc times (guest seconds) of every pass in the trace. */
  passStarts: number[];
  /** Every prnotify hit in the trace (describeRun's freeing cpus), so the trace is read once. */
  notifies: PrnotifyEvent[];
  start: number;
  end: number;
}

