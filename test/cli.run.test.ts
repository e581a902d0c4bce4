// prsim run / compare / import, called in-process through main(): the default prints the four-policy table, the
// output formats are what they claim (buddyinfo parses back, CSV and HTML carry the series), runs repeat exactly,
// and bad input is one `prsim:` line with exit status 2.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/prsim.js';
import { USAGE } from '../src/cli/prsim.js';
import { memoryIo } from '../src/cli/io.js';
import { formatBuddyinfo, parseBuddyinfo } from '../src/importers/buddyinfo.js';
import type { SimulationResult } from '../src/sim/engine.js';
import { ROOT, smallScenario } from './cli.helpers.js';
import { prsimWith } from './helpers/in-process.js';
import { REAL, haveReal, needsReal } from './helpers/shared.js';

const E2 = REAL + 'E2_memhog512_r1';
const HAVE_E2 = haveReal('E2_memhog512_r1');
let tmp: string;
let small: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'prsim-cli-'));
  small = join(tmp, 'small.json');
  writeFileSync(small, JSON.stringify(smallScenario()));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const prsim = (...argv: string[]) => prsimWith(memoryIo(ROOT), argv);

const withoutWall = (r: SimulationResult) => ({ ...r, wallMs: 0 });

describe('prsim run (the default scenario)', () => {
  let out: Awaited<ReturnType<typeof prsim>>;
  beforeAll(async () => {
    out = await prsim();
  });

  it('with no arguments runs scenarios/memhog.json and prints the four policies side by side', () => {
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n');
    expect(lines[0]).toBe('memhog: 40 s simulated, seed 1, 4 guests (scenarios/memhog.json)');
    expect(lines[2]!.trim().split(/\s{2,}/)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
    const row = (label: string) => lines.find((l) => l.startsWith(label))!.slice(label.length).trim().split(/\s{2,}/);
    for (const label of ['pages reported', 'report calls', 'passes', 'final host RSS MiB', 'RSS 50% drop after s', 'RSS 90% drop after s', 'refaults', 'alloc failures in flight']) {
      expect(row(label)).toHaveLength(4);
    }
    // W3: nothing goes back without a policy; reporting returns the 512 MiB after the free, down to what the
    // kernel keeps from boot (present - managed: 16,140 pages, in 33 host pages of 2 MiB).
    const finalRss = row('final host RSS MiB').map(Number);
    expect(finalRss[0]).toBeGreaterThan(500 + 66);
    expect(finalRss[2]).toBe(66);
    expect(row('report calls')[0]).toBe('0');
    expect(Number(row('RSS 90% drop after s')[2])).toBeGreaterThan(2);
    expect(out.stderr).not.toMatch(/error/i);
  });

  it('`run` of the default is the same run', async () => {
    const again = await prsim('run', 'scenarios/memhog.json');
    expect(again.stdout).toBe(out.stdout);
  });
});

describe('output formats', () => {
  it('--format buddyinfo prints each guest\'s end state as /proc/buddyinfo, which parses back', async () => {
    const { code, stdout } = await prsim('run', small, '--format', 'buddyinfo');
    expect(code).toBe(0);
    const rows = parseBuddyinfo(stdout);
    expect(rows.map((r) => r.zone)).toEqual(['DMA', 'DMA32', 'DMA', 'DMA32', 'DMA', 'DMA32', 'DMA', 'DMA32']);
    // One block per guest, a blank line between: each block is exactly what formatBuddyinfo prints.
    const blocks = stdout.split(/\n\n/).map((b, i, all) => (i < all.length - 1 ? `${b}\n` : b));
    expect(blocks).toHaveLength(4);
    for (const b of blocks) expect(formatBuddyinfo(parseBuddyinfo(b))).toBe(b);
    const json = JSON.parse((await prsim('run', small, '--json')).stdout) as { result: SimulationResult };
    expect(rows.map((r) => r.counts)).toEqual(json.result.guests.flatMap((g) => g.buddyinfo));
  });

  it('--csv and --html write the time series and the plots', async () => {
    const csv = join(tmp, 'series.csv'), html = join(tmp, 'report.html');
    const { code, stdout, stderr } = await prsim('run', small, '--csv', csv, '--html', html, '--json');
    expect(code).toBe(0);
    expect(stderr).toContain(`prsim: wrote ${csv}`);
    const result = (JSON.parse(stdout) as { result: SimulationResult }).result;
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    expect(header[0]).toBe('t_s');
    for (const g of ['none', 'linux-5.7', 'linux-6.1', 'hinting']) {
      for (const s of ['rss_kib', 'free_pages', 'pages_reported', 'report_calls']) expect(header).toContain(`${g}:${s}`);
    }
    const g61 = result.guests.find((g) => g.name === 'linux-6.1')!;
    expect(lines).toHaveLength(g61.samples.length + 1);
    const col = header.indexOf('linux-6.1:rss_kib');
    expect(lines.slice(1).map((l) => Number(l.split(',')[col]))).toEqual(g61.samples.map((s) => s.rssKib));
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(g61.samples.map((s) => s.t / 1000));

    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    for (const id of ['rss', 'free-by-order', 'reports-per-second']) expect(page).toContain(`<figure id="${id}"><svg`);
    for (const g of result.guests) expect(page).toContain(`data-series="${g.name}"`);
    // Self-contained: no scripts, nothing fetched.
    expect(page).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('--format csv prints the same series on stdout', async () => {
    const csv = join(tmp, 'same.csv');
    const { stdout } = await prsim('run', small, '--format', 'csv', '--csv', csv);
    expect(stdout).toBe(readFileSync(csv, 'utf8'));
  });
});

describe('determinism', () => {
  it('the same scenario and seed give the same result; another seed another', async () => {
    const run = async (...extra: string[]) => (JSON.parse((await prsim('run', small, '--json', ...extra)).stdout) as { result: SimulationResult }).result;
    const a = await run();
    const b = await run();
    expect(withoutWall(b)).toEqual(withoutWall(a));
    const c = await run('--seed', '8');
    expect(c.seed).toBe(8);
    expect(withoutWall(c)).not.toEqual(withoutWall(a));
  });
});

describe('prsim compare', () => {
  it('--policies puts the listed policies on the scenario\'s guest and workload', async () => {
    const { code, stdout } = await prsim('compare', small, '--policies', 'none,linux-next', '--duration', '3');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('small: 3 s simulated, seed 7, 2 guests (' + small + ')');
    expect(stdout.split('\n')[2]!.trim().split(/\s{2,}/)).toEqual(['none', 'linux-next']);
  });
});

describe('bad input: `prsim: <message>`, exit 2, no stack trace', () => {
  const cases: Array<[string, () => string[], string]> = [
    ['a scenario field', () => {
      const f = join(tmp, 'bad.json');
      const raw = smallScenario();
      raw.guests[0].policies[1] = { kind: 'reporting', order: 'a' };
      writeFileSync(f, JSON.stringify(raw));
      return ['run', f];
    }, `prsim: ${'<tmp>'}/bad.json: guests[0].policies[1].order: expected integer 0..11, got "a"\n`],
    ['a missing scenario', () => ['run', 'nosuch'], 'prsim: nosuch: no such scenario (looked for nosuch and scenarios/nosuch.json)\n'],
    ['an unknown option', () => ['run', '--frobnicate'], "prsim: run: Unknown option '--frobnicate' (see prsim run --help)\n"],
    ['an unknown command', () => ['frobnicate'], "prsim: unknown command 'frobnicate' (commands: run, compare, sweep, import, replay, fidelity, bench, web; see prsim --help)\n"],
    ['an unknown policy', () => ['compare', '--policies', 'none,linux-9'], "prsim: --policies: unknown policy 'linux-9' (expected none, linux-5.7, linux-6.1, linux-next, hinting)\n"],
    ['a bad seed', () => ['run', '--seed=-1'], "prsim: --seed: expected integer 0..4294967295, got '-1'\n"],
    ['a negative seed as its own argument', () => ['run', '--seed', '-1'], "prsim: --seed: expected integer 0..4294967295, got '-1'\n"],
    ['an option without its value', () => ['run', '--seed'], "prsim: run: Option '--seed <value>' argument missing (see prsim run --help)\n"],
    ['a bad format', () => ['run', '--format', 'xml'], "prsim: --format: expected one of table, json, csv, buddyinfo, got 'xml'\n"],
    ['a sweep without a grid', () => ['sweep', 'memhog'], 'prsim: scenarios/memhog.json: no "sweep" section (e.g. "sweep": {"policy.order": [0, 9], "policy.capacity": [16, 32]})\n'],
    ['an import of nothing', () => ['import', 'no/such/dir'], 'prsim: import: no/such/dir: no such file or directory\n'],
  ];
  it.each(cases)('%s', async (_, argv, message) => {
    const { code, stdout, stderr } = await prsim(...argv());
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(message.replace('<tmp>', tmp));
  });

  it('a malformed real-kernel file names file and line', async () => {
    const f = join(tmp, 'x.buddyinfo');
    writeFileSync(f, 'Node 0, zone DMA 1 2 x\n');
    const { code, stderr } = await prsim('import', f);
    expect(code).toBe(2);
    expect(stderr).toBe(`prsim: ${f}:1: zone DMA order 2: 'x' is not a count\n`);
  });
});

describe('prsim import', () => {
  it.runIf(HAVE_E2)(needsReal('summarises a run folder and prints its buddyinfo back byte for byte', 'E2_memhog512_r1'), async () => {
    const sum = await prsim('import', E2);
    expect(sum.code).toBe(0);
    expect(sum.stdout).toMatch(/^E2_memhog512_r1 \(/);
    expect(sum.stdout).toContain('1024 MiB, 2 cpus, reporting order 9');
    expect(sum.stdout).toMatch(/reporting\s+7 passes, 13 batches, 355 blocks/);
    const bi = await prsim('import', E2, '--format', 'buddyinfo');
    expect(bi.stdout).toBe(readFileSync(join(E2, 'guest/end.buddyinfo'), 'utf8'));
    const pre = await prsim('import', join(E2, 'guest/pre.buddyinfo'), '--format', 'buddyinfo');
    expect(pre.stdout).toBe(readFileSync(join(E2, 'guest/pre.buddyinfo'), 'utf8'));
  });

  it.runIf(HAVE_E2)(needsReal('builds a simulated guest in a snapshot\'s state: the same /proc/buddyinfo', 'E2_memhog512_r1'), async () => {
    const { code, stdout } = await prsim('import', E2, '--format', 'state', '--tag', 'held');
    expect(code).toBe(0);
    expect(stdout).toBe(readFileSync(join(E2, 'guest/held.buddyinfo'), 'utf8'));
  });

  it.runIf(HAVE_E2)(needsReal('turns a zoneinfo into scenario zones', 'E2_memhog512_r1'), async () => {
    const { stdout } = await prsim('import', join(E2, 'guest/pre.zoneinfo'), '--format', 'zones');
    const memhog = JSON.parse(readFileSync(join(ROOT, 'scenarios/memhog.json'), 'utf8'));
    expect(JSON.parse(stdout)).toEqual({ cpus: 2, zones: memhog.guests[0].zones });
  });
});

describe('every command', () => {
  it('each command of the usage is dispatched to its own module: --help prints its usage, exit 0', async () => {
    const names = [...USAGE.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!);
    expect(names).toEqual(['run', 'compare', 'sweep', 'import', 'replay', 'fidelity', 'bench', 'web']);
    for (const name of names) {
      const { code, stdout, stderr } = await prsim(name, '--help');
      expect(code, name).toBe(0);
      expect(stderr, name).toBe('');
      expect(stdout, name).toMatch(new RegExp(`^usage: prsim ${name === 'compare' ? 'run' : name} `));
    }
    const unknown = await prsim('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("prsim: unknown command 'frobnicate' (commands: run, compare, sweep, import, replay, fidelity, bench, web; see prsim --help)\n");
    expect((await prsim('toString')).code).toBe(2);
  });

  it('prsim web: the running server is exit 0 and keeps serving until the Io\'s signal; bad options are exit 2', async () => {
    // A stand-in for the built page (npm test does not bundle it).
    const dir = mkdtempSync(join(tmpdir(), 'prsim-web-'));
    for (const f of ['index.html', 'main.js', 'worker.js']) writeFileSync(join(dir, f), f);
    const ac = new AbortController();
    const io = memoryIo(ROOT, ac.signal);
    expect(await main(['web', '--port', '0', '--dir', dir], io)).toBe(0);
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(io.stdout)![1]!;
    expect(await (await fetch(`${url}main.js`)).text()).toBe('main.js');
    ac.abort();
    await new Promise((ok) => setTimeout(ok, 50));
    await expect(fetch(url)).rejects.toThrow();
    const bad = memoryIo(ROOT);
    expect(await main(['web', '--port', 'abc'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/^prsim: web: --port must be an integer 0\.\.65535, got 'abc'/);
    rmSync(dir, { recursive: true, force: true });
  });
});
