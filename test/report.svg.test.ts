// The SVG charts of the HTML report and the page: equal lines both stay visible (each its own dash pattern and
// width, the widest drawn first), labels that would collide go to separate lanes or rows, bars split into
// Reported (solid) and not (hatched).
import { describe, it, expect } from 'vitest';
import { barChart, lineChart, seriesStyle, textWidth, PALETTE } from '../src/report/svg.js';
import { htmlReport } from '../src/report/html.js';
import { summarize } from '../src/report/summary.js';
import { Simulation } from '../src/sim/engine.js';

const attrs = (svg: string, tag: string) => [...svg.matchAll(new RegExp(`<${tag} ([^>]*)>`, 'g'))].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));

describe('line charts', () => {
  it('draw equal series widest first, each with its own dash, so the one on top lets the other show', () => {
    const pts: Array<[number, number]> = [[0, 1], [1, 5], [2, 5]];
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [
      { name: 'B', ...seriesStyle(1), points: pts },
      { name: 'A', ...seriesStyle(0), points: pts },
      { name: 'C', ...seriesStyle(2), points: pts },
    ] });
    const paths = attrs(svg, 'path');
    expect(paths.map((p) => p['data-series'])).toEqual(['A', 'B', 'C']);
    expect(paths[0]!['stroke-dasharray']).toBeUndefined();
    expect(new Set(paths.map((p) => p['stroke-dasharray'] ?? '')).size).toBe(3);
    expect(Number(paths[0]!['stroke-width'])).toBeGreaterThan(Number(paths[1]!['stroke-width']));
    expect(paths.map((p) => p['stroke'])).toEqual([PALETTE[0], PALETTE[1], PALETTE[2]]);
  });

  it('puts mark labels that would overlap in separate lanes, and wraps the legend on a narrow chart', () => {
    const svg = lineChart({ title: 'Host RSS of guest RAM', xLabel: 'x', yLabel: 'y', width: 340, xMin: 0, xMax: 40,
      marks: [[5, 'touch'], [6.3, 'holes'], [21, 'free']],
      series: ['A linux-5.7 order=3 cap=8', 'B linux-6.1 order=9', 'C hinting migration'].map((name, i) => ({ name, ...seriesStyle(i), points: [[0, 1], [40, 2]] as Array<[number, number]> })) });
    const texts = attrs(svg, 'text');
    const touch = texts.find((_, k) => svg.split('<text ')[k + 1]!.includes('>touch<'))!;
    const holes = texts.find((_, k) => svg.split('<text ')[k + 1]!.includes('>holes<'))!;
    expect(touch['y']).not.toBe(holes['y']);
    // Legend entries: three rows at 340 px, none running past the right edge.
    const legend = [...svg.matchAll(/<g transform="translate\(([\d.]+) ([\d.]+)\)">.*?<text x="26" y="0"[^>]*>([^<]*)</g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), name: m[3]! }));
    expect(legend.length).toBe(3);
    expect(new Set(legend.map((l) => l.y)).size).toBeGreaterThan(1);
    for (const l of legend) expect(l.x + 26 + textWidth(l.name)).toBeLessThanOrEqual(340);
  });
});

describe('bar charts', () => {
  it('hatch the series marked hatched and keep the solid ones filled', () => {
    const svg = barChart({ title: 'Free memory per order', xLabel: 'order', yLabel: 'MiB', log: true, id: 'f', categories: ['0', '1'],
      series: [{ name: 'A Reported', color: '#E69F00', values: [1, 2] }, { name: 'A not reported', color: '#E69F00', fill: 'hatched', values: [3, 0] }] });
    expect(svg).toContain('<pattern id="f-hatch-1"');
    const rects = attrs(svg, 'rect').filter((r) => r['data-series']);
    expect(rects.map((r) => [r['data-series'], r['fill']])).toEqual([['A Reported', '#E69F00'], ['A Reported', '#E69F00'], ['A not reported', 'url(#f-hatch-1)']]);
  });
});

describe('the HTML report', () => {
  it('shows the running total as such, reported-now and the split by order when the run has them', () => {
    const spec = (policy: 'linux-5.7' | 'linux-6.1') => ({ durationS: 6, guests: [{ name: policy, guest: { memBytes: 2 ** 28 }, policy: { kind: 'reporting' as const, profile: policy } }] });
    const parts = (['linux-5.7', 'linux-6.1'] as const).map((p) => {
      const sim = new Simulation(spec(p));
      sim.runSync();
      return sim.result();
    });
    const result = { ...parts[0]!, guests: parts.flatMap((p) => p.guests) };
    const summaries = result.guests.map(summarize);
    const plain = htmlReport({ title: 'x', result, summaries });
    expect(plain).toContain('Reported since boot, cumulative');
    expect(plain).not.toContain('id="reported-now"');
    const paths = attrs(plain.slice(plain.indexOf('<figure id="rss">'), plain.indexOf('</figure>')), 'path');
    // 5.7 and 6.1 give the same RSS here: both drawn, the solid wide one first.
    expect(paths.map((p) => [p['data-series'], p['stroke-dasharray'] ?? '', p['stroke-width']])).toEqual([['linux-5.7', '', '3.5'], ['linux-6.1', '7 4', '2']]);
    const full = htmlReport({ title: 'x', result, summaries, extra: {
      reportedNow: result.guests.map((g) => g.samples.map(() => 1)),
      freeSplit: result.guests.map(() => ({ reported: new Array(11).fill(256), unreported: new Array(11).fill(512) })),
    } });
    expect(full).toContain('<figure id="reported-now"><svg');
    expect(full).toContain('data-series="linux-6.1: not reported"');
  });
});
