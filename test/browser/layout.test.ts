// No text on the page overlaps other text, at 360, 800 and 1440 px wide: every text node's boxes (HTML) and every
// SVG <text> of the charts, measured from the DOM after a whole run, with the experiment and data panels open.
// Also no text outside the card or button that holds it, and no sideways scrolling. Takes the narrow screenshot for the README.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { openPage, ROOT, startSession, waitState, type Session } from './browser.js';

let s: Session;
beforeAll(async () => {
  s = await startSession();
});
afterAll(async () => {
  await s?.close();
});

interface Box { x: number; y: number; w: number; h: number; text: string }

describe('layout', () => {
  for (const width of [360, 800, 1440]) {
    it(`has no overlapping text at ${width} px`, async () => {
      const page = await openPage(s, 'scenario=memhog&a=linux-5.7&b=hinting&speed=max', width, 900);
      await waitState(page, 'done');
      await page.click('#experiment > summary');
      await page.click('#data > summary');
      await page.click('#copy-json');
      const measure = () => page.evaluate(() => {
        const out: Box[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = n.textContent ?? '';
          const parent = n.parentElement;
          if (!text.trim() || !parent || parent.closest('svg, option, textarea, script, style')) continue;
          range.selectNodeContents(n);
          for (const r of range.getClientRects()) if (r.width > 0.5 && r.height > 0.5) out.push({ x: r.x, y: r.y + window.scrollY, w: r.width, h: r.height, text: text.trim().slice(0, 40) });
        }
        for (const t of document.querySelectorAll('svg text')) {
          const r = t.getBoundingClientRect();
          if (r.width > 0.5 && r.height > 0.5) out.push({ x: r.x, y: r.y + window.scrollY, w: r.width, h: r.height, text: `svg: ${t.textContent}` });
        }
        return out;
      });
      const overlapsOf = (boxes: Box[]) => {
        const out: string[] = [];
        // Boxes of one line of text can touch; text boxes include the line's leading, so allow a pixel.
        const eps = 1;
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i]!, b = boxes[j]!;
            if (a.x + a.w - eps > b.x && b.x + b.w - eps > a.x && a.y + a.h - eps > b.y && b.y + b.h - eps > a.y) out.push(`"${a.text}" and "${b.text}"`);
          }
        }
        return out;
      };
      // Text that runs out of its box (a figure's unit past the edge of its card, under the next card) is a
      // collision too: every text box lies inside the nearest enclosing box that is drawn (a background or a
      // border), unless a scrolling container holds it.
      const outside = await page.evaluate(() => {
        const out: string[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = n.textContent ?? '';
          const parent = n.parentElement;
          if (!text.trim() || !parent || parent.closest('svg, option, textarea, script, style, select')) continue;
          let box: HTMLElement | null = parent;
          let scrolls = false;
          for (; box && box !== document.body; box = box.parentElement) {
            const cs = getComputedStyle(box);
            if (cs.overflowX !== 'visible') { scrolls = true; break; }
            if (cs.backgroundColor !== 'rgba(0, 0, 0, 0)' || parseFloat(cs.borderLeftWidth) > 0) break;
          }
          if (scrolls || !box || box === document.body || box.offsetParent === null) continue;
          const b = box.getBoundingClientRect();
          range.selectNodeContents(n);
          for (const r of range.getClientRects()) {
            if (r.width < 0.5 || r.height < 0.5) continue;
            if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1) out.push(`"${text.trim().slice(0, 30)}" outside its ${box.tagName.toLowerCase()}.${box.className}`);
          }
        }
        return out;
      });
      expect(outside).toEqual([]);
      const boxes: Box[] = await measure();
      expect(boxes.length).toBeGreaterThan(200);
      expect(boxes.filter((b) => b.text.startsWith('svg: ')).length).toBeGreaterThan(60);
      expect(overlapsOf(boxes)).toEqual([]);
      // The measure sees an overlap when there is one: a label moved onto a chart title.
      await page.evaluate(() => {
        const title = document.querySelector('#fig-rss svg text')!.getBoundingClientRect();
        const el = document.createElement('span');
        el.textContent = 'control';
        el.style.cssText = `position:absolute;left:${title.x + 4}px;top:${title.y + window.scrollY + 2}px;font-size:12px`;
        el.id = 'overlap-control';
        document.body.append(el);
      });
      expect(overlapsOf(await measure()).some((o) => o.includes('"control"'))).toBe(true);
      await page.evaluate(() => document.getElementById('overlap-control')!.remove());
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      if (width === 360) await page.screenshot({ path: join(ROOT, 'docs', 'screenshot-360.png'), fullPage: true });
      await page.close();
      expect(s.errors).toEqual([]);
    });
  }
});
