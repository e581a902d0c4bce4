// prsim sweep as users run it (the bundled CLI in child processes): shards started side by side and merged
// print exactly what the unsharded sweep prints; a sweep killed with SIGKILL resumes to the same output; the
// progress bar on a terminal; bad flags are exit 2 with one line, and leave no file behind.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('a resumed sweep whose last row was cut short', () => {
  it('says so before it runs anything (not only at the end of a run that may take hours), and redoes that point', async () => {
    const dir = join(tmp, 'cut');
    expect((await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--out', dir, '--json')).code).toBe(0);
    const rows = join(dir, 'rows-0-of-1.jsonl');
    const whole = readFileSync(rows, 'utf8');
    const lines = whole.split('\n').length - 1;
    writeFileSync(rows, whole.slice(0, whole.length - 40)); // the last row's write stopped 40 bytes short
    const tty = memoryIo(tmp);
    tty.errIsTTY = true;
    const r = await prsim(tty, 'sweep', scenario, '--threads', '0', '--out', dir, '--resume');
    expect(r.code).toBe(0);
    expect(r.stderr.startsWith(`prsim: ${rows}: line ${lines} was cut short (a crash while it was written): dropped, its point runs again\n\r`)).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`prsim: 1 points \\(1 runs\\) in [\\d.]+ s wall, [\\d.]+ points/s, ${lines - 1} already done\\n$`));
    expect(readFileSync(rows, 'utf8').split('\n').length - 1).toBe(lines);
    // A merge that finds every point but a rows file ending mid-row says so, and still merges.
    writeFileSync(join(dir, 'rows-0-of-2.jsonl'), '{"index":0,"par');
    const merged = await prsim(memoryIo(tmp), 'sweep', '--merge', dir, '--json');
    expect(merged.code).toBe(0);
    expect(merged.stderr).toContain(`prsim: ${dir}: rows-0-of-2.jsonl:1 ends in a line cut short (a shard stopped while writing it; ignored, as every point has a row)\n`);
    expect(JSON.parse(merged.stdout).rows).toHaveLength(lines);
    // The folder's scenario.json edited after the sweep: the merge names that file, not another --out folder.
    const copy = join(dir, 'scenario.json');
    const raw = JSON.parse(readFileSync(copy, 'utf8'));
    writeFileSync(copy, JSON.stringify({ ...raw, seed: raw.seed + 1 }));
    const edited = await prsim(memoryIo(tmp), 'sweep', '--merge', dir);
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(new RegExp(`^prsim: ${copy}: scenarioHash: sha256:\\w+, but ${join(dir, 'sweep.json')} says the rows are of "sha256:\\w+" \\(scenario.json was changed after the sweep began: put back the scenario the rows were run from\\)\\n$`));
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
    // An empty path (a shell variable that was not set) is not taken for no flag.
    [['--out', ''], "prsim: --out: expected a folder, got ''\n"],
    [['--out', '', '--resume'], "prsim: --out: expected a folder, got ''\n"],
    [['--csv', ''], "prsim: --csv: expected a file name, got ''\n"],
    [['--output', ''], "prsim: --output: expected a file name, got ''\n"],
    [['--merge', ''], "prsim: --merge: expected a folder, got ''\n"],
    // With --emit, a flag for running or printing would be dropped without a word: refused instead.
    [['--emit', 'slurm', '--shards', '2', '--out', 'x', '--resume'], 'prsim: sweep --emit slurm: --resume does not apply (the launcher runs every shard with --resume and merges into merged.json and merged.csv)\n'],
    [['--emit', 'slurm', '--shards', '2', '--out', 'x', '--shard', '0/2'], 'prsim: sweep --emit slurm: --shard does not apply (the launcher runs every shard with --resume and merges into merged.json and merged.csv)\n'],
    [['--emit', 'k8s', '--shards', '2', '--out', 'x', '--json'], 'prsim: sweep --emit k8s: --json does not apply (the launcher runs every shard with --resume and merges into merged.json and merged.csv)\n'],
    [['--emit', 'slurm', '--shards', '2', '--out', 'x', '--threads', '4'], 'prsim: sweep --emit slurm: --threads does not apply (each shard runs --cpus-per-task worker threads)\n'],
    [['--emit', 'slurm', '--shards', '2', '--out', 'x', '--image', 'r/p:1'], 'prsim: sweep --emit slurm: --image does not apply (that flag is for --emit k8s)\n'],
    [['--emit', 'k8s', '--shards', '2', '--out', 'x', '--image', 'r/p:1', '--pvc', 'c', '--sbatch=--partition=b'], 'prsim: sweep --emit k8s: --sbatch does not apply (that flag is for --emit slurm)\n'],
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
    expect(r).toEqual({ code: 2, stdout: '', stderr: `prsim: --csv ${csv}: cannot write in ${join(tmp, 'no', 'such')}: no such directory\n` });
  });

  it('--csv and --output are checked before the sweep runs, as prsim run checks its outputs: a folder, an input, one file twice', async () => {
    const dir = join(tmp, 'outputs');
    const rows = join(dir, 'rows-0-of-1.jsonl');
    const refused = async (args: string[], message: string) => {
      const r = await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--out', dir, ...args);
      expect(r).toEqual({ code: 2, stdout: '', stderr: `prsim: ${message}\n` });
      expect(existsSync(rows)).toBe(false); // nothing ran
    };
    await refused(['--csv', tmp], `--csv ${tmp}: is a directory, expected a file name`);
    await refused(['--json', '--output', tmp], `--output ${tmp}: is a directory, expected a file name`);
    await refused(['--csv', scenario], `--csv ${scenario}: is an input of this run (${scenario}); writing it would destroy it`);
    await refused(['--csv', 'same', '--output', 'same'], '--csv same: the same file as --output; give each output its own file');
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // The folder's own files are inputs of a merge; a link is written through, not replaced.
    expect((await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--out', dir)).code).toBe(0);
    const into = await prsim(memoryIo(tmp), 'sweep', '--merge', dir, '--csv', rows);
    expect(into).toEqual({ code: 2, stdout: '', stderr: `prsim: --csv ${rows}: is a file of the sweep's folder ${dir}; writing it would destroy the sweep's rows or definition\n` });
    const target = join(tmp, 'target.csv');
    writeFileSync(target, 'old\n');
    const link = join(tmp, 'link.csv');
    symlinkSync(target, link);
    expect((await prsim(memoryIo(tmp), 'sweep', '--merge', dir, '--csv', link)).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toMatch(/^point,/);
  });

  it('a merge into the folder itself, as the launchers run it, can be run again (merged.json is an output, not an input)', async () => {
    const dir = join(tmp, 'remerge');
    expect((await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--out', dir)).code).toBe(0);
    const merge = ['sweep', '--merge', dir, '--json', '--output', join(dir, 'merged.json'), '--csv', join(dir, 'merged.csv')];
    const first = await prsim(memoryIo(tmp), ...merge);
    expect(first.code).toBe(0);
    const json = readFileSync(join(dir, 'merged.json'), 'utf8');
    const again = await prsim(memoryIo(tmp), ...merge); // a retried merge job
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'merged.json'), 'utf8')).toBe(json);
  });

  it('--out naming a file is refused, and nothing is written', async () => {
    const before = readFileSync(scenario, 'utf8');
    expect(await prsim(memoryIo(tmp), 'sweep', scenario, '--threads', '0', '--out', scenario)).toEqual({ code: 2, stdout: '', stderr: `prsim: --out ${scenario}: not a folder\n` });
    expect(readFileSync(scenario, 'utf8')).toBe(before);
  });

  it('--merge takes no scenario, and a folder that is not a sweep is named', async () => {
    expect((await prsim(memoryIo(tmp), 'sweep', scenario, '--merge', tmp)).stderr).toBe(`prsim: sweep --merge ${tmp}: takes no scenario (the folder holds its own)\n`);
    expect((await prsim(memoryIo(tmp), 'sweep', '--merge', 'nowhere')).stderr).toBe(`prsim: --merge ${join(tmp, 'nowhere')}: no such folder\n`);
    expect((await prsim(memoryIo(tmp), 'sweep', '--merge', scenario)).stderr).toBe(`prsim: --merge ${scenario}: not a folder (the --out folder of a sweep)\n`);
  });

  it('--merge refuses the flags of a run (they would be dropped without a word), before reading the folder', async () => {
    const why = 'merge prints the rows the folder holds; run or resume a shard with prsim sweep <scenario> --out DIR';
    for (const args of [['--seed', '3'], ['--duration', '5'], ['--resume'], ['--shard', '0/2'], ['--out', 'x'], ['--threads', '2'], ['--emit', 'slurm'], ['--shards', '2']]) {
      const r = await prsim(memoryIo(tmp), 'sweep', '--merge', 'nowhere', ...args);
      expect(r, args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `prsim: sweep --merge: ${args[0]} does not apply (${why})\n` });
    }
    expect(existsSync(join(tmp, 'x'))).toBe(false);
  });
});
