// The page's charts: SVG from the same chart code as the HTML report (src/report/svg.ts), sized to their box and
// redrawn as data arrives, with a readout of the values under the mouse. Each chart can be saved as SVG or PNG.
import { escapeXml, plotAttrs, seriesStyle, svgOpen, textWidth, THEMES } from '../report/svg.js';
import { NR_ORDERS } from '../core/types.js';
import type { CallInfo, PassInfo } from './protocol.js';

/** A chart on the page: a figure whose .plot holds the SVG; hover shows `readout(x)` at that x. */
export class LiveChart {
  svg = '';
  private readonly plot: HTMLElement;
  private readonly tip: HTMLElement;
  private readonly cursor: HTMLElement;

  constructor(
    readonly fig: HTMLElement,
    private readonly render: (width: number) => string,
    /** Text for the data x under the mouse (time in s, or a category index), or null for none. */
    private readonly readout: (x: number) => string | null,
  ) {
    this.plot = fig.querySelector('.plot') as HTMLElement;
    this.tip = document.createElement('div');
    this.tip.className = 'readout';
    this.tip.setAttribute('role', 'status');
    this.cursor = document.createElement('div');
    this.cursor.className = 'cursor';
    this.plot.append(this.tip, this.cursor);
    this.plot.addEventListener('mousemove', (ev) => this.hover(ev));
    this.plot.addEventListener('mouseleave', () => this.hide());
    // Redrawn at its new width whenever its box changes (window size, a scroll bar, a panel opening).
    let width = 0;
    new ResizeObserver(() => {
      if (this.plot.clientWidth !== width && this.svg) {
        width = this.plot.clientWidth;
        this.draw();
      }
    }).observe(this.plot);
  }

  draw(): void {
    const width = Math.max(300, Math.floor(this.plot.clientWidth || 600));
    const svg = this.render(width);
    if (svg === this.svg) return;
    this.svg = svg;
    const old = this.plot.querySelector('svg');
    const holder = document.createElement('div');
    holder.innerHTML = svg;
    const el = holder.firstElementChild!;
    if (old) old.replaceWith(el);
    else this.plot.prepend(el);
  }

  private hide(): void {
    this.tip.style.display = 'none';
    this.cursor.style.display = 'none';
  }

  private hover(ev: MouseEvent): void {
    const svg = this.plot.querySelector('svg');
    if (!svg) return;
    const [px0, py0, px1, py1] = (svg.getAttribute('data-plot') ?? '').split(' ').map(Number) as [number, number, number, number];
    const [xLo, xHi] = (svg.getAttribute('data-domain') ?? '').split(' ').map(Number) as [number, number];
    const r = svg.getBoundingClientRect();
    const scale = r.width / Number(svg.getAttribute('width'));
    const x = (ev.clientX - r.left) / scale;
    if (!(x >= px0 && x <= px1)) return this.hide();
    const text = this.readout(xLo + ((x - px0) / (px1 - px0)) * (xHi - xLo));
    if (!text) return this.hide();
    this.tip.innerHTML = text;
    this.tip.style.display = 'block';
    const plotBox = this.plot.getBoundingClientRect();
    const left = ev.clientX - plotBox.left;
    this.tip.style.left = `${Math.min(Math.max(4, left + 12), Math.max(4, plotBox.width - this.tip.offsetWidth - 4))}px`;
    this.tip.style.top = `${py0 * scale + 4}px`;
    this.cursor.style.display = 'block';
    this.cursor.style.left = `${left}px`;
    this.cursor.style.top = `${py0 * scale}px`;
    this.cursor.style.height = `${(py1 - py0) * scale}px`;
  }
}

/** Index of the last element of ascending `xs` at or before x (-1 when none). */
export function indexAt(xs: readonly number[], x: number): number {
  let lo = 0, hi = xs.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** A pass as the timeline shows it: ended, or still running (end undefined). */
export interface TimelinePass { pass: number; start: number; end?: number; calls: CallInfo[]; pages: number; blocks: number }

/** Passes of a guest from its ended passes and its report() calls (a running pass has calls but no record yet). */
export function timelinePasses(passes: readonly PassInfo[], calls: readonly CallInfo[]): TimelinePass[] {
  const byPass = new Map<number, CallInfo[]>();
  for (const c of calls) {
    const list = byPass.get(c.pass);
    if (list) list.push(c);
    else byPass.set(c.pass, [c]);
  }
  const out: TimelinePass[] = passes.map((p) => ({ pass: p.pass, start: p.start, end: p.end, calls: byPass.get(p.pass) ?? [], pages: p.pages, blocks: p.blocks }));
  const last = passes[passes.length - 1]?.pass ?? -1;
  for (const [pass, cs] of byPass) {
    if (pass > last) {
      const ok = cs.filter((c) => c.status === 0);
      out.push({ pass, start: cs[0]!.t, calls: cs, pages: ok.reduce((a, c) => a + c.pages, 0), blocks: ok.reduce((a, c) => a + c.blocks, 0) });
    }
  }
  return out;
}

/**
 * The pass whose span [start, end] is nearest `xS` (seconds), within `tolS`: a pass under the mouse (distance 0)
 * always wins over a neighbour whose start is nearer.
 */
export function passNear(passes: readonly TimelinePass[], xS: number, tolS: number): TimelinePass | null {
  let best: TimelinePass | null = null;
  let bestD = Infinity;
  for (const p of passes) {
    const s = p.start / 1000, e = (p.end ?? p.start) / 1000;
    const d = xS < s ? s - xS : xS > e ? xS - e : 0;
    if (d <= tolS && d < bestD) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

/** "order 10 × 64, order 9 × 2" for blocks by order. */
export function ordersText(calls: readonly CallInfo[]): string {
  const by = new Array<number>(NR_ORDERS).fill(0);
  for (const c of calls) if (c.status === 0) c.byOrder.forEach((n, o) => (by[o]! += n));
  const parts = by.map((n, o) => [o, n] as const).filter(([, n]) => n > 0).reverse().map(([o, n]) => `order ${o} × ${n}`);
  return parts.join(', ') || 'no blocks';
}

export function passText(name: string, p: TimelinePass): string {
  const ms = p.end === undefined ? 'running' : `${Math.max(0, p.end - p.start).toFixed(1)} ms`;
  const failed = p.calls.filter((c) => c.status !== 0).length;
  return `<b>${escapeXml(name)}</b>, pass ${p.pass + 1}: starts ${(p.start / 1000).toFixed(3)} s (${ms}); ${p.calls.length} report() call${p.calls.length === 1 ? '' : 's'}${failed ? ` (${failed} failed)` : ''}; ${p.blocks} blocks (${ordersText(p.calls)}); ${(p.pages / 256).toFixed(1)} MiB`;
}

/**
 * The pass timeline: a lane per guest, each pass a bar from its start (at least 3 px wide, since a pass takes
 * milliseconds) with a tick per report() call. Same x scale and plot geometry attributes as the line charts.
 */
export function timelineSvg(
  width: number, durationS: number, lanes: Array<{ name: string; passes: TimelinePass[]; note?: string }>, nowS: number,
): string {
  const W = width, laneH = 26;
  const th = THEMES.dark;
  // The lane's letter (A, B) sits in the left margin.
  const left = 22;
  const right = 12;
  const top = 26;
  const H = top + lanes.length * laneH + 40;
  const pw = W - left - right;
  const sx = (t: number) => left + (t / durationS) * pw;
  const longTitle = 'Reporting passes (bar: a pass; tick: a report() call)';
  const title = textWidth(longTitle, 14) > W - left - 8 ? 'Reporting passes' : longTitle;
  let body = `<text x="${left}" y="18" font-size="14" font-weight="600" fill="${th.text}">${title}</text>\n`;
  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    const st = seriesStyle(i);
    body += `<text x="4" y="${y + laneH / 2 + 4}" fill="${th.text}">${'AB'[i] ?? i}</text>\n`;
    body += `<line x1="${left}" x2="${W - right}" y1="${y + laneH / 2}" y2="${y + laneH / 2}" stroke="${th.grid}"/>\n`;
    if (!lane.passes.length && lane.note) {
      body += `<text x="${left + 6}" y="${y + laneH / 2 - 3}" font-size="11" fill="${th.dim}">${escapeXml(lane.note)}</text>\n`;
    }
    for (const p of lane.passes) {
      const x0 = sx(p.start / 1000);
      const x1 = Math.max(x0 + 3, sx((p.end ?? p.start) / 1000));
      body += `<rect x="${x0.toFixed(2)}" y="${y + 4}" width="${(x1 - x0).toFixed(2)}" height="${laneH - 8}" fill="${st.color}" fill-opacity="${p.end === undefined ? 0.45 : 0.9}" stroke="${st.color}" data-pass="${p.pass}" data-guest="${i}"/>\n`;
      for (const c of p.calls) {
        const cx = sx(c.t / 1000);
        body += `<line x1="${cx.toFixed(2)}" x2="${cx.toFixed(2)}" y1="${y + 1}" y2="${y + laneH - 1}" stroke="${c.status === 0 ? '#f0f6fc' : '#ff4d6d'}" stroke-width="1"/>\n`;
      }
    }
  });
  const bottom = top + lanes.length * laneH;
  const step = pw / durationS * 5 >= 34 ? 5 : pw / durationS * 10 >= 34 ? 10 : 20;
  for (let t = 0; t <= durationS + 1e-9; t += step) {
    body += `<line x1="${sx(t).toFixed(2)}" x2="${sx(t).toFixed(2)}" y1="${bottom}" y2="${bottom + 5}" stroke="${th.axis}"/><text x="${sx(t).toFixed(2)}" y="${bottom + 17}" text-anchor="middle" fill="${th.dim}">${t}</text>\n`;
  }
  body += `<text x="${(left + pw / 2).toFixed(2)}" y="${H - 6}" text-anchor="middle" fill="${th.text}">simulated time (s)</text>\n`;
  if (nowS > 0 && nowS < durationS) body += `<line x1="${sx(nowS).toFixed(2)}" x2="${sx(nowS).toFixed(2)}" y1="${top}" y2="${bottom}" stroke="${th.text}" stroke-opacity="0.35"/>\n`;
  return svgOpen(W, H, 'reporting passes', th, plotAttrs(left, W - right, bottom, top, 0, durationS, 0, lanes.length)) + body + '</svg>';
}

/** An SVG string as a PNG (drawn at 2x on a canvas). */
export async function svgToPng(svg: string): Promise<Blob> {
  const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? 800);
  const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? 300);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    await new Promise<void>((ok, fail) => {
      img.onload = () => ok();
      img.onerror = () => fail(new Error('the SVG could not be drawn'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = w * 2;
    canvas.height = h * 2;
    const ctx = canvas.getContext('2d')!;
    ctx.scale(2, 2);
    ctx.drawImage(img, 0, 0, w, h);
    return await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('no PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
