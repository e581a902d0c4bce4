// Messages between the page (main.ts) and the simulation worker (worker.ts).
import type { MapView } from './memmap.js';
import { NR_ORDERS, type GuestStartState, type PfnState } from '../core/types.js';
import type { GuestMetrics, SimulationResult } from '../sim/engine.js';
import type { GuestSummary } from '../report/summary.js';
import type { DroppedFile, Imported } from './import.js';

/** Speeds offered: simulated seconds per wall second, or 'max' (as fast as the worker runs). */
export const SPEEDS = [1, 2, 5, 10, 25, 'max'] as const;
export type Speed = (typeof SPEEDS)[number];

/** Every message runs this much simulated time × speed (a 'max' slice is MAX_SLICE_MS). */
export const SLICE_MS = 100;
export const MAX_SLICE_MS = 1000;
/**
 * Wall time a frame of interest (a reporting state change, a report() call) stays on screen at ×1; at ×s it is
 * HOLD_MS / s, and at 'max' such frames are not held (nor even taken).
 */
export const HOLD_MS = 400;

export function sliceMsOf(speed: Speed): number {
  return speed === 'max' ? MAX_SLICE_MS : SLICE_MS * speed;
}

export function holdMsOf(speed: Speed): number {
  return speed === 'max' ? 0 : HOLD_MS / speed;
}

/** The numbers of one sample, packed into a Float64Array (SAMPLE_STRIDE numbers a sample). */
export const SAMPLE_FIELDS = ['t', 'rssKib', 'freePages', 'pagesReported', 'reportCalls', 'inflightPages', 'allocatedPages', 'refaults', 'reportedNow'] as const;
/** freeByOrder[0..10] follow the named fields. */
export const SAMPLE_STRIDE = SAMPLE_FIELDS.length + NR_ORDERS;
export const S = Object.fromEntries(SAMPLE_FIELDS.map((f, i) => [f, i])) as Record<(typeof SAMPLE_FIELDS)[number], number>;
export const S_FREE_BY_ORDER = SAMPLE_FIELDS.length;

export interface ResetMessage {
  type: 'reset';
  /** The validated scenario document (one guest entry, policies [A, B]) and its file name for messages. */
  doc: Record<string, unknown>;
  file: string;
  /** A recorded guest state to start from instead of a boot (a dropped snapshot). */
  startState?: GuestStartState;
  speed: Speed;
  play: boolean;
  view: MapView | null;
}

export type ToWorker =
  | ResetMessage
  | { type: 'play' }
  | { type: 'pause' }
  /** Run to the next frame of interest (or the end of the slice). */
  | { type: 'step' }
  | { type: 'speed'; speed: Speed }
  /** The page drew frame `seq`: the worker keeps at most a couple of frames ahead of the page. */
  | { type: 'ack'; gen: number; seq: number }
  | { type: 'view'; gen: number; view: MapView }
  | { type: 'inspect'; gen: number; guest: number; pfn: number; id: number }
  | { type: 'export'; gen: number; id: number }
  /** Build a guest from dropped files (answered with 'imported'). */
  | { type: 'import'; id: number; files: DroppedFile[] };

export interface ReportingParams {
  order: number;
  capacity: number;
  delayMs: number;
  budgetDivisor: number;
}

export interface GuestInfo {
  /** The guest's name, as `prsim run` prints it. */
  name: string;
  /** 'none', 'reporting linux-6.1', 'hinting'. */
  policy: string;
  kind: 'none' | 'reporting' | 'hinting';
  maxPfn: number;
  managedPages: number;
  cpus: number;
  zones: Array<{ name: string; startPfn: number; endPfn: number }>;
  reporting: ReportingParams | null;
  hinting: { use: string; minOrder: number; intervalMs: number } | null;
  device: string;
  /** Overview layout of the map. */
  k0: number;
  rows: number;
}

/** One report() call, for the pass timeline. */
export interface CallInfo {
  t: number;
  pass: number;
  blocks: number;
  pages: number;
  byOrder: number[];
  status: number;
}

export interface PassInfo {
  pass: number;
  start: number;
  end: number;
  batches: number;
  blocks: number;
  pages: number;
}

export interface GuestFrame {
  /** New samples since the previous frame, packed (SAMPLE_STRIDE numbers each). */
  samples: Float64Array;
  /** One MapCode a cell of `view` (cols × rows). */
  map: Uint8Array;
  /** Pages by MapCode in the whole guest. */
  pages: number[];
  /** Free pages by order, Reported and not. */
  freeReported: number[];
  freeUnreported: number[];
  /** SimulationResult metrics of this guest right now. */
  metrics: GuestMetrics;
  /** Reporting state (IDLE / REQUESTED / ACTIVE), or '' without reporting. */
  state: string;
  /** Reporting order in force (-1 without reporting). */
  order: number;
  /** Workload phase times (ms) so far, as in GuestResult.markers. */
  markers: Record<string, number>;
  /** Passes ended and report() calls made since the previous frame. */
  passes: PassInfo[];
  calls: CallInfo[];
}

export interface FrameMessage {
  type: 'frame';
  gen: number;
  seq: number;
  tMs: number;
  durationMs: number;
  done: boolean;
  playing: boolean;
  /** Why this frame was taken: the end of a slice, or something to see (held on screen `holdMs`). */
  reason: 'slice' | 'state' | 'report' | 'view';
  holdMs: number;
  view: MapView;
  guests: GuestFrame[];
}

export interface ExportData {
  result: SimulationResult;
  summaries: GuestSummary[];
  /** Per guest: free pages with Reported set, at each sample. */
  reportedNow: number[][];
  passes: PassInfo[][];
  calls: CallInfo[][];
}

export type FromWorker =
  | { type: 'ready'; gen: number; durationMs: number; sampleMs: number; guests: GuestInfo[]; view: MapView }
  | FrameMessage
  | { type: 'status'; gen: number; playing: boolean; speed: Speed }
  | { type: 'inspect'; gen: number; id: number; guest: number; state: PfnState | null; error?: string }
  | { type: 'export'; gen: number; id: number; data: ExportData }
  | { type: 'imported'; id: number; ok: true; imported: Imported }
  | { type: 'imported'; id: number; ok: false; message: string }
  | { type: 'error'; message: string };
