// The pieces under a sweep: grid points made from their index, the row format, the scenario hash, shards,
// and the line reader that finds a last line cut short.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGrid, gridPoint, gridSize } from '../src/scenario/grid.js';
import { forEachLine } from '../src/sweep/files.js';
import { canonicalJson, scenarioHash } from '../src/sweep/hash.js';
import { parseRow, rowLine, type SweepRow } from '../src/sweep/row.js';
import { parseShard, shardSize } from '../src/sweep/shard.js';
import { SIM_VERSION } from '../src/sweep/version.js';
import { ROOT } from './cli.helpers.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'prsim-rows-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('grid points from their index', () => {
  it('gridPoint(i) is the i-th combination, last parameter fastest, for any grid', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), (lengths) => {
      const grid = Object.fromEntries(lengths.map((n, k) => [`p${k}`, Array.from({ length: n }, (_, v) => `${k}.${v}`)]));
      // Nested loops written in file order.
      let expected: Array<Record<string, unknown>> = [{}];
      for (const [key, values] of Object.entries(grid)) expected = expected.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
      expect(gridSize(grid)).toBe(expected.length);
      expected.forEach((params, i) => expect(gridPoint(grid, i)).toEqual({ index: i, params }));
      expect(expandGrid(grid).map((p) => p.params)).toEqual(expected);
    }));
  });

  it('a million-point grid: any point without the others, keys in the order of the sweep section', () => {
    const grid = { seed: Array.from({ length: 1000 }, (_, i) => i + 1), 'policy.capacity': Array.from({ length: 1000 }, (_, i) => i + 1) };
    expect(gridSize(grid)).toBe(1_000_000);
    expect(gridPoint(grid, 999_999).params).toEqual({ seed: 1000, 'policy.capacity': 1000 });
    expect(gridPoint(grid, 1234).params).toEqual({ seed: 2, 'policy.capacity': 235 });
    expect(Object.keys(gridPoint(grid, 5).params)).toEqual(['seed', 'policy.capacity']);
  });

  it('a grid too large to count is refused naming the sweep section', () => {
    const grid = Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`p${k}`, Array.from({ length: 10 }, (_, v) => v)]));
    expect(() => gridSize(grid, 'big.json')).toThrow(/^big\.json: sweep: the grid has 1\.00e\+20 points, more than 9007199254740991 can be counted/);
  });
});

const row = (over: Partial<SweepRow> = {}): SweepRow => ({
  index: 3, params: { 'policy.order': 0 }, seed: 1, version: SIM_VERSION, scenarioHash: 'sha256:ab', durationS: 4,
  summaries: [{
    name: 'g', policy: 'reporting linux-6.1', pagesReported: 10, mibReported: 0.04, reportCalls: 1, reportErrors: 0, passes: 1,
    lowestOrderReported: 9, finalRssMiB: 2, peakRssMiB: 3, lastFreeS: 1, t50S: null, t90S: null, refaults: 0, refaultMiB: 0,
    allocFailures: 0, allocFailuresInFlight: 0, isolationFailures: 0, inflightPeakMiB: 0, pagesHinted: null, hintLostDataPages: null,
  }],
  hostRssMiB: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  ...over,
});

describe('rows', () => {
  it('a row is one line of JSON with its keys in a fixed order, and reads back equal', () => {
    const r = row();
    const shuffled = { hostRssMiB: r.hostRssMiB, summaries: r.summaries, index: r.index, params: r.params, seed: r.seed, durationS: r.durationS, version: r.version, scenarioHash: r.scenarioHash };
    const line = rowLine(r);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(rowLine(shuffled)).toBe(line);
    expect(Object.keys(JSON.parse(line))).toEqual(['index', 'params', 'seed', 'version', 'scenarioHash', 'durationS', 'summaries', 'hostRssMiB']);
    expect(parseRow(line.trimEnd(), 'f.jsonl', 1)).toEqual(r);
  });

  it('a bad row names the file, line, field and value', () => {
    expect(() => parseRow('{"index": 3', 'f.jsonl', 7)).toThrow(/^f\.jsonl:7: not a JSON row/);
    expect(() => parseRow('[1]', 'f.jsonl', 2)).toThrow('f.jsonl:2: row: expected an object, got [1]');
    const bad = (o: Record<string, unknown>) => JSON.stringify({ ...row(), ...o });
    expect(() => parseRow(bad({ index: -1 }), 'f.jsonl', 3)).toThrow('f.jsonl:3: index: expected an integer >= 0, got -1');
    expect(() => parseRow(bad({ version: 1 }), 'f.jsonl', 3)).toThrow('f.jsonl:3: version: expected a string, got 1');
    expect(() => parseRow(bad({ summaries: [] }), 'f.jsonl', 3)).toThrow('f.jsonl:3: summaries: expected a non-empty array, got []');
    const s = { ...row().summaries[0], refaults: 'many' };
    expect(() => parseRow(bad({ summaries: [s] }), 'f.jsonl', 4)).toThrow('f.jsonl:4: summaries[0].refaults: expected a number or null, got "many"');
  });

  it('the scenario hash ignores key order and formatting, and sees every value', () => {
    const a = { b: 1, a: { y: [1, 2], x: 'z' } };
    const b = JSON.parse('{ "a": {"x": "z", "y": [1,2]},\n "b": 1 }');
    expect(canonicalJson(a)).toBe('{"a":{"x":"z","y":[1,2]},"b":1}');
    expect(scenarioHash(b)).toBe(scenarioHash(a));
    expect(scenarioHash({ ...a, b: 2 })).not.toBe(scenarioHash(a));
    expect(scenarioHash({ ...a, a: { y: [2, 1], x: 'z' } })).not.toBe(scenarioHash(a));
    expect(scenarioHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('the simulator version in rows is the package version', () => {
    expect(SIM_VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('shards', () => {
  it('K/N, and auto/N from the Slurm array task or the Kubernetes completion index', () => {
    expect(parseShard('2/5', {})).toEqual({ k: 2, n: 5 });
    expect(parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '3' })).toEqual({ k: 3, n: 4 });
    expect(parseShard('auto/4', { JOB_COMPLETION_INDEX: '1' })).toEqual({ k: 1, n: 4 });
    expect(parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '0', JOB_COMPLETION_INDEX: '2' })).toEqual({ k: 0, n: 4 });
  });

  it('bad shards are refused with what was expected', () => {
    expect(() => parseShard('4/4', {})).toThrow("--shard: expected K/N with 0 <= K < N, got '4/4'");
    expect(() => parseShard('1/0', {})).toThrow(/--shard: expected K\/N or auto\/N/);
    expect(() => parseShard('x', {})).toThrow(/--shard: expected K\/N or auto\/N/);
    expect(() => parseShard('auto/4', {})).toThrow('--shard auto/4: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX is set');
    expect(() => parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '4' })).toThrow("--shard auto/4: SLURM_ARRAY_TASK_ID is '4', expected an integer 0..3");
  });

  it('the shards of a grid cover every point exactly once', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 30 }), (points, n) => {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        let count = 0;
        for (let i = k; i < points; i += n) count++;
        expect(shardSize(points, { k, n })).toBe(count);
        sum += count;
      }
      expect(sum).toBe(points);
    }));
  });
});

describe('forEachLine', () => {
  it('gives every complete line with its offset, across chunk boundaries and multi-byte text, and the cut-short tail', () => {
    const lines = ['a', 'é'.repeat(300_000), '', 'x'.repeat(3 << 20), 'last'];
    const text = lines.join('\n') + '\nhalf a li';
    const f = join(tmp, 'lines.txt');
    writeFileSync(f, text);
    const got: Array<{ text: string; line: number; offset: number; length: number }> = [];
    const r = forEachLine(f, (t, info) => got.push({ text: t, ...info }));
    expect(got.map((g) => g.text)).toEqual(lines);
    const buf = Buffer.from(text);
    for (const g of got) expect(buf.toString('utf8', g.offset, g.offset + g.length)).toBe(g.text);
    expect(r.completeBytes).toBe(Buffer.byteLength(lines.join('\n') + '\n'));
    expect(r.tail).toEqual({ line: 6, offset: r.completeBytes, length: 9 });
    writeFileSync(f, 'one\ntwo\n');
    expect(forEachLine(f, () => {}).tail).toBeNull();
  });
});
