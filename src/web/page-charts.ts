// The page's charts: what each one shows, from the run so far (a Track per guest) — host RSS, Reported now,
// reported since boot, free memory per order split by Reported, the pass timeline — and its hover readout.
import { barChart, escapeXml, lineChart, seriesStyle, type Series } from '../report/svg.js';
import { LiveChart, indexAt, passNear, passText, timelinePasses, timelineSvg } from './charts.js';
import { NR_ORDERS } from '../core/types.js';
import type { CallInfo, GuestFrame, GuestInfo, PassInfo } from './protocol.js';

const MiB_PAGES = 256;

/** One guest's run so far, as the page keeps it. */
export interface Track {
  /** Sample times (s), host RSS, free and Reported now, reported since boot (MiB). */
  t: number[];
  rss: number[];
  now: number[];
  cum: number[];
  passes: PassInfo[];
  calls: CallInfo[];
  frame: GuestFrame | null;
}

export const newTrack = (): Track => ({ t: [], rss: [], now: [], cum: [], passes: [], calls: [], frame: null });

export interface Curve { name: string; points: Array<[number, number]> }

/** What the charts read, at the moment they are drawn. */
export interface ChartSource {
  tracks(): Track[];
  infos(): GuestInfo[];
  durationS(): number;
  nowS(): number;
  /** A recorded RSS curve to draw beside the simulated ones. */
  real(): Curve | null;
  /** Vertical marks on the time axis: [s, label]. */
  marks(): Array<[number, string]>;
}

/** The page's charts on their figures (by id). */
export function pageCharts(src: ChartSource, fig: (id: string) => HTMLElement): LiveChart[] {
  const label = (i: number) => `${'AB'[i]} ${src.infos()[i]!.name}`;
  const seriesFor = (pick: (tr: Track) => number[], note?: (g: GuestInfo) => string | null): Series[] =>
    src.tracks().map((tr, i) => {
      const n = note?.(src.infos()[i]!);
      const ys = pick(tr);
      return { name: `${label(i)}${n ? ` ${n}` : ''}`, ...seriesStyle(i), points: n ? [] : tr.t.map((t, k): [number, number] => [t, ys[k]!]) };
    });
  const timeReadout = (pick: (tr: Track) => number[], withReal = false) => (x: number): string | null => {
    const tracks = src.tracks();
    const lines = tracks.map((tr, i) => {
      const k = indexAt(tr.t, x);
      if (k < 0) return '';
      return `<span style="color:${seriesStyle(i).color}">■</span> ${escapeXml(label(i))}: <b>${pick(tr)[k]!.toFixed(1)} MiB</b>`;
    }).filter(Boolean);
    const real = src.real();
    if (withReal && real) {
      const k = indexAt(real.points.map((p) => p[0]), x);
      if (k >= 0) lines.push(`real: <b>${real.points[k]![1].toFixed(1)} MiB</b>`);
    }
    const k0 = tracks[0] ? indexAt(tracks[0].t, x) : -1;
    return lines.length ? `t = ${(k0 >= 0 ? tracks[0]!.t[k0]! : x).toFixed(2)} s<br>${lines.join('<br>')}` : null;
  };
  const time = (w: number) => ({ width: w, height: 270, xMin: 0, xMax: src.durationS(), now: src.nowS(), theme: 'dark' as const });

  return [
    new LiveChart(fig('fig-rss'), (w) => {
      const series = seriesFor((tr) => tr.rss);
      const real = src.real();
      if (real) series.push({ name: real.name, color: '#f0f6fc', dash: '1 3', width: 2, points: real.points.filter(([t]) => t <= src.durationS()) });
      return lineChart({ title: 'Host RSS of guest RAM', xLabel: 'simulated time (s)', yLabel: 'MiB', series, marks: src.marks(), id: 'rss', ...time(w) });
    }, timeReadout((tr) => tr.rss, true)),
    new LiveChart(fig('fig-now'), (w) => lineChart({
      title: 'Free and Reported now (not resident)', xLabel: 'simulated time (s)', yLabel: 'MiB',
      series: seriesFor((tr) => tr.now, (g) => (g.kind === 'hinting' ? '(hinting sets no flag)' : g.kind === 'none' ? '(none)' : null)),
      id: 'now', ...time(w),
    }), timeReadout((tr) => tr.now)),
    new LiveChart(fig('fig-cum'), (w) => lineChart({
      title: src.infos().some((g) => g.kind === 'hinting') ? 'Reported (or hinted) since boot: running total' : 'Reported since boot: running total',
      xLabel: 'simulated time (s)', yLabel: 'MiB in total', series: seriesFor((tr) => tr.cum), id: 'cum', ...time(w),
    }), timeReadout((tr) => tr.cum)),
    new LiveChart(fig('fig-orders'), (w) => barChart({
      title: 'Free memory per order now: Reported (solid) and not (hatched)',
      xLabel: 'order (a block is 2^order pages)', yLabel: 'MiB (log)', log: true,
      categories: Array.from({ length: NR_ORDERS }, (_, o) => String(o)),
      series: src.tracks().flatMap((tr, i) => [
        { name: `${'AB'[i]} Reported`, color: seriesStyle(i).color, values: (tr.frame?.freeReported ?? []).map((p) => p / MiB_PAGES) },
        { name: `${'AB'[i]} not reported`, color: seriesStyle(i).color, fill: 'hatched' as const, values: (tr.frame?.freeUnreported ?? []).map((p) => p / MiB_PAGES) },
      ]),
      width: w, height: 270, theme: 'dark', id: 'orders',
    }), (x) => {
      const o = Math.floor(x);
      if (o < 0 || o >= NR_ORDERS) return null;
      return `order ${o} (${(2 ** o * 4).toLocaleString('en-US')} KiB blocks)<br>` + src.tracks().map((tr, i) => {
        const rep = (tr.frame?.freeReported[o] ?? 0) / MiB_PAGES, un = (tr.frame?.freeUnreported[o] ?? 0) / MiB_PAGES;
        return `${escapeXml(label(i))}: Reported <b>${rep.toFixed(2)}</b> MiB, not <b>${un.toFixed(2)}</b> MiB`;
      }).join('<br>');
    }),
    new LiveChart(fig('fig-passes'), (w) => timelineSvg(w, src.durationS(), src.tracks().map((tr, i) => {
      const kind = src.infos()[i]!.kind;
      return {
        name: src.infos()[i]!.name,
        passes: timelinePasses(tr.passes, tr.calls),
        note: kind === 'reporting' ? 'no pass yet' : kind === 'hinting' ? 'hinting: walks, not passes' : 'no reporting',
      };
    }), src.nowS()), (x) => {
      // The pass under the mouse, else the nearest within a few pixels' worth of time.
      const tol = src.durationS() / 150;
      const out = src.tracks().map((tr, i) => {
        const best = passNear(timelinePasses(tr.passes, tr.calls), x, tol);
        return best ? passText(label(i), best) : '';
      }).filter(Boolean);
      return out.length ? out.join('<br>') : null;
    }),
  ];
}
