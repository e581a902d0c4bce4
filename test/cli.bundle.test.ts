// The bundled command line as users run it (`node dist/cli.js`, what `npm start` does): a child process, its
// exit status, stdout and stderr. Bundled into a temporary folder the way scripts/build.mjs bundles dist/.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, runCli, smallScenario } from './cli.helpers.js';

let bundle: Awaited<ReturnType<typeof bundleCli>>;

beforeAll(async () => {
  bundle = await bundleCli();
});
afterAll(() => rmSync(bundle.dir, { recursive: true, force: true }));

const node = (...args: string[]) => runCli(bundle.cli, ...args);

describe('node dist/cli.js', () => {
  it('with no arguments runs the default scenario and prints the four-policy table', async () => {
    const { code, stdout, stderr } = await node();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^memhog: 40 s simulated, seed 1, 4 guests \(scenarios\/memhog\.json\)\n\n/);
    expect(stdout.split('\n')[2]!.trim().split(/\s{2,}/)).toEqual(['none', 'linux-5.7', 'linux-6.1', 'hinting']);
    // No progress bar into a pipe: stderr holds only the timing line.
    expect(stderr).toMatch(/^prsim: 160 simulated guest-seconds in [\d.]+ s wall \(\d+x real time\)\n$/);
  });

  it('bad input: one line on stderr, exit status 2, no stack trace', async () => {
    const f = join(bundle.dir, 'bad.json');
    const raw = smallScenario();
    raw.guests[0].workloads[0].mib = 'lots';
    writeFileSync(f, JSON.stringify(raw));
    const { code, stdout, stderr } = await node('run', f);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`prsim: ${f}: guests[0].workloads[0].mib: expected a number > 0, got "lots"\n`);
  });

  it('sweeps on worker threads (dist/sweep-worker.js next to dist/cli.js)', async () => {
    const f = join(bundle.dir, 'sweep.json');
    const raw = smallScenario();
    delete raw.guests[0].policies;
    raw.guests[0].policy = 'linux-next';
    raw.sweep = { 'policy.order': [0, 9], 'policy.capacity': [8, 32] };
    writeFileSync(f, JSON.stringify(raw));
    const a = await node('sweep', f, '--json');
    const b = await node('sweep', f, '--json', '--threads', '1');
    expect(a.code).toBe(0);
    const rows = (out: string) => (JSON.parse(out) as { rows: unknown[] }).rows;
    expect(rows(a.stdout)).toHaveLength(4);
    expect(rows(b.stdout)).toEqual(rows(a.stdout));
    const table = await node('sweep', f);
    expect(table.stdout.split('\n')[2]).toMatch(/^\s*#\s+policy\.order\s+policy\.capacity\s+pages reported/);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(4 + 4);
  });
});
