// Hand-written SVG charts for the HTML report and the browser page: a line chart (step or straight) and a bar
// chart with grouped bars, each a self-contained <svg> string. Layout is worked out from estimated text widths so
// that no two labels overlap at any width from 320 px: the title, then the legend wrapped into rows, then lanes
// for the time marks, then the plot with as many ticks as fit.
//
// Lines that coincide must both stay visible: a series has its own dash pattern and width, and the widest is
// drawn first, so a thin dashed line lies on top of a wide solid one.

export interface Series {
  name: string;
  color: string;
  /** [x, y] points, x ascending. */
  points: Array<[number, number]>;
  /** SVG stroke-dasharray ('' or undefined: solid). */
  dash?: string;
  /** Stroke width (default 2). */
  width?: number;
}

export type Theme = 'light' | 'dark';

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Draw horizontal-then-vertical steps (a counter sampled at intervals) instead of straight segments. */
  step?: boolean;
  /** x range (default: the data's). */
  xMin?: number;
  xMax?: number;
  /** Smallest y axis top (default: the data's maximum). */
  yMin?: number;
  /** Vertical marks with a label: [x, label]. */
  marks?: Array<[number, string]>;
  /** A vertical line at this x (the page's "now"). */
  now?: number;
  theme?: Theme;
  /** Prefix for element ids (several charts in one document). */
  id?: string;
}

export interface BarSeries {
  name: string;
  color: string;
  values: number[];
  /** 'solid' (default), or 'hatched' (diagonal lines in the colour, outlined): a second cue beside the colour. */
  fill?: 'solid' | 'hatched';
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  width?: number;
  height?: number;
  /** Logarithmic y axis (bars of zero are left out). */
  log?: boolean;
  theme?: Theme;
  id?: string;
}

/** Colour-blind-safe palette (Okabe–Ito), in the order guests get them. */
export const PALETTE = ['#E69F00', '#0072B2', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];
/** Dash patterns in the same order: the first solid and widest, then thinner dashes drawn on top. */
const DASHES = ['', '7 4', '2 3', '10 3 2 3', '4 4', '1 2'];
const WIDTHS = [3.5, 2, 2, 1.75, 1.75, 1.5];

/** The look of the i-th series of a comparison. */
export function seriesStyle(i: number): { color: string; dash: string; width: number } {
  return { color: PALETTE[i % PALETTE.length]!, dash: DASHES[i % DASHES.length]!, width: WIDTHS[i % WIDTHS.length]! };
}

export const THEMES: Record<Theme, { bg: string; text: string; dim: string; grid: string; axis: string; mark: string }> = {
  light: { bg: '#ffffff', text: '#111111', dim: '#444444', grid: '#e5e5e5', axis: '#333333', mark: '#888888' },
  dark: { bg: '#161b22', text: '#c9d1d9', dim: '#8b949e', grid: '#2a313a', axis: '#8b949e', mark: '#6e7681' },
};

const FONT = 12;
const TITLE_FONT = 14;
/** Generous width of a character (system-ui at 12 px averages about 6.2 px; digits 6.7). */
const charWidth = (font = FONT) => font * 0.62;
export const textWidth = (s: string, font = FONT) => s.length * charWidth(font);

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
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

const fmtTick = (v: number) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a > 0 && a < 0.01) return v.toExponential(0);
  return Number(v.toPrecision(4)).toString();
};
const r2 = (v: number) => Math.round(v * 100) / 100;

/** Words of `s` in lines of at most `width` px. */
function wrap(s: string, width: number, font: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, font) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

interface Header {
  svg: string;
  /** y where the plot may start. */
  bottom: number;
}

interface LegendItem { name: string; color: string; dash?: string; width?: number; fill?: 'solid' | 'hatched'; patternId?: string }

/** Title (wrapped), then the legend in rows that fit the width. */
function header(title: string, items: LegendItem[], W: number, left: number, th: (typeof THEMES)[Theme]): Header {
  let y = 4;
  let svg = '';
  for (const line of wrap(title, W - left - 8, TITLE_FONT)) {
    y += TITLE_FONT + 4;
    svg += `<text x="${left}" y="${y}" font-size="${TITLE_FONT}" font-weight="600" fill="${th.text}">${escapeXml(line)}</text>\n`;
  }
  y += 6;
  let x = left;
  let rowY = y + FONT;
  const gap = 14;
  for (const it of items) {
    const w = 26 + textWidth(it.name);
    if (x > left && x + w > W - 8) {
      x = left;
      rowY += FONT + 6;
    }
    const swatch = it.fill
      ? `<rect x="0" y="-9" width="18" height="10" fill="${it.fill === 'hatched' ? `url(#${it.patternId})` : it.color}" stroke="${it.color}"/>`
      : `<line x1="0" y1="-4" x2="20" y2="-4" stroke="${it.color}" stroke-width="${it.width ?? 2}"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`;
    svg += `<g transform="translate(${r2(x)} ${rowY})">${swatch}<text x="26" y="0" fill="${th.text}">${escapeXml(it.name)}</text></g>\n`;
    x += w + gap;
  }
  return { svg, bottom: items.length ? rowY + 6 : y };
}

/** Width of the y axis labels column. */
function yLabelRoom(labels: string[]): number {
  return Math.max(...labels.map((l) => textWidth(l)), 10) + 8;
}

/** The <svg> element and its background: every chart's (the page's pass timeline too). */
export function svgOpen(W: number, H: number, title: string, th: (typeof THEMES)[Theme], extra = ''): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="${FONT}" role="img" aria-label="${escapeXml(title)}"${extra}>
<rect width="${W}" height="${H}" fill="${th.bg}"/>\n`;
}

/** Geometry of a plot, written on the <svg> as data attributes so the page can read values under the mouse. */
export function plotAttrs(x0: number, x1: number, y0: number, y1: number, xLo: number, xHi: number, yLo: number, yHi: number, log = false): string {
  return ` data-plot="${r2(x0)} ${r2(y1)} ${r2(x1)} ${r2(y0)}" data-domain="${xLo} ${xHi} ${yLo} ${yHi}"${log ? ' data-log="1"' : ''}`;
}

/** Labels along a line with widths, in lanes: each goes into the first lane where it overlaps nothing. */
function lanes(items: Array<{ x: number; w: number }>): number[] {
  const ends: number[] = [];
  return items.map(({ x, w }) => {
    const from = x - w / 2;
    let lane = ends.findIndex((e) => e + 6 <= from);
    if (lane < 0) {
      lane = ends.length;
      ends.push(-Infinity);
    }
    ends[lane] = x + w / 2;
    return lane;
  });
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 960, H = o.height ?? 320;
  const th = THEMES[o.theme ?? 'light'];
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const xLo = o.xMin ?? (xs.length ? Math.min(...xs) : 0);
  const xHi = Math.max(o.xMax ?? (xs.length ? Math.max(...xs) : 1), xLo + 1e-9);
  const yTicks = niceTicks(0, Math.max(o.yMin ?? 1, ...ys), H < 240 ? 4 : 5);
  const yHi = yTicks[yTicks.length - 1]!;
  const yTickText = yTicks.map(fmtTick);
  const left = 22 + yLabelRoom(yTickText);
  const right = 12;
  const items = o.series.map((s) => ({ name: s.name, color: s.color, dash: s.dash ?? '', width: s.width ?? 2 }));
  const head = header(o.title, items, W, left, th);
  // Marks: labels in lanes above the plot.
  const pw0 = W - left - right;
  const sxRaw = (x: number) => left + ((x - xLo) / (xHi - xLo)) * pw0;
  const marks = (o.marks ?? []).filter(([x]) => x >= xLo && x <= xHi);
  // A label stays over the plot, clear of the y axis labels.
  const markX = marks.map(([x, l]) => Math.min(W - right - textWidth(l, 11) / 2, Math.max(left + textWidth(l, 11) / 2, sxRaw(x))));
  const markLane = lanes(marks.map(([, l], i) => ({ x: markX[i]!, w: textWidth(l, 11) })));
  const nLanes = marks.length ? Math.max(...markLane) + 1 : 0;
  const top = head.bottom + nLanes * 14 + 10;
  const bottom = H - 44;
  const plotH = Math.max(20, bottom - top);
  const sx = sxRaw;
  const sy = (y: number) => bottom - (y / (yHi || 1)) * plotH;

  let body = '';
  // grid, y ticks
  yTicks.forEach((v, i) => {
    const y = r2(sy(v));
    body += `<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" stroke="${th.grid}"/><text x="${left - 6}" y="${r2(y + 4)}" text-anchor="end" fill="${th.dim}">${escapeXml(yTickText[i]!)}</text>\n`;
  });
  // x ticks: as many as fit without touching
  const xCount = Math.max(2, Math.floor(pw0 / 56));
  const xTicks = niceTicks(xLo, xHi, xCount).filter((x) => x <= xHi + 1e-9);
  for (const x of xTicks) {
    const px = r2(sx(x));
    body += `<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 5}" stroke="${th.axis}"/><text x="${px}" y="${bottom + 16}" text-anchor="middle" fill="${th.dim}">${escapeXml(fmtTick(x))}</text>\n`;
  }
  // marks
  marks.forEach(([x, label], i) => {
    const px = r2(sx(x));
    const ly = top - 10 - markLane[i]! * 14;
    body += `<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="${th.mark}" stroke-dasharray="3 3"/><text x="${r2(markX[i]!)}" y="${ly}" text-anchor="middle" font-size="11" fill="${th.dim}">${escapeXml(label)}</text>\n`;
  });
  body += `<line x1="${left}" x2="${W - right}" y1="${bottom}" y2="${bottom}" stroke="${th.axis}"/><line x1="${left}" x2="${left}" y1="${bottom}" y2="${top}" stroke="${th.axis}"/>\n`;
  // Series, widest first, so that a thinner dashed line lies on top of a wider one it coincides with.
  const order = o.series.map((s, i) => ({ s, i, w: s.width ?? 2 })).sort((a, b) => b.w - a.w || a.i - b.i);
  for (const { s } of order) {
    if (!s.points.length) continue;
    let d = '';
    s.points.forEach(([x, y], i) => {
      if (i === 0) d += `M${r2(sx(x))} ${r2(sy(y))}`;
      else if (o.step) d += `H${r2(sx(x))}V${r2(sy(y))}`;
      else d += `L${r2(sx(x))} ${r2(sy(y))}`;
    });
    body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}" stroke-linejoin="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} data-series="${escapeXml(s.name)}"/>\n`;
  }
  if (o.now !== undefined && o.now > xLo && o.now < xHi) {
    body += `<line x1="${r2(sx(o.now))}" x2="${r2(sx(o.now))}" y1="${top}" y2="${bottom}" stroke="${th.text}" stroke-opacity="0.35"/>\n`;
  }
  const axisLabels = `<text x="${r2(left + pw0 / 2)}" y="${H - 8}" text-anchor="middle" fill="${th.text}">${escapeXml(o.xLabel)}</text>
<text transform="translate(14 ${r2(top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="${th.text}">${escapeXml(o.yLabel)}</text>\n`;
  return svgOpen(W, H, o.title, th, plotAttrs(left, W - right, bottom, top, xLo, xHi, 0, yHi)) + head.svg + body + axisLabels + '</svg>';
}

export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 960, H = o.height ?? 320;
  const th = THEMES[o.theme ?? 'light'];
  const id = o.id ?? 'bars';
  const values = o.series.flatMap((s) => s.values);
  const positive = values.filter((v) => v > 0);
  let yTicks: number[];
  const log = o.log && positive.length > 0;
  if (log) yTicks = logTicks(Math.min(...positive), Math.max(...positive));
  else yTicks = niceTicks(0, Math.max(1e-9, ...values), 4);
  const yTickText = yTicks.map(fmtTick);
  const left = 22 + yLabelRoom(yTickText);
  const right = 12;
  const patterns = o.series.map((s, k) => (s.fill === 'hatched'
    ? `<pattern id="${id}-hatch-${k}" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="${th.bg}"/><line x1="0" y1="0" x2="0" y2="5" stroke="${s.color}" stroke-width="2.5"/></pattern>`
    : '')).join('');
  const items: LegendItem[] = o.series.map((s, k) => ({ name: s.name, color: s.color, fill: s.fill ?? 'solid', patternId: `${id}-hatch-${k}` }));
  const head = header(o.title, items, W, left, th);
  const top = head.bottom + 10;
  const bottom = H - 44;
  const plotH = Math.max(20, bottom - top);
  let sy: (y: number) => number;
  if (log) {
    const lo = Math.log10(yTicks[0]!), hi = Math.log10(yTicks[yTicks.length - 1]!);
    sy = (y: number) => (y <= 0 ? bottom : bottom - ((Math.log10(y) - lo) / (hi - lo || 1)) * plotH);
  } else {
    const yHi = yTicks[yTicks.length - 1]!;
    sy = (y: number) => bottom - (y / (yHi || 1)) * plotH;
  }
  const pw = W - left - right;
  const band = pw / Math.max(1, o.categories.length);
  const barW = (band * 0.84) / Math.max(1, o.series.length);
  let body = patterns ? `<defs>${patterns}</defs>\n` : '';
  yTicks.forEach((v, i) => {
    const y = r2(sy(v));
    body += `<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" stroke="${th.grid}"/><text x="${left - 6}" y="${r2(y + 4)}" text-anchor="end" fill="${th.dim}">${escapeXml(yTickText[i]!)}</text>\n`;
  });
  o.series.forEach((s, k) => {
    s.values.forEach((v, c) => {
      if (v <= 0 || (log && v <= 0)) return;
      const x = left + c * band + band * 0.08 + k * barW;
      const y = Math.max(top, sy(v));
      const fill = s.fill === 'hatched' ? `url(#${id}-hatch-${k})` : s.color;
      body += `<rect x="${r2(x)}" y="${r2(y)}" width="${r2(Math.max(1, barW - 1))}" height="${r2(Math.max(0.5, bottom - y))}" fill="${fill}" stroke="${s.color}" stroke-width="1" data-series="${escapeXml(s.name)}"><title>${escapeXml(`${s.name}, ${o.xLabel} ${o.categories[c]}: ${fmtTick(v)}`)}</title></rect>\n`;
    });
  });
  // Category labels: every one if they fit, else every other.
  const every = band >= textWidth('10') + 4 ? 1 : 2;
  o.categories.forEach((c, i) => {
    if (i % every) return;
    body += `<text x="${r2(left + (i + 0.5) * band)}" y="${bottom + 16}" text-anchor="middle" fill="${th.dim}">${escapeXml(c)}</text>\n`;
  });
  body += `<line x1="${left}" x2="${W - right}" y1="${bottom}" y2="${bottom}" stroke="${th.axis}"/><line x1="${left}" x2="${left}" y1="${bottom}" y2="${top}" stroke="${th.axis}"/>\n`;
  const axisLabels = `<text x="${r2(left + pw / 2)}" y="${H - 8}" text-anchor="middle" fill="${th.text}">${escapeXml(o.xLabel)}</text>
<text transform="translate(14 ${r2(top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="${th.text}">${escapeXml(o.yLabel)}</text>\n`;
  const lo = yTicks[0]!, hi = yTicks[yTicks.length - 1]!;
  return svgOpen(W, H, o.title, th, plotAttrs(left, W - right, bottom, top, 0, o.categories.length, log ? lo : 0, hi, log)) + head.svg + body + axisLabels + '</svg>';
}
