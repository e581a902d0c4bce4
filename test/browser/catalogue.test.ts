// The page and `prsim run` on every file of the catalogue, unchanged: the page's two policies (the file's first
// two, or others named in the URL) give the figures of the guests of the same names in `prsim run <file>`, at
// the file's seed and at another. The page runs only its two policies, the CLI every one of the file: a guest's
// figures depend on nothing but its own entry, so they must agree. A policy the file does not list is compared
// with `prsim compare <file> --policies <it>`; a file with a sweep grid runs its base point on both sides.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, prsim, ROOT, startSession, value, waitState, type Session } from './browser.js';
import type { GuestMetrics } from '../../src/sim/types.js';

let s: Session;
beforeAll(async () => {
  s = await startSession();
});
afterAll(async () => {
  await s?.close();
});

interface CliGuest { name: string; metrics: GuestMetrics }

const FILES = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.json')).sort();

describe('the page and prsim run, on every catalogue file', () => {
  it('the catalogue is the scenarios folder', () => {
    expect(FILES).toEqual(['churn.json', 'fragment.json', 'memhog.json', 'order0.json', 'sweep-order.json']);
  });

  const CASES: Array<[string, string]> = [
    ['churn', ''], ['churn', '&a=linux-5.7&b=hinting&seed=7'],
    ['fragment', ''], ['fragment', '&a=linux-5.7&b=linux-6.1'],
    ['memhog', '&a=linux-5.7&b=linux-6.1'], ['memhog', '&a=hinting&b=none&seed=9'],
    ['order0', ''], ['order0', '&seed=4'],
    ['sweep-order', ''], ['sweep-order', '&b=linux-5.7&seed=2'],
  ];
  for (const [id, extra] of CASES) {
    it(`${id}${extra}`, async () => {
      const page = await openPage(s, `scenario=${id}${extra}&speed=max&autoplay=0`);
      await waitState(page, 'paused');
      expect(await page.textContent('#problems')).toBe('');
      await page.click('#play');
      await waitState(page, 'done', 300_000);
      const labels = [await page.textContent('#label-0'), await page.textContent('#label-1')];
      const seed = /seed=(\d+)/.exec(extra)?.[1];
      const cli = JSON.parse(prsim('run', `scenarios/${id}.json`, '--json', ...(seed ? ['--seed', seed] : [])));
      const named = (cli.result.guests as CliGuest[]);
      for (const [i, label] of labels.entries()) {
        const g = named.find((x) => x.name === label);
        if (!g) {
          // The page's policy is not one of the file's: compare with that policy on the file's guest.
          const policy = label!.split(' ')[0]!;
          const one = JSON.parse(prsim('compare', `scenarios/${id}.json`, '--policies', policy, '--json', ...(seed ? ['--seed', seed] : [])));
          named.push({ ...one.result.guests[0], name: label! });
        }
        const m = named.find((x) => x.name === label)!.metrics;
        // The page shows a hinting guest's hinted pages and walks where a reporting guest has its reports.
        const hint = label!.startsWith('hinting');
        const got = {
          rss: await value(page, `rss-${i}`), reported: await value(page, `pages-reported-${i}`),
          calls: await value(page, `report-calls-${i}`), refaults: await value(page, `refaults-${i}`),
        };
        expect(got, `${id}${extra} ${label}`).toEqual({
          rss: m.host.rssKib, reported: hint ? m.hinting!.pagesHinted : m.reporting.pagesReported,
          calls: hint ? m.hinting!.walks : m.reporting.reportCalls, refaults: m.host.refaultPages,
        });
      }
      await page.close();
      expect(s.errors).toEqual([]);
    });
  }
});
