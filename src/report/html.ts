// The HTML report of a run: one self-contained file (inline CSS and SVG, no scripts, nothing fetched) with the
// comparison table and plots: host RSS over time per policy, memory Reported right now (when the run has it:
// the page does), the running total reported, free memory per order at the end (split into Reported and not
// when known) and report() calls per second. Guests keep one colour, dash pattern and width across plots.
import type { SimulationResult, GuestResult } from '../sim/engine.js';
import { NR_ORDERS } from '../core/types.js';
import { barChart, escapeXml, lineChart, seriesStyle, type BarSeries, type Series } from './svg.js';
import type { GuestSummary } from './summary.js';
import { comparisonTable } from './table.js';

export interface HtmlReportInput {
  title: string;
  description?: string;
  file?: string;
  result: SimulationResult;
  summaries: GuestSummary[];
  /** Figures a live run has (the page) beyond the result: per guest, free pages with Reported set at each sample,
   *  and free pages by order at the end split into Reported and not; a recorded RSS curve to show beside. */
  extra?: {
    reportedNow?: number[][];
    freeSplit?: Array<{ reported: number[]; unreported: number[] }>;
    real?: { name: string; points: Array<[number, number]> };
  };
}

function rssChart(guests: GuestResult[], real?: { name: string; points: Array<[number, number]> }): string {
  const series: Series[] = guests.map((g, i) => ({
    name: g.name, ...seriesStyle(i),
    points: g.samples.map((s): [number, number] => [s.t / 1000, s.rssKib / 1024]),
  }));
  if (real) series.push({ name: real.name, color: '#000000', dash: '1 3', width: 2, points: real.points });
  return lineChart({ title: 'Host RSS of guest RAM', xLabel: 'simulated time (s)', yLabel: 'MiB resident on the host', series });
}

function reportedNowChart(guests: GuestResult[], reportedNow: number[][]): string {
  return lineChart({
    title: 'Free and Reported now (the host may have discarded it)',
    xLabel: 'simulated time (s)',
    yLabel: 'MiB',
    series: guests.map((g, i) => ({
      name: g.name, ...seriesStyle(i),
      points: g.samples.map((s, k): [number, number] => [s.t / 1000, (reportedNow[i]?.[k] ?? 0) / 256]),
    })),
  });
}

function cumulativeChart(guests: GuestResult[]): string {
  const hinting = guests.some((g) => g.policy === 'hinting');
  return lineChart({
    title: hinting ? 'Reported (or hinted) since boot, cumulative' : 'Reported since boot, cumulative',
    xLabel: 'simulated time (s)',
    yLabel: 'MiB, running total',
    series: guests.map((g, i) => ({
      name: g.name, ...seriesStyle(i),
      points: g.samples.map((s): [number, number] => [s.t / 1000, s.pagesReported / 256]),
    })),
  });
}

/** Free MiB per order at the end, all zones (pages on per-cpu lists are not free blocks, as in buddyinfo). */
function freeByOrderChart(guests: GuestResult[], split?: Array<{ reported: number[]; unreported: number[] }>): string {
  const categories = Array.from({ length: NR_ORDERS }, (_, o) => String(o));
  const series: BarSeries[] = split
    ? guests.flatMap((g, i) => [
      { name: `${g.name}: Reported`, color: seriesStyle(i).color, values: split[i]!.reported.map((p) => p / 256) },
      { name: `${g.name}: not reported`, color: seriesStyle(i).color, fill: 'hatched' as const, values: split[i]!.unreported.map((p) => p / 256) },
    ])
    : guests.map((g, i) => ({
      name: g.name, color: seriesStyle(i).color,
      values: Array.from({ length: NR_ORDERS }, (_, o) => g.buddyinfo.reduce((a, z) => a + (z[o] ?? 0), 0) * 2 ** o / 256),
    }));
  return barChart({
    title: split ? 'Free memory per order at the end, Reported and not' : 'Free memory per order at the end',
    xLabel: 'order (a block is 2^order pages of 4 KiB)',
    yLabel: 'MiB free (log)',
    log: true, categories, series, id: 'free-by-order',
  });
}

/** report() calls in each second of simulated time. */
export function reportsPerSecond(g: GuestResult): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let prev = 0;
  let second = 0;
  for (const s of g.samples) {
    while (s.t >= (second + 1) * 1000) {
      out.push([second, s.reportCalls - prev]);
      prev = s.reportCalls;
      second++;
    }
  }
  const last = g.samples[g.samples.length - 1];
  if (last && last.reportCalls > prev) out.push([second, last.reportCalls - prev]);
  return out;
}

function reportsChart(guests: GuestResult[]): string {
  return lineChart({
    title: 'Reports per second',
    xLabel: 'simulated time (s)',
    yLabel: 'report() calls / s',
    step: true,
    series: guests.map((g, i) => {
      const pts = reportsPerSecond(g);
      // A step chart holds each value over its second: close the last step at its end.
      if (pts.length) pts.push([pts[pts.length - 1]![0] + 1, pts[pts.length - 1]![1]]);
      return { name: g.name, ...seriesStyle(i), points: pts };
    }),
  });
}

const CSS = `body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#111}
h1{font-size:22px;margin-bottom:4px}p.meta{color:#555;margin-top:0}
pre.table{background:#f7f7f7;padding:12px;overflow-x:auto;font-size:13px;line-height:1.35}
figure{margin:24px 0}svg{max-width:100%;height:auto;border:1px solid #eee}`;

export function htmlReport(o: HtmlReportInput): string {
  const r = o.result;
  const meta = [
    o.file ? `scenario ${o.file}` : '',
    `${r.durationS} s simulated`,
    `seed ${r.seed}`,
    `${r.guests.length} guest${r.guests.length === 1 ? '' : 's'}`,
    `${(r.wallMs / 1000).toFixed(2)} s wall`,
  ].filter(Boolean).join(' · ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(o.title)}</h1>
<p class="meta">${escapeXml(meta)}</p>
${o.description ? `<p>${escapeXml(o.description)}</p>` : ''}
<pre class="table">${escapeXml(comparisonTable(o.summaries))}</pre>
<figure id="rss">${rssChart(r.guests, o.extra?.real)}</figure>
${o.extra?.reportedNow ? `<figure id="reported-now">${reportedNowChart(r.guests, o.extra.reportedNow)}</figure>\n` : ''}<figure id="reported-cumulative">${cumulativeChart(r.guests)}</figure>
<figure id="free-by-order">${freeByOrderChart(r.guests, o.extra?.freeSplit)}</figure>
<figure id="reports-per-second">${reportsChart(r.guests)}</figure>
</body>
</html>
`;
}
