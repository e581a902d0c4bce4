// Resume, shards and merge: a sweep stopped part-way (even in the middle of writing a row) continues where it
// stopped; shards merged give exactly the rows and output of the unsharded sweep; merge names what is missing,
// what is there twice and what does not belong.
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepDef, type SweepDef } from '../src/sweep/folder.js';
import { duplicateNote, indexFolder, rowsInOrder } from '../src/sweep/merge.js';
import { SweepOutput } from '../src/sweep/output.js';
import { runSweepToFolder } from '../src/sweep/run.js';
import { sweepScenario } from './cli.helpers.js';

let tmp: string;
let def: SweepDef;
let full: string;
let fullRows: string[];

/** A quick grid: 8 points of a 96/128 MiB guest over 3 s. */
function raw(): Record<string, any> {
  const r = sweepScenario();
  r.durationS = 3;
  return r;
}

const rowsOf = (dir: string) => [...rowsInOrder(indexFolder(dir))].map((r) => r.text);
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
function output(dir: string, format: 'table' | 'json' | 'csv'): string {
  const idx = indexFolder(dir);
  let text = '';
  const o = new SweepOutput(idx.def, { format, out: { write: (t) => void (text += t) } });
  for (const { text: t, row } of rowsInOrder(idx)) o.add(t, row);
  o.end();
  return text;
}

let n = 0;
const folder = () => join(tmp, `f${n++}`);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'prsim-resume-'));
  def = sweepDef('grid.json', raw());
  full = folder();
  await runSweepToFolder(def, { out: full, threads: 0 });
  fullRows = rowsOf(full);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--resume', () => {
  it('after a crash in the middle of a row: the cut line is dropped and redone, the rows done are kept', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const file = join(dir, 'rows-0-of-1.jsonl');
    const kept = lines(file).slice(0, 3);
    const cut = lines(file)[3]!.slice(0, 200);
    writeFileSync(file, kept.map((l) => l + '\n').join('') + cut);
    const r = await runSweepToFolder(def, { out: dir, threads: 0, resume: true });
    expect(r).toMatchObject({ total: 8, resumed: 3, ran: 5, truncatedLine: 4 });
    const after = lines(file);
    expect(after).toHaveLength(8);
    expect(after.slice(0, 3)).toEqual(kept);
    expect(readFileSync(file, 'utf8').includes(cut + '\n')).toBe(false);
    expect(rowsOf(dir)).toEqual(fullRows);
  });

  it('a last line that is whole but unreadable (a power cut leaves zeros) is redone too', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const file = join(dir, 'rows-0-of-1.jsonl');
    const all = lines(file);
    writeFileSync(file, all.slice(0, 7).map((l) => l + '\n').join('') + '\0'.repeat(40) + '\n');
    const r = await runSweepToFolder(def, { out: dir, threads: 0, resume: true });
    expect(r).toMatchObject({ resumed: 7, ran: 1, truncatedLine: 8 });
    expect(rowsOf(dir)).toEqual(fullRows);
  });

  it('a finished sweep resumes to nothing', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const r = await runSweepToFolder(def, { out: dir, threads: 0, resume: true });
    expect(r).toMatchObject({ resumed: 8, ran: 0, truncatedLine: null });
    expect(lines(join(dir, 'rows-0-of-1.jsonl'))).toHaveLength(8);
  });

  it('rows are never overwritten without --resume, nor mixed with another scenario or a damaged file', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const file = join(dir, 'rows-0-of-1.jsonl');
    const before = readFileSync(file, 'utf8');
    await expect(runSweepToFolder(def, { out: dir, threads: 0 })).rejects.toThrow(`${file}: already holds rows (--resume continues that sweep; or give another --out folder)`);
    const other = raw();
    other.seed = 8;
    await expect(runSweepToFolder(sweepDef('grid.json', other), { out: dir, threads: 0, resume: true })).rejects.toThrow(
      new RegExp(`^${join(dir, 'sweep.json')}: scenarioHash: this folder holds rows of "${def.hash}", this sweep is "sha256:[0-9a-f]+"`),
    );
    // A bad line before the last one is not a crash: the sweep stops and names it.
    const ls = lines(file);
    ls[1] = ls[1]!.slice(0, 50);
    writeFileSync(file, ls.map((l) => l + '\n').join(''));
    await expect(runSweepToFolder(def, { out: dir, threads: 0, resume: true })).rejects.toThrow(new RegExp(`^${file}:2: not a JSON row`));
    writeFileSync(file, before);
  });
});

describe('shards and --merge', () => {
  it('shards in any order merge into exactly the rows and the output of the unsharded sweep', async () => {
    const dir = folder();
    for (const k of [2, 0, 1]) {
      const r = await runSweepToFolder(def, { out: dir, threads: 0, shard: { k, n: 3 } });
      expect(r.total).toBe(k === 2 ? 2 : 3);
    }
    expect(lines(join(dir, 'rows-1-of-3.jsonl')).map((l) => JSON.parse(l).index)).toEqual([1, 4, 7]);
    expect(rowsOf(dir)).toEqual(fullRows);
    for (const format of ['table', 'json', 'csv'] as const) expect(output(dir, format)).toBe(output(full, format));
    expect(JSON.parse(output(dir, 'json')).rows).toHaveLength(8);
  });

  it('names the missing points, and the shard whose last line was cut short', async () => {
    const dir = folder();
    for (const k of [0, 2]) await runSweepToFolder(def, { out: dir, threads: 0, shard: { k, n: 3 } });
    expect(() => indexFolder(dir)).toThrow(`--merge ${dir}: 3 of 8 points have no row: 1, 4, 7 (run the shards that hold them again with --resume)`);
    await runSweepToFolder(def, { out: dir, threads: 0, shard: { k: 1, n: 3 } });
    const f = join(dir, 'rows-1-of-3.jsonl');
    const ls = lines(f);
    writeFileSync(f, `${ls[0]}\n${ls[1]!.slice(0, 30)}`);
    expect(() => indexFolder(dir)).toThrow(`2 of 8 points have no row: 4, 7 (run the shards that hold them again with --resume; rows-1-of-3.jsonl:2 ends in a line cut short)`);
  });

  it('a point found twice with the same row is kept once and named; with two different rows the merge stops', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const file = join(dir, 'rows-0-of-1.jsonl');
    const row5 = lines(file).find((l) => JSON.parse(l).index === 5)!;
    appendFileSync(join(dir, 'rows-1-of-2.jsonl'), row5 + '\n');
    const idx = indexFolder(dir);
    expect(idx.rows).toBe(9);
    expect(duplicateNote(idx)).toMatch(/^1 duplicate row \(identical, kept once\): 5 \(rows-0-of-1\.jsonl:\d, rows-1-of-2\.jsonl:1\)$/);
    expect(rowsOf(dir)).toEqual(fullRows);
    const changed = JSON.parse(row5);
    changed.summaries[0].refaults += 1;
    appendFileSync(join(dir, 'rows-1-of-2.jsonl'), JSON.stringify(changed) + '\n');
    expect(() => indexFolder(dir)).toThrow(/1 point has two different rows: point 5 \(rows-0-of-1\.jsonl:\d and rows-1-of-2\.jsonl:2\)/);
  });

  it('a row of another scenario or version is refused naming its file and line', async () => {
    const dir = folder();
    await runSweepToFolder(def, { out: dir, threads: 0 });
    const row = JSON.parse(lines(join(dir, 'rows-0-of-1.jsonl'))[0]!);
    writeFileSync(join(dir, 'stray.jsonl'), JSON.stringify({ ...row, scenarioHash: 'sha256:00' }) + '\n');
    expect(() => indexFolder(dir)).toThrow(`${join(dir, 'stray.jsonl')}:1: scenarioHash: expected ${def.hash} (${join(dir, 'sweep.json')}), got "sha256:00"`);
    writeFileSync(join(dir, 'stray.jsonl'), JSON.stringify({ ...row, version: '0.0.1' }) + '\n');
    expect(() => indexFolder(dir)).toThrow(`${join(dir, 'stray.jsonl')}:1: version: expected "0.1.0" (${join(dir, 'sweep.json')}), got "0.0.1"`);
    writeFileSync(join(dir, 'stray.jsonl'), JSON.stringify({ ...row, index: 8 }) + '\n');
    expect(() => indexFolder(dir)).toThrow(`${join(dir, 'stray.jsonl')}:1: index: expected 0..7, got 8`);
  });

  it('a folder that is not a sweep folder is named', () => {
    expect(() => indexFolder(join(tmp, 'nowhere'))).toThrow(`--merge ${join(tmp, 'nowhere')}: no such folder`);
    // The folder above the sweep folders: rows-like files may be anywhere, sweep.json is what makes a sweep folder.
    copyFileSync(join(full, 'rows-0-of-1.jsonl'), join(tmp, 'x.jsonl'));
    expect(() => indexFolder(tmp)).toThrow(`--merge ${tmp}: no sweep.json (not the --out folder of a sweep)`);
  });

  it('a million-point grid: one shard of 100,000 runs its 10 points; merge counts the rest as missing', async () => {
    const big = raw();
    big.durationS = 1;
    big.guests[0].memMiB = 64;
    big.guests[0].workloads = [{ kind: 'memhog', startS: 0.2, mib: 8, holdS: 0.1 }];
    big.sweep = { seed: Array.from({ length: 1000 }, (_, i) => i + 1), 'policy.capacity': Array.from({ length: 1000 }, (_, i) => (i % 256) + 1) };
    const bigDef = sweepDef('big.json', big);
    expect(bigDef.points).toBe(1_000_000);
    const dir = folder();
    const r = await runSweepToFolder(bigDef, { out: dir, threads: 0, shard: { k: 7, n: 100_000 } });
    expect(r).toMatchObject({ total: 10, ran: 10 });
    const rows = lines(join(dir, 'rows-7-of-100000.jsonl')).map((l) => JSON.parse(l));
    expect(rows.map((x) => x.index)).toEqual([7, 100_007, 200_007, 300_007, 400_007, 500_007, 600_007, 700_007, 800_007, 900_007]);
    expect(rows[9].params).toEqual({ seed: 901, 'policy.capacity': 8 });
    expect(rows[9].seed).toBe(901);
    expect(() => indexFolder(dir)).toThrow(`--merge ${dir}: 999990 of 1000000 points have no row: 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ... (999990 in all)`);
  });
});
