// Bring your own data: /proc snapshots, kpageflags dumps and run folders (files, a folder, a zip, a drop) build
// the same guest in the page as `prsim import --format state` does in the CLI, and a run folder's real RSS curve
// is drawn beside the simulated one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { openPage, prsim, ROOT, SHARED, startSession, value, waitState, type Session } from './browser.js';

const E2 = join(SHARED, 'E2_memhog512_r1');
const E5 = join(SHARED, 'E5_trace256');
const have = existsSync(E2) && existsSync(E5);
let s: Session;
let tmp: string;

beforeAll(async () => {
  s = await startSession();
  tmp = mkdtempSync(join(tmpdir(), 'prsim-data-'));
});
afterAll(async () => {
  await s?.close();
});

async function importedBuddyinfo(page: Page): Promise<string> {
  await page.waitForSelector('#imported-buddyinfo:not([hidden])', { state: 'attached', timeout: 60_000 });
  return (await page.textContent('#imported-buddyinfo'))!;
}

/** Free pages in /proc/buddyinfo text. */
function freePages(text: string): number {
  return text.trim().split('\n').reduce((a, line) => a + line.trim().split(/\s+/).slice(4).reduce((b, n, o) => b + Number(n) * 2 ** o, 0), 0);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('data that cannot be read', () => {
  it('a corrupt zip is named in the status, with no page error, and the guest stays as it was', async () => {
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&speed=max&autoplay=0');
    await page.click('#data > summary');
    const bad = join(tmp, 'run.zip');
    writeFileSync(bad, Buffer.from('PK\u0003\u0004 this is not a zip archive at all, only its first bytes are'));
    await page.setInputFiles('#pick-files', bad);
    await page.waitForFunction(() => /^Could not build a guest from that: run\.zip: not a zip archive/.test(document.getElementById('import-status')!.textContent!));
    expect(await page.getAttribute('#import-status', 'class')).toBe('bad');
    expect(await page.getAttribute('#imported-buddyinfo', 'hidden')).not.toBeNull();
    await page.close();
    expect(s.errors).toEqual([]);
  });
});

describe.skipIf(!have)(`your own data (needs ${SHARED})`, () => {
  it('an E2 snapshot (buddyinfo + pagetypeinfo + zoneinfo) gives the buddyinfo prsim import --format state gives', async () => {
    const cli = prsim('import', E2, '--format', 'state');
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&speed=max&autoplay=0');
    await page.click('#data > summary');
    await page.setInputFiles('#pick-files', ['pre.buddyinfo', 'pre.pagetypeinfo', 'pre.zoneinfo'].map((f) => join(E2, 'guest', f)));
    expect(await importedBuddyinfo(page)).toBe(cli);
    // Both policies start from it: at t = 0 the guest's free memory is the snapshot's.
    await page.waitForFunction(() => document.getElementById('time')!.dataset['t'] === '0' && /Guest: /.test(document.getElementById('desc')!.textContent!));
    await waitState(page, 'paused');
    expect(await value(page, 'free-0')).toBe(freePages(cli));
    expect(await value(page, 'free-1')).toBe(freePages(cli));
    expect(await page.textContent('#import-status')).toMatch(/^Built the guest from pre\.buddyinfo \+ pre\.pagetypeinfo with pre\.zoneinfo/);
    // The scenario JSON says what it cannot hold.
    await page.click('#experiment > summary');
    await page.click('#copy-json');
    expect(JSON.parse(await page.inputValue('#scenario-json')).description).toMatch(/cannot hold that state, so prsim run boots it fresh/);
    // Dropped onto the drop zone (files dragged in), the same.
    await page.click('#clear-import');
    await page.waitForSelector('#imported-buddyinfo[hidden]', { state: 'attached' });
    const bytes = ['pre.buddyinfo', 'pre.pagetypeinfo', 'pre.zoneinfo'].map((f) => ({ name: f, text: readFileSync(join(E2, 'guest', f), 'utf8') }));
    await page.evaluate((files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([f.text], f.name));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    expect(await importedBuddyinfo(page)).toBe(cli);
    await page.close();
    expect(s.errors).toEqual([]);
  });

  it('a run folder as a zip: the same guest, the run\'s memhog timing, and the real RSS curve beside the simulated one', async () => {
    const cli = prsim('import', E2, '--format', 'state');
    const zip = join(tmp, 'E2.zip');
    const entries = Object.fromEntries(filesUnder(E2).map((p) => [`E2_memhog512_r1/${relative(E2, p)}`, readFileSync(p)]));
    writeFileSync(zip, zipSync(entries));
    const page = await openPage(s, 'scenario=memhog&a=none&b=linux-6.1&speed=max&autoplay=0');
    await page.setInputFiles('#pick-files', zip);
    expect(await importedBuddyinfo(page)).toBe(cli);
    expect(await page.textContent('#import-status')).toMatch(/of E2_memhog512_r1/);
    // The workload follows the run: memhog of 512 MiB starting just after the snapshot (settle_done).
    await page.waitForFunction(() => new URL(location.href).searchParams.get('w0.mib') === '512');
    expect(Number(new URL(page.url()).searchParams.get('w0.startS'))).toBeCloseTo(0.051, 3);
    await page.click('#play');
    await waitState(page, 'done');
    const series = await page.$$eval('#fig-rss svg path[data-series]', (ps) => ps.map((p) => p.getAttribute('data-series')));
    expect(series).toEqual(['A none', 'B linux-6.1', 'E2_memhog512_r1: real guest RAM (ram.csv)']);
    // The real curve falls after the free as the simulated 6.1 one does: both end far below their peak.
    const d = await page.$eval('#fig-rss svg path[data-series^="E2"]', (p) => p.getAttribute('d')!);
    expect(d.split(/[ML]/).filter(Boolean).length).toBeGreaterThan(50);
    expect(await value(page, 'rss-1')).toBeLessThan((await value(page, 'rss-0')) / 2);
    await page.locator('#fig-rss').screenshot({ path: join(ROOT, 'docs', 'screenshot-real-rss.png') });
    await page.close();
    expect(s.errors).toEqual([]);
  });

  it('a run folder picked as a folder, and a kpageflags dump with its zoneinfo: the guest from the dump, as the CLI builds it', async () => {
    const cli = prsim('import', E5, '--format', 'state');
    const page = await openPage(s, 'scenario=fragment&a=linux-5.7&b=linux-6.1&speed=max&autoplay=0');
    await page.click('#data > summary');
    await page.setInputFiles('#pick-folder', E5);
    expect(await importedBuddyinfo(page)).toBe(cli);
    expect(await page.textContent('#import-status')).toMatch(/^Built the guest from E5_trace256\/guest\/kpageflags\.pre\.bin\.gz with pre\.zoneinfo and dmesg\.txt/);
    await page.click('#clear-import');
    await page.waitForSelector('#imported-buddyinfo[hidden]', { state: 'attached' });
    await page.setInputFiles('#pick-files', ['kpageflags.pre.bin.gz', 'pre.zoneinfo', 'dmesg.txt'].map((f) => join(E5, 'guest', f)));
    expect(await importedBuddyinfo(page)).toBe(cli);
    // A dump without its zoneinfo cannot be placed: said so.
    await page.click('#clear-import');
    await page.setInputFiles('#pick-files', join(E5, 'guest', 'kpageflags.pre.bin.gz'));
    await page.waitForFunction(() => /^Could not build a guest from that: no zoneinfo/.test(document.getElementById('import-status')!.textContent!));
    await page.close();
    expect(s.errors).toEqual([]);
  });
});
