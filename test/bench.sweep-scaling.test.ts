// The shard counts the sweep benchmark runs: powers of two up to the cores, and the core count itself.
import { describe, expect, it } from 'vitest';
import { shardCounts } from '../src/bench/sweep-scaling.js';

describe('sweep scaling benchmark', () => {
  it('runs 1, 2, 4, ... shards and the machine\'s core count, each once', () => {
    expect(shardCounts(1)).toEqual([1]);
    expect(shardCounts(2)).toEqual([1, 2]);
    expect(shardCounts(6)).toEqual([1, 2, 4, 6]);
    expect(shardCounts(64)).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });
});
