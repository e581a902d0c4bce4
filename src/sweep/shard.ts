// Shards: `--shard K/N` runs the grid points with index % N == K. `--shard auto/N` takes K from the variable
// the batch system sets in each task: SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a
// Kubernetes Indexed Job).
import { SimError } from '../core/errors.js';

const bad = (message: string) => new SimError('BAD_CONFIG', message);

export interface Shard {
  k: number;
  n: number;
}

/** The variables `auto` reads, in this order. */
export const SHARD_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'] as const;

/** The highest shard count accepted (a Kubernetes Indexed Job allows 100,000 completions). */
export const MAX_SHARDS = 1_000_000;

const count = (text: string) => /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_SHARDS;

export function parseShard(text: string, env: Record<string, string | undefined> = process.env): Shard {
  const m = /^(auto|\d+)\/(\d+)$/.exec(text.trim());
  if (!m || !count(m[2]!)) throw bad(`--shard: expected K/N or auto/N with 0 <= K < N <= ${MAX_SHARDS}, got '${text}'`);
  const n = Number(m[2]);
  let k: number;
  if (m[1] === 'auto') {
    const name = SHARD_VARIABLES.find((v) => env[v] !== undefined && env[v] !== '');
    if (!name) throw bad(`--shard auto/${n}: none of ${SHARD_VARIABLES.join(', ')} is set (auto is for a Slurm array task or a Kubernetes Indexed Job; elsewhere give K/${n})`);
    const value = env[name]!;
    if (!/^\d+$/.test(value) || Number(value) >= n) throw bad(`--shard auto/${n}: ${name} is '${value}', expected an integer 0..${n - 1}`);
    k = Number(value);
  } else {
    k = Number(m[1]);
    if (k >= n) throw bad(`--shard: expected K/N with 0 <= K < N, got '${text}'`);
  }
  return { k, n };
}

/** How many of `points` grid points fall in the shard. */
export function shardSize(points: number, { k, n }: Shard): number {
  return k < points ? Math.floor((points - 1 - k) / n) + 1 : 0;
}

/** The shard's file of rows in an --out folder. */
export function shardFileName({ k, n }: Shard): string {
  return `rows-${k}-of-${n}.jsonl`;
}
