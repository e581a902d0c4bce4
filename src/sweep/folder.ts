// The --out folder of a sweep:
//   scenario.json          the scenario as run (command-line overrides applied); shards on a cluster run this copy
//   sweep.json             what the rows belong to: scenario file, hash, simulator version, grid size, parameters
//   rows-K-of-N.jsonl      one row per finished grid point, in completion order (shard K of N; 0-of-1 unsharded)
// Every shard of one sweep writes its own rows file, so tasks never share a file; merge reads them all.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SimError } from '../core/errors.js';
import { gridSize } from '../scenario/grid.js';
import { parseScenario, parseScenarioJson } from '../scenario/load.js';
import type { SweepGrid } from '../schema/schema.js';
import { forEachLine, pathError, writeFileAtomic } from './files.js';
import { scenarioHash } from './hash.js';
import { parseRow } from './row.js';
import { shardFileName, shardSize, type Shard } from './shard.js';
import { SIM_VERSION } from './version.js';

/** A sweep as the rows need it: the scenario, its grid and what ties rows to it. */
export interface SweepDef {
  /** The scenario file as the user named it (titles and messages). */
  file: string;
  name: string | undefined;
  /** The scenario JSON with overrides applied, sweep section included. */
  raw: unknown;
  grid: SweepGrid;
  parameters: string[];
  points: number;
  hash: string;
  version: string;
}

interface Meta {
  file: string;
  name?: string;
  scenarioHash: string;
  version: string;
  points: number;
  parameters: string[];
}

/** The sweep of a scenario (throws naming the file when it has no sweep section). */
export function sweepDef(file: string, raw: unknown): SweepDef {
  const { scenario } = parseScenario(raw, file);
  const grid = scenario.sweep;
  if (!grid) {
    throw new SimError('BAD_CONFIG', `${file}: no "sweep" section (e.g. "sweep": {"policy.order": [0, 9], "policy.capacity": [16, 32]})`, { file });
  }
  return { file, name: scenario.name, raw, grid, parameters: Object.keys(grid), points: gridSize(grid, file), hash: scenarioHash(raw), version: SIM_VERSION };
}

const metaOf = (d: SweepDef): Meta => ({
  file: d.file, ...(d.name !== undefined ? { name: d.name } : {}), scenarioHash: d.hash, version: d.version, points: d.points, parameters: d.parameters,
});

function readJson(path: string): unknown {
  return parseScenarioJson(readFileSync(path, 'utf8'), path);
}

function checkSame(dir: string, what: string, ours: string, theirs: unknown): void {
  if (theirs !== ours) {
    throw new SimError('BAD_CONFIG', `${join(dir, 'sweep.json')}: ${what}: this folder holds rows of ${JSON.stringify(theirs)}, this sweep is ${JSON.stringify(ours)} (another scenario, overrides or simulator version: use another --out folder)`, { dir, field: what });
  }
}

/** Make `dir` the folder of this sweep, or check that it already is (never mixes rows of two sweeps). */
export function prepareFolder(dir: string, def: SweepDef): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new SimError('BAD_CONFIG', `--out ${dir}: not a folder`, { dir });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw pathError(dir, e);
  }
  const metaPath = join(dir, 'sweep.json');
  if (existsSync(metaPath)) {
    const meta = readJson(metaPath) as Partial<Meta>;
    checkSame(dir, 'scenarioHash', def.hash, meta?.scenarioHash);
    checkSame(dir, 'version', def.version, meta?.version);
    return;
  }
  // scenario.json first: a folder with sweep.json always has its scenario. Shards starting at once write the
  // same content, each by rename, so either copy is whole.
  writeFileAtomic(join(dir, 'scenario.json'), JSON.stringify(def.raw, null, 2) + '\n');
  writeFileAtomic(metaPath, JSON.stringify(metaOf(def), null, 2) + '\n');
}

/** The sweep a folder holds (for merge): its scenario.json, checked against sweep.json. */
export function readFolder(dir: string): SweepDef {
  const metaPath = join(dir, 'sweep.json');
  if (!existsSync(dir)) throw new SimError('BAD_CONFIG', `--merge ${dir}: no such folder`, { dir });
  if (!statSync(dir).isDirectory()) throw new SimError('BAD_CONFIG', `--merge ${dir}: not a folder (the --out folder of a sweep)`, { dir });
  if (!existsSync(metaPath)) throw new SimError('BAD_CONFIG', `--merge ${dir}: no sweep.json (not the --out folder of a sweep)`, { dir });
  const meta = readJson(metaPath) as Partial<Meta>;
  const scenarioPath = join(dir, 'scenario.json');
  if (!existsSync(scenarioPath)) throw new SimError('BAD_CONFIG', `${scenarioPath}: missing (every sweep folder holds the scenario it ran)`, { dir });
  const def = sweepDef(typeof meta.file === 'string' ? meta.file : scenarioPath, readJson(scenarioPath));
  if (def.hash !== meta.scenarioHash) {
    // The folder's own two files disagree: scenario.json was edited (or copied in) after the sweep began.
    throw new SimError('BAD_CONFIG', `${scenarioPath}: scenarioHash: ${def.hash}, but ${metaPath} says the rows are of ${JSON.stringify(meta.scenarioHash)} (scenario.json was changed after the sweep began: put back the scenario the rows were run from)`, { dir, field: 'scenarioHash' });
  }
  return { ...def, version: typeof meta.version === 'string' ? meta.version : def.version };
}

/** A file of the sweep in its folder: its definition, its scenario, or rows (a merge reads every .jsonl). */
export function isSweepFile(name: string): boolean {
  return name === 'scenario.json' || name === 'sweep.json' || name.endsWith('.jsonl');
}

/** Every rows file in the folder, in name order. */
export function rowsFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f));
}

/** A shard's rows file opened for appending, and the points it already holds (with --resume). */
export interface ShardFile {
  path: string;
  fd: number;
  /** Bit i set: the shard's i-th point (grid index k + i*n) has its row. */
  done: Uint8Array;
  doneCount: number;
  /** A last line cut short by a crash, dropped from the file (its point runs again). */
  truncatedLine: number | null;
}

export function openShardFile(dir: string, def: SweepDef, shard: Shard, resume: boolean): ShardFile {
  const path = join(dir, shardFileName(shard));
  const size = shardSize(def.points, shard);
  const done = new Uint8Array(Math.ceil(size / 8));
  let doneCount = 0;
  let truncatedLine: number | null = null;
  if (existsSync(path) && statSync(path).size > 0) {
    if (!resume) {
      throw new SimError('BAD_CONFIG', `${path}: already holds rows (--resume continues that sweep; or give another --out folder)`, { path });
    }
    // Only the last line can be bad after a crash (each row is one write, newline last); a bad line before it
    // is damage from elsewhere and stops the sweep.
    let pending: { text: string; line: number; offset: number } | null = null;
    const take = (p: { text: string; line: number }) => {
      const row = parseRow(p.text, path, p.line);
      if (row.scenarioHash !== def.hash) throw new SimError('PARSE', `${path}:${p.line}: scenarioHash: expected ${def.hash} (this sweep), got ${JSON.stringify(row.scenarioHash)}`, { path, line: p.line });
      if (row.version !== def.version) throw new SimError('PARSE', `${path}:${p.line}: version: expected ${JSON.stringify(def.version)} (this simulator), got ${JSON.stringify(row.version)}`, { path, line: p.line });
      if (row.index >= def.points || row.index % shard.n !== shard.k) {
        throw new SimError('PARSE', `${path}:${p.line}: index: expected a point of shard ${shard.k}/${shard.n} below ${def.points}, got ${row.index}`, { path, line: p.line });
      }
      const i = (row.index - shard.k) / shard.n;
      if (done[i >> 3]! & (1 << (i & 7))) return;
      done[i >> 3]! |= 1 << (i & 7);
      doneCount++;
    };
    const { completeBytes, tail } = forEachLine(path, (text, info) => {
      if (pending) take(pending);
      pending = { text, line: info.line, offset: info.offset };
    });
    let keep = completeBytes;
    const last = pending as { text: string; line: number; offset: number } | null;
    if (tail) truncatedLine = tail.line;
    if (last) {
      try {
        take(last);
      } catch (e) {
        if (tail || !(e instanceof SimError) || !/not a JSON row/.test(e.message)) throw e;
        truncatedLine = last.line;
        keep = last.offset;
      }
    }
    if (truncatedLine !== null) {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, keep);
      closeSync(fd);
    }
  }
  const fd = openSync(path, 'a');
  return { path, fd, done, doneCount, truncatedLine };
}
