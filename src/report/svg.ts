// Small hand-written SVG charts for the HTML report: a line chart (step or straight) and a grouped bar chart,
// with round-number axis ticks, grid lines and a legend. Output is a self-contained <svg> string.

export interface Series {
  name: string;
  color: string;
  /** [x, y] points, x ascending. */
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Draw horizontal-then-vertical steps (a counter sampled at intervals) instead of straight segments. */
  step?: boolean;
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: Array<{ name: string; color: string; values: number[] }>;
  width?: number;
  height?: number;
  /** Logarithmic y axis (bars of zero are left out). */
  log?: boolean;
}

/** Colour-blind-safe palette (Okabe–Ito), one colour per guest in column order. */
export const PALETTE = ['#000000', '#E69F00', '#0072B2', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442'];

const M = { left: 72, right: 16, top: 40, bottom: 48 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // The last tick is the first at or above `hi`, so the axis always covers the data.
  for (let v = Math.ceil(lo / step - 1e-9) * step; ; v += step) {
    out.push(Number(v.toPrecision(12)));
    if (v >= hi - step * 1e-9) break;
  }
  return out;
}

/** Powers of ten covering [lo, hi] (lo > 0), for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

const fmtTick = (v: number) => (Math.abs(v) >= 1e4 ? v.toExponential(1) : Number(v.toPrecision(6)).toString());
const r2 = (v: number) => Math.round(v * 100) / 100;

function frame(o: { title: string; xLabel: string; yLabel: string; width: number; height: number }, body: string, legend: string): string {
  const { width: W, height: H } = o;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(o.title)}">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${M.left}" y="22" font-size="15" font-weight="600">${escapeXml(o.title)}</text>
${body}
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>
<text transform="translate(16 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>
${legend}
</svg>`;
}

function legendFor(items: Array<{ name: string; color: string; dashed?: boolean }>, W: number): string {
  // Right-aligned row above the plot, each entry a short line and its name.
  const widths = items.map((i) => 28 + i.name.length * 7);
  let x = W - M.right - widths.reduce((a, b) => a + b + 12, 0);
  return items.map((it, k) => {
    const g = `<g transform="translate(${r2(x)} 20)"><line x1="0" y1="-4" x2="20" y2="-4" stroke="${it.color}" stroke-width="3"${it.dashed ? ' stroke-dasharray="6 3"' : ''}/><text x="26" y="0">${escapeXml(it.name)}</text></g>`;
    x += widths[k]! + 12;
    return g;
  }).join('\n');
}

function axes(W: number, H: number, xTicks: Array<[number, string]>, yTicks: Array<[number, string]>): string {
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  const grid = yTicks.map(([y, t]) => `<line x1="${x0}" x2="${x1}" y1="${r2(y)}" y2="${r2(y)}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${r2(y + 4)}" text-anchor="end">${escapeXml(t)}</text>`).join('\n');
  const xt = xTicks.map(([x, t]) => `<line x1="${r2(x)}" x2="${r2(x)}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/><text x="${r2(x)}" y="${y0 + 18}" text-anchor="middle">${escapeXml(t)}</text>`).join('\n');
  return `${grid}\n${xt}\n<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#333"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/>`;
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 960, H = o.height ?? 320;
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const xLo = xs.length ? Math.min(...xs) : 0, xHi = xs.length ? Math.max(...xs) : 1;
  const yTicks = niceTicks(0, Math.max(1e-9, ...ys));
  const yHi = yTicks[yTicks.length - 1]!;
  const sx = (x: number) => M.left + ((x - xLo) / (xHi - xLo || 1)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - (y / (yHi || 1)) * (H - M.top - M.bottom);
  // Dashed series go on top: where two series coincide, the dashes let the solid one show through.
  const order = [...o.series.filter((s) => !s.dashed), ...o.series.filter((s) => s.dashed)];
  const lines = order.map((s) => {
    let d = '';
    s.points.forEach(([x, y], i) => {
      if (i === 0) d += `M${r2(sx(x))} ${r2(sy(y))}`;
      else if (o.step) d += `H${r2(sx(x))}V${r2(sy(y))}`;
      else d += `L${r2(sx(x))} ${r2(sy(y))}`;
    });
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''} data-series="${escapeXml(s.name)}"/>`;
  }).join('\n');
  const body = axes(W, H, niceTicks(xLo, xHi, 8).map((x) => [sx(x), fmtTick(x)]), yTicks.map((y) => [sy(y), fmtTick(y)])) + '\n' + lines;
  return frame({ ...o, width: W, height: H }, body, legendFor(o.series, W));
}

export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 960, H = o.height ?? 320;
  const values = o.series.flatMap((s) => s.values);
  const plotH = H - M.top - M.bottom;
  let yTicks: number[];
  let sy: (y: number) => number;
  const positive = values.filter((v) => v > 0);
  if (o.log && positive.length) {
    // One bar can be a thousand times the next (order 10 against the rest): a log axis shows both.
    yTicks = logTicks(Math.min(...positive), Math.max(...positive));
    const lo = Math.log10(yTicks[0]!), hi = Math.log10(yTicks[yTicks.length - 1]!);
    sy = (y: number) => (y <= 0 ? H - M.bottom : H - M.bottom - ((Math.log10(y) - lo) / (hi - lo || 1)) * plotH);
  } else {
    yTicks = niceTicks(0, Math.max(1e-9, ...values));
    const yHi = yTicks[yTicks.length - 1]!;
    sy = (y: number) => H - M.bottom - (y / (yHi || 1)) * plotH;
  }
  const band = (W - M.left - M.right) / Math.max(1, o.categories.length);
  const barW = (band * 0.8) / Math.max(1, o.series.length);
  const bars = o.series.map((s, k) => s.values.map((v, c) => {
    if (o.log && v <= 0) return '';
    const x = M.left + c * band + band * 0.1 + k * barW;
    return `<rect x="${r2(x)}" y="${r2(sy(v))}" width="${r2(Math.max(1, barW - 1))}" height="${r2(sy(0) - sy(v))}" fill="${s.color}"><title>${escapeXml(`${s.name}, ${o.categories[c]}: ${fmtTick(v)}`)}</title></rect>`;
  }).join('')).join('\n');
  const xTicks = o.categories.map((c, i): [number, string] => [M.left + (i + 0.5) * band, c]);
  const body = axes(W, H, xTicks, yTicks.map((y) => [sy(y), fmtTick(y)])) + '\n' + bars;
  return frame({ ...o, width: W, height: H }, body, legendFor(o.series, W));
}
