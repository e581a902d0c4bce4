// Small hand-written canvas charts (no dependencies): a time series chart and a grouped bar chart.

export interface Series {
  label: string;
  color: string;
}

const FONT = '11px ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif';
const AXIS = '#8b949e';
const GRID = 'rgba(139, 148, 158, 0.16)';
const TEXT = '#c9d1d9';

/** Size the backing store to the element's CSS size × devicePixelRatio; returns a context in CSS pixels. */
function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = Math.max(1, globalThis.devicePixelRatio || 1);
  const w = Math.max(50, canvas.clientWidth || canvas.width);
  const h = Math.max(50, canvas.clientHeight || canvas.height);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return { ctx, w, h };
}

/** 1, 2, 2.5, 5 × 10^k at or above x. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * 0.999999) return m * p;
  return 10 * p;
}

export function formatCount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  return `${+v.toFixed(a < 10 && a % 1 ? 1 : 0)}`;
}

const PAD = { l: 52, r: 12, t: 26, b: 24 };

function legend(ctx: CanvasRenderingContext2D, series: Series[], w: number): void {
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  let x = w - PAD.r;
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i]!;
    const tw = ctx.measureText(s.label).width;
    x -= tw;
    ctx.fillStyle = TEXT;
    ctx.fillText(s.label, x, 11);
    x -= 14;
    ctx.fillStyle = s.color;
    ctx.fillRect(x, 7, 10, 8);
    x -= 14;
  }
}

/** A chart of values over simulated time, one line per series. */
export class TimeChart {
  private xs: number[][];
  private ys: number[][];
  xMaxS = 40;
  nowS = 0;
  marks: Array<[number, string]> = [];

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly title: string,
    public series: Series[],
    readonly opts: { yMax?: number; format?: (v: number) => string; unit?: string } = {},
  ) {
    this.xs = series.map(() => []);
    this.ys = series.map(() => []);
  }

  reset(series: Series[], xMaxS: number, marks: Array<[number, string]>, yMax?: number): void {
    this.series = series;
    this.xs = series.map(() => []);
    this.ys = series.map(() => []);
    this.xMaxS = xMaxS;
    this.marks = marks;
    this.nowS = 0;
    if (yMax !== undefined) this.opts.yMax = yMax;
    this.canvas.dataset.points = '0';
  }

  push(i: number, tS: number, y: number): void {
    this.xs[i]!.push(tS);
    this.ys[i]!.push(y);
  }

  points(): number {
    return this.xs.reduce((a, x) => a + x.length, 0);
  }

  draw(): void {
    const { ctx, w, h } = prepare(this.canvas);
    const fmt = this.opts.format ?? formatCount;
    const pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b;
    let yMax = this.opts.yMax ?? 0;
    if (this.opts.yMax === undefined) for (const ys of this.ys) for (const y of ys) if (y > yMax) yMax = y;
    yMax = this.opts.yMax ?? niceCeil(yMax || 1);
    const X = (t: number) => PAD.l + (t / this.xMaxS) * pw;
    const Y = (v: number) => PAD.t + ph - (v / yMax) * ph;

    ctx.fillStyle = TEXT;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.font = `600 ${FONT}`;
    ctx.fillText(this.title + (this.opts.unit ? ` (${this.opts.unit})` : ''), 4, 11);
    ctx.font = FONT;
    legend(ctx, this.series, w);

    // grid and y ticks
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.fillStyle = AXIS;
    ctx.textAlign = 'right';
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.l, y);
      ctx.lineTo(PAD.l + pw, y);
      ctx.stroke();
      ctx.fillText(fmt(v), PAD.l - 6, y);
    }
    // x ticks (seconds)
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = this.xMaxS > 60 ? 20 : this.xMaxS > 20 ? 5 : 2;
    for (let t = 0; t <= this.xMaxS + 1e-9; t += step) ctx.fillText(`${t}s`, X(t), PAD.t + ph + 6);
    // scenario marks
    ctx.textBaseline = 'bottom';
    for (const [t, label] of this.marks) {
      const x = Math.round(X(t)) + 0.5;
      ctx.strokeStyle = 'rgba(201, 209, 217, 0.28)';
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, PAD.t);
      ctx.lineTo(x, PAD.t + ph);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = AXIS;
      ctx.fillText(label, x, PAD.t - 1);
    }
    // series
    ctx.lineJoin = 'round';
    this.series.forEach((s, i) => {
      const xs = this.xs[i]!, ys = this.ys[i]!;
      if (!xs.length) return;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.75;
      ctx.beginPath();
      ctx.moveTo(X(xs[0]!), Y(ys[0]!));
      for (let k = 1; k < xs.length; k++) ctx.lineTo(X(xs[k]!), Y(ys[k]!));
      ctx.stroke();
    });
    // now cursor
    if (this.nowS > 0 && this.nowS < this.xMaxS) {
      const x = Math.round(X(this.nowS)) + 0.5;
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.35)';
      ctx.beginPath();
      ctx.moveTo(x, PAD.t);
      ctx.lineTo(x, PAD.t + ph);
      ctx.stroke();
    }
    drawAxes(ctx, pw, ph);
    this.canvas.dataset.points = String(this.points());
  }
}

/** Grouped bars over categories (free memory per order), log y axis. */
export class BarChart {
  values: number[][];

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly title: string,
    public series: Series[],
    readonly categories: string[],
    readonly opts: { unit?: string; logMin?: number; logMax?: number } = {},
  ) {
    this.values = series.map(() => categories.map(() => 0));
  }

  reset(series: Series[]): void {
    this.series = series;
    this.values = series.map(() => this.categories.map(() => 0));
  }

  draw(): void {
    const { ctx, w, h } = prepare(this.canvas);
    const pw = w - PAD.l - PAD.r, ph = h - PAD.t - PAD.b;
    const lo = Math.log10(this.opts.logMin ?? 0.01);
    const hi = Math.log10(this.opts.logMax ?? 1000);
    const Y = (v: number) => PAD.t + ph - ((Math.min(hi, Math.max(lo, Math.log10(v))) - lo) / (hi - lo)) * ph;

    ctx.fillStyle = TEXT;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.font = `600 ${FONT}`;
    ctx.fillText(this.title + (this.opts.unit ? ` (${this.opts.unit}, log)` : ''), 4, 11);
    ctx.font = FONT;
    legend(ctx, this.series, w);

    ctx.strokeStyle = GRID;
    ctx.fillStyle = AXIS;
    ctx.textAlign = 'right';
    for (let e = Math.ceil(lo); e <= hi; e++) {
      const y = Math.round(Y(10 ** e)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.l, y);
      ctx.lineTo(PAD.l + pw, y);
      ctx.stroke();
      ctx.fillText(e >= 0 ? String(10 ** e) : (10 ** e).toFixed(-e), PAD.l - 6, y);
    }
    const n = this.categories.length;
    const gw = pw / n;
    const bw = Math.max(2, (gw * 0.78) / this.series.length);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    this.categories.forEach((c, k) => {
      const gx = PAD.l + k * gw + gw * 0.11;
      this.series.forEach((s, i) => {
        const v = this.values[i]![k]!;
        if (v <= 0) return;
        const y = Y(v);
        ctx.fillStyle = s.color;
        ctx.fillRect(gx + i * bw, y, bw - 1, PAD.t + ph - y);
      });
      ctx.fillStyle = AXIS;
      ctx.fillText(c, PAD.l + (k + 0.5) * gw, PAD.t + ph + 6);
    });
    drawAxes(ctx, pw, ph);
  }
}

/** The left and bottom axis lines of a plot area pw x ph inside PAD. */
function drawAxes(ctx: CanvasRenderingContext2D, pw: number, ph: number): void {
  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(PAD.l + 0.5, PAD.t);
  ctx.lineTo(PAD.l + 0.5, PAD.t + ph + 0.5);
  ctx.lineTo(PAD.l + pw, PAD.t + ph + 0.5);
  ctx.stroke();
}
