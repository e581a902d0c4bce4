// The browser page, driven by Debian's Chromium headless through playwright-core: it runs the same Simulation as
// Node (the figures it shows equal a Node run of the same scenario and seed), its maps and charts move, and its
// controls work. `npm run test:browser` builds dist/web first; this file serves it with serveWeb.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveWeb, parseWebArgs, type WebServer } from '../../src/web/serve.js';
import { Simulation } from '../../src/sim/engine.js';
import { scenarioSpec, type PolicyId } from '../../src/web/scenarios.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB_DIR = join(ROOT, 'dist', 'web');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'docs', 'screenshot.png');

let web: WebServer;
let context: BrowserContext;
let profileDir: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`${WEB_DIR} is not built: run 'npm run test:browser' (it builds first)`);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  web = (await serveWeb(['--port', '0'], { dir: WEB_DIR, log: null }))!;
  profileDir = mkdtempSync(join(tmpdir(), 'prsim-chromium-'));
  // launch() refuses --user-data-dir; a persistent context on a fresh directory is the same thing.
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
});

afterAll(async () => {
  await context?.close();
  await web?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function openPage(query: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  await page.goto(`${web.url}?${query}`);
  await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 1, null, { timeout: 30_000 });
  return page;
}

/**
 * A snapshot of a canvas's pixels, kept in the page (a 512×512 map is a million numbers: comparing in the page is
 * much faster than shipping them out). Returns how many pixels have each of the given colours.
 */
async function snap(page: Page, id: string, key: string, colors: string[] = []): Promise<Record<string, number>> {
  return page.evaluate(({ id, key, colors }) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const data = new Uint32Array(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.buffer.slice(0));
    const w = window as unknown as { __snaps?: Record<string, Uint32Array> };
    (w.__snaps ??= {})[key] = data;
    const want = colors.map((h) => (0xff << 24 | parseInt(h.slice(5, 7), 16) << 16 | parseInt(h.slice(3, 5), 16) << 8 | parseInt(h.slice(1, 3), 16)) >>> 0);
    const out: Record<string, number> = { pixels: data.length };
    colors.forEach((h) => (out[h] = 0));
    for (const px of data) {
      const k = want.indexOf(px);
      if (k >= 0) out[colors[k]!]!++;
    }
    return out;
  }, { id, key, colors });
}

/** Pixels that differ between two snapshots. */
async function differing(page: Page, a: string, b: string): Promise<number> {
  return page.evaluate(({ a, b }) => {
    const s = (window as unknown as { __snaps: Record<string, Uint32Array> }).__snaps;
    const x = s[a]!, y = s[b]!;
    let n = Math.abs(x.length - y.length);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++;
    return n;
  }, { a, b });
}

const REPORTED = '#3fcf74';
const ALLOCATED = '#4f8fe8';
const FREE_RESIDENT = '#e5a13a';

async function value(page: Page, id: string): Promise<number> {
  const v = await page.getAttribute(`#${id}`, 'data-value');
  expect(v, `#${id} has a data-value`).not.toBeNull();
  return Number(v);
}

async function waitState(page: Page, state: string, timeout = 60_000): Promise<void> {
  await page.waitForSelector(`#status[data-state="${state}"]`, { timeout });
}

async function tNow(page: Page): Promise<number> {
  return Number(await page.getAttribute('#time', 'data-t'));
}

/** What the page must show: the same Simulation run in this process. */
function nodeRun(scenario: string, policy: PolicyId, seed: number) {
  const sim = new Simulation(scenarioSpec(scenario, policy, seed));
  sim.runSync();
  const r = sim.result();
  return { metrics: r.guests[0]!.metrics, samples: r.guests[0]!.samples };
}

describe('the browser page', () => {
  it('runs memhog at max speed: maps and charts change, figures equal a Node run, screenshot', async () => {
    const policies: [PolicyId, PolicyId] = ['none', 'linux-6.1'];
    const page = await openPage(`scenario=memhog&a=${policies[0]}&b=${policies[1]}&seed=1&speed=max&autoplay=0`);
    await waitState(page, 'paused');
    expect(await tNow(page)).toBe(0);
    expect(await page.inputValue('#scenario')).toBe('memhog');
    const COLORS = [REPORTED, ALLOCATED, FREE_RESIDENT];
    const map0Start = await snap(page, 'map-0', 'map0Start', COLORS);
    const map1Start = await snap(page, 'map-1', 'map1Start', COLORS);
    await snap(page, 'chart-rss', 'rssStart');
    await snap(page, 'chart-reported', 'reportedStart');
    expect(map0Start.pixels).toBe(512 * 512); // 1 GiB: a pixel a page, a row a pageblock
    expect(map1Start[REPORTED]).toBe(0);

    // Step (1 s slices at max speed) into the hold, 10 s .. 14.3 s: the 512 MiB are allocated.
    for (let k = 1; k <= 12; k++) {
      await page.click('#step');
      await page.waitForFunction((t) => Number(document.getElementById('time')!.dataset.t) === t, k * 1000);
    }
    const map1Hold = await snap(page, 'map-1', 'map1Hold', COLORS);
    expect(map1Hold[ALLOCATED]).toBeGreaterThan(512 * 256 * 0.9);
    await page.click('#play');
    await waitState(page, 'done');
    expect(await tNow(page)).toBe(40_000);

    const map0End = await snap(page, 'map-0', 'map0End', COLORS);
    const map1End = await snap(page, 'map-1', 'map1End', COLORS);
    // The memory maps changed between the start and after the free.
    expect(await differing(page, 'map0Start', 'map0End')).toBeGreaterThan(10_000);
    expect(await differing(page, 'map1Start', 'map1End')).toBeGreaterThan(10_000);
    // With reporting, the freed 512 MiB end up reported; without, they stay resident on the host.
    expect(map1End[REPORTED]).toBeGreaterThan(100_000);
    expect(map0End[REPORTED]).toBe(0);
    expect(map0End[FREE_RESIDENT]).toBeGreaterThan(100_000);

    // The charts were drawn from every sample of both runs.
    await snap(page, 'chart-rss', 'rssEnd');
    await snap(page, 'chart-reported', 'reportedEnd');
    expect(await differing(page, 'rssStart', 'rssEnd')).toBeGreaterThan(500);
    expect(await differing(page, 'reportedStart', 'reportedEnd')).toBeGreaterThan(500);

    // The figures equal a Node run of the same scenario and seed.
    for (const [i, policy] of policies.entries()) {
      const node = nodeRun('memhog', policy, 1);
      expect(await page.getAttribute('#chart-rss', 'data-points')).toBe(String(2 * node.samples.length));
      expect(await value(page, `rss-${i}`)).toBe(node.metrics.hostRssKib);
      expect(await value(page, `pages-reported-${i}`)).toBe(node.metrics.pagesReported);
      expect(await value(page, `report-calls-${i}`)).toBe(node.metrics.reportCalls);
      expect(await page.textContent(`#rss-${i}`)).toBe(`${(node.metrics.hostRssKib! / 1024).toFixed(1)}MiB`);
    }
    // And the run itself shows what reporting is for.
    expect(await value(page, 'pages-reported-1')).toBeGreaterThan(100_000);
    expect(await value(page, 'rss-1')).toBeLessThan((await value(page, 'rss-0')) / 4);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('pause, step, speed and reset drive the worker', async () => {
    const page = await openPage('scenario=memhog&a=linux-5.7&b=linux-next&seed=1&speed=max&autoplay=0');
    await waitState(page, 'paused');
    expect(await tNow(page)).toBe(0);
    const frames = async () => Number(await page.getAttribute('body', 'data-frames'));

    // step at max speed: one 1 s slice
    let f = await frames();
    await page.click('#step');
    await page.waitForFunction((n) => Number(document.body.dataset.frames) > n, f);
    expect(await tNow(page)).toBe(1000);

    // ×1: a step is 100 ms of simulated time
    await page.selectOption('#speed', '1');
    f = await frames();
    await page.click('#step');
    await page.waitForFunction((n) => Number(document.body.dataset.frames) > n, f);
    expect(await tNow(page)).toBe(1100);

    // play at ×10, then pause: time moves, then stops
    await page.selectOption('#speed', '10');
    await page.click('#play');
    await waitState(page, 'running');
    await page.waitForFunction(() => Number(document.getElementById('time')!.dataset.t) >= 3000, null, { timeout: 20_000 });
    await page.click('#play');
    await waitState(page, 'paused');
    const paused = await tNow(page);
    await page.waitForTimeout(400);
    expect(await tNow(page)).toBe(paused);
    expect(paused).toBeGreaterThanOrEqual(3000);
    expect(paused).toBeLessThan(40_000);

    // reset: back to t = 0 and the same start
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('time')!.dataset.t === '0');
    await waitState(page, 'paused');
    expect(await page.getAttribute('#chart-rss', 'data-points')).toBe('2');

    // another pair and scenario through the selects, run to the end: figures match Node (hinting shows hints)
    await page.selectOption('#speed', 'max');
    await page.selectOption('#scenario', 'fragment');
    await page.selectOption('#policy-1', 'hinting');
    await page.waitForFunction(() => document.getElementById('time')!.dataset.t === '0' && document.getElementById('label-1')!.textContent!.startsWith('hinting'));
    await page.click('#play');
    await waitState(page, 'done');
    const a = nodeRun('fragment', 'linux-5.7', 1).metrics;
    const b = nodeRun('fragment', 'hinting', 1).metrics;
    expect(await value(page, 'rss-0')).toBe(a.hostRssKib);
    expect(await value(page, 'pages-reported-0')).toBe(a.pagesReported);
    expect(await value(page, 'report-calls-0')).toBe(a.reportCalls);
    expect(await value(page, 'rss-1')).toBe(b.hostRssKib);
    expect(await value(page, 'pages-reported-1')).toBe(b['hint.pagesHinted']);
    expect(await page.textContent('#reported-label-1')).toBe('pages hinted');
    expect(new URL(page.url()).searchParams.get('scenario')).toBe('fragment');
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});

describe('serveWeb', () => {
  it('serves the page and its scripts, and nothing outside dist/web', async () => {
    const index = await fetch(web.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('id="map-0"');
    const js = await fetch(`${web.url}worker.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${web.url}nope.js`)).status).toBe(404);
    expect((await fetch(`${web.url}..%2f..%2fpackage.json`)).status).toBe(403);
    expect((await fetch(web.url, { method: 'POST' })).status).toBe(405);
  });

  it('parses its options and says what is wrong', async () => {
    expect(parseWebArgs([])).toMatchObject({ port: 8080, host: '127.0.0.1' });
    expect(parseWebArgs(['--port', '9000']).port).toBe(9000);
    expect(parseWebArgs(['--port=0']).port).toBe(0);
    expect(() => parseWebArgs(['--port', 'x'])).toThrow(/--port must be an integer/);
    expect(() => parseWebArgs(['--bogus'])).toThrow(/unknown option '--bogus'/);
    await expect(serveWeb(['--port', String(web.port)], { dir: WEB_DIR, log: null })).rejects.toThrow(/is in use/);
    await expect(serveWeb(['--port', '0'], { dir: join(ROOT, 'no-such-dir'), log: null })).rejects.toThrow(/npm run build/);
    const lines: string[] = [];
    expect(await serveWeb(['--help'], { log: (l) => lines.push(l) })).toBeNull();
    expect(lines.join('\n')).toMatch(/--port N/);
  });
});
