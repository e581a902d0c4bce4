// The package's main entry (".") embedded in a browser as a user would: `import { WasmGuest, simulate } from
// 'page-reporting-sim'` bundled by esbuild for --platform=browser, as ESM and as an IIFE, then run in Chromium
// (in a Web Worker: a page's main thread may not compile a module this size synchronously) where there is no
// `process`, no `Buffer` and no node: module. The figures must be Node's, to the page.
import { build, type BuildResult } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startSession, type Session } from './browser.js';

// What the embedding program does: a guest by hand, then a whole simulation. It posts its figures back.
const PROGRAM = `
import { WasmGuest, simulate, MigrateType, buddyinfoText } from 'page-reporting-sim';

async function run() {
  const g = WasmGuest.create({ profile: 'linux-6.1', memBytes: 2 ** 30, cpus: 2 });
  g.boot();
  const pfns = [];
  for (let i = 0; i < 1000; i++) pfns.push(g.alloc(i % 4, MigrateType.MOVABLE));
  for (const [i, p] of pfns.entries()) if (i % 3 === 0) g.free(p, i % 4);
  g.check();
  const result = await simulate({
    durationS: 12, seed: 3,
    guests: [{ guest: { memBytes: 2 ** 29, cpus: 2 }, policy: { kind: 'reporting', profile: 'linux-6.1' },
      workloads: [{ kind: 'memhog', startS: 1, mib: 128, holdS: 1 }] }],
  });
  const m = result.guests[0].metrics;
  return {
    hasProcess: typeof process !== 'undefined', hasBuffer: typeof Buffer !== 'undefined',
    buddyinfo: buddyinfoText(g), pagesReported: m.reporting.pagesReported, reportCalls: m.reporting.reportCalls,
    rssKib: m.host.rssKib, samples: result.guests[0].samples.length,
  };
}
`;
const POST = 'run().then((r) => postMessage(r), (e) => postMessage({ error: String(e && e.stack || e) }));';

let s: Session;
let tmp: string;

beforeAll(async () => {
  s = await startSession();
  // The package as a dependency of the embedding program (a link to this checkout, so its package.json
  // "exports" decide what resolves, as they do for an installed copy).
  tmp = mkdtempSync(join(tmpdir(), 'prsim-embed-'));
  mkdirSync(join(tmp, 'node_modules'));
  symlinkSync(ROOT, join(tmp, 'node_modules', 'page-reporting-sim'), 'dir');
});
afterAll(async () => {
  await s?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function bundle(format: 'esm' | 'iife', contents: string): Promise<BuildResult & { text: string }> {
  const r = await build({
    stdin: { contents, resolveDir: tmp, loader: 'js' }, bundle: true, platform: 'browser', format, write: false,
    metafile: true, logLevel: 'silent', target: 'es2022',
  });
  return { ...r, text: r.outputFiles![0]!.text };
}

/** Run a script in a Web Worker of a Chromium page; its first message is the answer. */
async function inWorker(code: string, type: 'module' | 'classic'): Promise<Record<string, unknown>> {
  const page = await s.context.newPage();
  try {
    await page.goto(s.web.url);
    return await page.evaluate(async ({ code, type }) => {
      const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
      const w = new Worker(url, { type });
      return await new Promise<Record<string, unknown>>((resolve) => {
        w.onmessage = (e) => resolve(e.data as Record<string, unknown>);
        w.onerror = (e) => resolve({ error: e.message });
      });
    }, { code, type });
  } finally {
    await page.close();
  }
}

async function inNode(): Promise<Record<string, unknown>> {
  const r = await bundle('esm', `${PROGRAM}\nexport { run };`);
  const file = join(tmp, 'node-run.mjs');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, r.text);
  const mod = (await import(file)) as { run(): Promise<Record<string, unknown>> };
  return mod.run();
}

describe('the package in a browser', () => {
  it('"." bundles for --platform=browser as ESM and as an IIFE, with no node: module and no top-level await', async () => {
    for (const format of ['esm', 'iife'] as const) {
      const r = await bundle(format, `${PROGRAM}\n${POST}`);
      expect(r.errors, format).toEqual([]);
      expect(r.warnings, format).toEqual([]);
      const inputs = Object.keys(r.metafile!.inputs);
      expect(inputs.some((f) => f.includes('dist/index.js')), format).toBe(true);
      // Only the browser face: no Node-only module of the package came along.
      expect(inputs.filter((f) => /run-folder|replay\/folder|sweep\/|cli\/|web\/serve|scenario\/load/.test(f)), format).toEqual([]);
      const imports = Object.values(r.metafile!.inputs).flatMap((i) => i.imports.map((x) => x.path));
      expect(imports.filter((p) => p.startsWith('node:')), format).toEqual([]);
    }
  });

  it('a Node-only import is refused by the browser build, so the check above can fail', async () => {
    await expect(bundle('esm', `import { loadRun } from 'page-reporting-sim/node';\nconsole.log(loadRun);`)).rejects.toThrow(/node:/);
  });

  it('the bundles run a guest and simulate() in Chromium, with the figures Node gives', async () => {
    const node = await inNode();
    expect(node['samples']).toBeGreaterThan(200);
    expect(node['pagesReported']).toBeGreaterThan(0);
    for (const [format, type] of [['esm', 'module'], ['iife', 'classic']] as const) {
      const r = await bundle(format, `${PROGRAM}\n${POST}`);
      const got = await inWorker(r.text, type);
      expect(got['error'], format).toBeUndefined();
      expect(got['hasProcess'], format).toBe(false);
      expect(got['hasBuffer'], format).toBe(false);
      expect({ ...got, hasProcess: true, hasBuffer: true }, format).toEqual({ ...node, hasProcess: true, hasBuffer: true });
    }
  });
});
