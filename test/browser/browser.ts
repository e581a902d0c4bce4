// Shared set-up of the browser tests: the built page served by startWebServer, Debian's Chromium through playwright-core,
// and small helpers that read the page. `npm run test:browser` builds dist/ (page and CLI) first.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startWebServer, type WebServer } from '../../src/web/serve.js';
import { REAL } from '../helpers/shared.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_DIR = join(ROOT, 'dist', 'web');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const SHARED = REAL.replace(/\/$/, '');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Session {
  web: WebServer;
  context: BrowserContext;
  errors: string[];
  close(): Promise<void>;
}

export async function startSession(): Promise<Session> {
  if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`${WEB_DIR} is not built: run 'npm run test:browser' (it builds first)`);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const web = await startWebServer({ port: 0, dir: WEB_DIR });
  const profileDir = mkdtempSync(join(tmpdir(), 'prsim-chromium-'));
  // launch() refuses --user-data-dir; a persistent context on a fresh directory is the same thing.
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
  });
  return {
    web, context, errors: [],
    async close() {
      await context.close();
      await web.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

export async function openPage(s: Session, query: string, width = 1440, height = 900): Promise<Page> {
  const page = await s.context.newPage();
  await page.setViewportSize({ width, height });
  page.on('pageerror', (e) => s.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') s.errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${s.web.url}?${query}`);
  await page.waitForFunction(() => Number(document.body.dataset['frames'] ?? 0) >= 1, null, { timeout: 30_000 });
  return page;
}

export async function waitState(page: Page, state: string, timeout = 120_000): Promise<void> {
  await page.waitForSelector(`#status[data-state="${state}"]`, { timeout });
}

/** Waits for the paused state and for the frame the worker may have posted just before the pause to be drawn:
 * the count of drawn frames stays the same for half a second. */
export async function settlePaused(page: Page): Promise<void> {
  await waitState(page, 'paused');
  let last = -1;
  for (;;) {
    const n = Number(await page.evaluate(() => document.body.dataset['frames'] ?? '0'));
    if (n === last) return;
    last = n;
    await page.waitForTimeout(500);
  }
}

export async function value(page: Page, id: string): Promise<number> {
  const v = await page.getAttribute(`#${id}`, 'data-value');
  expect(v, `#${id} has a data-value`).not.toBeNull();
  return Number(v);
}

export async function tNow(page: Page): Promise<number> {
  return Number(await page.getAttribute('#time', 'data-t'));
}

/** The text of a file the page offers for download when `click` is clicked. */
export async function downloadText(page: Page, selector: string): Promise<{ name: string; text: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = await dl.path();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(path!);
  return { name: dl.suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

/** `prsim` (the built CLI) with arguments; stdout. */
export function prsim(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Pixels of a canvas with each of the given colours (#rrggbb), counted in the page. */
export async function canvasColors(page: Page, id: string, colors: string[]): Promise<Record<string, number>> {
  return page.evaluate(({ id, colors }) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const want = colors.map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]);
    const out: Record<string, number> = { pixels: data.length / 4 };
    colors.forEach((h) => (out[h] = 0));
    for (let i = 0; i < data.length; i += 4) {
      const k = want.findIndex(([r, g, b]) => data[i] === r && data[i + 1] === g && data[i + 2] === b);
      if (k >= 0) out[colors[k]!]!++;
    }
    return out;
  }, { id, colors });
}
