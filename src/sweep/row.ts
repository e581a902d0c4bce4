// One sweep row: everything about one grid point, written as one JSON line as soon as the point has run. A row
// stands alone (its index, parameters, seed, simulator version and scenario hash travel with it), so rows of
// shards, of resumed runs and of different machines can be checked and merged by index alone.
import { ParseError } from '../core/errors.js';
import { SUMMARY_KEYS } from '../report/csv.js';
import type { GuestSummary } from '../report/summary.js';
import { showValue } from '../schema/errors.js';

export interface SweepRow {
  /** The point's index in the grid (0-based, the last parameter varying fastest). */
  index: number;
  /** Parameter path -> value, in the order of the sweep section. */
  params: Record<string, unknown>;
  seed: number;
  /** Simulator version (src/sweep/version.ts). */
  version: string;
  /** scenarioHash() of the scenario the sweep ran (overrides applied). */
  scenarioHash: string;
  durationS: number;
  /** One per guest of the point, in the scenario's order. */
  summaries: GuestSummary[];
  /** The point's host total RSS (all its guests), MiB, at 0, 10, ..., 100% of the run. */
  hostRssMiB: number[];
}

/** The row as one line of JSON Lines, keys always in the same order (so equal rows are equal text). */
export function rowLine(r: SweepRow): string {
  const row: SweepRow = {
    index: r.index, params: r.params, seed: r.seed, version: r.version, scenarioHash: r.scenarioHash,
    durationS: r.durationS, summaries: r.summaries, hostRssMiB: r.hostRssMiB,
  };
  return JSON.stringify(row) + '\n';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A line of a rows file as a row; anything else is a ParseError naming the file, line, field and value. */
export function parseRow(text: string, file: string, line: number): SweepRow {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ParseError(file, line, `not a JSON row (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const bad = (field: string, expected: string, value: unknown): never => {
    throw new ParseError(file, line, `${field}: expected ${expected}, got ${showValue(value)}`, { field });
  };
  if (!isObject(v)) return bad('row', 'an object', v);
  const { index, params, seed, version, scenarioHash, durationS, summaries, hostRssMiB } = v;
  if (!Number.isSafeInteger(index) || (index as number) < 0) bad('index', 'an integer >= 0', index);
  if (!isObject(params)) bad('params', 'an object', params);
  if (!Number.isSafeInteger(seed)) bad('seed', 'an integer', seed);
  if (typeof version !== 'string') bad('version', 'a string', version);
  if (typeof scenarioHash !== 'string') bad('scenarioHash', 'a string', scenarioHash);
  if (typeof durationS !== 'number' || !(durationS > 0)) bad('durationS', 'a number > 0', durationS);
  if (!Array.isArray(summaries) || !summaries.length) bad('summaries', 'a non-empty array', summaries);
  (summaries as unknown[]).forEach((s, i) => {
    if (!isObject(s)) return bad(`summaries[${i}]`, 'an object', s);
    for (const k of ['name', 'policy'] as const) if (typeof s[k] !== 'string') bad(`summaries[${i}].${k}`, 'a string', s[k]);
    for (const k of SUMMARY_KEYS) {
      if (s[k] !== null && typeof s[k] !== 'number') bad(`summaries[${i}].${k}`, 'a number or null', s[k]);
    }
  });
  if (!Array.isArray(hostRssMiB) || hostRssMiB.some((x) => typeof x !== 'number')) bad('hostRssMiB', 'an array of numbers', hostRssMiB);
  return v as unknown as SweepRow;
}
