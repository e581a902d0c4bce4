// Messages between the page (main.ts) and the simulation worker (worker.ts).
import type { PolicyId } from './scenarios.js';

/** Speeds offered: simulated seconds per wall second, or 'max' (as fast as the worker runs). */
export const SPEEDS = [1, 2, 5, 10, 25, 'max'] as const;
export type Speed = (typeof SPEEDS)[number];

/** Every message runs this much simulated time × speed (a 'max' slice is MAX_SLICE_MS). */
export const SLICE_MS = 100;
export const MAX_SLICE_MS = 1000;

export function sliceMsOf(speed: Speed): number {
  return speed === 'max' ? MAX_SLICE_MS : SLICE_MS * speed;
}

/** The numbers of one sample, packed into a Float64Array (SAMPLE_STRIDE numbers a sample). */
export const SAMPLE_FIELDS = ['t', 'rssKib', 'freePages', 'pagesReported', 'reportCalls', 'inflightPages', 'allocatedPages', 'refaults'] as const;
export const NR_ORDERS_PACKED = 11;
/** freeByOrder[0..10] follow the named fields. */
export const SAMPLE_STRIDE = SAMPLE_FIELDS.length + NR_ORDERS_PACKED;
export const S = Object.fromEntries(SAMPLE_FIELDS.map((f, i) => [f, i])) as Record<(typeof SAMPLE_FIELDS)[number], number>;
export const S_FREE_BY_ORDER = SAMPLE_FIELDS.length;

export interface RunConfig {
  scenario: string;
  policies: [PolicyId, PolicyId];
  seed: number;
}

export type ToWorker =
  | ({ type: 'reset'; speed: Speed; play: boolean } & RunConfig)
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'speed'; speed: Speed }
  /** The page drew frame `seq`: the worker keeps at most a couple of frames ahead of the page. */
  | { type: 'ack'; gen: number; seq: number };

export interface GuestInfo {
  policy: PolicyId;
  /** As in SimulationResult: 'none', 'reporting linux-6.1', 'hinting'. */
  policyLabel: string;
  maxPfn: number;
  managedPages: number;
  zones: Array<{ name: string; startPfn: number; endPfn: number }>;
  pagesPerPixel: number;
  mapWidth: number;
  mapHeight: number;
}

export interface GuestFrame {
  /** New samples since the previous frame, packed (SAMPLE_STRIDE numbers each). */
  samples: Float64Array;
  /** One MapCode a pixel (mapWidth × mapHeight). */
  map: Uint8Array;
  /** SimulationResult metrics of this guest right now. */
  metrics: Record<string, number>;
  /** Reporting state (IDLE / REQUESTED / ACTIVE), or '' without reporting. */
  state: string;
}

export type FromWorker =
  | { type: 'ready'; gen: number; config: RunConfig; durationMs: number; guests: GuestInfo[] }
  | { type: 'frame'; gen: number; seq: number; tMs: number; durationMs: number; done: boolean; playing: boolean; wallMs: number; guests: GuestFrame[] }
  | { type: 'status'; gen: number; playing: boolean; speed: Speed }
  | { type: 'error'; message: string };
