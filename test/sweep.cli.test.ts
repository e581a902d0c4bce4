// prsim sweep as users run it (the bundled CLI in child processes): shards started side by side and merged
// print exactly what the unsharded sweep prints; a sweep killed with SIGKILL resumes to the same output; the
// progress bar on a terminal; bad flags are exit 2 with one line, and leave no file behind.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../src/cli/io.js';
import { ROOT, runCli, sweepFixture, sweepScenario } from './cli.helpers.js';
import { prsimWith, type MemoryIo } from './helpers/in-process.js';

let bundle: Awaited<ReturnType<typeof sweepFixture>>['bundle'];
let tmp: string;
let scenario: string;

let cleanup: () => void;

beforeAll(async () => {
  ({ bundle, tmp, scenario, cleanup } = await sweepFixture('prsim-sweep-cli-'));
});
afterAll(() => cleanup());

const node = (...args: string[]) => runCli(bundle.cli, ...args);

const prsim = (io: MemoryIo, ...argv: string[]) => prsimWith(io, argv);

describe('shards side by side, then --merge', () => {
  it('prints exactly what the unsharded sweep prints: table, JSON, CSV', async () => {
    const dir = join(tmp, 'shards');
    const shards = await Promise.all([0, 1, 2].map((k) => node('sweep', scenario, '--shard', `${k}/3`, '--out', dir, '--threads', '1')));
    for (const [k, s] of shards.entries()) {
      expect(s.code).toBe(0);
      expect(s.stdout).toBe('');
      expect(s.stderr).toMatch(new RegExp(`^prsim: shard ${k}/3: ${k === 2 ? 2 : 3} points \\(${k === 2 ? 2 : 3} runs\\) in [\\d.]+ s wall`));
    }
    for (const format of [[], ['--json'], ['--format', 'csv']]) {
      const local = await node('sweep', scenario, ...format);
      const merged = await node('sweep', '--merge', dir, ...format);
      expect(merged.code).toBe(0);
      expect(merged.stdout).toBe(local.stdout);
    }
    const table = (await node('sweep', '--merge', dir)).stdout.split('\n');
    expect(table[0]).toBe(`small: 8 grid points over policy.order × policy.capacity × guest.memMiB (${scenario})`);
    expect(table[2]).toMatch(/^#\s+policy\.order\s+policy\.capacity\s+guest\.memMiB\s+pages reported/);
    const csvA = join(tmp, 'a.csv'), csvB = join(tmp, 'b.csv'), out = join(tmp, 'merged.json');
    await node('sweep', scenario, '--csv', csvA);
    const m = await node('sweep', '--merge', dir, '--csv', csvB, '--json', '--output', out);
    expect(m.stdout).toBe('');
    expect(readFileSync(csvB, 'utf8')).toBe(readFileSync(csvA, 'utf8'));
    expect(readFileSync(out, 'utf8')).toBe((await node('sweep', scenario, '--json')).stdout);
  });

  it('a merge with a shard missing names the points and writes nothing', async () => {
    const dir = join(tmp, 'partial');
    await node('sweep', scenario, '--shard', '0/2', '--out', dir);
    const out = join(tmp, 'never.json');
    const m = await node('sweep', '--merge', dir, '--json', '--output', out);
    expect(m).toEqual({ code: 2, stdout: '', stderr: `prsim: --merge ${dir}: 4 of 8 points have no row: 1, 3, 5, 7 (run the shards that hold them again with --resume)\n` });
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(dir, 'rows-0-of-2.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
  });
});

describe('kill and resume', () => {
  it('a sweep killed with SIGKILL resumes from its rows and prints what an uninterrupted one does', async () => {
    const raw = sweepScenario();
    raw.durationS = 2;
    raw.sweep = { 'policy.capacity': Array.from({ length: 40 }, (_, i) => i + 1), 'policy.order': [0] };
    const file = join(tmp, 'long.json');
    writeFileSync(file, JSON.stringify(raw));
    const dir = join(tmp, 'killed');
    const rows = join(dir, 'rows-0-of-1.jsonl');
    const child = spawn(process.execPath, [bundle.cli, 'sweep', file, '--out', dir, '--threads', '1'], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Kill it once a few rows are in (polling the file; a bounded wait, not a timing assertion).
    let lines = 0;
    for (let i = 0; i < 600 && lines < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      lines = existsSync(rows) ? readFileSync(rows, 'utf8').split('\n').length - 1 : 0;
    }
    child.kill('SIGKILL');
    const code = await exited;
    expect(lines).toBeGreaterThanOrEqual(3);
    const kept = readFileSync(rows, 'utf8').split('\n').length - 1;
    expect(code).toBeNull(); // killed, not finished
    expect(kept).toBeLessThan(40);
    const resumed = await node('sweep', file, '--out', dir, '--resume', '--json');
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`^prsim: ${40 - kept} points \\(${40 - kept} runs\\) in [\\d.]+ s wall, [\\d.]+ points/s, ${kept} already done\\n$`));
    const clean = await node('sweep', file, '--json');
    expect(resumed.stdout).toBe(clean.stdout);
    expect(JSON.parse(clean.stdout).rows).toHaveLength(40);
  });
});

describe('the terminal', () => {
  it('draws a progress bar with points done, rate and time left on a terminal, and erases it', async () => {
    const tty = memoryIo(ROOT);
    tty.errIsTTY = true;
    const r = await prsim(tty, 'sweep', scenario, '--threads', '0');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\rsweep small \[#+-*\]\s+\d+% 8\/8 points {2}[\d.]+\/s {2}0s left\x1b\[K/);
    expect(r.stderr).toMatch(/\r\x1b\[Kprsim: 8 points/);
    const pipe = await prsim(memoryIo(ROOT), 'sweep', scenario, '--threads', '0');
    expect(pipe.stderr).not.toContain('\r');
  });
});

describe('bad flags', () => {
  const cases: Array<[string[], string]> = [
    [['--shard', '0/2'], 'prsim: --shard: where do the rows go? (--out DIR, a folder every shard can reach; merge it with --merge DIR)\n'],
    [['--resume'], 'prsim: --resume: which folder? (--out DIR of the sweep to continue)\n'],
    [['--shard', '0/2', '--out', 'x', '--json'], 'prsim: --shard writes only its rows to --out; print or save the results with prsim sweep --merge DIR once every shard is done\n'],
    [['--shards', '4'], 'prsim: --shards is for --emit slurm|k8s\n'],
    [['--shard', '2/2', '--out', 'x'], "prsim: --shard: expected K/N with 0 <= K < N, got '2/2'\n"],
    [['--emit', 'pbs', '--out', 'x'], "prsim: --emit: expected one of slurm, k8s, got 'pbs'\n"],
  ];
  for (const [args, message] of cases) {
    it(`prsim sweep <file> ${args.join(' ')}`, async () => {
      const r = await prsim(memoryIo(tmp), 'sweep', scenario, ...args);
      expect(r).toEqual({ code: 2, stdout: '', stderr: message });
      expect(existsSync(join(tmp, 'x'))).toBe(false);
    });
  }

  it('a folder or file that cannot be written is named, exit 2', async () => {
    const under = join(scenario, 'sub');
    expect(await prsim(memoryIo(tmp), 'sweep', scenario, '--out', under)).toEqual({ code: 2, stdout: '', stderr: `prsim: ${under}: cannot write (a part of the path is not a folder)\n` });
    const csv = join(tmp, 'no', 'such', 'a.csv');
    const r = await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--csv', csv);
    // Checked before the run, in the words `prsim run --csv` uses.
    expect(r).toEqual({ code: 2, stdout: '', stderr: `prsim: --csv ${csv}: cannot write in ${join(tmp, 'no', 'such')}: no such directory\n` });
  });

  it('--merge takes no scenario, and a folder that is not a sweep is named', async () => {
    expect((await prsim(memoryIo(tmp), 'sweep', scenario, '--merge', tmp)).stderr).toBe(`prsim: sweep --merge ${tmp}: takes no scenario (the folder holds its own)\n`);
    expect((await prsim(memoryIo(tmp), 'sweep', '--merge', 'nowhere')).stderr).toBe(`prsim: --merge ${join(tmp, 'nowhere')}: no such folder\n`);
  });
});
