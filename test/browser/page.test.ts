// The browser page in Chromium: the page and `prsim run` give the same figures for the same scenario file and seed
// (and the page's CSV export is `prsim run --csv`'s); a pass can be watched at ×1; equal lines both stay visible;
// a bad URL value is named; the experiment set in the page is the scenario JSON it copies; exports.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { canvasColors, downloadText, openPage, prsim, ROOT, settlePaused, startSession, tNow, value, waitState, type Session } from './browser.js';
import { startWebServer } from '../../src/web/serve.js';
import { main } from '../../src/cli/prsim.js';
import { memoryIo } from '../../src/cli/io.js';
import { MAP_LEGEND, MapCode } from '../../src/web/memmap.js';
import type { GuestMetrics } from '../../src/sim/types.js';

const SCREENSHOT = join(ROOT, 'docs', 'screenshot.png');
let s: Session;
let tmp: string;

beforeAll(async () => {
  s = await startSession();
  tmp = mkdtempSync(join(tmpdir(), 'prsim-page-'));
});
afterAll(async () => {
  await s?.close();
});

const colorOf = (code: number) => MAP_LEGEND.find((l) => l.code === code)!;

/**
 * Move the mouse onto pixel (x, y) of a map canvas. A synthetic event with fractional coordinates (a PointerEvent:
 * MouseEvent rounds them): real mouse positions are whole CSS pixels,
 * and on a 512-pixel map drawn 510 CSS px wide some rows are hit by no whole pixel.
 */
async function hoverPixel(page: Page, id: string, x: number, y: number): Promise<void> {
  await page.evaluate(({ id, x, y }) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    c.dispatchEvent(new PointerEvent('mousemove', { clientX: r.left + ((x + 0.5) * r.width) / c.width, clientY: r.top + ((y + 0.5) * r.height) / c.height, bubbles: true }));
  }, { id, x, y });
}

/** Move the mouse onto `target`, (dx, dy) from its box's top left, and read chart `fig`'s hover readout. */
async function readoutAt(page: Page, fig: string, target: Locator, at: (box: { width: number; height: number }) => [number, number]): Promise<string | null> {
  await target.scrollIntoViewIfNeeded();
  const box = (await target.boundingBox())!;
  const [dx, dy] = at(box);
  await page.mouse.move(box.x + dx, box.y + dy);
  await page.waitForSelector(`${fig} .readout`, { state: 'visible' });
  return page.textContent(`${fig} .readout`);
}

/** The scenario JSON the page copies. */
async function copiedScenario(page: Page): Promise<string> {
  await page.click('#experiment > summary');
  await page.click('#copy-json');
  const json = await page.inputValue('#scenario-json');
  await page.click('#experiment > summary');
  return json;
}

describe('the page and prsim run', () => {
  it('give the same figures for the scenario the page sets (URL settings → copied JSON → prsim run), and the same CSV', async () => {
    const query = 'scenario=memhog&a=linux-5.7&b=linux-next&b.order=7&b.capacity=16&b.delayMs=1500&cpus=4&mem=768&device=slow&device.latencyMs=3'
      + '&w0.mib=300&w0.holdS=2&seed=5&duration=30&speed=max&autoplay=0';
    const page = await openPage(s, query);
    await waitState(page, 'paused');
    expect(await page.textContent('#problems')).toBe('');
    // The settings are what runs: the policy line says so, and the URL keeps them.
    expect(await page.textContent('#params-1')).toMatch(/^order 7 · capacity 16 · delay 1500 ms · budget ÷16 · slow \(3 ms\) · 7\d\d MiB managed, 4 CPUs$/);
    const json = await copiedScenario(page);
    const doc = JSON.parse(json);
    expect(doc.guests[0]).toMatchObject({ memMiB: 768, cpus: 4, device: { kind: 'slow', latencyMs: 3 } });
    expect(doc.guests[0].policies).toEqual(['linux-5.7', { kind: 'reporting', profile: 'linux-next', order: 7, capacity: 16, delayMs: 1500 }]);
    expect(doc.guests[0].workloads[0]).toMatchObject({ kind: 'memhog', mib: 300, holdS: 2 });
    expect(doc).toMatchObject({ seed: 5, durationS: 30 });
    await page.click('#play');
    await waitState(page, 'done');
    expect(await tNow(page)).toBe(30_000);

    const file = join(tmp, 'page.json');
    writeFileSync(file, json);
    const csvFile = join(tmp, 'cli.csv');
    const cli = JSON.parse(prsim('run', file, '--json', '--csv', csvFile));
    expect(cli.result.guests.map((g: { name: string }) => g.name)).toEqual(['linux-5.7', 'linux-next order=7 cap=16']);
    for (const [i, g] of (cli.result.guests as Array<{ metrics: GuestMetrics }>).entries()) {
      expect(await value(page, `rss-${i}`)).toBe(g.metrics.host.rssKib);
      expect(await value(page, `pages-reported-${i}`)).toBe(g.metrics.reporting.pagesReported);
      expect(await value(page, `report-calls-${i}`)).toBe(g.metrics.reporting.reportCalls);
      expect(await value(page, `refaults-${i}`)).toBe(g.metrics.host.refaultPages);
    }
    expect(await page.textContent('#label-1')).toBe('linux-next order=7 cap=16');
    // The exported time series is prsim run --csv's, byte for byte.
    const csv = await downloadText(page, '#export-csv');
    expect(csv.name).toMatch(/\.csv$/);
    expect(csv.text).toBe(readFileSync(csvFile, 'utf8'));
    await page.close();
    expect(s.errors).toEqual([]);
  });

  it('run a catalogue file unchanged as prsim compare does, and show what reporting is for (screenshot)', async () => {
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&speed=max&autoplay=0');
    await waitState(page, 'paused');
    expect(await tNow(page)).toBe(0);
    const allocated = colorOf(MapCode.ALLOCATED).color, reported = colorOf(MapCode.REPORTED).color, resident = colorOf(MapCode.FREE_RESIDENT).color;
    const start = await canvasColors(page, 'map-1', [reported]);
    expect(start.pixels).toBe(512 * 512); // 1 GiB: a pixel a page, a row a pageblock
    expect(start[reported]).toBe(0);
    // Step (1 s slices at max speed) into the hold, 10 s .. 14.3 s.
    for (let k = 1; k <= 12; k++) {
      await page.click('#step');
      await page.waitForFunction((t) => Number(document.getElementById('time')!.dataset['t']) === t, k * 1000);
    }
    expect((await canvasColors(page, 'map-1', [allocated]))[allocated]).toBeGreaterThan(512 * 256 * 0.9);
    await page.click('#play');
    await waitState(page, 'done');
    const a = await canvasColors(page, 'map-0', [reported, resident]);
    const b = await canvasColors(page, 'map-1', [reported, resident]);
    expect(b[reported]).toBeGreaterThan(100_000);
    expect(a[reported]).toBe(0);
    expect(a[resident]).toBeGreaterThan(100_000);

    const cli = JSON.parse(prsim('compare', 'scenarios/memhog.json', '--policies', 'none,linux-6.1', '--json'));
    for (const [i, g] of (cli.result.guests as Array<{ metrics: GuestMetrics; samples: unknown[] }>).entries()) {
      expect(await value(page, `rss-${i}`)).toBe(g.metrics.host.rssKib);
      expect(await value(page, `pages-reported-${i}`)).toBe(g.metrics.reporting.pagesReported);
      expect(await value(page, `report-calls-${i}`)).toBe(g.metrics.reporting.reportCalls);
    }
    expect(await value(page, 'rss-1')).toBeLessThan((await value(page, 'rss-0')) / 4);
    // Reported now is not the running total: after the run 6.1 has reported more than the guest holds.
    expect(await value(page, 'pages-reported-1')).toBeGreaterThan(262_144);
    expect(await value(page, 'reported-now-1')).toBeLessThan(262_144);
    // The map's legend counts every page of the guest, per policy.
    const counts = await page.$$eval('#legend tr[data-code] td[data-pages]', (tds) => tds.map((td) => Number((td as HTMLElement).dataset['pages'])));
    expect(counts.filter((_, k) => k % 2 === 0).reduce((x, y) => x + y, 0)).toBe(262_109);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('watching a pass', () => {
  it('at ×1 stops at each state change and report() call: ACTIVE with in-flight pages on the map, held >= 300 ms, then the RSS step', async () => {
    // memhog of 256 MiB at 0.5 s, freed at once; the first pass (2 s after register) reports it. A budget divisor
    // of 1 lets that pass take the whole order-10 list in about ten report() calls, so there is a pass to watch
    // after pausing in it (a pause may land one frame late).
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&b.budgetDivisor=1&w0.startS=0.5&w0.mib=256&w0.holdS=0.3&duration=8&speed=1');
    const inflight = colorOf(MapCode.INFLIGHT);
    await page.waitForSelector('#state-1[data-state="ACTIVE"]', { timeout: 60_000 });
    // Pause there: the simulation itself is stopped inside the pass, between two report() calls.
    await page.click('#play');
    await settlePaused(page);
    expect(await page.textContent('#state-1')).toBe('ACTIVE');
    const px = await canvasColors(page, 'map-1', [inflight.color, inflight.alt!]);
    expect(px[inflight.color]! + px[inflight.alt!]!).toBeGreaterThan(1000);
    // Hover an in-flight page: the map says what it is.
    const at = await page.evaluate((cols) => {
      const c = document.getElementById('map-1') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) if (cols.some(([r, g, b]) => d[i] === r && d[i + 1] === g && d[i + 2] === b)) return { x: (i / 4) % c.width, y: Math.floor(i / 4 / c.width) };
      return null;
    }, [inflight.color, inflight.alt!].map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]));
    await hoverPixel(page, 'map-1', at!.x, at!.y);
    await page.waitForFunction(() => /in flight \(isolated for a report\), order (9|10) block at pfn \d+/.test(document.getElementById('mapinfo-1')!.textContent!));
    await page.locator('main').screenshot({ path: join(ROOT, 'docs', 'screenshot-pass.png') });
    await page.mouse.move(0, 0);
    // On again: the pass goes on and ends (IDLE, or REQUESTED when its budget ran out).
    type Frame = { wall: number; reason: string; states: string[]; rssKib: number[]; holdMs: number };
    const log = () => page.evaluate(() => (window as unknown as { __frames: Frame[] }).__frames);
    const resumedAt = (await log()).length;
    await page.click('#play');
    await page.waitForSelector('#state-1:not([data-state="ACTIVE"])', { timeout: 60_000 });
    await page.click('#play'); // pause
    await settlePaused(page);
    const frames = await log();
    const active = frames.findIndex((f) => f.states[1] === 'ACTIVE');
    expect(active).toBeGreaterThan(0);
    expect(frames[active]!.reason).toBe('report');
    // Each frame of the pass after the resume stayed on screen for its hold before the next one came: a lower
    // bound of wall time (a timer never fires early), not a speed figure.
    const held = frames.map((f, k) => ({ f, k })).filter(({ f, k }) => k >= resumedAt && f.states[1] === 'ACTIVE' && k + 1 < frames.length);
    expect(held.length).toBeGreaterThan(0);
    for (const { f, k } of held) {
      expect(f.holdMs).toBeGreaterThanOrEqual(300);
      expect(frames[k + 1]!.wall - f.wall).toBeGreaterThanOrEqual(300);
    }
    // The host RSS steps down within the pass (the host discards each batch as report() runs).
    const end = frames.findIndex((f, k) => k > active && f.states[1] !== 'ACTIVE');
    expect(frames[end]!.rssKib[1]).toBeLessThan(frames[active - 1]!.rssKib[1]! - 100 * 1024);
    expect(await value(page, 'rss-1')).toBe(frames[frames.length - 1]!.rssKib[1]);
    // The timeline shows the pass, and its hover readout names blocks by order.
    expect(await page.locator('#fig-passes svg rect[data-guest="1"]').count()).toBeGreaterThan(0);
    const bar = page.locator('#fig-passes svg rect[data-guest="1"]').first();
    expect(await readoutAt(page, '#fig-passes', bar, (b) => [1, b.height / 2])).toMatch(/pass 1: starts 2\.\d+ s .*report\(\) calls?; \d+ blocks \(order 10 × \d+/);
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('charts', () => {
  it('keep two equal lines visible: the wider solid one under the thinner dashed one', async () => {
    const page = await openPage(s, 'scenario=memhog&a=linux-5.7&b=linux-6.1&speed=max');
    await waitState(page, 'done');
    const paths = await page.$$eval('#fig-rss svg path[data-series]', (ps) => ps.map((p) => ({
      name: p.getAttribute('data-series'), dash: p.getAttribute('stroke-dasharray'), width: Number(p.getAttribute('stroke-width')), color: p.getAttribute('stroke'),
    })));
    expect(paths.map((p) => p.name)).toEqual(['A linux-5.7', 'B linux-6.1']);
    expect(paths[0]!.dash).toBeNull();
    expect(paths[1]!.dash).toBeTruthy();
    expect(paths[0]!.width).toBeGreaterThan(paths[1]!.width);
    // Drawn, both colours show along the stretch where the two runs hold the same RSS (the hold, 10..14 s).
    const seen = await page.evaluate(async (cols) => {
      const svg = document.querySelector('#fig-rss svg') as SVGSVGElement;
      const [x0, , x1] = svg.getAttribute('data-plot')!.split(' ').map(Number) as [number, number, number];
      const W = Number(svg.getAttribute('width')), H = Number(svg.getAttribute('height'));
      const img = new Image();
      img.src = URL.createObjectURL(new Blob([svg.outerHTML], { type: 'image/svg+xml' }));
      await img.decode();
      const c = document.createElement('canvas');
      c.width = W;
      c.height = H;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      // Columns of the hold: 11.5 s to 14 s.
      const from = Math.round(x0 + ((x1 - x0) * 11.5) / 40), to = Math.round(x0 + ((x1 - x0) * 14) / 40);
      const data = ctx.getImageData(from, 0, to - from, H).data;
      const near = (i: number, [r, g, b]: number[]) => Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) < 60;
      const out = [0, 0];
      for (let i = 0; i < data.length; i += 4) cols.forEach((c, k) => { if (near(i, c)) out[k]!++; });
      return out;
    }, [[0xe6, 0x9f, 0x00], [0x00, 0x72, 0xb2]]);
    expect(seen[0]).toBeGreaterThan(10);
    expect(seen[1]).toBeGreaterThan(10);
    // Hover readout on a chart: both policies' values at that time.
    expect(await readoutAt(page, '#fig-rss', page.locator('#fig-rss svg'), (b) => [b.width * 0.6, b.height / 2])).toMatch(/^t = \d+\.\d+ s.*A linux-5\.7: [\d.]+ MiB.*B linux-6\.1: [\d.]+ MiB/);
    // Each chart saves as SVG and PNG.
    const svgFile = await downloadText(page, '#fig-now button[data-save="svg"]');
    expect(svgFile.text).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgFile.text).toContain('Free and Reported now');
    expect((await downloadText(page, '#fig-passes button[data-save="svg"]')).text).toMatch(/^<svg [^>]*aria-label="reporting passes"/);
    const png = await downloadText(page, '#fig-orders button[data-save="png"]');
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // The HTML report of the comparison, and the JSON.
    const html = await downloadText(page, '#export-html');
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
    for (const id of ['rss', 'reported-now', 'reported-cumulative', 'free-by-order', 'reports-per-second']) expect(html.text).toContain(`<figure id="${id}"><svg`);
    expect(html.text).toContain('data-series="linux-6.1"');
    const json = JSON.parse((await downloadText(page, '#export-json')).text);
    expect(json.result.guests.map((g: { name: string }) => g.name)).toEqual(['linux-5.7', 'linux-6.1']);
    expect(json.page.reportedNowPages[1].length).toBe(json.result.guests[1].samples.length);
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('settings', () => {
  it('names every bad URL value and runs with the rest', async () => {
    const page = await openPage(s, 'scenario=nope&a=bogus&b=linux-6.1&b.order=99&seed=-3&w0.mib=abc&w0.kind=churn&w1.mib=3&cpus=2&speed=7&autoplay=0');
    await page.waitForSelector('#problems', { state: 'visible' });
    const text = (await page.textContent('#problems'))!;
    expect(text).toMatch(/scenario=nope: expected one of .*memhog/);
    expect(text).toMatch(/a=bogus: expected one of none, linux-5\.7/);
    expect(text).toMatch(/b\.order=99: expected integer 0\.\.11/);
    expect(text).toMatch(/seed=-3: expected integer 0\.\.4294967295/);
    expect(text).toMatch(/w0\.mib=abc: expected a number > 0/);
    expect(text).toMatch(/w0\.kind=churn: the workload kind is the scenario's \(memhog\)/);
    expect(text).toMatch(/w1\.mib=3: memhog has one workload, w0/);
    expect(text).toMatch(/speed=7: expected one of 1, 2, 5, 10, 25, max; runs at 5/);
    expect(text).not.toMatch(/cpus=2/);
    // The rest runs: the first frame is drawn and the run waits for Play.
    await waitState(page, 'paused');
    const url = new URL(page.url());
    expect(url.searchParams.get('speed')).toBe('5');
    expect(url.searchParams.get('seed')).toBeNull();
    expect(url.searchParams.get('cpus')).toBe('2');
    // A typed bad seed is named too, and the seed in force stays.
    await page.fill('#seed', '7');
    await page.press('#seed', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('seed') === '7');
    await page.fill('#seed', '-5');
    await page.press('#seed', 'Enter');
    await page.waitForFunction(() => /seed=-5: .*kept 7/.test(document.getElementById('problems')!.textContent!));
    expect(new URL(page.url()).searchParams.get('seed')).toBe('7');
    expect(await page.inputValue('#seed')).toBe('7');
    // The form writes the URL: B's budget divisor (6.1 has no capacity knob, so the form offers none).
    await page.click('#experiment > summary');
    expect(await page.$('#f-b-capacity')).toBeNull();
    await page.fill('#f-b-budgetDivisor', '8');
    await page.press('#f-b-budgetDivisor', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('b.budgetDivisor') === '8');
    await page.waitForFunction(() => /budget ÷8 /.test(document.getElementById('params-1')!.textContent!));
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('controls', () => {
  it('step runs to the next thing to see or one slice; speed, pause and reset drive the worker', async () => {
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&speed=1&autoplay=0');
    await waitState(page, 'paused');
    const frames = async () => Number(await page.getAttribute('body', 'data-frames'));
    const step = async () => {
      const f = await frames();
      await page.click('#step');
      await page.waitForFunction((n) => Number(document.body.dataset['frames']) > n, f);
    };
    // ×1: nothing happens before the first pass at 2 s, so a step is one 100 ms slice.
    await step();
    expect(await tNow(page)).toBe(100);
    // ×25: a slice is 2.5 s, but the step stops at the first pass's first report() call.
    await page.selectOption('#speed', '25');
    await step();
    expect(await tNow(page)).toBe(2000);
    expect(await page.textContent('#state-1')).toBe('ACTIVE');
    await step();
    expect(await page.textContent('#state-1')).toBe('ACTIVE');
    expect(await value(page, 'report-calls-1')).toBe(2);
    // Play, pause: time moves, then stops.
    await page.selectOption('#speed', '10');
    await page.click('#play');
    await waitState(page, 'running');
    await page.waitForFunction(() => Number(document.getElementById('time')!.dataset['t']) >= 5000, null, { timeout: 60_000 });
    await page.click('#play');
    await waitState(page, 'paused');
    const paused = await tNow(page);
    const f = await frames();
    await page.waitForTimeout(500);
    expect(await tNow(page)).toBe(paused);
    expect(await frames()).toBe(f);
    // Reset: t = 0 and one sample again.
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('time')!.dataset['t'] === '0');
    expect(new URL(page.url()).searchParams.get('speed')).toBe('10');
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('the map', () => {
  it('zooms to single pages and says what a page is: order, head, migratetype, Reported, per-cpu list', async () => {
    const page = await openPage(s, 'scenario=memhog&a=linux-6.1&b=linux-6.1&speed=max&autoplay=0');
    await waitState(page, 'paused');
    // Into the hold at max speed: pages on per-cpu lists and allocated pages.
    for (let k = 1; k <= 13; k++) {
      await page.click('#step');
      await page.waitForFunction((t) => Number(document.getElementById('time')!.dataset['t']) === t, k * 1000);
    }
    for (let k = 0; k < 4; k++) await page.click('#zoom-in');
    await page.waitForFunction(() => /16× magnified/.test(document.getElementById('map-scale')!.textContent!));
    const canvas = (await page.$('#map-0'))!;
    await canvas.scrollIntoViewIfNeeded();
    const b = (await canvas.boundingBox())!;
    // Hover over several places until a free block and an allocated page have been described.
    const seen = new Set<string>();
    for (let y = 0.05; y < 1 && seen.size < 2; y += 0.1) {
      for (let x = 0.05; x < 1; x += 0.3) {
        await page.mouse.move(b.x + b.width * x, b.y + b.height * y);
        await page.waitForFunction(() => document.getElementById('mapinfo-0')!.textContent !== '');
        const t = (await page.textContent('#mapinfo-0'))!;
        expect(t).toMatch(/^pfn \d+ \(0x[0-9a-f]+\) · (DMA|DMA32) · /);
        if (/free, order \d+ block at pfn \d+, (Reported|not reported) · pageblock \d+ \((Movable|Unmovable|Reclaimable)\)/.test(t)) seen.add('free');
        if (/allocated, order \d+ block at pfn \d+ \((Movable|Unmovable)\)/.test(t)) seen.add('allocated');
      }
    }
    expect([...seen].sort()).toEqual(['allocated', 'free']);
    // Drag pans the zoomed map: other rows come into view.
    const rowsBefore = await page.textContent('#map-scale');
    const frames0 = Number(await page.getAttribute('body', 'data-frames'));
    await page.mouse.move(b.x + b.width / 2, b.y + b.height * 0.8);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height * 0.2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((n) => Number(document.body.dataset['frames']) > n, frames0);
    expect(await page.textContent('#map-scale')).not.toBe(rowsBefore);
    // The per-cpu lists hold pages during the hold: the legend counts them; hover one found by its colours.
    expect(await page.$eval('#legend tr[data-code="6"] td[data-pages]', (td) => Number((td as HTMLElement).dataset['pages']))).toBeGreaterThan(0);
    await page.click('#zoom-fit');
    await page.waitForFunction(() => /rows 0\.\.511/.test(document.getElementById('map-scale')!.textContent!));
    // The map drawn is the overview once the last frame is of that view.
    await page.waitForFunction(() => {
      const f = (window as unknown as { __frames: Array<{ view: { k: number; row0: number; cols: number } }> }).__frames;
      const v = f[f.length - 1]!.view;
      return v.k === 1 && v.row0 === 0 && v.cols === 512 && Number(document.body.dataset['frames']) === f.length;
    });
    const pcp = colorOf(MapCode.PCP);
    const at = await page.evaluate((cols) => {
      const c = document.getElementById('map-0') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (cols.some(([r, g, b]) => d[i] === r && d[i + 1] === g && d[i + 2] === b)) return { x: (i / 4) % c.width, y: Math.floor(i / 4 / c.width) };
      }
      return null;
    }, [pcp.color, pcp.alt!].map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]));
    expect(at).not.toBeNull();
    await hoverPixel(page, 'map-0', at!.x, at!.y);
    await page.waitForFunction(() => /per-cpu list of cpu \d \((Movable|Unmovable|Reclaimable) list\), order \d block at pfn \d+/.test(document.getElementById('mapinfo-0')!.textContent!));
    await page.waitForFunction(() => /a cell is one 4 KiB page, a row one 2 MiB pageblock; rows 0\.\.511/.test(document.getElementById('map-scale')!.textContent!));
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe('prsim web', () => {
  it('serves the page, its scripts and the scenario catalogue, and nothing outside dist/web', async () => {
    const index = await fetch(s.web.url);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('id="map-0"');
    const list = await (await fetch(`${s.web.url}scenarios/index.json`)).json();
    expect(list).toContain('memhog.json');
    expect(await (await fetch(`${s.web.url}scenarios/memhog.json`)).text()).toBe(readFileSync(join(ROOT, 'scenarios', 'memhog.json'), 'utf8'));
    expect((await fetch(`${s.web.url}nope.js`)).status).toBe(404);
    expect((await fetch(`${s.web.url}..%2f..%2fpackage.json`)).status).toBe(403);
    expect((await fetch(s.web.url, { method: 'POST' })).status).toBe(405);
  });

  it('prsim web parses its options and says what is wrong', async () => {
    const ac = new AbortController();
    const io = memoryIo(ROOT, ac.signal);
    expect(await main(['web', '--port=0', '--dir', join(ROOT, 'dist', 'web')], io)).toBe(0);
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(io.stdout)![1]!;
    expect((await fetch(url)).status).toBe(200);
    ac.abort();
    const bad = memoryIo(ROOT);
    expect(await main(['web', '--port', 'x'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/^prsim: web: --port must be an integer/);
    const busy = memoryIo(ROOT);
    expect(await main(['web', '--port', String(s.web.port), '--dir', join(ROOT, 'dist', 'web')], busy)).toBe(2);
    expect(busy.stderr).toMatch(/is in use/);
    await expect(startWebServer({ port: s.web.port, dir: join(ROOT, 'dist', 'web') })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(startWebServer({ port: 0, dir: join(ROOT, 'no-such-dir') })).rejects.toThrow(/npm run build/);
  });
});
