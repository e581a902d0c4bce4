// Sweep throughput with N shards on N cores: the same grid run as N `prsim sweep --shard k/N --threads 1`
// processes side by side (what a Slurm array or an Indexed Job does on one machine), for N = 1 up to the
// machine's cores (powers of two, and the core count). Points per wall second, and the ratio to one shard. Each
// N is run `runs` times, the runs of all N interleaved so that a slow phase of a shared machine falls on each
// alike; the median is reported.
// The N-shard rows are merged and checked equal to the one-shard rows.
//
// Where taskset is there (Linux), shard k runs pinned to core k, so "N cores" is literal: the one-shard run gets
// one core, not the spare cycles of the others (a shard's own process has a simulation thread, a main thread
// writing rows, and V8's compiler and collector threads, which on an idle machine use about 1.2 cores between
// them). On a machine shared with other work, N shards may not get N cores: the shards' CPU time (read from
// this process's children's times in /proc/self/stat) over the wall time says how many cores they did get, and
// points per CPU-second says whether sharding itself costs anything.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexFolder, rowsInOrder } from '../sweep/merge.js';

export interface ScalingRow {
  shards: number;
  wallS: number[];
  medianWallS: number;
  pointsPerS: number;
  /** pointsPerS over that of one shard. */
  ratio: number;
  /** The shards' CPU seconds over wall seconds (null where /proc is missing): the cores they got. */
  coresUsed: number | null;
  /** Points per CPU-second of the shards. */
  pointsPerCpuS: number | null;
  identical: boolean;
}

export interface ScalingResult {
  points: number;
  guestMiB: number;
  durationS: number;
  rows: ScalingRow[];
  /** Each shard ran pinned to a core of its own (taskset); false where taskset is missing. */
  pinned: boolean;
}

/** The benchmark's grid: sweep-order's 1 GiB linux-next guest (memhog of half of it), over `points` capacities. */
function scenario(points: number) {
  return {
    name: 'bench-sweep',
    durationS: 40,
    seed: 1,
    guests: [{
      memMiB: 1024, profile: 'linux-next', cpus: 2, policy: { kind: 'reporting', profile: 'linux-next' }, device: 'virtio-balloon',
      workloads: [{ kind: 'memhog', startS: 10, mib: 512, rateMiBps: 400, holdS: 3, freeRateMiBps: 1000 }],
    }],
    sweep: { 'policy.capacity': Array.from({ length: points }, (_, i) => (i % 256) + 1) },
  };
}

/** 1, 2, 4, ... up to `most`, and `most` itself: the curve on a large machine without a run per core count. */
export function shardCounts(most: number): number[] {
  const out: number[] = [];
  for (let n = 1; n <= most; n *= 2) out.push(n);
  if (out[out.length - 1] !== most) out.push(most);
  return out;
}

function haveTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(cli: string, args: string[], core: number | null): Promise<void> {
  const argv = [process.execPath, cli, ...args];
  if (core !== null) argv.unshift('taskset', '-c', String(core));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`prsim ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** CPU seconds of this process's finished children (user + system), or null off Linux. */
let ticks = 0;
function childCpuS(): number | null {
  if (!existsSync('/proc/self/stat')) return null;
  if (!ticks) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    } catch {
      ticks = 100;
    }
  }
  // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and 15th.
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / ticks;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function sweepScaling(cli: string, opts: { points: number; runs: number; maxShards?: number }): Promise<ScalingResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'prsim-bench-sweep-'));
  try {
    const file = join(tmp, 'bench-sweep.json');
    writeFileSync(file, JSON.stringify(scenario(opts.points)));
    const cores = availableParallelism();
    const counts = shardCounts(Math.min(opts.maxShards ?? cores, cores));
    const pinned = haveTaskset();
    const walls = new Map<number, number[]>(counts.map((n) => [n, []]));
    const cpus = new Map<number, number[]>(counts.map((n) => [n, []]));
    const rowsOf = (dir: string) => [...rowsInOrder(indexFolder(dir))].map((r) => r.text);
    const firstRows = new Map<number, string[]>();
    for (let r = 0; r < opts.runs; r++) {
      for (const n of counts) {
        const dir = join(tmp, `n${n}-r${r}`);
        const t0 = performance.now();
        const c0 = childCpuS();
        await Promise.all(Array.from({ length: n }, (_, k) => run(cli, ['sweep', file, '--shard', `${k}/${n}`, '--out', dir, '--threads', '1'], pinned ? k : null)));
        walls.get(n)!.push((performance.now() - t0) / 1000);
        const c1 = childCpuS();
        if (c0 !== null && c1 !== null) cpus.get(n)!.push(c1 - c0);
        if (r === 0) firstRows.set(n, rowsOf(dir));
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const base = opts.points / median(walls.get(1)!);
    const one = JSON.stringify(firstRows.get(1));
    const rows = counts.map((n): ScalingRow => {
      const w = walls.get(n)!;
      const pps = opts.points / median(w);
      const c = cpus.get(n)!;
      const used = c.length === w.length ? median(c.map((x, i) => x / w[i]!)) : null;
      return {
        shards: n, wallS: w, medianWallS: median(w), pointsPerS: pps, ratio: pps / base, identical: JSON.stringify(firstRows.get(n)) === one,
        coresUsed: used, pointsPerCpuS: c.length ? opts.points / median(c) : null,
      };
    });
    return { points: opts.points, guestMiB: 1024, durationS: 40, rows, pinned };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
