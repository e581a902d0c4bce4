// The memory map of one guest: one code per pfn from the zero-copy view of the page descriptors (walking block
// HEADS: only a head carries a kind bit, and its kind and order cover 2^order pages), then a view of it: rows of
// 512 cells, a cell being k consecutive pages (k = 1: a row is one pageblock). The overview fits the whole guest
// in at most 512 rows; zooming in halves k down to one page a cell, then magnifies.

import type { PageViews } from '../core/guest.js';

const PG_BUDDY = 1, PG_REPORTED = 2, PG_ALLOCATED = 4, PG_INFLIGHT = 8, PG_PCP = 16;
const HOST_RESIDENT = 1; // within the cold byte's host bits
const NR_ORDERS = 11;

/** What a pixel shows. */
export const MapCode = {
  HOLE: 0,
  /** Free, and the host holds no memory behind it (never touched, or discarded). */
  FREE: 1,
  /** Free but still resident on the host: memory the host could have back. */
  FREE_RESIDENT: 2,
  /** Free and Reported (the host was told; normally discarded). */
  REPORTED: 3,
  ALLOCATED: 4,
  /** Isolated on a report batch. */
  INFLIGHT: 5,
  /** On a per-cpu list. */
  PCP: 6,
} as const;
export type MapCode = (typeof MapCode)[keyof typeof MapCode];
export const NR_CODES = 7;

/**
 * Okabe–Ito colours. In-flight and per-cpu pages also alternate with a second colour cell by cell (a checker
 * pattern), so they stay apart from reported and allocated pages for every kind of colour vision.
 */
export const MAP_LEGEND: Array<{ code: MapCode; label: string; color: string; alt?: string }> = [
  { code: MapCode.ALLOCATED, label: 'allocated', color: '#0072B2' },
  { code: MapCode.FREE_RESIDENT, label: 'free, still resident on host', color: '#E69F00' },
  { code: MapCode.FREE, label: 'free, not resident', color: '#3a3f47' },
  { code: MapCode.REPORTED, label: 'free + Reported', color: '#009E73' },
  { code: MapCode.INFLIGHT, label: 'in flight (isolated for report)', color: '#D55E00', alt: '#FFFFFF' },
  { code: MapCode.PCP, label: 'on a per-cpu list', color: '#CC79A7', alt: '#000000' },
  { code: MapCode.HOLE, label: 'hole / not present', color: '#0d1117' },
];

export const MAP_COLS = 512;
export const MAX_ROWS = 512;

export interface MapLayout {
  maxPfn: number;
  /** Pages a cell at the overview. */
  k0: number;
  /** Rows of the overview (the canvas height in cells). */
  rows: number;
}

export function mapLayout(maxPfn: number): MapLayout {
  let k0 = 1;
  while (Math.ceil(maxPfn / (MAP_COLS * k0)) > MAX_ROWS) k0 *= 2;
  return { maxPfn, k0, rows: Math.max(1, Math.ceil(maxPfn / (MAP_COLS * k0))) };
}

/** A window of the map: cells of k pages, rows of 512 cells; [row0, row0 + rows) × [col0, col0 + cols). */
export interface MapView {
  k: number;
  row0: number;
  col0: number;
  cols: number;
  rows: number;
}

export function overviewView(l: MapLayout): MapView {
  return { k: l.k0, row0: 0, col0: 0, cols: MAP_COLS, rows: l.rows };
}

/** Clamp a requested view to the guest (and to sane sizes). */
export function clampView(l: MapLayout, v: MapView): MapView {
  let k = 1;
  while (k < l.k0 && k < v.k) k *= 2;
  const totalRows = Math.ceil(l.maxPfn / (MAP_COLS * k));
  const cols = Math.max(1, Math.min(MAP_COLS, Math.floor(v.cols)));
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor(v.rows)));
  const col0 = Math.max(0, Math.min(MAP_COLS - cols, Math.floor(v.col0)));
  const row0 = Math.max(0, Math.min(Math.max(0, totalRows - rows), Math.floor(v.row0)));
  return { k, row0, col0, cols, rows };
}

/** The first pfn of a cell of a view. */
export function cellPfn(v: MapView, row: number, col: number): number {
  return (v.row0 + row) * MAP_COLS * v.k + (v.col0 + col) * v.k;
}

/** Page counts by code, and free pages by order split into Reported and not. */
export interface MapStats {
  pages: Float64Array;
  freeReported: Float64Array;
  freeUnreported: Float64Array;
}

export function emptyStats(): MapStats {
  return { pages: new Float64Array(NR_CODES), freeReported: new Float64Array(NR_ORDERS), freeUnreported: new Float64Array(NR_ORDERS) };
}

function codeOf(flags: number): MapCode {
  if (flags & PG_BUDDY) return flags & PG_REPORTED ? MapCode.REPORTED : MapCode.FREE;
  if (flags & PG_ALLOCATED) return MapCode.ALLOCATED;
  if (flags & PG_INFLIGHT) return MapCode.INFLIGHT;
  if (flags & PG_PCP) return MapCode.PCP;
  return MapCode.HOLE;
}

/**
 * Fill `perPage` (one code per pfn, length >= maxPfn) from the descriptors (`guest.pageViews()`, laid out as
 * assembly/layout.ts says). `hostShift` is the host backing page shift (9 for THP-backed RAM): the host state lives
 * in the cold byte of the host page's first pfn. `stats`, when given, is filled too.
 */
export function encodePages(pages: PageViews, maxPfn: number, hostShift: number, perPage: Uint8Array, stats?: MapStats): void {
  const { desc, ext, layout } = pages;
  if (stats) {
    stats.pages.fill(0);
    stats.freeReported.fill(0);
    stats.freeUnreported.fill(0);
  }
  let pfn = 0;
  while (pfn < maxPfn) {
    const base = pfn * layout.size;
    const flags = desc[base + layout.flags]!;
    if (flags & (PG_BUDDY | PG_ALLOCATED | PG_INFLIGHT | PG_PCP)) {
      const order = desc[base + layout.order]!;
      const end = Math.min(maxPfn, pfn + 2 ** order);
      if (flags & PG_BUDDY && !(flags & PG_REPORTED)) {
        // A free block's residency can differ between the host pages it spans (4 KiB backing, or a block
        // smaller than a huge page): look each host page up.
        const hp = 1 << hostShift;
        for (let p = pfn; p < end;) {
          const hostPfn = (p >>> hostShift) << hostShift;
          const resident = (ext[hostPfn]! & layout.extHostMask & HOST_RESIDENT) !== 0;
          const next = Math.min(end, hostPfn + hp);
          const code = resident ? MapCode.FREE_RESIDENT : MapCode.FREE;
          perPage.fill(code, p, next);
          if (stats) stats.pages[code]! += next - p;
          p = next;
        }
        if (stats) stats.freeUnreported[order]! += end - pfn;
      } else {
        const code = codeOf(flags);
        perPage.fill(code, pfn, end);
        if (stats) {
          stats.pages[code]! += end - pfn;
          if (code === MapCode.REPORTED) stats.freeReported[order]! += end - pfn;
        }
      }
      pfn = end;
    } else {
      perPage[pfn] = MapCode.HOLE;
      if (stats) stats.pages[MapCode.HOLE]!++;
      pfn++;
    }
  }
}

/** Render a view: each cell the most frequent code of its k pages (HOLE beyond the guest). */
export function renderView(perPage: Uint8Array, maxPfn: number, v: MapView, out: Uint8Array): void {
  const counts = new Uint32Array(NR_CODES);
  for (let r = 0; r < v.rows; r++) {
    for (let c = 0; c < v.cols; c++) {
      const start = cellPfn(v, r, c);
      const i = r * v.cols + c;
      if (start >= maxPfn) {
        out[i] = MapCode.HOLE;
        continue;
      }
      if (v.k === 1) {
        out[i] = perPage[start]!;
        continue;
      }
      counts.fill(0);
      const end = Math.min(maxPfn, start + v.k);
      for (let p = start; p < end; p++) counts[perPage[p]!]!++;
      let best = 0;
      for (let code = 1; code < NR_CODES; code++) if (counts[code]! > counts[best]!) best = code;
      out[i] = best;
    }
  }
}
