// The memory map of one guest as one byte per pixel: a pixel is a page (or 2^k pages on big guests), a row of
// 512 pixels is a pageblock. Built from the zero-copy view of the page descriptors by walking block HEADS: only a
// head carries a kind bit, and its kind and order cover 2^order pages.

import type { PageViews } from '../core/guest.js';

const PG_BUDDY = 1, PG_REPORTED = 2, PG_ALLOCATED = 4, PG_INFLIGHT = 8, PG_PCP = 16;
const HOST_RESIDENT = 1; // within the cold byte's host bits

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

export const MAP_LEGEND: Array<{ code: MapCode; label: string; color: string }> = [
  { code: MapCode.ALLOCATED, label: 'allocated', color: '#4f8fe8' },
  { code: MapCode.FREE_RESIDENT, label: 'free, still resident on host', color: '#e5a13a' },
  { code: MapCode.FREE, label: 'free, not resident', color: '#2e4739' },
  { code: MapCode.REPORTED, label: 'free + reported', color: '#3fcf74' },
  { code: MapCode.INFLIGHT, label: 'in flight (isolated)', color: '#ff4d6d' },
  { code: MapCode.PCP, label: 'per-cpu list', color: '#b78cff' },
  { code: MapCode.HOLE, label: 'hole / not present', color: '#0d1117' },
];

export const MAP_WIDTH = 512;
/** Most pixels a map may have (512 × 1024): bigger guests put 2^k pages in a pixel. */
export const MAX_MAP_PIXELS = MAP_WIDTH * 1024;

export interface MapGeometry {
  maxPfn: number;
  pagesPerPixel: number;
  width: number;
  height: number;
}

export function mapGeometry(maxPfn: number): MapGeometry {
  let pagesPerPixel = 1;
  while (Math.ceil(maxPfn / pagesPerPixel) > MAX_MAP_PIXELS) pagesPerPixel *= 2;
  const pixels = Math.ceil(maxPfn / pagesPerPixel);
  return { maxPfn, pagesPerPixel, width: MAP_WIDTH, height: Math.max(1, Math.ceil(pixels / MAP_WIDTH)) };
}

function codeOf(flags: number, resident: boolean): MapCode {
  if (flags & PG_BUDDY) return flags & PG_REPORTED ? MapCode.REPORTED : resident ? MapCode.FREE_RESIDENT : MapCode.FREE;
  if (flags & PG_ALLOCATED) return MapCode.ALLOCATED;
  if (flags & PG_INFLIGHT) return MapCode.INFLIGHT;
  if (flags & PG_PCP) return MapCode.PCP;
  return MapCode.HOLE;
}

/**
 * Fill `perPage` (one code per pfn, length >= maxPfn) from the descriptors (`guest.pageViews()`, laid out as
 * assembly/layout.ts says). `hostShift` is the host backing page shift (9 for THP-backed RAM): the host state lives
 * in the cold byte of the host page's first pfn.
 */
export function encodePages(pages: PageViews, maxPfn: number, hostShift: number, perPage: Uint8Array): void {
  const { desc, ext, layout } = pages;
  let pfn = 0;
  while (pfn < maxPfn) {
    const base = pfn * layout.size;
    const flags = desc[base + layout.flags]!;
    if (flags & (PG_BUDDY | PG_ALLOCATED | PG_INFLIGHT | PG_PCP)) {
      const end = Math.min(maxPfn, pfn + 2 ** desc[base + layout.order]!);
      if (flags & PG_BUDDY && !(flags & PG_REPORTED)) {
        // A free block's residency can differ between the host pages it spans (4 KiB backing, or a block
        // smaller than a huge page): look each host page up.
        const hp = 1 << hostShift;
        for (let p = pfn; p < end;) {
          const hostPfn = (p >>> hostShift) << hostShift;
          const resident = (ext[hostPfn]! & layout.extHostMask & HOST_RESIDENT) !== 0;
          const next = Math.min(end, hostPfn + hp);
          perPage.fill(resident ? MapCode.FREE_RESIDENT : MapCode.FREE, p, next);
          p = next;
        }
      } else {
        perPage.fill(codeOf(flags, false), pfn, end);
      }
      pfn = end;
    } else {
      perPage[pfn] = MapCode.HOLE;
      pfn++;
    }
  }
}

/** Reduce per-page codes to per-pixel codes (the most frequent code of each group of pages). */
export function reduceToPixels(perPage: Uint8Array, geo: MapGeometry, out: Uint8Array): void {
  const k = geo.pagesPerPixel;
  if (k === 1) {
    out.set(perPage.subarray(0, geo.maxPfn));
    out.fill(MapCode.HOLE, geo.maxPfn);
    return;
  }
  const counts = new Uint32Array(8);
  const pixels = Math.ceil(geo.maxPfn / k);
  for (let px = 0; px < pixels; px++) {
    counts.fill(0);
    const end = Math.min(geo.maxPfn, (px + 1) * k);
    for (let p = px * k; p < end; p++) counts[perPage[p]!]!++;
    let best = 0;
    for (let c = 1; c < 8; c++) if (counts[c]! > counts[best]!) best = c;
    out[px] = best;
  }
  out.fill(MapCode.HOLE, pixels);
}
