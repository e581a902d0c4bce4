// The page's side of the memory maps: the zoom level and pan position shared by both maps, drawing a rendered
// view onto a canvas (cells scaled up, in-flight and per-cpu cells in a checker of two colours), and the mouse:
// wheel and buttons zoom about a point, drag pans, hover names the cell.
import { MAP_COLS, MAP_LEGEND, cellPfn, type MapView } from './memmap.js';
import { MIGRATE_NAMES, PAGEBLOCK_PAGES, type PfnState } from '../core/types.js';
import type { GuestInfo } from './protocol.js';

const rgba = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return ((0xff << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0;
};
const MAIN = new Uint32Array(8);
const ALT = new Uint32Array(8);
for (const l of MAP_LEGEND) {
  MAIN[l.code] = rgba(l.color);
  ALT[l.code] = rgba(l.alt ?? l.color);
}

export const MAX_MAGNIFY = 32;

/** Zoom: level 0 is the overview (k0 pages a cell); each level halves k, then doubles the magnification. */
export class MapZoom {
  level = 0;
  row0 = 0;
  col0 = 0;

  constructor(public k0: number, public rows: number, public maxPfn: number) {}

  get k(): number {
    return Math.max(1, this.k0 >> this.level);
  }

  get magnify(): number {
    return 2 ** Math.max(0, this.level - Math.log2(this.k0));
  }

  get maxLevel(): number {
    return Math.log2(this.k0) + Math.log2(MAX_MAGNIFY);
  }

  view(): MapView {
    const m = this.magnify;
    const cols = MAP_COLS / m;
    const rows = Math.ceil(this.rows / m);
    const total = Math.ceil(this.maxPfn / (MAP_COLS * this.k));
    this.col0 = Math.max(0, Math.min(MAP_COLS - cols, Math.round(this.col0)));
    this.row0 = Math.max(0, Math.min(Math.max(0, total - rows), Math.round(this.row0)));
    return { k: this.k, row0: this.row0, col0: this.col0, cols, rows };
  }

  /** Zoom by `by` levels keeping the page at canvas fraction (fx, fy) where it is. */
  zoom(by: number, fx = 0.5, fy = 0.5): boolean {
    const next = Math.max(0, Math.min(this.maxLevel, this.level + by));
    if (next === this.level) return false;
    const v = this.view();
    const pfn = cellPfn(v, Math.floor(fy * v.rows), Math.floor(fx * v.cols));
    this.level = next;
    const w = this.view();
    const row = Math.floor(pfn / (MAP_COLS * w.k));
    const col = Math.floor((pfn % (MAP_COLS * w.k)) / w.k);
    this.row0 = row - fy * w.rows;
    this.col0 = col - fx * w.cols;
    this.view();
    return true;
  }

  fit(): void {
    this.level = 0;
    this.row0 = this.col0 = 0;
  }

  /** Pan by a fraction of the visible map. */
  pan(dxFrac: number, dyFrac: number): void {
    const v = this.view();
    this.col0 -= dxFrac * v.cols;
    this.row0 -= dyFrac * v.rows;
    this.view();
  }

  describe(): string {
    const v = this.view();
    const pages = v.k === 1 ? 'one 4 KiB page' : `${v.k} pages (the most common state)`;
    const row = v.k === 1 ? 'one 2 MiB pageblock' : `${v.k * 2} MiB`;
    const zoom = this.magnify > 1 ? `, ${this.magnify}× magnified` : '';
    return `a cell is ${pages}, a row ${row}${zoom}; rows ${v.row0}..${v.row0 + v.rows - 1}`;
  }
}

/** Draw a rendered view onto a canvas of the overview's size. */
export function drawMap(canvas: HTMLCanvasElement, map: Uint8Array, v: MapView, rows: number): void {
  const m = MAP_COLS / v.cols;
  if (canvas.width !== MAP_COLS || canvas.height !== rows) {
    canvas.width = MAP_COLS;
    canvas.height = rows;
  }
  const ctx = canvas.getContext('2d')!;
  const img = new ImageData(MAP_COLS, rows);
  const px = new Uint32Array(img.data.buffer);
  // Cell (r, c) covers m × m canvas pixels; the checker alternates per cell, so it shows at every zoom.
  for (let y = 0; y < rows; y++) {
    const r = Math.floor(y / m);
    if (r >= v.rows) break;
    for (let x = 0; x < MAP_COLS; x++) {
      const c = Math.floor(x / m);
      const code = map[r * v.cols + c]!;
      px[y * MAP_COLS + x] = (r + c) & 1 ? ALT[code]! : MAIN[code]!;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** The cell of a view under a mouse event on the canvas, or null. */
export function cellAt(canvas: HTMLCanvasElement, v: MapView, ev: MouseEvent): { row: number; col: number; fx: number; fy: number } | null {
  const r = canvas.getBoundingClientRect();
  const fx = (ev.clientX - r.left) / r.width;
  const fy = (ev.clientY - r.top) / r.height;
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return null;
  const m = MAP_COLS / v.cols;
  const col = Math.floor((fx * canvas.width) / m);
  const row = Math.floor((fy * canvas.height) / m);
  if (row >= v.rows || col >= v.cols) return null;
  return { row, col, fx, fy };
}

/** A CSS background for a legend swatch: the colour, or the checker of two. */
export function swatchCss(color: string, alt?: string): string {
  return alt ? `repeating-conic-gradient(${color} 0 25%, ${alt} 0 50%) 0 0 / 6px 6px` : color;
}

/** What the hover line says about a page: its zone, its block (kind, order, head, migratetype, Reported, cpu). */
export function mapInfoText(g: GuestInfo, pfn: number, k: number, code: number, s: PfnState | null): string {
  const zone = g.zones.find((z) => pfn >= z.startPfn && pfn < z.endPfn)?.name ?? 'no zone';
  const label = MAP_LEGEND.find((l) => l.code === code)?.label ?? '?';
  const cell = k > 1 ? `pages ${pfn}–${pfn + k - 1} (cell of ${k}, mostly ${label}); first page: ` : '';
  let what = '';
  if (s) {
    const mt = (n: number) => (n >= 0 ? MIGRATE_NAMES[n] ?? String(n) : '?');
    const block = `order ${s.order} block at pfn ${s.head}`;
    switch (s.kind) {
      case 'free': what = `<b>free</b>, ${block}${s.reported ? ', <b>Reported</b>' : ', not reported'}`; break;
      case 'allocated': what = `<b>allocated</b>, ${block} (${mt(s.mt)})`; break;
      case 'inflight': what = `<b>in flight</b> (isolated for a report), ${block}`; break;
      case 'pcp': what = `<b>per-cpu list</b> of cpu ${s.cpu} (${mt(s.mt)} list), ${block}`; break;
      default: what = '<b>hole</b> (not present)';
    }
    what += ` · pageblock ${Math.floor(pfn / PAGEBLOCK_PAGES)} (${mt(s.pageblockMt)})`;
  } else what = label;
  return `${cell}pfn <b>${pfn}</b> (0x${pfn.toString(16)}) · ${zone} · ${what}`;
}
