// Fuzz: every input format, mutated many times from the real files of ../shared/real-kernel and the scenario
// files, must end in success or a clean refusal: exit 0, or exit 2 with `prsim:` lines (a SimError through the
// API), never an internal error, a stack trace, a hang or a blow-up. Scenario runs are bounded by small limits (the
// estimate refuses bigger runs) and an AbortSignal. FUZZ_SCALE multiplies the case counts (npm run fuzz runs a
// longer campaign), FUZZ_SEED picks another campaign; a failing case prints its seed, index and mutation.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { SimError } from '../src/core/errors.js';
import { memoryIo } from '../src/cli/io.js';
import { parseScenario, parseScenarioJson } from '../src/scenario/load.js';
import { expandGrid } from '../src/scenario/grid.js';
import { simulate } from '../src/sim/engine.js';
import { summarize } from '../src/report/summary.js';
import { comparisonTable } from '../src/report/table.js';
import { timeSeriesCsv } from '../src/report/csv.js';
import { htmlReport } from '../src/report/html.js';
import { estimateRun } from '../src/sim/estimate.js';
import { ROOT, smallScenario } from './cli.helpers.js';
import { Rng, mutateBytes, mutateJson, mutateText } from './fuzz/mutate.js';
import { prsimWith } from './helpers/in-process.js';
import { REAL, REAL_RUNS, haveReal, needsReal } from './helpers/shared.js';

const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261205);
const tmp = mkdtempSync(join(tmpdir(), 'prsim-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What a fuzzed run may cost: small enough that thousands of cases finish, large enough to run real guests. */
const LIMITS = { wallSeconds: 0.5, heapBytes: 512 * 2 ** 20, memoryBytes: 2 * 2 ** 30 };
/** Far above anything a refused or bounded case should need: a case past it is a leak or a blow-up. */
const HEAP_BOUND = 1.5 * 2 ** 30;

interface Tally { accepted: number; refused: number; aborted: number; maxMs: number }
const tallies = new Map<string, Tally>();
function tally(format: string): Tally {
  let t = tallies.get(format);
  if (!t) tallies.set(format, (t = { accepted: 0, refused: 0, aborted: 0, maxMs: 0 }));
  return t;
}
afterAll(() => {
  const rows = [...tallies].map(([f, t]) => `${f.padEnd(16)} ${String(t.accepted + t.refused + t.aborted).padStart(6)} cases: ${t.accepted} accepted, ${t.refused} refused (exit 2), ${t.aborted} stopped by the signal; slowest ${t.maxMs.toFixed(0)} ms`);
  console.log(`fuzz (seed ${SEED}, scale ${SCALE}):\n${rows.join('\n')}`);
});

const prsim = (argv: string[]) => prsimWith(memoryIo(tmp), argv);

/** One case through the CLI: exit 0, or exit 2 with only `prsim:` lines; never exit 1. */
async function cliCase(format: string, argv: string[], context: string): Promise<void> {
  const t0 = performance.now();
  const r = await prsim(argv);
  const t = tally(format);
  t.maxMs = Math.max(t.maxMs, performance.now() - t0);
  const where = `${context}\n${r.stderr}`;
  expect(r.code, where).not.toBe(1);
  if (r.code === 0) t.accepted++;
  else {
    expect(r.code, where).toBe(2);
    expect(r.stderr.trimEnd().split('\n').every((l) => l.startsWith('prsim: ')), where).toBe(true);
    t.refused++;
  }
  expect(process.memoryUsage().heapUsed, where).toBeLessThan(HEAP_BOUND);
}

function files(dirs: string[], pattern: RegExp): string[] {
  return dirs.flatMap((d) => readdirSync(d).filter((f) => pattern.test(f)).map((f) => join(d, f)));
}

const guestDirs = REAL_RUNS.map((d) => join(REAL, d, 'guest'));
const runDirs = REAL_RUNS.map((d) => join(REAL, d));

/** Text formats read by `prsim import <file>`, each with the --format values that apply to it. */
const TEXT_FORMATS: Array<{ name: string; sources: string[]; fileName: (src: string) => string; formats: string[]; cases: number; dmesg?: boolean }> = [
  { name: 'zoneinfo', sources: files(guestDirs, /\.zoneinfo$/), fileName: basename, formats: ['summary', 'zones'], cases: 500, dmesg: true },
  { name: 'buddyinfo', sources: files(guestDirs, /\.buddyinfo$/), fileName: basename, formats: ['summary', 'buddyinfo'], cases: 500 },
  { name: 'pagetypeinfo', sources: files(guestDirs, /\.pagetypeinfo$/), fileName: basename, formats: ['summary'], cases: 500 },
  { name: 'reports.csv', sources: files(runDirs, /^reports\.csv$/), fileName: basename, formats: ['summary'], cases: 150 },
  { name: 'passes.csv', sources: files(runDirs, /^passes\.csv$/), fileName: basename, formats: ['summary'], cases: 150 },
  { name: 'rss/ram.csv', sources: files(runDirs, /^r[as][ms]\.csv$/), fileName: basename, formats: ['summary'], cases: 150 },
  { name: 'blocks.csv', sources: files(runDirs, /\.blocks\.csv$/), fileName: basename, formats: ['summary'], cases: 150 },
  { name: 'summary.json', sources: files(runDirs, /^summary\.json$/), fileName: basename, formats: ['summary'], cases: 150 },
];

/** The first lines of each real trace (the kmem events of E5, the reporting kprobes of the others). */
function traceSamples(): string[] {
  return guestDirs.flatMap((d) => readdirSync(d).filter((f) => /^trace\.txt(\.gz)?$/.test(f)).map((f) => {
    const raw = readFileSync(join(d, f));
    const text = new TextDecoder().decode(f.endsWith('.gz') ? gunzipSync(raw) : raw);
    return text.split('\n').slice(0, 1500).join('\n');
  }));
}

describe.skipIf(!haveReal('E2_memhog512_r1', 'E5_trace256'))(needsReal('fuzz: real-kernel files through prsim import', 'E2_memhog512_r1', 'E5_trace256'), () => {
  for (const fmt of TEXT_FORMATS) {
    it(`${fmt.name}: ${fmt.cases * SCALE} mutations`, async () => {
      expect(fmt.sources.length).toBeGreaterThan(0);
      const rng = new Rng(SEED ^ fmt.name.length * 7919);
      const texts = fmt.sources.map((s) => readFileSync(s, 'utf8'));
      const dir = mkdtempSync(join(tmp, `${fmt.name.replace(/\W/g, '')}-`));
      const dmesg = readFileSync(join(guestDirs[0]!, 'dmesg.txt'), 'utf8');
      for (let i = 0; i < fmt.cases * SCALE; i++) {
        const k = rng.int(texts.length);
        const m = mutateText(rng, texts[k]!);
        const path = join(dir, fmt.fileName(fmt.sources[k]!));
        writeFileSync(path, m.text);
        if (fmt.dmesg) writeFileSync(join(dir, 'dmesg.txt'), rng.chance(0.8) ? dmesg : mutateText(rng, dmesg).text);
        const format = rng.pick(fmt.formats);
        await cliCase(fmt.name, ['import', path, '--format', format], `${fmt.name} seed ${SEED} case ${i}: ${fmt.sources[k]} ${m.what} (--format ${format})`);
      }
    });
  }

  it(`trace.txt: ${200 * SCALE} mutations (with and without the memory map next to it)`, async () => {
    const rng = new Rng(SEED ^ 0x7ace);
    const samples = traceSamples();
    const dmesg = readFileSync(join(REAL, 'E5_trace256/guest/dmesg.txt'), 'utf8');
    const dir = mkdtempSync(join(tmp, 'trace-'));
    for (let i = 0; i < 200 * SCALE; i++) {
      const m = mutateText(rng, rng.pick(samples));
      if (rng.chance(0.5)) writeFileSync(join(dir, 'dmesg.txt'), dmesg);
      else rmSync(join(dir, 'dmesg.txt'), { force: true });
      // Plain, or gzip'd (then sometimes with the compressed bytes damaged too).
      const gz = rng.chance(0.3);
      const name = gz ? 'trace.txt.gz' : 'trace.txt';
      rmSync(join(dir, gz ? 'trace.txt' : 'trace.txt.gz'), { force: true });
      const damaged = gz && rng.chance(0.5) ? mutateBytes(rng, gzipSync(m.text)) : null;
      writeFileSync(join(dir, name), gz ? (damaged ? damaged.bytes : gzipSync(m.text)) : m.text);
      await cliCase('trace.txt', ['import', join(dir, name)], `trace seed ${SEED} case ${i}: ${m.what}${damaged ? `; gzip ${damaged.what}` : ''}`);
    }
  });

  it(`kpageflags: ${50 * SCALE} mutations of the real dumps, raw or gzip'd`, async () => {
    const rng = new Rng(SEED ^ 0xbeef);
    const dumps = files(guestDirs, /^kpageflags\..*\.bin\.gz$/).map((f) => gunzipSync(readFileSync(f)));
    const dir = mkdtempSync(join(tmp, 'kpf-'));
    for (let i = 0; i < 50 * SCALE; i++) {
      const m = mutateBytes(rng, rng.pick(dumps));
      const gz = rng.chance(0.3);
      const path = join(dir, gz ? 'kpageflags.pre.bin.gz' : 'kpageflags.pre.bin');
      writeFileSync(path, gz ? (rng.chance(0.5) ? mutateBytes(rng, gzipSync(m.bytes)).bytes : gzipSync(m.bytes)) : m.bytes);
      await cliCase('kpageflags', ['import', path], `kpageflags seed ${SEED} case ${i}: ${m.what}`);
    }
  });

  it(`run folders: ${40 * SCALE} mutations of one /proc file, imported as a summary, zones or a guest state`, async () => {
    const rng = new Rng(SEED ^ 0xf01d);
    const src = join(REAL, 'E2_memhog512_r1');
    for (let i = 0; i < 40 * SCALE; i++) {
      const dir = mkdtempSync(join(tmp, 'run-'));
      mkdirSync(join(dir, 'guest'));
      for (const f of ['pre.zoneinfo', 'pre.buddyinfo', 'pre.pagetypeinfo', 'dmesg.txt']) copyFileSync(join(src, 'guest', f), join(dir, 'guest', f));
      copyFileSync(join(src, 'summary.json'), join(dir, 'summary.json'));
      const victim = rng.pick(['pre.zoneinfo', 'pre.buddyinfo', 'pre.buddyinfo', 'pre.pagetypeinfo', 'dmesg.txt']);
      const m = mutateText(rng, readFileSync(join(src, 'guest', victim), 'utf8'));
      writeFileSync(join(dir, 'guest', victim), m.text);
      const format = rng.pick(['summary', 'zones', 'state', 'state', 'state', 'buddyinfo']);
      await cliCase('run folder', ['import', dir, '--format', format, ...(format === 'summary' ? [] : ['--tag', 'pre'])], `run seed ${SEED} case ${i}: ${victim} ${m.what} (--format ${format})`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fuzz: scenario files', () => {
  const bases = [
    smallScenario(),
    ...readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8'))),
  ];

  /** Parse, validate, then run under small limits with a deadline; what comes back must be a result or a SimError. */
  async function scenarioCase(text: string, context: string, viaCli: boolean): Promise<void> {
    const t = tally('scenario');
    const t0 = performance.now();
    try {
      const raw = parseScenarioJson(text, 'fuzz.json');
      const { scenario, spec } = parseScenario(raw, 'fuzz.json');
      if (scenario.sweep && Object.values(scenario.sweep).reduce((n, v) => n * v.length, 1) <= 2000) expandGrid(scenario.sweep);
      const small = estimateRun(spec).wallSeconds < 0.2;
      if (viaCli && small) {
        const path = join(tmp, 'fuzz.json');
        writeFileSync(path, text);
        const r = await prsim(['run', path, '--threads', '0']);
        expect(r.code, `${context}\n${r.stderr}`).not.toBe(1);
      }
      const result = await simulate(spec, { limits: LIMITS, signal: AbortSignal.timeout(10_000) });
      const summaries = result.guests.map(summarize);
      comparisonTable(summaries);
      timeSeriesCsv(result);
      htmlReport({ title: 'fuzz', file: 'fuzz.json', result, summaries });
      t.accepted++;
    } catch (e) {
      if (e instanceof SimError) t.refused++;
      else if ((e as Error).name === 'TimeoutError') t.aborted++;
      else throw new Error(`${context}: ${(e as Error).stack}`);
    }
    t.maxMs = Math.max(t.maxMs, performance.now() - t0);
    expect(process.memoryUsage().heapUsed, context).toBeLessThan(HEAP_BOUND);
  }

  it(`${250 * SCALE} structural and textual mutations of the scenario files`, async () => {
    const rng = new Rng(SEED ^ 0x5ce9);
    for (let i = 0; i < 250 * SCALE; i++) {
      const k = rng.int(bases.length);
      const m = rng.chance(0.7) ? mutateJson(rng, bases[k]) : mutateText(rng, JSON.stringify(bases[k], null, 2));
      await scenarioCase(m.text, `scenario seed ${SEED} case ${i}: base ${k}: ${m.what}`, rng.chance(0.2));
    }
  });
});
